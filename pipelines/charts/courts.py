"""PD rate by immigration court with 95% Wilson intervals: a dot plot sorted by rate.

Input (one row per court):

    court        str  court name or base-city code, as printed
    completions  int  proceedings completed in the window
    pd_closures  int  of which PD closures

The rate and its Wilson score interval are computed here (:func:`add_rates`), then counts 1-9
are suppressed and the rate and interval blanked with them; suppressed courts are listed in a
panel below the dots with their marker. Courts add up to the national totals printed in the
rates table, so a report suppresses them jointly with it (pipelines.publish.cells).
"""

from __future__ import annotations

import altair as alt
import numpy as np
import polars as pl
from scipy.stats import norm

from pipelines.charts._common import require_columns, text_px
from pipelines.charts.provenance import Provenance, finish, with_watermark
from pipelines.charts.theme import FONT_SIZE, INK, PALETTE, RULE_GREY, WIDTHS, Width
from pipelines.tables.suppression import (
    DEFAULT_THRESHOLD,
    SECONDARY_MARKER,
    SUPPRESSED_CELLS,
    marker,
    suppress,
)

COLUMNS = ("court", "completions", "pd_closures")
TITLE = "PD closures as a share of completions, by immigration court"
DEFINITION = (
    "For each immigration court: PD closures divided by proceedings completed in the window, "
    "with a 95% Wilson score interval; the dashed line is the rate over all courts."
)


def wilson_interval(
    successes: np.ndarray | list, trials: np.ndarray | list, alpha: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for binomial proportions (NaN where trials == 0).

    Same formula as statsmodels ``proportion_confint(method="wilson")``; tests compare them.
    """
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    z = norm.isf(alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    low = np.where(n > 0, centre - half, np.nan)
    high = np.where(n > 0, centre + half, np.nan)
    return low, high


def add_rates(df: pl.DataFrame, alpha: float = 0.05) -> pl.DataFrame:
    """Add ``pd_rate``, ``ci_low``, ``ci_high`` (null where completions is 0)."""
    require_columns(df, COLUMNS, "courts")
    k = df["pd_closures"].to_numpy().astype(float)
    n = df["completions"].to_numpy().astype(float)
    low, high = wilson_interval(k, n, alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(n > 0, k / n, np.nan)
    return df.with_columns(
        pl.Series("pd_rate", rate).fill_nan(None),
        pl.Series("ci_low", low).fill_nan(None),
        pl.Series("ci_high", high).fill_nan(None),
    )


def prepare_courts(df: pl.DataFrame, threshold: int = DEFAULT_THRESHOLD) -> pl.DataFrame:
    data = df if "pd_rate" in df.columns else add_rates(df)
    return suppress(
        data,
        ["completions", "pd_closures"],
        threshold,
        {c: ["completions", "pd_closures"] for c in ("pd_rate", "ci_low", "ci_high")},
        secondary=False,
    )


def make_courts_chart(
    df: pl.DataFrame,
    provenance: Provenance,
    width: Width = "column",
    threshold: int = DEFAULT_THRESHOLD,
) -> alt.VConcatChart:
    if "all_courts_rate" in df.columns:
        # Counts suppressed upstream are null: the all-courts rate travels with the frame.
        national = df["all_courts_rate"].drop_nulls().first() if df.height else None
    else:
        national = (
            df["pd_closures"].sum() / df["completions"].sum() if df["completions"].sum() else None
        )
    data = prepare_courts(df, threshold)
    shown = data.filter(pl.col("pd_rate").is_not_null()).sort(
        ["pd_rate", "court"], descending=[True, False]
    )
    hidden = data.filter(pl.col("pd_rate").is_null()).sort("court")
    order = shown["court"].to_list()
    label_px = (
        max(
            (text_px(c, FONT_SIZE["label"] - 1) for c in order + hidden["court"].to_list()),
            default=20,
        )
        + 8
    )
    plot_w = WIDTHS[width] - label_px - 18
    plot_h = max(60, 9 * len(order))
    x_max = max(data["ci_high"].drop_nulls().to_list() or [0.01])
    x_scale = alt.Scale(domain=[0, x_max * 1.02], nice=False, zero=True)
    y = alt.Y(
        "court:N",
        sort=order,
        title=None,
        axis=alt.Axis(labelFontSize=FONT_SIZE["label"] - 1, labelLimit=0),
    )
    base = alt.Chart(data.filter(pl.col("pd_rate").is_not_null()))
    layers = []
    if national is not None:
        layers.append(
            alt.Chart(alt.Data(values=[{"national": float(national)}]))
            .mark_rule(color=RULE_GREY, strokeDash=[3, 2], strokeWidth=0.8)
            .encode(x=alt.X("national:Q", scale=x_scale))
        )
    layers += [
        base.mark_rule(color=PALETTE[0], strokeWidth=1).encode(
            x=alt.X("ci_low:Q", scale=x_scale), x2="ci_high:Q", y=y
        ),
        base.mark_point(filled=True, color=INK, size=14, opacity=1).encode(
            x=alt.X(
                "pd_rate:Q",
                scale=x_scale,
                title="PD rate in the window (95% Wilson interval)",
                axis=alt.Axis(format="~%", tickCount=5),
            ),
            y=y,
            tooltip=[
                "court:N",
                "completions:Q",
                "pd_closures:Q",
                alt.Tooltip("pd_rate:Q", format=".2%"),
            ],
        ),
    ]
    panel = with_watermark(
        alt.layer(*layers).properties(width=plot_w, height=plot_h), plot_w, plot_h, provenance
    )
    body = panel
    if hidden.height:
        # Suppressed courts are listed below the dots, away from the rule, with the marker that
        # says why: <10 (a count of 1 to 9) or (s) (suppressed so that another cannot be
        # recovered).
        kinds = (
            [
                marker(threshold)
                if any(t and not t.startswith("~") for t in (cells or "").split(";"))
                else SECONDARY_MARKER
                for cells in hidden[SUPPRESSED_CELLS].to_list()
            ]
            if SUPPRESSED_CELLS in hidden.columns
            else [marker(threshold)] * hidden.height
        )
        listed = hidden.select("court").with_columns(pl.Series("why", kinds, dtype=pl.String))
        list_h = 9 * hidden.height
        body = alt.vconcat(
            panel,
            alt.Chart(listed)
            .mark_text(align="left", dx=2, fontSize=FONT_SIZE["label"] - 1.5, color=INK)
            .encode(
                y=alt.Y(
                    "court:N",
                    sort=listed["court"].to_list(),
                    title=None,
                    axis=alt.Axis(
                        labelFontSize=FONT_SIZE["label"] - 1,
                        labelLimit=0,
                        domain=False,
                        ticks=False,
                    ),
                ),
                x=alt.value(0),
                text="why:N",
            )
            .properties(
                width=plot_w,
                height=list_h,
                title=alt.Title(
                    "Not shown (counts suppressed)",
                    fontSize=FONT_SIZE["label"],
                    fontWeight="normal",
                    anchor="start",
                ),
            ),
            spacing=8,
        )
    notes = []
    if national is not None:
        notes.append(f"Dashed line: all courts, {national:.1%}.")
    if hidden.height:
        notes.append(
            f"{hidden.height} court(s) not shown: {marker(threshold)}, 1 to {threshold - 1} PD "
            f"closures or completions; {SECONDARY_MARKER}, suppressed so that no suppressed "
            "count can be recovered from the national totals."
        )
    if data.height == 0:
        notes.append("No court completed a proceeding in the window.")
    return finish(body, provenance, TITLE, width, notes)
