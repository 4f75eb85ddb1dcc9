"""Test and benchmark helpers that run the real server: a gunicorn runner and a load generator.

Tests (`tests/reliability/`) and `benchmarks/` use them to drive framelab (and the reference
apps) over real HTTP on 127.0.0.1. The app itself imports one module from here: `forms`,
the one reader of participant pages, which the rehearsal bots (framelab.simulate) share
with the load generator and the tests' walker.
"""
