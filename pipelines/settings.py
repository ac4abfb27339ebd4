"""Run settings from the environment, with defaults that point at the embedded sample.

Dagster-free: the Dagster resource in `pipelines.resources` wraps this, the CLI and the
benchmarks use it directly. One source of truth for the analysis window, the policy dates
and the suppression threshold.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = REPO_ROOT / "sql"
REFERENCE_DIR = REPO_ROOT / "data" / "reference"
SAMPLE_DIR = REPO_ROOT / "data" / "raw" / "sample"

# The article's window: PD closures between December 2011 and June 2013.
DEFAULT_WINDOW_START = date(2011, 12, 1)
DEFAULT_WINDOW_END = date(2013, 6, 30)
# The nationwide case review of the pending docket began on 2011-11-17.
DEFAULT_PENDING_ON = date(2011, 11, 17)
DEFAULT_SUPPRESS_BELOW = 10


@dataclass(frozen=True)
class Settings:
    raw_dir: Path = field(default_factory=lambda: REPO_ROOT / "data" / "raw")
    warehouse: Path = field(
        default_factory=lambda: REPO_ROOT / "data" / "derived" / "warehouse.duckdb"
    )
    reports_dir: Path = field(default_factory=lambda: REPO_ROOT / "reports")
    # A single release to use (zip or folder); empty means "discover under raw_dir".
    release_path: str = ""
    window_start: date = DEFAULT_WINDOW_START
    window_end: date = DEFAULT_WINDOW_END
    pending_on: date = DEFAULT_PENDING_ON
    suppress_below: int = DEFAULT_SUPPRESS_BELOW
    # Lead charge of a proceeding: "most_serious" (ties: first charged) or "first_charged".
    lead_charge_rule: str = "most_serious"
    # DuckDB limits: a full release must spill rather than exhaust a 24 GiB machine.
    duckdb_memory_limit: str = "6GB"
    duckdb_threads: int = 2
    temp_dir: Path = field(default_factory=lambda: REPO_ROOT / "data" / "derived" / "tmp")

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        env = os.environ
        s = cls()
        vals = {}
        if env.get("PD_RAW_DIR"):
            vals["raw_dir"] = Path(env["PD_RAW_DIR"])
        if env.get("PD_WAREHOUSE"):
            vals["warehouse"] = Path(env["PD_WAREHOUSE"])
        if env.get("PD_REPORTS_DIR"):
            vals["reports_dir"] = Path(env["PD_REPORTS_DIR"])
        if env.get("PD_RELEASE_PATH"):
            vals["release_path"] = env["PD_RELEASE_PATH"]
        if env.get("PD_WINDOW_START"):
            vals["window_start"] = date.fromisoformat(env["PD_WINDOW_START"])
        if env.get("PD_WINDOW_END"):
            vals["window_end"] = date.fromisoformat(env["PD_WINDOW_END"])
        if env.get("PD_PENDING_ON"):
            vals["pending_on"] = date.fromisoformat(env["PD_PENDING_ON"])
        if env.get("PD_SUPPRESS_BELOW"):
            vals["suppress_below"] = int(env["PD_SUPPRESS_BELOW"])
        if env.get("PD_LEAD_CHARGE_RULE"):
            vals["lead_charge_rule"] = env["PD_LEAD_CHARGE_RULE"]
        if env.get("PD_DUCKDB_MEMORY_LIMIT"):
            vals["duckdb_memory_limit"] = env["PD_DUCKDB_MEMORY_LIMIT"]
        if env.get("PD_DUCKDB_THREADS"):
            vals["duckdb_threads"] = int(env["PD_DUCKDB_THREADS"])
        if env.get("PD_TEMP_DIR"):
            vals["temp_dir"] = Path(env["PD_TEMP_DIR"])
        vals.update({k: v for k, v in overrides.items() if v is not None})
        return replace(s, **vals)
