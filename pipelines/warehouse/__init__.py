"""The DuckDB warehouse (Dagster-free).

- db.py    connections and partition-safe table writes
- lock.py  two writers on one warehouse: wait for the other, or fail naming it
"""
