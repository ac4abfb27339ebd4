"""Linear probability model on grouped data with the row-level OLS covariance, exactly.

Row-level model: Y_i = x_i'b + e_i, fitted by OLS on the N rows, SEs clustered by court. With cell
sufficient statistics n_c (rows), s_c = sum_{i in c} Y_i and q_c = sum_{i in c} Y_i^2 (= s_c for a
0/1 outcome):

    X'X = sum_c n_c x_c x_c',   X'Y = sum_c s_c x_c,   b = (X'X)^{-1} X'Y,

which is WLS of the cell means s_c/n_c with weights n_c. WLS's own standard errors are NOT the
row-level ones (its residual variance is computed from cell means). The row-level quantities are:

- residual sum of squares  SSR = sum_c (q_c - 2 m_c s_c + n_c m_c^2),  m_c = x_c'b, so the
  model-based covariance is SSR/(N-K) (X'X)^{-1};
- cluster score of court g u_g = sum_{i in g} x_i e_i = sum_{c in g} x_c (s_c - n_c m_c), so the
  CRV1 covariance is G/(G-1) (N-1)/(N-K) (X'X)^{-1} (sum_g u_g u_g') (X'X)^{-1}, N = sum_c n_c;
- R^2 = 1 - SSR / (sum_c q_c - (sum_c s_c)^2 / N).

These equal statsmodels `OLS(y, X).fit(cov_type='cluster')` on the rows. Inference here is Wald
with the normal law (statsmodels' OLS defaults to t with G-1 df for clustered SEs; the SEs are
the same).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from pipelines.stats.covariance import crv1_covariance
from pipelines.stats.design import (
    DesignSpec,
    as_polars,
    design_matrix,
    independent_columns,
    make_spec,
)
from pipelines.stats.result_tables import coefficient_table, read_counts, to_python


@dataclass
class GroupedLPMResult:
    spec: DesignSpec
    terms: list[str]
    estimated: np.ndarray
    params: np.ndarray
    cov: np.ndarray
    coefficients: pl.DataFrame
    diagnostics: dict[str, Any]

    def params_dict(self) -> dict[str, float]:
        out = np.full(len(self.terms), np.nan)
        out[self.estimated] = self.params
        return dict(zip(self.terms, out.tolist(), strict=True))


def fit_grouped_lpm(
    cells: Any,
    *,
    outcome_n: str = "n",
    outcome_y: str = "pd_closures",
    outcome_y2: str | None = None,
    categorical: Sequence[str] | Mapping[str, Sequence | None],
    reference: Mapping[str, Any] | None = None,
    fixed_effects: Sequence[str] = (),
    interactions: Sequence[tuple[str, str]] = (),
    cluster: str | None = "court",
    levels: Mapping[str, Sequence] | None = None,
    alpha: float = 0.05,
) -> GroupedLPMResult:
    """Fit the LPM from cells. `outcome_y2` names the per-cell sum of squared outcomes; omit it
    for a 0/1 outcome (then it equals `outcome_y`). Arguments otherwise as `fit_grouped_logit`."""
    frame = as_polars(cells)
    n, s = read_counts(frame, outcome_n, outcome_y, binary=outcome_y2 is None)
    q = s if outcome_y2 is None else frame.get_column(outcome_y2).cast(pl.Float64).to_numpy()
    positive = n > 0
    frame, n, s, q = frame.filter(pl.Series(positive)), n[positive], s[positive], q[positive]
    spec = make_spec(frame, categorical, reference, fixed_effects, interactions, levels)
    X = design_matrix(frame, spec)
    terms, kinds = spec.terms()
    status = independent_columns(X, n)
    est = status == "ok"
    Xe = X[:, est]
    XtX = Xe.T @ (Xe * n[:, None])
    XtX_inv = np.linalg.inv(XtX)
    b = XtX_inv @ (Xe.T @ s)
    fitted = Xe @ b
    n_obs, k = float(n.sum()), int(est.sum())
    ssr = float((q - 2 * fitted * s + n * fitted**2).sum())
    sst = float(q.sum() - s.sum() ** 2 / n_obs)
    info: dict[str, Any] = {}
    if cluster is None:
        cov, cov_type = ssr / (n_obs - k) * XtX_inv, "model"
    else:
        scores = Xe * (s - n * fitted)[:, None]
        cov, info = crv1_covariance(XtX_inv, scores, frame.get_column(cluster).to_numpy(), n_obs)
        cov_type = "cluster"
    params_all = np.full(len(terms), np.nan)
    params_all[est] = b
    se_all = np.full(len(terms), np.nan)
    se_all[est] = np.sqrt(np.diag(cov))
    status_out = ["estimated" if x == "ok" else str(x) for x in status]
    diagnostics = {
        "model": "grouped_lpm",
        "n_obs": n_obs,
        "n_cells": int(len(n)),
        "n_params": k,
        "n_clusters": info.get("n_clusters"),
        "cluster": cluster,
        "cov_type": cov_type,
        "small_sample_factor": info.get("small_sample_factor"),
        "ssr": ssr,
        "r2": 1.0 - ssr / sst,
        "fitted_outside_0_1": float(n[(fitted < 0) | (fitted > 1)].sum()),
        "reference_levels": {f.column: f.reference for f in spec.regressors + spec.fixed_effects},
        "dropped_terms": [
            {"term": t, "status": x} for t, x in zip(terms, status, strict=True) if x != "ok"
        ],
    }
    return GroupedLPMResult(
        spec=spec,
        terms=terms,
        estimated=est,
        params=b,
        cov=cov,
        coefficients=coefficient_table(terms, kinds, params_all, se_all, status_out, alpha),
        diagnostics=to_python(diagnostics),
    )
