"""PD closures by lead-charge category in the window, beside each category's share of the docket.

Input (one row per lead-charge category, in the order to draw them, most serious first as
the closures mart sorts them):

    lead_charge_category  str    category key
    category_label        str    label to print
    pd_closures           int    PD closures in the window
    pct_of_pd_closures    float  percent of all PD closures in the window (0-100)
    pending_share         float  percent of the docket pending on the pending date (0-100)
    suppressed            bool   optional; set by the suppression step when absent
    pending_cases         int    optional; pending cases, suppressed like pd_closures

Counts 1-9 are suppressed before drawing (pipelines.tables.suppression), with complementary
suppression because the percentages imply the total.
"""

from __future__ import annotations

import textwrap

import altair as alt
import polars as pl

from pipelines.charts._common import max_lines, require_columns, text_px, wrap_label_expr
from pipelines.charts.provenance import Provenance, finish, with_watermark
from pipelines.charts.theme import FONT_SIZE, NEUTRAL_FILL, PALETTE, WIDTHS, Width
from pipelines.tables.suppression import (
    DEFAULT_THRESHOLD,
    SECONDARY_MARKER,
    SUPPRESSED_CELLS,
    marker,
    suppress,
)

COLUMNS = (
    "lead_charge_category",
    "category_label",
    "pd_closures",
    "pct_of_pd_closures",
    "pending_share",
)
TITLE = "PD closures by lead charge"
DEFINITION = (
    "Prosecutorial-discretion (PD) closures completed in the window, by the lead (most serious) "
    "NTA charge of the proceeding: count and percent of all PD closures, beside each "
    "category's percent of the docket pending on the pending date (PD_PENDING_ON; the date is in "
    "the figure's note)."
)


def prepare_closures(df: pl.DataFrame, threshold: int = DEFAULT_THRESHOLD) -> pl.DataFrame:
    """The frame the chart draws and the CSV holds: counts suppressed, derived values blanked."""
    require_columns(df, COLUMNS, "closures")
    counts = ["pd_closures"] + (["pending_cases"] if "pending_cases" in df.columns else [])
    derived = {"pct_of_pd_closures": ["pd_closures"]}
    if "pending_cases" in df.columns:
        derived["pending_share"] = ["pending_cases"]
    # A frame suppressed jointly with the rest of its report (pipelines.publish.cells) keeps
    # that pattern: a second, chart-local complement would disagree with the tables.
    return suppress(df, counts, threshold, derived, secondary=SUPPRESSED_CELLS not in df.columns)


def _suppressed_label(col: str, threshold: int) -> str:
    """Vega expression: the marker a suppressed `col` prints as."""
    return (
        f"indexof(split(datum.suppressed_cells || '', ';'), '~{col}') >= 0"
        f" ? '{SECONDARY_MARKER}' : '{marker(threshold)}'"
    )


