"""Enforcement-priority eras as the models use them, derived from `pipelines.classify.policy`.

The dates live in one place, `pipelines.classify.policy.POLICY_DATES` (the list charts and reports also
import); this module only shapes them for the models. The era boundaries are the memo dates
2011-06-17 (Morton), 2014-11-20 (Johnson), 2017-02-20 (Kelly, "2017-2021") and 2021-09-30
(Mayorkas); an era runs from its memo's date up to, not including, the next era's start, and the
last is open-ended. Era keys are the policy module's era names ("Morton", "Johnson", "2017-2021",
"Mayorkas"), which the era-gap chart expects; labels add the years ("2011-2014 Morton").

Dates before the first era ("Pre-Morton" in `pipelines.classify.policy`) belong to no model era: `era_of`
returns None and the SQL/polars expressions give NULL, and the era models leave such cells out
and count them. Note that the interim guidance of January-February 2021 falls in the 2017-2021 era
under these boundaries, and the Mayorkas guidelines took effect on 2021-11-29; change a boundary
in `pipelines.classify.policy`, nowhere else.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date

import polars as pl

from pipelines.classify.policy import POLICY_DATES, POLICY_ERAS, PRE_POLICY_ERA


@dataclass(frozen=True)
class ModelEra:
    key: str  # value in the data and in model term names, e.g. "Johnson"
    label: str  # e.g. "2014-2017 Johnson"
    start: date  # first day of the era (the memo's date)
    memo: str  # the document that opens the era


def _model_eras() -> tuple[ModelEra, ...]:
    eras = [(name, start) for name, start in POLICY_ERAS if name != PRE_POLICY_ERA]
    memos = {p.opens_era: p.description for p in POLICY_DATES if p.opens_era}
    out = []
    for i, (name, start) in enumerate(eras):
        end = str(eras[i + 1][1].year) if i + 1 < len(eras) else ""
        # An era named by its years ("2017-2021") is labelled by them alone.
        label = name if any(ch.isdigit() for ch in name) else f"{start.year}-{end} {name}"
        out.append(ModelEra(name, label, start, memos.get(name, "")))
    return tuple(out)


MODEL_ERAS: tuple[ModelEra, ...] = _model_eras()
ERA_KEYS: tuple[str, ...] = tuple(e.key for e in MODEL_ERAS)
ERA_LABELS: dict[str, str] = {e.key: e.label for e in MODEL_ERAS}
_STARTS = [e.start for e in MODEL_ERAS]


def era_of(day: date | None) -> str | None:
    """Model era key for a date, or None before the first era (or for a missing date)."""
    if day is None:
        return None
    i = bisect.bisect_right(_STARTS, day) - 1
    return MODEL_ERAS[i].key if i >= 0 else None


def era_expr(column: str) -> pl.Expr:
    """Polars expression mapping a Date column to the era key (null before the first era)."""
    expr = pl.lit(None, dtype=pl.String)
    for era in MODEL_ERAS:  # later eras overwrite earlier ones
        expr = pl.when(pl.col(column) >= pl.lit(era.start)).then(pl.lit(era.key)).otherwise(expr)
    return expr.alias("era")


def era_case_sql(column: str) -> str:
    """A DuckDB `CASE` expression mapping a DATE column to the era key (NULL before the first era),
    for marts that collapse cells in SQL."""
    whens = " ".join(
        f"WHEN {column} >= DATE '{e.start.isoformat()}' THEN '{e.key}'"
        for e in reversed(MODEL_ERAS)
    )
    return f"CASE {whens} ELSE NULL END"
