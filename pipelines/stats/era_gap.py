"""The criminal-vs-immigration gap in PD closures by enforcement-priority era.

Model: the grouped logit with the lead-charge category, its interaction with the era, the era
itself, the controls, and court and period fixed effects:

    logit p = a + category_k + era_e + (category x era)_ke + controls + court + period.

When periods nest within eras, the era main effect is collinear with the period fixed effects and
is reported as "collinear" (the fit and all predictions are unchanged).

The gap in era e is the average marginal effect of each category level vs the reference level,
averaged over the cells of era e only (`margins.discrete_change` with the era's cell mask):

    AME_{l,e} = (1/N_e) sum_{c in era e} n_c [Lambda(x_c^(l)'b) - Lambda(x_c^(r)'b)],

with delta-method SEs under the court-clustered covariance. The change of the gap relative to the
first era, AME_{l,e} - AME_{l,first}, gets its SE from the difference of the two gradients (the
two AMEs share the same estimated b, so their covariance is accounted for).

Beside the probability-scale gap: the odds ratio of each category vs the reference within each
era, exp(b_l + b_{l x e}) (`odds_ratio_by_era`; constant across eras exactly when the interaction
terms are zero, which is what a rising baseline with no category x era effect gives: the
probability gap can still move with the baseline), a court-clustered Wald test that all category
x era interactions are zero (chi2 and F(q, G-1); `interaction_test`), and one "not estimable"
row per era left out (`not_estimable`).

To compare "criminal" with "immigration" rather than each category, pass `group_levels`, a map
from category to group (e.g. aggravated_felony -> criminal, entry_without_inspection ->
immigration); the cells are re-collapsed on the grouped category before fitting, which keeps the
fit exact.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
from scipy import stats

from pipelines.classify.policy import PRE_POLICY_ERA
from pipelines.stats.design import _level_name, as_polars
from pipelines.stats.eras import ERA_KEYS, ERA_LABELS, era_expr
from pipelines.stats.grouped_logit import GroupedLogitResult, fit_grouped_logit
from pipelines.stats.margins import discrete_change, std_error
from pipelines.stats.result_tables import wald_columns


@dataclass
class EraGapResult:
    fit: GroupedLogitResult
    by_era: (
        pl.DataFrame
    )  # era, era_label, level, reference, ame, std_error, z, p_value, ci_*, n_obs
    change_vs_first_era: pl.DataFrame  # same columns, ame = difference from the first era
    diagnostics: dict[str, Any]
    # era, era_label, level, log_odds_ratio, std_error, odds_ratio, ci_low, ci_high, status
    odds_ratio_by_era: pl.DataFrame = field(default_factory=pl.DataFrame)
    # Wald test that every category x era interaction is zero (chi2 and F(q, G-1))
    interaction_test: dict[str, Any] = field(default_factory=dict)
    # eras with no estimable cells, with the reason
    not_estimable: pl.DataFrame = field(default_factory=pl.DataFrame)


def fit_era_gap(
    cells: Any,
    *,
    category: str = "lead_charge_category",
    era: str = "era",
    date_column: str | None = None,
    group_levels: Mapping[Any, Any] | None = None,
    reference: Any = None,
    controls: Sequence[str] = ("custody", "represented", "nationality_group", "nta_age_band"),
    fixed_effects: Sequence[str] = ("court", "period"),
    outcome_n: str = "n",
    outcome_y: str = "pd_closures",
    cluster: str | None = "court",
    alpha: float = 0.05,
    control_reference: Mapping[str, Any] | None = None,
) -> EraGapResult:
    """Fit the category x era model and return the category AMEs per era.

    The era comes from the cells' `era` column (values from `eras.ERA_KEYS`, e.g. built in SQL with
    `eras.era_case_sql`) or, if `date_column` is given, is derived from that Date column. Cells
    with no era (null or "Pre-Morton": dates before 2011-06-17) are left out and counted in the
    diagnostics.
    """
    frame = as_polars(cells)
    if date_column is not None:
        frame = frame.with_columns(era_expr(date_column).alias(era))
    if era not in frame.columns:
        raise ValueError(f"no era column {era!r} in the cells; pass date_column= to derive it")
    # Before the first memo there is no model era (pipelines.classify.policy calls it "Pre-Morton").
    frame = frame.with_columns(
        pl.when(pl.col(era) == PRE_POLICY_ERA).then(None).otherwise(pl.col(era)).alias(era)
    )
    unknown = set(frame.get_column(era).drop_nulls().unique().to_list()) - set(ERA_KEYS)
    if unknown:
        raise ValueError(f"era column {era!r} has values {sorted(unknown)} not in {ERA_KEYS}")
    no_era = frame.get_column(era).is_null()
    rows_without_era = float(frame.filter(no_era).get_column(outcome_n).sum() or 0)
    frame = frame.filter(~no_era)
    if group_levels is not None:
        keys = [c for c in frame.columns if c not in (outcome_n, outcome_y, date_column)]
        frame = (
            frame.with_columns(pl.col(category).replace_strict(dict(group_levels)))
            .group_by(keys)
            .agg(pl.col(outcome_n).sum(), pl.col(outcome_y).sum())
        )
    ref = {**(control_reference or {}), **({category: reference} if reference is not None else {})}
    era_levels = [k for k in ERA_KEYS if k in set(frame.get_column(era).to_list())]
    fit = fit_grouped_logit(
        frame,
        outcome_n=outcome_n,
        outcome_y=outcome_y,
        categorical=[category, *controls],
        reference=ref,
        fixed_effects=[*fixed_effects, era],
        interactions=[(category, era)],
        cluster=cluster,
        levels={era: era_levels},
        alpha=alpha,
    )
    factor = fit.spec.factor(category)
    era_values = fit.cells.get_column(era).to_numpy()
    by_era, change = [], []
    first: dict[Any, Any] = {}
    for e in era_levels:
        mask = era_values == e
        if not mask.any():  # every cell of the era set aside: reported as not estimable below
            continue
        for level in factor.levels[1:]:
            m = discrete_change(fit, category, level, mask)
            row = {
                "era": e,
                "era_label": ERA_LABELS[e],
                "level": _level_name(level),
                "reference": _level_name(factor.reference),
            }
            by_era.append(
                {
                    **row,
                    "ame": m.value,
                    "std_error": std_error(fit, m.grad),
                    "n_obs": m.n_obs,
                    "status": m.status,
                }
            )
            if level not in first:
                first[level] = (e, m)
                continue
            e0, m0 = first[level]
            change.append(
                {
                    **row,
                    "first_era": e0,
                    "ame": m.value - m0.value,
                    "std_error": std_error(fit, m.grad - m0.grad),
                    "n_obs": m.n_obs,
                    "status": m.status,
                }
            )
    estimated_eras = {r["era"] for r in by_era}
    missing = []
    for e in ERA_KEYS:
        if e in estimated_eras:
            continue
        reason = (
            "no completions in this era in the release"
            if e not in era_levels
            else "every cell of this era was set aside by the separation checks"
        )
        missing.append(
            {"era": e, "era_label": ERA_LABELS[e], "status": "not_estimable", "reason": reason}
        )
    odds = _odds_ratios_by_era(fit, category, era, era_levels, alpha)
    test = _interaction_test(fit)
    diagnostics = {
        "rows_without_era": rows_without_era,
        "eras": era_levels,
        "eras_not_estimable": [m["era"] for m in missing],
        "interaction_test": test,
        "controls": list(controls),
        "fit": fit.diagnostics,
    }
    return EraGapResult(
        fit,
        _with_wald(by_era, alpha),
        _with_wald(change, alpha),
        diagnostics,
        odds,
        test,
        pl.DataFrame(missing) if missing else pl.DataFrame(),
    )


def _odds_ratios_by_era(
    fit: GroupedLogitResult, category: str, era: str, era_levels: list, alpha: float
) -> pl.DataFrame:
    """exp(b_level + b_level:era) per era (the first era has no interaction term), Wald on the
    log scale with the clustered covariance; not estimable if any term involved is not."""
    factor = fit.spec.factor(category)
    era_factor = fit.spec.factor(era)
    est_terms = [t for t, e in zip(fit.terms, fit.estimated, strict=True) if e]
    status = dict(zip(fit.terms, fit.status, strict=True))
    crit = stats.norm.ppf(1 - alpha / 2)
    rows = []
    for e in era_levels:
        for level in factor.levels[1:]:
            main = factor.term(level)
            involved = [main] + (
                [] if e == era_factor.reference else [f"{main}:{era_factor.term(e)}"]
            )
            row = {"era": e, "era_label": ERA_LABELS[e], "level": _level_name(level)}
            if any(status.get(t) != "estimated" for t in involved):
                bad = [f"{t} {status.get(t)}" for t in involved if status.get(t) != "estimated"]
                rows.append({**row, "status": "not_estimable", "reason": "; ".join(bad)})
                continue
            g = np.zeros(len(est_terms))
            for t in involved:
                g[est_terms.index(t)] = 1.0
            b = float(g @ fit.params)
            se = float(np.sqrt(g @ fit.cov @ g))
            rows.append(
                {
                    **row,
                    "log_odds_ratio": b,
                    "std_error": se,
                    "odds_ratio": float(np.exp(b)),
                    "ci_low": float(np.exp(b - crit * se)),
                    "ci_high": float(np.exp(b + crit * se)),
                    "status": "estimated",
                    "reason": "",
                }
            )
    return pl.DataFrame(rows, infer_schema_length=None)


def _interaction_test(fit: GroupedLogitResult) -> dict[str, Any]:
    """Wald test (clustered covariance) that all estimated category x era terms are zero."""
    est_terms = [t for t, e in zip(fit.terms, fit.estimated, strict=True) if e]
    idx = [i for i, t in enumerate(est_terms) if fit.kinds[fit.terms.index(t)] == "interaction"]
    left_out = [
        t
        for t, k, s in zip(fit.terms, fit.kinds, fit.status, strict=True)
        if k == "interaction" and s != "estimated"
    ]
    if not idx:
        return {"test": "wald", "df": 0, "statistic": None, "p_value": None, "left_out": left_out}
    b = fit.params[idx]
    V = fit.cov[np.ix_(idx, idx)]
    w = float(b @ np.linalg.solve(V, b))
    q = len(idx)
    g = fit.diagnostics.get("n_clusters") or 0
    return {
        "test": "wald (court-clustered): every category x era interaction is zero",
        "df": q,
        "statistic": w,
        "p_value": float(stats.chi2.sf(w, q)),
        "f_statistic": w / q,
        "f_df_denominator": g - 1 if g else None,
        "p_value_f": float(stats.f.sf(w / q, q, g - 1)) if g and g > 1 else None,
        "left_out": left_out,
    }


def _with_wald(records: list[dict], alpha: float) -> pl.DataFrame:
    if not records:
        return pl.DataFrame()
    frame = pl.DataFrame(records, nan_to_null=False)
    cols = wald_columns(frame["ame"].to_numpy(), frame["std_error"].to_numpy(), alpha)
    return frame.with_columns(*(pl.Series(k, np.asarray(v)) for k, v in cols.items()))
