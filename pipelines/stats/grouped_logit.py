"""Binomial logit fitted on grouped data (covariate cells), identical to the row-level fit.

Model
-----
Each row i (a proceeding) has a PD-closure indicator Y_i and categorical covariates; rows with the
same covariate pattern form a cell c with n_c rows and y_c PD closures. With design row x_c (see
`pipelines.stats.design`),

    P(Y_i = 1) = p_c = 1 / (1 + exp(-x_c'b))      for every row i in cell c.

The row-level Bernoulli log-likelihood depends on the data only through (x_c, n_c, y_c):

    l(b) = sum_i [Y_i x_i'b - log(1 + exp(x_i'b))] = sum_c [y_c x_c'b - n_c log(1 + exp(x_c'b))],

so the grouped maximum-likelihood estimate equals the row-level one. Score and Hessian are
U(b) = sum_c x_c (y_c - n_c p_c) and -H, H = sum_c n_c p_c (1-p_c) x_c x_c'. Two engines maximize
l(b) by Newton's method (for the canonical logit link Newton and IRLS take the same steps):

- "statsmodels" (default): statsmodels GLM(Binomial) on endog y_c/n_c with var_weights n_c, whose
  weights and score are exactly the above;
- "sparse_newton": the same iterations on the sparse 0/1 design (one entry per factor per cell),
  with step halving; faster when court and period dummies make the design wide. Tests hold both
  engines to the row-level statsmodels fit.

The log-likelihood reported is l(b) above, the row-level Bernoulli value (no binomial
coefficients), so it matches a row-level fit.

Covariance (cluster-robust by court)
------------------------------------
The bread is H above. Court is part of the cell key, so the score of court g is the sum of its cells' scores,
u_g = sum_{c in g} x_c (y_c - n_c p_c), and

    V = G/(G-1) * (N-1)/(N-K) * H^{-1} (sum_g u_g u_g') H^{-1},   N = sum_c n_c (rows, not cells),

which is statsmodels' row-level `cov_type='cluster'` (see `pipelines.stats.covariance`). With
`cluster=None` the model-based covariance H^{-1} is used. Inference is Wald with the normal law.

Separation
----------
If some linear combination of covariates perfectly predicts the outcome for a set of cells (e.g. a
court with no PD closures, or a lead-charge category whose cases were all closed), the MLE of the
parameters involved is infinite. The likelihood contribution of the perfectly predicted cells goes
to zero (log 1) as those parameters diverge, so the finite MLE of the other parameters is the MLE on
the remaining cells (what Stata's `logit` and fixest do). `fit_grouped_logit`:

1. for every dummy column, checks whether its cells have no successes or no failures; such a term is
   reported with estimate -inf / +inf (status "separated") and its cells are set aside;
2. for separation by a linear combination of columns (e.g. the reference court having no PD
   closures), solves the linear program of Konis (2007): find d with x_c'd = 0 on cells with
   0 < y_c < n_c, x_c'd <= 0 where y_c = 0, x_c'd >= 0 where y_c = n_c, maximizing the total
   violation; cells with x_c'd != 0 are perfectly predicted and set aside;
3. repeats (setting cells aside can expose new separation) and re-checks the rank: columns that
   become empty or collinear are reported with status "empty" / "collinear".

Every step is recorded in `diagnostics["separation"]`, the cells set aside are in
`result.perfectly_predicted`, and nothing is dropped silently. Marginal effects average over the
estimation sample (as Stata's `margins` does over e(sample)).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
import statsmodels.api as sm
from scipy import linalg, optimize, sparse
from scipy.special import expit

from pipelines.stats.covariance import crv1_covariance
from pipelines.stats.design import (
    DesignSpec,
    GramPlan,
    as_polars,
    design_matrix_sparse,
    gram,
    independent_columns,
    make_spec,
)
from pipelines.stats.margins import average_marginal_effects, predicted_probabilities
from pipelines.stats.result_tables import coefficient_table, read_counts, to_python

# Below this, a linear-programming separation direction is numerical noise (design entries are 0/1).
_LP_TOL = 1e-7


@dataclass
class GroupedLogitResult:
    """A fitted grouped logit. Tables are polars DataFrames; `diagnostics` is plain JSON."""

    spec: DesignSpec
    terms: list[str]
    kinds: list[str]
    status: list[str]  # per term: estimated | separated | collinear | empty
    params_all: np.ndarray  # per term; +-inf if separated, nan if collinear/empty
    estimated: np.ndarray  # bool mask over terms
    params: np.ndarray  # estimated terms only
    cov: np.ndarray  # of `params`
    cells: pl.DataFrame  # estimation sample
    X: sparse.csr_matrix  # design of the estimation sample, all terms
    n: np.ndarray
    y: np.ndarray
    perfectly_predicted: pl.DataFrame  # cells set aside by the separation checks, with reason
    coefficients: pl.DataFrame
    odds_ratios: pl.DataFrame
    diagnostics: dict[str, Any]
    outcome_n: str
    outcome_y: str
    cluster: str | None
    alpha: float
    # Model-based covariance (inverse information) of `params`, beside the clustered `cov`: see
    # margins.predicted_probabilities for where it is needed.
    cov_model: np.ndarray | None = None
    _cache: dict = field(default_factory=dict, repr=False)

    def params_dict(self) -> dict[str, float]:
        return dict(zip(self.terms, self.params_all.tolist(), strict=True))

    def average_marginal_effects(
        self, variables: Sequence[str] | None = None, by: str | None = None
    ) -> pl.DataFrame:
        return average_marginal_effects(self, variables, by=by)

    def predicted_probabilities(self, variable: str, by: str | None = None) -> pl.DataFrame:
        return predicted_probabilities(self, variable, by=by)


def fit_grouped_logit(
    cells: Any,
    *,
    outcome_n: str = "n",
    outcome_y: str = "pd_closures",
    categorical: Sequence[str] | Mapping[str, Sequence | None],
    reference: Mapping[str, Any] | None = None,
    fixed_effects: Sequence[str] = (),
    interactions: Sequence[tuple[str, str]] = (),
    cluster: str | None = "court",
    levels: Mapping[str, Sequence] | None = None,
    alpha: float = 0.05,
    max_iter: int = 100,
    tol: float = 1e-10,
    start_params: Mapping[str, float] | None = None,
    engine: str = "statsmodels",
) -> GroupedLogitResult:
    """Fit a logit of `outcome_y` successes out of `outcome_n` trials per cell.

    `cells`: polars/pandas DataFrame, one row per covariate cell (e.g. the DuckDB mart grouped by
    lead_charge_category, custody, represented, nationality_group, nta_age_band, court, period, with
    columns n and pd_closures). `categorical`: regressor columns (reported effects); `reference`:
    reference level per column (default: see `design.make_spec`); `fixed_effects`: nuisance
    factors entered as dummies (court, period); `interactions`: pairs of factor columns;
    `cluster`: column to cluster on (must be constant within a cell, i.e. part of the cell key) or
    None; `levels`: fix the level set of factors (to reuse a spec on subsets); `engine`:
    "statsmodels" (GLM Binomial with var_weights, Newton) or "sparse_newton" (the same Newton
    iterations on the sparse design, several times faster with many court/period dummies).
    """
    frame = as_polars(cells)
    n, y = read_counts(frame, outcome_n, outcome_y)
    if cluster is not None and cluster not in frame.columns:
        raise ValueError(f"cluster column {cluster!r} not in the cells (columns: {frame.columns})")
    if cluster is not None and frame.get_column(cluster).null_count():
        raise ValueError(
            f"cluster column {cluster!r} has {frame.get_column(cluster).null_count()} null value(s); "
            "give every cell a cluster (e.g. an explicit 'unknown' court) upstream"
        )
    spec = make_spec(frame, categorical, reference, fixed_effects, interactions, levels)
    positive = n > 0
    n_zero_cells = int((~positive).sum())
    if n_zero_cells:
        frame, n, y = frame.filter(pl.Series(positive)), n[positive], y[positive]
    total_n, total_y = float(n.sum()), float(y.sum())
    if total_y == 0 or total_y == total_n:
        raise ValueError(
            f"{outcome_y} is {'never' if total_y == 0 else 'always'} a success in the "
            f"{int(total_n)} rows: the logit is not identified"
        )
    X = design_matrix_sparse(frame, spec)
    terms, kinds = spec.terms()

    active, status, sign, events = _resolve_identification(X, n, y, terms)
    for e in events:
        if e["kind"] == "linear_combination":
            e["shared_by_cells"] = _shared_levels(frame, spec.columns, e["cells"])
    est = status == "ok"
    if not est[0]:
        raise ValueError("the intercept is not identified after removing perfectly predicted cells")
    Xa, na, ya = (X, n, y) if active.all() else (X[active], n[active], y[active])
    Xe = Xa if est.all() else Xa[:, est]
    sample = frame.filter(pl.Series(active))

    # Start from the intercept-only fit (or the caller's warm start).
    start = np.zeros(int(est.sum()))
    start[0] = np.log(ya.sum() / (na.sum() - ya.sum()))
    if start_params is not None:
        given = np.array([start_params.get(t, 0.0) for t, e in zip(terms, est, strict=True) if e])
        start = np.where(np.isfinite(given), given, 0.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if engine == "statsmodels":
            b, converged, iterations = _fit_statsmodels(Xe.toarray(), na, ya, start, max_iter, tol)
        elif engine == "sparse_newton":
            b, converged, iterations = _fit_sparse_newton(Xe, na, ya, start, max_iter, tol)
        else:
            raise ValueError(f"engine must be 'statsmodels' or 'sparse_newton', got {engine!r}")
    eta = Xe @ b
    p = expit(eta)
    H_inv = np.linalg.inv(gram(Xe, na * p * (1 - p)))
    n_obs = float(na.sum())
    cov_info: dict[str, Any] = {}
    if cluster is None:
        cov, cov_type = H_inv, "model"
    else:
        scores = Xe.multiply((ya - na * p)[:, None]).tocsr()
        cov, cov_info = crv1_covariance(H_inv, scores, sample.get_column(cluster).to_numpy(), n_obs)
        cov_type = "cluster"

    params_all = np.full(len(terms), np.nan)
    params_all[est] = b
    sep = status == "separated"
    params_all[sep] = np.inf * sign[sep]
    se_all = np.full(len(terms), np.nan)
    se_all[est] = np.sqrt(np.diag(cov))
    status_out = ["estimated" if s == "ok" else str(s) for s in status]
    coefficients = coefficient_table(terms, kinds, params_all, se_all, status_out, alpha)
    odds_ratios = coefficients.filter(pl.col("kind") != "intercept").select(
        "term",
        "kind",
        pl.col("estimate").exp().alias("odds_ratio"),
        pl.col("ci_low").exp(),
        pl.col("ci_high").exp(),
        "p_value",
        "status",
    )

    llf = float(ya @ eta - na @ np.logaddexp(0.0, eta))
    p0 = ya.sum() / n_obs
    llnull = float(ya.sum() * np.log(p0) + (n_obs - ya.sum()) * np.log1p(-p0))
    dropped = ~active
    perfectly_predicted = frame.filter(pl.Series(dropped)).with_columns(
        pl.Series("reason", _drop_reasons(events, dropped, len(n)), dtype=pl.String)
    )
    glm_warnings = [f"{w.category.__name__}: {w.message}" for w in caught]
    diagnostics = {
        "model": "grouped_logit",
        "engine": engine,
        "converged": converged,
        "iterations": iterations,
        "n_obs": n_obs,
        "n_obs_input": total_n,
        "n_cells": int(active.sum()),
        "n_cells_input": int(len(n)) + n_zero_cells,
        "n_cells_zero_n": n_zero_cells,
        "n_successes": float(ya.sum()),
        "n_params": int(est.sum()),
        "n_clusters": cov_info.get("n_clusters"),
        "cluster": cluster,
        "cov_type": cov_type,
        "small_sample_factor": cov_info.get("small_sample_factor"),
        "log_likelihood": llf,
        "log_likelihood_null": llnull,
        "pseudo_r2_mcfadden": 1.0 - llf / llnull,
        "reference_levels": {f.column: f.reference for f in spec.regressors + spec.fixed_effects},
        "separation": [{k: v for k, v in e.items() if k != "cells"} for e in events],
        "rows_perfectly_predicted": float(n[dropped].sum()),
        "dropped_terms": [
            {"term": t, "status": s}
            for t, s in zip(terms, status, strict=True)
            if s in ("collinear", "empty")
        ],
        "warnings": glm_warnings,
    }
    return GroupedLogitResult(
        spec=spec,
        terms=terms,
        kinds=kinds,
        status=status_out,
        params_all=params_all,
        estimated=est,
        params=b,
        cov=cov,
        cells=sample,
        X=Xa,
        n=na,
        y=ya,
        perfectly_predicted=perfectly_predicted,
        coefficients=coefficients,
        odds_ratios=odds_ratios,
        diagnostics=to_python(diagnostics),
        outcome_n=outcome_n,
        outcome_y=outcome_y,
        cluster=cluster,
        alpha=alpha,
        cov_model=H_inv,
    )


def _fit_statsmodels(
    X: np.ndarray, n: np.ndarray, y: np.ndarray, start: np.ndarray, max_iter: int, tol: float
) -> tuple[np.ndarray, bool, int]:
    """statsmodels GLM(Binomial) on y/n with var_weights n. Newton steps: for the canonical logit
    link they are IRLS's steps, without the per-iteration least-squares solves of its IRLS path."""
    model = sm.GLM(y / n, X, family=sm.families.Binomial(), var_weights=n)
    res = model.fit(
        method="newton", maxiter=max_iter, tol=tol, start_params=start, max_start_irls=0
    )
    converged, iterations = bool(res.mle_retvals["converged"]), int(res.mle_retvals["iterations"])
    if not converged:  # fall back on IRLS from statsmodels' default start
        res = model.fit(method="IRLS", maxiter=max_iter, tol=tol)
        converged, iterations = bool(res.converged), int(res.fit_history["iteration"])
    return np.asarray(res.params), converged, iterations


