"""The main model of a release, end to end on its cells: what `models.*` tables hold.

`fit_main_model` fits the grouped logit (court and period fixed effects, court-clustered) and
assembles the reported tables:

- every term and every margin carries its event counts (rows and PD closures with the term or
  level switched on, counted on all the cohort's cells, before anything is set aside);
- a regressor level that is separated (no PD closure, or only PD closures) or rare (fewer than
  `firth.RARE_MIN_EVENTS` PD closures or non-closures) is reported with Firth's penalized
  estimate and a profile penalized-likelihood interval, and with no standard error, z or
  p-value (column `inference` says which inference a row has);
- every other term has CRV1 Wald inference with the normal law (as before), with Student
  t(G-1), and the effective number of clusters G* (`small_clusters`); the headline terms (the
  lead-charge levels) also get a wild restricted score bootstrap p-value and interval;
- margins (AMEs and predicted probabilities) average over the estimation sample, the cells left
  after the separation checks (column `population`); predicted-probability intervals are built on
  the logit scale. For a rare level the Firth coefficients give the margin, and its interval is
  the margin evaluated at the level's profile-interval end points (the other coefficients at
  their Firth values): no delta-method standard error.

`separation_problems` re-reads the tables and lists every row that would give false precision;
the `separation_reported` asset check fails on any.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from scipy.special import expit
from threadpoolctl import threadpool_limits

from pipelines.stats.design import as_polars, design_matrix_sparse, gram
from pipelines.stats.firth import (
    RARE_MIN_EVENTS,
    FirthFit,
    firth_predicted_mean,
    fit_firth,
    is_rare,
    term_event_counts,
)
from pipelines.stats.grouped_logit import GroupedLogitResult, fit_grouped_logit
from pipelines.stats.margins import cell_codes
from pipelines.stats.result_tables import read_counts
from pipelines.stats.small_clusters import (
    DEFAULT_DRAWS,
    ScoreBootstrap,
    effective_clusters,
    t_columns,
)

HEADLINE_VARIABLE = "lead_charge_category"
POPULATION = "estimation sample: the cohort's cells left after the separation checks"
WALD = "wald_crv1"
FIRTH = "firth_profile_likelihood"
NO_INFERENCE = "none"
# Statuses that must never carry a Wald standard error, z or p-value.
NO_WALD_STATUSES = ("separated", "rare", "separated_limit", "not_identified")
WALD_COLUMNS = ("std_error", "std_error_model", "z", "p_value", "p_value_t")


@dataclass
class MainModel:
    fit: GroupedLogitResult
    firth: FirthFit | None
    tables: dict[str, pl.DataFrame]  # coefficients, odds_ratios, marginal_effects, predicted_...
    diagnostics: dict[str, Any]


def fit_main_model(
    cells: Any,
    *,
    categorical: Sequence[str],
    reference: Mapping[str, Any] | None = None,
    fixed_effects: Sequence[str] = ("court", "period"),
    cluster: str = "court",
    outcome_n: str = "n",
    outcome_y: str = "pd_closures",
    headline: str = HEADLINE_VARIABLE,
    alpha: float = 0.05,
    bootstrap_draws: int = DEFAULT_DRAWS,
    seed: int = 20111117,
    min_events: int = RARE_MIN_EVENTS,
    engine: str = "statsmodels",
    profile_headline_only: bool = False,
) -> MainModel:
    """Fit the main model on `cells` and build its tables (see the module docstring).
    `profile_headline_only`: compute profile intervals only for rare levels of the headline
    variable (for side-by-side comparisons that report only those rows)."""
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit_main_model(
            as_polars(cells),
            categorical=categorical,
            reference=reference,
            fixed_effects=fixed_effects,
            cluster=cluster,
            outcome_n=outcome_n,
            outcome_y=outcome_y,
            headline=headline,
            alpha=alpha,
            bootstrap_draws=bootstrap_draws,
            seed=seed,
            min_events=min_events,
            engine=engine,
            profile_headline_only=profile_headline_only,
        )


def _fit_main_model(
    frame: pl.DataFrame,
    *,
    categorical: Sequence[str],
    reference: Mapping[str, Any] | None,
    fixed_effects: Sequence[str],
    cluster: str,
    outcome_n: str,
    outcome_y: str,
    headline: str,
    alpha: float,
    bootstrap_draws: int,
    seed: int,
    min_events: int,
    engine: str,
    profile_headline_only: bool = False,
) -> MainModel:
    fit = fit_grouped_logit(
        frame,
        outcome_n=outcome_n,
        outcome_y=outcome_y,
        categorical=categorical,
        reference=reference,
        fixed_effects=fixed_effects,
        cluster=cluster,
        alpha=alpha,
        engine=engine,
    )
    k_fit = int(np.sum(fit.estimated))
    if fit.diagnostics["n_obs"] <= k_fit:
        # More coefficients than proceedings in the estimation sample: the fit interpolates and
        # no interval means anything (a release of a few thousand cases, cut by cohort).
        raise ValueError(
            f"{k_fit} coefficients for {fit.diagnostics['n_obs']:.0f} proceedings in the "
            "estimation sample (needs more proceedings than coefficients)"
        )
    n_all, y_all = read_counts(frame, outcome_n, outcome_y)
    positive = n_all > 0
    all_cells, n_all, y_all = frame.filter(pl.Series(positive)), n_all[positive], y_all[positive]
    k_all = sum(s in ("estimated", "separated") for s in fit.status)
    events = float(min(y_all.sum(), n_all.sum() - y_all.sum()))
    if events < k_all:
        # Fewer PD closures (or fewer other outcomes) than coefficients: every coefficient
        # would rest on less than one event, and the penalized fit's profile intervals have no
        # end points worth printing. Said, not fitted.
        raise ValueError(
            f"{events:.0f} events (the rarer outcome) for {k_all} coefficients (needs at least "
            "one event per coefficient)"
        )
    counts = term_event_counts(design_matrix_sparse(all_cells, fit.spec), n_all, y_all, fit.terms)
    coefs = fit.coefficients
    rare = [
        t
        for t, k, s in zip(fit.terms, fit.kinds, fit.status, strict=True)
        if k == "regressor"
        and (s == "separated" or (s == "estimated" and is_rare(*counts[t], min_events)))
    ]
    profiled = [t for t in rare if t.startswith(f"{headline}[")] if profile_headline_only else rare
    firth = fit_firth(all_cells, fit.spec, n_all, y_all, profiled, alpha) if rare else None

    # Small-cluster columns for the estimated terms.
    est = fit.estimated
    Xe = fit.X[:, est]
    p = expit(Xe @ fit.params)
    H_inv = np.linalg.inv(gram(Xe, fit.n * p * (1 - p)))
    clusters = fit.cells.get_column(cluster).to_numpy()
    g = int(fit.diagnostics["n_clusters"])
    gstar = np.full(len(fit.terms), np.nan)
    gstar[est] = effective_clusters(Xe, fit.n, p, clusters, H_inv)
    tcols = t_columns(coefs["estimate"].to_numpy(), coefs["std_error"].to_numpy(), g - 1, alpha)

    wild = {t: (np.nan, np.nan, np.nan) for t in fit.terms}
    est_terms = [t for t, e in zip(fit.terms, est, strict=True) if e]
    # bootstrap_draws <= 0 skips the bootstrap (the side-by-side lead-rule models).
    headline_terms = [
        t
        for t in est_terms
        if bootstrap_draws > 0 and t.startswith(f"{headline}[") and t not in rare
    ]
    weight_kind = ""
    for t in headline_terms:
        k = est_terms.index(t)
        boot = ScoreBootstrap.build(
            Xe, fit.n, fit.y, clusters, k, fit.params, draws=bootstrap_draws, seed=seed
        )
        weight_kind = boot.weight_kind
        row = coefs.row(fit.terms.index(t), named=True)
        lo, hi = boot.interval(row["estimate"], row["std_error"], alpha)
        wild[t] = (boot.p_value(0.0), lo, hi)

    inference, status = [], []
    est_col = coefs["estimate"].to_numpy().copy()
    lo_col, hi_col = coefs["ci_low"].to_numpy().copy(), coefs["ci_high"].to_numpy().copy()
    se_col, z_col, p_col = (coefs[c].to_numpy().copy() for c in ("std_error", "z", "p_value"))
    for i, (t, s) in enumerate(zip(fit.terms, fit.status, strict=True)):
        if t in rare:
            est_col[i] = firth.coefficient(t)
            lo_col[i], hi_col[i] = firth.profile_ci.get(t, (np.nan, np.nan))
            inference.append(FIRTH)
            status.append("separated" if s == "separated" else "rare")
        elif s == "estimated":
            inference.append(WALD)
            status.append(s)
        else:
            inference.append(NO_INFERENCE)
            status.append(s)
    no_wald = np.array([s != "estimated" for s in status])
    for arr in (se_col, z_col, p_col, tcols["p_value_t"], tcols["ci_low_t"], tcols["ci_high_t"]):
        arr[no_wald] = np.nan
    coefficients = pl.DataFrame(
        {
            "term": fit.terms,
            "kind": fit.kinds,
            "estimate": est_col,
            "std_error": se_col,
            "z": z_col,
            "p_value": p_col,
            "ci_low": lo_col,
            "ci_high": hi_col,
            "status": status,
            "inference": inference,
            "n_obs_with_term": [counts[t][0] for t in fit.terms],
            "pd_closures_with_term": [counts[t][1] for t in fit.terms],
            "effective_clusters": gstar,
            "df_t": float(g - 1),
            **{k: v for k, v in tcols.items()},
            "p_value_wild": [wild[t][0] for t in fit.terms],
            "ci_low_wild": [wild[t][1] for t in fit.terms],
            "ci_high_wild": [wild[t][2] for t in fit.terms],
        },
        nan_to_null=True,
    ).with_columns(pl.col("estimate").fill_null(np.nan))
    # +-inf stays (a separated fixed effect); NaN/None becomes null so no table shows a number.
    coefficients = coefficients.with_columns(
        pl.when(pl.col("estimate").is_nan())
        .then(None)
        .otherwise(pl.col("estimate"))
        .alias("estimate")
    )
    odds_ratios = coefficients.filter(pl.col("kind") != "intercept").select(
        "term",
        "kind",
        pl.col("estimate").exp().alias("odds_ratio"),
        pl.col("ci_low").exp(),
        pl.col("ci_high").exp(),
        "p_value",
        "status",
        "inference",
        "n_obs_with_term",
        "pd_closures_with_term",
        "effective_clusters",
        "p_value_t",
        pl.col("ci_low_t").exp(),
        pl.col("ci_high_t").exp(),
        "p_value_wild",
        pl.col("ci_low_wild").exp(),
        pl.col("ci_high_wild").exp(),
    )
    margins = _margins(fit, firth, categorical, rare, all_cells, n_all, y_all, g - 1, alpha)
    probabilities = _probabilities(fit, firth, headline, rare, all_cells, n_all, y_all)
    diagnostics = {
        **fit.diagnostics,
        "rare_min_events": min_events,
        "firth_terms": rare,
        "firth": firth.diagnostics if firth else None,
        "ame_population": POPULATION,
        "bootstrap": {
            "terms": headline_terms,
            "draws": bootstrap_draws,
            "weights": weight_kind,
            "seed": seed,
            "method": "wild restricted score bootstrap (Kline and Santos 2012), test inversion",
        },
        "t_df": g - 1,
    }
    return MainModel(
        fit,
        firth,
        {
            "coefficients": coefficients,
            "odds_ratios": odds_ratios,
            "marginal_effects": margins,
            "predicted_probabilities": probabilities,
        },
        diagnostics,
    )


def _level_counts(
    cells: pl.DataFrame, n: np.ndarray, y: np.ndarray, variable: str
) -> dict[str, tuple[float, float]]:
    values = cells.get_column(variable).cast(pl.String).to_numpy()
    return {
        str(v): (float(n[values == v].sum()), float(y[values == v].sum()))
        for v in np.unique(values)
    }


def _firth_margin(
    fit: GroupedLogitResult, firth: FirthFit, variable: str, level: Any, term: str
) -> tuple[float, float, float]:
    """Firth predicted probability at `level` over the estimation sample, and its value at the
    profile-interval end points of the level's coefficient."""
    b = firth.params_for_prediction()
    j = firth.terms.index(term)
    out = []
    for value in (b[j], *firth.profile_ci.get(term, (np.nan, np.nan))):
        if not np.isfinite(value):
            out.append(np.nan)
            continue
        bb = b.copy()
        bb[j] = value
        out.append(
            firth_predicted_mean(
                fit.cells, fit.n, fit.spec, bb, variable, level, codes=cell_codes(fit)
            )
        )
    return out[0], out[1], out[2]


