"""Fault campaign: run SYNTHETIC releases through the real CLI with a fault injected, and check that
nothing of another release is lost and that a rerun recovers.

    .venv/bin/python scripts/fault_campaign.py [--cases NAME,...] [--cases-per-release N] [--list]

Setup (in a temp dir): two generated SYNTHETIC releases (`pipelines.sample.eoir`), A (1,500 cases,
a zip) and B (600 cases, an extracted folder, another release date), and a third, C, for the
concurrent case. A is run once into a baseline warehouse; every table of the schemas raw, staging,
marts and models is fingerprinted for A's rows (row count and an order-independent hash).

Each case copies the baseline warehouse into a folder of its own (private Dagster home, reports,
temp dir, raw dir), runs B (or the command the case names) with the fault injected, then checks:

  a. A's fingerprint is unchanged, table by table;
  b. a faulted command that failed on its own (not killed) printed at most a few lines on stderr,
     one starting with `error`, no "Traceback" and no `pipelines.` class path; and B is not in
     marts.releases and latest.release does not point at it;
  c. a rerun of B without the fault exits 0 and B is then in marts.releases (when the faulted run
     already completed B, that run is the proof and no rerun is made: "n/a");
  d. no temp files named after B remain in the temp dir after the rerun.

The cases (`--list` prints them):

  kill_*          kill -9 of the run's process group when the progress display shows the step
                  (raw lookups, staging cases/proceedings/charges, marts.proceedings, model cells,
                  pd_logit, reports, marts.releases); the row shows the step that was running.
  concurrent_*    two runs of B at once into one warehouse; B beside C; `export` during a run of B.
                  Both commands must exit 0 (one waits on the warehouse lock).
  full_*          disk full: a small tmpfs over the warehouse folder, the temp dir or the reports
                  folder (a private mount namespace, `unshare -rm`).
  mem_*           PD_DUCKDB_MEMORY_LIMIT=200MB; and an address-space cap (RLIMIT_AS) on the child,
                  which the CLI must refuse in one line before it starts (see AS_CAP_BYTES).
  ro_*            the warehouse, reports, temp or raw folder mounted read-only (as in
                  tests/ops/test_cli_errors.py).
  kill_export     kill -9 of `pdpipeline export` of A after 10 files; then no `.partial` file or
                  folder may stay after a clean export.
  count_wrong     B's Count.txt gives one more proceeding than the table holds.
  half_copied     B's proceedings table cut in half (as a copy stopped midway).

Reading the output: one row per case with its name, what was injected, the faulted command's exit
code (-9: killed), its first `error` line (truncated), whether A is intact, whether the rerun
recovered, and seconds; `FAIL` rows list every broken expectation below them. A case that cannot be
set up here (no `unshare`, no mount) is SKIPPED with the reason, never counted as passed. The exit
status is 1 if any case failed.

Measured on the project's 2-core machine while other test runs shared it (load 5-8): the setup
(three releases, a baseline run of A) took 48-157 s, a clean CLI run of B 60-80 s (Dagster's
per-step overhead, not the data), and a kill case 160-170 s (the killed run and a rerun). The
whole campaign, run as two halves side by side, did not end within 35 minutes there; on an idle
machine expect about 40 minutes in one process. `--cases` runs a subset.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import duckdb  # noqa: E402

from pipelines.sample import eoir_format as fmt  # noqa: E402
from pipelines.sample.eoir import write_sample_release  # noqa: E402

PDPIPELINE = str(Path(sys.executable).parent / "pdpipeline")
SCHEMAS = ("raw", "staging", "marts", "models")
RUN_TIMEOUT_S = 600
# The address-space cap for `mem_rlimit_as`, a tight `ulimit -v` as on a small host. No run fits
# under any such cap: the chart renderer's JavaScript engine (vl-convert 1.9's V8) reserves tens of
# GB of address space when it starts (it dies at a 64 GiB cap, starts at 80 GiB), and under 1.5 GB
# a DuckDB thread could not get its thread-local storage and glibc ended the process with status
# 127, its message going to the terminal, not stderr. So the case expects the CLI to refuse the cap
# up front, in one line naming `ulimit -v` (pipelines/cli/main.py).
AS_CAP_BYTES = 1536 * 2**20
# The nine steps at which `kill_*` cases kill the run (the progress display's step names).
KILL_STEPS = {
    "kill_raw_lookups": "raw__eoir_lookups",
    "kill_staging_cases": "staging__cases",
    "kill_staging_proceedings": "staging__proceedings",
    "kill_staging_charges": "staging__charges",
    "kill_marts_proceedings": "marts__proceedings",
    "kill_model_cells": "marts__model_cells_completions",
    "kill_pd_logit": "pd_logit",
    "kill_reports": "reports__release_report",
    "kill_marts_releases": "marts__releases",
}


# ---------------------------------------------------------------- domain-free helpers


@dataclass
class Proc:
    """One finished command: exit code, stderr, and a note (e.g. the step when killed)."""

    code: int
    stderr: str
    killed: bool = False
    note: str = ""


def start(cmd: list[str], env: dict[str, str], preexec=None) -> subprocess.Popen:
    return subprocess.Popen(
        cmd,
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, for kill -9 of the whole group
        preexec_fn=preexec,
    )


def finish(p: subprocess.Popen, timeout: float = RUN_TIMEOUT_S) -> Proc:
    try:
        _, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        _, err = p.communicate()
        return Proc(p.returncode, err.decode(errors="replace"), killed=True, note="timed out")
    return Proc(p.returncode, err.decode(errors="replace"))


def run(cmd: list[str], env: dict[str, str], preexec=None) -> Proc:
    return finish(start(cmd, env, preexec))


def kill_when(cmd: list[str], env: dict[str, str], trigger: Callable[[str], bool]) -> Proc:
    """Run `cmd`, reading its stderr; kill -9 its process group once `trigger(text)` holds for a
    piece of it (a progress-display frame or a line). Runs to the end if it never does."""
    p = start(cmd, env)
    chunks: list[bytes] = []
    seen = ""
    killed = False
    assert p.stderr is not None
    while True:
        data = p.stderr.read1(4096)
        if not data:
            break
        chunks.append(data)
        seen = (seen + data.decode(errors="replace"))[-4096:]
        if not killed and any(trigger(part) for part in re.split(r"[\r\n]", seen)):
            time.sleep(0.5)  # into the step, not on its boundary
            os.killpg(p.pid, signal.SIGKILL)
            killed = True
    p.wait()
    return Proc(p.returncode, b"".join(chunks).decode(errors="replace"), killed=killed)


def unshare_works() -> str | None:
    """None if a private mount namespace can be made here, else why not."""
    if shutil.which("unshare") is None:
        return "util-linux `unshare` is not installed"
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"],
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        return f"unshare/mount refused: {probe.stderr.strip()[:80]}"
    return None


def in_namespace(setup: str, folder: Path, cmd: list[str]) -> list[str]:
    """`cmd` in a private mount namespace after `setup` (sh, with the folder as $0)."""
    return ["unshare", "-rm", "sh", "-c", f'{setup} && exec "$@"', str(folder), *cmd]


READ_ONLY = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0"'


def tmpfs_over(size_kb: int, keep: bool) -> str:
    """Mount a tmpfs of `size_kb` over $0; with `keep`, its earlier content is copied in first
    (and `cmd` must copy it back out: the tmpfs vanishes with the namespace)."""
    if not keep:
        return f'mount -t tmpfs -o size={size_kb}k tmpfs "$0"'
    return (
        f'cp -a "$0" "$0.orig" && mount -t tmpfs -o size={size_kb}k tmpfs "$0" '
        '&& cp -a "$0.orig/." "$0/" && rm -rf "$0.orig"'
    )


def fingerprint(warehouse: Path, release_id: str) -> dict[str, tuple[int, int]]:
    """{schema.table: (rows, xor of row hashes)} of `release_id`'s rows in every table."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = con.execute(
            "SELECT t.table_schema || '.' || t.table_name FROM information_schema.tables t "
            "JOIN information_schema.columns c USING (table_catalog, table_schema, table_name) "
            "WHERE t.table_type = 'BASE TABLE' AND c.column_name = 'release_id' "
            f"AND t.table_schema IN {SCHEMAS} ORDER BY 1"
        ).fetchall()
        return {
            name: con.execute(
                f"SELECT count(*), coalesce(bit_xor(hash(t)), 0) FROM {name} t "
                "WHERE release_id = ?",
                [release_id],
            ).fetchone()
            for (name,) in tables
        }
    finally:
        con.close()


