from __future__ import annotations

import re
from html.parser import HTMLParser

import polars as pl

from pipelines.charts.provenance import SYNTHETIC_MARK
from pipelines.publish.index_page import build_report
from pipelines.tables.layouts import TOTAL_LABEL, closures_table
from tests.charts.conftest import closures_input, forest_input


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.srcs, self.hrefs, self.ids = [], [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.srcs.append(a["src"])
        if tag == "a":
            self.hrefs.append(a["href"])
        if "id" in a:
            self.ids.append(a["id"])


def test_report_index_lists_every_chart_and_table(tmp_path, synthetic_provenance):
    seen = []
    index = build_report(
        tmp_path,
        synthetic_provenance,
        {"closures": closures_input(small=True), "forest": forest_input()},
        [closures_table(closures_input(small=True))],
        formats=("svg", "png", "json", "csv"),
        progress=seen.append,
    )
    assert seen == ["closures", "forest", "closures_table"]
    html = index.read_text(encoding="utf-8")
    parsed = _Collect()
    parsed.feed(html)
    assert parsed.ids == ["closures_column", "forest_column", "closures_table"]
    assert parsed.srcs == ["closures_column.svg", "forest_column.svg"]
    for href in parsed.hrefs:
        if not href.startswith("#"):
            assert (tmp_path / href).is_file(), href
    assert {h for h in parsed.hrefs if h.endswith(".tex")} == {"closures_table.tex"}
    assert html.count(SYNTHETIC_MARK) >= 4  # page head and each item
    assert "release synthetic-2026-04" in html
    # The inline table shows the suppression markers, never the small count.
    table = html[html.index("<table>") : html.index("</table>")]
    assert ">&lt;10<" in table and ">(s)<" in table
    assert not re.search(r">4<", table)
    assert TOTAL_LABEL in table


def test_closures_table_adds_a_total_row_and_suppresses_against_it(tmp_path, real_provenance):
    spec = closures_table(closures_input(small=True))
    assert spec.frame["category_label"].to_list()[-1] == TOTAL_LABEL
    assert spec.frame["pd_closures"].to_list()[-1] == 4 + 250 + 6400 + 5000
    index = build_report(tmp_path, real_provenance, {}, [spec])
    csv = pl.read_csv(tmp_path / "closures_table.csv", infer_schema=False)
    assert csv["pd_closures"].to_list() == ["<10", "(s)", "6400", "5000", "11654"]
    assert "SYNTHETIC" not in index.read_text(encoding="utf-8")
