"""Fixtures shared by every test package.

`sample_warehouse` runs the embedded SYNTHETIC sample through the whole graph once per test
session; every end-to-end test reads that one warehouse (read-only connections). A test that must
write copies it first (`sample_warehouse.copy_to(tmp_path)`).

Tiers: the default run (`pytest`) leaves out tests marked `full` (the browser UI, the benchmark
smoke run, large generated releases); `pytest -m full` runs only those (pyproject.toml).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipelines.settings import SAMPLE_DIR, Settings
from pipelines.warehouse.db import connect

SAMPLE_RELEASE = "synthetic-2026-04"
TESTS_DIR = Path(__file__).resolve().parent

# The full tier (`pytest -m full`), by module or by test, with the reason each is slow. Everything
# else is the fast tier that `pytest` runs.
FULL_TIER = {
    "ops/test_ui.py": "starts dagster dev and drives a headless browser",
    "bench/test_bench_smoke.py": "generates and runs a 127,000-case release",
    "stats/test_simulation_recovery.py": "hundreds of simulated fits (large runs)",
    "sample/test_sample_eoir_release.py::test_pd_logit_effects_are_recovered": (
        "generates a 30,000-case release and fits a row-level logit on it"
    ),
    "stats/test_robustness.py::test_court_random_intercepts_recover_the_regressors": (
        "a mixed GLM fitted by variational Bayes on a large simulated sample"
    ),
    "ops/test_fault_campaign.py": "a baseline run and two fault cases, each a whole CLI run",
    "ops/test_lock.py::test_two_pipeline_runs_on_one_warehouse_take_turns": (
        "two whole pipeline runs in subprocesses, one waiting on the other"
    ),
}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        rel = item.path.resolve().relative_to(TESTS_DIR).as_posix()
        if rel in FULL_TIER or f"{rel}::{item.originalname}" in FULL_TIER:
            item.add_marker(pytest.mark.full)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        raw_dir=tmp_path / "raw",
        warehouse=tmp_path / "wh.duckdb",
        reports_dir=tmp_path / "reports",
        temp_dir=tmp_path / "tmp",
        duckdb_memory_limit="1GB",
    )


@pytest.fixture
def con(settings):
    c = connect(settings)
    yield c
    c.close()


@dataclass(frozen=True)
class SampleWarehouse:
    outcome: object  # pipelines.cli.runner.RunOutcome
    settings: Settings
    release_id: str = SAMPLE_RELEASE

    def copy_to(self, folder: Path) -> Settings:
        """Settings of a private, writable copy of the sample warehouse under `folder`."""
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / "warehouse.duckdb"
        shutil.copyfile(self.settings.warehouse, target)
        return self.settings.with_(
            warehouse=target,
            temp_dir=folder / "tmp",
            raw_dir=folder / "raw",
            reports_dir=folder / "reports",
        )


@pytest.fixture(scope="session")
def sample_warehouse(tmp_path_factory) -> SampleWarehouse:
    """The sample release run once through every asset (pdpipeline run's code path)."""
    from pipelines.cli.runner import run_release

    root = tmp_path_factory.mktemp("sample_run")
    settings = Settings(
        raw_dir=root / "raw",
        warehouse=root / "warehouse.duckdb",
        reports_dir=root / "reports",
        temp_dir=root / "tmp",
    )
    outcome = run_release(SAMPLE_DIR / "EOIR Case Data.zip", settings, show_progress=False)
    return SampleWarehouse(outcome, settings)
