"""Watch data/raw/ for new FOIA releases and decide, tick by tick, which are ready to run.

Dagster-free: the sensor in `pipelines/sensors.py` calls `plan_tick` with its cursor and turns
the plan into run requests. A release is ready when

* its files are unchanged across two ticks (size and modification time of every file: a zip or
  folder still being copied or downloaded keeps changing), and
* `pipelines.releases.check_complete` accepts it: a zip whose central directory reads, or a
  folder, with a Count.txt whose tables are all present.

A stable release that fails the check is *broken*: it is reported once and then ignored until
its files change (a finished copy, a replaced zip), so a bad drop does not fail every tick.
One run is requested per (release id, fingerprint): replacing a release with a corrected file
requests a new run for the same partition; an unchanged one never runs twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

# `candidate_paths` walks raw_dir the way discover_releases does (hidden folders such as the
# downloader's `.download/` skipped); the watcher needs the paths before opening them, to look at
# their fingerprints first.
from pipelines.releases.find import FoundRelease, candidate_paths, check_complete


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
        if self.already_materialized:
            parts.append("already in the warehouse: " + ", ".join(self.already_materialized))
        return " | ".join(parts) or "no new complete release"


def plan_tick(
    raw_dir: Path,
    cursor: str | None,
    materialized: Callable[[], dict[str, str] | None] | None = None,
) -> TickPlan:
    """Look at raw_dir once and say which releases to run now.

    `materialized` returns {release id: fingerprint} of the releases the warehouse already holds
    complete (None when it cannot tell, e.g. the warehouse is busy); it is called only when a
    release is about to be requested, so a restarted Dagster instance with an empty cursor does not
    re-run a 4 GB release that the warehouse already has.
    """
    state = WatchState.from_cursor(cursor)
    seen: dict[str, str] = {}
    requests: list[ReleaseRequest] = []
    broken: list[tuple[Path, str]] = []
    settling: list[Path] = []
    already: list[str] = []
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
            already.append(rid)
            state.handled[key] = [fp, "in_warehouse", rid]
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
    return TickPlan(requests, broken, settling, already, state.to_cursor())
