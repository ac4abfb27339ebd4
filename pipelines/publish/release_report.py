"""Charts and tables for one release, read from the warehouse (Dagster-free).

`report_inputs` turns the marts and model tables into the input frames of each chart family
(pipelines.charts) and the article's tables (pipelines.tables); `write_release_report` exports
them all under reports/<release>/ with provenance, the SYNTHETIC mark for the sample, and
small-cell suppression. Used by the `reports` asset and by `pdpipeline export`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb
import polars as pl

from pipelines.charts.export import CHART_FORMATS
from pipelines.charts.provenance import Provenance
from pipelines.publish.cells import (
    CELL_MAPS,
    GROUP_SEP,
    add_frame,
    apply_suppression,
    build_equations,
)
from pipelines.publish.disclosure import CellSet, protect
from pipelines.publish.index_page import build_report
from pipelines.publish.stored import ReleaseSettings, stored_settings
from pipelines.settings import Settings
from pipelines.tables.layouts import TableSpec, closures_table
from pipelines.warehouse.db import fetch_frame, table_exists

EOIR_SOURCE = "EOIR case data (FOIA)"
ICE_SOURCE = "ICE ERO-LESA removals (FOIA)"

MODEL_COLUMN_LABELS = {
    "model": "Model",
    "lead_charge": "Lead charge",
    "odds_ratio": "Odds ratio",
    "or_ci": "95% CI",
    "ame_pp": "AME (pp)",
    "ame_ci": "95% CI",
}


def _q(con: duckdb.DuckDBPyConnection, sql: str, release_id: str) -> pl.DataFrame:
    return fetch_frame(con, sql, [release_id] * sql.count("?"))


def closures_frame(con, release_id: str) -> pl.DataFrame:
    return _q(
        con,
        # Every category of the article table, and one with pending cases but no PD closure in
        # the window (e.g. no charge recorded): the pending column must add up to the same total
        # in every file.
        """SELECT r.lead_charge_category, coalesce(c.category_label, r.category_label)
                      AS category_label,
                  coalesce(c.pd_closures, 0) AS pd_closures,
                  coalesce(c.pct_of_pd_closures, 0.0) AS pct_of_pd_closures,
                  coalesce(c.admin_closed, 0) AS admin_closed,
                  coalesce(c.terminated, 0) AS terminated,
                  r.share_of_pending AS pending_share, r.pending AS pending_cases
           FROM marts.pd_rates_by_category r
           LEFT JOIN marts.pd_closures_by_category c USING (release_id, lead_charge_category)
           WHERE r.release_id = ? AND r.lead_charge_category <> 'total'
             AND (c.lead_charge_category IS NOT NULL OR r.pending > 0)
           ORDER BY coalesce(c.row_order, r.row_order), r.row_order""",
        release_id,
    )


def rates_over_time_frame(con, release_id: str) -> pl.DataFrame:
    """Quarterly PD rates per lead charge with 95% Wilson intervals."""
    from pipelines.charts.courts import wilson_interval

    # Quarters: monthly counts per category are too small to read in most courts' data.
    frame = _q(
        con,
        """SELECT date_trunc('quarter', m.month)::DATE AS period, m.lead_charge_category,
                  s.label AS category_label, sum(m.completions)::BIGINT AS completions,
                  sum(m.pd_closures)::BIGINT AS pd_closures,
                  sum(m.pd_closures) / sum(m.completions) AS pd_rate
           FROM marts.pd_by_month m
           JOIN staging.severity_categories s
             ON s.release_id = m.release_id AND s.category = m.lead_charge_category
           WHERE m.release_id = ?
           GROUP BY ALL ORDER BY any_value(s.severity_rank), period""",
        release_id,
    )
    low, high = wilson_interval(frame["pd_closures"].to_numpy(), frame["completions"].to_numpy())
    return frame.with_columns(
        pl.Series("ci_low", low).fill_nan(None), pl.Series("ci_high", high).fill_nan(None)
    )


def court_label(code: str, city: str | None) -> str:
    """``New York, NY (NYC)``: several courts share a base city, so the code keeps them apart."""
    if not city or city == code:
        return code
    place, _, state = city.partition(",")
    place = place.strip().title()
    return f"{place}, {state.strip()} ({code})" if state else f"{place} ({code})"


def courts_frame(con, release_id: str) -> pl.DataFrame:
    from pipelines.charts.courts import add_rates

    frame = _q(
        con,
        """SELECT value AS court_code, value_label AS city, completions, pd_closures
           FROM marts.pd_by_group
           WHERE release_id = ? AND dimension = 'court' ORDER BY completions DESC, value""",
        release_id,
    )
    labels = [court_label(c, t) for c, t in zip(frame["court_code"], frame["city"], strict=True)]
    frame = frame.with_columns(pl.Series("court", labels, dtype=pl.String)).select(
        "court", "court_code", "city", "completions", "pd_closures"
    )
    # The all-courts rate is drawn as a rule; it comes from the totals, which are published.
    total_n, total_k = frame["completions"].sum(), frame["pd_closures"].sum()
    national = total_k / total_n if total_n else None
    return add_rates(frame).with_columns(
        pl.lit(national, dtype=pl.Float64).alias("all_courts_rate")
    )


def forest_frame(con, release_id: str, model: str = "completions_main") -> pl.DataFrame:
    """Odds ratios per lead-charge category (estimated terms) plus the reference category."""
    ors = _q(
        con,
        f"""SELECT regexp_extract(o.term, '\\[T\\.(.*)\\]', 1) AS category, o.odds_ratio AS estimate,
                   o.ci_low, o.ci_high, o.status
            FROM models.odds_ratios o
            WHERE o.release_id = ? AND o.model = '{model}' AND o.term LIKE 'lead_charge_category%'""",
        release_id,
    )
    cats = _q(
        con,
        "SELECT category, label, severity_rank FROM staging.severity_categories WHERE release_id = ?",
        release_id,
    )
    ref = pl.DataFrame(
        {
            "category": ["entry_without_inspection"],
            "estimate": [1.0],
            "ci_low": [None],
            "ci_high": [None],
            "status": ["reference"],
        },
        schema=ors.schema,
    )
    frame = (
        pl.concat([ors.filter(pl.col("status") == "estimated"), ref])
        .join(cats, on="category", how="inner")
        .sort("severity_rank")
    )
    return frame.select(
        pl.col("label").alias("term"),
        "estimate",
        "ci_low",
        "ci_high",
        (pl.col("status") == "reference").alias("is_reference"),
    )


def era_gap_frame(con, release_id: str) -> pl.DataFrame:
    if not table_exists(con, "models.era_gap"):
        return pl.DataFrame(
            schema={
                "era": pl.String,
                "estimate": pl.Float64,
                "ci_low": pl.Float64,
                "ci_high": pl.Float64,
            }
        )
    return _q(
        con,
        """SELECT era, ame AS estimate, ci_low, ci_high FROM models.era_gap
           WHERE release_id = ? AND measure = 'by_era' AND status = 'estimated' ORDER BY era_label""",
        release_id,
    )


def removals_frame(con, release_id: str) -> pl.DataFrame:
    from pipelines.ice.published import level_panels

    by_fy = _q(con, "SELECT * FROM marts.removals_by_fy WHERE release_id = ?", release_id)
    return level_panels(by_fy)


MODEL_LABELS = {
    "completions_main": "Completions",
    "pending_main": "Pending docket",
}
REFERENCE_CATEGORY = "entry_without_inspection"


def _num(v, fmt: str) -> str:
    return "" if v is None or v != v else fmt.format(v)


def model_table(con, release_id: str) -> pl.DataFrame:
    """Odds ratios and AMEs (percentage points) per lead charge, the reference category as a row
    and "not estimable" in words; every cell text, so every format prints the same digits."""
    raw = _q(
        con,
        """SELECT m.model, m.level AS category, s.label AS lead_charge, s.severity_rank,
                  o.odds_ratio, o.ci_low AS or_ci_low, o.ci_high AS or_ci_high,
                  m.ame, m.ci_low AS ame_ci_low, m.ci_high AS ame_ci_high, m.status
           FROM models.marginal_effects m
           JOIN models.odds_ratios o ON o.release_id = m.release_id AND o.model = m.model AND o.term = m.term
           JOIN staging.severity_categories s ON s.release_id = m.release_id AND s.category = m.level
           WHERE m.release_id = ? AND m.variable = 'lead_charge_category'
           ORDER BY m.model, s.severity_rank""",
        release_id,
    )
    cats = _q(
        con,
        "SELECT category, label, severity_rank FROM staging.severity_categories WHERE release_id = ?",
        release_id,
    )
    ref = cats.filter(pl.col("category") == REFERENCE_CATEGORY)
    rows = []
    for model in raw["model"].unique(maintain_order=True).to_list():
        sub = raw.filter(pl.col("model") == model).to_dicts()
        if ref.height and REFERENCE_CATEGORY not in {r["category"] for r in sub}:
            sub.append(
                {
                    "lead_charge": ref["label"][0],
                    "severity_rank": ref["severity_rank"][0],
                    "status": "reference",
                }
            )
        sub.sort(key=lambda r: r["severity_rank"])
        for n, r in enumerate(sub):
            status = r.get("status")
            label = MODEL_LABELS.get(model, model.replace("_", " ")) if n == 0 else ""
            if status == "reference":
                cells = ("1 (reference)", "", "0 (reference)", "")
            elif status != "estimated" or r.get("odds_ratio") is None:
                cells = ("not estimable", "", "not estimable", "")
            else:
                cells = (
                    _num(r["odds_ratio"], "{:.2f}"),
                    f"[{_num(r['or_ci_low'], '{:.2f}')}, {_num(r['or_ci_high'], '{:.2f}')}]",
                    _num(100 * r["ame"], "{:.1f}"),
                    f"[{_num(100 * r['ame_ci_low'], '{:.1f}')}, "
                    f"{_num(100 * r['ame_ci_high'], '{:.1f}')}]",
                )
            rows.append((label, r["lead_charge"], *cells))
    return pl.DataFrame(
        rows,
        schema=["model", "lead_charge", "odds_ratio", "or_ci", "ame_pp", "ame_ci"],
        orient="row",
    )


def rates_table(con, release_id: str) -> pl.DataFrame:
    return _q(
        con,
        """SELECT category_label, completions, pd_closures, pd_rate_of_completions, share_of_completions,
                  pending, pending_pd_closures, pd_rate_of_pending, share_of_pending
           FROM marts.pd_rates_by_category WHERE release_id = ? ORDER BY row_order""",
        release_id,
    )


def forest_note(con, release_id: str, model: str = "completions_main") -> str:
    """Which lead-charge categories the forest plot leaves out, and why."""
    if not table_exists(con, "models.odds_ratios"):
        return ""
    missing = _q(
        con,
        f"""SELECT s.label, o.status FROM models.odds_ratios o
            JOIN staging.severity_categories s ON s.release_id = o.release_id
             AND s.category = regexp_extract(o.term, '\\[T\\.(.*)\\]', 1)
            WHERE o.release_id = ? AND o.model = '{model}' AND o.term LIKE 'lead_charge_category%'
              AND o.status <> 'estimated' ORDER BY s.severity_rank""",
        release_id,
    )
    if missing.height == 0:
        return ""
    names = ", ".join(missing["label"].to_list())
    return (
        f"Not shown: {names} (no or only PD closures in the cohort, so the odds ratio is not "
        "estimable; see models.fit_diagnostics)"
    )


@dataclass
class ReleaseReport:
    """Everything a release publishes, suppressed jointly, with notes on what is empty."""

    settings: ReleaseSettings
    charts: dict[str, pl.DataFrame]
    tables: list[TableSpec]
    # Item (chart family or table stem) -> a note for the reader (what is empty and why).
    notes: dict[str, str] = field(default_factory=dict)
    kinds: dict = field(default_factory=dict)

    @property
    def n_items(self) -> int:
        return len(self.charts) + len(self.tables)


def rates_table_spec(frame: pl.DataFrame, stored: ReleaseSettings) -> TableSpec:
    return TableSpec(
        stem="pd_rates_by_category",
        title="PD closure rates by lead charge: completions in the window and the pending docket",
        definition=(
            f"Completions: proceedings completed from {stored.window_start} to "
            f"{stored.window_end}; PD rate = PD closures / completions (%). Pending: proceedings "
            f"pending on {stored.pending_on}; PD rate = those closed by PD from then to "
            f"{stored.window_end} / pending (%). Shares: each category's percent of the total."
        ),
        frame=frame,
        export_kwargs={
            "suppress_cols": ["completions", "pd_closures", "pending", "pending_pd_closures"],
            "derived_cols": {
                "pd_rate_of_completions": ["pd_closures", "completions"],
                "share_of_completions": ["completions"],
                "pd_rate_of_pending": ["pending_pd_closures", "pending"],
                "share_of_pending": ["pending"],
            },
            "secondary": False,
            "column_labels": {
                "category_label": "Lead charge",
                "completions": "N",
                "pd_closures": "PD closures",
                "pd_rate_of_completions": "PD rate (%)",
                "share_of_completions": "Share (%)",
                "pending": "N",
                "pending_pd_closures": "PD closures",
                "pd_rate_of_pending": "PD rate (%)",
                "share_of_pending": "Share (%)",
            },
            "column_groups": [
                ("", 1),
                (f"Completed {stored.window_start} to {stored.window_end}", 4),
                (f"Pending on {stored.pending_on}", 4),
            ],
            "float_formats": {
                c: "{:.1f}"
                for c in (
                    "pd_rate_of_completions",
                    "share_of_completions",
                    "pd_rate_of_pending",
                    "share_of_pending",
                )
            },
        },
    )


def model_table_spec(frame: pl.DataFrame) -> TableSpec:
    return TableSpec(
        stem="model_lead_charge_effects",
        title="Logit of PD closure: odds ratios and average marginal effects by lead charge",
        definition=(
            "Grouped logit with custody, representation, nationality group, time since NTA, court "
            "and period fixed effects; 95% confidence intervals from court-clustered standard "
            "errors (delta method for the marginal effects). Marginal effects in percentage "
            "points. Reference category: entry without inspection. Not estimable: no PD closure "
            "(or only PD closures) in the category, so the model cannot estimate its effect."
        ),
        frame=frame,
        export_kwargs={"column_labels": MODEL_COLUMN_LABELS},
    )


def report_inputs(con, release_id: str, stored: ReleaseSettings | None = None) -> ReleaseReport:
    """The release's charts and tables, every count suppressed jointly (pipelines.publish.cells)."""
    stored = stored or stored_settings(con, release_id)
    notes: dict[str, str] = {}
    charts: dict[str, pl.DataFrame] = {
        "closures": closures_frame(con, release_id),
        "rates_over_time": rates_over_time_frame(con, release_id),
        "courts": courts_frame(con, release_id),
    }
    closures = charts["closures"]
    if closures.height == 0:
        notes["closures"] = "No lead-charge categories in the release (its charge lookup is empty)."
    elif int(closures["pd_closures"].sum()) == 0:
        notes["closures"] = (
            f"No PD closure completed from {stored.window_start} to {stored.window_end} in "
            "this release."
        )
    if charts["rates_over_time"].height == 0:
        notes["rates_over_time"] = "No proceeding completed since 2010 in this release."
    if charts["courts"].height == 0:
        notes["courts"] = (
            f"No proceeding completed from {stored.window_start} to {stored.window_end}."
        )
    # A release too small to model has no model tables: its report has no model charts.
    forest = (
        forest_frame(con, release_id) if table_exists(con, "models.odds_ratios") else pl.DataFrame()
    )
    if forest.height > 1:
        charts["forest"] = forest
    else:
        notes["forest"] = "No model was estimable for this release (see models.fit_diagnostics)."
    era = era_gap_frame(con, release_id)
    if era.height:
        charts["era_gap"] = era
    event = event_study_frame(con, release_id)
    if event.height:
        charts["event_study"] = event
    else:
        notes["event_study"] = "No event study: no monthly completions or no policy dates."
    removals = removals_frame(con, release_id)
    if removals.height:
        charts["removals"] = removals
    else:
        notes["removals"] = "No ICE removals were loaded with this release."
    tables = [
        closures_table(closures) if closures.height else None,
        rates_table_spec(rates_table(con, release_id), stored),
    ]
    tables = [t for t in tables if t is not None]
    models = (
        model_table(con, release_id)
        if table_exists(con, "models.marginal_effects")
        else pl.DataFrame()
    )
    if models.height:
        tables.append(model_table_spec(models))
    else:
        notes["model_lead_charge_effects"] = (
            "No model table: the release has too few proceedings or PD closures to fit the model."
        )
    rules = lead_rule_table(con, release_id)
    if rules.height:
        tables.append(lead_rule_table_spec(rules))
    else:
        notes["lead_rule_comparison"] = "No lead-rule comparison: the model was not refitted."
    court_rows, court_details = court_heterogeneity_rows(con, release_id)
    court_table = court_heterogeneity_table(court_rows)
    if court_table.height:
        tables.append(
            court_heterogeneity_spec(court_table, court_heterogeneity_note(court_details))
        )
    else:
        notes["court_heterogeneity"] = "No court table. " + (
            court_heterogeneity_note(court_details)
            or "models.court_heterogeneity has no rows for this release."
        )

    # One suppression for all the counts the report prints (module pipelines.publish.cells).
    cells = CellSet()
    named = [(n, f) for n, f in charts.items() if n in CELL_MAPS]
    named += [(t.stem, t.frame) for t in tables if t.stem in CELL_MAPS]
    for name, frame in named:
        add_frame(cells, name, frame)
    build_equations(cells, stored.window_start, stored.window_end)
    kinds = protect(cells, stored.suppress_below)
    charts = {n: apply_suppression(n, f, kinds) if n in CELL_MAPS else f for n, f in charts.items()}
    tables = [
        replace(t, frame=apply_suppression(t.stem, t.frame, kinds)) if t.stem in CELL_MAPS else t
        for t in tables
    ]
    return ReleaseReport(stored, charts, tables, notes, kinds)


