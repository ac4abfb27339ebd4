"""The declared schema of every partitioned warehouse table (Dagster-free).

`sql/ddl/<schema>.sql` holds one `CREATE TABLE` per table of the `staging`, `marts` and `models`
schemas. A table's columns and types are those, whatever one release's data look like: a model
that cannot be fitted on a tiny release still writes the declared 21 columns (NULL where it has
nothing), never a table of 11 columns typed NULL. `replace_partition` casts every write to the
declared types and refuses a column it does not declare, so a write cannot change a table that
other releases share. (`raw.*` tables are text tables owned by the ingest, which only ever adds
VARCHAR columns to them.)

The DDL is parsed by DuckDB itself: the files are executed in an in-memory database and the
catalog is read back, so what is declared is exactly what DuckDB would create.

`python -m pipelines.warehouse.schema ddl WAREHOUSE` prints the DDL of a built warehouse's tables
(for declaring a new table; review the types before committing them).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb

from pipelines.settings import SQL_DIR

DDL_DIR = SQL_DIR / "ddl"
# The schemas whose tables must be declared; raw.* belongs to the ingest (text columns).
DECLARED_SCHEMAS = ("staging", "marts", "models")


class SchemaError(ValueError):
    """A write that does not fit its table's declared schema (one line, names the column)."""


@dataclass(frozen=True)
class DeclaredTable:
    qualified: str
    columns: tuple[tuple[str, str], ...]  # (name, DuckDB type), in declared order
    create_sql: str
    ddl_file: str  # repository-relative, for messages

    def type_of(self, column: str) -> str | None:
        for name, typ in self.columns:
            if name.lower() == column.lower():
                return typ
        return None


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


@cache
def declared_tables(ddl_dir: Path = DDL_DIR) -> dict[str, DeclaredTable]:
    """Every declared table, keyed by lower-case `schema.table`."""
    con = duckdb.connect()
    try:
        for schema in DECLARED_SCHEMAS:
            con.execute(f"CREATE SCHEMA {schema}")
        origin: dict[str, str] = {}
        for path in sorted(ddl_dir.glob("*.sql")):
            before = {r[0] for r in con.execute(_TABLES).fetchall()}
            try:
                con.execute(path.read_text(encoding="utf-8"))
            except duckdb.Error as e:
                first = str(e).splitlines()[0]
                raise SchemaError(f"{path}: the DDL does not parse: {first}") from None
            for q in {r[0] for r in con.execute(_TABLES).fetchall()} - before:
                origin[q] = f"sql/ddl/{path.name}"
        tables = {}
        for qualified, create_sql in con.execute(f"SELECT q, sql FROM ({_TABLES_SQL})").fetchall():
            cols = con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() "
                "WHERE schema_name || '.' || table_name = ? ORDER BY column_index",
                [qualified],
            ).fetchall()
            tables[qualified.lower()] = DeclaredTable(
                qualified, tuple((c[0], c[1]) for c in cols), create_sql, origin[qualified]
            )
        return tables
    finally:
        con.close()


_TABLES_SQL = (
    "SELECT schema_name || '.' || table_name AS q, sql FROM duckdb_tables() "
    "WHERE schema_name <> 'main' ORDER BY q"
)
_TABLES = f"SELECT q FROM ({_TABLES_SQL})"


def declared_table(qualified: str) -> DeclaredTable | None:
    return declared_tables().get(qualified.lower())


@cache
def _codebook_definitions() -> dict[str, dict[str, str]]:
    from pipelines.extracts.columns import EXTRACT_TABLES

    return {
        t.mart.lower(): {c.name.lower(): c.definition for c in t.columns} for t in EXTRACT_TABLES
    }


def column_definitions(qualified: str) -> dict[str, str]:
    """The codebook's plain-words definition of each column of a mart it documents (by name)."""
    return _codebook_definitions().get(qualified.lower(), {})


def table_ddl(con: duckdb.DuckDBPyConnection, qualified: str) -> str:
    """`CREATE TABLE` for a built table, one column a line (for sql/ddl/)."""
    cols = con.execute(f"DESCRIBE {qualified}").fetchall()
    body = ",\n".join(
        f"    {quote(c[0]) if not c[0].isidentifier() else c[0]} {c[1]}" for c in cols
    )
    return f"CREATE TABLE {qualified} (\n{body}\n);\n"


def _main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "ddl":
        print("usage: python -m pipelines.warehouse.schema ddl WAREHOUSE.duckdb", file=sys.stderr)
        return 2
    con = duckdb.connect(argv[1], read_only=True)
    try:
        rows = con.execute(
            "SELECT schema_name || '.' || table_name FROM duckdb_tables() "
            "WHERE schema_name IN ('staging', 'marts', 'models') ORDER BY 1"
        ).fetchall()
        for (qualified,) in rows:
            print(table_ddl(con, qualified))
    finally:
        con.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
