"""Prefect flows, one module per deployment; each only wires the domain functions together."""
