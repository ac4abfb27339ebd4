"""Benchmarks that print their figures (never timed unit tests); not part of the installed package.

python -m benchmarks ingest --cases 1000000
python -m benchmarks full --scale 1.0
python -m benchmarks models --rows 1000000
python -m benchmarks.charts
"""
