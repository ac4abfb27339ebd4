"""Two writers on one warehouse: wait for the other, or fail naming it (Dagster-free).

DuckDB lets one process open a database file read-write, and no other process open it at all
meanwhile; a second `duckdb.connect` fails at once with "Could not set lock on file". The file
itself is never corrupted by that, but a run that fails on it half-way is a nuisance, and the
bare DuckDB message does not say what to do. So:

* `connect_waiting` opens the warehouse, and while another process holds it retries until a
  timeout, then raises `WarehouseLocked` naming the warehouse, the other process (PID and
  command line, from DuckDB's message and the process table) and what to do. Every asset opens
  the warehouse through it (`pipelines.resources.Warehouse.connect`).
* `warehouse_lock` is a lock file (`<warehouse>.lock`, an flock, so it dies with its holder) for
  a whole run of the pipeline: a second `pdpipeline run` waits for the first to finish instead of
  interleaving its assets with it, or fails after the timeout with the holder's description.
  `file_lock` is the same for any other file (the CLI guards the Dagster instance's first use).

Within the Dagster instance, runs are serialized by the `warehouse` concurrency pool
(dagster.yaml); these locks cover what the pool cannot see: the CLI, notebooks, a second
`dagster dev`.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import duckdb

from pipelines.settings import Settings
from pipelines.warehouse.db import connect

log = logging.getLogger(__name__)

# Seconds a writer waits for another one before giving up: the `lock_timeout` setting
# (PD_LOCK_TIMEOUT); callers pass `settings.lock_timeout`, this default is the setting's.
DEFAULT_LOCK_TIMEOUT_S = float(Settings.model_fields["lock_timeout"].default)
POLL_S = 0.5

_DUCKDB_HOLDER = re.compile(r"Conflicting lock is held in (.*?) \(PID (\d+)\)")


class WarehouseLocked(Exception):
    """The warehouse stayed in use by another process for longer than the timeout."""


def describe_process(pid: int) -> str:
    """`PID 123 (command line, started 12:00:01)`, as far as the process table tells."""
    try:
        import psutil

        p = psutil.Process(pid)
        # One line, whatever the command line holds (`python -c` scripts span several).
        cmd = " ".join(" ".join(p.cmdline()).split())[:200] or p.name()
        started = datetime.fromtimestamp(p.create_time()).isoformat(timespec="seconds")
        return f"PID {pid} ({cmd}; started {started})"
    except Exception:  # the process may have ended, or be invisible to this user
        return f"PID {pid}"


def _is_lock_conflict(exc: Exception) -> bool:
    return isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower()


def holder_of(exc: Exception, warehouse: Path) -> str:
    """Who holds the warehouse, from DuckDB's error message and the run lock file."""
    m = _DUCKDB_HOLDER.search(str(exc))
    who = describe_process(int(m.group(2))) if m else "another process"
    run = _read_holder(lock_path(warehouse))
    if run and m and str(run.get("pid")) == m.group(2):
        who += f", running: {run.get('purpose')}"
    return who


def connect_waiting(
    settings: Settings,
    read_only: bool = False,
    timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
    on_wait: Callable[[str], None] | None = None,
) -> duckdb.DuckDBPyConnection:
    """`pipelines.warehouse.connect`, waiting up to `timeout_s` while another process holds it.

    `on_wait` receives one message when the wait starts (default: a log warning).
    """
    deadline = time.monotonic() + timeout_s
    waited = False
    while True:
        try:
            return connect(settings, read_only=read_only)
        except duckdb.IOException as exc:
            if not _is_lock_conflict(exc):
                raise
            who = holder_of(exc, settings.warehouse)
            if time.monotonic() >= deadline:
                raise WarehouseLocked(
                    f"warehouse {settings.warehouse} is in use by {who}; waited {timeout_s:.0f}s. "
                    "DuckDB allows one writing process at a time: wait for that run to finish "
                    "(or stop it), then run again; PD_LOCK_TIMEOUT sets how long to wait."
                ) from exc
            if not waited:
                msg = (
                    f"warehouse {settings.warehouse} is in use by {who}; waiting up to "
                    f"{timeout_s:.0f}s for it"
                )
                (on_wait or log.warning)(msg)
                waited = True
            time.sleep(min(POLL_S, max(0.0, deadline - time.monotonic())))


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


def _read_holder(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}


@contextmanager
def warehouse_lock(
    warehouse: Path,
    purpose: str,
    timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold `<warehouse>.lock` for a whole run; wait for, or fail naming, the current holder."""
    with file_lock(lock_path(warehouse), f"warehouse {warehouse}", purpose, timeout_s, on_wait):
        yield


@contextmanager
def file_lock(
    path: Path,
    what: str,
    purpose: str,
    timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the lock file `path` (guarding `what`, e.g. "warehouse x.duckdb"); wait for, or fail
    naming, the current holder.

    The lock is an flock on the file, so it is released when its holder exits, even by a crash;
    the JSON inside only describes the holder for the message.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + timeout_s
    waited = False
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _read_holder(path)
                who = (
                    f"{describe_process(int(holder['pid']))}, running: {holder.get('purpose')}"
                    if holder.get("pid")
                    else "another process"
                )
                if time.monotonic() >= deadline:
                    raise WarehouseLocked(
                        f"{what} is locked by {who} (lock file {path}); waited "
                        f"{timeout_s:.0f}s. Wait for that run to finish or stop it, then run "
                        "again; PD_LOCK_TIMEOUT sets how long to wait."
                    ) from None
                if not waited:
                    msg = f"{what} is locked by {who}; waiting up to {timeout_s:.0f}s"
                    (on_wait or log.warning)(msg)
                    waited = True
                time.sleep(min(POLL_S, max(0.0, deadline - time.monotonic())))
        os.ftruncate(fd, 0)
        os.pwrite(
            fd,
            json.dumps(
                {
                    "pid": os.getpid(),
                    "purpose": purpose,
                    "command": " ".join(" ".join(sys.argv).split())[:200],
                    "since": datetime.now().isoformat(timespec="seconds"),
                }
            ).encode(),
            0,
        )
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
