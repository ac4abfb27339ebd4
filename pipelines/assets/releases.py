"""Operations assets: the release diff, the `latest.*` views, the EOIR download; their jobs.

* `marts/release_diff` (group reports): what changed since the previous release
  (pipelines/releases/diff.py), with a Markdown summary in the metadata.
* `marts/releases` (group reports): runs last in every release run (it depends on every other
  asset of the release), records the release as complete and points the `latest.*` views at the
  newest complete release (pipelines/releases/latest.py).
* `eoir_release_zip` (group eoir_ingest, unpartitioned): downloads EOIR's zip into
  data/raw/eoir/ (pipelines/releases/download.py). It is in no release run: only its own job runs it, by
  hand or from the monthly schedule, which is off by default (machines without internet).
"""

from pathlib import Path

import dagster as dg

from pipelines.assets.common import WAREHOUSE_POOL, markdown_table, release_partitions, run_context
from pipelines.eoir.archive import open_release
from pipelines.releases.diff import build_release_diff
from pipelines.releases.download import DEFAULT_URL, ProgressLog, download_release
from pipelines.releases.latest import (
    LATEST_SCHEMA,
    FailedCheck,
    ReleaseIncomplete,
    forget_release,
    incomplete_message,
    record_complete,
    refresh_latest_views,
)
from pipelines.releases.watch import fingerprint
from pipelines.resources import PipelineSettings, Warehouse

DIFF_KEY = dg.AssetKey(["marts", "release_diff"])
RELEASES_KEY = dg.AssetKey(["marts", "releases"])
DOWNLOAD_KEY = dg.AssetKey(["eoir_release_zip"])
# The tables the diff reads, by the assets that build them.
_DIFF_INPUT_KEYS = (
    dg.AssetKey(["staging", "proceedings"]),
    dg.AssetKey(["marts", "proceedings"]),
    dg.AssetKey(["marts", "charges_classified"]),
)


def _release_keys(assets: list) -> list[dg.AssetKey]:
    keys: list[dg.AssetKey] = []
    for a in assets:
        if isinstance(a, dg.AssetsDefinition) and a.partitions_def == release_partitions:
            keys.extend(a.keys)
    return keys


def make_release_diff(upstream: list) -> dg.AssetsDefinition:
    keys = set(_release_keys(upstream))
    # raw.load_audit is written by every ingest asset: depend on all of them.
    ingest = [k for k in keys if k.path[0] == "raw"]
    deps = sorted({*ingest, *(k for k in _DIFF_INPUT_KEYS if k in keys)}, key=str)

    @dg.asset(
        key=DIFF_KEY,
        group_name="reports",
        deps=deps,
        partitions_def=release_partitions,
        pool=WAREHOUSE_POOL,
        description=(
            "What changed since the previous release of the same kind in the warehouse (by "
            "release id): rows per source table, proceedings added and removed, proceedings "
            "whose outcome (DEC_CODE, OTHER_COMP, COMP_DATE) or PD status changed, charges "
            "added, removed or re-coded. Summary in marts.release_diff; the proceedings and "
            "charges behind it in marts.release_diff_proceedings and marts.release_diff_charges. "
            "Logic: pipelines/releases/diff.py."
        ),
        check_specs=[
            dg.AssetCheckSpec(
                "proceedings_reconcile",
                asset=DIFF_KEY,
                description=(
                    "The diff reconciles: the previous release's proceedings plus those added "
                    "minus those removed equal this release's proceedings."
                ),
            )
        ],
        kinds={"duckdb"},
    )
    def release_diff(
        context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: Warehouse
    ):
        rc = run_context(context, settings, warehouse)
        con = warehouse.connect(settings)
        try:
            diff = build_release_diff(con, rc.release_id)
        finally:
            con.close()
        rows = {(r["section"], r["item"]): r for r in diff.summary.iter_rows(named=True)}
        total = rows[("proceedings", "total")]
        if diff.previous_release_id is None:
            passed, meta = True, {"note": "no previous release: nothing to reconcile"}
        else:
            added = rows[("proceedings", "added")]["current_value"]
            removed = rows[("proceedings", "removed")]["current_value"]
            expected = total["previous_value"] + added - removed
            # previous + added - removed must be this release's count, or the join lost rows.
            passed = expected == total["current_value"]
            meta = {
                "previous_plus_added_minus_removed": expected,
                "current": total["current_value"],
            }
        context.log.info(diff.markdown)
        return dg.MaterializeResult(
            metadata={
                "summary": dg.MetadataValue.md(diff.markdown),
                "previous_release": diff.previous_release_id or "(none)",
                "proceedings_changed": diff.proceedings_changed,
                "charges_changed": diff.charges_changed,
                "dagster/row_count": len(diff.summary),
                "table": dg.MetadataValue.md(markdown_table(diff.summary)),
            },
            check_results=[
                dg.AssetCheckResult(
                    check_name="proceedings_reconcile", passed=passed, metadata=meta
                )
            ],
        )

    return release_diff


def failed_error_checks(context: dg.AssetExecutionContext) -> list[FailedCheck]:
    """The checks of severity ERROR that failed anywhere in this run, with their metadata."""
    records = context.instance.get_records_for_run(
        context.run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ).records
    failed = []
    for rec in records:
        ev = rec.event_log_entry.dagster_event.event_specific_data
        if not ev.passed and ev.severity == dg.AssetCheckSeverity.ERROR:
            meta = {k: getattr(v, "value", v) for k, v in (ev.metadata or {}).items()}
            failed.append(FailedCheck(f"{ev.asset_key.to_user_string()}:{ev.check_name}", meta))
    return failed


