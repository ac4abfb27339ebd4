"""The DuckDB warehouse: connections and partition-safe table writes.

Every warehouse table carries `release_id` as its first column; a FOIA release is one
partition. A write replaces one release's rows inside a single transaction, so a failed
materialization never leaves a half-written table that later assets would read as complete,
and re-running a release is idempotent (the project_dbt pattern: delete the partition, insert).

SQL models live in `sql/<schema>/<table>.sql`, one SELECT a file. The header comment says the
asset group (`-- group: staging`) and then describes the table in words; that text becomes the
asset's description in the Dagster UI. Models read run settings with `getvariable('name')`
(release_id, window_start, window_end, pending_on, suppress_below, ...). A model's checks are
declared beside it in `<table>.checks.yaml` (pipelines/warehouse/checks.py); its columns and
types in `sql/ddl/<schema>.sql` (pipelines/warehouse/schema.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from pipelines.settings import REFERENCE_DIR, REPO_ROOT, SQL_DIR, Settings
from pipelines.warehouse.checks import Check, load_checks, sidecar_path
from pipelines.warehouse.schema import SchemaError, declared_table, quote

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
            con.execute(f"SET VARIABLE {name} = ?::DATE", [value.isoformat()])
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
    return [(r[0], r[1]) for r in con.execute(f"DESCRIBE (\n{select_sql}\n)").fetchall()]


def _table_columns(con: duckdb.DuckDBPyConnection, qualified: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(f"DESCRIBE {qualified}").fetchall()]


_UNTYPED = '"NULL"'


def _target_columns(
    con: duckdb.DuckDBPyConnection, qualified: str, cols: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The columns a write must produce, creating or extending the table (never dropping it).

    A declared table (sql/ddl/) is created from its DDL and gains a declared column that an older
    warehouse lacks (older releases read NULL there). A stored column whose type differs from the
    declaration is refused: converting it would rewrite every other release's rows.
    """
    declared = declared_table(qualified)
    exists = table_exists(con, qualified)
    if declared is None:
        # Not declared (a table new in the code and not yet in sql/ddl): typed by its first write,
        # then fixed. An all-NULL column has no type to fix, so it is refused.
        if not exists:
            untyped = [c for c, t in cols if t == _UNTYPED]
            if untyped:
                raise SchemaError(
                    f"{qualified}: column {untyped[0]} has no type (all NULL in this release) and "
                    f"the table is not declared; declare it in sql/ddl/{qualified.split('.')[0]}.sql"
                )
            con.execute(
                f"CREATE TABLE {qualified} AS SELECT * FROM (\n{select_all(cols)}\n) LIMIT 0"
            )
        return _table_columns(con, qualified)
    if not exists:
        con.execute(declared.create_sql)
        return list(declared.columns)
    stored = {c.lower(): (c, t) for c, t in _table_columns(con, qualified)}
    for name, typ in declared.columns:
        have = stored.get(name.lower())
        if have is None:
            con.execute(f"ALTER TABLE {qualified} ADD COLUMN {quote(name)} {typ}")
        elif have[1] != typ:
            raise SchemaError(
                f"{qualified}.{name}: the warehouse stores {have[1]}, {declared.ddl_file} declares "
                f"{typ}; the other releases' rows are kept as they are, so rebuild this table "
                f"(drop it and re-run every release) or change the declaration back"
            )
    undeclared = [c for k, (c, _) in stored.items() if declared.type_of(k) is None]
    if undeclared:
        raise SchemaError(
            f"{qualified}: the warehouse has column {undeclared[0]} that {declared.ddl_file} does "
            "not declare; declare it, or rebuild this table (drop it and re-run every release)"
        )
    return list(declared.columns)


def select_all(cols: list[tuple[str, str]]) -> str:
    return "SELECT " + ", ".join(f"NULL::{t} AS {quote(c)}" for c, t in cols)


def _diagnose_cast(
    con: duckdb.DuckDBPyConnection,
    qualified: str,
    select_sql: str,
    cols: list[tuple[str, str]],
    target: dict[str, str],
) -> SchemaError | None:
    """Which column of the release's data does not fit its declared type, with an example."""
    for name, typ in cols:
        want = target.get(name.lower())
        if want is None or want == typ:
            continue
        q = quote(name)
        bad = con.execute(
            f"SELECT count(*), any_value(CAST({q} AS VARCHAR)) FROM (\n{select_sql}\n) "
            f"WHERE {q} IS NOT NULL AND TRY_CAST({q} AS {want}) IS NULL"
        ).fetchall()[0]
        if bad[0]:
            return SchemaError(
                f"{qualified}.{name}: {bad[0]:,} value(s) of this release do not fit the declared "
                f"type {want} (for example {bad[1]!r}); the table is unchanged"
            )
    return None