def newton_logit(
    X: sparse.csr_matrix,
    n: np.ndarray,
    y: np.ndarray,
    start: np.ndarray,
    offset: np.ndarray | None = None,
    max_iter: int = 100,
    tol: float = 1e-10,
    gram_plan: GramPlan | None = None,
) -> tuple[np.ndarray, bool, int]:
    """The grouped-logit MLE on a full-rank sparse design (with an optional offset), as the
    "sparse_newton" engine computes it: (estimate, converged, iterations). `gram_plan`: X's
    `GramPlan`, when the caller fits the same design many times."""
    return _fit_sparse_newton(X, n, y, start, max_iter, tol, offset, gram_plan)


def _fit_sparse_newton(
    X: sparse.csr_matrix,
    n: np.ndarray,
    y: np.ndarray,
    start: np.ndarray,
    max_iter: int,
    tol: float,
    offset: np.ndarray | None = None,
    gram_plan: GramPlan | None = None,
) -> tuple[np.ndarray, bool, int]:
    """Newton-Raphson for l(b) = y'(o + Xb) - n'log(1 + exp(o + Xb)) on a sparse design (offset o,
    zero unless given: the restricted fits of the bootstrap hold one coefficient fixed through
    it), with step halving if a full step would lower l. Stops when no coefficient moves by more
    than `tol` (the criterion statsmodels' Newton uses)."""
    b = start.astype(float).copy()
    off = np.zeros(X.shape[0]) if offset is None else offset
    eta = off + X @ b
    ll = y @ eta - n @ np.logaddexp(0.0, eta)
    plan = gram_plan if gram_plan is not None else GramPlan(X)
    for it in range(1, max_iter + 1):
        p = expit(eta)
        H = plan(n * p * (1 - p))
        g = X.T @ (y - n * p)
        try:
            step = linalg.cho_solve(linalg.cho_factor(H), g)
        except linalg.LinAlgError:
            step = np.linalg.lstsq(H, g, rcond=None)[0]
        t = 1.0
        while True:
            eta_new = off + X @ (b + t * step)
            ll_new = y @ eta_new - n @ np.logaddexp(0.0, eta_new)
            if ll_new >= ll - 1e-12 * abs(ll) or t < 1e-6:
                break
            t /= 2
        b, eta, ll = b + t * step, eta_new, ll_new
        if np.max(np.abs(t * step)) < tol:
            return b, True, it
    return b, False, max_iter