def provenance_for(
    stored: ReleaseSettings,
    source: str = EOIR_SOURCE,
    *,
    window: bool = True,
    pending: bool = False,
) -> Provenance:
    return Provenance(
        source=source,
        release_id=stored.release_id,
        window_start=stored.window_start if window else None,
        window_end=stored.window_end if window else None,
        pending_on=stored.pending_on if pending else None,
    )


def chart_provenance(stored: ReleaseSettings) -> dict[str, Provenance]:
    """Each chart credits its own sources: ICE only where ICE data is drawn, the EOIR window only
    where EOIR counts are drawn, and the pending date named as such where pending cases are."""
    eoir = provenance_for(stored)
    return {
        "closures": provenance_for(stored, pending=True),
        "rates_over_time": eoir,
        "courts": eoir,
        "forest": eoir,
        "era_gap": provenance_for(stored, window=False),
        "event_study": provenance_for(stored, window=False),
        "removals": provenance_for(stored, ICE_SOURCE, window=False),
    }


def write_release_report(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    release_id: str,
    out_dir: Path | None = None,
    formats: Sequence[str] = CHART_FORMATS,
    progress: Callable[[str], None] | None = None,
    report: ReleaseReport | None = None,
) -> Path:
    """Write every chart and table of `release_id` and the index; return the index path.

    Window, pending date, lead rule and threshold are the stored ones (marts.run_settings);
    `settings` gives only where files go.
    """
    report = report or report_inputs(con, release_id)
    stored = report.settings
    out = out_dir or settings.reports_dir / release_id
    notes = dict(report.notes)
    forest = forest_note(con, release_id)
    if forest:
        notes["forest"] = forest
    from pipelines.publish.appendix import write_appendix
    from pipelines.publish.index_page import ReportItem

    prov = provenance_for(stored, pending=True)
    appendix, appendix_note = write_appendix(con, stored, prov, report.kinds, Path(out))
    document = ReportItem(
        "document",
        "appendix",
        "Data appendix",
        "The flow of counts from the release's rows to each analysis population, every "
        "definition and rule with the file that implements it, and the settings and code version.",
        appendix,
        prov,
        notes=[appendix_note] if appendix_note else [],
    )
    return build_report(
        out,
        prov,
        report.charts,
        report.tables,
        formats=formats,
        threshold=stored.suppress_below,
        progress=progress,
        chart_notes=notes,
        chart_provenance=chart_provenance(stored),
        documents=[document],
    )


