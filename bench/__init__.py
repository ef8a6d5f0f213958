"""Benchmarks: cold start, calls per operation, query cost at scale, package size, load, cost (BENCHMARKS.md)."""
