"""Benchmarks: plain scripts that print figures (run with `make bench`)."""