def make_latest_release(upstream: list) -> dg.AssetsDefinition:
    deps = sorted({*_release_keys(upstream), DIFF_KEY}, key=str)

    @dg.asset(
        key=RELEASES_KEY,
        group_name="reports",
        deps=deps,
        partitions_def=release_partitions,
        pool=WAREHOUSE_POOL,
        description=(
            "The releases the warehouse holds complete, and the latest.* views. It depends on "
            "every other asset of the release, so it runs only after all of them succeeded; it "
            "fails (and the run with it) if any check of severity ERROR failed in the run, "
            "e.g. the Count.txt reconciliation, leaving marts.releases and latest.* as they were; "
            "otherwise it records the release (with the fingerprint of its files) in marts.releases and "
            "points latest.release and latest.<table> (every marts.* and models.* table) at the "
            "newest complete release: real before synthetic, then by release date. "
            "Logic: pipelines/releases/latest.py."
        ),
        kinds={"duckdb"},
    )
    def latest_release(
        context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: Warehouse
    ):
        rc = run_context(context, settings, warehouse)
        failed = failed_error_checks(context)
        if failed:
            con = warehouse.connect(settings)
            try:
                forget_release(con, rc.release_id)
            finally:
                con.close()
            raise ReleaseIncomplete(incomplete_message(rc.release_id, failed))
        path = rc.release_path
        release = open_release(path)
        # The fingerprint the sensor saw when it requested the run (the files the run read), else
        # the files' fingerprint now (a run started by hand or by `pdpipeline run`).
        fp = context.run.tags.get("pd/fingerprint") or fingerprint(path)
        con = warehouse.connect(settings)
        try:
            record_complete(
                con,
                rc.release_id,
                source_path=path,
                fingerprint=fp,
                release_date=release.release_date,
                synthetic=release.synthetic,
            )
            views = refresh_latest_views(con)
        finally:
            con.close()
        context.log.info(
            f"release {rc.release_id} recorded complete; {LATEST_SCHEMA}.* now shows "
            f"{views.release_id} ({len(views.views)} views)"
        )
        return dg.MaterializeResult(
            metadata={
                "latest_release": views.release_id or "(none)",
                "this_release_is_latest": views.release_id == rc.release_id,
                "views": dg.MetadataValue.md("\n".join(f"- `{v}`" for v in views.views)),
                "source": str(path),
            }
        )

    return latest_release


def release_ops_assets(upstream: list) -> list[dg.AssetsDefinition]:
    """The diff and latest-release assets over `upstream` (every other asset of a release)."""
    diff = make_release_diff(upstream)
    return [diff, make_latest_release([*upstream, diff])]


class DownloadConfig(dg.Config):
    url: str = DEFAULT_URL
    max_attempts: int = 5
    # Download even when the server's file has the validators of the last completed download.
    force: bool = False


@dg.asset(
    key=DOWNLOAD_KEY,
    group_name="eoir_ingest",
    description=(
        "Downloads EOIR's 'EOIR Case Data.zip' (URL in the run config) into "
        "data/raw/eoir/<release date>/: streamed in chunks, resumable with HTTP Range, checked "
        "for size and zip integrity (central directory, Count.txt and its tables) and renamed "
        "into place only when whole, where the release sensor picks it up. Bounded by the "
        "settings download_max_bytes (size cap) and download_stall_timeout; a full disk stops "
        "it with the space needed, removing the partial file. Not part of release "
        "runs; the monthly schedule that runs it is off by default. Logic: pipelines/releases/download.py."
    ),
    kinds={"python"},
)
def eoir_release_zip(
    context: dg.AssetExecutionContext, config: DownloadConfig, settings: PipelineSettings
):
    raw_dir = Path(settings.raw_dir)
    context.log.info(f"downloading {config.url} into {raw_dir / 'eoir'}")
    result = download_release(
        config.url,
        raw_dir,
        max_attempts=config.max_attempts,
        max_bytes=settings.download_max_bytes,
        timeout=settings.download_stall_timeout,
        progress=ProgressLog(context.log.info),
        skip_if_unchanged=not config.force,
    )
    if result.note:
        context.log.info(result.note)
    return dg.MaterializeResult(
        metadata={
            "path": str(result.path) if result.path else "(nothing new)",
            "release_id": result.release_id or "",
            "size_mb": round(result.total_bytes / 1e6, 1),
            "transferred_mb": round(result.transferred_bytes / 1e6, 1),
            "resumed_from_bytes": result.resumed_from,
            "attempts": result.attempts,
            "note": result.note,
        }
    )


# Runs of this job carry this tag; dagster.yaml lets one such run proceed at a time, in the
# order they were queued, so when several releases arrive together each one's diff runs after
# the previous release is complete.
RELEASE_RUN_TAG = {"pd/run_kind": "release"}

# Every release-partitioned asset, for one release, in one process: the warehouse takes one
# writer at a time anyway (pool `warehouse`), and a step per process would cost a Python start-up
# per asset.
release_job = dg.define_asset_job(
    "materialize_release",
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(DOWNLOAD_KEY),
    executor_def=dg.in_process_executor,
    tags=RELEASE_RUN_TAG,
    description="Materialize every asset of one release (partition). Started by the release sensor.",
)

download_job = dg.define_asset_job(
    "download_eoir_release",
    selection=dg.AssetSelection.assets(DOWNLOAD_KEY),
    description="Download the current EOIR case-data zip into data/raw/eoir/.",
)

# EOIR replaces the zip monthly; the 5th leaves it a few days. Off by default: turn it on in the
# UI (Automation) on a machine with internet access.
monthly_download = dg.ScheduleDefinition(
    name="monthly_eoir_download",
    job=download_job,
    cron_schedule="0 6 5 * *",
    execution_timezone="America/New_York",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Download EOIR's case-data zip once a month (off by default).",
)

ops_jobs = [release_job, download_job]
ops_schedules = [monthly_download]
