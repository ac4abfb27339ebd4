"""The Dagster UI for real: `dagster dev` on a free localhost port, driven over GraphQL and
looked at in headless Chromium.

One server for the module (start-up costs ~15-30 s on 2 cores). The end-to-end test does what a
new user does: the README's first command (`pdpipeline run`) builds a release, then the UI is
opened on the same instance and must show that partition materialized with its metadata and
check results (GraphQL, and a Chromium screenshot of the asset's checks); the sensor, seeing the
release complete in the warehouse, registers it and does not run it again, and materializing the
partition by hand (the README's other way in) works. Then a second release is dropped into
data/raw/ and the sensor takes it from there, to a diff against the first.
"""

from __future__ import annotations

import json
import re
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
from pipelines.settings import REPO_ROOT
from tests.eoir.conftest import small_release
from tests.ops.dagster_ui import LOCATION, REPOSITORY, DagsterDev
from tests.ops.releases import may_2026_edits, next_release

SENSOR = "new_release_sensor"
JOB = "materialize_release"
CI_DEPS = "scripts/ci_system_deps.sh"


APRIL = "synthetic-2026-04"


@pytest.fixture(scope="module")
def dagster_dev(tmp_path_factory):
    server = DagsterDev(tmp_path_factory.mktemp("dagster_dev"))
    # The README's first command, before any UI: it makes the Dagster home itself.
    (server.raw_dir / "eoir" / "2026-04-01").mkdir(parents=True)
    server.april = small_release(server.raw_dir / "eoir" / "2026-04-01")
    server.cli = server.run_cli("run", "--release", str(server.april), "--quiet")
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


def test_asset_pages_show_the_cli_partition_and_its_checks(dagster_dev: DagsterDev, tmp_path):
    """What a new user sees after the README's first command, before anything else ran: the
    partition materialized by the CLI's run, with metadata, and each check's result."""
    server = dagster_dev
    assert server.cli.returncode == 0, server.cli.stderr[-3000:]
    (cli_run,) = server.runs_for_partition(APRIL)
    chrome = Chrome(server, tmp_path)
    page = f"/assets/marts/proceedings?view=partitions&partition={APRIL}"
    text = _visible_text(chrome(page, "--dump-dom").stdout)
    assert "Materialized (1)" in text and "Missing (0)" in text, text[-2000:]
    assert f"{APRIL} Materialized" in text
    assert cli_run["runId"][:8] in text and JOB in text  # the CLI's run, of the sensor's job
    assert "dagster/row_count 4" in text  # its metadata (four proceedings)
    chrome.screenshot(page, "asset_partition.png")
    page = "/assets/raw/B_TblProceeding?view=checks"
    text = _visible_text(chrome(page, "--dump-dom").stdout)
    assert "count_txt_reconciled Succeeded" in text
    assert "Evaluation result Passed" in text
    assert "count_txt_rows 4 lines_read 4" in text  # both numbers of the reconciliation
    chrome.screenshot(page, "asset_checks.png")


def _visible_text(dom: str) -> str:
    text = re.sub(r"<(style|script)\b.*?</\1>", " ", dom, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text))


def _assert_all_checks_ran(server: DagsterDev, run_id: str) -> None:
    """Every asset check of the graph ran in the run; the ERROR-severity ones passed."""
    evaluations = _check_evaluations(server, run_id)
    graph = defs.resolve_asset_graph()
    expected = {f"{k.asset_key.to_user_string()}:{k.name}" for k in graph.asset_check_keys}
    assert set(evaluations) == expected
    failed = {k: e for k, e in evaluations.items() if not e["success"]}
    assert [k for k, e in failed.items() if e["severity"] == "ERROR"] == []
    print(f"{len(evaluations)} checks ran; warnings: {sorted(failed)}")