def _resolve_identification(
    X: sparse.csr_matrix, n: np.ndarray, y: np.ndarray, terms: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict]]:
    """Set aside perfectly predicted cells and classify every column (see module docstring).

    Returns the active-cell mask, per-column status (ok | separated | collinear | empty), the
    direction of separated columns (-1 / +1) and the list of separation events.
    """
    m, k = X.shape
    by_column = X.tocsc()
    active = np.ones(m, dtype=bool)
    status = np.array(["ok"] * k, dtype=object)
    sign = np.zeros(k)
    events: list[dict] = []
    while True:
        if not active.any():
            raise ValueError("every cell is perfectly predicted: the logit is not identified")
        free = status != "separated"
        # (no copies while nothing is set aside: X can be 10^5 cells x 10^2 columns)
        Xa, na, ya = (X, n, y) if active.all() else (X[active], n[active], y[active])
        status[free] = independent_columns(Xa if free.all() else Xa[:, free], na)
        cols = np.flatnonzero(status == "ok")
        cols = cols[cols != 0]  # the intercept is not a dummy
        sn, sy = Xa[:, cols].T @ na, Xa[:, cols].T @ ya
        hits = np.zeros(m, dtype=bool)
        for j, tot, succ in zip(cols, sn, sy, strict=True):
            if succ not in (0.0, tot):
                continue
            direction = -1.0 if succ == 0 else 1.0
            on = by_column.indices[by_column.indptr[j] : by_column.indptr[j + 1]]
            cells = np.sort(on[active[on]])
            status[j], sign[j] = "separated", direction
            hits[cells] = True
            events.append(
                {
                    "kind": "single_term",
                    "term": terms[j],
                    "direction": "-inf" if direction < 0 else "+inf",
                    "cells_set_aside": len(cells),
                    "rows_set_aside": float(n[cells].sum()),
                    "note": f"all {int(tot)} rows with {terms[j]} = 1 have "
                    + ("no successes" if direction < 0 else "only successes")
                    + "; estimate is infinite, those cells are set aside",
                    "cells": cells,
                }
            )
        if hits.any():
            active &= ~hits
            continue
        ok = np.flatnonzero(status == "ok")
        found = _lp_separation(Xa[:, ok], na, ya)
        if found is None:
            return active, status, sign, events
        local, direction = found
        cells = np.flatnonzero(active)[local]
        involved = [terms[ok[i]] for i in np.flatnonzero(np.abs(direction) > 1e-6)]
        events.append(
            {
                "kind": "linear_combination",
                "terms": involved,
                "cells_set_aside": len(cells),
                "rows_set_aside": float(n[cells].sum()),
                "note": "a combination of these terms perfectly predicts the outcome in "
                f"{len(cells)} cells; they are set aside and the terms re-checked for rank",
                "cells": cells,
            }
        )
        active[cells] = False


