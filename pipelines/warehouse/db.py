"""The DuckDB warehouse: connections and partition-safe table writes.

Every warehouse table carries `release_id` as its first column; a FOIA release is one
partition. A write replaces one release's rows inside a single transaction, so a failed
materialization never leaves a half-written table that later assets would read as complete,
and re-running a release is idempotent (the project_dbt pattern: delete the partition, insert).

SQL models live in `sql/<schema>/<table>.sql`, one SELECT a file. The header comment says the
asset group (`-- group: staging`) and then describes the table in words; that text becomes the
asset's description in the Dagster UI. Models read run settings with `getvariable('name')`
(release_id, window_start, window_end, pending_on, suppress_below, ...).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from pipelines.settings import REFERENCE_DIR, SQL_DIR, Settings

SCHEMAS = ("raw", "staging", "marts", "models")
_REF = re.compile(r"\b(raw|staging|marts|models)\.([A-Za-z_][A-Za-z0-9_]*)\b")


def connect(settings: Settings, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse with an explicit memory limit and a spill directory."""
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    settings.temp_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(
        str(settings.warehouse),
        read_only=read_only,
        config={
            "memory_limit": settings.duckdb_memory_limit,
            "threads": settings.duckdb_threads,
            "temp_directory": str(settings.temp_dir),
        },
    )
    if not read_only:
        for schema in SCHEMAS:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    con.execute((SQL_DIR / "macros.sql").read_text(encoding="utf-8"))
    return con


def set_variables(con: duckdb.DuckDBPyConnection, variables: Mapping[str, object]) -> None:
    for name, value in variables.items():
        if isinstance(value, date):
            con.execute(f"SET VARIABLE {name} = DATE '{value.isoformat()}'")
        else:
            con.execute(f"SET VARIABLE {name} = ?", [value])


def run_variables(settings: Settings, release_id: str) -> dict[str, object]:
    """The variables every SQL model may read with getvariable()."""
    return {
        "release_id": release_id,
        "window_start": settings.window_start,
        "window_end": settings.window_end,
        "pending_on": settings.pending_on,
        "suppress_below": settings.suppress_below,
        "lead_charge_rule": settings.lead_charge_rule,
        "reference_dir": str(REFERENCE_DIR),
    }


def table_exists(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, name = qualified.split(".")
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND lower(table_name) = lower(?)",
            [schema, name],
        ).fetchall()[0][0]
    )


def _columns_of(con: duckdb.DuckDBPyConnection, select_sql: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(f"DESCRIBE ({select_sql})").fetchall()]


def _table_columns(con: duckdb.DuckDBPyConnection, qualified: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(f"DESCRIBE {qualified}").fetchall()]


def replace_partition(
    con: duckdb.DuckDBPyConnection, qualified: str, release_id: str, select_sql: str
) -> int:
    """Replace `release_id`'s rows of `qualified` with the rows of `select_sql`, atomically.

    When the SELECT's columns differ from the stored table's (the code changed), the table is
    rebuilt from this release alone: other releases must then be re-materialized.
    Returns the number of rows written.
    """
    cols = _columns_of(con, select_sql)
    if not cols or cols[0][0] != "release_id":
        raise ValueError(
            f"{qualified}: the model's first column must be release_id, got {cols[:1]}"
        )
    con.execute("BEGIN TRANSACTION")
    try:
        if table_exists(con, qualified) and _table_columns(con, qualified) == cols:
            con.execute(f"DELETE FROM {qualified} WHERE release_id = ?", [release_id])
            con.execute(f"INSERT INTO {qualified} {select_sql}")
        else:
            con.execute(f"DROP TABLE IF EXISTS {qualified}")
            con.execute(f"CREATE TABLE {qualified} AS {select_sql}")
        n = con.execute(
            f"SELECT count(*) FROM {qualified} WHERE release_id = ?", [release_id]
        ).fetchall()[0][0]
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return int(n)


def write_frame(con: duckdb.DuckDBPyConnection, qualified: str, release_id: str, frame) -> int:
    """Replace a release's rows with a polars/pandas/arrow frame (first column release_id)."""
    con.register("__frame_to_write", frame)
    try:
        return replace_partition(con, qualified, release_id, "SELECT * FROM __frame_to_write")
    finally:
        con.unregister("__frame_to_write")


@dataclass(frozen=True)
class SqlModel:
    """One `sql/<schema>/<table>.sql` file."""

    path: Path
    schema: str
    table: str
    group: str
    description: str
    sql: str
    deps: tuple[str, ...]
    # Data tests from `-- check: unique(col)`, `not_null(col)`, `references(col, schema.table.col)`.
    checks: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.table}"


