"""What a referee asks next: PD rates around each policy date, and court heterogeneity.

Event study (descriptive)
-------------------------
For each policy date and lead-charge group, the monthly PD rate (PD closures / completions) in
the months from `EVENT_WINDOW[0]` to `EVENT_WINDOW[1]` around the date's month, with Wilson
intervals (statsmodels `proportion_confint`, method "wilson"; they stay in [0, 1] and behave for
small counts). Each policy also gets a `post_minus_pre` row: the pooled rate in the six months
after the date minus the six months before, with a Newcombe (hybrid Wilson) interval. Rates are
per month of completion and not adjusted for composition; they show timing, not effects.

Court heterogeneity (empirical Bayes)
-------------------------------------
The main logit with the lead-charge group (criminal vs immigration-only) interacted with court:
each court g gets its own log odds ratio theta_g = b_group + b_{group x g} (the reference court
has b_group), with its model-based SE s_g (a court-specific parameter is identified from one
court only, so a court-clustered SE is degenerate for it). Courts are then shrunk towards the
precision-weighted mean mu with the DerSimonian-Laird between-court variance tau^2:

    theta_g* = mu + B_g (theta_g - mu),  B_g = tau^2 / (tau^2 + s_g^2),  sd_g* = sqrt(B_g) s_g.

Each court is tested against the mean, H0: theta_g = mu, with z_g = (theta_g - mu) / s_g, and the
p-values are adjusted for the number of courts tested by Benjamini-Hochberg (statsmodels `multipletests`, false discovery rate 5%). A
court whose criminal or immigration-only cells have fewer than `RARE_MIN_EVENTS` PD closures (or
non-closures) is listed with its counts and status "rare_not_estimated": its own odds ratio is not
estimable, and the shrunken value would be the prior.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import numpy as np
import polars as pl
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from pipelines.stats.firth import RARE_MIN_EVENTS, is_rare
from pipelines.stats.grouped_logit import fit_grouped_logit

EVENT_WINDOW = (-6, 12)
PRE_POST_MONTHS = 6
FDR = 0.05


def _months_between(a: date, b: date) -> int:
    return (b.year - a.year) * 12 + (b.month - a.month)


def event_study(
    monthly: pl.DataFrame,
    policy_dates: Sequence[tuple[str, str, date]],
    groups: Mapping[str, str],
    alpha: float = 0.05,
) -> pl.DataFrame:
    """`monthly`: month (Date, first of month), lead_charge_category, completions, pd_closures.
    `policy_dates`: (key, label, date). `groups`: category -> group (others are left out)."""
    data = (
        monthly.filter(pl.col("lead_charge_category").is_in(list(groups)))
        .with_columns(pl.col("lead_charge_category").replace_strict(dict(groups)).alias("group"))
        .group_by("month", "group")
        .agg(pl.col("completions").sum(), pl.col("pd_closures").sum())
    )
    rows = []
    for key, label, when in policy_dates:
        start = date(when.year, when.month, 1)
        rel = data.with_columns(
            pl.col("month")
            .map_elements(lambda m, s=start: _months_between(s, m), return_dtype=pl.Int64)
            .alias("relative_month")
        )
        window = rel.filter(pl.col("relative_month").is_between(*EVENT_WINDOW)).sort(
            "group", "relative_month"
        )
        for r in window.iter_rows(named=True):
            lo, hi = proportion_confint(r["pd_closures"], r["completions"], alpha, "wilson")
            rows.append(
                {
                    "policy": key,
                    "policy_label": label,
                    "policy_date": when,
                    "measure": "monthly_rate",
                    "group": r["group"],
                    "relative_month": r["relative_month"],
                    "month": r["month"],
                    "completions": r["completions"],
                    "pd_closures": r["pd_closures"],
                    "estimate": r["pd_closures"] / r["completions"],
                    "ci_low": float(lo),
                    "ci_high": float(hi),
                }
            )
        for g in sorted(set(groups.values())):
            sub = rel.filter(pl.col("group") == g)
            pre = sub.filter(pl.col("relative_month").is_between(-PRE_POST_MONTHS, -1))
            post = sub.filter(pl.col("relative_month").is_between(0, PRE_POST_MONTHS - 1))
            n0, y0 = int(pre["completions"].sum()), int(pre["pd_closures"].sum())
            n1, y1 = int(post["completions"].sum()), int(post["pd_closures"].sum())
            row = {
                "policy": key,
                "policy_label": label,
                "policy_date": when,
                "measure": "post_minus_pre",
                "group": g,
                "completions": n0 + n1,
                "pd_closures": y0 + y1,
            }
            if n0 and n1:
                lo, hi = confint_proportions_2indep(
                    y1, n1, y0, n0, method="newcomb", compare="diff", alpha=alpha
                )
                row.update(estimate=y1 / n1 - y0 / n0, ci_low=float(lo), ci_high=float(hi))
            rows.append(row)
    return pl.DataFrame(rows, infer_schema_length=None)


def court_heterogeneity(
    cells: pl.DataFrame,
    *,
    groups: Mapping[str, str],
    reference_group: str,
    controls: Sequence[str],
    control_reference: Mapping[str, Any] | None = None,
    court: str = "court",
    period: str = "period",
    min_events: int = RARE_MIN_EVENTS,
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Court-by-group log odds ratios, shrunken, with BH-adjusted tests (module docstring)."""
    frame = (
        cells.filter(pl.col("lead_charge_category").is_in(list(groups)))
        .with_columns(pl.col("lead_charge_category").replace_strict(dict(groups)).alias("group"))
        .group_by(
            [
                c
                for c in cells.columns
                if c not in ("n", "pd_closures", "lead_charge_category", "release_id")
            ]
            + ["group"]
        )
        .agg(pl.col("n").sum(), pl.col("pd_closures").sum())
    )
    target = sorted(set(groups.values()) - {reference_group})
    if len(target) != 1:
        raise ValueError(
            f"court heterogeneity needs two groups, got {sorted(set(groups.values()))}"
        )
    target_group = target[0]
    by = (
        frame.group_by(court, "group")
        .agg(pl.col("n").sum(), pl.col("pd_closures").sum())
        .pivot(on="group", index=court, values=["n", "pd_closures"])
        .fill_null(0)
    )
    counts = {r[court]: r for r in by.iter_rows(named=True)}

    def court_ok(r: dict) -> bool:
        return not any(
            is_rare(float(r.get(f"n_{g}", 0)), float(r.get(f"pd_closures_{g}", 0)), min_events)
            for g in (target_group, reference_group)
        )

    usable = sorted(c for c, r in counts.items() if court_ok(r))
    rows_out = []
    diagnostics: dict[str, Any] = {"courts": len(counts), "courts_estimable": len(usable)}
    if len(usable) >= 3:
        sub = frame.filter(pl.col(court).is_in(usable))
        fit = fit_grouped_logit(
            sub,
            categorical=["group", *controls],
            reference={"group": reference_group, **(control_reference or {})},
            fixed_effects=[court, period],
            interactions=[("group", court)],
            cluster=None,
        )
        est_terms = [t for t, e in zip(fit.terms, fit.estimated, strict=True) if e]
        main = f"group[T.{target_group}]"
        ref_court = fit.spec.factor(court).reference
        theta, se, names = [], [], []
        for c in usable:
            involved = [main] + ([] if c == ref_court else [f"{main}:court[T.{c}]"])
            if any(t not in est_terms for t in involved):
                continue
            g = np.zeros(len(est_terms))
            for t in involved:
                g[est_terms.index(t)] = 1.0
            theta.append(float(g @ fit.params))
            se.append(float(np.sqrt(g @ fit.cov @ g)))
            names.append(c)
        theta_a, se_a = np.array(theta), np.array(se)
        w = 1 / se_a**2
        mu_fixed = float((w * theta_a).sum() / w.sum())
        q = float((w * (theta_a - mu_fixed) ** 2).sum())
        k = len(theta_a)
        tau2 = max(0.0, (q - (k - 1)) / (w.sum() - (w**2).sum() / w.sum()))
        wr = 1 / (se_a**2 + tau2)
        mu = float((wr * theta_a).sum() / wr.sum())
        shrink = tau2 / (tau2 + se_a**2)
        post = mu + shrink * (theta_a - mu)
        post_sd = np.sqrt(shrink) * se_a
        z = (theta_a - mu) / se_a
        p = 2 * stats.norm.sf(np.abs(z))
        reject, q_bh, _, _ = multipletests(p, alpha=FDR, method="fdr_bh")
        diagnostics.update(
            mean_log_odds_ratio=mu,
            tau=float(np.sqrt(tau2)),
            cochran_q=q,
            courts_tested=k,
            fdr=FDR,
            courts_differing_at_fdr=int(reject.sum()),
            converged=bool(fit.diagnostics["converged"]),
        )
        for i, c in enumerate(names):
            r = counts[c]
            rows_out.append(
                {
                    court: c,
                    "group": target_group,
                    "reference_group": reference_group,
                    "status": "estimated",
                    "log_odds_ratio": theta_a[i],
                    "std_error": se_a[i],
                    "shrunken_log_odds_ratio": float(post[i]),
                    "shrunken_sd": float(post_sd[i]),
                    "shrinkage_weight": float(shrink[i]),
                    "odds_ratio_shrunken": float(np.exp(post[i])),
                    "p_value_vs_mean": float(p[i]),
                    "q_value_bh": float(q_bh[i]),
                    "differs_at_fdr": bool(reject[i]),
                    **_counts(r, target_group, reference_group),
                }
            )
    done = {r[court] for r in rows_out}
    for c, r in sorted(counts.items()):
        if c in done:
            continue
        rows_out.append(
            {
                court: c,
                "group": target_group,
                "reference_group": reference_group,
                "status": "rare_not_estimated" if c not in usable else "not_estimable",
                **_counts(r, target_group, reference_group),
            }
        )
    return pl.DataFrame(rows_out, infer_schema_length=None), diagnostics


def _counts(r: dict, target: str, reference: str) -> dict[str, float]:
    return {
        "n_group": float(r.get(f"n_{target}", 0)),
        "pd_closures_group": float(r.get(f"pd_closures_{target}", 0)),
        "n_reference": float(r.get(f"n_{reference}", 0)),
        "pd_closures_reference": float(r.get(f"pd_closures_{reference}", 0)),
    }
