"""The appendix's paragraphs on the models a referee asks for next (Dagster-free).

One short paragraph each for the event study, the court heterogeneity, the lead-charge rules,
the competing risks of the pending cohort, the population variants and the models with a PD
bound as the outcome: what it estimates, on which population, what a reader may and may not
conclude. Every number comes from the release's
tables (models.*, marts.pending_competing_risks); none is written here. A rate or share whose
count is from 1 to threshold - 1, or is suppressed in the report, is not printed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

import duckdb
import polars as pl

from pipelines.publish.disclosure import Key
from pipelines.publish.stored import ReleaseSettings
from pipelines.warehouse.db import fetch_frame, table_exists

GROUP_NAMES = {"criminal": "criminal", "immigration": "immigration"}
VARIANT_LABELS = {
    "no_venue_change_or_transfer": "without completions by change of venue or transfer",
    "case_level": "one proceeding per case",
}
# The PD bounds refitted as the outcome (models.pd_bound_models), in the order printed.
BOUND_LABELS = {
    "outcome_with_terminations": "with terminations",
    "outcome_with_review_terminations": "with review terminations",
}
RULE_LABELS = {
    "most_serious": "most serious",
    "first_charged": "first charged",
    "most_serious_not_withdrawn": "most serious not withdrawn",
}


def _frame(con, sql: str, release_id: str) -> pl.DataFrame:
    return fetch_frame(con, sql, [release_id] * sql.count("?"))


def _pp(v) -> str:
    return "n/a" if v is None or v != v else f"{100 * v:.1f}"


def _ci_pp(lo, hi) -> str:
    return f"[{_pp(lo)}, {_pp(hi)}]"


def _small(n, threshold: int) -> bool:
    return n is not None and n == n and 1 <= n < threshold


def _labels(con, release_id: str) -> dict[str, str]:
    if not table_exists(con, "staging.severity_categories"):
        return {}
    return dict(
        _frame(
            con,
            "SELECT category, label FROM staging.severity_categories WHERE release_id = ? "
            "ORDER BY severity_rank",
            release_id,
        ).iter_rows()
    )


def _term_category(term: str) -> str:
    return term.split("[T.", 1)[1].rstrip("]") if "[T." in term else term


def event_study_paragraph(con, stored: ReleaseSettings) -> str | None:
    rid, t = stored.release_id, stored.suppress_below
    if not table_exists(con, "models.event_study"):
        return None
    es = _frame(con, "SELECT * FROM models.event_study WHERE release_id = ?", rid)
    if es.height == 0:
        return None
    monthly = es.filter(pl.col("measure") == "monthly_rate")
    pre_post = es.filter(pl.col("measure") == "post_minus_pre").sort("policy_date", "group")
    if monthly.height == 0:
        # Policy dates but no completions in any month around them: pooled rows only.
        return (
            "models.event_study has no month with completions around any policy date in this "
            "release, so there is no event study to read."
        )
    lo, hi = monthly["relative_month"].min(), monthly["relative_month"].max()
    parts = []
    for (policy,), sub in pre_post.group_by(["policy"], maintain_order=True):
        cells = []
        for r in sub.iter_rows(named=True):
            # The difference comes from pooled counts: not printed when they are small cells.
            if _small(r["pd_closures"], t) or _small(r["completions"], t):
                shown = "not shown (small cell)"
            elif r["estimate"] is None:
                shown = "not computable"
            else:
                shown = f"{_pp(r['estimate'])} {_ci_pp(r['ci_low'], r['ci_high'])}"
            cells.append(f"{GROUP_NAMES.get(r['group'], r['group'])} {shown}")
        parts.append(f"{policy}: " + ", ".join(cells))
    n_policies = monthly["policy"].n_unique()
    return (
        f"For each of the {n_policies} policy dates, models.event_study holds the monthly PD "
        f"rate (PD closures / completions) of the criminal and the immigration lead-charge "
        f"groups from {-lo} months before to {hi} months after the date's month, with 95% "
        f"Wilson intervals, on every proceeding completed in those months (not only the "
        f"analysis window); the event-study chart draws them. The pooled rate in the six months "
        f"after minus the six months before, in percentage points with Newcombe 95% intervals: "
        + "; ".join(parts)
        + ". A reader may read the timing of changes in the raw rate around a memo. A reader may "
        "not read them as effects of the memo: the rates are not adjusted for who was completed "
        "when, other changes fall in the same months, the windows of close dates overlap, and "
        "the intervals are pointwise, not simultaneous."
    )


def court_heterogeneity_paragraph(con, stored: ReleaseSettings) -> str | None:
    rid = stored.release_id
    if not table_exists(con, "models.court_heterogeneity"):
        return None
    rows = _frame(con, "SELECT * FROM models.court_heterogeneity WHERE release_id = ?", rid)
    if rows.height == 0:
        return None
    details = json.loads(rows["details"][0] or "{}")
    n, k = details.get("courts", rows.height), details.get("courts_estimable", 0)
    head = (
        "models.court_heterogeneity gives each court its own odds ratio of a PD closure for a "
        "criminal against an immigration lead charge (the main completions logit with a "
        "group-by-court interaction) and shrinks it towards the precision-weighted mean by "
        "empirical Bayes (DerSimonian-Laird between-court variance). "
    )
    if "tau" not in details:
        body = (
            f"In this release {k} of {n} courts have enough PD closures and other completions in "
            "both groups (at least three such courts are needed), so no court-level odds ratio "
            "is estimated and the report has no court table; each court is listed with its "
            "status. "
        )
    else:
        est = rows.filter(pl.col("status") == "estimated").sort("shrunken_log_odds_ratio")
        lo = est.row(0, named=True) if est.height else None
        hi = est.row(est.height - 1, named=True) if est.height else None
        span = (
            f" Shrunken odds ratios run from {lo['odds_ratio_shrunken']:.2f} ({lo['court']}) to "
            f"{hi['odds_ratio_shrunken']:.2f} ({hi['court']})."
            if lo and hi
            else ""
        )
        body = (
            f"{details.get('courts_tested', k)} of {n} courts are estimable; the between-court SD "
            f"of the log odds ratio is {details['tau']:.2f} around a mean odds ratio of "
            f"{math.exp(details['mean_log_odds_ratio']):.2f}.{span} Each court is tested against "
            f"the mean with Benjamini-Hochberg adjustment over the courts tested (false discovery "
            f"rate {details.get('fdr', 0.05):.0%}): {details.get('courts_differing_at_fdr', 0)} "
            "differ. "
        )
    return (
        head
        + body
        + "A reader may conclude how much the criminal-immigration contrast varies between "
        "courts beyond chance. A reader may not rank courts or judges from it: a court's own "
        "standard error is model-based (one court gives one cluster), shrinkage pulls small "
        "courts to the mean, and courts differ in their dockets in ways the controls miss."
    )


def lead_rule_paragraph(con, stored: ReleaseSettings) -> str | None:
    rid = stored.release_id
    if not table_exists(con, "models.lead_rule_comparison"):
        return None
    rows = _frame(con, "SELECT * FROM models.lead_rule_comparison WHERE release_id = ?", rid)
    rows = rows.filter(pl.col("term").str.starts_with("lead_charge_category"))
    if rows.height == 0:
        return None
    labels = _labels(con, rid)
    rules = [r for r in RULE_LABELS if r in set(rows["lead_rule"].to_list())]
    parts = []
    for term in rows["term"].unique(maintain_order=True).to_list():
        sub = {r["lead_rule"]: r for r in rows.filter(pl.col("term") == term).iter_rows(named=True)}
        if not all(rule in sub for rule in rules):
            continue
        cat = _term_category(term)
        vals = ", ".join(
            f"{_pp(sub[rule]['ame'])} {_ci_pp(sub[rule]['ame_ci_low'], sub[rule]['ame_ci_high'])}"
            for rule in rules
        )
        parts.append(f"{labels.get(cat, cat.replace('_', ' '))} {vals}")
    return (
        "models.lead_rule_comparison refits the completions model with the lead charge chosen "
        "three ways (" + ", ".join(RULE_LABELS[r] for r in rules) + "), on the proceedings "
        "completed in the window; separated and rare categories get Firth estimates with "
        "profile-likelihood intervals, never a Wald standard error. Average marginal effects "
        "against entry without inspection, in percentage points with 95% intervals, in that "
        "order of rules: "
        + "; ".join(parts)
        + ". A reader may conclude whether the lead-charge pattern depends on the rule that picks "
        "the lead charge. A reader may not treat the differences as tests: each rule moves "
        "proceedings between categories, so the categories are different populations."
    )


def competing_risks_paragraph(con, stored: ReleaseSettings, kinds: Mapping[Key, str]) -> str | None:
    rid, t = stored.release_id, stored.suppress_below
    if not table_exists(con, "marts.pending_competing_risks"):
        return None
    cr = _frame(con, "SELECT * FROM marts.pending_competing_risks WHERE release_id = ?", rid)
    if cr.height == 0:
        return None
    horizon = cr["horizon_months"].max()
    at = cr.filter(pl.col("horizon_months") == horizon)
    labels = _labels(con, rid)
    order = list(labels)
    parts = []
    for r in sorted(
        at.iter_rows(named=True),
        key=lambda r: (r["lead_charge_category"] != "all", _rank(order, r["lead_charge_category"])),
    ):
        cat = r["lead_charge_category"]
        name = "all categories" if cat == "all" else labels.get(cat, cat.replace("_", " "))
        label_key = "Total" if cat == "all" else labels.get(cat, cat)
        n_hidden = _small(r["proceedings"], t) or ("pending", "category", label_key) in kinds
        show_pd = not (n_hidden or _small(r["pd"], t))
        # The other share with the PD share gives the still-pending count: both must be safe.
        show_other = not (
            n_hidden or _small(r["other_completion"], t) or _small(r["still_pending"], t)
        )
        pd_txt = f"{_pp(r['cumulative_incidence_pd'])}%" if show_pd else "not shown"
        other_txt = f"{_pp(r['cumulative_incidence_other'])}%" if show_other else "not shown"
        parts.append(f"{name} {pd_txt} PD, {other_txt} other")
    horizon_date = at["horizon_date"][0]
    return (
        f"marts.pending_competing_risks follows every proceeding pending on {stored.pending_on} "
        "through all the proceedings of its case (a PD closure after a change of venue counts) "
        f"to fixed horizons; at {horizon} months ({horizon_date}) the cumulative incidence of a "
        "PD closure and of any other completion, by lead charge of the pending proceeding: "
        + "; ".join(parts)
        + " (not shown: a count behind the share is a small cell). With censoring only at the "
        "horizon these are shares of the cohort; the rest is still pending. A reader may compare "
        "how often each category left the docket by PD before any other completion. A reader may "
        "not read the other-completion share as PD refused, nor compare categories as if they "
        "had the same mix of custody and court: these shares carry no controls."
    )


def _rank(order: list[str], cat: str) -> int:
    return order.index(cat) if cat in order else len(order)


def population_variants_paragraph(con, stored: ReleaseSettings) -> str | None:
    rid = stored.release_id
    if not table_exists(con, "models.population_variants"):
        return None
    rows = _frame(con, "SELECT * FROM models.population_variants WHERE release_id = ?", rid)
    rows = rows.filter(pl.col("term").str.starts_with("lead_charge_category"))
    if rows.height == 0:
        return None
    main = (
        _frame(
            con,
            "SELECT term, ame FROM models.marginal_effects WHERE release_id = ? "
            "AND model = 'completions_main' AND variable = 'lead_charge_category'",
            rid,
        )
        if table_exists(con, "models.marginal_effects")
        else pl.DataFrame(schema={"term": pl.String, "ame": pl.Float64})
    )
    main_ame = dict(main.iter_rows())
    labels = _labels(con, rid)
    variants = [v for v in VARIANT_LABELS if v in set(rows["variant"].to_list())]
    parts = []
    for term in rows["term"].unique(maintain_order=True).to_list():
        sub = {r["variant"]: r for r in rows.filter(pl.col("term") == term).iter_rows(named=True)}
        cat = _term_category(term)
        vals = [f"main model {_pp(main_ame.get(term))}"] + [
            f"{VARIANT_LABELS[v]} {_pp(sub[v]['ame'])} "
            f"{_ci_pp(sub[v]['ame_ci_low'], sub[v]['ame_ci_high'])}"
            for v in variants
            if v in sub
        ]
        parts.append(f"{labels.get(cat, cat.replace('_', ' '))}: " + ", ".join(vals))
    return (
        "models.population_variants refits the completions model on two other populations: "
        "the completions without those by change of venue or transfer (which end a proceeding "
        "but not the case, so their 'not PD' is no outcome), and one proceeding per case (its "
        "last in the window), so that a case with several proceedings counts once. Average "
        "marginal effects in percentage points, 95% intervals: "
        + "; ".join(parts)
        + ". A reader may conclude how much the estimates rest on counting venue changes as "
        "completions and on repeated proceedings. A reader may not pick the variant with the "
        "preferred result: the main model is the one specified in advance."
    )


def _bound_rows(con, rid: str) -> pl.DataFrame:
    if not table_exists(con, "models.pd_bound_models"):
        return pl.DataFrame()
    rows = _frame(con, "SELECT * FROM models.pd_bound_models WHERE release_id = ?", rid)
    return rows.filter(pl.col("term").str.starts_with("lead_charge_category"))


def _strict_rows(con, rid: str) -> dict[str, dict]:
    """The main model's lead-charge AMEs (the strict rule), by term."""
    if not table_exists(con, "models.marginal_effects"):
        return {}
    rows = _frame(
        con,
        "SELECT term, ame, ci_low AS ame_ci_low, ci_high AS ame_ci_high, status, "
        "n_in_level AS n_obs_with_term, pd_closures_in_level AS pd_closures_with_term "
        "FROM models.marginal_effects WHERE release_id = ? AND model = 'completions_main' "
        "AND variable = 'lead_charge_category'",
        rid,
    )
    return {r["term"]: r for r in rows.iter_rows(named=True)}


