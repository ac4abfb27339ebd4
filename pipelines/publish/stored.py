"""The settings a release's marts were built with, read back from the warehouse (Dagster-free).

Every published file states a window, a pending date, a lead-charge rule and a suppression
threshold. They must be the ones the numbers were computed with, so they come from
``marts.run_settings`` (written by the marts, sql/marts/run_settings.sql), never from the
environment of the process that exports. A request for other settings (``PD_WINDOW_START=...
pdpipeline export``) is refused with one line saying what to run: the marts would have to be
rebuilt from ``marts.proceedings``, which is what ``pdpipeline run`` does.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import duckdb

from pipelines.warehouse.db import table_exists

RUN_SETTINGS = "marts.run_settings"

# Environment variable -> ReleaseSettings field, for the settings that change published numbers.
REQUESTABLE = {
    "PD_WINDOW_START": "window_start",
    "PD_WINDOW_END": "window_end",
    "PD_PENDING_ON": "pending_on",
    "PD_LEAD_CHARGE_RULE": "lead_charge_rule",
    "PD_SUPPRESS_BELOW": "suppress_below",
}


class PublishError(Exception):
    """A report cannot be written as asked; the message is one line saying what to do."""


@dataclass(frozen=True)
class ReleaseSettings:
    release_id: str
    window_start: date
    window_end: date
    pending_on: date
    lead_charge_rule: str
    suppress_below: int
    proceedings: int

    def describe(self) -> str:
        return (
            f"window {self.window_start} to {self.window_end}, pending on {self.pending_on}, "
            f"lead charge rule {self.lead_charge_rule}, counts below {self.suppress_below} "
            "suppressed"
        )


def stored_settings(con: duckdb.DuckDBPyConnection, release_id: str) -> ReleaseSettings:
    """The settings `release_id`'s marts were built with; PublishError when none are stored."""
    row = None
    if table_exists(con, RUN_SETTINGS):
        rows = con.execute(
            f"""SELECT window_start, window_end, pending_on, lead_charge_rule, suppress_below,
                       proceedings FROM {RUN_SETTINGS} WHERE release_id = ?""",
            [release_id],
        ).fetchall()
        row = rows[0] if rows else None
    if row is None:
        raise PublishError(
            f"the warehouse has no {RUN_SETTINGS} row for release {release_id}, so the window "
            "its marts were built with is unknown: rebuild it with `pdpipeline run --release "
            "<its zip or folder>`"
        )
    return ReleaseSettings(release_id, row[0], row[1], row[2], row[3], int(row[4]), int(row[5]))


def _parse(field: str, text: str):
    if field in ("window_start", "window_end", "pending_on"):
        return date.fromisoformat(text)
    if field == "suppress_below":
        return int(text)
    return text


def check_request(stored: ReleaseSettings, env: Mapping[str, str] | None = None) -> None:
    """Refuse (PublishError) when the environment asks for settings the warehouse was not built
    with. Variables that are unset ask for nothing: the stored settings are used."""
    env = os.environ if env is None else env
    asked: dict[str, str] = {}
    for var, field in REQUESTABLE.items():
        text = (env.get(var) or "").strip()
        if not text:
            continue
        try:
            value = _parse(field, text)
        except ValueError:
            raise PublishError(f"{var}={text!r} is not a valid value") from None
        if value != getattr(stored, field):
            asked[var] = text
    if asked:
        request = " ".join(f"{k}={v}" for k, v in asked.items())
        raise PublishError(
            f"the warehouse's marts for release {stored.release_id} were built with "
            f"{stored.describe()}, not {request}: rebuild them with `{request} pdpipeline run "
            f"--release <the release's zip or folder>` and export again (or unset "
            f"{', '.join(asked)} to export what is stored)"
        )
