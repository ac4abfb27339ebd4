"""The release sensor's decisions, tick by tick, on real-format drops written by the tests."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import dagster as dg

from pipelines.definitions import defs
from pipelines.releases.watch import fingerprint, plan_tick
from pipelines.resources import PipelineSettings, Warehouse
from pipelines.sensors import SENSOR_NAME
from tests.eoir.conftest import small_release
from tests.ops.releases import may_2026_edits, next_release


def _ticks(raw: Path, n: int, cursor: str | None = None, **kw):
    plans = []
    for _ in range(n):
        plan = plan_tick(raw, cursor, **kw)
        cursor = plan.cursor
        plans.append(plan)
    return plans


def test_complete_zip_runs_once_after_two_unchanged_ticks(tmp_path):
    raw = tmp_path / "raw"
    (raw / "eoir" / "2026-04").mkdir(parents=True)
    zip_path = small_release(raw / "eoir" / "2026-04")
    first, second, third = _ticks(raw, 3)
    assert first.requests == [] and first.settling == [zip_path]
    assert [(r.release_id, r.path) for r in second.requests] == [("synthetic-2026-04", zip_path)]
    assert second.requests[0].run_key == f"synthetic-2026-04:{fingerprint(zip_path)}"
    # One run per release: later ticks are silent while the file is unchanged.
    assert third.requests == [] and third.broken == [] and third.settling == []
    assert third.skip_reason == "no new complete release"


def test_half_copied_zip_never_runs_and_is_reported_once(tmp_path):
    src = small_release(tmp_path)
    data = src.read_bytes()
    raw = tmp_path / "raw"
    dest = raw / "eoir" / "2026-04" / "EOIR Case Data.zip"
    dest.parent.mkdir(parents=True)
    # The copy is in progress: the file grows between ticks, so it is never even opened.
    dest.write_bytes(data[: len(data) // 3])
    plan = plan_tick(raw, None)
    for cut in (len(data) // 2, 2 * len(data) // 3):
        with open(dest, "ab") as f:
            f.write(data[os.path.getsize(dest) : cut])
        plan = plan_tick(raw, plan.cursor)
        assert plan.requests == [] and plan.settling == [dest] and plan.broken == []
    # The copy stalls: unchanged for a tick, but the zip's central directory is missing.
    plan = plan_tick(raw, plan.cursor)
    assert plan.requests == []
    assert [p for p, _ in plan.broken] == [dest]
    assert "not a readable zip" in plan.broken[0][1]
    assert "not usable" in plan.skip_reason
    # Reported once, not on every tick.
    for _ in range(2):
        plan = plan_tick(raw, plan.cursor)
        assert plan.broken == [] and plan.requests == []
    # The copy finishes: the release runs once it has been stable for a tick.
    with open(dest, "ab") as f:
        f.write(data[os.path.getsize(dest) :])
    plan = plan_tick(raw, plan.cursor)
    assert plan.requests == [] and plan.settling == [dest]
    plan = plan_tick(raw, plan.cursor)
    assert [r.release_id for r in plan.requests] == ["synthetic-2026-04"]


def test_folder_release_waits_for_every_table_in_count_txt(tmp_path):
    raw = tmp_path / "raw"
    folder = small_release(raw, as_zip=False)
    charges = next(folder.rglob("B_TblProceedCharges.csv"))
    held_back = tmp_path / "held_back.csv"
    shutil.move(charges, held_back)
    plans = _ticks(raw, 3)
    assert plans[1].requests == []
    assert [p for p, _ in plans[1].broken] == [folder]
    assert "not present: b_tblproceedcharges" in plans[1].broken[0][1].lower()
    assert plans[2].broken == []
    shutil.move(held_back, charges)
    later = _ticks(raw, 2, plans[-1].cursor)
    assert later[0].requests == []
    assert [(r.release_id, r.path) for r in later[1].requests] == [("synthetic-2026-04", folder)]


def test_replaced_release_runs_again_with_a_new_run_key(tmp_path):
    raw = tmp_path / "raw"
    (raw / "a").mkdir(parents=True)
    path = small_release(raw / "a")
    plans = _ticks(raw, 2)
    first_key = plans[1].requests[0].run_key
    # EOIR republishes a corrected zip under the same release date.
    corrected = next_release(path, tmp_path / "fix", "EOIR Case Data 2026-0401", may_2026_edits())
    os.replace(corrected, path)
    later = _ticks(raw, 2, plans[-1].cursor)
    assert later[0].requests == []
    assert [r.release_id for r in later[1].requests] == ["synthetic-2026-04"]
    assert later[1].requests[0].run_key != first_key


def test_second_release_dropped_later_runs_alone(tmp_path):
    raw = tmp_path / "raw"
    (raw / "eoir" / "a").mkdir(parents=True)
    april = small_release(raw / "eoir" / "a")
    plans = _ticks(raw, 3)
    may = next_release(april, raw / "eoir" / "b", "EOIR Case Data 2026-0501", may_2026_edits())
    later = _ticks(raw, 2, plans[-1].cursor)
    assert later[0].settling == [may]
    assert [(r.release_id, r.path) for r in later[1].requests] == [("synthetic-2026-05", may)]


def test_releases_dropped_together_are_requested_oldest_first(tmp_path):
    raw = tmp_path / "raw"
    (raw / "z_first_copied").mkdir(parents=True)
    april = small_release(raw / "z_first_copied")
    next_release(april, raw / "a_second", "EOIR Case Data 2026-0501", may_2026_edits())
    plans = _ticks(raw, 2)
    # Path order is the other way round; runs are queued in release order, so May's diff
    # runs after April is complete (dagster.yaml: one release run at a time, FIFO).
    assert [r.release_id for r in plans[1].requests] == ["synthetic-2026-04", "synthetic-2026-05"]


def test_release_already_in_the_warehouse_is_not_run_again(tmp_path):
    raw = tmp_path / "raw"
    (raw / "a").mkdir(parents=True)
    path = small_release(raw / "a")
    asked = []

    def materialized():
        asked.append(1)
        return {"synthetic-2026-04": fingerprint(path)}

    plans = _ticks(raw, 3, materialized=materialized)
    assert all(p.requests == [] for p in plans)
    assert plans[1].already_materialized == ["synthetic-2026-04"]
    assert len(asked) == 1  # asked only when a release was about to be requested
    # Unknown (warehouse busy): the release is requested; its run key prevents a duplicate run.
    fresh = _ticks(raw, 2, materialized=lambda: None)
    assert [r.release_id for r in fresh[1].requests] == ["synthetic-2026-04"]


def test_same_release_in_two_places_runs_once_and_the_copy_is_reported(tmp_path):
    raw = tmp_path / "raw"
    (raw / "a").mkdir(parents=True)
    zip_path = small_release(raw / "a")
    plans = _ticks(raw, 2)
    assert len(plans[1].requests) == 1
    copy_dir = raw / "b"
    copy_dir.mkdir()
    shutil.copy2(zip_path, copy_dir / "EOIR Case Data.zip")
    later = _ticks(raw, 3, plans[-1].cursor)
    assert all(p.requests == [] for p in later)
    assert [p for p, _ in later[1].broken] == [copy_dir / "EOIR Case Data.zip"]
    assert "already taken from" in later[1].broken[0][1]


def test_dagster_sensor_registers_the_partition_and_requests_one_run(tmp_path):
    raw = tmp_path / "raw"
    (raw / "eoir" / "2026-04").mkdir(parents=True)
    zip_path = small_release(raw / "eoir" / "2026-04")
    resources = {
        "settings": PipelineSettings(raw_dir=str(raw)),
        "warehouse": Warehouse(path=str(tmp_path / "wh.duckdb"), temp_dir=str(tmp_path / "tmp")),
    }
    new_release_sensor = defs.get_sensor_def(SENSOR_NAME)
    with dg.instance_for_test() as instance:
        ctx = dg.build_sensor_context(instance=instance, resources=resources)
        first = new_release_sensor(ctx)
        assert first.run_requests == [] or first.run_requests is None
        assert "waiting for the files to stop changing" in first.skip_reason.skip_message
        ctx = dg.build_sensor_context(instance=instance, resources=resources, cursor=first.cursor)
        second = new_release_sensor(ctx)
    (request,) = second.run_requests
    assert request.partition_key == "synthetic-2026-04"
    assert request.run_key == f"synthetic-2026-04:{fingerprint(zip_path)}"
    (add,) = second.dynamic_partitions_requests
    assert add.partitions_def_name == "release" and list(add.partition_keys) == [
        "synthetic-2026-04"
    ]
    # The run config the sensor sends is valid for the job it targets.
    job = defs.resolve_job_def("materialize_release")
    assert dg.validate_run_config(job, request.run_config)["resources"]["settings"]["config"][
        "release_path"
    ] == str(zip_path)
