"""Firth penalized likelihood for rare and separated terms of the grouped logit.

Why
---
When a lead-charge category has no PD closure (or only PD closures) its maximum-likelihood
coefficient is infinite and every Wald quantity attached to it (SE, z, p, the probability
interval) is an artefact of the other categories. When it has only a handful of events the MLE
is finite but biased away from zero and its Wald interval is unreliable. For such terms the
tables report, instead of Wald inference,

- the event counts (rows and PD closures with the term switched on),
- Firth's penalized-likelihood estimate (Firth 1993; Heinze and Schemper 2002): the maximizer of
  l(b) + 1/2 log det I(b), i.e. the posterior mode under Jeffreys' prior, finite under separation,
- a profile penalized-likelihood interval: {b_k : 2 [l*(b_hat) - max_{b: b_k fixed} l*(b)] <=
  chi2_1(1 - alpha)}, which is not symmetric and needs no standard error,

and no standard error, z or p-value.

Grouped data
------------
The fit uses `firthmodels.FirthLogisticRegression` (a maintained implementation, benchmarked
by its authors against R's logistf) with frequency weights: each cell c becomes two weighted
rows, (x_c, 1) with weight y_c and (x_c, 0) with weight n_c - y_c. The penalized log-likelihood
with weights equals the row-level one: the log-likelihood is the weighted sum, and the Fisher
information X' diag(w p (1-p)) X is the same matrix as on the rows, so its determinant is too.
Tests compare the grouped fit with a fit on the expanded rows and with a direct numerical
maximization of the penalized likelihood written out independently.

The Firth fit uses every cell with n > 0, including the cells the ML fit set aside as perfectly
predicted (the penalty keeps their terms finite). Columns that are empty or collinear on all the
cells are left out (their coefficient is reported as NaN and taken as 0 in predictions).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from scipy.special import expit

from pipelines.stats.design import DesignSpec, design_matrix_sparse, independent_columns

# A regressor level with fewer PD closures than this (or fewer non-PD closures) is "rare": it gets
# the Firth estimate and a profile-likelihood interval, never a Wald SE, z or p-value. Ten events
# per term is the usual lower limit for Wald inference in logistic regression (Peduzzi et al. 1996
# discuss events per variable; below it the Wald interval under-covers).
RARE_MIN_EVENTS = 10


@dataclass
class FirthFit:
    terms: list[str]
    params: np.ndarray  # per term; NaN for columns left out (empty / collinear on all cells)
    profile_ci: dict[str, tuple[float, float]]  # term -> (low, high); NaN where not found
    converged: bool
    diagnostics: dict[str, Any]

    def coefficient(self, term: str) -> float:
        return float(self.params[self.terms.index(term)])

    def params_for_prediction(self) -> np.ndarray:
        return np.where(np.isfinite(self.params), self.params, 0.0)


def term_event_counts(
    X: Any, n: np.ndarray, y: np.ndarray, terms: Sequence[str]
) -> dict[str, tuple[float, float]]:
    """Rows and PD closures with each design column switched on: term -> (n, events)."""
    rows = np.asarray(X.T @ n).ravel()
    events = np.asarray(X.T @ y).ravel()
    return {t: (float(a), float(b)) for t, a, b in zip(terms, rows, events, strict=True)}


def is_rare(n_rows: float, events: float, min_events: int = RARE_MIN_EVENTS) -> bool:
    return min(events, n_rows - events) < min_events


def fit_firth(
    cells: pl.DataFrame,
    spec: DesignSpec,
    n: np.ndarray,
    y: np.ndarray,
    profile_terms: Sequence[str] = (),
    alpha: float = 0.05,
    max_iter: int = 200,
) -> FirthFit:
    """Firth logit of y successes out of n per cell under `spec`, with profile penalized-likelihood
    intervals for `profile_terms`. `cells` are the model's cells (all of them, n > 0)."""
    from firthmodels import FirthLogisticRegression

    keep = n > 0
    cells, n, y = cells.filter(pl.Series(keep)), n[keep], y[keep]
    X = design_matrix_sparse(cells, spec)
    terms, _ = spec.terms()
    status = independent_columns(X, n)
    est = status == "ok"
    Xe = X[:, est].toarray()
    m = len(n)
    rows = np.concatenate([Xe, Xe])
    outcome = np.concatenate([np.ones(m), np.zeros(m)])
    weight = np.concatenate([y, n - y])
    used = weight > 0
    rows, outcome, weight = rows[used], outcome[used], weight[used]
    model = FirthLogisticRegression(
        fit_intercept=False, max_iter=max_iter, gtol=1e-8, xtol=1e-9, backend="numpy"
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(rows, outcome, sample_weight=weight)
        est_terms = [t for t, e in zip(terms, est, strict=True) if e]
        wanted = [t for t in profile_terms if t in est_terms]
        ci = (
            model.conf_int(
                alpha=alpha,
                method="pl",
                features=[est_terms.index(t) for t in wanted],
                max_iter=100,
                tol=1e-6,
            )
            if wanted
            else np.zeros((len(est_terms), 2))
        )
    params = np.full(len(terms), np.nan)
    params[est] = model.coef_
    profile = {
        t: (float(ci[est_terms.index(t), 0]), float(ci[est_terms.index(t), 1])) for t in wanted
    }
    for t in profile_terms:
        profile.setdefault(t, (np.nan, np.nan))
    diagnostics = {
        "model": "firth_logit",
        "implementation": "firthmodels.FirthLogisticRegression (frequency-weighted cells)",
        "converged": bool(model.converged_),
        "iterations": int(model.n_iter_),
        "penalized_log_likelihood": float(model.loglik_),
        "n_cells": int(m),
        "n_obs": float(n.sum()),
        "profile_terms": list(wanted),
        "left_out_columns": [t for t, e in zip(terms, est, strict=True) if not e],
        "warnings": [f"{w.category.__name__}: {w.message}" for w in caught],
    }
    return FirthFit(terms, params, profile, bool(model.converged_), diagnostics)


def firth_predicted_mean(
    cells: pl.DataFrame,
    n: np.ndarray,
    spec: DesignSpec,
    params: np.ndarray,
    variable: str,
    level: Any,
) -> float:
    """Average predicted probability over `cells` (weights n) with `variable` set to `level`."""
    dtype = cells.schema[variable]
    cf = cells.with_columns(pl.lit(level).cast(dtype).alias(variable))
    eta = design_matrix_sparse(cf, spec) @ params
    return float(n @ expit(eta) / n.sum())
