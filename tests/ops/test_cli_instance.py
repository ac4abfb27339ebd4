"""`pdpipeline run` on the project's Dagster instance; a release that does not reconcile.

The command records its run where `dagster dev` looks (DAGSTER_HOME); a release whose tables do
not match Count.txt fails the run, in the CLI and in Dagster's run status, and is neither
recorded in marts.releases nor made latest.
"""

from __future__ import annotations

import contextlib
import io
import zipfile
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.cli.main import main
from pipelines.releases.latest import forget_release, record_complete, refresh_latest_views
from tests.eoir.conftest import small_release
from tests.ops.releases import drop, may_2026_edits, next_release


def with_count(src: Path, dst_dir: Path, table: str, rows: int) -> Path:
    """`src` with Count.txt giving `rows` for `table` (as if the table were half-copied)."""
    dst_dir.mkdir(parents=True, exist_ok=True)
    out = dst_dir / "EOIR Case Data.zip"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith("Count.txt"):
                lines = [
                    f"{table}\t{rows}" if line.split("\t")[0] == table else line
                    for line in data.decode().split("\r\n")
                    if line
                ]
                data = ("\r\n".join(lines) + "\r\n").encode()
            zout.writestr(info.filename, data)
    return out


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    mp = pytest.MonkeyPatch()
    home = root / "dagster_home"
    for k, v in {
        "DAGSTER_HOME": str(home),
        "PD_RAW_DIR": str(root / "raw"),
        "PD_WAREHOUSE": str(root / "derived" / "wh.duckdb"),
        "PD_REPORTS_DIR": str(root / "reports"),
        "PD_TEMP_DIR": str(root / "derived" / "tmp"),
        "PD_DUCKDB_MEMORY_LIMIT": "1GB",
    }.items():
        mp.setenv(k, v)
    (root / "raw" / "eoir" / "2026-04-01").mkdir(parents=True)
    april = small_release(root / "raw" / "eoir" / "2026-04-01")
    # May as EOIR would publish it, but one proceeding short of what its Count.txt says.
    may_whole = next_release(
        april, root / "whole_may", "EOIR Case Data 2026-0501", may_2026_edits()
    )
    with zipfile.ZipFile(may_whole) as zf:
        counted = next(n for n in zf.namelist() if n.endswith("Count.txt"))
        proceedings = dict(
            line.split("\t") for line in zf.read(counted).decode().split("\r\n") if line
        )["B_TblProceeding"]
    may = with_count(
        next_release(
            april,
            root / "short_may",
            "EOIR Case Data 2026-0501",
            {**may_2026_edits(), "B_TblProceeding": lambda r: drop(r, "IDNPROCEEDING", "13")},
        ),
        root / "raw" / "eoir" / "2026-05-01",
        "B_TblProceeding",
        int(proceedings),
    )
    results = {}
    for name, path in (("april", april), ("may", may)):
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            code = main(["run", "--release", str(path), "--quiet"])
        results[name] = code
        results[f"{name}_stderr"] = err.getvalue()
    yield root, home, results, int(proceedings)
    mp.undo()


def test_cli_run_is_recorded_in_the_project_instance(cli_runs, capsys):
    root, home, results, _ = cli_runs
    assert results["april"] == 0
    assert (home / "dagster.yaml").read_text() == (
        Path(__file__).resolve().parents[2] / "dagster.yaml"
    ).read_text()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert "synthetic-2026-04" in instance.get_dynamic_partitions("release")
        (run,) = instance.get_run_records(
            dg.RunsFilter(tags={"dagster/partition": "synthetic-2026-04"})
        )
        assert run.dagster_run.job_name == "materialize_release"
        assert run.dagster_run.status == dg.DagsterRunStatus.SUCCESS
        key = dg.AssetKey(["marts", "proceedings"])
        assert "synthetic-2026-04" in instance.get_materialized_partitions(key)
        (mat,) = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, asset_partitions=["synthetic-2026-04"]), limit=1
        ).records
        assert mat.asset_materialization.metadata["dagster/row_count"].value == 4
        # The ingest says where its time went, per phase, on the asset's metadata.
        (raw,) = instance.fetch_materializations(
            dg.AssetRecordsFilter(
                asset_key=dg.AssetKey(["raw", "A_TblCase"]), asset_partitions=["synthetic-2026-04"]
            ),
            limit=1,
        ).records
        meta = raw.asset_materialization.metadata
        phases = meta["phase_seconds"].value
        assert set(phases) == {"decode", "load", "classify", "finish"}
        assert abs(sum(phases.values()) - meta["seconds"].value) < 0.1
        # The check results are the run's, as the UI shows them on the asset's Checks tab.
        records = instance.get_records_for_run(
            run.dagster_run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
        ).records
        evaluations = {
            f"{e.asset_key.to_user_string()}:{e.check_name}": e.passed
            for e in (r.event_log_entry.dagster_event.event_specific_data for r in records)
        }
        assert len(evaluations) > 20
        assert evaluations["raw/A_TblCase:count_txt_reconciled"] is True
        assert evaluations["raw/B_TblProceeding:count_txt_reconciled"] is True


