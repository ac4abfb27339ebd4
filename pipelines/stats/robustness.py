"""Robustness models: court random intercepts and leave-one-court-out.

Court random intercepts
-----------------------
Instead of court fixed effects, logit p_i = x_i'b + u_court, u_court ~ N(0, sigma^2), fitted with
statsmodels' `BinomialBayesMixedGLM.fit_vb` (mean-field variational Bayes). Priors (statsmodels'
parametrization): fixed effects b ~ N(0, fe_p^2) (default fe_p = 2, weak on the logit scale),
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
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from scipy import sparse
from statsmodels.genmod.bayes_mixed_glm import BinomialBayesMixedGLM

from pipelines.stats.cells import expand_cells
from pipelines.stats.design import as_polars, design_matrix, independent_columns, make_spec
from pipelines.stats.grouped_logit import fit_grouped_logit
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
) -> RandomInterceptResult:
    """Logit with random intercepts for `group` (court) and the given fixed effects (not court)."""
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
    model = BinomialBayesMixedGLM(
        endog,
        X[:, est],
        exog_vc,
        np.zeros(len(groups), dtype=int),
        vcp_p=vcp_p,
        fe_p=fe_p,
        fep_names=[t for t, e in zip(terms, est, strict=True) if e],
        vcp_names=[f"{group}_log_sd"],
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = model.fit_vb(rng=np.random.default_rng(seed))
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
        "n_rows_used": len(endog),
        "sampling_fraction": fraction,
        "n_groups": len(groups),
        "group_sd": float(np.exp(res.vcp_mean[0])),
        "group_log_sd_posterior_sd": float(res.vcp_sd[0]),
        "priors": {"fe_sd": fe_p, "log_group_sd_sd": vcp_p},
        "warnings": [f"{w.category.__name__}: {w.message}" for w in caught],
    }
    return RandomInterceptResult(fixed, random, diagnostics["group_sd"], to_python(diagnostics))


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
    **fit_kwargs: Any,
) -> LeaveOneCourtOutResult:
    """Range of the `variable` coefficients and AMEs when each court is left out in turn."""
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
    records = []
    for left_out in [None, *frame.get_column(court).unique().sort().to_list()]:
        if left_out is None:
            fit = full
        else:
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