def releases_in(con: duckdb.DuckDBPyConnection) -> list[str]:
    if not table_exists(con, "marts.proceedings"):
        return []
    return [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT release_id FROM marts.proceedings ORDER BY 1"
        ).fetchall()
    ]


# -- What a referee asks next: event study, court heterogeneity, lead-charge rules -------------

LEAD_RULE_LABELS = {
    "most_serious": "Most serious",
    "first_charged": "First charged",
    "most_serious_not_withdrawn": "Not withdrawn",
}
INFERENCE_LABELS = {
    "wald_crv1": "Wald, CRV1",
    "firth_profile_likelihood": "Firth",
}
# Courts shown at each end of the shrunken court-by-group ranking.
COURT_ENDS = 5


def event_study_frame(con, release_id: str) -> pl.DataFrame:
    """The monthly rows of models.event_study, each group's categories named (pipelines.publish.cells
    ties a group's months to its categories' quarters)."""
    from pipelines.classify.categories import LEAD_CHARGE_GROUPS

    if not table_exists(con, "models.event_study"):
        return pl.DataFrame()
    frame = _q(
        con,
        """SELECT policy, policy_label, policy_date, "group", relative_month, month, completions,
                  pd_closures, estimate, ci_low, ci_high
           FROM models.event_study WHERE release_id = ? AND measure = 'monthly_rate'
           ORDER BY policy_date, "group", relative_month""",
        release_id,
    )
    if frame.height == 0:
        return frame
    labels = dict(
        _q(
            con,
            "SELECT category, label FROM staging.severity_categories WHERE release_id = ? "
            "ORDER BY severity_rank",
            release_id,
        ).iter_rows()
    )
    cats = {
        g: GROUP_SEP.join(labels.get(c, c) for c, gg in LEAD_CHARGE_GROUPS.items() if gg == g)
        for g in set(LEAD_CHARGE_GROUPS.values())
    }
    return frame.with_columns(
        pl.col("group").replace_strict(cats, default=None).alias("categories")
    )


