"""Robustness models: court random intercepts and leave-one-court-out.

Court random intercepts
-----------------------
Instead of court fixed effects, logit p_i = x_i'b + u_court, u_court ~ N(0, sigma^2), fitted with
statsmodels' `BinomialBayesMixedGLM.fit_vb` (mean-field variational Bayes; its gradient taken in
one pass over the rows, `pipelines.stats.mixed_vb`), started at the court fixed-effects logit.
Priors (statsmodels' parametrization): fixed effects b ~ N(0, fe_p^2) (default fe_p = 2, weak on the logit scale),
log sigma ~ N(0, vcp_p^2) (default vcp_p = 1). The reported "posterior means/SDs" are those of the
variational approximation, which is known to understate posterior spread; treat intervals as
approximate. The model needs rows (0/1 outcomes): the cells are expanded to rows, and if they hold
more than `max_rows` rows, a seeded Bernoulli(max_rows / N) sample of the rows is used (see
`cells.expand_cells`); the fraction is recorded in the diagnostics.

Leave-one-court-out
-------------------
Refit the grouped logit without each court in turn (levels and reference levels fixed to the full
fit's) and report, per term of the main regressor, the range of the coefficient and of its average
marginal effect over the refits, with the court whose omission gives each extreme.

A refit is the full fit's design with one court's rows masked out, warm-started at the full
estimate: the design, the counterfactual designs of the marginal effects and the identification
of the full fit are built once, not once per court (about 60 courts in a real release). The
shortcut is taken only where it must give the plain refit's answer: the full fit set nothing
aside, the masked design has the same column status the full path would find (the same
`independent_columns` test; only the left-out court's own dummy may go), every kept dummy still
has both outcomes, and Newton converges from the warm start (separation by a combination of
columns would make it diverge). Otherwise that court is refitted by `fit_grouped_logit` from
scratch. tests/stats/test_robustness.py holds both paths to each other.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from scipy import sparse
from scipy.special import expit

from pipelines.stats.cells import expand_cells
from pipelines.stats.covariance import crv1_covariance
from pipelines.stats.design import (
    GramPlan,
    as_polars,
    design_matrix,
    design_matrix_sparse,
    independent_columns,
    make_spec,
)
from pipelines.stats.grouped_logit import fit_grouped_logit, newton_logit
from pipelines.stats.mixed_vb import OnePassBinomialBayesMixedGLM
from pipelines.stats.result_tables import to_python, wald_columns


@dataclass
class RandomInterceptResult:
    fixed_effects: pl.DataFrame  # term, posterior_mean, posterior_sd, ci_low, ci_high, status
    random_intercepts: pl.DataFrame  # group level, posterior_mean, posterior_sd
    group_sd: float  # exp(posterior mean of log sigma)
    diagnostics: dict[str, Any]


def fit_court_random_intercepts(
    cells: Any,
    *,
    outcome_n: str = "n",
    outcome_y: str = "pd_closures",
    categorical: Sequence[str] | Mapping[str, Sequence | None],
    reference: Mapping[str, Any] | None = None,
    fixed_effects: Sequence[str] = ("period",),
    group: str = "court",
    max_rows: int | None = 200_000,
    seed: int = 0,
    fe_p: float = 2.0,
    vcp_p: float = 1.0,
    alpha: float = 0.05,
    start: Mapping[str, float] | None = None,
) -> RandomInterceptResult:
    """Logit with random intercepts for `group` (court) and the given fixed effects (not court).

    `start`: a fitted logit with `group` as fixed effects (term -> estimate, as
    `GroupedLogitResult.params_dict()`), from which the variational means start: its coefficients
    for the shared terms, its court effects centred as the random intercepts, their spread as the
    log SD, and the intercept moved by the mean court effect. The optimum is the same; from there
    BFGS needs a fraction of the iterations it needs from zero."""
    frame = as_polars(cells)
    if group in fixed_effects:
        raise ValueError(f"{group!r} cannot be both a random intercept and a fixed effect")
    spec = make_spec(frame, categorical, reference, fixed_effects)
    rows, fraction = expand_cells(frame, outcome_n, outcome_y, "_y", max_rows=max_rows, seed=seed)
    X = design_matrix(rows, spec)
    terms, kinds = spec.terms()
    status = independent_columns(X, np.ones(len(X)))
    est = status == "ok"
    groups, codes = np.unique(rows.get_column(group).to_numpy(), return_inverse=True)
    exog_vc = sparse.csr_matrix(
        (np.ones(len(codes)), (np.arange(len(codes)), codes)), shape=(len(codes), len(groups))
    )
    endog = rows.get_column("_y").to_numpy().astype(float)
    model = OnePassBinomialBayesMixedGLM(
        endog,
        X[:, est],
        exog_vc,
        np.zeros(len(groups), dtype=int),
        vcp_p=vcp_p,
        fe_p=fe_p,
        fep_names=[t for t, e in zip(terms, est, strict=True) if e],
        vcp_names=[f"{group}_log_sd"],
    )
    mean0 = _vb_start(start, spec, terms, est, group, groups) if start else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = model.fit_vb(mean=mean0, rng=np.random.default_rng(seed))
    mean = np.full(len(terms), np.nan)
    sd = np.full(len(terms), np.nan)
    mean[est], sd[est] = res.fe_mean, res.fe_sd
    cols = wald_columns(mean, sd, alpha)
    fixed = pl.DataFrame(
        {
            "term": terms,
            "kind": kinds,
            "posterior_mean": mean,
            "posterior_sd": sd,
            "ci_low": cols["ci_low"],
            "ci_high": cols["ci_high"],
            "status": ["estimated" if s == "ok" else str(s) for s in status],
        },
        nan_to_null=False,
    )
    random = pl.DataFrame(
        {group: groups.tolist(), "posterior_mean": res.vc_mean, "posterior_sd": res.vc_sd}
    )
    optim = getattr(res, "optim_retvals", None)
    diagnostics = {
        "model": "court_random_intercepts_vb",
        "converged": bool(getattr(optim, "success", True)),
        "iterations": int(getattr(optim, "nit", -1)),
        "n_rows_used": len(endog),
        "sampling_fraction": fraction,
        "n_groups": len(groups),
        "group_sd": float(np.exp(res.vcp_mean[0])),
        "group_log_sd_posterior_sd": float(res.vcp_sd[0]),
        "priors": {"fe_sd": fe_p, "log_group_sd_sd": vcp_p},
        "warnings": [f"{w.category.__name__}: {w.message}" for w in caught],
    }
    return RandomInterceptResult(fixed, random, diagnostics["group_sd"], to_python(diagnostics))


def _vb_start(
    start: Mapping[str, float],
    spec: Any,
    terms: list[str],
    est: np.ndarray,
    group: str,
    groups: np.ndarray,
) -> np.ndarray | None:
    """Starting means (fixed effects, log SD, random intercepts) from a fixed-effects fit."""
    court = {g: 0.0 for g in groups}
    prefix = f"{group}[T."
    for term, value in start.items():
        if term.startswith(prefix) and np.isfinite(value):
            level = term[len(prefix) : -1]
            for g in court:
                if str(g) == level:
                    court[g] = value
    effects = np.array([court[g] for g in groups])
    centre = effects.mean()
    fixed = [start.get(t, 0.0) for t, e in zip(terms, est, strict=True) if e]
    fixed = [v if np.isfinite(v) else 0.0 for v in fixed]
    fixed[0] += centre  # the intercept carried the reference court; now the average court
    log_sd = np.log(max(effects.std(), 1e-3))
    return np.concatenate([fixed, [log_sd], effects - centre])


@dataclass
class LeaveOneCourtOutResult:
    by_court: pl.DataFrame  # court_left_out, term, estimate, std_error, ame, ame_std_error
    summary: pl.DataFrame  # one row per term: full fit and range over the refits


def leave_one_court_out(
    cells: Any,
    *,
    variable: str = "lead_charge_category",
    court: str = "court",
    categorical: Sequence[str],
    reference: Mapping[str, Any] | None = None,
    fixed_effects: Sequence[str] = ("court", "period"),
    fast: bool = True,
    **fit_kwargs: Any,
) -> LeaveOneCourtOutResult:
    """Range of the `variable` coefficients and AMEs when each court is left out in turn.
    `fast=False` refits every court from scratch (the shortcut's reference; see the module
    docstring)."""
    frame = as_polars(cells)
    full = fit_grouped_logit(
        frame,
        categorical=categorical,
        reference=reference,
        fixed_effects=fixed_effects,
        **fit_kwargs,
    )
    levels = full.spec.levels()
    refs = {c: lv[0] for c, lv in levels.items()}
    start = {t: v for t, v in full.params_dict().items() if np.isfinite(v)}
    factor = full.spec.factor(variable)
    wanted = [factor.term(lv) for lv in factor.levels[1:]]
    shortcut = (
        _MaskedRefits(full, variable, court, fit_kwargs)
        if fast and court in fixed_effects
        else None
    )
    records = []
    for left_out in [None, *frame.get_column(court).unique().sort().to_list()]:
        if left_out is None:
            fit = full
        else:
            quick = shortcut.refit(left_out) if shortcut is not None else None
            if quick is not None:
                records.append(
                    quick.with_columns(
                        pl.lit(left_out, dtype=frame.schema[court]).alias("court_left_out"),
                        pl.lit(True).alias("converged"),
                    )
                )
                continue
            fit = fit_grouped_logit(
                frame.filter(pl.col(court) != left_out),
                categorical=categorical,
                reference=refs,
                fixed_effects=fixed_effects,
                levels=levels,
                start_params=start,
                **fit_kwargs,
            )
        coef = fit.coefficients.filter(pl.col("term").is_in(wanted)).select(
            "term", "estimate", "std_error"
        )
        ame = fit.average_marginal_effects([variable]).select(
            "term", "ame", pl.col("std_error").alias("ame_std_error")
        )
        records.append(
            coef.join(ame, on="term").with_columns(
                pl.lit(left_out, dtype=frame.schema[court]).alias("court_left_out"),
                pl.lit(fit.diagnostics["converged"]).alias("converged"),
            )
        )
    table = pl.concat(records).select(
        "court_left_out", "term", "estimate", "std_error", "ame", "ame_std_error", "converged"
    )
    refits = table.filter(pl.col("court_left_out").is_not_null())
    full_rows = table.filter(pl.col("court_left_out").is_null())
    summary = (
        refits.group_by("term")
        .agg(
            pl.col("estimate").min().alias("min_estimate"),
            pl.col("estimate").max().alias("max_estimate"),
            pl.col("court_left_out").sort_by("estimate").first().alias("court_at_min_estimate"),
            pl.col("court_left_out").sort_by("estimate").last().alias("court_at_max_estimate"),
            pl.col("ame").min().alias("min_ame"),
            pl.col("ame").max().alias("max_ame"),
            pl.len().alias("n_refits"),
            pl.col("converged").all().alias("all_converged"),
        )
        .join(
            full_rows.select(
                "term", pl.col("estimate").alias("full_estimate"), pl.col("ame").alias("full_ame")
            ),
            on="term",
        )
        .sort(pl.col("term").replace_strict(wanted, list(range(len(wanted)))))
    )
    return LeaveOneCourtOutResult(refits, summary)


class _MaskedRefits:
    """Leave-one-court-out refits as masks on the full fit's design (see the module docstring).
    `refit` returns the court's rows of the by-court table, or None where only a plain refit
    can be trusted to give the answer."""

    def __init__(self, full: Any, variable: str, court: str, fit_kwargs: Mapping[str, Any]):
        self.full = full
        self.ok = full.estimated.all() and not full.perfectly_predicted.height
        self.max_iter = int(fit_kwargs.get("max_iter", 100))
        self.tol = float(fit_kwargs.get("tol", 1e-10))
        if not self.ok:
            return
        spec = full.spec
        # fit_grouped_logit clusters on court unless told otherwise; the refits do the same.
        self.cluster = fit_kwargs.get("cluster", "court")
        self.clusters = (
            full.cells.get_column(self.cluster).to_numpy() if self.cluster is not None else None
        )
        self.courts = full.cells.get_column(court).to_numpy()
        court_factor = spec.factor(court)
        self.court_columns = {
            full.terms.index(court_factor.term(lv)) for lv in court_factor.levels[1:]
        }
        factor = spec.factor(variable)
        self.wanted = [
            (full.terms.index(factor.term(lv)), factor.term(lv)) for lv in factor.levels[1:]
        ]
        dtype = full.cells.schema[variable]
        # The counterfactual designs of the AMEs: every cell with `variable` set to each level.
        self.counterfactual = [
            design_matrix_sparse(
                full.cells.with_columns(pl.lit(lv).cast(dtype).alias(variable)), spec
            )
            for lv in factor.levels
        ]

    def refit(self, left_out: Any) -> pl.DataFrame | None:
        if not self.ok:
            return None
        full = self.full
        mask = self.courts != left_out
        X, n, y = full.X[mask], full.n[mask], full.y[mask]
        # The column status the plain refit would find: only the left-out court's dummy (or,
        # when the reference court is left out, one court dummy made collinear) may go.
        status = independent_columns(X, n)
        gone = np.flatnonzero(status != "ok")
        if not set(gone.tolist()) <= self.court_columns or len(gone) > 1:
            return None
        keep = np.flatnonzero(status == "ok")
        Xk = X[:, keep]
        events, trials = Xk.T @ y, Xk.T @ n
        if ((events <= 0) | (events >= trials)).any():
            return None  # a dummy with one outcome only: separation, the plain path sets it aside
        # The full fit estimated every term, so its estimate is indexed like the terms.
        plan = GramPlan(Xk)
        b, converged, _ = newton_logit(
            Xk, n, y, self.full.params[keep], max_iter=self.max_iter, tol=self.tol, gram_plan=plan
        )
        if not converged:
            return None
        p = expit(Xk @ b)
        try:
            H_inv = np.linalg.inv(plan(n * p * (1 - p)))
        except np.linalg.LinAlgError:
            return None
        cov = H_inv
        if self.cluster is not None:
            scores = Xk.multiply((y - n * p)[:, None]).tocsr()
            cov, _ = crv1_covariance(H_inv, scores, self.clusters[mask], n.sum())
        position = {j: i for i, j in enumerate(keep)}
        total = n.sum()
        margins = []
        for Xc in self.counterfactual:
            Xl = Xc[mask][:, keep]
            pl_ = expit(Xl @ b)
            margins.append((n @ pl_ / total, Xl.T @ (n * pl_ * (1 - pl_)) / total))
        ref_value, ref_grad = margins[0]
        rows = []
        for (j, term), (value, grad) in zip(self.wanted, margins[1:], strict=True):
            i = position[j]
            g = grad - ref_grad
            rows.append(
                {
                    "term": term,
                    "estimate": float(b[i]),
                    "std_error": float(np.sqrt(cov[i, i])),
                    "ame": float(value - ref_value),
                    "ame_std_error": float(np.sqrt(g @ cov @ g)),
                }
            )
        return pl.DataFrame(rows)