def parse_model(path: Path) -> SqlModel:
    text = path.read_text(encoding="utf-8")
    schema = path.parent.name
    table = path.stem
    group = schema
    desc_lines: list[str] = []
    checks: list[tuple[str, tuple[str, ...]]] = []
    for line in text.splitlines():
        if not line.startswith("--"):
            if line.strip():
                break
            continue
        body = line[2:].strip()
        m = re.match(r"group:\s*(\w+)", body)
        c = re.match(r"check:\s*(\w+)\((.*)\)\s*$", body)
        q = re.match(r"check-(sql|warn):\s*(\w+):\s*(.+)$", body)
        if q:
            # A custom check: a query returning the number of failing rows first.
            checks.append(("sql" if q.group(1) == "sql" else "sql_warn", (q.group(2), q.group(3))))
        elif m:
            group = m.group(1)
        elif c:
            checks.append((c.group(1), tuple(a.strip() for a in c.group(2).split(","))))
        else:
            desc_lines.append(body)
    own = f"{schema}.{table}".lower()
    # Dependencies are the tables the SELECT names (comments stripped), like dbt's ref().
    code = "\n".join(line.split("--", 1)[0] for line in text.splitlines())
    deps = sorted({f"{s}.{t}" for s, t in _REF.findall(code) if f"{s}.{t}".lower() != own})
    # A foreign-key check reads its target table, so the target must be built first.
    deps = sorted({*deps, *(".".join(a[1].split(".")[:2]) for k, a in checks if k == "references")})
    sql = code.strip().rstrip(";")
    return SqlModel(
        path, schema, table, group, "\n".join(desc_lines).strip(), sql, tuple(deps), tuple(checks)
    )


def load_models(sql_dir: Path = SQL_DIR) -> list[SqlModel]:
    models = []
    for schema in SCHEMAS:
        d = sql_dir / schema
        if d.is_dir():
            models.extend(parse_model(p) for p in sorted(d.glob("*.sql")))
    return models


def build_model(
    con: duckdb.DuckDBPyConnection, model: SqlModel, variables: Mapping[str, object]
) -> int:
    set_variables(con, variables)
    return replace_partition(con, model.qualified, str(variables["release_id"]), model.sql)


def run_check(
    con: duckdb.DuckDBPyConnection,
    model: SqlModel,
    kind: str,
    args: tuple[str, ...],
    release_id: str,
) -> tuple[bool, dict]:
    """Evaluate one declared data test on a release; returns (passed, metadata)."""
    t = model.qualified
    if kind == "unique":
        cols = ", ".join(args)
        dup = con.execute(
            f"SELECT count(*), coalesce(sum(n), 0) FROM (SELECT {cols}, count(*) AS n FROM {t} "
            f"WHERE release_id = ? GROUP BY ALL HAVING count(*) > 1)",
            [release_id],
        ).fetchall()[0]
        return dup[0] == 0, {
            "duplicated_keys": int(dup[0]),
            "rows_with_duplicated_keys": int(dup[1]),
        }
    if kind == "not_null":
        n = con.execute(
            f"SELECT count(*) FROM {t} WHERE release_id = ? AND {args[0]} IS NULL", [release_id]
        ).fetchall()[0][0]
        return n == 0, {"null_rows": int(n)}
    if kind == "references":
        col, target = args
        ts, tt, tc = target.split(".")
        row = con.execute(
            f"SELECT count(*) FILTER (WHERE x.{col} IS NOT NULL AND y.{tc} IS NULL), count(*) "
            f"FROM {t} x LEFT JOIN (SELECT DISTINCT {tc} FROM {ts}.{tt} WHERE release_id = ?) y "
            f"ON x.{col} = y.{tc} WHERE x.release_id = ?",
            [release_id, release_id],
        ).fetchall()[0]
        orphans, total = int(row[0]), int(row[1])
        return orphans == 0, {
            "orphans": orphans,
            "rows": total,
            "orphan_share": round(orphans / total, 6) if total else 0.0,
        }
    if kind in ("sql", "sql_warn"):
        res = con.execute(
            args[1].replace("getvariable('release_id')", "?"),
            [release_id] * args[1].count("getvariable('release_id')"),
        )
        names = [d[0] for d in res.description]
        row = res.fetchall()[0]
        meta = {
            n: (v if isinstance(v, (int, float, str, bool)) or v is None else str(v))
            for n, v in zip(names, row, strict=True)
        }
        return int(row[0] or 0) == 0, meta
    raise ValueError(f"{model.path}: unknown check {kind}")


def fetch_frame(con: duckdb.DuckDBPyConnection, query: str, params: list | None = None):
    """Run a SELECT and return a polars DataFrame (DuckDB 2's connection has no `.pl()`)."""
    return con.sql(query, params=params or None).pl()
