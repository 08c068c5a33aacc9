"""Benchmarks of the hub: ``python -m bench.fanout`` and ``python -m bench.idle`` (not timed tests)."""
