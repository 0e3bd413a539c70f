"""Benchmarks behind `policyzoo bench`: each prints a markdown table and writes JSON."""
