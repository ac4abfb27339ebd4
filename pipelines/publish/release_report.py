"""Charts and tables for one release, read from the warehouse (Dagster-free).

`report_inputs` turns the marts and model tables into the input frames of each chart family
(pipelines.charts) and the article's tables (pipelines.tables); `write_release_report` exports
them all under reports/<release>/ with provenance, the SYNTHETIC mark for the sample, and
small-cell suppression. Used by the `reports` asset and by `pdpipeline export`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb
import polars as pl

from pipelines.charts.export import CHART_FORMATS
from pipelines.charts.provenance import Provenance
from pipelines.publish.cells import CELL_MAPS, add_frame, apply_suppression, build_equations
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
