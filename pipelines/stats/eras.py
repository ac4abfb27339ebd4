"""Enforcement-priority eras: the one list of policy boundaries used by the models.

An era runs from its memo's date up to (not including) the next era's start; the last era is
open-ended. Dates before the first era (2011-06-17) belong to no era (`None` / SQL NULL): the
models drop such cells and count them.

The boundaries follow the issue brief (issue 4) and are the dates the memos were signed:
- 2011-06-17 ICE Director John Morton, "Exercising Prosecutorial Discretion Consistent with the
  Civil Immigration Enforcement Priorities of the Agency".
- 2014-11-20 DHS Secretary Jeh Johnson, "Policies for the Apprehension, Detention and Removal of
  Undocumented Immigrants".
- 2017-02-20 DHS Secretary John Kelly, "Enforcement of the Immigration Laws to Serve the National
  Interest" (rescinded the 2014 priorities).
- 2021-09-30 DHS Secretary Alejandro Mayorkas, "Guidelines for the Enforcement of Civil Immigration
  Law" (effective 2021-11-29). The interim guidance of January-February 2021 therefore falls in
  the 2017-2021 era under these boundaries; move a boundary here, nowhere else, to change that.

Everything else (polars expressions, SQL CASE, Python lookups) is derived from `POLICY_ERAS`.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date

import polars as pl


@dataclass(frozen=True)
class PolicyEra:
    key: str  # value stored in data and used in model term names, e.g. "2014-2017"
    label: str  # human label for tables and charts
    start: date  # first day of the era (the memo's date)
    memo: str  # the document that opens the era


POLICY_ERAS: tuple[PolicyEra, ...] = (
    PolicyEra("2011-2014", "2011-2014 Morton", date(2011, 6, 17), "Morton memo, ICE, 2011-06-17"),
    PolicyEra(
        "2014-2017", "2014-2017 Johnson", date(2014, 11, 20), "Johnson memo, DHS, 2014-11-20"
    ),
    PolicyEra("2017-2021", "2017-2021", date(2017, 2, 20), "Kelly memo, DHS, 2017-02-20"),
    PolicyEra("2021-", "2021- Mayorkas", date(2021, 9, 30), "Mayorkas memo, DHS, 2021-09-30"),
)

ERA_KEYS: tuple[str, ...] = tuple(e.key for e in POLICY_ERAS)
ERA_LABELS: dict[str, str] = {e.key: e.label for e in POLICY_ERAS}
_STARTS = [e.start for e in POLICY_ERAS]


def era_of(day: date | None) -> str | None:
    """Era key for a date, or None before the first era (or for a missing date)."""
    if day is None:
        return None
    i = bisect.bisect_right(_STARTS, day) - 1
    return POLICY_ERAS[i].key if i >= 0 else None


def era_expr(column: str) -> pl.Expr:
    """Polars expression mapping a Date column to the era key (null before the first era)."""
    expr = pl.lit(None, dtype=pl.String)
    for era in POLICY_ERAS:  # later eras overwrite earlier ones
        expr = pl.when(pl.col(column) >= pl.lit(era.start)).then(pl.lit(era.key)).otherwise(expr)
    return expr.alias("era")


def era_case_sql(column: str) -> str:
    """A DuckDB `CASE` expression mapping a DATE column to the era key (NULL before 2011-06-17).

    For marts that collapse cells in SQL, so the boundaries still come from this one list.
    """
    whens = " ".join(
        f"WHEN {column} >= DATE '{e.start.isoformat()}' THEN '{e.key}'"
        for e in reversed(POLICY_ERAS)
    )
    return f"CASE {whens} ELSE NULL END"
