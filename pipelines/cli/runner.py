"""Materialize every asset for one release, in process, with a progress display.

Used by the `pdpipeline run` command and by the tests; `dagster dev` is the other way in. The
graph is pipelines/definitions.py's (`build_definitions`), run as its job `materialize_release`,
so with the project's Dagster instance (`pdpipeline run` passes it) the UI shows the run, the
partition's materializations and their check results exactly as for a run started there.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
from tqdm import tqdm

from pipelines.cli.messages import OUT_OF_MEMORY
from pipelines.eoir.archive import ReleaseError
from pipelines.releases.find import check_complete
from pipelines.releases.latest import FailedCheck, forget_release, incomplete_message
from pipelines.settings import Settings
from pipelines.warehouse.lock import WarehouseLocked, file_lock, warehouse_lock

# In the Dagster home: held while a process creates or first writes the instance's storage.
INSTANCE_LOCK = "pdpipeline-instance.lock"


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
    # The failed ERROR checks with their numbers, for the message.
    failed_check_details: list[FailedCheck] = field(default_factory=list)
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
                if _out_of_memory(err):
                    cause = self.outcome.error.split("\n")[0]
                    self.outcome.error = f"{OUT_OF_MEMORY}\ncause: {cause}"
                elif (full := _disk_full(err)) is not None:
                    self.outcome.error = full
        elif kind == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            if not data.passed:
                name = f"{data.asset_key.to_user_string()}:{data.check_name}"
                if data.severity == dg.AssetCheckSeverity.ERROR:
                    self.outcome.failed_checks.append(name)
                    meta = {k: getattr(v, "value", v) for k, v in (data.metadata or {}).items()}
                    self.outcome.failed_check_details.append(FailedCheck(name, meta))
                else:
                    self.outcome.warned_checks.append(name)


_FRAMEWORK = ("dagster.", "dagster_")

_OOM_CLASSES = ("MemoryError", "OutOfMemoryException")


# `[Errno 28] No space left on device: 'src'` (with ` -> 'dst'` for a copy or a rename).
_ENOSPC = re.compile(r"\[Errno 28\] No space left on device: '([^']*)'(?: -> '([^']*)')?")


def _disk_full(err) -> str | None:
    """A step's error that is a full disk: the message names the folder that ran out (for a
    copy, where it was copying to), not a bare errno."""
    while err is not None:
        m = _ENOSPC.search(err.message or "")
        if m:
            folder = Path(m.group(2) or m.group(1)).parent
            return (
                f"no space left on the device holding {folder}: free space there, or point the "
                "PD_* setting for that folder (PD_REPORTS_DIR, PD_WAREHOUSE, PD_TEMP_DIR) at a "
                "bigger disk, then run again"
            )
        err = getattr(err, "cause", None) or getattr(err, "context", None)
    return None


def _out_of_memory(err) -> bool:
    """A step's error (Dagster's serialised chain) that is Python's or DuckDB's out of memory."""
    while err is not None:
        if err.cls_name in _OOM_CLASSES:
            return True
        err = getattr(err, "cause", None) or getattr(err, "context", None)
    return False


def _strip_class(message: str, cls_name: str | None) -> str:
    """`pipelines.eoir.archive.ReleaseError: x.csv: ...` -> `x.csv: ...` (no class path)."""
    text = message.strip()
    if cls_name:
        text = re.sub(rf"^(?:[A-Za-z_]\w*\.)*{re.escape(cls_name)}:\s*", "", text)
    return text


def _root_message(err) -> str:
    """The project's own message, with the cause that explains it on a second line.

    Dagster wraps a failing asset in its own errors ("Error occurred while executing op ...");
    those are skipped. The first error below them is the project's (it names the file or
    setting and what to do) and wins; the exception it was raised from, if any, follows as
    `cause: ...`. No class path reaches the user.
    """
    chain = []
    while err is not None:
        chain.append(err)
        err = getattr(err, "cause", None) or getattr(err, "context", None)
    own = [e for e in chain if not (e.message or "").startswith(_FRAMEWORK)] or chain
    first = own[0]
    text = _strip_class(first.message, first.cls_name).splitlines()[0] if first.message else ""
    rest = own[1:]
    if rest:
        cause = _strip_class(rest[0].message, rest[0].cls_name).splitlines()
        if cause and cause[0] and cause[0] not in text:
            text += f"\ncause: {cause[0]}"
    return text


def check_release(release_path: Path) -> str:
    """Refuse, before anything runs, a path that is not a whole release; returns its id."""
    found = check_complete(release_path)
    if not found.complete:
        raise ReleaseError(found.problem)
    return found.release_id


def run_release(
    release_path: Path,
    settings: Settings,
    show_progress: bool = True,
    selection: dg.AssetSelection | None = None,
    instance: dg.DagsterInstance | None = None,
) -> RunOutcome:
    """Materialize every asset (or `selection`) for the release at `release_path`.

    `instance` is where the run is recorded (default: an ephemeral one, for tests); a release
    that is not whole raises `ReleaseError` before any asset runs.
    """
    from pipelines.assets.common import release_partitions
    from pipelines.assets.releases import DOWNLOAD_KEY, release_job
    from pipelines.definitions import build_definitions

    release_id = check_release(release_path)
    instance = instance or dg.DagsterInstance.ephemeral()
    add_release_partition(instance, release_partitions.name, release_id, settings.lock_timeout)
    outcome = RunOutcome(success=False, release_id=release_id)
    bar: tqdm | None = None

    @dg.logger
    def progress_logger(_init_context):
        lg = logging.Logger("pdpipeline.progress", level=logging.DEBUG)
        lg.addHandler(_ProgressHandler(bar, outcome))
        return lg

    # The whole release is the job the sensor starts; a selection (tests) is a job of its own.
    job_name = release_job.name if selection is None else "pdpipeline_selection"
    extra = []
    if selection is not None:
        extra = [
            dg.define_asset_job(
                job_name,
                # The download is no release asset (its job is separate), whatever the groups.
                selection=(
                    selection - dg.AssetSelection.assets(DOWNLOAD_KEY)
                ).required_multi_asset_neighbors(),
            )
        ]
    defs = build_definitions(
        settings.with_(release_path=str(release_path)),
        loggers={"progress": progress_logger},
        extra_jobs=extra,
    )
    job_def = defs.resolve_job_def(job_name)
    n_steps = len(job_def.graph.node_defs)
    if show_progress:
        bar = tqdm(total=n_steps, unit="asset", file=sys.stderr, dynamic_ncols=True)
    try:
        # One run at a time per warehouse: a second `pdpipeline run` waits for this one (or fails
        # after the lock timeout naming it) rather than interleaving its writes
        # (pipelines/warehouse/lock.py).
        with warehouse_lock(
            settings.warehouse,
            f"pdpipeline run of release {release_id}",
            timeout_s=settings.lock_timeout,
        ):
            release_dead_cli_runs(instance)
            result = job_def.execute_in_process(
                partition_key=release_id,
                instance=instance,
                run_config={"loggers": {"progress": {}}},
                tags={"pd/release_path": str(release_path), **cli_run_tags()},
                raise_on_error=False,
            )
    except WarehouseLocked as exc:
        outcome.error = str(exc)
        return outcome
    finally:
        if bar is not None:
            bar.close()
    outcome.success = result.success and not outcome.failed_checks
    if outcome.failed_check_details:
        # The project's message for an incomplete release wins over the step that stopped.
        outcome.error = incomplete_message(release_id, outcome.failed_check_details)
    if not outcome.success and settings.warehouse.exists():
        # A failed run may have rewritten some of the release's tables: whatever an earlier run
        # recorded for it no longer holds.
        _forget(settings, release_id)
    return outcome


@contextlib.contextmanager
def open_instance(home: Path, timeout_s: float) -> Iterator[dg.DagsterInstance]:
    """The Dagster instance in `home` (DAGSTER_HOME), made under the instance lock.

    Making it creates its SQLite run and schedule storages on first use (tables, then the schema
    version), with no guard against another process doing the same: two `pdpipeline run` started
    together on a fresh home would both create the tables and one fail ("table ... already
    exists"). The lock makes the second wait until the first has made them.
    """
    with _instance_lock(home, "setting it up", timeout_s):
        instance = dg.DagsterInstance.get()
    with instance:
        yield instance


@contextlib.contextmanager
def instance_setup_lock(instance: dg.DagsterInstance, timeout_s: float) -> Iterator[None]:
    """The instance lock of a persistent instance (an ephemeral one lives in this process)."""
    if instance.is_ephemeral:
        yield
        return
    with _instance_lock(Path(instance.root_directory), "adding a release", timeout_s):
        yield


def _instance_lock(home: Path, purpose: str, timeout_s: float):
    # Held for seconds: a wait is not worth a line (a holder that hangs is named at the timeout).
    return file_lock(
        home / INSTANCE_LOCK, f"Dagster instance {home}", purpose, timeout_s, lambda _m: None
    )


def add_release_partition(
    instance: dg.DagsterInstance, partitions_name: str, release_id: str, timeout_s: float
) -> None:
    """Add the release's partition, under the instance lock: Dagster checks for the partition,
    then inserts it, so two runs of a new release started together would both insert, and one
    fail on the table's unique key."""
    with instance_setup_lock(instance, timeout_s):
        if not instance.has_dynamic_partition(partitions_name, release_id):
            instance.add_dynamic_partitions(partitions_name, [release_id])


# Who runs an in-process run: a run killed with its process (kill -9, OOM killer, power cut) never
# gives back its slot of the `warehouse` concurrency pool (dagster.yaml), and every later run in that
# Dagster instance would wait for it forever at its first warehouse step.
CLI_PID_TAG = "pd/cli_pid"
CLI_HOST_TAG = "pd/cli_host"


def cli_run_tags() -> dict[str, str]:
    return {CLI_PID_TAG: str(os.getpid()), CLI_HOST_TAG: socket.gethostname()}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def release_dead_cli_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed, and free the pool slots of, runs started by `pdpipeline run` on this host whose
    process is gone; runs launched by `dagster dev` (no such tags) are its daemon's business."""
    freed = []
    records = instance.get_runs(
        filters=dg.RunsFilter(
            statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING],
            tags={CLI_HOST_TAG: socket.gethostname()},
        )
    )
    for run in records:
        pid = run.tags.get(CLI_PID_TAG, "")
        if not pid.isdigit() or int(pid) == os.getpid() or _alive(int(pid)):
            continue
        instance.report_run_failed(run, f"its process (pid {pid}) ended without finishing the run")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        freed.append(run.run_id)
    return freed


def _forget(settings: Settings, release_id: str) -> None:
    from pipelines.warehouse.lock import connect_waiting

    con = connect_waiting(settings, timeout_s=settings.lock_timeout)
    try:
        forget_release(con, release_id)
    finally:
        con.close()
