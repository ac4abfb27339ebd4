"""The removals marts (sql/marts) on DuckDB, and the comparison with ICE's published figures."""

from __future__ import annotations

import csv
from datetime import date

import polars as pl
import pytest

from pipelines.ice.classify import CLASSIFICATION_COLUMNS, classify_removals
from pipelines.ice.clean import clean_removals
from pipelines.ice.published import (
    NOT_APPLICABLE_SYNTHETIC,
    PUBLISHED_AGGREGATES_CSV,
    compare_with_published,
    level_panels,
)
from pipelines.ice.reader import find_ice_files, read_ice_release
from pipelines.sample.ice import SAMPLE_RELEASE_DATE, write_sample_ice
from pipelines.warehouse.db import build_model, fetch_frame, load_models, run_variables, write_frame

RELEASE = "synthetic-2026-04"


@pytest.fixture(scope="module")
def removals(tmp_path_factory):
    out = tmp_path_factory.mktemp("ice_marts")
    write_sample_ice(out, n_rows=800, seed=5, rows_per_sheet=300)
    df, _ = read_ice_release(find_ice_files(out))
    clean, _ = clean_removals(df, SAMPLE_RELEASE_DATE)
    classified = classify_removals(clean)
    return classified.select(pl.lit(RELEASE).alias("release_id"), pl.all())


def _build(con, settings, frame: pl.DataFrame, release: str) -> dict[str, pl.DataFrame]:
    write_frame(con, "marts.removals", release, frame)
    models = {m.table: m for m in load_models() if m.table.startswith("removals_")}
    out = {}
    for name in ("removals_by_fy", "removals_top_offense_families"):
        model = models[name]
        assert model.group == "classification" and model.deps == ("marts.removals",)
        build_model(con, model, run_variables(settings, release))
        out[name] = fetch_frame(con, f"SELECT * FROM marts.{name} WHERE release_id = ?", [release])
    return out


def test_removals_by_fy_matches_an_independent_count(con, settings, removals):
    by_fy = _build(con, settings, removals, RELEASE)["removals_by_fy"]
    assert by_fy.columns[0] == "release_id"
    keys = ["fiscal_year", "criminality", "threat_level", "threat_level_source"]
    expected = removals.group_by(keys).agg(
        pl.len().alias("removals"),
        pl.col("immigration_only_conviction").sum().alias("immigration_only_convictions"),
        pl.col("is_likely_duplicate").sum().alias("likely_duplicates"),
    )
    got = by_fy.select(
        *keys, "removals", "immigration_only_convictions", "likely_duplicates"
    ).with_columns(pl.col("threat_level").cast(pl.Int8), pl.col("fiscal_year").cast(pl.Int32))
    cmp = expected.with_columns(pl.col(c).cast(pl.Int64) for c in expected.columns[4:])
    got = got.with_columns(pl.col(c).cast(pl.Int64) for c in got.columns[4:])
    assert got.sort(keys, nulls_last=True).equals(cmp.sort(keys, nulls_last=True))
    assert (
        by_fy["removals_excluding_immigration_only"] + by_fy["immigration_only_convictions"]
    ).equals(by_fy["removals"])
    assert by_fy["removals"].sum() == removals.height


def test_top_offense_families_ranked_within_level(con, settings, removals):
    top = _build(con, settings, removals, RELEASE)["removals_top_offense_families"]
    convicted = removals.filter(pl.col("criminality") == "convicted")
    assert top["removals"].sum() == convicted.height
    for (level,), part in top.group_by("threat_level"):
        part = part.sort("rank_in_level")
        assert part["rank_in_level"].to_list() == list(range(1, part.height + 1))
        assert part["removals"].is_sorted(descending=True)
        assert abs(part["share_of_level"].sum() - 1) < 1e-9
        n_level = convicted.filter(
            pl.col("threat_level").is_null() if level is None else pl.col("threat_level") == level
        ).height
        assert part["removals"].sum() == n_level


def test_rebuilding_a_release_replaces_only_its_rows(con, settings, removals):
    _build(con, settings, removals, RELEASE)
    other = removals.head(50).with_columns(pl.lit("synthetic-other").alias("release_id"))
    _build(con, settings, other, "synthetic-other")
    _build(con, settings, removals, RELEASE)
    n = dict(
        con.execute(
            "SELECT release_id, sum(removals) FROM marts.removals_by_fy GROUP BY 1"
        ).fetchall()
    )
    assert n == {RELEASE: removals.height, "synthetic-other": 50}


