"""Materialize every asset for one release, in process, with a progress display.

Used by the `pdpipeline run` command and by the tests; `dagster dev` is the other way in.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
from tqdm import tqdm

from pipelines.eoir.archive import open_release
from pipelines.settings import Settings
from pipelines.warehouse.lock import WarehouseLocked, warehouse_lock


@dataclass
class RunOutcome:
    success: bool
    release_id: str
    failed_steps: list[str] = field(default_factory=list)
    succeeded_steps: list[str] = field(default_factory=list)
    # step key -> (start, end) wall-clock seconds, from the event records
    step_times: dict[str, tuple[float, float]] = field(default_factory=dict)
    # asset key -> dagster/row_count reported by the materialization
    row_counts: dict[str, int] = field(default_factory=dict)
    failed_checks: list[str] = field(default_factory=list)
    warned_checks: list[str] = field(default_factory=list)
    error: str = ""


class _ProgressHandler(logging.Handler):
    def __init__(self, bar: tqdm | None, outcome: RunOutcome):
        super().__init__()
        self.bar = bar
        self.outcome = outcome

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None)
        event = meta.get("dagster_event") if isinstance(meta, dict) else None
        if event is None:
            if record.levelno >= logging.WARNING and self.bar is not None:
                self.bar.write(f"warning: {record.getMessage()}")
            return
        kind = event.event_type_value
        step = event.step_key or meta.get("step_key") or ""
        if kind == "STEP_START" and self.bar is not None:
            self.bar.set_description(step[:40])
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE") and self.bar is not None:
            self.bar.update(1)
        if kind == "STEP_START":
            self.outcome.step_times[step] = (record.created, record.created)
        if kind in ("STEP_SUCCESS", "STEP_FAILURE") and step in self.outcome.step_times:
            self.outcome.step_times[step] = (self.outcome.step_times[step][0], record.created)
        if kind == "ASSET_MATERIALIZATION":
            mat = event.event_specific_data.materialization
            rows = mat.metadata.get("dagster/row_count")
            if rows is not None:
                self.outcome.row_counts[mat.asset_key.to_user_string()] = int(rows.value)
        if kind == "STEP_SUCCESS":
            self.outcome.succeeded_steps.append(step)
        if kind == "STEP_FAILURE":
            self.outcome.failed_steps.append(step)
            err = event.step_failure_data.error if event.step_failure_data else None
            if err is not None and not self.outcome.error:
                self.outcome.error = _root_message(err)
        elif kind == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            if not data.passed:
                name = f"{data.asset_key.to_user_string()}:{data.check_name}"
                if data.severity == dg.AssetCheckSeverity.ERROR:
                    self.outcome.failed_checks.append(name)
                else:
                    self.outcome.warned_checks.append(name)


def _root_message(err) -> str:
    while getattr(err, "cause", None) is not None:
        err = err.cause
    return err.message.strip()


def run_release(
    release_path: Path,
    settings: Settings,
    show_progress: bool = True,
    selection: dg.AssetSelection | None = None,
    instance: dg.DagsterInstance | None = None,
) -> RunOutcome:
    """Materialize every asset (or `selection`) for the release at `release_path`."""
    from pipelines.assets.common import release_partitions
    from pipelines.definitions import all_asset_checks, all_assets
    from pipelines.resources import PipelineSettings, Warehouse

    release = open_release(release_path)
    release_id = release.release_id
    instance = instance or dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(release_partitions.name, [release_id])
    job = dg.define_asset_job(
        "pdpipeline_run",
        selection=(selection or dg.AssetSelection.all()).required_multi_asset_neighbors(),
    )
    outcome = RunOutcome(success=False, release_id=release_id)
    bar: tqdm | None = None

    @dg.logger
    def progress_logger(_init_context):
        lg = logging.Logger("pdpipeline.progress", level=logging.DEBUG)
        lg.addHandler(_ProgressHandler(bar, outcome))
        return lg

    defs = dg.Definitions(
        assets=all_assets(),
        asset_checks=all_asset_checks(),
        jobs=[job],
        loggers={"progress": progress_logger},
        resources={
            "settings": PipelineSettings(
                raw_dir=str(settings.raw_dir),
                release_path=str(release_path),
                reports_dir=str(settings.reports_dir),
                window_start=settings.window_start.isoformat(),
                window_end=settings.window_end.isoformat(),
                pending_on=settings.pending_on.isoformat(),
                suppress_below=settings.suppress_below,
                lead_charge_rule=settings.lead_charge_rule,
            ),
            "warehouse": Warehouse(
                path=str(settings.warehouse),
                memory_limit=settings.duckdb_memory_limit,
                threads=settings.duckdb_threads,
                temp_dir=str(settings.temp_dir),
            ),
        },
    )
    job_def = defs.resolve_job_def("pdpipeline_run")
    n_steps = len(job_def.graph.node_defs)
    if show_progress:
        bar = tqdm(total=n_steps, unit="asset", file=sys.stderr, dynamic_ncols=True)
    try:
        # One run at a time per warehouse: a second `pdpipeline run` waits for this one (or fails
        # after PD_LOCK_TIMEOUT naming it) rather than interleaving its writes (pipelines/warehouse/lock.py).
        with warehouse_lock(settings.warehouse, f"pdpipeline run of release {release_id}"):
            result = job_def.execute_in_process(
                partition_key=release_id,
                instance=instance,
                run_config={"loggers": {"progress": {}}},
                raise_on_error=False,
            )
    except WarehouseLocked as exc:
        outcome.error = str(exc)
        return outcome
    finally:
        if bar is not None:
            bar.close()
    outcome.success = result.success and not outcome.failed_checks
    return outcome
