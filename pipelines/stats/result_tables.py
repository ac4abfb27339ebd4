"""Tidy output tables shared by the estimators (Wald inference with the normal distribution)."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
from scipy import stats

from pipelines.stats.design import as_polars


def read_counts(
    frame: pl.DataFrame, outcome_n: str, outcome_y: str, binary: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Cell sizes n and outcome sums y as float arrays, checked: n a whole number >= 0 and, for a
    0/1 outcome (`binary`), y a whole number with 0 <= y <= n."""
    for col in (outcome_n, outcome_y):
        if col not in frame.columns:
            raise ValueError(f"count column {col!r} not in the cells (columns: {frame.columns})")
        if frame.get_column(col).null_count():
            raise ValueError(f"count column {col!r} has null values")
    n = frame.get_column(outcome_n).cast(pl.Float64).to_numpy().copy()
    y = frame.get_column(outcome_y).cast(pl.Float64).to_numpy().copy()
    bad = (n < 0) | (n != np.round(n))
    if binary:
        bad |= (y < 0) | (y > n) | (y != np.round(y))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{int(bad.sum())} cell(s) with impossible counts, first at row {i}: "
            f"{outcome_n}={n[i]}, {outcome_y}={y[i]} (need whole numbers n >= 0"
            + (" and 0 <= y <= n)" if binary else ")")
        )
    return n, y


def wald_columns(estimate: np.ndarray, std_error: np.ndarray, alpha: float) -> dict[str, Any]:
    crit = stats.norm.ppf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = estimate / std_error
    return {
        "z": z,
        "p_value": 2 * stats.norm.sf(np.abs(z)),
        "ci_low": estimate - crit * std_error,
        "ci_high": estimate + crit * std_error,
    }


def coefficient_table(
    terms: list[str],
    kinds: list[str],
    estimate: np.ndarray,
    std_error: np.ndarray,
    status: list[str],
    alpha: float,
) -> pl.DataFrame:
    cols = wald_columns(estimate, std_error, alpha)
    return pl.DataFrame(
        {
            "term": terms,
            "kind": kinds,
            "estimate": estimate,
            "std_error": std_error,
            **cols,
            "status": status,
        },
        nan_to_null=False,
    )


def to_python(value: Any) -> Any:
    """Recursively turn numpy scalars/arrays into plain Python (for JSON / Dagster metadata)."""
    if isinstance(value, dict):
        return {str(k): to_python(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_python(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_python(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    return value


__all__ = ["as_polars", "coefficient_table", "read_counts", "to_python", "wald_columns"]
