"""Stata names, long strings, wide integers and the data label, on a mart written by the test."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pyreadstat
import pytest

from pipelines.extracts.columns import BOOLEAN, DATE, INTEGER, TEXT, Column, ExtractTable
from pipelines.extracts.stata import (
    STATA_NAME_MAX,
    data_label,
    is_valid_stata_name,
    stata_name_map,
)
from pipelines.extracts.write import extract_provenance, write_extracts

RELEASE = "2026-04"
LONG_A = "representation_at_first_master_calendar_hearing_a"
LONG_B = "representation_at_first_master_calendar_hearing_b"


def test_names_are_valid_unique_and_at_most_32_characters():
    names = [LONG_A, LONG_B, "in", "2nd_court", "court name", "ok_name", "_" * 40]
    m = stata_name_map(names)
    assert m["ok_name"] == "ok_name"
    assert m[LONG_A] == LONG_A[:32]
    assert m[LONG_B] == LONG_A[:30] + "_2"  # the same first 32 characters: a suffix, not a clash
    assert m["in"] == "in_" and m["2nd_court"] == "_2nd_court" and m["court name"] == "court_name"
    assert len(set(m.values())) == len(names)
    assert all(is_valid_stata_name(v) and len(v) <= STATA_NAME_MAX for v in m.values())


def test_labelled_names_leave_room_for_the_label_set_name():
    # pyreadstat names a variable's value labels `<name><n>`; that name must fit 32 too.
    m = stata_name_map([LONG_A, LONG_B, "lead_charge_category"], labelled={LONG_A, LONG_B})
    assert m[LONG_A] == LONG_A[:29] and m[LONG_B] == LONG_A[:27] + "_2"
    assert m["lead_charge_category"] == "lead_charge_category"


def test_a_valid_name_keeps_itself_even_when_a_shortened_one_would_take_it():
    taken = LONG_A[:30] + "_2"
    m = stata_name_map([LONG_A, LONG_B, taken])
    assert m[taken] == taken
    assert m[LONG_B] == LONG_A[:30] + "_3"
    assert len(set(m.values())) == 3
    with pytest.raises(ValueError, match="duplicate"):
        stata_name_map(["a", "a"])


def test_data_label_fits_80_characters_and_keeps_the_provenance():
    day = date(2026, 4, 1)
    label = data_label("synthetic-2026-04", day, "pd-pipeline 0.1.0 (git abcdef1234)", True)
    # The long forms exceed 80 characters; the code version shortens to its commit.
    assert label == "SYNTHETIC release synthetic-2026-04; 2026-04-01; git abcdef1234"
    assert len(label) <= 80 and label.startswith("SYNTHETIC")
    assert "synthetic-2026-04" in label and "2026-04-01" in label and "abcdef1234" in label
    long_id = "synthetic-" + "x" * 60
    label = data_label(long_id, day, "pd-pipeline 0.1.0 (git abcdef1234)", True)
    assert len(label) <= 80 and label.startswith("SYNTHETIC synthetic-xxx")
    real = data_label("2026-04", day, "pd-pipeline 0.1.0 (git abcdef1234)", False)
    assert "SYNTHETIC" not in real and real.startswith("release 2026-04; generated 2026-04-01")


def test_colliding_names_long_strings_and_wide_integers_in_a_dta(con, tmp_path):
    long_text = "ü" + "x" * 3000  # beyond str2045: must be a strL
    coded = "lead_charge_category_at_the_first_master_hearing"  # labelled: held to 29
    con.execute(
        f"""CREATE TABLE marts.wide AS SELECT * FROM (VALUES
            ('{RELEASE}', 1, 'a', 'short', 'p', 3000000000, DATE '1959-12-31', true),
            ('{RELEASE}', 2, 'b', '{long_text}', 'q', NULL, NULL, NULL),
            ('{RELEASE}', 3, NULL, NULL, NULL, 7, DATE '2012-02-29', false),
            ('other', 4, 'a', 'x', 'r', 1, NULL, NULL)
        ) t(release_id, id, "{coded}", "{LONG_A}", "{LONG_B}", big, day, flag)"""
    )
    table = ExtractTable(
        name="wide",
        mart="marts.wide",
        title="test",
        description="test",
        order_by="id",
        columns=(
            Column("release_id", TEXT, "Release", "d", "s"),
            Column("id", INTEGER, "Id", "d", "s"),
            Column(coded, TEXT, "Coded", "d", "s", categorical=True, labels=(("b", "Bee"),)),
            Column(LONG_A, TEXT, "Long text", "d", "s"),
            Column(LONG_B, TEXT, "Other text", "d", "s"),
            Column("big", INTEGER, "Beyond Stata long", "d", "s"),
            Column("day", DATE, "Day", "d", "s"),
            Column("flag", BOOLEAN, "Flag", "d", "s"),
        ),
    )
    result = write_extracts(
        con,
        RELEASE,
        tmp_path / "out",
        formats=("dta",),
        tables=(table,),
        provenance=extract_provenance(RELEASE, generated=date(2026, 4, 2)),
        show_progress=False,
    )
    names = result.stata_names["wide"]
    assert result.renamed_for_stata() == {
        "wide": {coded: coded[:29], LONG_A: LONG_A[:32], LONG_B: LONG_A[:30] + "_2"}
    }
    df, meta = pyreadstat.read_dta(tmp_path / "out" / "wide.dta")
    assert meta.column_names == [names[c] for c in table.column_names]
    assert meta.column_names_to_labels[names[LONG_B]] == "Other text"
    assert df[names[LONG_B]].tolist() == ["p", "q", ""]
    assert meta.file_label.startswith("release 2026-04; generated 2026-04-02; pd-pipeline")
    assert meta.number_rows == 3
    assert meta.variable_storage_width[names[LONG_A]] == 0  # strL
    assert df[names[LONG_A]].tolist() == ["short", long_text, ""]
    # Codes: fixed labels first ('b' = 1), then values seen in the data ('a' = 2, its own label).
    assert df[names[coded]].tolist()[:2] == [2, 1]
    assert meta.variable_value_labels[names[coded]] == {1: "Bee", 2: "a"}
    assert meta.readstat_variable_types["big"] == "double"
    assert df["big"].tolist()[0] == 3000000000 and meta.readstat_variable_types["id"] == "int32"
    assert df["day"].tolist()[0] == date(1959, 12, 31) and df["day"].tolist()[2] == date(
        2012, 2, 29
    )
    decoded = pd.read_stata(tmp_path / "out" / "wide.dta", convert_categoricals=True)
    assert decoded[names[coded]].astype(str).tolist()[:2] == ["a", "Bee"]
    assert decoded["flag"].astype(object).tolist()[0] == "Yes"
    mapping = (tmp_path / "out" / "stata_names.csv").read_text()
    assert f"wide,{LONG_B},{LONG_A[:30]}_2,true" in mapping
    assert f"`{LONG_B}` | `{LONG_A[:30]}_2`" in result.codebook_markdown
