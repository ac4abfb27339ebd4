"""The one Altair theme for print, and the sizes every chart module builds on.

Sizes are in Vega pixels at 72 px/in, so 1 px = 1 pt: a journal column is ~3.5 in (252 px),
a full page ~7 in (504 px); font sizes read directly as points in the printed figure.

Fonts: vl-convert renders text only with fonts it can find on the machine; an unknown family
renders NOTHING (checked with vl-convert 1.9: "Liberation Serif" alone gave a blank PNG here).
The machines of this project ship DejaVu (Debian fonts-dejavu-core), so DejaVu Serif leads
the list and the PNG/PDF match what the SVG shows; the later names serve a viewer opening the
SVG elsewhere. tests/charts check that text really lands in the PNG.
"""

from __future__ import annotations

from typing import Literal

import altair as alt

THEME_NAME = "pd_print"

FONT = "DejaVu Serif, Liberation Serif, Times New Roman, serif"

PX_PER_IN = 72
WIDTHS: dict[str, int] = {"column": int(3.5 * PX_PER_IN), "page": int(7 * PX_PER_IN)}
Width = Literal["column", "page"]

# Point sizes for print (1 px = 1 pt at 72 px/in).
FONT_SIZE = {"label": 8, "axis_title": 8.5, "title": 10, "subtitle": 8, "footnote": 6.5}

INK = "#222222"  # near-black for text, axes and single-series marks
RULE_GREY = "#777777"
LIGHT_GREY = "#e6e6e6"

# Okabe & Ito (2008) colour-blind-safe palette, reordered so that neighbours differ strongly in
# luminance (dark, light, mid, ...): the first few series stay distinguishable when printed in
# grayscale. Grey levels (ITU-R BT.601 luma, 0-255): blue 87, orange 162, black 0, sky blue 158,
# bluish green 106, reddish purple 151, vermillion 119, yellow 213. Beyond three series grey
# levels must repeat, so series that matter also carry a shape or dash (see DASHES, SHAPES).
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#000000",  # black
    "#56B4E9",  # sky blue
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
)
DASHES: tuple[tuple[int, ...], ...] = ((1, 0), (5, 3), (1, 2), (6, 2, 1, 2), (2, 4), (8, 3))
SHAPES: tuple[str, ...] = ("circle", "square", "triangle-up", "diamond", "cross", "triangle-down")

# Ordered levels (e.g. ICE threat levels, most serious first): one hue, monotone in lightness,
# so order survives grayscale and every colour-vision deficiency. ColorBrewer Blues 8/6/4 + grey.
ORDINAL_BLUES: tuple[str, ...] = ("#08306b", "#2171b5", "#6baed6", "#c6dbef")
NEUTRAL_FILL = "#bdbdbd"


def plot_width(width: Width, reserved: int = 0) -> int:
    """Plot-area width for a figure of `width` once `reserved` px (axis labels, legend) are set aside."""
    if width not in WIDTHS:
        raise ValueError(f"width must be one of {sorted(WIDTHS)}, got {width!r}")
    return max(60, WIDTHS[width] - reserved)


def theme_config() -> alt.theme.ThemeConfig:
    label, axis_title = FONT_SIZE["label"], FONT_SIZE["axis_title"]
    axis = {
        "labelFont": FONT,
        "titleFont": FONT,
        "labelFontSize": label,
        "titleFontSize": axis_title,
        "titleFontWeight": "normal",
        "labelColor": INK,
        "titleColor": INK,
        "domainColor": INK,
        "tickColor": INK,
        "domainWidth": 0.6,
        "tickWidth": 0.6,
        "tickSize": 3,
        "labelPadding": 2,
        "grid": False,
    }
    return {
        "config": {
            "font": FONT,
            "background": "white",
            "padding": 4,
            # No chart border: print figures sit in the page, not in a box.
            "view": {"stroke": None, "continuousWidth": WIDTHS["column"] - 60},
            "axis": axis,
            # A light guide on the quantitative axis only helps read values off a dot plot.
            "axisQuantitative": {"grid": True, "gridColor": LIGHT_GREY, "gridWidth": 0.5},
            "axisBand": {"ticks": False, "domain": False},
            "legend": {
                "labelFont": FONT,
                "titleFont": FONT,
                "labelFontSize": label,
                "titleFontSize": axis_title,
                "titleFontWeight": "normal",
                "labelColor": INK,
                "titleColor": INK,
                "symbolSize": 40,
                "orient": "bottom",
                "direction": "horizontal",
                "columnPadding": 8,
                "labelLimit": 220,
            },
            "title": {
                "font": FONT,
                "fontSize": FONT_SIZE["title"],
                "fontWeight": "bold",
                "color": INK,
                "anchor": "start",
                "subtitleFont": FONT,
                "subtitleFontSize": FONT_SIZE["subtitle"],
                "subtitleColor": INK,
                "offset": 6,
            },
            "header": {
                "labelFont": FONT,
                "titleFont": FONT,
                "labelFontSize": label,
                "titleFontSize": axis_title,
            },
            "text": {"font": FONT, "fontSize": label, "color": INK},
            "bar": {"color": PALETTE[0]},
            "point": {"color": INK, "filled": True, "size": 22},
            "line": {"color": INK, "strokeWidth": 1.2},
            "rule": {"color": INK},
            "range": {"category": list(PALETTE), "ordinal": list(ORDINAL_BLUES)},
            "concat": {"spacing": 14},
        }
    }


def _register() -> None:
    if THEME_NAME not in alt.theme.names():
        alt.theme.register(THEME_NAME, enable=False)(theme_config)


def enable() -> None:
    """Register (once) the print theme; pipelines.charts.export applies it per conversion.

    Call ``alt.theme.enable(THEME_NAME)`` to make it the default elsewhere (e.g. a notebook).
    """
    _register()


_register()
