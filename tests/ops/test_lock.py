"""Two writers on one warehouse: the second waits or fails naming the first; nothing is lost.

The other writer is a real second process (DuckDB's lock is per process). It signals through
files, so no test depends on timing: the waiting side releases the holder from its on_wait
callback, which runs only once it has seen the warehouse locked.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pipelines.settings import REPO_ROOT, Settings
from pipelines.warehouse.db import connect
from pipelines.warehouse.lock import WarehouseLocked, connect_waiting, lock_path, warehouse_lock
from tests.eoir.conftest import small_release
from tests.ops.releases import may_2026_edits, next_release

_HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from pipelines.settings import Settings
    from pipelines.warehouse.db import connect
    from pipelines.warehouse.lock import warehouse_lock
    wh, ready, release, mode = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]

    def wait_for_release():
        deadline = time.monotonic() + 120
        while not release.exists() and time.monotonic() < deadline:
            time.sleep(0.05)

    if mode == "duckdb":
        con = connect(Settings(warehouse=wh, temp_dir=wh.parent / "tmp"))
        con.execute("CREATE TABLE IF NOT EXISTS marts.t (release_id VARCHAR, n INTEGER)")
        con.execute("BEGIN TRANSACTION")
        con.execute("INSERT INTO marts.t VALUES ('held', 1)")
        ready.write_text("x")
        wait_for_release()
        con.execute("COMMIT")
        con.close()
    else:
        with warehouse_lock(wh, "pdpipeline run of release 2026-04"):
            ready.write_text("x")
            wait_for_release()
    """
)


class Holder:
    def __init__(self, tmp_path: Path, warehouse: Path, mode: str):
        self.ready = tmp_path / f"{mode}.ready"
        self.release_file = tmp_path / f"{mode}.release"
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _HOLDER,
                str(warehouse),
                str(self.ready),
                str(self.release_file),
                mode,
            ],
            cwd=REPO_ROOT,
        )
        deadline = time.monotonic() + 60
        while not self.ready.exists():
            assert self.proc.poll() is None, "the holder process died"
            assert time.monotonic() < deadline, "the holder process never took the warehouse"
            time.sleep(0.05)

    def release(self, *_args) -> None:
        self.release_file.write_text("go")

    def finish(self) -> int:
        self.release()
        return self.proc.wait(timeout=60)


def test_second_writer_waits_then_writes_and_nothing_is_lost(settings, tmp_path):
    holder = Holder(tmp_path, settings.warehouse, "duckdb")
    messages: list[str] = []

    def on_wait(msg: str) -> None:
        messages.append(msg)
        holder.release()

    con = connect_waiting(settings, timeout_s=120, on_wait=on_wait)
    try:
        con.execute("INSERT INTO marts.t VALUES ('second', 2)")
        rows = con.execute("SELECT release_id, n FROM marts.t ORDER BY n").fetchall()
    finally:
        con.close()
    assert holder.proc.wait(timeout=60) == 0
    assert rows == [("held", 1), ("second", 2)]
    (msg,) = messages
    assert str(settings.warehouse) in msg and f"PID {holder.proc.pid}" in msg


def test_second_writer_fails_naming_the_warehouse_and_the_holder(settings, tmp_path):
    holder = Holder(tmp_path, settings.warehouse, "duckdb")
    try:
        with pytest.raises(WarehouseLocked) as err:
            connect_waiting(settings, timeout_s=0.2, on_wait=lambda _m: None)
    finally:
        assert holder.finish() == 0
    msg = str(err.value)
    assert f"warehouse {settings.warehouse} is in use by PID {holder.proc.pid}" in msg
    assert "-c" in msg or "python" in msg  # the holder's command line
    assert "PD_LOCK_TIMEOUT" in msg
    # The holder's transaction committed intact; the failed writer changed nothing.
    con = connect(settings, read_only=True)
    try:
        assert con.execute("SELECT release_id, n FROM marts.t").fetchall() == [("held", 1)]
    finally:
        con.close()


