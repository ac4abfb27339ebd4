"""The synthetic ICE release: real layout, planted quirks, determinism, built-in shares."""

from __future__ import annotations

import hashlib
import math

import polars as pl
import pytest

from pipelines.ice.classify import classify_removals
from pipelines.ice.clean import clean_removals
from pipelines.ice.reader import find_ice_files, header_key, load_aliases, read_ice_release
from pipelines.sample.ice import (
    COLUMNS_2026,
    FY_CONVICTED_SHARE,
    FY_WEIGHT,
    HEADER_ROW,
    SAMPLE_LAYOUT,
    SAMPLE_RELEASE_DATE,
    write_sample_ice,
)

N = 1500


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("ice_sample")
    paths = write_sample_ice(out, n_rows=N, seed=11, rows_per_sheet=200)
    df, report = read_ice_release(find_ice_files(out))
    clean, counts = clean_removals(df, SAMPLE_RELEASE_DATE)
    return paths, report, clean, counts, classify_removals(clean)


def _sha(p):
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_sample_is_deterministic(tmp_path):
    a = write_sample_ice(tmp_path / "a", n_rows=200, seed=3, rows_per_sheet=50)
    b = write_sample_ice(tmp_path / "b", n_rows=200, seed=3, rows_per_sheet=50)
    c = write_sample_ice(tmp_path / "c", n_rows=200, seed=4, rows_per_sheet=50)
    assert [_sha(p) for p in a] == [_sha(p) for p in b]
    assert [_sha(p) for p in a] != [_sha(p) for p in c]


def test_sample_columns_are_the_2026_layout_in_the_alias_table():
    in_table = {header_key(a.raw_header) for a in load_aliases() if SAMPLE_LAYOUT in a.releases}
    assert {header_key(c) for c in COLUMNS_2026} == in_table
    assert len(COLUMNS_2026) == 39


def test_sample_is_marked_synthetic_and_in_the_real_layout(sample):
    paths, report, *_ = sample
    assert all("SYNTHETIC" in p.name for p in paths)
    for p in paths:
        first = pl.read_excel(p, sheet_id=1, has_header=False, read_options={"skip_rows": 0})
        assert "SYNTHETIC" in first.item(0, 0)
    for f in report["files"]:
        sheets = [s for s in f["sheets"] if s["status"] == "data"]
        assert len(sheets) > 1  # the split over several sheets is exercised
        assert {s["header_row"] for s in sheets} == {HEADER_ROW}
        assert {s["layout"] for s in sheets} == {SAMPLE_LAYOUT}
        assert {s["layout_score"] for s in sheets} == {1.0}
    assert report["rows"] == N and report["unknown_columns"] == {}


def test_sample_plants_every_quirk(sample):
    _, _, clean, counts, _ = sample
    assert counts["redacted"]["birth_date"] == N
    assert counts["redacted"]["apprehension_county"] >= 1
    assert counts["dates"]["entry_date"]["before_1900_01_02"] >= 1
    assert counts["dates"]["msc_conviction_date"]["after_release_date"] >= 1
    assert counts["duplicates"]["rows_flagged"] >= 1
    assert not counts["dates"].get("final_order_date", {}).get("unparseable")
    codes = clean["msc_charge_code"].drop_nulls()
    assert codes.str.len_chars().eq(4).all()
    assert codes.str.starts_with("0").any()
    assert set(clean["fiscal_year"].unique()) == set(FY_WEIGHT)


def test_sample_recovers_its_built_in_convicted_share(sample):
    *_, classified = sample
    expected = sum(FY_WEIGHT[f] * FY_CONVICTED_SHARE[f] for f in FY_WEIGHT) / sum(
        FY_WEIGHT.values()
    )
    share = classified["criminality"].eq("convicted").mean()
    se = math.sqrt(expected * (1 - expected) / N)
    assert abs(share - expected) < 4 * se
    # some convicted rows lack ICE's level, so the derived level is exercised
    assert classified["threat_level_source"].eq("derived").sum() >= 1
