"""Every command that opens the warehouse waits for a run that holds it; folders it cannot write
are named in one line before it starts (the commands as a user runs them, in subprocesses)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.settings import REPO_ROOT
from tests.eoir.conftest import small_release
from tests.ops.test_lock import Holder

PDPIPELINE = str(Path(sys.executable).parent / "pdpipeline")


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DAGSTER_HOME": str(tmp_path / "home"),
        "PD_WAREHOUSE": str(tmp_path / "derived" / "wh.duckdb"),
        "PD_REPORTS_DIR": str(tmp_path / "reports"),
        "PD_TEMP_DIR": str(tmp_path / "derived" / "tmp"),
        "PD_DUCKDB_MEMORY_LIMIT": "1GB",
        **extra,
    }


def _empty_warehouse(tmp_path: Path) -> Path:
    wh = tmp_path / "derived" / "wh.duckdb"
    wh.parent.mkdir(parents=True, exist_ok=True)
    duckdb.connect(str(wh)).close()
    return wh


@pytest.mark.parametrize("mode", ["run", "duckdb"])
@pytest.mark.parametrize("command", [["export"], ["extract", "--formats", "csv"]])
def test_export_and_extract_wait_for_the_warehouse_like_run(tmp_path, mode, command):
    wh = _empty_warehouse(tmp_path)
    holder = Holder(tmp_path, wh, mode)  # a `pdpipeline run`, or a DuckDB writer (a Dagster step)
    log = tmp_path / "cli.log"
    proc = subprocess.Popen(
        [PDPIPELINE, *command, "--quiet"],
        cwd=REPO_ROOT,
        env=_env(tmp_path, PD_LOCK_TIMEOUT="120"),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while "waiting up to 120s" not in log.read_text():
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        holder.release()
        assert holder.finish() == 0
        code = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    out = log.read_text()
    # It waited, then went on to what the warehouse holds (no release yet: one line saying so).
    assert code == 2, out
    errors = [line for line in out.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "none" in errors[0], out
    assert "Traceback" not in out and "Could not set lock" not in out


def test_export_gives_up_after_the_lock_timeout_naming_the_run(tmp_path):
    wh = _empty_warehouse(tmp_path)
    holder = Holder(tmp_path, wh, "run")
    try:
        res = subprocess.run(
            [PDPIPELINE, "export", "--quiet"],
            cwd=REPO_ROOT,
            env=_env(tmp_path, PD_LOCK_TIMEOUT="1"),
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        holder.release()
        holder.finish()
    errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert res.returncode == 2 and len(errors) == 1, res.stderr
    assert "running: pdpipeline run of release 2026-04" in errors[0]
    assert "Traceback" not in res.stderr


def _read_only(folder: Path, cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run `cmd` with `folder` mounted read-only (a private mount namespace: even root is
    refused, as a user is on a read-only share)."""
    if shutil.which("unshare") is None:
        pytest.skip("needs util-linux `unshare` to mount a folder read-only for the test")
    script = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'
    return subprocess.run(
        ["unshare", "-rm", "sh", "-c", script, str(folder), *cmd],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _one_error_naming(res: subprocess.CompletedProcess, folder: Path) -> str:
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert res.returncode == 2, res.stderr
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith(f"error: folder {folder} is not writable"), lines[0]
    assert "Traceback" not in res.stderr and "Error:" not in res.stderr
    return lines[0]


def test_run_into_a_read_only_warehouse_folder_names_it(tmp_path):
    derived = tmp_path / "derived"
    derived.mkdir()
    release = small_release(tmp_path)
    res = _read_only(
        derived, [PDPIPELINE, "run", "--release", str(release), "--quiet"], _env(tmp_path)
    )
    line = _one_error_naming(res, derived)
    assert "the warehouse" in line


def test_run_into_a_read_only_reports_folder_names_it(tmp_path):
    reports = tmp_path / "reports"
    reports.mkdir()
    release = small_release(tmp_path)
    res = _read_only(
        reports, [PDPIPELINE, "run", "--release", str(release), "--quiet"], _env(tmp_path)
    )
    assert "the reports" in _one_error_naming(res, reports)
    assert not (tmp_path / "derived" / "wh.duckdb").exists()  # refused before anything ran


@pytest.mark.parametrize("command", [["export"], ["extract", "--formats", "csv"]])
def test_export_and_extract_into_a_read_only_reports_folder_name_it(tmp_path, command):
    _empty_warehouse(tmp_path)
    reports = tmp_path / "reports"
    reports.mkdir()
    res = _read_only(reports, [PDPIPELINE, *command, "--quiet"], _env(tmp_path))
    _one_error_naming(res, reports)


def test_export_from_a_read_only_warehouse_folder_still_reads_it(tmp_path):
    """Reading needs no write access: a warehouse on a read-only share can still be exported,
    once DuckDB's spill folder is elsewhere (before that, that folder is named)."""
    derived = tmp_path / "derived"
    _empty_warehouse(tmp_path)
    res = _read_only(derived, [PDPIPELINE, "export", "--quiet"], _env(tmp_path))
    assert "PD_TEMP_DIR" in _one_error_naming(res, derived)
    env = _env(tmp_path, PD_TEMP_DIR=str(tmp_path / "spill"))
    res = _read_only(derived, [PDPIPELINE, "export", "--quiet"], env)
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert res.returncode == 2 and len(lines) == 1, res.stderr
    assert "is not in" in lines[0] and "none" in lines[0]  # it opened the warehouse and looked


def test_ui_opens_dagster_dev_on_the_project_instance(monkeypatch, tmp_path):
    """`pdpipeline ui`: DAGSTER_HOME unset -> the project's .dagster_home, made with dagster.yaml."""
    from pipelines.cli import main as cli

    home = tmp_path / ".dagster_home"
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setattr(cli, "DAGSTER_HOME_DIR", home)
    calls = []
    monkeypatch.setattr(cli.os, "execv", lambda exe, args: calls.append(args))
    monkeypatch.setattr(cli.os, "chdir", lambda d: calls.append(["chdir", str(d)]))
    assert cli.main(["ui", "--port", "3111"]) == 0
    assert ["chdir", str(REPO_ROOT)] in calls
    (cmd,) = [c for c in calls if c[0] != "chdir"]
    assert cmd[1:] == ["-m", "dagster", "dev", "-h", "127.0.0.1", "-p", "3111"]
    assert os.environ["DAGSTER_HOME"] == str(home.resolve())
    assert (home / "dagster.yaml").read_text() == (REPO_ROOT / "dagster.yaml").read_text()
    # An exported DAGSTER_HOME wins, and keeps its own dagster.yaml.
    own = tmp_path / "own"
    own.mkdir()
    (own / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(own))
    assert cli.main(["ui"]) == 0
    assert os.environ["DAGSTER_HOME"] == str(own.resolve())
    assert (own / "dagster.yaml").read_text() == "telemetry:\n  enabled: false\n"