def _category_of_term(term: str) -> str:
    return term.split("[T.", 1)[1].rstrip("]") if "[T." in term else term


def lead_rule_table(con, release_id: str) -> pl.DataFrame:
    """One row per lead rule and lead-charge term: PD closures (a count, suppressed with the
    report), AME in percentage points and odds ratio with 95% intervals, and the inference used
    (Firth profile intervals for separated and rare terms, never a Wald SE)."""
    if not table_exists(con, "models.lead_rule_comparison"):
        return pl.DataFrame()
    raw = _q(
        con,
        """SELECT l.lead_rule, l.term, l.status, l.inference, l.ci_low, l.ci_high, l.odds_ratio,
                  l.pd_closures_with_term, l.ame, l.ame_ci_low, l.ame_ci_high,
                  s.label,
                  coalesce(s.severity_rank, 99) AS severity_rank
           FROM models.lead_rule_comparison l
           -- A category the rule adds (all charges withdrawn) has no severity rank: kept, last.
           LEFT JOIN staging.severity_categories s ON s.release_id = l.release_id
            AND s.category = regexp_extract(l.term, '\\[T\\.(.*)\\]', 1)
           WHERE l.release_id = ? AND l.term LIKE 'lead_charge_category%'""",
        release_id,
    )
    order = {r: i for i, r in enumerate(LEAD_RULE_LABELS)}
    rows = []
    for r in sorted(
        raw.to_dicts(), key=lambda r: (order.get(r["lead_rule"], 99), r["severity_rank"])
    ):
        if r["label"] is None:
            r["label"] = _category_of_term(r["term"]).replace("_", " ").capitalize()
        estimable = r["status"] in ("estimated", "rare", "separated") and r["ame"] is not None
        how = INFERENCE_LABELS.get(r["inference"] or "", r["inference"] or "")
        if r["status"] in ("rare", "separated"):
            how = f"{how}, {r['status']}"
        if estimable:
            ame = _num(100 * r["ame"], "{:.1f}")
            ame_ci = f"[{_num(100 * r['ame_ci_low'], '{:.1f}')}, {_num(100 * r['ame_ci_high'], '{:.1f}')}]"
            odds = _num(r["odds_ratio"], "{:.2f}")
        else:
            ame, ame_ci, odds, how = "not estimable", "", "not estimable", ""
        pd_n = r["pd_closures_with_term"]
        rows.append(
            (
                LEAD_RULE_LABELS.get(r["lead_rule"], r["lead_rule"]),
                r["label"],
                None if pd_n is None else int(pd_n),
                ame,
                ame_ci,
                odds,
                how,
            )
        )
    return pl.DataFrame(
        rows,
        schema={
            "lead_rule": pl.String,
            "lead_charge": pl.String,
            "pd_closures": pl.Int64,
            "ame_pp": pl.String,
            "ame_ci": pl.String,
            "odds_ratio": pl.String,
            "inference": pl.String,
        },
        orient="row",
    )


