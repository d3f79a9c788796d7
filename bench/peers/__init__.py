"""The real peers the benchmarks run beside Saha, each in its own environment."""
