"""Model results: a forest plot per lead-charge category, and the criminal-vs-immigration gap by era.

Forest input (one row per category, in the order to draw, most serious first):

    term          str    category label as printed
    estimate      float  odds ratio (measure="odds_ratio") or average marginal effect as a
                         probability difference (measure="ame"; drawn in percentage points)
    ci_low        float  lower end of the 95% CI (null for the reference category)
    ci_high       float  upper end of the 95% CI (null for the reference category)
    is_reference  bool   optional; the omitted category (drawn hollow, at 1 or 0, labelled)

Era-gap input (one row per policy era, eras named as in pipelines.classify.policy.POLICY_ERAS):

    era       str
    estimate  float  criminal minus immigration lead charge, as a probability difference
                     (AME; drawn in percentage points) or an odds ratio
    ci_low    float
    ci_high   float

Odds ratios are drawn on a log scale with a reference rule at 1; AMEs on a linear scale with a
rule at 0. Model estimates are not counts: no suppression applies here, the counts behind the
model are suppressed in the model tables.
"""

from __future__ import annotations

import json
import textwrap
from typing import Literal

import altair as alt
import polars as pl

from pipelines.charts._common import require_columns, text_px, wrap_label_expr
from pipelines.charts.provenance import Provenance, finish, with_watermark
from pipelines.charts.theme import FONT_SIZE, INK, PALETTE, RULE_GREY, WIDTHS, Width
from pipelines.classify.policy import POLICY_ERAS

Measure = Literal["odds_ratio", "ame"]
FOREST_COLUMNS = ("term", "estimate", "ci_low", "ci_high")
ERA_COLUMNS = ("era", "estimate", "ci_low", "ci_high")
FOREST_TITLE = {
    "odds_ratio": "Odds of a PD closure by lead charge (odds ratios, 95% CI)",
    "ame": "Change in the probability of a PD closure by lead charge (AME, 95% CI)",
}
ERA_TITLE = "Criminal vs. immigration lead charge: gap in PD closure by policy era"
FOREST_DEFINITION = (
    "Logit of PD closure on lead-charge category with controls and court-clustered standard "
    "errors: each category against the reference category, with 95% confidence intervals."
)
ERA_DEFINITION = (
    "Difference between criminal and immigration lead charges in the probability of a PD "
    "closure, estimated separately within each enforcement-policy era, with 95% CIs."
)


def _check_measure(measure: str) -> None:
    if measure not in ("odds_ratio", "ame"):
        raise ValueError(f"measure must be 'odds_ratio' or 'ame', got {measure!r}")


def prepare_forest(df: pl.DataFrame, measure: Measure = "odds_ratio") -> pl.DataFrame:
    require_columns(df, FOREST_COLUMNS, "models")
    _check_measure(measure)
    if "is_reference" not in df.columns:
        df = df.with_columns(is_reference=pl.col("ci_low").is_null() & pl.col("ci_high").is_null())
    bad = df.filter(
        ~pl.col("is_reference")
        & ((pl.col("ci_low") > pl.col("estimate")) | (pl.col("ci_high") < pl.col("estimate")))
    )
    if bad.height:
        raise ValueError(f"models: estimate outside its CI for terms {bad['term'].to_list()}")
    if measure == "odds_ratio" and (
        df.filter(~pl.col("is_reference"))
        .select((pl.min_horizontal("estimate", "ci_low", "ci_high") <= 0).any())
        .item()
    ):
        raise ValueError("models: odds ratios and their CIs must be > 0 for a log scale")
    return df


def _value_axis(
    measure: Measure, lo: float, hi: float, title: str, length_px: float = 200
) -> tuple[alt.Scale, alt.Axis]:
    if measure == "odds_ratio":
        lo, hi = min(lo, 1.0), max(hi, 1.0)
        domain = [lo / 1.15, hi * 1.15]
        scale = alt.Scale(type="log", domain=domain, nice=False)
        ticks = log_ticks(*domain, max_ticks=max(3, int(length_px / 36)))
        axis = alt.Axis(title=title, format="~g", grid=True, values=ticks, labelOverlap=True)
    else:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
        pad = (hi - lo) * 0.06 or 0.01
        scale = alt.Scale(domain=[lo - pad, hi + pad], nice=False, zero=True)
        axis = alt.Axis(
            title=title,
            grid=True,
            tickCount=6,
            labelExpr="format(datum.value * 100, '~g')",
        )
    return scale, axis


