"""Export a chart with vl-convert: SVG, PDF, PNG (300 dpi), Vega-Lite JSON and the CSV behind it.

The spec is compiled under the print theme (so the JSON is self-contained: its ``config``
block carries fonts and sizes) with all data inline: vl-convert runs with no allowed base
URLs, so a chart that tried to fetch data would fail here rather than in a reader's hands.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import altair as alt
import polars as pl
import vl_convert as vlc

from pipelines.charts import theme
from pipelines.charts.provenance import SYNTHETIC_MARK, Provenance
from pipelines.tables.export import write_csv
from pipelines.tables.suppression import DEFAULT_THRESHOLD

CHART_FORMATS = ("svg", "pdf", "png", "json", "csv")
PNG_PPI = 300
VEGA_LITE_SCHEMA = (
    Path(alt.__file__).parent / "vegalite" / "v6" / "schema" / "vega-lite-schema.json"
)


def chart_spec(chart: alt.TopLevelMixin, provenance: Provenance | None = None) -> dict:
    """The Vega-Lite dict under the print theme, with provenance in ``usermeta``."""
    # Enabled for this conversion only: the process's active theme is left as it was.
    theme.enable()  # registers once
    with alt.theme.enable(theme.THEME_NAME), alt.data_transformers.enable("default", max_rows=None):
        spec = chart.to_dict(validate=True)
    if provenance is not None:
        spec["usermeta"] = {"provenance": provenance.as_dict()}
        spec["description"] = provenance.footnote()
    return spec


def _assert_inline(spec: dict) -> None:
    """Every data source in the spec is inline values or a named inline dataset."""

    def walk(node):
        if isinstance(node, dict):
            data = node.get("data")
            if isinstance(data, dict) and "url" in data:
                raise ValueError(f"chart fetches data from {data['url']!r}; embed it inline")
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(spec)


def export_chart(
    chart: alt.TopLevelMixin,
    out_dir: str | Path,
    stem: str,
    provenance: Provenance,
    data: pl.DataFrame,
    formats: Sequence[str] = CHART_FORMATS,
    *,
    caption: str | None = None,
    threshold: int = DEFAULT_THRESHOLD,
) -> dict[str, Path]:
    """Write ``<stem>.<fmt>`` for each of `formats` into `out_dir`; returns {format: path}.

    `data` is the frame the chart was drawn from (already suppressed); it is written as the
    CSV with the table exporter's provenance header. PNG is rendered at 300 ppi (scale
    300/72) with a matching pHYs chunk.

    Raises ValueError if the spec references external data or the provenance is synthetic
    but the chart lacks the SYNTHETIC mark.
    """
    unknown = set(formats) - set(CHART_FORMATS)
    if unknown:
        raise ValueError(f"export_chart: unknown formats {sorted(unknown)}; use {CHART_FORMATS}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    spec = chart_spec(chart, provenance)
    _assert_inline(spec)
    if provenance.synthetic and SYNTHETIC_MARK not in json.dumps(spec, ensure_ascii=False):
        raise ValueError(
            f"{stem}: synthetic provenance but the chart has no SYNTHETIC mark; "
            "build it with pipelines.charts.provenance.finish()"
        )
    paths: dict[str, Path] = {}
    # Vega runs once, to SVG; PNG and PDF are rasterised/converted from that SVG (same fonts,
    # same layout, and about half the time of three Vega runs). No base URL is allowed, so a
    # chart that tried to fetch data fails here.
    svg = None
    if {"svg", "pdf", "png"} & set(formats):
        svg = vlc.vegalite_to_svg(spec, allowed_base_urls=[])
    for fmt in formats:
        path = out / f"{stem}.{fmt}"
        if fmt == "svg":
            path.write_text(svg, encoding="utf-8")
        elif fmt == "pdf":
            path.write_bytes(vlc.svg_to_pdf(svg))
        elif fmt == "png":
            path.write_bytes(vlc.svg_to_png(svg, ppi=PNG_PPI))
        elif fmt == "json":
            path.write_text(json.dumps(spec, indent=1, ensure_ascii=False), encoding="utf-8")
        elif fmt == "csv":
            write_csv(data, path, provenance, caption or stem, threshold)
        paths[fmt] = path
    return paths
