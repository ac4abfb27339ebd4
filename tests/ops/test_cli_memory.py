"""Errors nobody foresaw, out of memory, and an address-space cap: one line each, no traceback.

A native library that cannot get memory may end the process itself (glibc's "cannot allocate
memory for thread-local data" exits 127; V8 traps), so a cap the run cannot live under is refused
before it starts; what Python can catch gets one line naming the settings to lower.
"""

from __future__ import annotations

import resource
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main as cli
from pipelines.settings import REPO_ROOT
from tests.eoir.conftest import small_release
from tests.ops.test_instance_race import _env


@pytest.fixture
def failing_run(monkeypatch, tmp_path):
    """`pdpipeline run` on a whole release, whose instance raises what the test gives."""
    (tmp_path / "raw").mkdir()
    release = small_release(tmp_path / "raw")
    for k, v in _env(tmp_path).items():
        monkeypatch.setenv(k, v)
    (tmp_path / "sys_tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "sys_tmp"))  # the traceback's file

    def run_raising(exc: BaseException) -> int:
        def boom(*_a, **_k):
            raise exc

        monkeypatch.setattr("pipelines.cli.runner.open_instance", boom)
        return cli.main(["run", "--release", str(release), "--quiet"])

    return run_raising


def test_an_unforeseen_error_is_one_line_with_the_traceback_in_a_file(failing_run, capsys):
    code = failing_run(sqlite3.OperationalError("table runs already exists\n[SQL: ...]"))
    err = capsys.readouterr().err
    assert code == 1
    (line,) = err.strip().splitlines()
    assert line.startswith(
        "error: unexpected failure (OperationalError: table runs already exists); "
        "please report it with the traceback in "
    ), line
    saved = Path(line.rsplit(" ", 1)[1])
    assert saved.parent == Path(tempfile.gettempdir())
    assert saved.read_text(encoding="utf-8").startswith("Traceback")
    assert "table runs already exists" in saved.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "exc",
    [
        MemoryError(),
        duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block"),
        RuntimeError("can't start new thread"),
    ],
    ids=["python", "duckdb", "thread"],
)
def test_out_of_memory_is_one_line_naming_the_settings_to_lower(failing_run, capsys, exc):
    code = failing_run(exc)
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().splitlines() == [f"error: {cli.OUT_OF_MEMORY}"]
    assert "PD_DUCKDB_MEMORY_LIMIT" in err and "PD_DUCKDB_THREADS" in err


def test_an_address_space_cap_the_charts_cannot_start_under_is_refused_first(tmp_path):
    (tmp_path / "raw").mkdir()
    release = small_release(tmp_path / "raw")
    cap = 1536 * 2**20

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    res = subprocess.run(
        [sys.executable, "-m", "pipelines.cli.main", "run", "--release", str(release), "--quiet"],
        cwd=REPO_ROOT, env=_env(tmp_path), preexec_fn=limit, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert res.returncode == 2, res.stderr[-2000:]
    (line,) = res.stderr.strip().splitlines()
    assert line.startswith("error: the address-space limit of this process (ulimit -v, 1,536 MB)")
    assert "PD_DUCKDB_MEMORY_LIMIT" in line
    # Refused before anything ran: no warehouse, no Dagster run.
    assert not (tmp_path / "derived" / "wh.duckdb").exists()
    assert not (tmp_path / "dagster_home").exists()


def test_no_cap_means_no_probe(monkeypatch):
    """Without a cap (the usual case) the check costs nothing: no child process is started."""
    monkeypatch.setattr(resource, "getrlimit", lambda _r: (resource.RLIM_INFINITY,) * 2)
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("probe started"))
    cli._check_address_space()


def test_a_step_out_of_memory_names_the_settings_with_duckdbs_message_as_cause():
    """Dagster hands the runner a step's error as its serialised chain (framework error outside)."""
    from dagster._utils.error import serializable_error_info_from_exc_info

    from pipelines.cli.runner import _out_of_memory, _root_message

    def step_error(inner: BaseException):
        try:
            try:
                raise inner
            except Exception as exc:
                raise RuntimeError(
                    "dagster._core.errors: Error occurred while executing op"
                ) from exc
        except Exception:
            return serializable_error_info_from_exc_info(sys.exc_info())

    oom = step_error(duckdb.OutOfMemoryException("Out of Memory Error: failed to allocate 256 KiB"))
    assert _out_of_memory(oom)
    assert "failed to allocate 256 KiB" in _root_message(oom)
    assert not _out_of_memory(step_error(ValueError("x.csv: line 3: bad date")))


def test_a_step_that_fills_the_disk_names_the_folder_it_was_writing_to():
    from dagster._utils.error import serializable_error_info_from_exc_info

    from pipelines.cli.runner import _disk_full

    try:
        raise OSError(28, "No space left on device", "/tmp/tmpab/appendix.pdf", None,
                      "/srv/reports/synthetic-2026-06/appendix.pdf")  # fmt: skip
    except OSError:
        err = serializable_error_info_from_exc_info(sys.exc_info())
    message = _disk_full(err)
    assert message.startswith(
        "no space left on the device holding /srv/reports/synthetic-2026-06: free space there"
    )
    assert "PD_REPORTS_DIR" in message and "Errno" not in message
