"""What every asset shares: the release partitions, the warehouse pool, the run context, the
warehouse session, and the table metadata (column schema, preview) shown in the Dagster UI."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import dagster as dg

from pipelines.publish.preview import HIDDEN, counts_hidden_in_preview
from pipelines.releases.find import resolve_release
from pipelines.resources import PipelineSettings, Warehouse
from pipelines.settings import Settings
from pipelines.warehouse.db import fetch_frame
from pipelines.warehouse.schema import column_definitions, declared_table
from pipelines.warehouse.session import ReleaseSession, release_session

# One partition per FOIA release, keyed by release id (e.g. `2026-04`, `synthetic-2026-04`).
release_partitions = dg.DynamicPartitionsDefinition(name="release")

# DuckDB allows one read-write process per database file and Dagster's default executor runs
# steps in parallel processes: every asset that writes the warehouse takes this pool, whose
# limit is 1 (dagster.yaml / the run config), so a run never fails on a file lock.
WAREHOUSE_POOL = "warehouse"


@dataclass(frozen=True)
class RunContext:
    settings: Settings
    release_id: str

    @property
    def release_path(self) -> Path:
        return resolve_release(self.settings.raw_dir, self.release_id, self.settings.release_path)

    @property
    def synthetic(self) -> bool:
        return self.release_id.startswith("synthetic")


def run_context(
    context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: Warehouse
) -> RunContext:
    return RunContext(warehouse.settings(settings), context.partition_key)


@contextmanager
def warehouse_session(
    context: dg.AssetExecutionContext,
    settings: PipelineSettings,
    warehouse: Warehouse,
    read_only: bool = False,
) -> Iterator[ReleaseSession]:
    """The partition's release on the warehouse, opened through the resource (which waits on the
    lock) and closed on exit: `with warehouse_session(context, settings, warehouse) as wh:`."""
    rc = run_context(context, settings, warehouse)
    with release_session(
        rc.settings,
        rc.release_id,
        read_only=read_only,
        connect=lambda read_only: warehouse.connect(settings, read_only=read_only),
    ) as wh:
        yield wh


def column_schema(qualified: str) -> dg.TableSchema | None:
    """The table's declared columns (sql/ddl/) with the codebook's definition of each."""
    declared = declared_table(qualified)
    if declared is None:
        return None
    words = column_definitions(qualified)
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name,
                typ,
                description=words.get(name.lower())
                or ("the FOIA release" if name == "release_id" else None),
            )
            for name, typ in declared.columns
        ]
    )


def schema_metadata(qualified: str) -> dict[str, object]:
    """Definition-time asset metadata: `dagster/column_schema` and the table name."""
    schema = column_schema(qualified)
    meta: dict[str, object] = {"dagster/table_name": qualified}
    if schema is not None:
        meta["dagster/column_schema"] = schema
    return meta


def _cell(v):
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, (date, datetime)):
        return v.isoformat()
    return str(v)


def table_preview(con, qualified: str, release_id: str, limit: int = 10) -> dg.MetadataValue:
    """The partition's first rows as a Dagster table (typed columns, sortable in the UI)."""
    df = fetch_frame(
        con,
        f"SELECT * EXCLUDE (release_id) FROM {qualified} WHERE release_id = ? LIMIT {limit}",
        [release_id],
    )
    # Counts of people are not previewed unsuppressed (pipelines/publish/preview.py): a preview
    # is ten rows with no room for complementary suppression.
    hidden = counts_hidden_in_preview(df, qualified)
    types = {
        c.lower(): t
        for c, t in (declared_table(qualified).columns if declared_table(qualified) else [])
    }
    words = column_definitions(qualified)
    schema = dg.TableSchema(
        columns=[
            dg.TableColumn(
                c,
                "VARCHAR" if c in hidden else types.get(c.lower(), str(df.schema[c])),
                description=(
                    "not previewed: the published, suppressed figures are in the release report"
                    if c in hidden
                    else words.get(c.lower())
                ),
            )
            for c in df.columns
        ]
    )
    records = [
        dg.TableRecord(
            {k: (HIDDEN if k in hidden and v is not None else _cell(v)) for k, v in row.items()}
        )
        for row in df.iter_rows(named=True)
    ]
    return dg.MetadataValue.table(records, schema=schema)


def markdown_table(df) -> str:
    """A polars frame as a Markdown table (for asset metadata)."""
    if len(df) == 0:
        return "(no rows)"
    from pipelines.tables.export import md_escape

    cols = df.columns
    lines = ["| " + " | ".join(md_escape(c) for c in cols) + " |", "|" + "---|" * len(cols)]
    for row in df.iter_rows():
        lines.append("| " + " | ".join("" if v is None else md_escape(str(v)) for v in row) + " |")
    return "\n".join(lines)
