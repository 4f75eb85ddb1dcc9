"""Test and benchmark helpers that run the real server: a gunicorn runner and a load generator.

Nothing here is imported by the app itself; tests (`tests/reliability/`) and `benchmarks/`
use it to drive framelab (and the reference apps) over real HTTP on 127.0.0.1.
"""
