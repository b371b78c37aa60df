"""Targets the benchmarks run: small systems with a known race and their fixed twins."""
