"""Outputs are inert: formula, HTML and Markdown payloads planted in a generated release's
lookup labels (courts, nationalities), charge descriptions and ICE cells never reach a reader
as something a spreadsheet runs or a browser renders."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import polars as pl
import pytest

from pipelines.cli.runner import run_release
from pipelines.publish.preview import preview_markdown
from pipelines.sample import ice as sample_ice
from pipelines.sample.eoir import write_sample_release
from pipelines.settings import Settings

PAYLOADS = [
    '=HYPERLINK("http://evil.example","click")',
    "+SUM(1,2)",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(A1:A2)",
    "<script>alert(1)</script>",
    "[x](javascript:alert(1))",
    "<img src=x onerror=alert(1)>",
]
# xlsxwriter would store "=..." as a formula; ICE cells get the other payloads.
ICE_PAYLOADS = [p for p in PAYLOADS if not p.startswith("=")]
_NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][+-]?\d+)?$")


def _plant(path: Path, column: str) -> None:
    """Replace every value of `column` in a tab-separated cp1252 lookup with a payload."""
    raw = path.read_bytes().decode("cp1252")
    newline = "\r\n" if "\r\n" in raw else "\n"
    lines = raw.split(newline)
    header = lines[0].split("\t")
    at = header.index(column)
    out = [lines[0]]
    for i, line in enumerate(lines[1:]):
        fields = line.split("\t")
        if len(fields) == len(header):
            fields[at] = PAYLOADS[i % len(PAYLOADS)]
        out.append("\t".join(fields))
    path.write_bytes(newline.join(out).encode("cp1252"))


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    raw = root / "raw"
    rel = write_sample_release(raw, cases=800, seed=13, zip=False)
    lookup = next(rel.path.rglob("Lookup"))
    _plant(lookup / "tblLookupBaseCity.csv", "BASE_CITY")
    _plant(lookup / "tblLookupNationality.csv", "NAT_NAME")
    _plant(lookup / "tbllookupCharges.csv", "strCodeDescription")
    real_rows = sample_ice._make_rows

    def rows_with_payloads(n_rows, seed):
        rows = real_rows(n_rows, seed)
        for i, r in enumerate(rows):
            r["County"] = ICE_PAYLOADS[i % len(ICE_PAYLOADS)]
            r["Birth Country"] = ICE_PAYLOADS[(i + 1) % len(ICE_PAYLOADS)]
        return rows

    mp = pytest.MonkeyPatch()
    mp.setattr(sample_ice, "_make_rows", rows_with_payloads)
    try:
        sample_ice.write_sample_ice(rel.path.parent / "ice", n_rows=400, seed=13)
    finally:
        mp.undo()
    settings = Settings(
        raw_dir=raw,
        warehouse=root / "wh.duckdb",
        reports_dir=root / "reports",
        temp_dir=root / "tmp",
        duckdb_memory_limit="1GB",
        # every writer: the extracts' CSV (and Stata) files too, not only the default parquet
        extract_formats="parquet,dta,csv",
    )
    outcome = run_release(rel.path, settings, show_progress=False)
    assert outcome.success, outcome.error
    return settings.reports_dir / outcome.release_id


def _dangerous_csv_cell(cell: str) -> bool:
    if cell.startswith(("=", "+", "@", "\t", "\r")):
        return True
    return cell.startswith("-") and not _NUMBER.match(cell)


def test_no_csv_cell_can_run_as_a_formula(hostile):
    csvs = sorted(hostile.rglob("*.csv"))
    assert {"removals.csv", "proceedings.csv"} <= {
        p.name for p in csvs if p.parent.name == "extracts"
    }
    bad = []
    planted = 0
    for p in csvs:
        with p.open(encoding="utf-8", newline="") as f:
            for n, row in enumerate(csv.reader(f), 1):
                for cell in row:
                    planted += cell.startswith(("'=", "'+", "'@", "'-"))
                    if _dangerous_csv_cell(cell):
                        bad.append(f"{p.relative_to(hostile)} line {n}: {cell[:40]!r}")
    assert bad == []
    assert planted > 0, "the payloads must have reached the CSVs (neutralised)"


def test_no_markdown_or_html_output_carries_live_markup(hostile):
    texts = {p: p.read_text(encoding="utf-8") for p in [*hostile.rglob("*.md"), *hostile.rglob("*.html"), *hostile.rglob("*.svg")]}  # fmt: skip
    assert any("codebook" in p.name for p in texts)
    for p, text in texts.items():
        assert "<script" not in text.lower(), p
        assert "<img src=x" not in text.lower(), p
        assert not re.search(r"(?<!\\)\]\(javascript:", text), p
    # The payloads are there, as text.
    assert any("&lt;script&gt;" in t or "&lt;Script&gt;" in t for t in texts.values())


def test_metadata_previews_escape_labels_and_blank_counts():
    frame = pl.DataFrame(
        {
            "value_label": ["<script>alert(1)</script>", "[x](javascript:y)"],
            "pd_closures": [3, 1200],
        }
    )
    md = preview_markdown(frame, "marts.pd_by_group")
    assert "<script" not in md and "&lt;script&gt;" in md
    assert "](javascript" not in md.replace("\\]", "")
    assert "3" not in md.split("\n", 2)[2].split("\n\n")[0] and "1200" not in md