def _bound_ame(r: dict | None, threshold: int) -> str:
    # An AME resting on 1 to threshold - 1 PD closures, or other completions, of its category is
    # not printed: the neighbouring paragraphs print nothing from a small cell either.
    if r is None or r.get("ame") is None or r["ame"] != r["ame"]:
        return "not estimable"
    pd_n, n = r.get("pd_closures_with_term"), r.get("n_obs_with_term")
    other = None if pd_n is None or n is None else n - pd_n
    if _small(pd_n, threshold) or _small(other, threshold):
        return "not shown (small cell)"
    return f"{_pp(r['ame'])} {_ci_pp(r['ame_ci_low'], r['ame_ci_high'])}"


def pd_bounds_paragraph(con, stored: ReleaseSettings) -> str | None:
    rid, t = stored.release_id, stored.suppress_below
    rows = _bound_rows(con, rid)
    if rows.height == 0:
        return None
    strict = _strict_rows(con, rid)
    labels = _labels(con, rid)
    order = list(labels)
    variants = [v for v in BOUND_LABELS if v in set(rows["variant"].to_list())]
    same = {
        r["variant"]: r["same_cells_as"]
        for r in rows.select("variant", "same_cells_as").unique().iter_rows(named=True)
        if r["same_cells_as"]
    }
    terms = sorted(
        rows["term"].unique().to_list(), key=lambda term: _rank(order, _term_category(term))
    )
    parts = []
    for term in terms:
        sub = {r["variant"]: r for r in rows.filter(pl.col("term") == term).iter_rows(named=True)}
        cat = _term_category(term)
        vals = [f"strict (main model) {_bound_ame(strict.get(term), t)}"] + [
            f"{BOUND_LABELS[v]} {_bound_ame(sub.get(v), t)}" for v in variants if v not in same
        ]
        parts.append(f"{labels.get(cat, cat.replace('_', ' '))}: " + ", ".join(vals))
    same_txt = "".join(
        f" In this release {BOUND_LABELS[v]} has the same cells as {BOUND_LABELS[s]} (the window "
        "lies inside the review months), so its model is that model and is not repeated below."
        for v, s in same.items()
        if v in BOUND_LABELS and s in BOUND_LABELS
    )
    return (
        "models.pd_bound_models refits the completions model on its own cells with a PD bound "
        "as the outcome instead of the strict rule (OTHER_COMP Y or M, DEC_CODE I): the strict "
        "rule plus every termination (DEC_CODE T) of a removal-type case (with terminations), "
        "and the same with the terminations of ICE's case-review months only (with review "
        "terminations); data/reference/pd_variants.csv defines them." + same_txt + " Average "
        "marginal effects against entry without inspection, in percentage points with 95% "
        "intervals (not shown: the category's PD closures or other completions under that "
        "outcome are a small cell): "
        + "; ".join(parts)
        + ". These are bounds on the PD terminations a current release no longer codes as PD, "
        "not findings: a termination may have nothing to do with PD (charges not sustained, "
        "status granted elsewhere, a respondent who died), so a bound's effect mixes PD with "
        "every other reason a case is terminated. A reader may conclude how far the lead-charge "
        "pattern could move if every termination were a PD closure. A reader may not read a "
        "bound's effect as the effect of the charges on PD closures, nor take the strict and the "
        "bound's effects as an interval for it: the bounds bound the counts of PD closures, not "
        "the effects, since the PD terminations among all terminations may fall on either "
        "group."
    )


