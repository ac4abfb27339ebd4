"""Average marginal effects and predicted probabilities of a grouped logit, with delta-method SEs.

For a factor v with reference level r, the average predicted probability at level l over a set of
cells S (the estimation sample, or the cells of one era) is

    PP_l = (1/N_S) sum_{c in S} n_c Lambda(x_c^(l)'b),     N_S = sum_{c in S} n_c,

where x_c^(l) is cell c's design row with v set to l (interactions with v follow). Because each
cell stands for n_c identical rows this equals the row-level average over rows. The average
marginal effect of level l is the discrete change AME_l = PP_l - PP_r; for a two-level factor
(a binary regressor) this is exactly statsmodels' `get_margeff(at='overall', method='dydx',
dummy=True)`. (For a factor with three or more levels statsmodels switches each dummy on and off
while leaving the other dummies of the same factor at their observed values, which is a different
quantity; this module sets the whole factor to l for everyone.)

Delta method: dPP_l/db = (1/N_S) sum_c n_c p_c^(l)(1 - p_c^(l)) x_c^(l), and
Var(AME_l) = g' V g with g = dPP_l/db - dPP_r/db and V the fit's (clustered) covariance.
AME intervals are Wald intervals on the probability-difference scale; predicted-probability
intervals are built on the logit scale and mapped back, so they stay inside (0, 1).

Cells whose counterfactual row activates a separated term get the limit probability 0 or 1 (status
"separated_limit", with no standard error: the delta method would return the other levels'
uncertainty alone; `fit_release` replaces such rows with Firth estimates); if a counterfactual row needs a term the data do not identify (an empty or
collinear column whose sample relation to the kept columns the counterfactual breaks), the margin
is NaN with status "not_identified".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from scipy import stats
from scipy.special import expit, logit

from pipelines.stats.design import (
    _level_name,
    counterfactual_codes,
    design_from_codes,
    factor_codes,
)
from pipelines.stats.result_tables import wald_columns

# A fitted `grouped_logit.GroupedLogitResult`. Not imported here: grouped_logit imports this
# module, and margins needs only the result's attributes (spec, cells, n, params, cov, status).
GroupedLogitResult = Any


@dataclass
class Margin:
    value: float
    grad: np.ndarray  # d value / d params (estimated params)
    status: str
    n_obs: float


def _identification_map(result: GroupedLogitResult) -> tuple[np.ndarray, np.ndarray]:
    """Columns not estimated for lack of identification, and their sample relation to the kept
    columns (X_dropped = X_kept A on the estimation sample)."""
    if "ident" not in result._cache:
        status = np.array(result.status)
        dropped = np.flatnonzero(np.isin(status, ["collinear", "empty"]))
        A = np.zeros((int(result.estimated.sum()), len(dropped)))
        # An empty column (all zero on the sample) is the zero combination: no solve needed.
        solve = [i for i, j in enumerate(dropped) if result.X[:, j].count_nonzero()]
        if solve:
            X = result.X.toarray() * np.sqrt(result.n)[:, None]
            A[:, solve] = np.linalg.lstsq(X[:, result.estimated], X[:, dropped[solve]], rcond=None)[
                0
            ]
        result._cache["ident"] = (dropped, A)
    return result._cache["ident"]


def cell_codes(result: GroupedLogitResult) -> dict[str, np.ndarray]:
    """The fit's cells as level codes per factor (computed once, kept with the fit)."""
    if "codes" not in result._cache:
        result._cache["codes"] = factor_codes(result.cells, result.spec)
    return result._cache["codes"]


def predicted_mean(
    result: GroupedLogitResult, variable: str, level: Any, mask: np.ndarray | None = None
) -> Margin:
    """Average predicted probability with `variable` set to `level` for the cells in `mask`."""
    codes = cell_codes(result)
    if mask is not None:
        codes = {k: v[mask] for k, v in codes.items()}
    n = result.n if mask is None else result.n[mask]
    # Kept sparse (one entry per factor per cell): a dense copy of 10^5 cells x 10^2 terms per
    # level and per refit was most of the cost of the marginal effects. Built from the cells'
    # level codes, decoded once per fit (decoding the cells again for each of a release's few
    # hundred counterfactuals was a quarter of the referee tables' time at full size).
    X = design_from_codes(
        counterfactual_codes(codes, result.spec, variable, level), len(n), result.spec
    ).tocsc()
    est = result.estimated
    k = int(est.sum())
    nan = Margin(np.nan, np.full(k, np.nan), "not_identified", float(n.sum()))
    dropped, A = _identification_map(result)
    if len(dropped) and np.abs(X[:, dropped].toarray() - X[:, est] @ A).max() > 1e-7:
        return nan
    Xe = X[:, est].tocsr()
    p = expit(Xe @ result.params)
    status = "estimated"
    sep = np.array(result.status) == "separated"
    if sep.any():
        signs = np.sign(result.params_all[sep])
        on = X[:, sep].toarray() != 0
        neg, pos = (on & (signs < 0)).any(axis=1), (on & (signs > 0)).any(axis=1)
        if (neg & pos).any():
            return nan
        if (neg | pos).any():
            p[neg], p[pos] = 0.0, 1.0
            status = "separated_limit"
    total = n.sum()
    value = float(n @ p / total)
    grad = Xe.T @ (n * p * (1 - p)) / total
    return Margin(value, np.asarray(grad).ravel(), status, float(total))


