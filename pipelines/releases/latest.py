"""Which releases the warehouse holds complete, and the `latest.*` views on the newest of them.

A release is *complete* when its run materialized every asset of the release partition and no
check of severity ERROR failed in that run (the Count.txt reconciliation among them): the
`latest_release` asset depends on every asset, so Dagster runs it only after each one
succeeded; it then refuses (`ReleaseIncomplete`, failing the run) if any ERROR check of the run
failed, and otherwise records the release in `marts.releases` (with the fingerprint of the files
it was read from, so the sensor can tell an unchanged release from a replaced one). A release
that fails is also removed from `marts.releases` if an earlier run had recorded it, since its
tables now hold the failed run's rows.

`latest.release` is the newest complete release: real releases before synthetic ones, then by
release date, then by id. `latest.<table>` is `marts.<table>` (and `models.<table>`) restricted to
that release, so an analyst's query against `latest.proceedings` follows each monthly update
without naming the release. Views are recreated on every run, so a table added to the pipeline
gets its view with the next release.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from pipelines.settings import Settings
from pipelines.warehouse.db import replace_partition, set_variables, table_exists

REGISTRY = "marts.releases"


class ReleaseIncomplete(Exception):
    """A release whose run failed an ERROR check; the message says which, with its numbers."""


@dataclass(frozen=True)
class FailedCheck:
    name: str  # "<asset key>:<check name>"
    metadata: dict[str, object]

    def line(self) -> str:
        facts = ", ".join(f"{k} {v}" for k, v in self.metadata.items() if k != "note")
        note = self.metadata.get("note")
        return f"{self.name} failed ({facts}{'; ' + str(note) if note else ''})"


# Checks that fail when the release's files do not hold what its Count.txt says: the files are
# to blame, and a fresh copy is the remedy. Any other failed check is about what the data gives.
_FILE_CHECKS = ("count_txt_reconciled", "lookups_reconciled")


def incomplete_message(release_id: str, failed: list[FailedCheck]) -> str:
    """One line: the first failed check with its numbers, what it means, what to do."""
    more = len(failed) - 1
    first = failed[0]
    if first.name.rsplit(":", 1)[-1] in _FILE_CHECKS:
        todo = "copy or download the release again (a table may be half-copied) and run again."
    else:
        todo = (
            "the check's description (Dagster UI, asset checks) says what it guards; the run's "
            "log and the check's metadata say which rows."
        )
    return (
        f"release {release_id} is not complete: {first.line()}"
        + (f" and {more} more check(s)" if more > 0 else "")
        + ". It is not recorded in marts.releases and latest.* does not switch to it; "
        + todo
    )


LATEST_SCHEMA = "latest"
# Schemas whose tables get a latest view; marts first, so a marts table keeps the plain name.
VIEW_SCHEMAS = ("marts", "models")

_NEWEST = f"""
SELECT * FROM {REGISTRY}
ORDER BY synthetic ASC, release_date DESC NULLS LAST, release_id DESC
LIMIT 1
"""


def record_complete(
    con: duckdb.DuckDBPyConnection,
    release_id: str,
    *,
    source_path: Path,
    fingerprint: str,
    release_date: date | None,
    synthetic: bool,
    completed_at: datetime | None = None,
) -> None:
    """Record `release_id` as completely materialized (replacing an earlier record of it)."""
    set_variables(
        con,
        {
            "release_id": release_id,
            "registry_source_path": str(source_path),
            "registry_fingerprint": fingerprint,
            "registry_synthetic": synthetic,
            "registry_release_date": release_date.isoformat() if release_date else "",
            "registry_completed_at": (completed_at or datetime.now()).isoformat(timespec="seconds"),
        },
    )
    replace_partition(
        con,
        REGISTRY,
        release_id,
        """
        SELECT
            CAST(getvariable('release_id') AS VARCHAR) AS release_id,
            TRY_CAST(nullif(getvariable('registry_release_date'), '') AS DATE) AS release_date,
            CAST(getvariable('registry_synthetic') AS BOOLEAN) AS synthetic,
            CAST(getvariable('registry_source_path') AS VARCHAR) AS source_path,
            CAST(getvariable('registry_fingerprint') AS VARCHAR) AS fingerprint,
            CAST(getvariable('registry_completed_at') AS TIMESTAMP) AS completed_at
        """,
    )


def forget_release(con: duckdb.DuckDBPyConnection, release_id: str) -> LatestViews | None:
    """Remove `release_id` from marts.releases (if there) and re-point the latest views."""
    if not table_exists(con, REGISTRY):
        return None
    n = con.execute(
        f"SELECT count(*) FROM {REGISTRY} WHERE release_id = ?", [release_id]
    ).fetchall()[0][0]
    if not n:
        return None
    con.execute(f"DELETE FROM {REGISTRY} WHERE release_id = ?", [release_id])
    return refresh_latest_views(con)


def materialized_releases(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """{release id: fingerprint} of every complete release in the warehouse."""
    if not table_exists(con, REGISTRY):
        return {}
    rows = con.execute(f"SELECT release_id, fingerprint FROM {REGISTRY}").fetchall()
    return {r[0]: r[1] for r in rows}


def read_materialized(settings: Settings) -> dict[str, str] | None:
    """Like `materialized_releases`, opening the warehouse read-only for a moment.

    Returns None when the warehouse is being written by another process (DuckDB allows no reader
    beside a writer): the caller cannot tell, and should act as if nothing were known.
    """
    if not settings.warehouse.exists():
        return {}
    try:
        con = duckdb.connect(str(settings.warehouse), read_only=True)
    except duckdb.Error:  # locked by a writer (or unreadable): unknown
        return None
    try:
        return materialized_releases(con)
    finally:
        con.close()


def newest_complete(con: duckdb.DuckDBPyConnection) -> str | None:
    if not table_exists(con, REGISTRY):
        return None
    rows = con.execute(f"SELECT release_id FROM ({_NEWEST})").fetchall()
    return rows[0][0] if rows else None


@dataclass(frozen=True)
class LatestViews:
    release_id: str | None
    views: list[str]


def _release_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(schema, table) of every base table whose first column is release_id."""
    rows = con.execute(
        "SELECT c.table_schema, c.table_name FROM information_schema.columns c "
        "JOIN information_schema.tables t USING (table_catalog, table_schema, table_name) "
        "WHERE c.ordinal_position = 1 AND lower(c.column_name) = 'release_id' "
        "AND t.table_type = 'BASE TABLE' AND list_contains(?, c.table_schema)",
        [list(VIEW_SCHEMAS)],
    ).fetchall()
    order = {s: i for i, s in enumerate(VIEW_SCHEMAS)}
    return sorted(
        ((s, t) for s, t in rows if f"{s}.{t}" != REGISTRY), key=lambda st: (order[st[0]], st[1])
    )