def _lp_separation(
    X: np.ndarray, n: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """Konis (2007) separation check on grouped data. Returns (indices of perfectly predicted cells,
    direction d) or None. Searches d in the null space of the interior cells (0 < y < n), which
    is usually empty, in which case no LP is solved."""
    interior = (y > 0) & (y < n)
    boundary = np.flatnonzero(~interior)
    if len(boundary) == 0:
        return None
    k = X.shape[1]
    if interior.any():
        Xi = X[interior]
        evals, evecs = np.linalg.eigh(gram(Xi, np.ones(Xi.shape[0])))
        null = evecs[:, evals <= 1e-10 * max(evals.max(), 1.0)]
    else:
        null = np.eye(k)
    if null.shape[1] == 0:
        return None
    signs = np.where(y[boundary] == 0, -1.0, 1.0)  # y = 0 needs x'd <= 0, y = n needs x'd >= 0
    A = signs[:, None] * (X[boundary] @ null)  # want A t >= 0, maximize sum(A t)
    res = optimize.linprog(
        c=-A.sum(axis=0),
        A_ub=-A,
        b_ub=np.zeros(len(boundary)),
        bounds=[(-1.0, 1.0)] * null.shape[1],
        method="highs",
    )
    if res.status != 0 or -res.fun <= _LP_TOL:
        return None
    slack = A @ res.x
    hit = slack > _LP_TOL
    if not hit.any():
        return None
    return boundary[hit], null @ res.x


def _shared_levels(frame: pl.DataFrame, columns: list[str], cells: np.ndarray) -> dict[str, Any]:
    """Factor values common to every one of the given cells (e.g. {"court": "C001"}), to say in
    words which cells a linear-combination separation set aside."""
    sub = frame[cells]
    return {c: sub[c][0] for c in columns if sub[c].n_unique() == 1}


def _drop_reasons(events: list[dict], dropped: np.ndarray, m: int) -> list[str]:
    reason = np.array([""] * m, dtype=object)
    for e in events:
        label = (
            f"separated by {e['term']} ({e['direction']})"
            if e["kind"] == "single_term"
            else ("separated by a combination of " + ", ".join(e["terms"]))
        )
        for c in e["cells"]:
            if not reason[c]:
                reason[c] = label
    return [str(r) for r in reason[dropped]]
