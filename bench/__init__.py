"""Benchmarks: `make bench` (or `.venv/bin/python -m bench.run`) runs them all and writes
docs/benchmarks.md. Each module also runs alone, e.g. `.venv/bin/python -m bench.sync_cost`."""
