"""Messages both the command line (main.py) and the in-process runner (runner.py) print."""

# What a user on a small host can lower (pipelines/settings.py): DuckDB's memory limit and its
# worker threads (each has its own buffers and stack).
OUT_OF_MEMORY = (
    "out of memory: lower PD_DUCKDB_MEMORY_LIMIT (DuckDB then spills to PD_TEMP_DIR) and "
    "PD_DUCKDB_THREADS, or run on a machine with more memory"
)
