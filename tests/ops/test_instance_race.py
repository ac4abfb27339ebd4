"""Commands started together on a fresh Dagster home.

Making a Dagster instance creates its SQLite storages on first use, unguarded, and adding a
release's partition is a check-then-insert: two `pdpipeline run` started at once on a fresh
DAGSTER_HOME (a new release) failed with a traceback ("table ... already exists", or a unique key
of `dynamic_partitions`). The children here import everything first and then start together on a
file signal, so the first steps of each really overlap.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.settings import REPO_ROOT
from tests.eoir.conftest import small_release

# Import, say "ready", wait for "go", then run `body` (the imports are the slow, variable part).
_CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    {imports}
    ready, go = Path(sys.argv[1]), Path(sys.argv[2])
    ready.write_text("x")
    while not go.exists():
        time.sleep(0.01)
    {body}
    """
)


def _start_together(tmp_path: Path, n: int, imports: str, body: str, env: dict) -> list:
    go = tmp_path / "go"
    go.unlink(missing_ok=True)
    script = _CHILD.format(imports=imports, body=body)
    procs, readies = [], []
    for i in range(n):
        ready = tmp_path / f"ready{i}"
        ready.unlink(missing_ok=True)
        readies.append(ready)
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", script, str(ready), str(go)],
                cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            )
        )  # fmt: skip
    deadline = time.monotonic() + 120
    while not all(r.exists() for r in readies):
        assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
        assert time.monotonic() < deadline
        time.sleep(0.05)
    go.write_text("x")
    return procs


def _env(root: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DAGSTER_HOME": str(root / "dagster_home"),  # not there yet: the first command makes it
        "PD_RAW_DIR": str(root / "raw"),
        "PD_WAREHOUSE": str(root / "derived" / "wh.duckdb"),
        "PD_REPORTS_DIR": str(root / "reports"),
        "PD_TEMP_DIR": str(root / "derived" / "tmp"),
        "PD_DUCKDB_MEMORY_LIMIT": "1GB",
    }


def test_first_use_of_a_fresh_dagster_home_by_several_commands_at_once(tmp_path):
    """What `pdpipeline run` does before it waits on the warehouse: open the instance, add the
    release's partition, look at its runs; four processes at once, twice (a fresh home each)."""
    for attempt in range(2):
        root = tmp_path / str(attempt)
        root.mkdir()
        procs = _start_together(
            root,
            4,
            "from pipelines.cli.main import dagster_home\n"
            "from pipelines.cli.runner import add_release_partition, open_instance, "
            "release_dead_cli_runs",
            "with open_instance(dagster_home(), 120) as instance:\n"
            "    add_release_partition(instance, 'release', 'synthetic-2026-06', 120)\n"
            "    release_dead_cli_runs(instance)",
            _env(root),
        )
        results = [(p.wait(timeout=300), p.communicate()[1].decode()) for p in procs]
        assert [code for code, _ in results] == [0] * 4, [err[-3000:] for _, err in results]
        with dg.DagsterInstance.from_config(str(root / "dagster_home")) as instance:
            assert instance.get_dynamic_partitions("release") == ["synthetic-2026-06"]


@pytest.mark.full  # two whole CLI runs in subprocesses, one after the other: about 3 minutes
def test_two_runs_at_once_on_a_fresh_dagster_home(tmp_path):
    """Two whole `pdpipeline run` of one release at once: the second waits its turn, both end 0,
    and neither prints a traceback."""
    (tmp_path / "raw").mkdir()
    release = small_release(tmp_path / "raw")
    procs = _start_together(
        tmp_path,
        2,
        "from pipelines.cli.main import main",
        f"sys.exit(main(['run', '--release', {str(release)!r}, '--quiet']))",
        _env(tmp_path),
    )
    results = [(p.wait(timeout=900), p.communicate()[1].decode()) for p in procs]
    assert [code for code, _ in results] == [0, 0], [err[-3000:] for _, err in results]
    for _, err in results:
        assert "Traceback" not in err, err[-3000:]
        # At most: the line saying it waited for the other run, and the checks with warnings.
        assert len(err.strip().splitlines()) <= 2, err
    with dg.DagsterInstance.from_config(str(tmp_path / "dagster_home")) as instance:
        runs = instance.get_run_records(dg.RunsFilter(job_name="materialize_release"))
        assert [r.dagster_run.status for r in runs] == [dg.DagsterRunStatus.SUCCESS] * 2
    con = duckdb.connect(str(tmp_path / "derived" / "wh.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT release_id FROM marts.releases").fetchall() == [
            ("synthetic-2026-04",)
        ]
    finally:
        con.close()