def _exp(v):
    return None if v is None or v != v else math.exp(v)


def lead_rule_table_spec(frame: pl.DataFrame) -> TableSpec:
    return TableSpec(
        stem="lead_rule_comparison",
        title="The main logit under three lead-charge rules: AMEs and odds ratios by lead charge",
        definition=(
            "The completions model refitted with the lead charge chosen three ways: the most "
            "serious charge, the first charge on the NTA, and the most serious charge not "
            "withdrawn. AME: average marginal effect against entry without inspection, in "
            "percentage points. PD closures: the model cohort's PD closures with that lead charge. "
            "Not withdrawn: the most serious charge not withdrawn. Firth: penalized-likelihood "
            "estimate with profile-likelihood intervals for a separated category (no PD closure, "
            "or only PD closures) or a rare one (few PD closures), never a Wald standard error; "
            "Wald, CRV1: court-clustered. Odds-ratio intervals are in models.lead_rule_comparison."
        ),
        frame=frame,
        export_kwargs={
            "suppress_cols": ["pd_closures"],
            "secondary": False,
            "column_labels": {
                "lead_rule": "Lead rule",
                "lead_charge": "Lead charge",
                "pd_closures": "PD closures",
                "ame_pp": "AME (pp)",
                "ame_ci": "95% CI",
                "odds_ratio": "Odds ratio",
                "inference": "Inference",
            },
        },
    )


