"""The Dagster UI for real: `dagster dev` on a free localhost port, driven over GraphQL and
looked at in headless Chromium.

One server for the module (start-up costs ~15-30 s on 2 cores). The end-to-end test does what an
analyst does: a release is registered and materialized from the API, then a second release is
dropped into data/raw/ and the sensor takes it from there, to a diff against the first.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import time
from pathlib import Path

import duckdb
import pytest
from dagster_graphql import DagsterGraphQLClient

from pipelines.assets.common import release_partitions
from pipelines.definitions import defs
from tests.eoir.conftest import small_release
from tests.ops.dagster_ui import LOCATION, REPOSITORY, DagsterDev
from tests.ops.releases import may_2026_edits, next_release

SENSOR = "new_release_sensor"
JOB = "materialize_release"
CI_DEPS = "scripts/ci_system_deps.sh"


@pytest.fixture(scope="module")
def dagster_dev(tmp_path_factory):
    server = DagsterDev(tmp_path_factory.mktemp("dagster_dev"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


def _check_evaluations(server: DagsterDev, run_id: str) -> dict[str, dict]:
    out = {}
    for e in server.run_events(run_id):
        if e["__typename"] == "AssetCheckEvaluationEvent":
            ev = e["evaluation"]
            out[f"{'/'.join(ev['assetKey']['path'])}:{ev['checkName']}"] = ev
    return out


def _failure_text(server: DagsterDev, run_id: str) -> str:
    fails = [
        f"{e['stepKey']}: {e['error']['message'][:500]}"
        for e in server.run_events(run_id)
        if e["__typename"] == "ExecutionStepFailureEvent"
    ]
    return "\n".join(fails) or server.log_tail()


def test_dagster_dev_end_to_end(dagster_dev: DagsterDev):
    server = dagster_dev
    # Phase 1, through the API. The sensor is stopped first so that it does not start a run of
    # its own for the release this phase registers by hand.
    assert server.stop_sensor(SENSOR) == "STOPPED"
    (server.raw_dir / "eoir" / "2026-04-01").mkdir(parents=True)
    april = small_release(server.raw_dir / "eoir" / "2026-04-01")
    assert server.add_partition(release_partitions.name, "synthetic-2026-04") == (
        "AddDynamicPartitionSuccess"
    )
    client = DagsterGraphQLClient("127.0.0.1", port_number=server.port)
    run_id = client.submit_job_execution(
        JOB,
        repository_location_name=LOCATION,
        repository_name=REPOSITORY,
        tags={"dagster/partition": "synthetic-2026-04"},
    )
    status = server.wait_for_run(run_id)
    assert status == "SUCCESS", _failure_text(server, run_id)

    # Every asset check of the graph ran on this partition; the ERROR-severity ones passed.
    evaluations = _check_evaluations(server, run_id)
    graph = defs.resolve_asset_graph()
    expected = {f"{k.asset_key.to_user_string()}:{k.name}" for k in graph.asset_check_keys}
    assert set(evaluations) == expected
    failed = {k: e for k, e in evaluations.items() if not e["success"]}
    assert [k for k, e in failed.items() if e["severity"] == "ERROR"] == []
    print(f"{len(evaluations)} checks ran; warnings: {sorted(failed)}")

    # Phase 2, as after a monthly update: the next release is dropped into data/raw/ and the
    # sensor, started again, registers it and runs it; the April release, already complete in
    # the warehouse, is not run again.
    assert server.start_sensor(SENSOR) == "RUNNING"
    next_release(
        april, server.raw_dir / "eoir" / "2026-05-01", "EOIR Case Data 2026-0501", may_2026_edits()
    )
    deadline = time.monotonic() + 300
    while not (runs := server.runs_for_partition("synthetic-2026-05")) or runs[0]["status"] not in (
        "SUCCESS",
        "FAILURE",
        "CANCELED",
    ):
        assert time.monotonic() < deadline, server.log_tail()
        time.sleep(2)
    (run,) = runs
    assert run["status"] == "SUCCESS", _failure_text(server, run["runId"])
    tags = {t["key"]: t["value"] for t in run["tags"]}
    assert tags["dagster/sensor_name"] == SENSOR and run["jobName"] == JOB
    assert len(server.runs_for_partition("synthetic-2026-04")) == 1

    meta = server.materialization_metadata(["marts", "release_diff"], "synthetic-2026-05")
    assert "compared with **synthetic-2026-04**" in meta["summary"]
    assert "(1 added, 1 removed)" in meta["summary"]
    latest = server.materialization_metadata(["marts", "releases"], "synthetic-2026-05")
    assert latest["latest_release"] == "synthetic-2026-05"
    # Each release has its own reports folder; the second did not overwrite the first.
    for rid in ("synthetic-2026-04", "synthetic-2026-05"):
        assert any((server.reports_dir / rid).iterdir()), f"no reports for {rid}"
    # The server is idle now: the warehouse can be read.
    con = duckdb.connect(str(server.warehouse), read_only=True)
    try:
        assert con.execute("SELECT release_id FROM latest.release").fetchall() == [
            ("synthetic-2026-05",)
        ]
        assert con.execute(
            "SELECT previous_release_id, current_value FROM marts.release_diff "
            "WHERE release_id = 'synthetic-2026-05' AND item = 'pd_status_changed'"
        ).fetchall() == [("synthetic-2026-04", 1)]
    finally:
        con.close()

    # The instance runs with the repository's concurrency settings.
    inst = server.gql(
        "{ instance { poolConfig { poolGranularity defaultPoolLimit } "
        "runQueueConfig { maxConcurrentRuns tagConcurrencyLimitsYaml } } }"
    )["instance"]
    assert inst["poolConfig"] == {"poolGranularity": "op", "defaultPoolLimit": 1}
    assert inst["runQueueConfig"]["maxConcurrentRuns"] == 2
    limits = inst["runQueueConfig"]["tagConcurrencyLimitsYaml"]
    assert "key: pd/run_kind" in limits and "value: release" in limits
    # Release runs carry the tag that limit applies to.
    assert tags["pd/run_kind"] == "release"


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail(
        f"headless Chromium is not installed: run `bash {CI_DEPS}` (it installs Debian's "
        "chromium package) and run the tests again"
    )


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


def test_asset_graph_page_shows_every_group(dagster_dev: DagsterDev, tmp_path):
    chromium = _chromium()
    server = dagster_dev
    # The first visit from localhost shows a newsletter dialog over the graph; mark it seen.
    server.gql("mutation { setNuxSeen }")
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--window-size=1600,1000",
        # Let the single-page app fetch its data and render before the DOM is taken.
        "--virtual-time-budget=30000",
    ]
    page = f"{server.url}/asset-groups"

    def chrome(*args: str) -> subprocess.CompletedProcess:
        profile = tmp_path / f"profile{len(list(tmp_path.glob('profile*')))}"
        return subprocess.run(
            [chromium, *flags, f"--user-data-dir={profile}", *args, page],
            capture_output=True,
            text=True,
            timeout=180,
        )

    dom = chrome("--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    groups = sorted({spec.group_name for spec in defs.resolve_all_asset_specs()})
    assert {"eoir_ingest", "staging", "closures", "reports"} <= set(groups)
    # Each group is listed in the sidebar (title=) and drawn as a box in the graph (tooltip).
    missing = [
        g
        for g in groups
        if f'title="{g}"' not in dom.stdout or f'data-tooltip="{g}"' not in dom.stdout
    ]
    assert missing == [], f"groups not shown: {missing}"
    assert "Global asset lineage" in dom.stdout

    shot = server.reports_dir / "ui" / "asset_graph.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    res = chrome(f"--screenshot={shot}")
    assert res.returncode == 0, res.stderr[-2000:]
    assert _png_size(shot) == (1600, 1000)
    # Keep a copy beside the test's own files, for a person to look at.
    shutil.copy(shot, tmp_path / "asset_graph.png")
    print(f"screenshot: {shot}")


def test_missing_chromium_fails_naming_the_install_script(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    with pytest.raises(pytest.fail.Exception, match=CI_DEPS):
        _chromium()
