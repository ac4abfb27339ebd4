"""Every run setting, declared once: name, type, default, description, and its `PD_*` variable.

Dagster-free. `Settings` is a pydantic-settings model: each field below is read from the
environment variable `PD_<FIELD>` (e.g. `PD_WINDOW_START`), validated, and otherwise defaults to
the value here, which points at the embedded synthetic sample. Everything else derives from it:

* `Settings.from_env()` is the one place the environment is read (the CLI at start-up, the
  Dagster code location when it loads); a bad value raises `SettingsError` whose message is one
  line naming the variable, the value and the expected form, before anything runs;
* the Dagster resources `settings` and `warehouse` (pipelines/resources.py) are generated from
  these fields, so the UI shows each one with its description and default;
* the lock timeout, the sensor interval and the download limits are fields here too, read by
  their users from a `Settings`, never from the environment directly.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = REPO_ROOT / "sql"
REFERENCE_DIR = REPO_ROOT / "data" / "reference"
SAMPLE_DIR = REPO_ROOT / "data" / "raw" / "sample"
# The project's Dagster instance: `pdpipeline run` records its runs here and `pdpipeline ui`
# opens `dagster dev` on it, so the UI shows what the CLI built (DAGSTER_HOME overrides it).
DAGSTER_HOME_DIR = REPO_ROOT / ".dagster_home"

ENV_PREFIX = "PD_"

# The article's window: PD closures between December 2011 and June 2013.
DEFAULT_WINDOW_START = date(2011, 12, 1)
DEFAULT_WINDOW_END = date(2013, 6, 30)
# The nationwide case review of the pending docket began on 2011-11-17.
DEFAULT_PENDING_ON = date(2011, 11, 17)
DEFAULT_SUPPRESS_BELOW = 10


class SettingsError(ValueError):
    """A setting with a value it cannot take; the message is one line for the user."""


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: Any) -> Any:
    # Only YYYY-MM-DD: pydantic alone would also take a Unix timestamp or 20130630, and
    # 06/30/2013 must be refused rather than guessed at.
    if isinstance(value, str):
        if not _ISO_DATE.fullmatch(value.strip()):
            raise ValueError("not YYYY-MM-DD")
        return date.fromisoformat(value.strip())
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date)]

_SIZE = r"^\s*\d+(\.\d+)?\s*([KMGT]i?B)\s*$"


def _setting(
    default: Any,
    description: str,
    expected: str,
    *,
    resource: str = "settings",
    config_key: str | None = None,
    **constraints: Any,
) -> Any:
    """A field with what the user sees: its description, the form it expects, its resource."""
    return Field(
        default,
        description=description,
        json_schema_extra={"expected": expected, "resource": resource, "config_key": config_key},
        **constraints,
    )


class Settings(BaseSettings):
    """The pipeline's settings; see the module docstring. Frozen: derive with `with_()`."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_ignore_empty=True,
        frozen=True,
        extra="forbid",
        validate_default=True,
    )

    raw_dir: Path = _setting(
        REPO_ROOT / "data" / "raw",
        "Folder the release sensor watches and downloads land in (releases under it: zips or "
        "extracted folders).",
        "a folder path",
    )
    release_path: str = _setting(
        "",
        "One release to use (an EOIR zip or extracted folder); empty: find the partition's "
        "release under raw_dir by its id.",
        "a path to an EOIR zip or folder, or empty",
    )
    reports_dir: Path = _setting(
        REPO_ROOT / "reports",
        "Charts, tables and extracts go to <reports_dir>/<release>/.",
        "a folder path",
    )
    window_start: IsoDate = _setting(
        DEFAULT_WINDOW_START,
        "First day of the analysis window (PD closures and completions are counted from it).",
        "a date as YYYY-MM-DD, e.g. 2011-12-01",
    )
    window_end: IsoDate = _setting(
        DEFAULT_WINDOW_END,
        "Last day of the analysis window (inclusive); not before window_start.",
        "a date as YYYY-MM-DD, e.g. 2013-06-30",
    )
    pending_on: IsoDate = _setting(
        DEFAULT_PENDING_ON,
        "Day on which the pending docket is taken (default: start of ICE's case review).",
        "a date as YYYY-MM-DD, e.g. 2011-11-17",
    )
    suppress_below: int = _setting(
        DEFAULT_SUPPRESS_BELOW,
        "Exported counts from 1 to this minus one are suppressed, with the rates made from them.",
        "a whole number of at least 1, e.g. 10",
        ge=1,
    )
    extract_formats: str = _setting(
        "parquet",
        "Formats the extracts asset writes, of parquet, dta (Stata) and csv. Stata and CSV of a "
        "full release take minutes, so the default job writes parquet; `pdpipeline extract` "
        "writes the others on request (or set this in the run's config).",
        "a comma-separated list of parquet, dta and csv, e.g. parquet,dta",
        pattern=r"^\s*(parquet|dta|csv)(\s*,\s*(parquet|dta|csv))*\s*$",
    )
    lead_charge_rule: Literal["most_serious", "first_charged"] = _setting(
        "most_serious",
        "A proceeding's lead charge: its most serious charge (ties: first charged), or simply "
        "its first charge.",
        "most_serious or first_charged",
    )
    warehouse: Path = _setting(
        REPO_ROOT / "data" / "derived" / "warehouse.duckdb",
        "The DuckDB warehouse file.",
        "a file path",
        resource="warehouse",
        config_key="path",
    )
    duckdb_memory_limit: str = _setting(
        "3GB",
        "DuckDB's memory limit; beyond it DuckDB spills to temp_dir. At 6GB a full-size release "
        "peaked at 6.35 GiB for the whole process (BENCHMARKS.md); 3GB keeps it near 4 GiB, "
        "within a laptop of 8 GB.",
        "a size such as 6GB or 512MB",
        resource="warehouse",
        config_key="memory_limit",
        pattern=_SIZE,
    )
    duckdb_threads: int = _setting(
        2,
        "DuckDB worker threads.",
        "a whole number of at least 1",
        resource="warehouse",
        config_key="threads",
        ge=1,
    )
    temp_dir: Path = _setting(
        REPO_ROOT / "data" / "derived" / "tmp",
        "Where DuckDB spills and the ingest decodes tables.",
        "a folder path",
        resource="warehouse",
    )
    lock_timeout: float = _setting(
        1800.0,
        "Seconds to wait while another process writes the warehouse before failing with its "
        "name (a full release's slowest asset holds it for minutes).",
        "a number of seconds, at least 0",
        resource="warehouse",
        config_key="lock_timeout_s",
        ge=0,
    )
    sensor_interval: int = _setting(
        30,
        "Seconds between ticks of the release sensor; a release must look the same on two "
        "ticks before it runs.",
        "a whole number of seconds, at least 1",
        resource="none",
        ge=1,
    )
    download_max_bytes: int = _setting(
        16_000_000_000,
        "The download stops and removes its partial file beyond this many bytes (EOIR's zip is "
        "about 4 GB; an endless or wrong download must not fill the disk).",
        "a whole number of bytes, e.g. 16000000000",
        resource="settings",
        ge=1,
    )
    download_stall_timeout: float = _setting(
        300.0,
        "The download gives up on a connection that brings less than 64 KiB in this many "
        "seconds, silent or trickling (it resumes on the next attempt).",
        "a number of seconds, more than 0",
        resource="settings",
        gt=0,
    )

    @model_validator(mode="after")
    def _window_in_order(self) -> Settings:
        if self.window_end < self.window_start:
            raise ValueError(
                f"window_end {self.window_end} is before window_start {self.window_start}"
            )
        return self

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Settings from `PD_*` variables; `overrides` (None = not given) win over them."""
        given = {k: v for k, v in overrides.items() if v is not None}
        try:
            return cls(**given)
        except ValidationError as exc:
            raise SettingsError(describe_error(exc, given, from_env=True)) from None

    @classmethod
    def checked(cls, values: dict[str, Any]) -> Settings:
        """Settings from explicit values only (run config), no environment; one-line errors."""
        try:
            return _NoEnv(**values).as_settings()
        except ValidationError as exc:
            raise SettingsError(describe_error(exc, values, from_env=False)) from None

    def with_(self, **changes: Any) -> Settings:
        """A copy with `changes`, validated like the original."""
        return Settings.checked({**self.model_dump(), **changes})


class _NoEnv(Settings):
    """`Settings` that ignores the environment: for values that come from run config."""

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, **_other_sources):
        return (init_settings,)

    def as_settings(self) -> Settings:
        return Settings.model_construct(**self.model_dump())


def env_name(field: str) -> str:
    return f"{ENV_PREFIX}{field.upper()}"


def expected_form(field: str) -> str:
    extra = Settings.model_fields[field].json_schema_extra or {}
    return str(extra.get("expected", ""))


def describe_error(exc: ValidationError, given: dict[str, Any], *, from_env: bool) -> str:
    """The first problem of a validation error as one line: variable, value, expected form."""
    import os

    err = exc.errors()[0]
    loc = [str(p) for p in err.get("loc", ())]
    field = loc[0] if loc else ""
    if field in Settings.model_fields:
        value = given.get(field, err.get("input"))
        if from_env and field not in given:
            name, value = env_name(field), os.environ.get(env_name(field), value)
        else:
            name = (
                field if not from_env else f"{field} (from {env_name(field)} or the command line)"
            )
        return f"setting {name}={value!s}: expected {expected_form(field)}"
    # A rule across fields (the window's order): name both variables.
    msg = str(err.get("msg", exc)).removeprefix("Value error, ")
    if "window_end" in msg:
        return (
            f"settings {env_name('window_start')}/{env_name('window_end')}: {msg}; "
            "expected a window whose end is on or after its start"
        )
    return f"settings: {msg}"


def setting_fields(resource: str) -> dict[str, tuple[str, Any]]:
    """{config key: (settings field, FieldInfo)} of the fields that belong to `resource`."""
    out = {}
    for name, info in Settings.model_fields.items():
        extra = info.json_schema_extra or {}
        if extra.get("resource") == resource:
            out[extra.get("config_key") or name] = (name, info)
    return out