def test_a_release_that_does_not_reconcile_fails_and_is_not_latest(cli_runs):
    root, home, results, counted = cli_runs
    assert results["may"] == 1
    con = duckdb.connect(str(root / "derived" / "wh.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT release_id FROM marts.releases").fetchall() == [
            ("synthetic-2026-04",)
        ]
        assert con.execute("SELECT release_id FROM latest.release").fetchall() == [
            ("synthetic-2026-04",)
        ]
        # The short table was read as it is: the check saw one line fewer than Count.txt.
        assert con.execute(
            "SELECT count_txt_rows, lines_read, reconciled FROM raw.load_audit "
            "WHERE release_id = 'synthetic-2026-05' AND source_table = 'B_TblProceeding'"
        ).fetchall() == [(counted, counted - 1, False)]
    finally:
        con.close()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        (run,) = instance.get_run_records(
            dg.RunsFilter(tags={"dagster/partition": "synthetic-2026-05"})
        )
        assert run.dagster_run.status == dg.DagsterRunStatus.FAILURE


def test_the_cli_says_both_numbers_and_what_to_do(cli_runs):
    _root, _home, results, counted = cli_runs
    lines = [x for x in results["may_stderr"].splitlines() if x.strip()]
    (line,) = [x for x in lines if x.startswith("error")]
    assert "release synthetic-2026-05 is not complete" in line
    assert "raw/B_TblProceeding:count_txt_reconciled failed" in line
    assert f"count_txt_rows {counted}" in line and f"lines_read {counted - 1}" in line
    assert "not recorded in marts.releases" in line and "run again" in line
    assert "Error" not in line and "pipelines." not in line
    assert "Traceback" not in results["may_stderr"]


def test_forget_release_takes_a_failed_rerun_out_of_latest(tmp_path):
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    con.execute("CREATE SCHEMA marts")
    for rid, day in (("2026-04", "2026-04-01"), ("2026-05", "2026-05-01")):
        record_complete(
            con,
            rid,
            source_path=tmp_path,
            fingerprint="x",
            release_date=__import__("datetime").date.fromisoformat(day),
            synthetic=False,
        )
    assert refresh_latest_views(con).release_id == "2026-05"
    views = forget_release(con, "2026-05")
    assert views.release_id == "2026-04"
    assert con.execute("SELECT release_id FROM marts.releases").fetchall() == [("2026-04",)]
    assert forget_release(con, "2026-05") is None  # nothing to forget


def test_a_failed_dagster_run_takes_its_release_out_of_marts_releases(tmp_path):
    """The run-failure sensor: a failed run of a release that an earlier run had recorded."""
    from pipelines.resources import PipelineSettings, Warehouse
    from pipelines.sensors import FAILURE_SENSOR_NAME, failed_release_run
    from pipelines.warehouse.db import connect

    wh = tmp_path / "wh.duckdb"
    warehouse = Warehouse(path=str(wh), temp_dir=str(tmp_path / "tmp"))
    con = connect(warehouse.settings(PipelineSettings()))
    for rid, day in (("2026-04", "2026-04-01"), ("2026-05", "2026-05-01")):
        record_complete(
            con,
            rid,
            source_path=tmp_path,
            fingerprint="x",
            release_date=__import__("datetime").date.fromisoformat(day),
            synthetic=False,
        )
    refresh_latest_views(con)
    con.close()

    @dg.op
    def ingest():
        raise RuntimeError("Count.txt does not reconcile")

    @dg.job
    def release_run():
        ingest()

    with dg.instance_for_test() as instance:
        result = release_run.execute_in_process(
            instance=instance, raise_on_error=False, tags={"dagster/partition": "2026-05"}
        )
        ctx = dg.build_run_status_sensor_context(
            sensor_name=FAILURE_SENSOR_NAME,
            dagster_event=result.get_run_failure_event(),
            dagster_instance=instance,
            dagster_run=result.dagster_run,
            resources={"settings": PipelineSettings(), "warehouse": warehouse},
        ).for_run_failure()
        failed_release_run(ctx)
    con = duckdb.connect(str(wh), read_only=True)
    try:
        assert con.execute("SELECT release_id FROM marts.releases").fetchall() == [("2026-04",)]
        assert con.execute("SELECT release_id FROM latest.release").fetchall() == [("2026-04",)]
    finally:
        con.close()


def test_the_remedy_fits_the_check_that_failed():
    """A Count.txt mismatch asks for a fresh copy; a failed check on what the data gives (a
    model, the disclosure attack) must not send the user to copy the release again."""
    from pipelines.releases.latest import FailedCheck, incomplete_message

    files = incomplete_message(
        "2026-04", [FailedCheck("raw/A_TblCase:count_txt_reconciled", {"lines_read": 9})]
    )
    assert "copy or download the release again" in files
    data = incomplete_message(
        "2026-04", [FailedCheck("models/fit_diagnostics:separation_reported", {"problems": 1})]
    )
    assert "copy or download" not in data and "check's description" in data
