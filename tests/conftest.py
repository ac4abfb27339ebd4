"""Fixtures shared by every test package."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.settings import Settings
from pipelines.warehouse.db import connect


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
