"""Dagster resources: the warehouse and the run settings, from the environment.

Defaults point at the embedded synthetic sample (`data/raw/sample`), so `dagster dev` works with
no set-up. A real release is one environment variable away (`PD_RAW_DIR` or `PD_RELEASE_PATH`),
or one run-config field (`resources.settings.config.release_path`).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.settings import Settings
from pipelines.warehouse.lock import DEFAULT_LOCK_TIMEOUT_S, connect_waiting

_DEFAULTS = Settings.from_env()


class PipelineSettings(dg.ConfigurableResource):
    """Paths, the analysis window and thresholds (see pipelines/settings.py)."""

    raw_dir: str = str(_DEFAULTS.raw_dir)
    release_path: str = _DEFAULTS.release_path
    reports_dir: str = str(_DEFAULTS.reports_dir)
    window_start: str = _DEFAULTS.window_start.isoformat()
    window_end: str = _DEFAULTS.window_end.isoformat()
    pending_on: str = _DEFAULTS.pending_on.isoformat()
    suppress_below: int = _DEFAULTS.suppress_below
    lead_charge_rule: str = _DEFAULTS.lead_charge_rule

    def apply(self, base: Settings) -> Settings:
        from dataclasses import replace

        return replace(
            base,
            raw_dir=Path(self.raw_dir),
            release_path=self.release_path,
            reports_dir=Path(self.reports_dir),
            window_start=date.fromisoformat(self.window_start),
            window_end=date.fromisoformat(self.window_end),
            pending_on=date.fromisoformat(self.pending_on),
            suppress_below=self.suppress_below,
            lead_charge_rule=self.lead_charge_rule,
        )


class Warehouse(dg.ConfigurableResource):
    """The DuckDB warehouse file, opened with an explicit memory limit and spill directory."""

    path: str = str(_DEFAULTS.warehouse)
    memory_limit: str = _DEFAULTS.duckdb_memory_limit
    threads: int = _DEFAULTS.duckdb_threads
    temp_dir: str = str(_DEFAULTS.temp_dir)
    # Seconds to wait while another process writes the warehouse (pipelines/warehouse/lock.py).
    lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S

    def settings(self, settings: PipelineSettings) -> Settings:
        base = Settings(
            warehouse=Path(self.path),
            duckdb_memory_limit=self.memory_limit,
            duckdb_threads=self.threads,
            temp_dir=Path(self.temp_dir),
        )
        return settings.apply(base)

    def connect(
        self, settings: PipelineSettings, read_only: bool = False
    ) -> duckdb.DuckDBPyConnection:
        return connect_waiting(
            self.settings(settings), read_only=read_only, timeout_s=self.lock_timeout_s
        )


def default_resources() -> dict[str, dg.ConfigurableResource]:
    return {"settings": PipelineSettings(), "warehouse": Warehouse()}