def make_closures_chart(
    df: pl.DataFrame,
    provenance: Provenance,
    width: Width = "column",
    threshold: int = DEFAULT_THRESHOLD,
) -> alt.VConcatChart:
    data = prepare_closures(df, threshold)
    labels = data["category_label"].to_list()
    wrap_chars = 20 if width == "column" else 28
    label_px = max(text_px(line, FONT_SIZE["label"]) for line in _lines(labels, wrap_chars)) + 8
    row_px = 10 * max_lines(labels, wrap_chars) + 7
    plot_h = row_px * max(1, len(labels))
    side_by_side = width == "page"
    if side_by_side:
        panel_w = (WIDTHS[width] - label_px - 24) / 2
    else:
        panel_w = WIDTHS[width] - label_px - 12

    def y(show_labels: bool = True) -> alt.Y:
        axis = alt.Axis(labelExpr=wrap_label_expr(labels, wrap_chars), labelLimit=0)
        return alt.Y(
            "category_label:N", sort=labels, title=None, axis=axis if show_labels else None
        )

    base = alt.Chart(data).properties(width=panel_w, height=plot_h)

    count_label = (
        f"datum.pd_closures == null ? ({_suppressed_label('pd_closures', threshold)})"
        " : format(datum.pd_closures, ',') + (datum.pct_of_pd_closures == null ? ''"
        " : ' (' + format(datum.pct_of_pd_closures, '.1f') + '%)')"
    )
    max_n = max(data["pd_closures"].drop_nulls().to_list() or [1])
    n_text = max(len(f"{max_n:,} (100.0%)"), 4)
    closures = _bar_panel(
        base,
        y(),
        "pd_closures",
        "PD closures (n, % of all PD closures)",
        count_label,
        max_n,
        text_px("x" * n_text, FONT_SIZE["label"] - 0.5),
        panel_w,
        PALETTE[0],
        ",d",
    )
    pending_col = "pending_cases" if "pending_cases" in data.columns else None
    share_label = (
        "datum.pending_share == null ? "
        + (f"({_suppressed_label(pending_col, threshold)})" if pending_col else "''")
        + " : format(datum.pending_share, '.1f') + '%'"
    )
    max_share = max(data["pending_share"].drop_nulls().to_list() or [1])
    pending = _bar_panel(
        base,
        y(not side_by_side),
        "pending_share",
        f"% of docket pending on {provenance.pending_on.isoformat()}"
        if provenance.pending_on
        else "% of pending docket",
        share_label,
        max_share,
        text_px("100.0%", FONT_SIZE["label"] - 0.5),
        panel_w,
        NEUTRAL_FILL,
        "d",
    )
    panels = [with_watermark(p, panel_w, plot_h, provenance) for p in (closures, pending)]
    body = alt.hconcat(*panels, spacing=12) if side_by_side else alt.vconcat(*panels, spacing=10)
    notes = [
        "Lead charge: the most serious NTA charge of the proceeding. Percentages are of all "
        "PD closures in the window and of all cases pending on "
        + (provenance.pending_on.isoformat() if provenance.pending_on else "the pending date")
        + "."
    ]
    if data["suppressed"].any():
        notes.append(
            f"{marker(threshold)}: 1 to {threshold - 1} cases, suppressed; "
            f"{SECONDARY_MARKER}: suppressed so that no suppressed count can be recovered from "
            "totals or from the release's other tables and charts."
        )
    return finish(body, provenance, f"{TITLE}, {provenance.window}", width, notes)


def _lines(labels: list[str], wrap_chars: int) -> list[str]:
    return [line for s in labels for line in textwrap.wrap(s, wrap_chars)] or [""]


def _bar_panel(
    base: alt.Chart,
    y: alt.Y,
    field: str,
    title: str,
    label_expr: str,
    max_value: float,
    label_px: float,
    panel_w: float,
    color: str,
    axis_format: str,
) -> alt.LayerChart:
    # Leave room right of the longest bar for its label; the axis still starts at zero.
    frac = min(0.6, (label_px + 6) / panel_w)
    domain_max = max_value / (1 - frac) if max_value > 0 else 1
    x = alt.X(
        f"{field}:Q",
        title=title,
        scale=alt.Scale(domain=[0, domain_max], nice=False, zero=True),
        axis=alt.Axis(format=axis_format, tickCount=4, grid=False),
    )
    bars = base.mark_bar(color=color, height={"band": 0.7}).encode(x=x, y=y)
    text = (
        base.transform_calculate(bar_label=label_expr)
        .mark_text(align="left", dx=3, fontSize=FONT_SIZE["label"] - 0.5)
        .encode(
            x=alt.X(f"{field}:Q", scale=alt.Scale(domain=[0, domain_max], nice=False), stack=None),
            y=y,
            text="bar_label:N",
        )
    )
    # A suppressed row has no value: put its marker at zero.
    text = text.transform_calculate(**{field: f"datum.{field} == null ? 0 : datum.{field}"})
    return alt.layer(bars, text)
