"""Benchmarks: MACs (two conventions, counted on the meta device), latency per stage, peak memory, reports.

``scripts/benchmark.py --config configs/bench/<name>.yaml`` runs :func:`fastvsr.bench.run.run_benchmark` and
writes the tables with :mod:`fastvsr.bench.report`; see docs/benchmarks.md.
"""