def log_ticks(lo: float, hi: float, max_ticks: int = 7) -> list[float]:
    """Tick values for a log axis: 1-2-5 steps, thinned to 1-only (then every other decade)
    when there would be more than `max_ticks`, so labels never crowd."""
    import math

    decades = range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
    for mantissas in ((1, 2, 5), (1, 3), (1,)):
        ticks = [m * 10.0**k for k in decades for m in mantissas if lo <= m * 10.0**k <= hi]
        if len(ticks) <= max_ticks:
            return [float(f"{t:.6g}") for t in ticks]
    return [float(f"{t:.6g}") for t in ticks[::2]]


def make_forest_chart(
    df: pl.DataFrame,
    provenance: Provenance,
    width: Width = "column",
    measure: Measure = "odds_ratio",
) -> alt.VConcatChart:
    data = prepare_forest(df, measure)
    terms = data["term"].to_list()
    wrap_chars = 20 if width == "column" else 30
    label_px = (
        max(text_px(line, FONT_SIZE["label"]) for t in terms for line in _wrap(t, wrap_chars)) + 8
    )
    plot_w = WIDTHS[width] - label_px - 24
    rows = max(1, len(terms))
    plot_h = rows * 22
    est = data.filter(~pl.col("is_reference"))
    lo = min(est["ci_low"].drop_nulls().to_list() + est["estimate"].to_list() or [1.0])
    hi = max(est["ci_high"].drop_nulls().to_list() + est["estimate"].to_list() or [1.0])
    null_value = 1.0 if measure == "odds_ratio" else 0.0
    title = (
        "Odds ratio (log scale)"
        if measure == "odds_ratio"
        else "Average marginal effect (percentage points)"
    )
    scale, axis = _value_axis(measure, lo, hi, title, plot_w)
    y = alt.Y(
        "term:N",
        sort=terms,
        title=None,
        axis=alt.Axis(labelExpr=wrap_label_expr(terms, wrap_chars), labelLimit=0, grid=False),
    )
    plot_data = data.with_columns(
        # The reference category sits on the null value so it lines up with the rule.
        pl.when(pl.col("is_reference"))
        .then(pl.lit(null_value))
        .otherwise(pl.col("estimate"))
        .alias("estimate")
    )
    base = alt.Chart(plot_data)
    rule = (
        alt.Chart(alt.Data(values=[{"null": null_value}]))
        .mark_rule(color=RULE_GREY, strokeDash=[3, 2], strokeWidth=0.8)
        .encode(x=alt.X("null:Q", scale=scale))
    )
    ci = (
        base.transform_filter("!datum.is_reference")
        .mark_rule(color=PALETTE[0], strokeWidth=1.2)
        .encode(x=alt.X("ci_low:Q", scale=scale), x2="ci_high:Q", y=y)
    )
    points = base.mark_point(size=30, opacity=1, strokeWidth=1.2, filled=False, stroke=INK).encode(
        x=alt.X("estimate:Q", scale=scale, axis=axis),
        y=y,
        # Filled = estimated; hollow = the reference category (no interval by construction).
        fill=alt.condition("datum.is_reference", alt.value("white"), alt.value(INK)),
        shape=alt.condition("datum.is_reference", alt.value("diamond"), alt.value("circle")),
    )
    ref_label = (
        base.transform_filter("datum.is_reference")
        .mark_text(align="left", dx=6, fontSize=FONT_SIZE["label"] - 1, fontStyle="italic")
        .encode(x=alt.X("estimate:Q", scale=scale), y=y, text=alt.value("reference"))
    )
    panel = alt.layer(rule, ci, points, ref_label).properties(width=plot_w, height=plot_h)
    notes = [
        "Hollow diamond: the reference category."
        + (
            " Odds ratios on a log scale; dashed line at 1 = no difference."
            if measure == "odds_ratio"
            else " Dashed line at 0 = no difference."
        )
    ]
    return finish(
        with_watermark(panel, plot_w, plot_h, provenance),
        provenance,
        FOREST_TITLE[measure],
        width,
        notes,
    )


