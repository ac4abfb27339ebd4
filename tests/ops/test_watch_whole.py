"""The sensor waits for a whole release: every table's bytes, not only its name.

Two drops that look complete from their names and sizes: a folder copy that stalls with its
proceedings table half written, and a zip preallocated by a segmented downloader (central
directory first, member data not yet there). Neither may start a run; each runs once whole.
The whole-file read costs once per fingerprint.
"""

from __future__ import annotations

import json
import time
import zipfile
from pathlib import Path

import dagster as dg

from pipelines.definitions import defs
from pipelines.releases import watch
from pipelines.releases.find import check_whole
from pipelines.releases.watch import fingerprint, plan_tick
from pipelines.resources import PipelineSettings, Warehouse
from pipelines.sensors import SENSOR_NAME
from tests.eoir.conftest import small_release


def _ticks(raw: Path, n: int, cursor: str | None = None, **kw):
    plans = []
    for _ in range(n):
        plan = plan_tick(raw, cursor, **kw)
        cursor = plan.cursor
        plans.append(plan)
    return plans


def _half_copied_folder(raw: Path) -> tuple[Path, Path, bytes]:
    folder = small_release(raw, as_zip=False)
    table = next(folder.rglob("B_TblProceeding.csv"))
    whole = table.read_bytes()
    lines = whole.split(b"\r\n")
    table.write_bytes(b"\r\n".join(lines[:3]) + b"\r\n")  # header + 2 of 4 rows, then stalls
    return folder, table, whole


def test_folder_with_a_half_copied_table_waits_until_it_is_whole(tmp_path):
    raw = tmp_path / "raw"
    folder, table, whole = _half_copied_folder(raw)
    plans = _ticks(raw, 3, work_dir=tmp_path / "checks")
    # Unchanged for a tick, every table present: but the proceedings are 2 lines of Count.txt's 4.
    assert all(p.requests == [] for p in plans)
    (broken,) = plans[1].broken
    assert broken[0] == folder
    assert "B_TblProceeding.csv: 2 lines but Count.txt gives 4" in broken[1]
    assert plans[2].broken == []  # reported once
    table.write_bytes(whole)  # the copy resumes and finishes
    later = _ticks(raw, 3, plans[-1].cursor, work_dir=tmp_path / "checks")
    assert later[0].requests == [] and later[0].settling == [folder]
    assert [r.release_id for r in later[1].requests] == ["synthetic-2026-04"]
    assert later[2].requests == []


def _preallocated(src: Path, dst: Path) -> Path:
    """`src` as a segmented downloader leaves it: central directory in place, tables' data zero."""
    data = bytearray(src.read_bytes())
    with zipfile.ZipFile(src) as zf:
        for info in zf.infolist():
            if not info.filename.endswith(".csv"):
                continue  # Count.txt and the marker arrived already
            with open(src, "rb") as fh:
                fh.seek(info.header_offset + 26)
                name_len, extra_len = (int.from_bytes(fh.read(2), "little") for _ in range(2))
            start = info.header_offset + 30 + name_len + extra_len
            data[start : start + info.compress_size] = bytes(info.compress_size)
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(bytes(data))
    return dst


def test_preallocated_zip_with_a_readable_central_directory_never_runs(tmp_path):
    good = small_release(tmp_path)
    raw = tmp_path / "raw"
    dest = _preallocated(good, raw / "eoir" / "2026-04-01" / "EOIR Case Data.zip")
    with zipfile.ZipFile(dest) as zf:  # looks complete from the outside
        assert any(n.endswith("B_TblProceedCharges.csv") for n in zf.namelist())
    plans = _ticks(raw, 3)
    assert all(p.requests == [] for p in plans)
    (broken,) = plans[1].broken
    assert "cannot be read" in broken[1] and ".csv" in broken[1]
    # The segments arrive: the same size, now the real bytes.
    dest.write_bytes(good.read_bytes())
    later = _ticks(raw, 2, plans[-1].cursor)
    assert [r.release_id for r in later[1].requests] == ["synthetic-2026-04"]
    assert check_whole(dest) == ""


def test_whole_check_costs_once_per_fingerprint(tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    (raw / "a").mkdir(parents=True)
    path = small_release(raw / "a")
    calls = []
    real = watch.check_whole
    monkeypatch.setattr(watch, "check_whole", lambda p: calls.append(p) or real(p))
    work = tmp_path / "checks"
    first = _ticks(raw, 3, work_dir=work)
    assert [r.release_id for r in first[1].requests] == ["synthetic-2026-04"]
    # A restarted instance (empty cursor) asks again, but the file's check is remembered.
    again = _ticks(raw, 2, work_dir=work)
    assert [r.run_key for r in again[1].requests] == [first[1].requests[0].run_key]
    assert calls == [path]
    result = json.loads((work / f"{fingerprint(path)}.json").read_text())
    assert result == {"path": str(path), "problem": ""}


def test_big_release_is_read_in_the_background_while_ticks_go_on(tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    (raw / "a").mkdir(parents=True)
    small_release(raw / "a")
    monkeypatch.setattr(watch, "INLINE_BYTES", 0)  # every release counts as big here
    work = tmp_path / "checks"
    plans = _ticks(raw, 2, work_dir=work)
    assert plans[1].requests == [] and plans[1].checking == [raw / "a" / "EOIR Case Data.zip"]
    assert "reading every table to check it is whole" in plans[1].skip_reason
    cursor, deadline = plans[-1].cursor, time.monotonic() + 60
    while True:
        plan = plan_tick(raw, cursor, work_dir=work)
        cursor = plan.cursor
        if plan.requests or time.monotonic() > deadline:
            break
        assert plan.checking, plan
        time.sleep(0.5)
    assert [r.release_id for r in plan.requests] == ["synthetic-2026-04"]


def test_dagster_sensor_does_not_request_a_half_copied_folder(tmp_path):
    raw = tmp_path / "raw"
    _half_copied_folder(raw)
    resources = {
        "settings": PipelineSettings(raw_dir=str(raw)),
        "warehouse": Warehouse(path=str(tmp_path / "wh.duckdb"), temp_dir=str(tmp_path / "tmp")),
    }
    sensor = defs.get_sensor_def(SENSOR_NAME)
    cursor = None
    with dg.instance_for_test() as instance:
        for _ in range(3):
            ctx = dg.build_sensor_context(instance=instance, resources=resources, cursor=cursor)
            result = sensor(ctx)
            assert not result.run_requests
            cursor = result.cursor
            reasons = getattr(result.skip_reason, "skip_message", "") or ""
            if "not usable" in reasons:
                assert "2 lines but Count.txt gives 4" in reasons
                break
        else:
            raise AssertionError("the half-copied folder was never reported")