def test_dagster_dev_end_to_end(dagster_dev: DagsterDev):
    server = dagster_dev
    assert server.cli.returncode == 0, server.cli.stderr[-3000:]
    assert (server.home / "dagster.yaml").read_bytes() == (REPO_ROOT / "dagster.yaml").read_bytes()

    # Phase 1: what the CLI built, the UI shows. Its run, of the sensor's job, succeeded...
    (cli_run,) = server.runs_for_partition(APRIL)
    assert cli_run["status"] == "SUCCESS" and cli_run["jobName"] == JOB
    _assert_all_checks_ran(server, cli_run["runId"])
    # ... the partition exists and is materialized, with its metadata ...
    assert APRIL in server.partition_keys(release_partitions.name)
    for path in (["raw", "A_TblCase"], ["marts", "proceedings"], ["marts", "releases"]):
        assert APRIL in server.materialized_partitions(path), path
    meta = server.materialization_metadata(["marts", "releases"], APRIL)
    assert meta["latest_release"] == APRIL
    # ... and each asset's checks show the result of that run's materialization.
    checks = server.asset_checks(["raw", "B_TblProceeding"])
    latest = checks["count_txt_reconciled"]["executionForLatestMaterialization"]
    assert latest["status"] == "SUCCEEDED" and latest["runId"] == cli_run["runId"]

    # The sensor sees the release complete in the warehouse: it does not run it again (its tick
    # says why), and the partition stays listed for a person to materialize.
    def seen_in_warehouse() -> bool:
        cursor = json.loads(server.sensor_cursor(SENSOR) or "{}")
        return [h[1:] for h in cursor.get("handled", {}).values()] == [["in_warehouse", APRIL]]

    deadline = time.monotonic() + 120
    while not seen_in_warehouse():
        assert time.monotonic() < deadline, (server.sensor_ticks(SENSOR), server.log_tail())
        time.sleep(2)
    assert len(server.runs_for_partition(APRIL)) == 1

    # The README's other way in: materialize the partition named after the release, by hand.
    client = DagsterGraphQLClient("127.0.0.1", port_number=server.port)
    run_id = client.submit_job_execution(
        JOB,
        repository_location_name=LOCATION,
        repository_name=REPOSITORY,
        tags={"dagster/partition": APRIL},
    )
    status = server.wait_for_run(run_id)
    assert status == "SUCCESS", _failure_text(server, run_id)
    _assert_all_checks_ran(server, run_id)

    # Phase 2, as after a monthly update: the next release is dropped into data/raw/ and the
    # sensor registers it and runs it; the April release, already complete in the warehouse, is
    # not run again.
    next_release(
        server.april,
        server.raw_dir / "eoir" / "2026-05-01",
        "EOIR Case Data 2026-0501",
        may_2026_edits(),
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
    assert len(server.runs_for_partition(APRIL)) == 2  # the CLI's and the one by hand

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


class Chrome:
    """Headless Chromium on a page of the UI: its DOM once rendered, or a screenshot."""

    FLAGS = (
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
    )

    def __init__(self, server: DagsterDev, tmp_path: Path):
        self.exe = _chromium()
        self.server = server
        self.tmp_path = tmp_path
        # The first visit from localhost shows a newsletter dialog over the page; mark it seen.
        server.gql("mutation { setNuxSeen }")

    def __call__(self, page: str, *args: str) -> subprocess.CompletedProcess:
        profile = self.tmp_path / f"profile{len(list(self.tmp_path.glob('profile*')))}"
        res = subprocess.run(
            [self.exe, *self.FLAGS, f"--user-data-dir={profile}", *args, self.server.url + page],
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert res.returncode == 0, res.stderr[-2000:]
        return res

    def screenshot(self, page: str, name: str) -> Path:
        shot = self.server.reports_dir / "ui" / name
        shot.parent.mkdir(parents=True, exist_ok=True)
        self(page, f"--screenshot={shot}")
        assert _png_size(shot) == (1600, 1000)
        # Keep a copy beside the test's own files, for a person to look at.
        shutil.copy(shot, self.tmp_path / name)
        print(f"screenshot: {shot}")
        return shot


def test_asset_graph_page_shows_every_group(dagster_dev: DagsterDev, tmp_path):
    chrome = Chrome(dagster_dev, tmp_path)
    dom = chrome("/asset-groups", "--dump-dom")
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
    chrome.screenshot("/asset-groups", "asset_graph.png")


def test_missing_chromium_fails_naming_the_install_script(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    with pytest.raises(pytest.fail.Exception, match=CI_DEPS):
        _chromium()
