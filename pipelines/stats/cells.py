"""Collapse rows to covariate cells and expand cells back to rows.

The mart builds cells in DuckDB; these helpers do the same in polars for simulation, tests and the
row-level robustness models that need rows (the mixed GLM).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from pipelines.stats.design import as_polars
from pipelines.stats.result_tables import read_counts

# The mart's cell key (docs/DECISIONS.md#models): one cell per covariate pattern, court and period.
CELL_KEYS: tuple[str, ...] = (
    "lead_charge_category",
    "custody",
    "represented",
    "nationality_group",
    "nta_age_band",
    "court",
    "period",
)


def collapse_to_cells(
    rows: Any,
    keys: Sequence[str] = CELL_KEYS,
    outcome: str = "pd_closure",
    n_name: str = "n",
    y_name: str = "pd_closures",
) -> pl.DataFrame:
    """One row per distinct `keys` with n (rows) and y (rows where `outcome` is true / 1)."""
    frame = as_polars(rows)
    return (
        frame.group_by(list(keys))
        .agg(
            pl.len().cast(pl.Int64).alias(n_name),
            pl.col(outcome).cast(pl.Int64).sum().alias(y_name),
        )
        .sort(list(keys))
    )


def expand_cells(
    cells: Any,
    outcome_n: str = "n",
    outcome_y: str = "pd_closures",
    outcome: str = "pd_closure",
    max_rows: int | None = None,
    seed: int = 0,
) -> tuple[pl.DataFrame, float]:
    """Rows (one per trial) with a 0/1 `outcome`, and the sampling fraction used.

    If the cells hold more than `max_rows` rows, each row is kept independently with probability
    f = max_rows / N: a cell keeps k ~ Binomial(n, f) rows of which Hypergeometric(y, n - y, k) are
    successes, which is exactly a Bernoulli(f) sample of the underlying rows (seeded).
    """
    frame = as_polars(cells)
    n, y = read_counts(frame, outcome_n, outcome_y)
    n, y = n.astype(np.int64), y.astype(np.int64)
    total = int(n.sum())
    fraction = 1.0
    if max_rows is not None and total > max_rows:
        fraction = max_rows / total
        rng = np.random.default_rng(seed)
        kept = rng.binomial(n, fraction)
        some = kept > 0
        sampled_y = np.zeros_like(y)
        sampled_y[some] = rng.hypergeometric(y[some], n[some] - y[some], kept[some])
        n, y = kept, sampled_y
    idx = np.repeat(np.arange(frame.height), n)
    # Within each cell the first y rows are successes.
    start = np.repeat(np.cumsum(n) - n, n)
    outcome_values = (np.arange(len(idx)) - start) < np.repeat(y, n)
    covariates = frame.drop(outcome_n, outcome_y)
    rows = covariates[idx].with_columns(pl.Series(outcome, outcome_values.astype(np.int8)))
    return rows, fraction
