"""Settings: declared once, validated once, refused in one line before anything runs."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from dagster._utils.error import SerializableErrorInfo

from pipelines.cli.main import main
from pipelines.cli.runner import _root_message
from pipelines.resources import PipelineSettings, Warehouse
from pipelines.settings import REPO_ROOT, Settings, SettingsError, env_name
from tests.eoir.conftest import small_release

CLASS_PATH = re.compile(r"\b(pipelines|dagster|pydantic|zipfile|builtins)\.[\w.]*[A-Z]\w*")


def _run_cli(capsys, args: list[str]) -> tuple[int, list[str]]:
    code = main(args)
    err = capsys.readouterr().err
    return code, [line for line in err.splitlines() if line.strip()]


@pytest.mark.parametrize(
    ("env", "named", "expected"),
    [
        ({"PD_WINDOW_START": "2011-13-01"}, "PD_WINDOW_START=2011-13-01", "YYYY-MM-DD"),
        ({"PD_WINDOW_END": "06/30/2013"}, "PD_WINDOW_END=06/30/2013", "YYYY-MM-DD"),
        ({"PD_SUPPRESS_BELOW": "ten"}, "PD_SUPPRESS_BELOW=ten", "whole number"),
        ({"PD_SUPPRESS_BELOW": "0"}, "PD_SUPPRESS_BELOW=0", "at least 1"),
        ({"PD_LEAD_CHARGE_RULE": "loudest"}, "PD_LEAD_CHARGE_RULE=loudest", "most_serious"),
        ({"PD_DUCKDB_MEMORY_LIMIT": "lots"}, "PD_DUCKDB_MEMORY_LIMIT=lots", "6GB"),
        ({"PD_LOCK_TIMEOUT": "soon"}, "PD_LOCK_TIMEOUT=soon", "seconds"),
        (
            {"PD_WINDOW_START": "2013-07-01", "PD_WINDOW_END": "2013-06-30"},
            "PD_WINDOW_START/PD_WINDOW_END",
            "end is on or after its start",
        ),
    ],
)
def test_bad_setting_is_refused_in_one_line_before_anything_runs(
    monkeypatch, capsys, tmp_path, env, named, expected
):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    release = small_release(tmp_path)
    warehouse = tmp_path / "wh.duckdb"
    code, lines = _run_cli(
        capsys, ["run", "--release", str(release), "--warehouse", str(warehouse), "--quiet"]
    )
    assert code == 2
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: setting") and named in lines[0] and expected in lines[0]
    assert "Traceback" not in lines[0] and not CLASS_PATH.search(lines[0]), lines[0]
    # Refused before anything ran: no warehouse, no Dagster instance.
    assert not warehouse.exists() and not (tmp_path / "home").exists()


def test_a_bad_value_in_run_config_gets_the_same_one_line_message():
    with pytest.raises(SettingsError) as exc:
        Warehouse().settings(PipelineSettings(window_end="06/30/2013"))
    assert str(exc.value) == (
        "setting window_end=06/30/2013: expected a date as YYYY-MM-DD, e.g. 2013-06-30"
    )


def test_environment_is_read_only_through_settings(monkeypatch):
    """No module but pipelines/settings.py reads PD_* variables (none at import time)."""
    offenders = []
    for path in sorted((REPO_ROOT / "pipelines").rglob("*.py")):
        if path.name == "settings.py":
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"(os\.environ|getenv)\W[^\n]*PD_", text):
            offenders.append(str(path.relative_to(REPO_ROOT)))
    assert offenders == []
    # And the value reaches the user of it: the lock timeout and sensor interval.
    monkeypatch.setenv("PD_LOCK_TIMEOUT", "7")
    monkeypatch.setenv("PD_SENSOR_INTERVAL", "4")
    s = Settings.from_env()
    assert (s.lock_timeout, s.sensor_interval) == (7.0, 4)
    from pipelines.definitions import build_definitions

    sensor = build_definitions(s).get_sensor_def("new_release_sensor")
    assert sensor.minimum_interval_seconds == 4


def test_every_setting_is_resource_config_with_its_description():
    config = {
        **{k: f for k, f in PipelineSettings.model_fields.items()},
        **{k: f for k, f in Warehouse.model_fields.items()},
    }
    described = {f.description for f in config.values()}
    for name, info in Settings.model_fields.items():
        if name == "sensor_interval":  # fixed when the code location loads (a sensor's own)
            continue
        assert any(
            d and d.startswith(info.description) and env_name(name) in d for d in described
        ), name
    # Run config keeps its earlier names (sensor run requests, saved launchpad configs).
    assert {"path", "memory_limit", "threads", "temp_dir", "lock_timeout_s"} <= set(
        Warehouse.model_fields
    )
    assert "release_path" in PipelineSettings.model_fields


def _not_a_release(tmp_path: Path) -> Path:
    path = tmp_path / "holiday photos.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("notes/budget.csv", "a,b\n1,2\n")
    return path


def _count_txt_lists_a_missing_table(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    good = small_release(tmp_path / "src")
    path = tmp_path / "no charges" / "EOIR Case Data.zip"
    path.parent.mkdir()
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(path, "w") as zout:
        for info in zin.infolist():
            if not info.filename.endswith("B_TblProceedCharges.csv"):
                zout.writestr(info, zin.read(info))
    return path


def _no_count_txt(tmp_path: Path) -> Path:
    (tmp_path / "src2").mkdir()
    good = small_release(tmp_path / "src2")
    path = tmp_path / "no count" / "EOIR Case Data.zip"
    path.parent.mkdir()
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(path, "w") as zout:
        for info in zin.infolist():
            if not info.filename.endswith("Count.txt"):
                zout.writestr(info, zin.read(info))
    return path


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (_not_a_release, "not an EOIR case-data release"),
        (_count_txt_lists_a_missing_table, "Count.txt lists tables that are not present"),
        (_no_count_txt, "no Count.txt"),
    ],
)
def test_a_zip_that_is_not_a_release_fails_at_once_in_one_line(
    monkeypatch, capsys, tmp_path, make, says
):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    path = make(tmp_path)
    warehouse = tmp_path / "wh.duckdb"
    code, lines = _run_cli(
        capsys, ["run", "--release", str(path), "--warehouse", str(warehouse), "--quiet"]
    )
    assert code == 2
    assert len(lines) == 1, lines
    assert says in lines[0] and str(path) in lines[0]
    assert "ReleaseError" not in lines[0] and not CLASS_PATH.search(lines[0]), lines[0]
    assert not warehouse.exists()  # no asset ran


def _err(message: str, cls_name: str, cause=None) -> SerializableErrorInfo:
    return SerializableErrorInfo(message, [], cls_name, cause=cause)


def test_the_projects_message_wins_over_the_innermost_cause():
    crc = _err("zipfile.BadZipFile: Bad CRC-32 for file 'A_TblCase.csv'\n", "BadZipFile")
    own = _err(
        "pipelines.eoir.archive.ReleaseError: data/raw/x.zip: cannot read A_TblCase.csv from "
        "the zip (Bad CRC-32). The file is truncated or corrupt: download the release again.\n",
        "ReleaseError",
        cause=crc,
    )
    step = _err(
        "dagster._core.errors.DagsterExecutionStepExecutionError: Error occurred while "
        'executing op "raw__A_TblCase":\n',
        "DagsterExecutionStepExecutionError",
        cause=own,
    )
    first, second = _root_message(step).split("\n")
    assert first.startswith("data/raw/x.zip: cannot read A_TblCase.csv from the zip")
    assert "download the release again" in first
    assert second == "cause: Bad CRC-32 for file 'A_TblCase.csv'"
    assert not CLASS_PATH.search(_root_message(step))
    # A builtin error alone: its text without the class name.
    assert _root_message(_err("ValueError: month must be in 1..12\n", "ValueError")) == (
        "month must be in 1..12"
    )


def test_run_config_that_sets_one_field_keeps_the_code_locations_other_values():
    """A sensor's run config sets only release_path: the rest stay the location's settings."""
    import dagster as dg

    from pipelines.definitions import build_definitions

    defs = build_definitions(Settings(reports_dir="/x/reports", warehouse="/x/wh.duckdb"))
    job = defs.resolve_job_def("materialize_release")
    config = dg.validate_run_config(
        job, {"resources": {"settings": {"config": {"release_path": "/rel"}}}}
    )["resources"]
    assert config["settings"]["config"]["release_path"] == "/rel"
    assert config["settings"]["config"]["reports_dir"] == "/x/reports"
    assert config["warehouse"]["config"]["path"] == "/x/wh.duckdb"