def _margins(fit, firth, categorical, rare, all_cells, n_all, y_all, df, alpha) -> pl.DataFrame:
    ame = fit.average_marginal_effects(list(categorical))
    rows = []
    level_counts: dict[str, dict[str, tuple[float, float]]] = {}
    for r in ame.iter_rows(named=True):
        if r["variable"] not in level_counts:
            level_counts[r["variable"]] = _level_counts(all_cells, n_all, y_all, r["variable"])
        counts = level_counts[r["variable"]].get(r["level"], (0.0, 0.0))
        r = {**r, "n_in_level": counts[0], "pd_closures_in_level": counts[1]}
        if r["term"] in rare:
            factor = fit.spec.factor(r["variable"])
            level = next(lv for lv in factor.levels if factor.term(lv) == r["term"])
            pp, lo, hi = _firth_margin(fit, firth, r["variable"], level, r["term"])
            ref = firth_predicted_mean(
                fit.cells,
                fit.n,
                fit.spec,
                firth.params_for_prediction(),
                r["variable"],
                factor.reference,
                codes=cell_codes(fit),
            )
            r.update(
                ame=pp - ref,
                std_error=np.nan,
                z=np.nan,
                p_value=np.nan,
                ci_low=lo - ref,
                ci_high=hi - ref,
                status="separated"
                if fit.status[fit.terms.index(r["term"])] == "separated"
                else "rare",
                inference=FIRTH,
            )
        else:
            r["inference"] = WALD if r["status"] == "estimated" else NO_INFERENCE
        rows.append(r)
    frame = pl.DataFrame(rows, nan_to_null=True, infer_schema_length=None)
    t = t_columns(
        frame["ame"].to_numpy(), frame["std_error"].fill_null(np.nan).to_numpy(), df, alpha
    )
    return frame.with_columns(
        *(pl.Series(k, v, nan_to_null=True) for k, v in t.items()),
        pl.lit(POPULATION).alias("population"),
    )