def fingerprint_diff(before: dict, after: dict) -> list[str]:
    out = []
    for name, fp in before.items():
        got = after.get(name, (0, 0) if fp[0] == 0 else None)
        if got != fp:
            out.append(f"{name}: {fp} -> {got}")
    out += [f"{n}: new table with {after[n][0]} rows" for n in after.keys() - before if after[n][0]]
    return out


def release_state(warehouse: Path, release_id: str) -> tuple[bool, str | None]:
    """(release in marts.releases, release_id latest.release points at)."""
    if not warehouse.exists():
        return False, None
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        listed = con.execute(
            "SELECT count(*) FROM marts.releases WHERE release_id = ?", [release_id]
        ).fetchone()[0]
        latest = con.execute('SELECT max(release_id) FROM latest."release"').fetchone()[0]
        return bool(listed), latest
    finally:
        con.close()


def stderr_problems(p: Proc) -> list[str]:
    """What breaks the one-line rule in a failed command's stderr."""
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    out = []
    if len(lines) > 4:
        out.append(f"{len(lines)} lines on stderr")
    if not any(ln.startswith("error") for ln in lines):
        out.append("no line starting with `error`")
    if "Traceback" in p.stderr:
        out.append("a Traceback")
    if re.search(r"\bpipelines\.[a-z_.]*[A-Z]\w*", p.stderr):
        out.append("a pipelines.* class path")
    return out


