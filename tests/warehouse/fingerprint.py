"""A warehouse's content per release, as comparable fingerprints (for isolation tests).

`release_fingerprints(con, release_id)` gives, for every table of every schema that has a
`release_id` column, the release's row count, the table's column types and an order-independent
digest of the release's rows (md5 of the sorted md5s of each row rendered as text). Two
fingerprints are equal exactly when every table holds the same rows, value for value, for that
release, and no table changed its columns' types.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb


@dataclass(frozen=True)
class TableFingerprint:
    rows: int
    types: tuple[tuple[str, str], ...]
    digest: str | None


def partitioned_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        f"{s}.{t}"
        for s, t in con.execute(
            "SELECT DISTINCT table_schema, table_name FROM information_schema.columns "
            "WHERE column_name = 'release_id' AND table_schema <> 'latest' "
            "AND table_catalog = current_database() ORDER BY 1, 2"
        ).fetchall()
    ]


def release_fingerprints(
    con: duckdb.DuckDBPyConnection, release_id: str
) -> dict[str, TableFingerprint]:
    out = {}
    for table in partitioned_tables(con):
        schema, name = table.split(".")
        types = tuple((r[0], r[1]) for r in con.execute(f'DESCRIBE "{schema}"."{name}"').fetchall())
        rows, digest = con.execute(
            f"SELECT count(*), md5(string_agg(h, '' ORDER BY h)) FROM "
            f'(SELECT md5(CAST(t AS VARCHAR)) AS h FROM "{schema}"."{name}" t '
            "WHERE t.release_id = ?)",
            [release_id],
        ).fetchall()[0]
        out[table] = TableFingerprint(int(rows), types, digest)
    return out


def differences(before: dict, after: dict) -> list[str]:
    """What changed, table by table (empty when nothing did)."""
    lines = []
    for table in sorted(set(before) | set(after)):
        b, a = before.get(table), after.get(table)
        if b != a:
            lines.append(f"{table}: {b} -> {a}")
    return lines
