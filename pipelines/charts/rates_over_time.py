"""PD rate per lead-charge category over time, one small panel per category, policy dates marked.

Input (one row per period and category; periods monthly or quarterly, any spacing):

    period                date   first day of the period
    lead_charge_category  str    category key
    category_label        str    optional; printed panel title (the key when absent)
    completions           int    proceedings completed in the period
    pd_closures           int    of which PD closures
    pd_rate               float  pd_closures / completions (0-1)

Counts 1-9 are suppressed and the rate is blanked with them (the line breaks there). No
complementary suppression: the chart prints no totals. Policy dates come from
pipelines.classify.policy.POLICY_DATES; those inside the plotted range are drawn as vertical rules,
their labels laid out above the panels on as many rows as it takes not to overlap.
"""

from __future__ import annotations

from datetime import date

import altair as alt
import polars as pl

from pipelines.charts._common import require_columns, text_px
from pipelines.charts.provenance import Provenance, finish, with_watermark
from pipelines.charts.theme import FONT_SIZE, INK, LIGHT_GREY, PALETTE, RULE_GREY, WIDTHS, Width
from pipelines.classify.policy import POLICY_DATES, PolicyDate
from pipelines.tables.suppression import DEFAULT_THRESHOLD, marker, suppress

COLUMNS = ("period", "lead_charge_category", "completions", "pd_closures", "pd_rate")
TITLE = "PD closures as a share of completions, by lead charge"
DEFINITION = (
    "For each period and lead-charge category: PD closures divided by all proceedings completed "
    "in the period. Vertical rules mark enforcement-policy memos (pipelines/classify/policy.py); the "
    "shaded band is the analysis window."
)
Y_AXIS_PX = 44  # room for the rate axis labels and title


def prepare_rates_over_time(df: pl.DataFrame, threshold: int = DEFAULT_THRESHOLD) -> pl.DataFrame:
    require_columns(df, COLUMNS, "rates_over_time")
    if "category_label" not in df.columns:
        df = df.with_columns(pl.col("lead_charge_category").alias("category_label"))
    return suppress(
        df,
        ["completions", "pd_closures"],
        threshold,
        {
            c: ["completions", "pd_closures"]
            for c in ("pd_rate", "ci_low", "ci_high")
            if c in df.columns
        },
        secondary=False,
    )


def layout_policy_labels(
    dates: list[PolicyDate], start: date, end: date, plot_w: float, font_size: float
) -> list[dict]:
    """Rows for the policy labels such that no label overlaps another and no rule crosses a
    label. Each date's rule runs from the panels up to its own label; so a label may only sit
    in a row below another date's label if its text does not reach over that date's rule.
    Rows are filled from the bottom: a label goes in the current row when it overlaps no label
    there and its text spans no date still waiting for a row. Labels near the right edge are
    right-aligned."""
    span = (end - start).days or 1
    items = []
    for p in dates:
        x = (p.on - start).days / span * plot_w
        w = text_px(p.short_label, font_size) + 4
        left, align = (x - w, "right") if x + w > plot_w else (x, "left")
        items.append({"p": p, "x": x, "left": left, "right": left + w, "align": align})
    waiting = list(range(len(items)))
    rows: dict[int, int] = {}
    row = 0
    while waiting:
        placed: list[int] = []
        for i in sorted(waiting, key=lambda k: -items[k]["x"]):
            it = items[i]
            over_rule = any(
                j != i and it["left"] - 1 <= items[j]["x"] <= it["right"] + 1 for j in waiting
            )
            overlap = any(
                it["left"] < items[j]["right"] + 2 and items[j]["left"] < it["right"] + 2
                for j in placed
            )
            if not over_rule and not overlap:
                placed.append(i)
        if not placed:  # two dates on the same day: stack them one per row
            placed = [max(waiting, key=lambda k: items[k]["x"])]
        for i in placed:
            rows[i] = row
            waiting.remove(i)
        row += 1
    return [
        {
            "on": it["p"].on.isoformat(),
            "label": it["p"].short_label,
            "description": it["p"].description,
            "row": rows[i],
            "align": it["align"],
        }
        for i, it in enumerate(items)
    ]


