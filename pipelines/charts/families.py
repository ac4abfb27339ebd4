"""The chart families in one registry: what each draws, how its input is prepared, how it is built.

Callers (CLI, Dagster report assets, the benchmark) loop over FAMILIES instead of importing six
modules; `render_chart` is prepare -> make -> export, so the CSV behind a chart is always the
frame it was drawn from.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import altair as alt
import polars as pl

from pipelines.charts import closures, courts, event_study, models, rates_over_time, removals
from pipelines.charts.export import CHART_FORMATS, export_chart
from pipelines.charts.provenance import Provenance
from pipelines.charts.theme import Width
from pipelines.tables.suppression import DEFAULT_THRESHOLD


@dataclass(frozen=True)
class ChartFamily:
    name: str
    title: str
    definition: str
    # (input frame, threshold) -> the frame drawn and written as CSV
    prepare: Callable[[pl.DataFrame, int], pl.DataFrame]
    # (input frame, provenance, width, threshold) -> chart
    make: Callable[[pl.DataFrame, Provenance, Width, int], alt.TopLevelMixin]
    input_columns: tuple[str, ...]


FAMILIES: dict[str, ChartFamily] = {
    f.name: f
    for f in (
        ChartFamily(
            "closures",
            closures.TITLE,
            closures.DEFINITION,
            closures.prepare_closures,
            closures.make_closures_chart,
            closures.COLUMNS,
        ),
        ChartFamily(
            "rates_over_time",
            rates_over_time.TITLE,
            rates_over_time.DEFINITION,
            rates_over_time.prepare_rates_over_time,
            rates_over_time.make_rates_over_time_chart,
            rates_over_time.COLUMNS,
        ),
        ChartFamily(
            "courts",
            courts.TITLE,
            courts.DEFINITION,
            courts.prepare_courts,
            courts.make_courts_chart,
            courts.COLUMNS,
        ),
        ChartFamily(
            "forest",
            models.FOREST_TITLE["odds_ratio"],
            models.FOREST_DEFINITION,
            lambda df, _t: models.prepare_forest(df, "odds_ratio"),
            lambda df, p, w, _t: models.make_forest_chart(df, p, w, "odds_ratio"),
            models.FOREST_COLUMNS,
        ),
        ChartFamily(
            "era_gap",
            models.ERA_TITLE,
            models.ERA_DEFINITION,
            lambda df, _t: models.prepare_era_gap(df),
            lambda df, p, w, _t: models.make_era_gap_chart(df, p, w, "ame"),
            models.ERA_COLUMNS,
        ),
        ChartFamily(
            "event_study",
            event_study.TITLE,
            event_study.DEFINITION,
            event_study.prepare_event_study,
            event_study.make_event_study_chart,
            event_study.COLUMNS,
        ),
        ChartFamily(
            "removals",
            removals.TITLE,
            removals.DEFINITION,
            removals.prepare_removals,
            removals.make_removals_chart,
            removals.COLUMNS,
        ),
    )
}


@dataclass(frozen=True)
class RenderedChart:
    family: str
    stem: str
    title: str
    definition: str
    paths: dict[str, Path]


def render_chart(
    family: str,
    df: pl.DataFrame,
    out_dir: str | Path,
    provenance: Provenance,
    width: Width = "column",
    formats: Sequence[str] = CHART_FORMATS,
    threshold: int = DEFAULT_THRESHOLD,
    stem: str | None = None,
) -> RenderedChart:
    """Prepare, draw and export one chart of `family`; the CSV is the prepared frame."""
    if family not in FAMILIES:
        raise ValueError(f"unknown chart family {family!r}; known: {sorted(FAMILIES)}")
    fam = FAMILIES[family]
    data = fam.prepare(df, threshold)
    # make() prepares again from the raw frame (deterministic, so the same rows): a court
    # chart's all-courts rate must come from unsuppressed counts.
    chart = fam.make(df, provenance, width, threshold)
    stem = stem or f"{family}_{width}"
    paths = export_chart(
        chart, out_dir, stem, provenance, data, formats, caption=fam.title, threshold=threshold
    )
    return RenderedChart(family, stem, fam.title, fam.definition, paths)
