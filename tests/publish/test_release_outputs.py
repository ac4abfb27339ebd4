"""Everything a release publishes, on the SYNTHETIC sample and on a small generated release with
many small cells: the suppression attack, the LaTeX tables, plain CSVs, the index, and the
exporter's refusal of settings the warehouse was not built with."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import polars as pl
import pytest

from pipelines.cli.main import main
from pipelines.cli.runner import run_release
from pipelines.publish import release_report
from pipelines.publish.attack import attack_report
from pipelines.publish.disclosure import PRIMARY
from pipelines.publish.latex import article, compile_document, engine
from pipelines.publish.stored import stored_settings
from pipelines.sample.eoir import write_sample_release
from pipelines.settings import SAMPLE_DIR, Settings
from pipelines.warehouse.db import connect

needs_tex = pytest.mark.skipif(
    engine() is None, reason="pdflatex not installed: run scripts/ci_system_deps.sh"
)


def _settings(root: Path) -> Settings:
    return Settings(
        raw_dir=root / "raw",
        warehouse=root / "warehouse.duckdb",
        reports_dir=root / "reports",
        temp_dir=root / "tmp",
        duckdb_memory_limit="1GB",
    )


@pytest.fixture(scope="module")
def releases(tmp_path_factory) -> dict[str, tuple[Settings, str]]:
    """The embedded sample and a 1,500-case release (seed 7): few cases, so many small cells."""
    built = {}
    root = tmp_path_factory.mktemp("sample")
    outcome = run_release(SAMPLE_DIR / "EOIR Case Data.zip", _settings(root), show_progress=False)
    assert outcome.success, outcome.error
    built["sample"] = (_settings(root), outcome.release_id)
    small = tmp_path_factory.mktemp("small")
    rel = write_sample_release(small / "raw", cases=1500, seed=7)
    outcome = run_release(rel.path, _settings(small), show_progress=False)
    assert outcome.success, outcome.error
    built["small"] = (_settings(small), outcome.release_id)
    return built


def _out(releases, name) -> tuple[Settings, str, Path]:
    settings, rid = releases[name]
    return settings, rid, settings.reports_dir / rid


@pytest.mark.parametrize("name", ["sample", "small"])
def test_no_suppressed_cell_comes_back_from_the_published_files(releases, name):
    settings, rid, out = _out(releases, name)
    con = connect(settings, read_only=True)
    try:
        stored = stored_settings(con, rid)
    finally:
        con.close()
    result = attack_report(out, stored.window_start, stored.window_end)
    assert result.files >= 5
    assert result.suppressed >= 10, "a release with small cells must suppress some"
    assert result.recovered == {}
    assert result.leaks == []


def test_the_attack_recovers_cells_when_only_primary_suppression_is_applied(
    releases, tmp_path, monkeypatch
):
    """The attack is not toothless: without the joint complements it gets cells back."""
    settings, rid, _ = _out(releases, "small")
    monkeypatch.setattr(
        release_report,
        "protect",
        lambda cells, t: {
            k: PRIMARY for k, v in cells.values.items() if v is not None and 1 <= v < t
        },
    )
    con = connect(settings, read_only=True)
    try:
        release_report.write_release_report(con, settings, rid, tmp_path, formats=("csv", "json"))
        stored = stored_settings(con, rid)
    finally:
        con.close()
    result = attack_report(tmp_path, stored.window_start, stored.window_end)
    assert result.recovered, "primary suppression alone must be recoverable here"


def test_a_table_printing_a_cell_its_csv_suppresses_is_caught(releases, tmp_path):
    settings, rid, out = _out(releases, "sample")
    for p in out.glob("*.*"):
        if p.is_file():
            (tmp_path / p.name).write_bytes(p.read_bytes())
    md = tmp_path / "pd_rates_by_category.md"
    text = md.read_text(encoding="utf-8")
    assert "&lt;10" in text
    md.write_text(text.replace("&lt;10", "7", 1), encoding="utf-8")
    con = connect(settings, read_only=True)
    try:
        stored = stored_settings(con, rid)
    finally:
        con.close()
    leaks = attack_report(tmp_path, stored.window_start, stored.window_end).leaks
    assert any("pd_rates_by_category.md" in leak for leak in leaks)


@pytest.mark.parametrize("name", ["sample", "small"])
def test_every_csv_opens_as_it_is_and_has_a_provenance_sidecar(releases, name):
    _, rid, out = _out(releases, name)
    csvs = sorted(out.glob("*.csv"))
    assert len(csvs) >= 5
    for p in csvs:
        with p.open(encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
        assert rows and not rows[0][0].startswith("#"), p.name
        assert len({len(r) for r in rows}) == 1, p.name
        pl.read_csv(p)  # no options needed
        sidecar = p.with_name(p.name + "-metadata.json").read_text(encoding="utf-8")
        assert rid in sidecar and "dc:source" in sidecar


@needs_tex
@pytest.mark.parametrize("name", ["sample", "small"])
def test_every_latex_table_compiles_in_an_11pt_article_without_an_overfull_box(
    releases, name, tmp_path
):
    _, _, out = _out(releases, name)
    tables = sorted(out.glob("*.tex"))
    assert {t.stem for t in tables} >= {"closures_table", "pd_rates_by_category"}
    assert (out / "appendix.pdf").stat().st_size > 0
    for t in tables:
        text = t.read_text(encoding="utf-8")
        # The appendix is a whole document; a table is set in an 11 pt, 1 in margin article.
        document = text if t.stem == "appendix" else article(text)
        compiled = compile_document(document, tmp_path / f"{t.stem}.pdf", t.stem)
        assert compiled.overfull == [], (t.name, compiled.overfull)
        assert not re.search(r"\bnan\b", text), t.name


def test_model_table_prints_words_for_what_was_not_estimated_and_the_reference_row(releases):
    _, _, out = _out(releases, "sample")
    table = pl.read_csv(out / "model_lead_charge_effects.csv", infer_schema=False)
    cells = set(table["odds_ratio"].to_list())
    assert "1 (reference)" in cells
    assert "not estimable" in cells
    assert not {"nan", "0.0", "0.00"} & cells
    ames = [a for a in table["ame_pp"].to_list() if a and re.match(r"^-?\d", a) and "ref" not in a]
    assert ames and all(re.match(r"^-?\d+\.\d$", a) for a in ames)  # pp, one decimal


def test_courts_are_labelled_with_their_code_so_cities_never_merge(releases):
    _, _, out = _out(releases, "sample")
    courts = pl.read_csv(out / "courts_column.csv", infer_schema=False)
    assert courts["court"].n_unique() == courts.height
    assert all(
        code in label for code, label in zip(courts["court_code"], courts["court"], strict=True)
    )


def test_sources_per_chart(releases):
    """The source line of each chart (its provenance footnote) credits only what it draws."""
    _, _, out = _out(releases, "sample")

    def footnote(stem: str) -> str:
        return json.loads((out / f"{stem}.json").read_text(encoding="utf-8"))["description"]

    for stem in ("closures_column", "courts_column", "rates_over_time_column", "forest_column"):
        assert "EOIR" in footnote(stem) and "ICE" not in footnote(stem), stem
        assert "window 2011-12-01 to 2013-06-30" in footnote(stem), stem
    removals = footnote("removals_column")
    assert "ICE" in removals and "EOIR" not in removals and "window" not in removals
    assert "pending docket on 2011-11-17" in footnote("closures_column")
    spec = (out / "closures_column.json").read_text(encoding="utf-8")
    assert "at its start" not in spec and "window's start" not in spec


def test_export_refuses_a_window_the_warehouse_was_not_built_with(releases, monkeypatch, capsys):
    settings, rid, _ = _out(releases, "small")
    monkeypatch.setenv("PD_WINDOW_START", "2011-10-01")
    monkeypatch.setenv("PD_WINDOW_END", "2012-09-30")
    code = main(["export", "--warehouse", str(settings.warehouse), "--release", rid, "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "2011-12-01 to 2013-06-30" in err and "PD_WINDOW_START=2011-10-01" in err
    assert "pdpipeline run" in err


def test_export_with_the_built_window_matches_the_run(releases, monkeypatch, tmp_path):
    settings, rid, out = _out(releases, "small")
    monkeypatch.setenv("PD_WINDOW_START", "2011-12-01")
    monkeypatch.setenv("PD_WINDOW_END", "2013-06-30")
    monkeypatch.setenv("PD_PENDING_ON", "2011-11-17")
    target = tmp_path / rid
    code = main(
        ["export", "--warehouse", str(settings.warehouse), "--release", rid, "--out", str(target),
         "--formats", "csv,json", "--quiet"]
    )  # fmt: skip
    assert code == 0
    for p in sorted(out.glob("*.csv")):
        assert (target / p.name).read_bytes() == p.read_bytes(), p.name