def pd_bounds_note(con, stored: ReleaseSettings) -> str | None:
    """One sentence for the appendix's section on what the release's codes can show: where the
    models with the bounds as outcome are, and that they are bounds."""
    rows = _bound_rows(con, stored.release_id)
    if rows.height == 0:
        return None
    names = [BOUND_LABELS[v] for v in BOUND_LABELS if v in set(rows["variant"].to_list())]
    return (
        "The completions model refitted with the bounds as its outcome ("
        + " and ".join(names)
        + "; models.pd_bound_models, paragraph 'PD bounds as the outcome' below) shows how far "
        "the lead-charge effects could move if every such termination were a PD closure: "
        "bounds, not findings."
    )


def model_paragraphs(
    con: duckdb.DuckDBPyConnection, stored: ReleaseSettings, kinds: Mapping[Key, str]
) -> list[tuple[str, str]]:
    """(heading, paragraph) for each of the six analyses the release has tables for."""
    out = [
        ("Event study", event_study_paragraph(con, stored)),
        ("Court heterogeneity", court_heterogeneity_paragraph(con, stored)),
        ("Lead-charge rules", lead_rule_paragraph(con, stored)),
        ("Competing risks of the pending cohort", competing_risks_paragraph(con, stored, kinds)),
        ("Population variants", population_variants_paragraph(con, stored)),
        ("PD bounds as the outcome", pd_bounds_paragraph(con, stored)),
    ]
    return [(h, p) for h, p in out if p]