def court_heterogeneity_rows(con, release_id: str) -> tuple[pl.DataFrame, dict]:
    """models.court_heterogeneity with each court's printed label, and its stored diagnostics."""
    if not table_exists(con, "models.court_heterogeneity"):
        return pl.DataFrame(), {}
    frame = _q(
        con,
        """SELECT h.*, g.value_label AS city FROM models.court_heterogeneity h
           LEFT JOIN marts.pd_by_group g ON g.release_id = h.release_id
            AND g.dimension = 'court' AND g.value = h.court
           WHERE h.release_id = ? ORDER BY h.court""",
        release_id,
    )
    details = json.loads(frame["details"][0]) if frame.height and frame["details"][0] else {}
    return frame, details


def court_heterogeneity_table(rows: pl.DataFrame, ends: int = COURT_ENDS) -> pl.DataFrame:
    """The courts with the largest and the smallest shrunken criminal-vs-immigration odds ratio
    (at most `ends` each), with 95% posterior intervals, the unshrunken odds ratio, the
    Benjamini-Hochberg q-value against the mean and the PD closures of each group."""
    est = (
        rows.filter(pl.col("status") == "estimated").sort("shrunken_log_odds_ratio")
        if rows.height and "shrunken_log_odds_ratio" in rows.columns
        else pl.DataFrame()
    )
    out = []
    if est.height:
        picked = est.tail(ends).reverse().to_dicts()
        seen = {r["court"] for r in picked}
        picked += [r for r in est.head(ends).reverse().to_dicts() if r["court"] not in seen]
        for r in picked:
            m, sd = r["shrunken_log_odds_ratio"], r["shrunken_sd"]
            out.append(
                (
                    court_label(r["court"], r.get("city")),
                    None if r["pd_closures_group"] is None else int(r["pd_closures_group"]),
                    None if r["pd_closures_reference"] is None else int(r["pd_closures_reference"]),
                    _num(r["odds_ratio_shrunken"], "{:.2f}"),
                    f"[{math.exp(m - 1.96 * sd):.2f}, {math.exp(m + 1.96 * sd):.2f}]",
                    _num(_exp(r["log_odds_ratio"]), "{:.2f}"),
                    _num(r["q_value_bh"], "{:.3f}"),
                )
            )
    return pl.DataFrame(
        out,
        schema={
            "court": pl.String,
            "pd_closures_group": pl.Int64,
            "pd_closures_reference": pl.Int64,
            "or_shrunken": pl.String,
            "or_shrunken_ci": pl.String,
            "or_unshrunken": pl.String,
            "q_value": pl.String,
        },
        orient="row",
    )


