"""ICE removals by fiscal year and threat level, as ICE counts them and with immigration-only
convictions set aside (two panels, same scale).

Input (one row per fiscal year, threat level and panel):

    fiscal_year                int
    threat_level               str|int  1, 2, 3 (DHS levels, docs/DECISIONS.md#threat-levels) or "none"/null (no
                                        criminal conviction)
    immigration_only_excluded  bool     False: ICE's own levels; True: people whose only
                                        convictions are immigration offences (NCIC 03xx)
                                        counted as having no conviction
    removals                   int

Counts 1-9 are suppressed with complementary suppression inside each fiscal year and panel,
because ICE publishes annual totals (reference/ice/ice_removals_published_aggregates.csv) that
would give a single suppressed segment back.
"""

from __future__ import annotations

import json
import math

import altair as alt
import polars as pl

from pipelines.charts._common import require_columns
from pipelines.charts.provenance import Provenance, finish, with_watermark
from pipelines.charts.theme import FONT_SIZE, NEUTRAL_FILL, ORDINAL_BLUES, WIDTHS, Width
from pipelines.tables.suppression import DEFAULT_THRESHOLD, marker, suppress

COLUMNS = ("fiscal_year", "threat_level", "immigration_only_excluded", "removals")
TITLE = "ICE removals by fiscal year and threat level"
DEFINITION = (
    "Removals per fiscal year by the DHS threat level of the person's convictions (Level 1 most "
    "serious). Left/top: ICE's levels. Right/bottom: people whose only convictions are "
    "immigration offences (illegal entry or re-entry) counted as having no conviction."
)
LEVEL_LABELS = {"1": "Level 1", "2": "Level 2", "3": "Level 3", "none": "No conviction"}
PANEL_TITLES = {
    False: "As ICE classifies them",
    True: "Immigration-only convictions set aside",
}


def _level_key(value) -> str:
    if value is None:
        return "none"
    text = str(value).strip().lower()
    text = text.removeprefix("level").strip()
    return text if text in LEVEL_LABELS else "none" if text in ("", "none", "0") else text


def prepare_removals(df: pl.DataFrame, threshold: int = DEFAULT_THRESHOLD) -> pl.DataFrame:
    require_columns(df, COLUMNS, "removals")
    keys = [_level_key(v) for v in df["threat_level"].to_list()]
    unknown = sorted(set(keys) - set(LEVEL_LABELS))
    if unknown:
        raise ValueError(
            f"removals: threat_level values {unknown} are not 1, 2, 3 or none "
            "(docs/DECISIONS.md#threat-levels)"
        )
    data = df.with_columns(
        pl.Series("threat_level", keys, dtype=pl.String),
        pl.Series("threat_label", [LEVEL_LABELS[k] for k in keys], dtype=pl.String),
    )
    return suppress(
        data,
        ["removals"],
        threshold,
        secondary_by=["fiscal_year", "immigration_only_excluded"],
    )


def make_removals_chart(
    df: pl.DataFrame,
    provenance: Provenance,
    width: Width = "column",
    threshold: int = DEFAULT_THRESHOLD,
) -> alt.VConcatChart:
    data = prepare_removals(df, threshold)
    side_by_side = width == "page"
    y_axis_px = 44
    if side_by_side:
        plot_w = (WIDTHS[width] - 2 * y_axis_px - 36) / 2
    else:
        plot_w = WIDTHS[width] - y_axis_px - 24
    plot_h = 130 if width == "column" else 170
    years = sorted(set(data["fiscal_year"].to_list()))
    totals = (
        data.group_by("fiscal_year", "immigration_only_excluded")
        .agg(pl.col("removals").sum())
        .get_column("removals")
    )
    y_max = max(totals.to_list() or [1])
    order = list(LEVEL_LABELS.values())
    color = alt.Color(
        "threat_label:N",
        title=None,
        sort=order,
        scale=alt.Scale(domain=order, range=[*ORDINAL_BLUES[:3], NEUTRAL_FILL]),
        # On top: a bottom legend would land below the provenance footnote.
        legend=alt.Legend(
            orient="top",
            direction="horizontal",
            symbolType="square",
            symbolSize=30,
            labelFontSize=FONT_SIZE["label"] - 0.5,
            columnPadding=5,
            labelOffset=2,
        ),
    )
    # Print every k-th year so four-digit labels never touch (~24 px each at 8 pt).
    label_every = max(1, math.ceil(24 / (plot_w / max(1, len(years)))))
    panels = []
    for excluded in (False, True):
        sub = data.filter(pl.col("immigration_only_excluded") == excluded)
        bars = (
            alt.Chart(sub)
            .transform_calculate(level_order=f"indexof({json.dumps(order)}, datum.threat_label)")
            .mark_bar(stroke="white", strokeWidth=0.4)
            .encode(
                x=alt.X(
                    "fiscal_year:O",
                    title="Fiscal year",
                    scale=alt.Scale(domain=years),
                    axis=alt.Axis(
                        labelAngle=0,
                        labelExpr=f"(datum.value - {years[0] if years else 0}) % {label_every} === 0"
                        " ? '' + datum.value : ''",
                    ),
                ),
                y=alt.Y(
                    "removals:Q",
                    title="Removals" if (not side_by_side or not excluded) else None,
                    stack="zero",
                    scale=alt.Scale(domain=[0, y_max * 1.03], nice=False, zero=True),
                    axis=alt.Axis(
                        tickCount=4, labelExpr="datum.value === 0 ? '0' : format(datum.value, '~s')"
                    ),
                ),
                color=color,
                order=alt.Order("level_order:Q"),
                tooltip=["fiscal_year:O", "threat_label:N", alt.Tooltip("removals:Q", format=",")],
            )
            .properties(
                width=plot_w,
                height=plot_h,
                title=alt.Title(
                    PANEL_TITLES[excluded], fontSize=FONT_SIZE["axis_title"], fontWeight="normal"
                ),
            )
        )
        panels.append(with_watermark(bars, plot_w, plot_h, provenance))
    body = (
        alt.hconcat(*panels, spacing=20) if side_by_side else alt.vconcat(*panels, spacing=12)
    ).resolve_scale(color="shared")
    notes = [
        "Bars start at zero; both panels share one scale. Threat levels: DHS Level 1 "
        "(aggravated felony or two felonies) to Level 3 (misdemeanours).",
    ]
    if data["suppressed"].any():
        notes.append(
            f"Segments of 1 to {threshold - 1} removals ({marker(threshold)}) are suppressed "
            "and not drawn, with one more segment in the same year where a published total "
            "would give them back."
        )
    return finish(body, provenance, TITLE, width, notes)