def test_run_lock_names_the_other_run_or_waits_for_it(tmp_path):
    warehouse = tmp_path / "wh.duckdb"
    holder = Holder(tmp_path, warehouse, "run")
    try:
        with pytest.raises(WarehouseLocked) as err:
            with warehouse_lock(warehouse, "second run", timeout_s=0.2, on_wait=lambda _m: None):
                pass
        assert f"PID {holder.proc.pid}" in str(err.value)
        assert "running: pdpipeline run of release 2026-04" in str(err.value)
        assert str(lock_path(warehouse)) in str(err.value)
        waited: list[str] = []
        with warehouse_lock(
            warehouse,
            "second run",
            timeout_s=120,
            on_wait=lambda m: (waited.append(m), holder.release()),
        ):
            assert '"purpose": "second run"' in lock_path(warehouse).read_text()
        assert len(waited) == 1
    finally:
        assert holder.finish() == 0


_RUN = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    import dagster as dg
    from pipelines.cli.runner import run_release
    from pipelines.settings import Settings
    path, wh = Path(sys.argv[1]), Path(sys.argv[2])
    settings = Settings(warehouse=wh, temp_dir=wh.parent / "tmp", duckdb_memory_limit="1GB",
                        reports_dir=wh.parent / "reports")
    outcome = run_release(path, settings, show_progress=False,
                          selection=dg.AssetSelection.groups("eoir_ingest", "staging")
                          - dg.AssetSelection.assets(["staging", "charges"]))
    print("OUTCOME", outcome.success, outcome.failed_steps, outcome.error)
    sys.exit(0 if outcome.success else 1)
    """
)


def test_two_pipeline_runs_on_one_warehouse_take_turns(tmp_path):
    """Two runs (pipelines.cli.runner, as `pdpipeline run` uses) at once on one warehouse."""
    (tmp_path / "a").mkdir()
    april = small_release(tmp_path / "a")
    may = next_release(april, tmp_path / "b", "EOIR Case Data 2026-0501", may_2026_edits())
    warehouse = tmp_path / "wh.duckdb"
    # Both runs start while a third process holds the run lock, so both must wait; then they
    # take turns, since each holds the lock for its whole run.
    holder = Holder(tmp_path, warehouse, "run")
    procs, logs = [], []
    for name, path in (("april", april), ("may", may)):
        log = tmp_path / f"{name}.log"
        logs.append(log)
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", _RUN, str(path), str(warehouse)],
                cwd=REPO_ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT,
            )
        )  # fmt: skip
    deadline = time.monotonic() + 120
    while not all("is locked by" in log.read_text() for log in logs):
        assert all(p.poll() is None for p in procs), [log.read_text() for log in logs]
        assert time.monotonic() < deadline, [log.read_text() for log in logs]
        time.sleep(0.1)
    assert holder.finish() == 0
    codes = [p.wait(timeout=300) for p in procs]
    outputs = [log.read_text() for log in logs]
    assert codes == [0, 0], outputs
    for out in outputs:
        # Each saw who held the warehouse; none failed on DuckDB's lock.
        assert "running: pdpipeline run of release 2026-04" in out
        assert "Could not set lock" not in out
    con = connect(Settings(warehouse=warehouse, temp_dir=tmp_path / "tmp"), read_only=True)
    try:
        audit = con.execute(
            "SELECT release_id, sum(lines_read), bool_and(reconciled) FROM raw.load_audit "
            "WHERE source_table = 'B_TblProceeding' GROUP BY 1 ORDER BY 1"
        ).fetchall()
        per_release = con.execute(
            "SELECT release_id, list(idnproceeding ORDER BY idnproceeding) "
            "FROM staging.proceedings GROUP BY 1 ORDER BY 1"
        ).fetchall()
    finally:
        con.close()
    assert audit == [("synthetic-2026-04", 4, True), ("synthetic-2026-05", 4, True)]
    assert per_release == [
        ("synthetic-2026-04", [10, 11, 12, 13]),
        ("synthetic-2026-05", [11, 12, 13, 14]),
    ]