def _probabilities(fit, firth, variable, rare, all_cells, n_all, y_all) -> pl.DataFrame:
    pp = fit.predicted_probabilities(variable)
    counts = _level_counts(all_cells, n_all, y_all, variable)
    factor = fit.spec.factor(variable)
    rows = []
    for r in pp.iter_rows(named=True):
        c = counts.get(r["level"], (0.0, 0.0))
        r = {**r, "n_in_level": c[0], "pd_closures_in_level": c[1]}
        level = next(lv for lv in factor.levels if str(lv) == r["level"])
        term = factor.term(level) if level != factor.reference else None
        if term in rare:
            value, lo, hi = _firth_margin(fit, firth, variable, level, term)
            r.update(
                predicted_probability=value,
                std_error=np.nan,
                std_error_model=np.nan,
                ci_low=lo,
                ci_high=hi,
                status="separated" if fit.status[fit.terms.index(term)] == "separated" else "rare",
                inference=FIRTH,
            )
        else:
            r["inference"] = WALD if r["status"] == "estimated" else NO_INFERENCE
        rows.append(r)
    return pl.DataFrame(rows, nan_to_null=True, infer_schema_length=None).with_columns(
        pl.lit(POPULATION).alias("population")
    )


def separation_problems(tables: Mapping[str, pl.DataFrame]) -> list[str]:
    """Rows that would state false precision: a separated, rare or limit row with a finite
    Wald SE, z or p-value; a probability interval outside [0, 1]; a lead-charge row without its
    event counts. Empty when the tables are honest."""
    problems = []
    for name, frame in tables.items():
        if frame.height == 0 or "status" not in frame.columns:
            continue
        bad_status = pl.col("status").is_in(NO_WALD_STATUSES)
        for col in WALD_COLUMNS:
            if col in frame.columns:
                hit = frame.filter(bad_status & pl.col(col).is_not_null() & pl.col(col).is_finite())
                for r in (
                    hit.select(pl.col("term") if "term" in hit.columns else pl.col("level"))
                    .to_series()
                    .to_list()
                ):
                    problems.append(f"{name}: {r} has status {hit['status'][0]} but a finite {col}")
        if name.startswith("predicted_probabilities"):
            # NaN (no interval) sorts above every number in polars: not an interval outside.
            low, high = (pl.col(c).fill_nan(None) for c in ("ci_low", "ci_high"))
            out = frame.filter((low < 0) | (high > 1))
            problems += [f"{name}: {lv} has an interval outside [0, 1]" for lv in out["level"]]
        count_cols = [
            c
            for c in frame.columns
            if c.startswith("pd_closures_with") or c == "pd_closures_in_level"
        ]
        key = "term" if "term" in frame.columns else "level"
        lead = frame.filter(pl.col(key).str.contains(HEADLINE_VARIABLE)) if key == "term" else frame
        if not count_cols:
            problems.append(f"{name}: no event-count column")
        elif lead.filter(pl.col(count_cols[0]).is_null()).height:
            problems.append(f"{name}: lead-charge rows without event counts")
    return problems