def first_error(p: Proc) -> str:
    for ln in p.stderr.splitlines():
        if ln.startswith("error"):
            return ln[:90]
    return p.note[:90]


# ---------------------------------------------------------------- the campaign


@dataclass
class World:
    root: Path
    a: Path  # release A (zip)
    b: Path  # release B (folder)
    c: Path  # release C (zip)
    a_id: str
    b_id: str
    c_id: str
    baseline: Path
    a_fp: dict


@dataclass
class Ctx:
    """One case's private folders and environment."""

    world: World
    root: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def warehouse(self) -> Path:
        return self.root / "derived" / "wh.duckdb"

    @property
    def temp(self) -> Path:
        return self.root / "derived" / "tmp"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    def run_b(self, release: Path | None = None) -> list[str]:
        return [PDPIPELINE, "run", "--release", str(release or self.world.b), "--quiet"]


def make_ctx(world: World, name: str) -> Ctx:
    root = world.root / "cases" / name
    (root / "derived" / "tmp").mkdir(parents=True)
    (root / "reports").mkdir()
    (root / "raw").mkdir()
    shutil.copyfile(world.baseline, root / "derived" / "wh.duckdb")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(root / "home"),
        "PD_WAREHOUSE": str(root / "derived" / "wh.duckdb"),
        "PD_REPORTS_DIR": str(root / "reports"),
        "PD_TEMP_DIR": str(root / "derived" / "tmp"),
        "PD_RAW_DIR": str(root / "raw"),
        "PD_DUCKDB_MEMORY_LIMIT": "1GB",
        "PD_LOCK_TIMEOUT": "900",
    }
    return Ctx(world, root, env)


def b_copy(ctx: Ctx) -> Path:
    """A private copy of release B's folder (to edit, or to mount read-only)."""
    target = ctx.root / "raw" / ctx.world.b.name
    shutil.copytree(ctx.world.b, target)
    return target


def member(release: Path, table: str) -> Path:
    return next(release.glob(f"**/{table}.csv"))


