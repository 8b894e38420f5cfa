"""Benchmarks: each starts real processes on loopback, prints its figures and the ratio to its ceiling."""