MIN_CLUSTERS = 2


def not_estimable_reason(cells: pl.DataFrame) -> str:
    """Why a cohort cannot be modelled, or '' when it can."""
    if cells.height == 0:
        return "no cells"
    if cells["court"].n_unique() < MIN_CLUSTERS:
        return f"fewer than {MIN_CLUSTERS} courts (clusters)"
    y, n = int(cells["pd_closures"].sum()), int(cells["n"].sum())
    if y == 0 or y == n:
        return "outcome has no variation (no PD closures, or all)"
    if cells["lead_charge_category"].n_unique() < 2:
        return "a single lead-charge category"
    return ""


@dataclass
class ReleaseModels:
    """What the `pd_logit` asset writes: per table a list of (model name, frame)."""

    tables: dict[str, list[tuple[str, pl.DataFrame]]]
    diagnostics: pl.DataFrame  # one row per model
    log: list[str]
    firth_terms: dict[str, list[str]]
    accounting_problems: list[str]


def _diag_row(
    model: str, cells: pl.DataFrame, no_charge: int, reason: str = "", d: dict | None = None
) -> dict:
    d = d or {}
    n_in = int(cells["n"].sum()) if cells.height else 0
    return {
        "model": model,
        "estimated": not reason,
        "reason": reason,
        "converged": bool(d["converged"]) if "converged" in d else None,
        "n_obs": int(d.get("n_obs") or n_in),
        "n_obs_cells_input": n_in,
        "n_obs_perfectly_predicted": int(d.get("rows_perfectly_predicted") or 0),
        # Proceedings of the cohort with no charge record: not in the model cells (no lead
        # charge to compare), counted here so the cohort reconciles.
        "n_obs_no_charge_recorded": int(no_charge),
        "n_cells": int(d.get("n_cells") or cells.height),
        "n_clusters": int(
            d.get("n_clusters") or (cells["court"].n_unique() if cells.height else 0)
        ),
        "t_df": d.get("t_df"),
        "pseudo_r2": d.get("pseudo_r2_mcfadden"),
        "log_likelihood": d.get("log_likelihood"),
        "ame_population": d.get("ame_population"),
        "firth_terms": json.dumps(d.get("firth_terms", [])),
        "firth_converged": (d.get("firth") or {}).get("converged"),
        "bootstrap": json.dumps(d.get("bootstrap"), default=str),
        "separation": json.dumps(d.get("separation", []), default=str),
        "details": json.dumps(d, default=str),
    }


