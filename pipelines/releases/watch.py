"""Watch data/raw/ for new FOIA releases and decide, tick by tick, which are ready to run.

Dagster-free: the sensor in `pipelines/sensors.py` calls `plan_tick` with its cursor and turns
the plan into run requests. A release is ready when

* its files are unchanged across two ticks (size and modification time of every file: a zip or
  folder still being copied or downloaded keeps changing), and
* `pipelines.releases.find.check_complete` accepts it: a zip whose central directory reads, or a
  folder, with a Count.txt whose tables are all present, and
* `check_whole` finds every byte in place: each zip member inflates with a good CRC (a
  preallocated zip from a segmented downloader has its central directory before its data), each
  folder table has the line count Count.txt gives (a copy that stalls half-way is short). That
  reads the whole release, so its result is cached by fingerprint (in the cursor and in
  `work_dir`) and costs once; a release bigger than `INLINE_BYTES` is checked by a background
  process while the ticks go on, each tick reporting it as being checked.

A stable release that fails the check is *broken*: it is reported once and then ignored until
its files change (a finished copy, a replaced zip), so a bad drop does not fail every tick.
One run is requested per (release id, fingerprint): replacing a release with a corrected file
requests a new run for the same partition; an unchanged one never runs twice.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

# `candidate_paths` walks raw_dir the way discover_releases does (hidden folders such as the
# downloader's `.download/` skipped); the watcher needs the paths before opening them, to look at
# their fingerprints first.
from pipelines.releases.find import FoundRelease, candidate_paths, check_complete, check_whole

# Releases up to this size are read through within the tick (a tick has about a minute); bigger
# ones (a real 4 GB zip inflates to 15-20 GB) in a background process.
INLINE_BYTES = 256 << 20


def fingerprint(path: Path) -> str:
    """A short hash of the names, sizes and modification times of a release's files.

    It changes while a copy is in progress and when a release is replaced; reading sizes and
    times only (never the 4 GB of content) keeps a tick cheap.
    """
    if path.is_file():
        st = path.stat()
        entries = [[path.name, st.st_size, st.st_mtime_ns]]
    else:
        entries = []
        for p in sorted(path.rglob("*")):
            if p.is_file():
                st = p.stat()
                entries.append([p.relative_to(path).as_posix(), st.st_size, st.st_mtime_ns])
    return hashlib.sha256(json.dumps(entries).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ReleaseRequest:
    release_id: str
    path: Path
    fingerprint: str

    @property
    def run_key(self) -> str:
        return f"{self.release_id}:{self.fingerprint}"


@dataclass
class WatchState:
    """What the sensor remembers between ticks (its cursor, as JSON).

    seen:    path -> fingerprint at the last tick (stable = same fingerprint twice in a row)
    handled: path -> [fingerprint, outcome, release id or problem]; a path whose fingerprint is
             unchanged since it was handled is skipped silently (requested, already in the
             warehouse, broken, or a duplicate of another path's release)
    """

    seen: dict[str, str] = field(default_factory=dict)
    handled: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_cursor(cls, cursor: str | None) -> WatchState:
        if not cursor:
            return cls()
        data = json.loads(cursor)
        return cls(seen=dict(data.get("seen", {})), handled=dict(data.get("handled", {})))

    def to_cursor(self) -> str:
        return json.dumps({"seen": self.seen, "handled": self.handled}, sort_keys=True)


@dataclass
class TickPlan:
    requests: list[ReleaseRequest]
    # Newly found broken releases: (path, problem). Each is reported on this tick only.
    broken: list[tuple[Path, str]]
    # Paths seen for the first time or still changing: not checked yet.
    settling: list[Path]
    # Complete releases skipped because the warehouse already holds them unchanged.
    already_materialized: list[str]
    cursor: str
    # Stable releases whose every byte is being read in the background (big releases).
    checking: list[Path] = field(default_factory=list)

    @property
    def skip_reason(self) -> str:
        parts = []
        if self.broken:
            parts.append(
                "not usable (reported once, ignored until the files change): "
                + "; ".join(f"{p}: {why}" for p, why in self.broken)
            )
        if self.settling:
            parts.append(
                "waiting for the files to stop changing: " + ", ".join(map(str, self.settling))
            )
        if self.checking:
            parts.append(
                "reading every table to check it is whole: " + ", ".join(map(str, self.checking))
            )
        if self.already_materialized:
            parts.append("already in the warehouse: " + ", ".join(self.already_materialized))
        return " | ".join(parts) or "no new complete release"


def release_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def whole_problem(
    path: Path, fp: str, work_dir: Path | None, inline_bytes: int | None = None
) -> str | None:
    """`check_whole` once per fingerprint: "" whole, a problem, or None while still checking."""
    if work_dir is None:
        return check_whole(path)
    result = work_dir / f"{fp}.json"
    if result.exists():
        try:
            return str(json.loads(result.read_text(encoding="utf-8"))["problem"])
        except (OSError, ValueError, KeyError):
            result.unlink(missing_ok=True)
    work_dir.mkdir(parents=True, exist_ok=True)
    if release_bytes(path) <= (INLINE_BYTES if inline_bytes is None else inline_bytes):
        problem = check_whole(path)
        _write_result(result, path, problem)
        return problem
    running = work_dir / f"{fp}.pid"
    if running.exists():
        try:
            pid = int(running.read_text())
            os.kill(pid, 0)
            return None  # still reading
        except (OSError, ValueError):
            pass  # its process is gone without a result (killed): start again
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipelines.releases.watch", str(path), str(result)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    running.write_text(str(proc.pid))
    return None


def _write_result(result: Path, path: Path, problem: str) -> None:
    tmp = result.with_suffix(".tmp")
    tmp.write_text(json.dumps({"path": str(path), "problem": problem}), encoding="utf-8")
    os.replace(tmp, result)


def plan_tick(
    raw_dir: Path,
    cursor: str | None,
    materialized: Callable[[], dict[str, str] | None] | None = None,
    work_dir: Path | None = None,
) -> TickPlan:
    """Look at raw_dir once and say which releases to run now.

    `materialized` returns {release id: fingerprint} of the releases the warehouse already holds
    complete (None when it cannot tell, e.g. the warehouse is busy); it is called only when a
    release is about to be requested, so a restarted Dagster instance with an empty cursor does not
    re-run a 4 GB release that the warehouse already has. `work_dir` keeps the results of
    `check_whole` by fingerprint (None: check within the tick, nothing kept).
    """
    state = WatchState.from_cursor(cursor)
    seen: dict[str, str] = {}
    requests: list[ReleaseRequest] = []
    broken: list[tuple[Path, str]] = []
    settling: list[Path] = []
    already: list[str] = []
    checking: list[Path] = []
    requested_ids = {h[2]: p for p, h in state.handled.items() if h[1] == "requested"}
    in_warehouse: dict[str, str] | None = None
    warehouse_asked = False

    for path in candidate_paths(raw_dir):
        key = str(path)
        fp = fingerprint(path)
        seen[key] = fp
        done = state.handled.get(key)
        if done and done[0] == fp:
            continue
        if state.seen.get(key) != fp:
            settling.append(path)
            continue
        found: FoundRelease = check_complete(path)
        if not found.complete:
            broken.append((path, found.problem))
            state.handled[key] = [fp, "broken", found.problem]
            continue
        rid = found.release_id
        other = requested_ids.get(rid)
        if other is not None and other != key and Path(other).exists():
            problem = f"release {rid} is already taken from {other}; remove one of the two copies"
            broken.append((path, problem))
            state.handled[key] = [fp, "duplicate", problem]
            continue
        if materialized is not None and not warehouse_asked:
            in_warehouse, warehouse_asked = materialized(), True
        if in_warehouse and in_warehouse.get(rid) == fp:
            # Read whole by the run that recorded it: no need to read it again.
            already.append(rid)
            state.handled[key] = [fp, "in_warehouse", rid]
            continue
        problem = whole_problem(path, fp, work_dir)
        if problem is None:
            checking.append(path)
            continue
        if problem:
            broken.append((path, problem))
            state.handled[key] = [fp, "broken", problem]
            continue
        requests.append(ReleaseRequest(rid, path, fp))
        requested_ids[rid] = key
        state.handled[key] = [fp, "requested", rid]

    # Forget paths that disappeared, so a release put back later is looked at again.
    state.handled = {k: v for k, v in state.handled.items() if k in seen}
    state.seen = seen
    # Oldest release first: runs are queued in this order, so each release's diff finds the
    # release before it complete.
    requests.sort(key=lambda r: r.release_id)
    return TickPlan(requests, broken, settling, already, state.to_cursor(), checking)


if __name__ == "__main__":
    # The background check: python -m pipelines.releases.watch <release path> <result file>
    _write_result(Path(sys.argv[2]), Path(sys.argv[1]), check_whole(Path(sys.argv[1])))
