"""The whole pipeline on the embedded SYNTHETIC sample, checked against what the generator knows.

`data/raw/sample/truth.json` holds counts computed by the generator from the rows it wrote
(never from the pipeline), so these tests compare two independent computations.
"""

from __future__ import annotations

import json
import math

import polars as pl
import pytest

from pipelines.settings import SAMPLE_DIR
from pipelines.warehouse.db import connect, fetch_frame

TRUTH = json.loads((SAMPLE_DIR / "truth.json").read_text(encoding="utf-8"))
RELEASE = "synthetic-2026-04"
CATEGORY_KEYS = {"no_charge": "no_charge_recorded"}


@pytest.fixture(scope="module")
def built(sample_warehouse):
    """The session's one sample run (tests/conftest.py), read through a read-only connection."""
    con = connect(sample_warehouse.settings, read_only=True)
    yield sample_warehouse.outcome, sample_warehouse.settings, con
    con.close()


def test_run_succeeds_and_names_the_release(built):
    outcome, _, _ = built
    assert outcome.success, outcome
    assert outcome.release_id == RELEASE
    assert not outcome.failed_checks


def test_every_table_reconciles_with_count_txt_and_the_generator(built):
    _, _, con = built
    audit = {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT source_table, count_txt_rows, loaded_as_is, repaired, rejected, reconciled, "
            "nul_bytes_stripped FROM raw.load_audit WHERE release_id = ?",
            [RELEASE],
        ).fetchall()
    }
    assert set(audit) == set(TRUTH["expected_load"])
    for table, exp in TRUTH["expected_load"].items():
        assert audit[table] == (
            exp["count_txt_rows"],
            exp["loaded_as_is"],
            exp["repaired"],
            exp["rejected"],
            True,
            exp["nul_bytes"],
        ), table


def test_article_table_reproduces_the_true_counts(built):
    _, _, con = built
    table = {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT lead_charge_category, pd_closures, admin_closed, terminated "
            "FROM marts.pd_closures_by_category WHERE release_id = ?",
            [RELEASE],
        ).fetchall()
    }
    truth = TRUTH["counts"]["pd_closures_in_window"]
    assert table["total"] == (
        truth["total"],
        truth["by_kind"]["admin_closed"],
        truth["by_kind"]["terminated"],
    )
    for cat, n in truth["by_category"].items():
        key = CATEGORY_KEYS.get(cat, cat)
        got = table.get(key, (0, 0, 0))
        assert got == (
            n,
            truth["admin_closed_by_category"][cat],
            truth["terminated_by_category"][cat],
        ), cat


def test_rates_use_the_true_denominators(built):
    _, _, con = built
    rates = {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT lead_charge_category, completions, pending, pending_pd_closures "
            "FROM marts.pd_rates_by_category WHERE release_id = ?",
            [RELEASE],
        ).fetchall()
    }
    counts = TRUTH["counts"]
    assert rates["total"][0] == counts["completions_in_window"]["total"]
    for cat, n in counts["completions_in_window"]["by_category"].items():
        assert rates.get(CATEGORY_KEYS.get(cat, cat), (0,))[0] == n, cat
    pending = counts["pending_on"]
    pending_total = pending["total"] if isinstance(pending, dict) else pending
    assert rates["total"][1] == pending_total


def test_main_model_converges_and_finds_the_built_in_charge_effect(built):
    _, _, con = built
    diag = fetch_frame(con, "SELECT * FROM models.fit_diagnostics WHERE release_id = ?", [RELEASE])
    completions = diag.filter(pl.col("model") == "completions_main").row(0, named=True)
    assert completions["estimated"] and completions["converged"]
    ors = fetch_frame(
        con,
        "SELECT term, odds_ratio, ci_low, ci_high FROM models.odds_ratios "
        "WHERE release_id = ? AND model = 'completions_main'",
        [RELEASE],
    )
    other_imm = ors.filter(pl.col("term") == "lead_charge_category[T.other_immigration]").row(
        0, named=True
    )
    true_or = math.exp(TRUTH["model"]["lead_category"]["other_immigration"])
    assert other_imm["ci_low"] <= true_or <= other_imm["ci_high"]
    other_crim = ors.filter(pl.col("term") == "lead_charge_category[T.other_criminal]").row(
        0, named=True
    )
    assert other_crim["ci_high"] < 1.0  # built-in effect -2.0 on the log-odds scale


def test_every_chart_and_table_is_written_with_provenance_and_the_synthetic_mark(built):
    _, settings, con = built
    out = settings.reports_dir / RELEASE
    for family in ("closures", "rates_over_time", "courts", "forest", "era_gap", "removals"):
        for ext in ("svg", "pdf", "png", "json", "csv"):
            assert (out / f"{family}_column.{ext}").stat().st_size > 0, (family, ext)
        assert (out / f"{family}_column.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (out / f"{family}_column.pdf").read_bytes()[:5] == b"%PDF-"
        svg = (out / f"{family}_column.svg").read_text(encoding="utf-8")
        assert "SYNTHETIC" in svg and RELEASE in svg
    for table in ("closures_table", "pd_rates_by_category", "model_lead_charge_effects"):
        # A CSV is header and data only; its provenance is in the CSVW sidecar beside it.
        for name in (f"{table}.csv-metadata.json", f"{table}.md", f"{table}.tex"):
            text = (out / name).read_text(encoding="utf-8")
            assert "SYNTHETIC" in text and RELEASE in text, name
    assert (out / "index.html").exists()


def test_the_default_job_writes_parquet_extracts_and_the_codebook_only(built):
    """Stata and CSV extracts of a full release take minutes: written on request, not by the
    default job (pdpipeline extract --formats, or the extract_formats setting)."""
    from pipelines.extracts.columns import EXTRACT_TABLES

    _, settings, _con = built
    out = settings.reports_dir / RELEASE / "extracts"
    names = {p.name for p in out.iterdir()}
    assert {f"{t.name}.parquet" for t in EXTRACT_TABLES} <= names
    assert "codebook.md" in names
    assert not [n for n in names if n.endswith(".dta")]
    assert not {f"{t.name}.csv" for t in EXTRACT_TABLES} & names


def test_chart_csv_matches_its_mart_with_small_cells_suppressed(built):
    _, settings, con = built
    csv = pl.read_csv(settings.reports_dir / RELEASE / "closures_column.csv")
    mart = fetch_frame(
        con,
        "SELECT lead_charge_category, pd_closures FROM marts.pd_closures_by_category "
        "WHERE release_id = ? AND lead_charge_category <> 'total'",
        [RELEASE],
    )
    shown = dict(zip(csv["lead_charge_category"], csv["pd_closures"].cast(pl.String), strict=True))
    # The chart also shows a category with pending cases but no PD closure (none on the sample).
    assert set(shown) == set(mart["lead_charge_category"])
    for cat, n in mart.iter_rows():
        if 0 < n < settings.suppress_below:
            assert shown[cat] == f"<{settings.suppress_below}", (cat, n)
        else:
            # Printed as it is, or blanked as "(s)" so that a suppressed cell cannot be
            # recovered from the total (complementary suppression).
            assert shown[cat] in (str(n), "(s)"), (cat, n, shown[cat])
    assert sum(1 for v in shown.values() if v == "(s)") <= 1