def test_published_comparison_not_applicable_for_synthetic(con, settings, removals):
    by_fy = _build(con, settings, removals, RELEASE)["removals_by_fy"]
    cmp = compare_with_published(by_fy, PUBLISHED_AGGREGATES_CSV)
    assert cmp.height == by_fy["fiscal_year"].n_unique()
    assert set(cmp["status"]) == {NOT_APPLICABLE_SYNTHETIC}
    assert cmp["removals_diff_pct"].null_count() == cmp.height


def _published(fy: int) -> tuple[int, int | None]:
    with open(PUBLISHED_AGGREGATES_CSV, encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            if int(r["fiscal_year"]) == fy:
                crim = r["convicted_criminal_removals"]
                return int(r["total_removals"]), int(crim) if crim else None
    raise KeyError(fy)


def test_published_comparison_for_a_real_release():
    def cell(fy, criminality, n, first, last, dups=0):
        return {
            "release_id": "2026-04",
            "fiscal_year": fy,
            "criminality": criminality,
            "threat_level": None,
            "threat_level_source": None,
            "removals": n,
            "likely_duplicates": dups,
            "first_departed_date": first,
            "last_departed_date": last,
        }

    full12 = (date(2011, 10, 1), date(2012, 9, 30))
    by_fy = pl.DataFrame(
        [
            cell(2012, "convicted", 230_000, *full12),
            cell(2012, "other_immigration_violator", 190_000, *full12, dups=500),
            # FY2013 cut short by the release's range: not comparable
            cell(2013, "convicted", 100_000, date(2012, 10, 1), date(2013, 3, 31)),
            # no published figure for FY2030
            cell(2030, "convicted", 10, date(2029, 10, 2), date(2030, 9, 29)),
        ]
    )
    cmp = compare_with_published(by_fy, PUBLISHED_AGGREGATES_CSV).sort("fiscal_year")
    total12, crim12 = _published(2012)
    row = cmp.row(0, named=True)
    assert row["status"] == "compared"
    assert row["foia_removals"] == 420_000
    assert row["foia_removals_excluding_likely_duplicates"] == 419_500
    assert row["removals_diff_pct"] == pytest.approx((420_000 - total12) / total12 * 100, abs=0.01)
    assert row["convicted_diff_pct"] == pytest.approx((230_000 - crim12) / crim12 * 100, abs=0.01)
    assert row["within_tolerance"] is True
    assert row["source_url"].startswith("http")
    assert cmp["status"][1].startswith("not applicable: fiscal year not fully covered")
    assert cmp["removals_diff_pct"][1] is None
    assert cmp["status"][2] == "no published figure"
    # far from the published figure: flagged
    off = compare_with_published(
        by_fy.with_columns(pl.col("removals") * 2), PUBLISHED_AGGREGATES_CSV, tolerance_pct=10
    )
    assert off.filter(pl.col("fiscal_year") == 2012)["within_tolerance"].item() is False


def test_level_panels_move_immigration_only_convictions_to_none(con, settings, removals):
    by_fy = _build(con, settings, removals, RELEASE)["removals_by_fy"]
    panels = level_panels(by_fy)
    assert set(panels["threat_level"]) <= {"1", "2", "3", "none"}
    for excluded in (False, True):
        part = panels.filter(pl.col("immigration_only_excluded") == excluded)
        # each panel still counts every removal with a fiscal year
        assert part["removals"].sum() == removals["fiscal_year"].is_not_null().sum()
    recorded = removals.filter(pl.col("fiscal_year").is_not_null())
    imm = recorded.filter(pl.col("immigration_only_conviction"))
    expected_none = (
        recorded.filter(pl.col("threat_level").is_null()).height
        + imm.filter(pl.col("threat_level").is_not_null()).height
    )
    got_none = panels.filter(
        pl.col("immigration_only_excluded") & (pl.col("threat_level") == "none")
    )["removals"].sum()
    assert got_none == expected_none


def test_classification_survives_a_warehouse_round_trip(con, removals):
    staged = removals.drop(CLASSIFICATION_COLUMNS)
    write_frame(con, "staging.ice_removals", RELEASE, staged)
    back = fetch_frame(con, "SELECT * FROM staging.ice_removals WHERE release_id = ?", [RELEASE])
    again = classify_removals(back.drop("release_id")).sort(
        "source_file", "source_sheet", "source_row"
    )
    direct = removals.drop("release_id").sort("source_file", "source_sheet", "source_row")
    assert again.select(CLASSIFICATION_COLUMNS).equals(direct.select(CLASSIFICATION_COLUMNS))
