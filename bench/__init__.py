"""Benchmarks: cold import of the app and request latency through the dev host."""
