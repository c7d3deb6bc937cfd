"""The benchmark suite: every figure beside a baseline measured in the same run, and their ratio.

Run ``python -m bench`` (``--quick`` for the short version, ``--only NAME`` for some benchmarks).
Each benchmark module has one ``run(ctx)`` returning :class:`bench.common.Row` objects; the suite
in :mod:`bench.suite` runs them, prints Rich tables and a Markdown table, and writes JSON.
Results and method are described in ``docs/benchmarks.md``.
"""