def replace_partition(
    con: duckdb.DuckDBPyConnection, qualified: str, release_id: str, select_sql: str
) -> int:
    """Replace `release_id`'s rows of `qualified` with the rows of `select_sql`, atomically.

    The rows are cast to the table's declared columns (sql/ddl/); a declared column the SELECT
    lacks is written NULL, a column the table does not declare is refused, and a value that does
    not fit its type fails the write naming the column. Only `release_id`'s rows change: the table
    is never dropped or rebuilt, and a SELECT row for another release fails the write.
    Returns the number of rows written.
    """
    cols = _columns_of(con, select_sql)
    if not cols or cols[0][0] != "release_id":
        raise SchemaError(
            f"{qualified}: the model's first column must be release_id, got {cols[:1]}"
        )
    con.execute("BEGIN TRANSACTION")
    try:
        target_cols = _target_columns(con, qualified, cols)
        target = {c.lower(): t for c, t in target_cols}
        extra = [c for c, _ in cols if c.lower() not in target]
        if extra:
            where = declared_table(qualified)
            raise SchemaError(
                f"{qualified}: this release's rows have column {extra[0]} that the table does not "
                + (f"declare; add it to {where.ddl_file}" if where else "have")
            )
        given = {c.lower(): c for c, _ in cols}
        items = []
        for name, typ in target_cols:
            src = given.get(name.lower())
            if name.lower() == "release_id":
                # A row for another release would touch that release's partition: refuse it.
                items.append(
                    f"CAST(CASE WHEN {quote(src)} = $release_id THEN {quote(src)} ELSE "
                    f"error('{qualified}: a row for another release (' || coalesce({quote(src)}, "
                    f"'NULL') || ') in the write for ' || $release_id) END AS {typ}) AS release_id"
                )
            elif src is None:
                items.append(f"NULL::{typ} AS {quote(name)}")
            else:
                items.append(f"CAST({quote(src)} AS {typ}) AS {quote(name)}")
        con.execute(f"DELETE FROM {qualified} WHERE release_id = ?", [release_id])
        try:
            con.execute(
                f"INSERT INTO {qualified} BY NAME SELECT {', '.join(items)} FROM (\n{select_sql}\n)",
                {"release_id": release_id},
            )
        except duckdb.ConversionException:
            con.execute("ROLLBACK")
            diagnosis = _diagnose_cast(con, qualified, select_sql, cols, target)
            con.execute("BEGIN TRANSACTION")  # the outer handler rolls this one back
            if diagnosis is not None:
                raise diagnosis from None
            raise
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
    """One `sql/<schema>/<table>.sql` file, with the checks of its `<table>.checks.yaml`."""

    path: Path
    schema: str
    table: str
    group: str
    description: str
    sql: str
    deps: tuple[str, ...]
    checks: tuple[Check, ...] = ()

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.table}"


def parse_model(path: Path) -> SqlModel:
    text = path.read_text(encoding="utf-8")
    schema = path.parent.name
    table = path.stem
    group = schema
    desc_lines: list[str] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.startswith("--"):
            if line.strip():
                break
            continue
        body = line[2:].strip()
        m = re.match(r"group:\s*(\w+)", body)
        if re.match(r"check(-sql|-warn)?:", body):
            raise ValueError(
                f"{path}:{n}: checks are declared in {sidecar_path(path).name} beside the model "
                "(see pipelines/warehouse/checks.py), not in `-- check` comments"
            )
        if m:
            group = m.group(1)
        else:
            desc_lines.append(body)
    own = f"{schema}.{table}".lower()
    checks = load_checks(path, REPO_ROOT)
    # Dependencies are the tables the SELECT names (comments stripped), like dbt's ref().
    code = "\n".join(line.split("--", 1)[0] for line in text.splitlines())
    deps = {f"{s}.{t}" for s, t in _REF.findall(code) if f"{s}.{t}".lower() != own}
    # A check that reads another table (a foreign key's target) needs it built first.
    deps |= {t for c in checks for t in c.reads if t.lower() != own}
    sql = code.strip().rstrip(";")
    return SqlModel(
        path, schema, table, group, "\n".join(desc_lines).strip(), sql, tuple(sorted(deps)), checks
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


def fetch_frame(con: duckdb.DuckDBPyConnection, query: str, params: list | None = None):
    """Run a SELECT and return a polars DataFrame (DuckDB 2's connection has no `.pl()`)."""
    return con.sql(query, params=params or None).pl()