def refresh_latest_views(con: duckdb.DuckDBPyConnection) -> LatestViews:
    """(Re)create `latest.release` and one `latest.<table>` view per release table, atomically."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {LATEST_SCHEMA}")
    tables = _release_tables(con)
    con.execute("BEGIN TRANSACTION")
    try:
        old = con.execute(
            "SELECT view_name FROM duckdb_views() WHERE schema_name = ? AND NOT internal",
            [LATEST_SCHEMA],
        ).fetchall()
        for (name,) in old:
            con.execute(f'DROP VIEW IF EXISTS {LATEST_SCHEMA}."{name}"')
        views = []
        if table_exists(con, REGISTRY):
            con.execute(f"CREATE VIEW {LATEST_SCHEMA}.release AS {_NEWEST}")
            views.append(f"{LATEST_SCHEMA}.release")
            taken = {"release"}
            for schema, table in tables:
                name = table if table.lower() not in taken else f"{schema}_{table}"
                taken.add(name.lower())
                con.execute(
                    f'CREATE VIEW {LATEST_SCHEMA}."{name}" AS SELECT * FROM {schema}."{table}" '
                    f"WHERE release_id = (SELECT release_id FROM {LATEST_SCHEMA}.release)"
                )
                views.append(f"{LATEST_SCHEMA}.{name}")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return LatestViews(newest_complete(con), views)