@dataclass
class Case:
    name: str
    injected: str
    fault: Callable[[Ctx], list[Proc]]
    # Commands that must succeed although the fault is there (concurrent runs).
    must_succeed: bool = False
    check: Callable[[Ctx, list[Proc]], list[str]] | None = None
    needs_namespace: bool = False


def _kill_case(name: str, step: str) -> Case:
    def fault(ctx: Ctx) -> list[Proc]:
        cmd = [PDPIPELINE, "run", "--release", str(ctx.world.b)]  # with the progress display
        p = kill_when(cmd, ctx.env, lambda part: part.startswith(f"{step}:"))
        p.note = f"killed in {step}" if p.killed else f"never reached {step}"
        return [p]

    return Case(name, f"kill -9 at {step}", fault)


def _concurrent_two_b(ctx: Ctx) -> list[Proc]:
    ps = [start(ctx.run_b(), ctx.env) for _ in range(2)]
    return [finish(p) for p in ps]


def _concurrent_b_c(ctx: Ctx) -> list[Proc]:
    ps = [start(ctx.run_b(), ctx.env), start(ctx.run_b(ctx.world.c), ctx.env)]
    return [finish(p) for p in ps]


def _check_c_complete(ctx: Ctx, procs: list[Proc]) -> list[str]:
    listed, _ = release_state(ctx.warehouse, ctx.world.c_id)
    return [] if listed else [f"C ({ctx.world.c_id}) not in marts.releases"]


def _export_during_run(ctx: Ctx) -> list[Proc]:
    run_p = start(ctx.run_b(), ctx.env)
    time.sleep(8)  # the run holds the warehouse by now
    export_p = start([PDPIPELINE, "export", "--release", ctx.world.a_id, "--quiet"], ctx.env)
    return [finish(run_p), finish(export_p)]


def _full(folder: Callable[[Ctx], Path], size_kb: Callable[[Ctx], int], keep: bool):
    def fault(ctx: Ctx) -> list[Proc]:
        target = folder(ctx)
        cmd = ctx.run_b()
        if keep:
            # The tmpfs vanishes with the namespace: copy what the run left back out.
            out = ctx.root / "after"
            script = (
                f'{tmpfs_over(size_kb(ctx), True)} && "$@"; rc=$?; cp -a "$0/." "{out}/"; exit $rc'
            )
            out.mkdir()
            p = run(["unshare", "-rm", "sh", "-c", script, str(target), *cmd], ctx.env)
            shutil.rmtree(target)
            shutil.copytree(out, target)
            return [p]
        return [run(in_namespace(tmpfs_over(size_kb(ctx), False), target, cmd), ctx.env)]

    return fault


def _read_only(folder: Callable[[Ctx], Path]):
    def fault(ctx: Ctx) -> list[Proc]:
        target = folder(ctx)
        release = b_copy(ctx) if target == ctx.root / "raw" else ctx.world.b
        return [run(in_namespace(READ_ONLY, target, ctx.run_b(release)), ctx.env)]

    return fault


def _mem_setting(ctx: Ctx) -> list[Proc]:
    return [run(ctx.run_b(), {**ctx.env, "PD_DUCKDB_MEMORY_LIMIT": "200MB"})]


def _mem_rlimit(ctx: Ctx) -> list[Proc]:
    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (AS_CAP_BYTES, AS_CAP_BYTES))

    return [run(ctx.run_b(), {**ctx.env, "PD_DUCKDB_MEMORY_LIMIT": "200MB"}, preexec=cap)]


def _check_cap_refused(ctx: Ctx, procs: list[Proc]) -> list[str]:
    p = procs[0]
    if p.code == 0:
        return ["the run under the cap exited 0"]
    return [] if "ulimit -v" in p.stderr else ["the error does not name `ulimit -v`"]


