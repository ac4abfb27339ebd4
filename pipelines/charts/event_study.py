"""Event study: the monthly PD rate by lead-charge group around each policy date, one panel each.

Input (one row per policy, group and month; ``models.event_study`` rows with measure
``monthly_rate``, built by pipelines/stats/heterogeneity.py):

    policy          str    short name of the policy date (panel title)
    policy_date     date   the memo's date
    group           str    lead-charge group ("criminal", "immigration")
    relative_month  int    months since the month of the policy date (0 = that month)
    completions     int    proceedings of the group completed in the month
    pd_closures     int    of which PD closures
    estimate        float  pd_closures / completions (0-1)
    ci_low/ci_high  float  95% Wilson interval

The table holds descriptive monthly rates, not regression coefficients: the chart shows timing,
not effects. Counts 1 to threshold - 1 are suppressed and the rate and its interval blanked
with them (the line breaks there).
"""

from __future__ import annotations

import altair as alt
import polars as pl

from pipelines.charts._common import require_columns
from pipelines.charts.provenance import Provenance, finish, with_watermark
from pipelines.charts.theme import FONT_SIZE, INK, PALETTE, RULE_GREY, WIDTHS, Width
from pipelines.tables.suppression import DEFAULT_THRESHOLD, marker, suppress

COLUMNS = (
    "policy",
    "policy_date",
    "group",
    "relative_month",
    "completions",
    "pd_closures",
    "estimate",
    "ci_low",
    "ci_high",
)
TITLE = "Monthly PD rate by lead-charge group around each policy date (95% CI)"
DEFINITION = (
    "For each enforcement-policy date and lead-charge group (criminal: aggravated felony and other "
    "criminal; immigration: entry without inspection and other immigration), PD closures divided "
    "by completions in each month from six months before to twelve months after the date's "
    "month, with 95% Wilson intervals. Descriptive rates, not adjusted for composition."
)
GROUP_LABELS = {"criminal": "Criminal lead charge", "immigration": "Immigration lead charge"}


def prepare_event_study(df: pl.DataFrame, threshold: int = DEFAULT_THRESHOLD) -> pl.DataFrame:
    require_columns(df, COLUMNS, "event_study")
    return suppress(
        # Group first: the criminal group's small months come early, so a CSV reader that
        # infers column types from the first rows sees the suppression marker.
        df.sort("group", "policy_date", "relative_month"),
        ["completions", "pd_closures"],
        threshold,
        {c: ["completions", "pd_closures"] for c in ("estimate", "ci_low", "ci_high")},
        secondary=False,
    )


def make_event_study_chart(
    df: pl.DataFrame,
    provenance: Provenance,
    width: Width = "page",
    threshold: int = DEFAULT_THRESHOLD,
) -> alt.VConcatChart:
    data = prepare_event_study(df, threshold)
    group_keys = sorted(data["group"].unique().to_list())
    # The groups sit side by side within a month so that their intervals do not hide each other.
    dodge = {g: (i - (len(group_keys) - 1) / 2) * 0.3 for i, g in enumerate(group_keys)}
    data = data.with_columns(
        pl.col("group").replace(GROUP_LABELS).alias("group_label"),
        (
            pl.col("relative_month")
            + pl.col("group").replace_strict(dodge, return_dtype=pl.Float64)
        ).alias("x_pos"),
    )
    policies = data.unique("policy").sort("policy_date").select("policy", "policy_date").rows()
    n_cols = 2 if width == "page" else 1
    plot_w = (WIDTHS[width] - 40) / n_cols - 44
    plot_h = 80 if width == "page" else 58
    lo_m, hi_m = int(data["relative_month"].min()), int(data["relative_month"].max())
    x_scale = alt.Scale(domain=[lo_m - 0.5, hi_m + 0.5], nice=False, zero=False)
    top = max([0.0, *data["ci_high"].drop_nulls().to_list()])
    y_scale = alt.Scale(domain=[0, max(top, 0.01) * 1.05], nice=False)
    groups = [GROUP_LABELS.get(g, g) for g in group_keys]
    color = alt.Color(
        "group_label:N",
        scale=alt.Scale(domain=groups, range=list(PALETTE[: len(groups)])),
        legend=alt.Legend(title=None, orient="top", direction="horizontal"),
    )
    panels = []
    for i, (policy, when) in enumerate(policies):
        sub = data.filter(pl.col("policy") == policy)
        bottom_row = i >= len(policies) - n_cols
        x = alt.X(
            "x_pos:Q",
            scale=x_scale,
            axis=alt.Axis(
                values=list(range(lo_m, hi_m + 1, 3)),
                title="Months since the policy date" if bottom_row else None,
                grid=False,
            ),
        )
        y_axis = alt.Axis(
            tickCount=3,
            grid=True,
            title="PD rate (%)",
            labelExpr="format(datum.value * 100, '~g')",
        )
        base = alt.Chart(sub)
        zero = (
            alt.Chart(alt.Data(values=[{"m": 0}]))
            .mark_rule(color=RULE_GREY, strokeDash=[3, 2], strokeWidth=0.8)
            .encode(x=alt.X("m:Q", scale=x_scale))
        )
        ci = base.mark_rule(strokeWidth=1, opacity=0.6).encode(
            x=x, y=alt.Y("ci_low:Q", scale=y_scale, axis=y_axis), y2="ci_high:Q", color=color
        )
        line = base.mark_line(
            invalid="break-paths-show-domains", strokeWidth=1.1, point=alt.OverlayMarkDef(size=12)
        ).encode(x=x, y=alt.Y("estimate:Q", scale=y_scale, axis=y_axis), color=color)
        title = f"{policy} ({when.isoformat() if hasattr(when, 'isoformat') else when})"
        panel = alt.layer(zero, ci, line).properties(
            width=plot_w,
            height=plot_h,
            title=alt.Title(title, fontSize=FONT_SIZE["label"], fontWeight="normal", color=INK),
        )
        panels.append(with_watermark(panel, plot_w, plot_h, provenance))
    rows = [alt.hconcat(*panels[r : r + n_cols], spacing=18) for r in range(0, len(panels), n_cols)]
    body = alt.vconcat(*rows, spacing=10)
    notes = [
        "Dashed line: the month of the policy date (month 0). Bars: 95% Wilson intervals. "
        "Descriptive monthly rates, not adjusted for composition: they show timing, not effects."
    ]
    if data["suppressed"].any():
        notes.append(
            f"Gaps: months with {marker(threshold)} completions or PD closures, suppressed."
        )
    return finish(body, provenance, TITLE, width, notes)
