"""EOIR ingest: one asset per core table into raw.*, plus the lookups; checks reconcile each
table with the release's own Count.txt."""

import dagster as dg

from pipelines.assets.common import (
    WAREHOUSE_POOL,
    markdown_table,
    release_partitions,
    run_context,
    warehouse_session,
)
from pipelines.eoir.archive import open_release
from pipelines.eoir.columns import CORE_TABLES, core_specs
from pipelines.eoir.ingest import ingest_lookups, ingest_table
from pipelines.resources import PipelineSettings, Warehouse


def _progress_logger(context: dg.AssetExecutionContext, label: str, total: int):
    state = {"done": 0, "next": 0.1}

    def progress(n: int) -> None:
        state["done"] += n
        if total and state["done"] / total >= state["next"]:
            context.log.info(
                f"{label}: {state['done'] / total:.0%} of {total / 1e6:.1f} MB decoded"
            )
            state["next"] += 0.1

    return progress


def _audit_check_results(key: dg.AssetKey, audit) -> list[dg.AssetCheckResult]:
    meta = {
        "count_txt_rows": audit.count_txt_rows,
        "lines_read": audit.lines_read,
        "loaded_as_is": audit.loaded_as_is,
        "repaired": audit.repaired,
        "rejected": audit.rejected,
    }
    reconciled = audit.reconciled
    return [
        dg.AssetCheckResult(
            asset_key=key,
            check_name="count_txt_reconciled",
            passed=bool(reconciled),
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                **meta,
                "note": "loaded + repaired + rejected must equal Count.txt"
                if reconciled is not None
                else "Count.txt has no row for this table",
            },
        ),
    ]


def raw_column_schema(table: str) -> dg.TableSchema:
    """raw.<table>: the release, the source line, then every canonical column as text."""
    spec = core_specs()[table]
    return dg.TableSchema(
        columns=[
            dg.TableColumn("release_id", "VARCHAR", description="the FOIA release"),
            dg.TableColumn(
                "source_line", "BIGINT", description=f"1-based line in {table}.csv (header = 1)"
            ),
            *(
                dg.TableColumn(name, "VARCHAR", description=f"{table}.{name} as published")
                for name in spec.names
            ),
        ]
    )


def make_raw_table_asset(table: str) -> dg.AssetsDefinition:
    key = dg.AssetKey(["raw", table])

    @dg.asset(
        key=key,
        group_name="eoir_ingest",
        partitions_def=release_partitions,
        pool=WAREHOUSE_POOL,
        description=(
            f"raw.{table}: every line of {table}.csv as text, with its source line number. "
            "Decoded from cp1252, NUL bytes stripped, tab-shifted rows repaired where unambiguous; "
            "other bad lines quarantined in raw.rejects. Accounting in raw.load_audit."
        ),
        check_specs=[
            dg.AssetCheckSpec(
                "count_txt_reconciled",
                asset=key,
                description=(
                    f"Every line of {table}.csv is accounted for: loaded as-is + repaired + "
                    "rejected equals the release's Count.txt row count for the table (fails when "
                    "Count.txt has no row for it). Blocking: a release that does not reconcile "
                    "is not built further."
                ),
                blocking=True,
            )
        ],
        metadata={
            "dagster/table_name": f"raw.{table}",
            "dagster/column_schema": raw_column_schema(table),
        },
        kinds={"duckdb"},
    )
    def _asset(context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: Warehouse):
        rc = run_context(context, settings, warehouse)
        release = open_release(rc.release_path)
        member = release.member(table)
        context.log.info(
            f"ingesting {member.path} ({member.size / 1e6:.1f} MB) from {release.source}"
        )
        with warehouse_session(context, settings, warehouse) as wh:
            audit = ingest_table(
                wh.con,
                release,
                member,
                core_specs()[table],
                rc.settings.temp_dir,
                progress=_progress_logger(context, table, member.size),
            )
            rejects = wh.fetch(
                "SELECT source_line, reason, left(raw_text, 120) AS raw_text FROM raw.rejects "
                "WHERE release_id = ? AND source_table = ? ORDER BY source_line LIMIT 20",
                [rc.release_id, table],
            )
        context.log.info(
            f"{table}: {audit.lines_read} lines, {audit.loaded_as_is} as-is, {audit.repaired} repaired, "
            f"{audit.rejected} rejected in {audit.seconds:.1f}s ("
            + ", ".join(f"{k} {v:.1f}s" for k, v in audit.phase_seconds.items())
            + ")"
        )
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": audit.loaded_as_is + audit.repaired,
                "source_file": member.path,
                "count_txt_rows": audit.count_txt_rows,
                "lines_read": audit.lines_read,
                "loaded_as_is": audit.loaded_as_is,
                "repaired": audit.repaired,
                "rejected": audit.rejected,
                "repairs_by_kind": audit.repairs_by_kind,
                "rejects_by_reason": audit.rejects_by_reason,
                "unknown_columns": audit.unknown_columns,
                "renamed_columns": audit.renamed_columns,
                "missing_columns": audit.missing_columns,
                "nul_bytes_stripped": audit.nul_bytes_stripped,
                "seconds": round(audit.seconds, 2),
                # decode (clean and number the lines), load (DuckDB's reader into the table),
                # classify (the few odd lines), finish (accounting, COMMIT, cleanup).
                "phase_seconds": audit.phase_seconds,
                "mb_per_second": round(audit.bytes_read / 1e6 / max(audit.seconds, 1e-9), 1),
                "rejects_preview": dg.MetadataValue.md(markdown_table(rejects)),
                "synthetic": release.synthetic,
            },
            check_results=_audit_check_results(key, audit),
        )

    return _asset