def fit_release_models(
    inputs: Mapping[str, tuple[pl.DataFrame, int]],
    *,
    categorical: Sequence[str],
    reference: Mapping[str, Any],
    fixed_effects: Sequence[str],
    **kwargs: Any,
) -> ReleaseModels:
    """Fit `<cohort>_main` for each cohort: `inputs` maps cohort -> (cells, proceedings without
    a charge record). A cohort that cannot be modelled gets a diagnostics row saying why."""
    tables: dict[str, list[tuple[str, pl.DataFrame]]] = {
        "coefficients": [],
        "odds_ratios": [],
        "marginal_effects": [],
        "predicted_probabilities": [],
    }
    rows, log, firth_terms, problems = [], [], {}, []
    for cohort, (cells, no_charge) in inputs.items():
        model = f"{cohort}_main"
        reason = not_estimable_reason(cells)
        if reason:
            log.append(f"{model}: not estimated: {reason}")
            rows.append(_diag_row(model, cells, no_charge, reason))
            continue
        try:
            main = fit_main_model(
                cells,
                categorical=categorical,
                reference=reference,
                fixed_effects=fixed_effects,
                **kwargs,
            )
        except ValueError as exc:  # not identified: recorded, not a crash
            log.append(f"{model}: not estimated: {exc}")
            rows.append(_diag_row(model, cells, no_charge, f"not identified: {exc}"))
            continue
        d = main.diagnostics
        log.append(
            f"{model}: converged={d['converged']} n={d['n_obs']} clusters={d['n_clusters']} "
            f"firth terms={len(d['firth_terms'])}"
        )
        for t, frame in main.tables.items():
            tables[t].append((model, frame))
        firth_terms[model] = d["firth_terms"]
        if d["n_obs"] + d["rows_perfectly_predicted"] != d["n_obs_input"]:
            problems.append(f"{model}: rows in the fit and set aside do not add up to the input")
        rows.append(_diag_row(model, cells, no_charge, "", d))
    return ReleaseModels(
        tables, pl.DataFrame(rows, infer_schema_length=None), log, firth_terms, problems
    )


