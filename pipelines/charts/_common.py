"""Helpers shared by the chart-family modules (input checks, label wrapping)."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterable, Sequence

import polars as pl


def require_columns(df: pl.DataFrame, columns: Iterable[str], chart: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(
            f"{chart}: input frame lacks columns {missing}; it has {df.columns}. "
            f"See the module docstring of pipelines.charts.{chart} for the expected columns."
        )


def wrap_label_expr(labels: Sequence[str], max_chars: int) -> str:
    """A Vega expression that prints each long axis label over several lines.

    Vega-Lite does not wrap axis labels; a ``labelExpr`` returning an array prints one line per
    element. Labels stay intact in the data (and the CSV), only their drawing is wrapped.
    """
    expr = "datum.label"
    for label in labels:
        lines = textwrap.wrap(label, max_chars, break_on_hyphens=False)
        if len(lines) > 1:
            expr = f"datum.label === {json.dumps(label)} ? {json.dumps(lines)} : ({expr})"
    return expr


def max_lines(labels: Sequence[str], max_chars: int) -> int:
    return max((len(textwrap.wrap(s, max_chars)) for s in labels), default=1)


def text_px(text: str, font_size: float) -> float:
    """Rough width of `text` in DejaVu Serif at `font_size` (mean advance ~0.55 em)."""
    return len(text) * font_size * 0.55
