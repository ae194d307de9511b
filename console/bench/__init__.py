"""Benchmarks run by ``python -m console bench ...`` (results in BENCHMARKS.md); never imported by the UI."""
