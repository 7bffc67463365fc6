"""Benchmarks, run with `python -m bench [module ...]` (see bench/__main__.py)."""