def make_rates_over_time_chart(
    df: pl.DataFrame,
    provenance: Provenance,
    width: Width = "column",
    threshold: int = DEFAULT_THRESHOLD,
) -> alt.VConcatChart:
    data = prepare_rates_over_time(df, threshold)
    periods = data["period"].drop_nulls()
    if periods.is_empty():
        raise ValueError("rates_over_time: no periods in the input frame")
    start, end = periods.min(), periods.max()
    # A page-wide figure sets the panels in two columns, each headed by the policy labels.
    n_cols = 1 if width == "column" else 2
    plot_w = (WIDTHS[width] - 8) / n_cols - Y_AXIS_PX - (10 if n_cols > 1 else 0)
    panel_h = 42
    x_scale = alt.Scale(domain=[start.isoformat(), end.isoformat()])
    top_col = "ci_high" if "ci_high" in data.columns else "pd_rate"
    rate_max = max(data[top_col].drop_nulls().to_list() or [0.01])
    days = sorted({p for p in periods.to_list()})
    gap = min(((b - a).days for a, b in zip(days, days[1:], strict=False)), default=90)
    period_title = "Quarter of completion" if gap > 45 else "Month of completion"
    empty_note = f"Nothing to show: no cases, or counts of 1 to {threshold - 1} (suppressed)"
    y_scale = alt.Scale(domain=[0, rate_max * 1.05], nice=False, zero=True)

    in_range = [p for p in POLICY_DATES if start <= p.on <= end]
    label_font = FONT_SIZE["label"] - 1
    labels = layout_policy_labels(in_range, start, end, plot_w, label_font)
    n_rows = max((lab["row"] for lab in labels), default=-1) + 1
    row_h = label_font + 3
    rules_data = alt.Data(values=labels)

    def rules(height: float, title: str | None = None) -> alt.Chart:
        return (
            alt.Chart(rules_data)
            .mark_rule(color=RULE_GREY, strokeWidth=0.6, strokeDash=[2, 2])
            .encode(x=alt.X("on:T", scale=x_scale, title=title))
            .properties(height=height)
        )

    layers_window = []
    if provenance.window_start and provenance.window_end:
        band = alt.Data(
            values=[
                {
                    "from": max(provenance.window_start, start).isoformat(),
                    "to": min(provenance.window_end, end).isoformat(),
                }
            ]
        )
        if provenance.window_start <= end and provenance.window_end >= start:
            layers_window.append(
                alt.Chart(band)
                .mark_rect(color=LIGHT_GREY, opacity=0.7)
                .encode(x=alt.X("from:T", scale=x_scale), x2="to:T")
            )

    strip = None
    if labels:
        strip_h = n_rows * row_h + 2
        # Text alignment cannot be encoded from data: one layer per alignment.
        texts = [
            alt.Chart(rules_data)
            .transform_filter(alt.datum.align == align)
            .mark_text(
                baseline="bottom",
                align=align,
                dx=2 if align == "left" else -2,
                fontSize=label_font,
                color=INK,
            )
            .encode(
                x=alt.X("on:T", scale=x_scale, axis=None),
                y=alt.Y(
                    "row:O",
                    axis=None,
                    scale=alt.Scale(domain=list(range(n_rows - 1, -1, -1)), paddingOuter=0),
                ),
                text="label:N",
                tooltip=["on:T", "description:N"],
            )
            for align in ("left", "right")
        ]
        # Each rule stops below its own label (pixel positions: row 0 is the bottom row).
        tick = (
            alt.Chart(rules_data)
            .transform_calculate(
                top=f"{strip_h} - (datum.row * {row_h}) - {row_h} + 1", bottom=f"{strip_h}"
            )
            .mark_rule(color=RULE_GREY, strokeWidth=0.6, strokeDash=[2, 2])
            .encode(
                x=alt.X("on:T", scale=x_scale, axis=None),
                y=alt.Y("top:Q", scale=None, axis=None),
                y2="bottom:Q",
            )
        )
        strip = (
            alt.layer(tick, *texts)
            .resolve_scale(y="independent")
            .properties(width=plot_w, height=strip_h)
        )

    categories = data.unique("lead_charge_category", maintain_order=True)
    panels = []
    n_cat = categories.height
    per_col = -(-n_cat // n_cols)
    for i, (key, label) in enumerate(
        categories.select("lead_charge_category", "category_label").iter_rows()
    ):
        last = (i % per_col == per_col - 1) or i == n_cat - 1
        sub = data.filter(pl.col("lead_charge_category") == key)
        x_axis = (
            alt.Axis(format="%Y", labelAngle=0, tickCount="year", grid=False, title=period_title)
            if last
            else None
        )
        extra = []
        if "ci_low" in sub.columns:
            extra.append(
                alt.Chart(sub)
                .mark_area(color=PALETTE[0], opacity=0.22)
                .encode(
                    x=alt.X("period:T", scale=x_scale, axis=x_axis),
                    y=alt.Y(
                        "ci_low:Q",
                        scale=y_scale,
                        axis=alt.Axis(format="~%", tickCount=3, grid=True),
                        title=None,
                    ),
                    y2="ci_high:Q",
                )
            )
        if sub["pd_rate"].drop_nulls().is_empty():
            extra.append(
                alt.Chart(alt.Data(values=[{"t": empty_note}]))
                .mark_text(
                    align="left", baseline="middle", fontSize=FONT_SIZE["label"] - 1, color=INK
                )
                .encode(text="t:N", x=alt.value(4), y=alt.value(panel_h / 2))
            )
        line = (
            alt.Chart(sub)
            .mark_line(invalid="break-paths-show-domains", strokeWidth=1.1, color=INK)
            .encode(
                x=alt.X(
                    "period:T", scale=x_scale, axis=x_axis, title=period_title if last else None
                ),
                y=alt.Y(
                    "pd_rate:Q",
                    scale=y_scale,
                    axis=alt.Axis(format="~%", tickCount=3, grid=True),
                    title=None,
                ),
            )
        )
        title = period_title if last else None
        panel = alt.layer(
            *[w.encode(x=alt.X("from:T", scale=x_scale, title=title)) for w in layers_window],
            rules(panel_h, title),
            *extra[:1],
            line,
            *extra[1:],
        ).properties(
            width=plot_w,
            height=panel_h,
            title=alt.Title(label, fontSize=FONT_SIZE["label"], fontWeight="normal", offset=2),
        )
        panels.append(with_watermark(panel, plot_w, panel_h, provenance))

    head = [strip] if strip is not None else []
    columns = [
        alt.vconcat(*head, *panels[c * per_col : (c + 1) * per_col], spacing=6)
        for c in range(n_cols)
        if panels[c * per_col : (c + 1) * per_col]
    ]
    body = columns[0] if len(columns) == 1 else alt.hconcat(*columns, spacing=16)
    notes = [
        "PD rate: PD closures / completions in each period; the same scale in every panel"
        + (
            "; shaded band: 95% Wilson interval. Light grey: the analysis window."
            if "ci_low" in data.columns
            else "."
        ),
    ]
    if data["suppressed"].any():
        notes.append(
            f"Gaps: periods with {marker(threshold)} completions or PD closures, suppressed."
        )
    if labels:
        notes.append(
            "Policy dates: " + "; ".join(f"{lab['label']} {lab['on']}" for lab in labels) + "."
        )
    return finish(body, provenance, TITLE, width, notes)
