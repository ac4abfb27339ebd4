"""What a Dagster metadata preview may show of a warehouse table (Dagster-free).

A preview is published too (anyone with the UI sees it), but it is ten rows of a table, with no
room for complementary suppression. So the aggregate tables whose integers count people show
their shape and labels with every count blanked, and say where the published, suppressed
figures are; text from the data is escaped for Markdown and HTML.
"""

from __future__ import annotations

import polars as pl

from pipelines.tables.export import md_escape

# Aggregate tables whose integer columns count proceedings, people or removals.
COUNT_TABLES = {
    "marts.pd_closures_by_category",
    "marts.pd_rates_by_category",
    "marts.pd_by_month",
    "marts.pd_by_group",
    "marts.removals_by_fy",
    "marts.removals_top_offense_families",
    "marts.model_cells_completions",
    "marts.model_cells_pending",
    "marts.model_cells_eras",
}
# Integer columns that are positions or dates, not counts.
NOT_COUNTS = {
    "row_order",
    "fiscal_year",
    "severity_rank",
    "article_order",
    "year",
    "suppress_below",
}
HIDDEN = "·"


def counts_hidden_in_preview(df: pl.DataFrame, qualified: str) -> set[str]:
    """The columns of `df` (rows of `qualified`) whose values a preview must not show."""
    if qualified.lower() not in COUNT_TABLES:
        return set()
    return {c for c, t in df.schema.items() if t.is_integer() and c not in NOT_COUNTS}


def preview_markdown(df: pl.DataFrame, qualified: str) -> str:
    """A Markdown table of `df` (a few rows of `qualified`), counts blanked in count tables."""
    if df.height == 0:
        return "(no rows)"
    blank = counts_hidden_in_preview(df, qualified)
    cols = df.columns
    lines = [
        "| " + " | ".join(md_escape(c) for c in cols) + " |",
        "|" + "---|" * len(cols),
    ]
    for row in df.iter_rows(named=True):
        cells = [
            HIDDEN
            if c in blank and row[c] is not None
            else md_escape("" if row[c] is None else str(row[c]))
            for c in cols
        ]
        lines.append("| " + " | ".join(cells) + " |")
    if blank:
        lines.append("")
        lines.append(
            f"Counts ({', '.join(sorted(blank))}) are not previewed: their published, "
            "small-cell-suppressed figures are in the release report (reports/<release>/)."
        )
    return "\n".join(lines)