LPM_ESTIMAND = (
    "linear probability model: difference in P(PD closure) vs the reference level, least squares "
    "on the logit's estimation sample (not an estimate of the logit's AME)"
)
RI_ESTIMAND = (
    "approximate posterior (mean-field variational Bayes) of the log-odds with court random "
    "intercepts; VB understates posterior spread"
)


def fit_robustness(
    cells: pl.DataFrame,
    *,
    categorical: Sequence[str],
    reference: Mapping[str, Any],
    fixed_effects: Sequence[str],
    ri_max_rows: int,
    loco_engine: str = "sparse_newton",
    min_events: int = RARE_MIN_EVENTS,
) -> tuple[list[tuple[str, pl.DataFrame]], dict[str, str]]:
    """The robustness models of the completions cohort, on the main logit's estimation sample
    (the cells left after the separation checks), with rare and separated levels left out of the
    comparisons that would give them spurious finite values. Returns (model, frame) parts and
    notes on what was not estimated."""
    from pipelines.stats.lpm import fit_grouped_lpm
    from pipelines.stats.robustness import fit_court_random_intercepts, leave_one_court_out

    notes: dict[str, str] = {}
    parts: list[tuple[str, pl.DataFrame]] = []
    try:
        fit = fit_grouped_logit(
            cells,
            categorical=categorical,
            reference=reference,
            fixed_effects=fixed_effects,
            cluster="court",
        )
    except ValueError as exc:  # not identified: recorded, not a crash
        return parts, {"all": f"not identified: {exc}"}
    sample = fit.cells
    counts = term_event_counts(fit.X, fit.n, fit.y, fit.terms)
    not_estimable = {
        t
        for t, k, s in zip(fit.terms, fit.kinds, fit.status, strict=True)
        if k == "regressor" and (s != "estimated" or is_rare(*counts[t], min_events))
    }
    with_counts = pl.DataFrame(
        {
            "term": fit.terms,
            "n_obs_with_term": [counts[t][0] for t in fit.terms],
            "pd_closures_with_term": [counts[t][1] for t in fit.terms],
        }
    )
    kwargs = dict(categorical=categorical, reference=reference)
    try:
        lpm = fit_grouped_lpm(sample, fixed_effects=fixed_effects, cluster="court", **kwargs)
        parts.append(
            (
                "lpm",
                lpm.coefficients.join(with_counts, on="term", how="left").with_columns(
                    pl.lit(LPM_ESTIMAND).alias("estimand"),
                    pl.lit(float(lpm.diagnostics["n_obs"])).alias("n_obs_model"),
                ),
            )
        )
    except ValueError as exc:
        notes["lpm"] = f"not identified: {exc}"
    try:
        ri = fit_court_random_intercepts(
            sample,
            fixed_effects=[f for f in fixed_effects if f != "court"],
            max_rows=ri_max_rows,
            start=fit.params_dict(),  # the court fixed effects' fit: same optimum, fewer steps
            **kwargs,
        )
        d = ri.diagnostics
        frame = ri.fixed_effects.join(with_counts, on="term", how="left").with_columns(
            pl.when(pl.col("status") == "estimated")
            .then(pl.lit("approximate_vb"))
            .otherwise(pl.col("status"))
            .alias("status"),
            pl.lit(RI_ESTIMAND).alias("estimand"),
            pl.lit(float(d["group_sd"])).alias("court_sd"),
            pl.lit(float(d["group_log_sd_posterior_sd"])).alias("court_log_sd_posterior_sd"),
            pl.lit(bool(d["converged"])).alias("converged"),
            pl.lit(float(d["sampling_fraction"])).alias("sampling_fraction"),
            pl.lit(float(d["n_rows_used"])).alias("n_rows_used"),
        )
        # Rare levels: the VB posterior is driven by the prior; not reported as an estimate.
        rare = pl.col("term").is_in(sorted(not_estimable))
        frame = frame.with_columns(
            *(
                pl.when(rare).then(None).otherwise(pl.col(c)).alias(c)
                for c in ("posterior_mean", "posterior_sd", "ci_low", "ci_high")
            ),
            pl.when(rare)
            .then(pl.lit("rare_or_separated_not_reported"))
            .otherwise("status")
            .alias("status"),
        )
        parts.append(("court_random_intercepts", frame))
    except ValueError as exc:
        notes["court_random_intercepts"] = f"not identified: {exc}"
    try:
        loco = leave_one_court_out(
            sample, fixed_effects=fixed_effects, engine=loco_engine, **kwargs
        ).summary
        loco = loco.filter(~pl.col("term").is_in(sorted(not_estimable)))
        parts.append(("leave_one_court_out", loco.join(with_counts, on="term", how="left")))
        left = sorted(t for t in not_estimable if t.startswith(f"{HEADLINE_VARIABLE}["))
        if left:
            notes["leave_one_court_out"] = "rare or separated, not refitted: " + ", ".join(left)
    except ValueError as exc:
        notes["leave_one_court_out"] = f"not identified: {exc}"
    return parts, notes


