"""The benchmark harness: an open-model load generator, result records, and helpers
shared by the benchmarks that `make bench` runs (bench/run.py)."""
