"""Charts and tables for one release, read from the warehouse (Dagster-free).

`report_inputs` turns the marts and model tables into the input frames of each chart family
(pipelines.charts) and the article's tables (pipelines.tables); `write_release_report` exports
them all under reports/<release>/ with provenance, the SYNTHETIC mark for the sample, and
small-cell suppression. Used by the `reports` asset and by `pdpipeline export`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import duckdb
import polars as pl

from pipelines.charts.export import CHART_FORMATS
from pipelines.charts.provenance import Provenance
from pipelines.publish.index_page import build_report
from pipelines.settings import Settings
from pipelines.tables.layouts import TableSpec, closures_table
from pipelines.warehouse.db import fetch_frame, table_exists

EOIR_SOURCE = "EOIR case data (FOIA)"


def _q(con: duckdb.DuckDBPyConnection, sql: str, release_id: str) -> pl.DataFrame:
    return fetch_frame(con, sql, [release_id] * sql.count("?"))


def closures_frame(con, release_id: str) -> pl.DataFrame:
    return _q(
        con,
        """SELECT c.lead_charge_category, c.category_label, c.pd_closures, c.pct_of_pd_closures,
                  r.share_of_pending AS pending_share, r.pending AS pending_cases
           FROM marts.pd_closures_by_category c
           JOIN marts.pd_rates_by_category r USING (release_id, lead_charge_category)
           WHERE c.release_id = ? AND c.lead_charge_category <> 'total'
           ORDER BY c.row_order""",
        release_id,
    ).with_columns(pl.col("pending_share").fill_null(0.0))


def rates_over_time_frame(con, release_id: str) -> pl.DataFrame:
    # Quarters: monthly counts per category are too small to read in most courts' data.
    return _q(
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


def courts_frame(con, release_id: str) -> pl.DataFrame:
    return _q(
        con,
        """SELECT value_label AS court, completions, pd_closures FROM marts.pd_by_group
           WHERE release_id = ? AND dimension = 'court' ORDER BY completions DESC""",
        release_id,
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


def model_table(con, release_id: str) -> pl.DataFrame:
    return _q(
        con,
        """SELECT m.model, s.label AS lead_charge, m.level AS category,
                  o.odds_ratio, o.ci_low AS or_ci_low, o.ci_high AS or_ci_high,
                  m.ame, m.ci_low AS ame_ci_low, m.ci_high AS ame_ci_high, m.status
           FROM models.marginal_effects m
           JOIN models.odds_ratios o ON o.release_id = m.release_id AND o.model = m.model AND o.term = m.term
           JOIN staging.severity_categories s ON s.release_id = m.release_id AND s.category = m.level
           WHERE m.release_id = ? AND m.variable = 'lead_charge_category'
           ORDER BY m.model, s.severity_rank""",
        release_id,
    ).drop("category")


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


def report_inputs(con, release_id: str) -> tuple[dict[str, pl.DataFrame], list[TableSpec]]:
    charts: dict[str, pl.DataFrame] = {
        "closures": closures_frame(con, release_id),
        "rates_over_time": rates_over_time_frame(con, release_id),
        "courts": courts_frame(con, release_id),
    }
    # A release too small to model has no model tables: its report has no model charts.
    forest = (
        forest_frame(con, release_id) if table_exists(con, "models.odds_ratios") else pl.DataFrame()
    )
    if forest.height > 1:
        charts["forest"] = forest
    era = era_gap_frame(con, release_id)
    if era.height:
        charts["era_gap"] = era
    removals = removals_frame(con, release_id)
    if removals.height:
        charts["removals"] = removals
    tables = [
        closures_table(charts["closures"]),
        TableSpec(
            stem="pd_rates_by_category",
            title="PD closure rates by lead charge: completions in the window and the pending docket",
            definition=(
                "Completions: proceedings completed in the window; PD rate = PD closures / completions (%). "
                "Pending: proceedings pending on the case-review start date; PD rate = those closed by PD by "
                "the window's end / pending (%). Shares are each category's percent of the total."
            ),
            frame=rates_table(con, release_id),
            export_kwargs={
                "suppress_cols": ["completions", "pd_closures", "pending", "pending_pd_closures"],
                "derived_cols": {
                    "pd_rate_of_completions": ["pd_closures", "completions"],
                    "share_of_completions": ["completions"],
                    "pd_rate_of_pending": ["pending_pd_closures", "pending"],
                    "share_of_pending": ["pending"],
                },
                "secondary": False,
            },
        ),
    ]
    models = (
        model_table(con, release_id)
        if table_exists(con, "models.marginal_effects")
        else pl.DataFrame()
    )
    if models.height:
        tables.append(
            TableSpec(
                stem="model_lead_charge_effects",
                title="Logit of PD closure: odds ratios and average marginal effects by lead charge",
                definition=(
                    "Grouped logit with custody, representation, nationality group, time since NTA, court and "
                    "period fixed effects; 95% CIs from court-clustered standard errors (delta method for AMEs). "
                    "Reference: entry without inspection. Status `separated`: no PD closure in the category, "
                    "the odds ratio is 0 and not estimable."
                ),
                frame=models,
            )
        )
    return charts, tables


def provenance_for(settings: Settings, release_id: str) -> Provenance:
    return Provenance(
        source=EOIR_SOURCE + "; ICE ERO-LESA removals (FOIA)",
        release_id=release_id,
        window_start=settings.window_start,
        window_end=settings.window_end,
    )


def write_release_report(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    release_id: str,
    out_dir: Path | None = None,
    formats: Sequence[str] = CHART_FORMATS,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Write every chart and table of `release_id` and the index; return the index path."""
    out = out_dir or settings.reports_dir / release_id
    charts, tables = report_inputs(con, release_id)
    return build_report(
        out,
        provenance_for(settings, release_id),
        charts,
        tables,
        formats=formats,
        threshold=settings.suppress_below,
        progress=progress,
        chart_notes={"forest": forest_note(con, release_id)},
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
