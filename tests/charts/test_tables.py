from __future__ import annotations

import json
import re

import polars as pl

from pipelines.charts.provenance import SYNTHETIC_MARK
from pipelines.tables.export import export_table, latex_escape, metadata_path


def _table() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "lead_charge": ["Aggravated felony", "Other_criminal & drugs", "EWI #1", "Total"],
            "pd_closures": [4, 1250, 3000, 4254],
            "pct_of_pd_closures": [0.09, 29.4, 70.5, 100.0],
            "is_total": [False, False, False, True],
        }
    )


def _export(tmp_path, provenance, **kw):
    return export_table(
        _table(),
        tmp_path,
        "closures_table",
        provenance,
        "PD closures by lead charge: 100% of $ closures",
        suppress_cols=["pd_closures"],
        derived_cols=["pct_of_pd_closures"],
        total_col="is_total",
        **kw,
    )


def test_csv_is_plain_with_provenance_in_its_sidecar(tmp_path, synthetic_provenance):
    paths = _export(tmp_path, synthetic_provenance)
    text = paths["csv"].read_text(encoding="utf-8")
    assert not any(line.startswith("#") for line in text.splitlines())
    assert text.splitlines()[0] == "lead_charge,pd_closures,pct_of_pd_closures,is_total,suppressed"
    sidecar = json.loads(metadata_path(paths["csv"]).read_text(encoding="utf-8"))
    notes = " ".join(sidecar["notes"])
    assert SYNTHETIC_MARK in notes and "release synthetic-2026-04" in notes
    assert "git abc1234def" in notes
    assert [c["name"] for c in sidecar["tableSchema"]["columns"]][:2] == [
        "lead_charge",
        "pd_closures",
    ]

    df = pl.read_csv(paths["csv"], infer_schema=False)
    assert df["lead_charge"].to_list() == _table()["lead_charge"].to_list()
    # Primary cell prints the marker, the complementary cell (smallest other) prints (s),
    # their percentages are empty, the total stays.
    assert df["pd_closures"].to_list() == ["<10", "(s)", "3000", "4254"]
    assert df["pct_of_pd_closures"].to_list() == [None, None, "70.5", "100.0"]
    assert df["suppressed"].to_list() == ["true", "true", "false", "false"]
    for cell in df["pd_closures"].to_list():
        assert not (cell.isdigit() and 1 <= int(cell) <= 9)


def test_markdown_has_caption_mark_note_and_no_small_count(tmp_path, synthetic_provenance):
    md = _export(tmp_path, synthetic_provenance)["md"].read_text(encoding="utf-8")
    lines = md.splitlines()
    assert lines[0] == "**PD closures by lead charge: 100% of $ closures**"
    assert f"**{SYNTHETIC_MARK}**" in md
    rows = [line for line in lines if line.startswith("| ")]
    # The total flag drives suppression but is not printed.
    assert rows[0] == "| lead_charge | pd_closures | pct_of_pd_closures |"
    # Text is escaped for HTML: the marker renders as <10, a label cannot become markup.
    assert rows[2] == "| Aggravated felony | &lt;10 |  |"
    assert rows[3] == "| Other_criminal &amp; drugs | (s) |  |"
    assert rows[4] == "| EWI #1 | 3,000 | 70.5 |"
    assert rows[5] == "| Total | 4,254 | 100.0 |"
    assert "release synthetic-2026-04" in md and "Counts from 1 to 9 are suppressed" in md


def test_latex_is_booktabs_escaped_and_suppressed(tmp_path, synthetic_provenance):
    tex = _export(tmp_path, synthetic_provenance)["tex"].read_text(encoding="utf-8")
    body = tex[tex.index(r"\begin{tabular}") : tex.rindex(r"\end{tabular}")]
    assert body.index(r"\toprule") < body.index(r"\midrule") < body.index(r"\bottomrule")
    assert r"\begin{tabular}{@{}lrr@{}}" in tex
    assert r"Other\_criminal \& drugs & (s) &  \\" in body
    assert r"EWI \#1 & 3,000 & 70.5 \\" in body
    assert r"Aggravated felony & \textless{}10 &  \\" in body
    assert r"\caption{PD closures by lead charge: 100\% of \$ closures}" in tex
    assert r"\textbf{SYNTHETIC DATA --- NOT A FINDING.}" in tex
    assert "release synthetic-2026-04" in tex
    # No unescaped special character in the table body.
    for ch in "&%$#_":
        assert not re.search(r"(?<!\\)" + re.escape(ch), body.replace(" & ", " ")), ch


def test_real_release_has_no_synthetic_mark(tmp_path, real_provenance):
    paths = _export(tmp_path, real_provenance)
    for p in [*paths.values(), metadata_path(paths["csv"])]:
        text = p.read_text(encoding="utf-8")
        assert "SYNTHETIC" not in text
        assert "release 2026-04" in text or p.suffix == ".csv"


def test_latex_escape_handles_every_special_character():
    assert latex_escape("a&b%c$d#e_f{g}h~i^j\\k") == (
        r"a\&b\%c\$d\#e\_f\{g\}h\textasciitilde{}i\textasciicircum{}j\textbackslash{}k"
    )
    assert latex_escape("10 \u2014 20 \u2013 30 < 40") == r"10 --- 20 -- 30 \textless{} 40"


def test_table_without_counts_to_suppress_is_exported_as_is(tmp_path, real_provenance):
    coefs = pl.DataFrame({"term": ["crim"], "odds_ratio": [0.412345], "p_value": [0.0012]})
    paths = export_table(
        coefs,
        tmp_path,
        "model",
        real_provenance,
        "Logit",
        float_formats={"odds_ratio": "{:.3f}", "p_value": "{:.4f}"},
        column_labels={"odds_ratio": "Odds ratio"},
    )
    md = paths["md"].read_text(encoding="utf-8")
    assert "| crim | 0.412 | 0.0012 |" in md and "| term | Odds ratio | p_value |" in md
    assert "suppressed" not in md
    csv = pl.read_csv(paths["csv"])
    assert csv.equals(coefs)
