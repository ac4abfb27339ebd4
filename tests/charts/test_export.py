"""Every chart family exported in every format, on inputs the tests write (conftest.py)."""

from __future__ import annotations

import json
import re
import struct
import zlib
from html import unescape

import altair as alt
import jsonschema
import polars as pl
import pytest
import vl_convert as vlc

from pipelines.charts import theme
from pipelines.charts.export import VEGA_LITE_SCHEMA, export_chart
from pipelines.charts.families import FAMILIES, render_chart
from pipelines.charts.provenance import SYNTHETIC_MARK, finish
from tests.charts.conftest import FAMILY_INPUTS, closures_input


def png_chunks(data: bytes) -> dict[bytes, list[bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks: dict[bytes, list[bytes]] = {}
    i = 8
    while i < len(data):
        (n,) = struct.unpack(">I", data[i : i + 4])
        chunks.setdefault(data[i + 4 : i + 8], []).append(data[i + 8 : i + 8 + n])
        i += 12 + n
    return chunks


def png_dark_fraction(data: bytes) -> float:
    """Share of pixels darker than mid-grey (RGBA 8-bit, filter bytes undone)."""
    chunks = png_chunks(data)
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][0][:10])
    assert (depth, colour) == (8, 6), "expected 8-bit RGBA"
    raw = zlib.decompress(b"".join(chunks[b"IDAT"]))
    bpp, stride = 4, width * 4
    prev = bytearray(stride)
    dark = 0
    pos = 0
    for _ in range(height):
        ftype, line = raw[pos], bytearray(raw[pos + 1 : pos + 1 + stride])
        pos += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if ftype == 1:
                line[x] = (line[x] + a) & 0xFF
            elif ftype == 2:
                line[x] = (line[x] + b) & 0xFF
            elif ftype == 3:
                line[x] = (line[x] + (a + b) // 2) & 0xFF
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[x] = (line[x] + pred) & 0xFF
        dark += sum(1 for x in range(0, stride, 4) if line[x] < 128 and line[x + 3] > 0)
        prev = line
    return dark / (width * height)


def svg_text(svg: str) -> str:
    return " ".join(unescape(t) for t in re.findall(r"<text[^>]*>(.*?)</text>", svg, re.S))


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    from datetime import date

    from pipelines.charts.provenance import Provenance

    provenance = Provenance(
        "EOIR case data (FOIA)",
        "synthetic-2026-04",
        date(2011, 12, 1),
        date(2013, 6, 30),
        generated=date(2026, 4, 30),
        code_version="pd-pipeline 0.1.0 (git abc1234def)",
    )
    out = tmp_path_factory.mktemp("report")
    return provenance, {
        family: render_chart(family, make(), out, provenance, "column")
        for family, make in FAMILY_INPUTS.items()
    }


@pytest.fixture(scope="module")
def vega_lite_validator():
    schema = json.loads(VEGA_LITE_SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema)


def test_every_family_is_exercised():
    assert set(FAMILY_INPUTS) == set(FAMILIES)


@pytest.mark.parametrize("family", sorted(FAMILY_INPUTS))
def test_files_exist_and_parse(exported, vega_lite_validator, family):
    provenance, rendered = exported
    paths = rendered[family].paths
    assert set(paths) == {"svg", "pdf", "png", "json", "csv"}

    svg = paths["svg"].read_text(encoding="utf-8")
    assert svg.lstrip().startswith(("<svg", "<?xml"))
    assert svg.rstrip().endswith("</svg>")
    assert paths["pdf"].read_bytes()[:5] == b"%PDF-"

    chunks = png_chunks(paths["png"].read_bytes())
    x_ppm, y_ppm, unit = struct.unpack(">IIB", chunks[b"pHYs"][0])
    assert unit == 1 and x_ppm == y_ppm == round(300 / 0.0254)
    (png_w,) = struct.unpack(">I", chunks[b"IHDR"][0][:4])
    svg_w = float(re.search(r'<svg[^>]*\swidth="([\d.]+)"', svg).group(1))
    assert png_w == pytest.approx(svg_w * 300 / 72, abs=2)

    spec = json.loads(paths["json"].read_text(encoding="utf-8"))
    errors = sorted(vega_lite_validator.iter_errors(spec), key=str)
    assert not errors, errors[0].message
    assert spec["usermeta"]["provenance"]["release_id"] == "synthetic-2026-04"
    assert "url" not in json.dumps(spec.get("data", {}))
    assert spec["config"]["font"] == theme.FONT  # the print theme is baked in


@pytest.mark.parametrize("family", sorted(FAMILY_INPUTS))
def test_svg_carries_provenance_and_synthetic_mark(exported, family):
    provenance, rendered = exported
    text = svg_text(rendered[family].paths["svg"].read_text(encoding="utf-8"))
    assert SYNTHETIC_MARK in text
    for piece in ("synthetic-2026-04", "2011-12-01", "2013-06-30", "2026-04-30", "abc1234def"):
        assert piece in text, piece


@pytest.mark.parametrize("family", sorted(FAMILY_INPUTS))
def test_csv_behind_chart_is_the_frame_drawn(exported, family):
    _, rendered = exported
    fam = FAMILIES[family]
    raw = FAMILY_INPUTS[family]()
    drawn = fam.prepare(raw, 10)
    csv = pl.read_csv(rendered[family].paths["csv"], infer_schema=False)
    visible = [c for c in drawn.columns if c != "suppressed_cells"]
    assert csv.columns == visible
    for col in visible:
        expected = drawn[col]
        got = csv[col]
        for i, (e, g) in enumerate(zip(expected.to_list(), got.to_list(), strict=True)):
            if e is None:
                assert g in (None, "<10", "(s)"), (col, i, g)
            elif isinstance(e, bool):
                assert g == str(e).lower()
            elif isinstance(e, float):
                assert float(g) == pytest.approx(e, rel=1e-12)
            else:
                assert g == str(e), (col, i)
    # The input's own columns come through unchanged wherever nothing was suppressed (rows
    # may be reordered: eras are sorted into policy order).
    if "suppressed" in drawn.columns:
        unsuppressed = drawn.filter(~pl.col("suppressed")).select(raw.columns)
    else:  # model estimates: nothing to suppress
        unsuppressed = drawn.select(raw.columns)
    kept = raw.join(unsuppressed, on=raw.columns, how="semi", nulls_equal=True)
    assert kept.height == unsuppressed.height
    assert drawn.height == raw.height


@pytest.mark.parametrize("family", sorted(FAMILY_INPUTS))
def test_figures_fit_their_nominal_width(exported, tmp_path, family):
    """Nothing (labels, watermark, footnote) pushes a figure past its column or page width."""
    provenance, rendered = exported
    column_svg = rendered[family].paths["svg"].read_text(encoding="utf-8")
    page = render_chart(
        family, FAMILY_INPUTS[family](), tmp_path, provenance, "page", formats=("svg",)
    )
    page_svg = page.paths["svg"].read_text(encoding="utf-8")
    for svg, nominal in ((column_svg, theme.WIDTHS["column"]), (page_svg, theme.WIDTHS["page"])):
        width = float(re.search(r'<svg[^>]*\swidth="([\d.]+)"', svg).group(1))
        assert 0.8 * nominal <= width <= 1.08 * nominal, (family, nominal, width)


def test_chart_inline_data_matches_csv_rows(exported):
    _, rendered = exported
    spec = json.loads(rendered["courts"].paths["json"].read_text(encoding="utf-8"))
    # Courts with a rate are drawn as dots, suppressed ones listed in a panel of their own.
    rows = [r for v in spec["datasets"].values() for r in v if "court" in r]
    csv = pl.read_csv(rendered["courts"].paths["csv"], infer_schema=False)
    assert sorted({r["court"] for r in rows}) == sorted(csv["court"].to_list())


def test_suppression_holds_in_chart_exports(tmp_path, synthetic_provenance):
    rendered = render_chart("closures", closures_input(small=True), tmp_path, synthetic_provenance)
    csv = pl.read_csv(rendered.paths["csv"], infer_schema=False)
    assert csv["pd_closures"].to_list()[:2] == ["<10", "(s)"]
    assert csv["pct_of_pd_closures"].to_list()[:2] == [None, None]
    spec_text = rendered.paths["json"].read_text(encoding="utf-8")
    for row in json.loads(spec_text)["datasets"].values():
        for rec in row:
            if "pd_closures" in rec and rec["pd_closures"] is not None:
                assert not 1 <= rec["pd_closures"] <= 9
    text = svg_text(rendered.paths["svg"].read_text(encoding="utf-8"))
    assert "<10" in text and "(s)" in text
    # Neither the suppressed count (4) nor the complementary one (250) is printed as a label.
    assert not re.search(r"(?<![\d,.])4 \(", text)
    assert not re.search(r"(?<![\d,.])250(?![\d,])", text)


def test_real_release_chart_has_no_synthetic_mark(tmp_path, real_provenance):
    rendered = render_chart("forest", FAMILY_INPUTS["forest"](), tmp_path, real_provenance)
    text = svg_text(rendered.paths["svg"].read_text(encoding="utf-8"))
    assert "SYNTHETIC" not in text and "release 2026-04" in text


def test_text_renders_in_png_with_the_theme_font():
    """vl-convert draws nothing for a font it cannot find: text must leave ink."""
    spec = {
        "$schema": alt.SCHEMA_URL,
        "data": {"values": [{"t": "Immigration court"}]},
        "mark": {"type": "text", "font": theme.FONT, "fontSize": 20},
        "encoding": {"text": {"field": "t"}},
        "width": 200,
        "height": 40,
    }
    assert png_dark_fraction(vlc.vegalite_to_png(spec)) > 0.01
    spec["mark"]["font"] = "No Such Font Family"
    assert png_dark_fraction(vlc.vegalite_to_png(spec)) == 0.0  # the failure mode guarded


def test_export_refuses_external_data_and_unmarked_synthetic(tmp_path, synthetic_provenance):
    remote = alt.Chart(alt.UrlData("https://example.org/data.csv")).mark_point().encode(x="a:Q")
    with pytest.raises(ValueError, match="embed it inline"):
        export_chart(
            finish(remote, synthetic_provenance, "t", "column"),
            tmp_path,
            "remote",
            synthetic_provenance,
            pl.DataFrame({"a": [1]}),
        )
    plain = alt.Chart(pl.DataFrame({"a": [1, 2]})).mark_point().encode(x="a:Q")
    with pytest.raises(ValueError, match="no SYNTHETIC mark"):
        export_chart(plain, tmp_path, "plain", synthetic_provenance, pl.DataFrame({"a": [1, 2]}))
