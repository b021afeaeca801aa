"""Benchmarks of the diplomatic record against the floor of the same machine (see docs/benchmarks.md).

Run with `make bench` (quick) or `make bench-full`; nothing here is collected by pytest.
"""
