"""Independent row-level reference fits for the grouped estimators.

The row-level designs are built by statsmodels' formula interface from pandas Categoricals whose
first category is the reference, not by `pipelines.stats.design`, so a mistake in our dummy
coding would show up as a mismatch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import polars as pl
import statsmodels.api as sm
import statsmodels.formula.api as smf


def to_pandas(
    rows: pl.DataFrame, reference: Mapping[str, object], factors: Sequence[str]
) -> pd.DataFrame:
    """Rows as pandas with each factor a Categorical ordered reference first, then sorted."""
    df = rows.to_pandas()
    for col in factors:
        levels = sorted(set(df[col].tolist()))
        ref = reference.get(col, levels[0])
        df[col] = pd.Categorical(df[col], categories=[ref, *[lv for lv in levels if lv != ref]])
    return df


def fit_rowlevel(
    rows: pl.DataFrame,
    factors: Sequence[str],
    reference: Mapping[str, object],
    outcome: str = "pd_closure",
    family: str = "logit",
    cluster: str | None = "court",
    extra_terms: Sequence[str] = (),
):
    """Row-level statsmodels fit (GLM Binomial or OLS), clustered by `cluster` if given."""
    df = to_pandas(rows, reference, factors)
    df[outcome] = df[outcome].astype(float)
    formula = f"{outcome} ~ " + " + ".join([*factors, *extra_terms])
    if family == "logit":
        model = smf.glm(formula, df, family=sm.families.Binomial())
        kw = {"tol": 1e-12}
    else:
        model = smf.ols(formula, df)
        kw = {}
    if cluster is None:
        return model.fit(**kw), df
    groups = pd.factorize(df[cluster])[0]
    return model.fit(cov_type="cluster", cov_kwds={"groups": groups}, **kw), df


def aligned(result, table: pl.DataFrame, column: str = "estimate") -> tuple[np.ndarray, np.ndarray]:
    """(row-level, grouped) values for the terms both fits estimated, matched by name."""
    ours = dict(zip(table["term"].to_list(), table[column].to_list(), strict=True))
    theirs = result.params if column == "estimate" else result.bse
    names = [t for t in theirs.index if t in ours]
    assert len(names) == len(theirs), (
        f"terms missing from the grouped fit: {set(theirs.index) - set(ours)}"
    )
    return np.array([theirs[t] for t in names]), np.array([ours[t] for t in names])