def era_gap_parts(result: Any) -> list[tuple[str, pl.DataFrame]]:
    """The rows of `models.era_gap` by measure, from an `era_gap.EraGapResult`."""
    parts = [("by_era", result.by_era), ("change_vs_first_era", result.change_vs_first_era)]
    if result.odds_ratio_by_era.height:
        parts.append(("odds_ratio_by_era", result.odds_ratio_by_era))
    if result.not_estimable.height:
        parts.append(("by_era", result.not_estimable))
    test = {k: v for k, v in result.interaction_test.items() if k != "left_out"}
    parts.append(
        (
            "interaction_test",
            pl.DataFrame(
                [
                    {
                        "status": "estimated"
                        if test.get("statistic") is not None
                        else "not_estimable",
                        "statistic": test.get("statistic"),
                        "df": test.get("df"),
                        "p_value": test.get("p_value"),
                        "p_value_f": test.get("p_value_f"),
                        "details": json.dumps(result.diagnostics, default=str),
                    }
                ]
            ),
        )
    )
    return [(m, p) for m, p in parts if p.height]


LEAD_RULES = ("most_serious", "first_charged", "most_serious_not_withdrawn")
POPULATION_VARIANTS = ("no_venue_change_or_transfer", "case_level")
# The PD bounds refitted as the completions model's outcome (variants of kind `outcome` in
# marts.model_cells_completion_variants): the widest bound and the one restricted to ICE's
# case-review months (inside the default window it has the widest bound's cells, and
# referee_tables reuses that fit). Each other bound is one more fit of the main model: on the
# sample the two add about a tenth to referee_tables' fits, the docket-review bound alone would
# add about a fifth more, for the terminations of a few courts' review weeks; it stays in the
# mart's cells (and in marts.pd_closures_by_category) without a model of its own.
PD_BOUND_VARIANTS = ("outcome_with_terminations", "outcome_with_review_terminations")