def _kill_export(ctx: Ctx) -> list[Proc]:
    cmd = [PDPIPELINE, "export", "--release", ctx.world.a_id]
    exported = ctx.reports / ctx.world.a_id

    def half_way(_part: str) -> bool:
        # Files appear in a staging folder in the release's, moved into place at the end.
        return sum(1 for p in ctx.reports.rglob("*") if p.is_file()) >= 10

    p = kill_when(cmd, ctx.env, half_way)
    p.note = "killed during export" if p.killed else "export ended before the kill"
    # What a reader finds meanwhile: whole files only (moved into place by rename).
    staged = exported / ".export.partial"
    whole = sum(1 for x in exported.rglob("*") if x.is_file() and staged not in x.parents)
    p.note += f"; {whole} files in place"
    return [p]


def _check_export_recovers(ctx: Ctx, procs: list[Proc]) -> list[str]:
    again = run([PDPIPELINE, "export", "--release", ctx.world.a_id, "--quiet"], ctx.env)
    out = [] if again.code == 0 else [f"clean export exited {again.code}: {first_error(again)}"]
    partial = [p.name for p in ctx.reports.rglob("*.partial")]
    return out + ([f"partial files left: {partial[:3]}"] if partial else [])


def _count_wrong(ctx: Ctx) -> list[Proc]:
    release = b_copy(ctx)
    count = release / fmt.COUNT_FILE
    text = count.read_text(encoding="utf-8")
    n = int(re.search(r"^B_TblProceeding\t(\d+)", text, re.M).group(1))
    count.write_text(text.replace(f"B_TblProceeding\t{n}", f"B_TblProceeding\t{n + 1}"), "utf-8")
    return [run(ctx.run_b(release), ctx.env)]


