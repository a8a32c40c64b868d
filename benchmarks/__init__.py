"""Benchmarks of the service (``make bench`` runs ``python -m benchmarks.run``); see BENCHMARKS.md."""