def fit_lead_rule_comparison(
    cells: pl.DataFrame,
    *,
    categorical: Sequence[str],
    reference: Mapping[str, Any],
    fixed_effects: Sequence[str],
    column: str = "lead_rule",
    values: Sequence[str] = LEAD_RULES,
) -> tuple[pl.DataFrame, dict[str, str]]:
    """The main model's lead-charge rows (coefficient, odds ratio, AME, counts, inference) for
    each value of `column` in `cells` (the lead-charge rule, or a population variant), side by
    side in one long table."""
    parts, notes = [], {}
    for rule in values:
        sub = cells.filter(pl.col(column) == rule).drop(column)
        reason = not_estimable_reason(sub)
        if reason:
            notes[rule] = reason
            continue
        try:
            main = fit_main_model(
                sub,
                categorical=categorical,
                reference=reference,
                fixed_effects=fixed_effects,
                bootstrap_draws=0,
                profile_headline_only=True,
            )
        except ValueError as exc:
            notes[rule] = f"not identified: {exc}"
            continue
        coef = main.tables["coefficients"].filter(
            pl.col("term").str.starts_with(f"{HEADLINE_VARIABLE}[")
        )
        ame = main.tables["marginal_effects"].select(
            "term",
            pl.col("ame"),
            pl.col("ci_low").alias("ame_ci_low"),
            pl.col("ci_high").alias("ame_ci_high"),
        )
        parts.append(
            coef.select(
                pl.lit(rule).alias(column),
                "term",
                "estimate",
                "std_error",
                "p_value",
                "ci_low",
                "ci_high",
                pl.col("estimate").exp().alias("odds_ratio"),
                "status",
                "inference",
                "n_obs_with_term",
                "pd_closures_with_term",
                "effective_clusters",
                "p_value_t",
            ).join(ame, on="term", how="left")
        )
    frame = pl.concat(parts, how="diagonal_relaxed") if parts else pl.DataFrame()
    return frame, notes