def _combine_status(*statuses: str) -> str:
    for s in ("not_identified", "separated_limit"):
        if s in statuses:
            return s
    return "estimated"


def discrete_change(result: GroupedLogitResult, variable: str, level: Any, mask=None) -> Margin:
    """AME of `level` vs the reference level of `variable` (a Margin with value and gradient)."""
    ref = result.spec.factor(variable).reference
    a, b = (
        predicted_mean(result, variable, level, mask),
        predicted_mean(result, variable, ref, mask),
    )
    return Margin(a.value - b.value, a.grad - b.grad, _combine_status(a.status, b.status), a.n_obs)


def std_error(result: GroupedLogitResult, grad: np.ndarray) -> float:
    return float(np.sqrt(grad @ result.cov @ grad))


def _groups(result: GroupedLogitResult, by: str | None) -> list[tuple[Any, np.ndarray | None]]:
    if by is None:
        return [(None, None)]
    values = result.cells.get_column(by)
    return [(v, (values == v).to_numpy()) for v in values.unique().sort().to_list()]


def average_marginal_effects(
    result: GroupedLogitResult, variables: Sequence[str] | None = None, by: str | None = None
) -> pl.DataFrame:
    """Discrete-change AME of every non-reference level of each regressor factor (default: all),
    optionally within each value of the cell column `by` (e.g. era)."""
    names = variables or [f.column for f in result.spec.regressors]
    records = []
    for group, mask in _groups(result, by):
        for variable in names:
            factor = result.spec.factor(variable)
            for level in factor.levels[1:]:
                m = discrete_change(result, variable, level, mask)
                se = std_error(result, m.grad) if m.status == "estimated" else np.nan
                records.append(
                    {
                        **({by: group} if by else {}),
                        "variable": variable,
                        "level": _level_name(level),
                        "reference": _level_name(factor.reference),
                        "term": factor.term(level),
                        "ame": m.value,
                        "std_error": se,
                        "n_obs": m.n_obs,
                        "status": m.status,
                    }
                )
    return _finish(records, "ame", result.alpha)


def predicted_probabilities(
    result: GroupedLogitResult, variable: str, by: str | None = None
) -> pl.DataFrame:
    """Average predicted probability with everyone set to each level of `variable`.

    `std_error` is the delta method with the fit's (clustered) covariance; `std_error_model` the
    same with the model-based covariance, and the interval uses the larger of the two. Why: a
    level's probability depends on the court fixed effects, and when the clusters are the courts
    every court's residuals sum to zero at the fit, so the clustered covariance is blind to the
    estimation error of the fixed effects. On simulated releases (30 courts, 2,000 rows, 100
    replications) the clustered interval covered the common levels' true probability 83-91% of the
    time, the larger of the two 93-97% (benchmarks/monte_carlo_coverage.py prints the figures).
    Differences between levels (AMEs) are not affected: the fixed effects cancel."""
    factor = result.spec.factor(variable)
    records = []
    for group, mask in _groups(result, by):
        for level in factor.levels:
            m = predicted_mean(result, variable, level, mask)
            ok = m.status == "estimated"
            se = std_error(result, m.grad) if ok else np.nan
            se_model = (
                float(np.sqrt(m.grad @ result.cov_model @ m.grad))
                if ok and result.cov_model is not None
                else np.nan
            )
            records.append(
                {
                    **({by: group} if by else {}),
                    "variable": variable,
                    "level": _level_name(level),
                    "predicted_probability": m.value,
                    "std_error": se,
                    "std_error_model": se_model,
                    "n_obs": m.n_obs,
                    "status": m.status,
                }
            )
    return _finish(records, "predicted_probability", result.alpha)


def logit_scale_interval(
    probability: np.ndarray, std_error: np.ndarray, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """Delta-method interval built on the logit scale and mapped back, so it stays in (0, 1):
    se_logit = se / (p (1 - p)), interval expit(logit p -+ z se_logit)."""
    crit = stats.norm.ppf(1 - alpha / 2)
    p = np.asarray(probability, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        centre = logit(p)
        half = crit * np.asarray(std_error, dtype=float) / (p * (1 - p))
        inside = (p > 0) & (p < 1)
        low = np.where(inside, expit(centre - half), np.nan)
        high = np.where(inside, expit(centre + half), np.nan)
    return low, high


def _finish(records: list[dict], value: str, alpha: float) -> pl.DataFrame:
    frame = pl.DataFrame(records, nan_to_null=False)
    cols = wald_columns(frame[value].to_numpy(), frame["std_error"].to_numpy(), alpha)
    if value != "ame":
        cols.pop("z"), cols.pop("p_value")
        se = frame["std_error"].to_numpy()
        if "std_error_model" in frame.columns:
            se = np.fmax(se, frame["std_error_model"].to_numpy())
        cols["ci_low"], cols["ci_high"] = logit_scale_interval(frame[value].to_numpy(), se, alpha)
    frame = frame.with_columns(*(pl.Series(k, v) for k, v in cols.items()))
    order = [c for c in frame.columns if c not in ("n_obs", "status")] + ["n_obs", "status"]
    return frame.select(order)
