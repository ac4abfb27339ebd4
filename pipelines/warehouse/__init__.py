"""The DuckDB warehouse (Dagster-free).

- db.py          connections, partition-safe table writes, the SQL model loader
- schema.py      the declared columns of every partitioned table (sql/ddl/)
- checks.py      checks declared beside each SQL model (`<table>.checks.yaml`) and their evaluation
- session.py     one release's work on the warehouse: open, bind variables, write, close
- sql_files.py   statements kept in sql/ and run by a module (the release diff)
- schema_doc.py  docs/SCHEMA.md, generated
- lock.py        two writers on one warehouse: wait for the other, or fail naming it
"""