raw_table_assets = [make_raw_table_asset(t) for t in CORE_TABLES]


@dg.asset(
    key=dg.AssetKey(["raw", "eoir_lookups"]),
    group_name="eoir_ingest",
    partitions_def=release_partitions,
    pool=WAREHOUSE_POOL,
    description=(
        "Every known Lookup/*.csv of the release into raw.<lookup> (text, source line numbers), "
        "with the same decoding and accounting as the core tables; every member of the release, "
        "used or not, is listed in raw.release_members. Required lookups that the release lacks "
        "get an empty table, and staging falls back to data/reference for their codes."
    ),
    check_specs=[
        dg.AssetCheckSpec(
            "lookups_reconciled",
            asset=dg.AssetKey(["raw", "eoir_lookups"]),
            description=(
                "Every line of every lookup the release's Count.txt counts is accounted for "
                "(loaded + repaired + rejected = Count.txt). Lookups Count.txt does not list, and "
                "required lookups the release lacks, are listed. Blocking."
            ),
            blocking=True,
        )
    ],
    kinds={"duckdb"},
)
def eoir_lookups(
    context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: Warehouse
):
    rc = run_context(context, settings, warehouse)
    release = open_release(rc.release_path)
    from pipelines.eoir.columns import REQUIRED_LOOKUPS

    with warehouse_session(context, settings, warehouse) as wh:
        audits, unreadable = ingest_lookups(wh.con, release, rc.settings.temp_dir)
    for name, why in unreadable.items():
        context.log.warning(f"lookup {name} not loaded: {why}")
    present = {a.source_table.lower() for a in audits}
    missing = [name for name in REQUIRED_LOOKUPS if name.lower() not in present]
    if missing:
        context.log.warning(
            f"release lacks lookups {missing}: staging uses data/reference for them"
        )
    unreconciled = [a.source_table for a in audits if a.reconciled is False]
    not_counted = [a.source_table for a in audits if a.reconciled is None]
    return dg.MaterializeResult(
        metadata={
            "lookups_loaded": len(audits),
            "rows": sum(a.loaded_as_is + a.repaired for a in audits),
            "rejected": sum(a.rejected for a in audits),
            "missing_required_lookups": missing,
            "not_in_count_txt": not_counted,
            "unreadable_lookups": unreadable,
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="lookups_reconciled",
                passed=not unreconciled and not unreadable and all(a.accounted for a in audits),
                metadata={
                    "unreconciled": unreconciled,
                    "unreadable": unreadable,
                    "not_in_count_txt": not_counted,
                    "missing_required_lookups": missing,
                },
            )
        ],
    )
