"""What every asset shares: the release partitions, the warehouse pool, the run context."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from pipelines.releases.find import resolve_release
from pipelines.resources import PipelineSettings, Warehouse
from pipelines.settings import Settings
from pipelines.warehouse.db import fetch_frame

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


def table_preview(con, qualified: str, release_id: str, limit: int = 10) -> dg.MetadataValue:
    df = fetch_frame(
        con,
        f"SELECT * EXCLUDE (release_id) FROM {qualified} WHERE release_id = ? LIMIT {limit}",
        [release_id],
    )
    from pipelines.publish.preview import preview_markdown

    # Counts of people are not previewed unsuppressed; text from the data is escaped.
    return dg.MetadataValue.md(preview_markdown(df, qualified))


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
