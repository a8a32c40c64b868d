"""Council proposal automation: the domain code beside flows/ and models/.

Everything that is not a Prefect flow or a table lives here as plain Python, so it can be
tested and called from the CLI without Prefect.
"""