def _wrap(text: str, chars: int) -> list[str]:
    return textwrap.wrap(text, chars) or [""]


def era_labels() -> dict[str, list[str]]:
    """Axis label lines per era: its name and its years (``2011–14``), from pipelines.classify.policy."""
    out = {}
    for i, (name, start) in enumerate(POLICY_ERAS):
        end = POLICY_ERAS[i + 1][1] if i + 1 < len(POLICY_ERAS) else None
        if i == 0:
            span = f"to {end.year}" if end else ""
        else:
            span = f"{start.year}–{str(end.year)[2:] if end else ''}"
        # An era named by its years ("2017-2021") prints its span only.
        out[name] = [span] if name[:4].isdigit() else [name, span]
    return out


def prepare_era_gap(df: pl.DataFrame) -> pl.DataFrame:
    require_columns(df, ERA_COLUMNS, "models")
    known = [name for name, _ in POLICY_ERAS]
    unknown = sorted(set(df["era"].to_list()) - set(known))
    if unknown:
        raise ValueError(f"models: unknown policy eras {unknown}; expected names from {known}")
    order = {name: i for i, name in enumerate(known)}
    return df.sort(pl.col("era").replace_strict(order, return_dtype=pl.Int32))


def make_era_gap_chart(
    df: pl.DataFrame,
    provenance: Provenance,
    width: Width = "column",
    measure: Measure = "ame",
) -> alt.VConcatChart:
    _check_measure(measure)
    data = prepare_era_gap(df)
    eras = data["era"].to_list()
    plot_w = WIDTHS[width] - 52
    plot_h = 150 if width == "column" else 190
    lo = min(data["ci_low"].to_list() + data["estimate"].to_list())
    hi = max(data["ci_high"].to_list() + data["estimate"].to_list())
    title = "Odds ratio (log scale)" if measure == "odds_ratio" else "Gap (percentage points)"
    scale, axis = _value_axis(measure, lo, hi, title, plot_h)
    null_value = 1.0 if measure == "odds_ratio" else 0.0
    lines = era_labels()
    label_expr = "datum.label"
    for era in eras:
        label_expr = (
            f"datum.label === {json.dumps(era)} ? {json.dumps(lines[era])} : ({label_expr})"
        )
    x = alt.X(
        "era:N",
        sort=eras,
        title=None,
        axis=alt.Axis(
            labelExpr=label_expr,
            labelAngle=0,
            labelLimit=0,
            labelFontSize=FONT_SIZE["label"] - (1 if width == "column" else 0),
        ),
    )
    base = alt.Chart(data)
    rule = (
        alt.Chart(alt.Data(values=[{"null": null_value}]))
        .mark_rule(color=RULE_GREY, strokeDash=[3, 2], strokeWidth=0.8)
        .encode(y=alt.Y("null:Q", scale=scale))
    )
    ci = base.mark_rule(color=PALETTE[0], strokeWidth=1.4).encode(
        x=x, y=alt.Y("ci_low:Q", scale=scale), y2="ci_high:Q"
    )
    points = base.mark_point(filled=True, size=34, opacity=1, color=INK).encode(
        x=x, y=alt.Y("estimate:Q", scale=scale, axis=axis)
    )
    panel = alt.layer(rule, ci, points).properties(width=plot_w, height=plot_h)
    notes = [
        "Eras begin on the date of their memo (pipelines/classify/policy.py). Below the dashed line, "
        "criminal lead charges were less likely than immigration ones to end in a PD closure."
    ]
    return finish(
        with_watermark(panel, plot_w, plot_h, provenance), provenance, ERA_TITLE, width, notes
    )