def _half_copied(ctx: Ctx) -> list[Proc]:
    release = b_copy(ctx)
    table = member(release, "B_TblProceeding")
    data = table.read_bytes()
    table.write_bytes(data[: len(data) // 2])
    return [run(ctx.run_b(release), ctx.env)]


def _expect_failure(ctx: Ctx, procs: list[Proc]) -> list[str]:
    return ["the faulted run exited 0 (B accepted)"] if procs[0].code == 0 else []


def _b_size_kb(ctx: Ctx) -> int:
    return max(64, member(ctx.world.b, "B_TblProceeding").stat().st_size // 1024 // 2)


def _wh_size_kb(ctx: Ctx) -> int:
    return ctx.world.baseline.stat().st_size // 1024 + 2048


CASES = [
    *(_kill_case(name, step) for name, step in KILL_STEPS.items()),
    Case("concurrent_two_b", "two runs of B at once, one warehouse", _concurrent_two_b, True),
    Case(
        "concurrent_b_c",
        "run of B beside a run of C",
        _concurrent_b_c,
        True,
        check=_check_c_complete,
    ),
    Case("concurrent_export", "export of A during a run of B", _export_during_run, True),
    Case(
        "full_warehouse",
        "tmpfs of warehouse size + 2 MB over the warehouse folder",
        _full(lambda c: c.warehouse.parent, _wh_size_kb, keep=True),
        needs_namespace=True,
    ),
    Case(
        "full_temp",
        "tmpfs of half B's proceedings table over PD_TEMP_DIR",
        _full(lambda c: c.temp, _b_size_kb, keep=False),
        needs_namespace=True,
    ),
    Case("mem_setting", "PD_DUCKDB_MEMORY_LIMIT=200MB", _mem_setting),
    Case(
        "mem_rlimit_as",
        f"RLIMIT_AS {AS_CAP_BYTES // 2**20} MB + DuckDB 200MB",
        _mem_rlimit,
        check=_check_cap_refused,
    ),
    Case(
        "ro_warehouse",
        "warehouse folder read-only",
        _read_only(lambda c: c.warehouse.parent),
        needs_namespace=True,
    ),
    Case(
        "ro_reports",
        "reports folder read-only",
        _read_only(lambda c: c.reports),
        needs_namespace=True,
    ),
    Case("ro_temp", "temp folder read-only", _read_only(lambda c: c.temp), needs_namespace=True),
    Case(
        "ro_raw",
        "raw folder (holding B) read-only",
        _read_only(lambda c: c.root / "raw"),
        needs_namespace=True,
    ),
    Case(
        "kill_export",
        "kill -9 of `export` of A after 10 files",
        _kill_export,
        check=_check_export_recovers,
    ),
    Case(
        "count_wrong",
        "Count.txt: one proceeding more than the table",
        _count_wrong,
        check=_expect_failure,
    ),
    Case(
        "half_copied",
        "B_TblProceeding.csv cut in half",
        _half_copied,
        check=_expect_failure,
    ),
    Case(
        "full_reports",
        "tmpfs of 256 kB over the reports folder",
        _full(lambda c: c.reports, lambda c: 256, keep=False),
        needs_namespace=True,
    ),
]


@dataclass
class Row:
    name: str
    injected: str
    code: str = ""
    error: str = ""
    a_intact: str = ""
    rerun: str = ""
    seconds: float = 0.0
    status: str = "ok"
    problems: list[str] = field(default_factory=list)


def run_case(
    world: World, case: Case, namespace_problem: str | None, stderr_dir: Path | None = None
) -> Row:
    row = Row(case.name, case.injected)
    if case.needs_namespace and namespace_problem:
        row.status, row.error = "SKIPPED", namespace_problem
        return row
    t0 = time.monotonic()
    ctx = make_ctx(world, case.name)
    procs = case.fault(ctx)
    if stderr_dir is not None:
        stderr_dir.mkdir(parents=True, exist_ok=True)
        for i, p in enumerate(procs, 1):
            (stderr_dir / f"{case.name}.{i}.stderr").write_text(p.stderr, encoding="utf-8")
    row.code = ",".join(str(p.code) for p in procs)
    row.error = next((first_error(p) for p in procs if p.code != 0), "")
    notes = [p.note for p in procs if p.note]
    if notes:
        row.injected += f" ({'; '.join(notes)})"
    problems: list[str] = []

    diff = fingerprint_diff(world.a_fp, fingerprint(ctx.warehouse, world.a_id))
    row.a_intact = "no" if diff else "yes"
    problems += [f"A changed: {d}" for d in diff[:5]]

    failed = [p for p in procs if p.code != 0]
    if case.must_succeed and failed:
        problems.append("a command that should have waited for the other failed")
    for p in failed:
        if not p.killed and (broken := stderr_problems(p)):
            last = next((ln for ln in reversed(p.stderr.splitlines()) if ln.strip()), "")
            problems += [f"stderr: {x}" for x in broken] + [f"stderr ends: {last[:160]}"]
    b_listed, latest = release_state(ctx.warehouse, world.b_id)
    faulted_run_ok = not failed and any(p.code == 0 for p in procs)
    # In a concurrent case the other command may have completed B: that is no failed run's doing.
    if failed and not case.must_succeed:
        if b_listed:
            problems.append("B is in marts.releases after a failed run")
        if latest == world.b_id:
            problems.append("latest.release points at B after a failed run")
    if case.check:
        problems += case.check(ctx, procs)

    if faulted_run_ok and b_listed:
        row.rerun = "n/a"
    else:
        again = run(ctx.run_b(), ctx.env)
        b_listed, _ = release_state(ctx.warehouse, world.b_id)
        row.rerun = "yes" if again.code == 0 and b_listed else "no"
        if row.rerun == "no":
            problems.append(f"rerun exited {again.code}: {first_error(again)}")
        diff = fingerprint_diff(world.a_fp, fingerprint(ctx.warehouse, world.a_id))
        if diff:
            row.a_intact = "no"
            problems += [f"A changed after the rerun: {d}" for d in diff[:5]]
    left = (
        [p.name for p in ctx.temp.rglob("*") if world.b_id in p.name] if ctx.temp.exists() else []
    )
    if left:
        problems.append(f"temp files of B left: {left[:3]}")

    row.seconds = time.monotonic() - t0
    row.problems = problems
    row.status = "FAIL" if problems else "ok"
    shutil.rmtree(ctx.root, ignore_errors=True)
    return row


def setup(root: Path, cases_a: int, cases_b: int) -> World:
    a = write_sample_release(root / "A", cases=cases_a, seed=11, quirks=False).path
    b = write_sample_release(
        root / "B", cases=cases_b, seed=22, release_date=date(2026, 6, 1), zip=False, quirks=False
    ).path
    c = write_sample_release(
        root / "C", cases=cases_b, seed=33, release_date=date(2026, 8, 1), quirks=False
    ).path
    ids = {k: f"synthetic-{d:%Y-%m}" for k, d in [("a", date(2026, 4, 1)), ("b", date(2026, 6, 1))]}
    ids["c"] = "synthetic-2026-08"
    base = make_ctx_dirs(root / "baseline")
    res = run([PDPIPELINE, "run", "--release", str(a), "--quiet"], base)
    if res.code != 0:
        sys.exit(f"error: the baseline run of A failed ({first_error(res)}); nothing to test")
    baseline = Path(base["PD_WAREHOUSE"])
    return World(
        root, a, b, c, ids["a"], ids["b"], ids["c"], baseline, fingerprint(baseline, ids["a"])
    )


def make_ctx_dirs(root: Path) -> dict[str, str]:
    (root / "derived").mkdir(parents=True)
    return {
        **os.environ,
        "DAGSTER_HOME": str(root / "home"),
        "PD_WAREHOUSE": str(root / "derived" / "wh.duckdb"),
        "PD_REPORTS_DIR": str(root / "reports"),
        "PD_TEMP_DIR": str(root / "derived" / "tmp"),
        "PD_RAW_DIR": str(root / "raw"),
        "PD_DUCKDB_MEMORY_LIMIT": "1GB",
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", help="comma-separated case names (default: all; --list names them)")
    ap.add_argument("--cases-per-release", type=int, default=600, help="size of B and C")
    ap.add_argument("--baseline-cases", type=int, default=1500, help="size of A")
    ap.add_argument("--list", action="store_true", help="print the cases and stop")
    ap.add_argument(
        "--stderr-dir", help="folder to keep every faulted command's whole stderr in (per case)"
    )
    args = ap.parse_args(argv)
    if args.list:
        for c in CASES:
            print(f"{c.name:26} {c.injected}")
        return 0
    chosen = CASES
    if args.cases:
        names = args.cases.split(",")
        unknown = sorted(set(names) - {c.name for c in CASES})
        if unknown:
            ap.error(f"unknown case(s) {', '.join(unknown)}; --list names them")
        chosen = [c for c in CASES if c.name in names]
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="pd-faults-") as tmp:
        print(f"setup: releases and a baseline run of A in {tmp}", file=sys.stderr, flush=True)
        world = setup(Path(tmp), args.baseline_cases, args.cases_per_release)
        print(
            f"setup: A={world.a_id} ({len(world.a_fp)} tables), B={world.b_id}, "
            f"C={world.c_id}; {time.monotonic() - t0:.0f}s",
            file=sys.stderr,
            flush=True,
        )
        namespace_problem = unshare_works()
        header = ("case", "injected", "exit", "first error line", "A intact", "rerun ok", "s")
        print(" | ".join(header + ("result",)), flush=True)
        rows = []
        for i, case in enumerate(chosen, 1):
            print(f"[{i}/{len(chosen)}] {case.name} ...", file=sys.stderr, flush=True)
            r = run_case(
                world, case, namespace_problem, Path(args.stderr_dir) if args.stderr_dir else None
            )
            rows.append(r)
            cells = (r.name, r.injected, r.code, r.error, r.a_intact, r.rerun, f"{r.seconds:.0f}")
            print(" | ".join((*cells, r.status)), flush=True)
            for p in r.problems:
                print(f"  {r.name}: {p}", flush=True)
    counts = {s: sum(r.status == s for r in rows) for s in ("ok", "FAIL", "SKIPPED")}
    print(
        f"summary: {len(rows)} cases: {counts['ok']} ok, {counts['FAIL']} failed, "
        f"{counts['SKIPPED']} skipped; {time.monotonic() - t0:.0f}s"
    )
    return 1 if counts["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