def court_heterogeneity_note(details: dict) -> str:
    """Between-court SD and the multiple-testing note, in words, from the stored diagnostics."""
    if not details:
        return ""
    n, k = details.get("courts", 0), details.get("courts_estimable", 0)
    if "tau" not in details:
        return (
            f"Not estimated: {k} of {n} courts have at least the minimum number of PD closures "
            "and of other completions in both the criminal and the immigration group (at least "
            "three are needed); see models.court_heterogeneity for each court's status."
        )
    fdr = details.get("fdr", 0.05)
    return (
        f"{details.get('courts_tested', k)} of {n} courts estimable. Between-court SD of the "
        f"log odds ratio (DerSimonian-Laird): {details['tau']:.2f}; mean odds ratio "
        f"{math.exp(details['mean_log_odds_ratio']):.2f}. Each court is tested against the mean "
        f"and the p-values adjusted by Benjamini-Hochberg (false discovery rate {fdr:.0%}): "
        f"{details.get('courts_differing_at_fdr', 0)} courts differ at that rate."
    )


def court_heterogeneity_spec(frame: pl.DataFrame, note: str) -> TableSpec:
    return TableSpec(
        stem="court_heterogeneity",
        title="Criminal vs. immigration lead charge by court: shrunken odds ratios, both ends",
        definition=(
            "Odds ratio of a PD closure, criminal against immigration lead charge, in each court "
            "(main logit with a group-by-court interaction), shrunk towards the mean by empirical "
            f"Bayes; the {COURT_ENDS} courts with the largest and the {COURT_ENDS} with the "
            "smallest shrunken odds ratio, 95% posterior intervals, and the q-value of the test "
            "against the mean. " + note
        ),
        frame=frame,
        export_kwargs={
            "suppress_cols": ["pd_closures_group", "pd_closures_reference"],
            "secondary": False,
            "column_labels": {
                "court": "Court",
                "pd_closures_group": "PD closures, criminal",
                "pd_closures_reference": "PD closures, immigration",
                "or_shrunken": "Shrunken OR",
                "or_shrunken_ci": "95% interval",
                "or_unshrunken": "Court OR",
                "q_value": "BH q",
            },
        },
    )
