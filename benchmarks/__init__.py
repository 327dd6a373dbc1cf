"""Benchmarks: a seeded capture generator and a runner comparing headerkit with its peers.

Run ``python benchmarks/run.py --quick`` (or ``--packets 1000000 --rounds 3``); see
``benchmarks/README.md``.
"""
