"""Cleaning: redaction tokens, dates, impossible dates, duplicates, fiscal year, schema."""

from __future__ import annotations

import json
from datetime import date

import polars as pl
import pytest

from pipelines.ice.clean import DERIVED_COLUMNS, clean_removals, is_redaction_token
from pipelines.ice.reader import META_COLUMNS, canonical_columns, read_ice_release
from tests.ice.workbooks import HEADER_42034, Sheet, record, write_workbook

RELEASE_DATE = date(2026, 3, 11)


def frame(**cols) -> pl.DataFrame:
    """A reader-shaped frame: source columns plus the given text columns."""
    n = len(next(iter(cols.values())))
    base = {
        "source_file": ["f.xlsx"] * n,
        "source_sheet": ["Removals"] * n,
        "source_row": list(range(8, 8 + n)),
    }
    return pl.DataFrame({**base, **cols}, schema_overrides={k: pl.String for k in cols})


@pytest.mark.parametrize(
    "token",
    [
        "(b)(6)(b)(7)(c)",
        "(b)(6),(b)(7)(c)",
        "(b)(6), (b)(7)(C)",
        "b(6), b(7)c",
        "b(6), b(7)C",
        "b(7)e",
        "b(6), b(7)©",
        "(b)(7)(E)",
        " (b)(6) ",
        "(b)(6); (b)(7)(c)",
        "(b)(6) and (b)(7)(c)",
        "B(6)",
    ],
)
def test_redaction_tokens_are_recognised(token):
    assert is_redaction_token(token)


@pytest.mark.parametrize(
    "value",
    [
        "B2 - Visitor for Pleasure",  # a visa class, not an exemption
        "b6",  # EOIR's NULL spelling, not an ICE redaction
        "70AA",
        "0301",
        "Robbery (b)",
        "(b)(6) withheld: see appendix",  # a citation inside other text is kept
        "",
        None,
    ],
)
def test_values_that_are_not_redaction_tokens(value):
    assert not is_redaction_token(value)


def test_redactions_become_null_with_counts_per_column():
    df = frame(
        departed_date=["2012-03-04 00:00:00"] * 4,
        anonymized_identifier=["a" * 40, "b" * 40, "c" * 40, "d" * 40],
        msc_charge_code=["0301", "5404", None, "(b)(7)(e)"],
        birth_date=["(b)(6)(b)(7)(c)", "b(6), b(7)c", "b(6), b(7)©", "(b)(6),(b)(7)(c)"],
        apprehension_county=["HARRIS COUNTY", "b(6), b(7)C", "(b)(6) withheld: see appendix", None],
    )
    out, counts = clean_removals(df, RELEASE_DATE)
    assert counts["redacted"] == {"birth_date": 4, "apprehension_county": 1, "msc_charge_code": 1}
    assert counts["partially_redacted_kept"] == {"apprehension_county": 1}
    assert out["birth_date"].null_count() == 4
    assert out["apprehension_county"].to_list() == [
        "HARRIS COUNTY",
        None,
        "(b)(6) withheld: see appendix",
        None,
    ]
    assert out["msc_charge_code"].to_list() == ["0301", "5404", None, None]


def test_dates_parsed_and_impossible_dates_nulled_with_counts():
    df = frame(
        departed_date=[
            "2012-03-04 00:00:00",  # date-formatted cell as calamine renders it
            "40972",  # the same day as a bare Excel serial number
            "03/04/2012",  # typed as text
            "1900-01-01 00:00:00",  # Excel day 1: a placeholder
            "2027-01-01 00:00:00",  # after the release date
            "not a date",
            None,
        ],
        anonymized_identifier=[f"{i:040x}" for i in range(7)],
        msc_charge_code=[None] * 7,
        latest_apprehension_date=["2012-01-02 13:45:00"] + [None] * 6,
    )
    out, counts = clean_removals(df, RELEASE_DATE)
    d = date(2012, 3, 4)
    assert out.sort("source_row")["departed_date"].to_list() == [d, d, d, None, None, None, None]
    assert counts["dates"]["departed_date"] == {
        "unparseable": 1,
        "before_1900_01_02": 1,
        "after_release_date": 1,
    }
    assert out["latest_apprehension_date"][0] == date(2012, 1, 2)
    assert counts["dates"]["latest_apprehension_date"] == {"time_of_day_dropped": 1}
    # a date on the 1900 bound itself is possible
    ok, _ = clean_removals(
        frame(departed_date=["2"], anonymized_identifier=["a"], msc_charge_code=[None]),
        RELEASE_DATE,
    )
    assert ok["departed_date"].to_list() == [date(1900, 1, 2)]


def test_without_release_date_only_the_1900_bound_applies():
    df = frame(
        departed_date=["2110-09-14 00:00:00", "1900-01-01 00:00:00"],
        anonymized_identifier=["a", "b"],
        msc_charge_code=[None, None],
    )
    out, counts = clean_removals(df, None)
    assert out["departed_date"].to_list() == [date(2110, 9, 14), None]
    assert counts["release_date"] is None


def test_likely_duplicates_flagged_not_deleted():
    df = frame(
        departed_date=["2013-01-05 00:00:00"] * 3 + ["2013-01-06 00:00:00", "2013-01-05 00:00:00"],
        anonymized_identifier=["p1", "p1", "p1", "p1", None],
        msc_charge_code=[None] * 5,
    )
    # the input order is not the file order: flags follow file, sheet, row
    df = df.with_columns(pl.Series("source_row", [12, 10, 11, 13, 14]))
    out, counts = clean_removals(df, RELEASE_DATE)
    assert out.height == 5
    by_row = dict(zip(out["source_row"], out["is_likely_duplicate"], strict=True))
    assert by_row == {10: False, 11: True, 12: True, 13: False, 14: False}
    sizes = dict(zip(out["source_row"], out["duplicate_group_size"], strict=True))
    assert sizes == {10: 3, 11: 3, 12: 3, 13: 1, 14: 1}
    assert counts["duplicates"] == {"groups": 1, "rows_flagged": 2}


def test_fiscal_year_runs_october_to_september():
    df = frame(
        departed_date=["2012-09-30", "2012-10-01", "2013-01-01", None],
        anonymized_identifier=["a", "b", "c", "d"],
        msc_charge_code=[None] * 4,
    )
    out, counts = clean_removals(df, RELEASE_DATE)
    assert out["fiscal_year"].to_list() == [2012, 2013, 2013, None]
    assert counts["fiscal_year_null"] == 1


def test_threat_level_yes_no_and_birth_year_normalised():
    df = frame(
        departed_date=["2012-03-04"] * 6,
        anonymized_identifier=list("abcdef"),
        msc_charge_code=[None] * 6,
        case_threat_level=["1", "2.0", "NA", "Level 3", "X", None],
        final_order_yes_no=["YES", "no", "true", "FALSE", "maybe", None],
        birth_year=["1980", "1975.0", "1980.5", "1700", None, "abc"],
    )
    out, counts = clean_removals(df, RELEASE_DATE)
    assert out["case_threat_level"].to_list() == ["1", "2", None, "3", None, None]
    assert counts["case_threat_level_unrecognized"] == 1
    assert counts["case_threat_level_na"] == 1
    assert out["final_order_yes_no"].to_list() == [True, False, True, False, None, None]
    assert counts["yes_no_unrecognized"] == {"final_order_yes_no": 1}
    assert out["birth_year"].to_list() == [1980, 1975, None, None, None, None]
    assert counts["birth_year_invalid"] == 3


def test_schema_is_the_same_for_every_layout_and_unknown_columns_fold_into_json():
    a = frame(departed_date=["2012-03-04"], anonymized_identifier=["a"], msc_charge_code=["0301"])
    b = frame(
        departed_date=["2012-03-04"],
        anonymized_identifier=["a"],
        msc_charge_code=["0301"],
        case_criminality=["1 Convicted Criminal"],
        unmapped_new_field=["x"],
    )
    out_a, _ = clean_removals(a, RELEASE_DATE)
    out_b, counts = clean_removals(b, RELEASE_DATE)
    assert out_a.schema == out_b.schema
    assert out_a.columns == [*META_COLUMNS, *canonical_columns(), *DERIVED_COLUMNS]
    assert json.loads(out_b["unmapped_columns"][0]) == {"unmapped_new_field": "x"}
    assert out_a["unmapped_columns"][0] is None
    assert counts["unmapped_columns"] == ["unmapped_new_field"]


def test_42034_booleans_and_bad_dates_end_to_end(tmp_path):
    """42034 stored Yes/No as booleans and has entry dates from 1900 to 2110
    (docs/ICE_FORMAT.md#2023-icfo-42034)."""
    h = HEADER_42034
    rows = [
        {
            **record(h, departed=date(2012, 1, 2), person="a" * 40, code="0301", entry=date(1900, 1, 1)),
            "Final Order Yes No": True,
        },
        {
            **record(h, departed=date(2012, 1, 3), person="b" * 40, code="5404", entry=date(2110, 9, 14)),
            "Final Order Yes No": False,
            "Birth Date": "(b)(6)(b)(7)(c)",
            "Case ID": "(b)(6), (b)(7)(c)",
        },
    ]  # fmt: skip
    path = write_workbook(tmp_path / "42034.xlsx", [Sheet("FY13-12", h, rows, header_row=6)])
    df, _ = read_ice_release([path])
    out, counts = clean_removals(df, date(2023, 11, 1))
    assert out["final_order_yes_no"].to_list() == [True, False]
    assert out["entry_date"].to_list() == [None, None]
    assert counts["dates"]["entry_date"] == {"before_1900_01_02": 1, "after_release_date": 1}
    assert counts["redacted"] == {"birth_date": 1, "case_id": 1}


def test_an_empty_release_gets_the_same_schema():
    empty = pl.DataFrame(schema={c: pl.String for c in [*META_COLUMNS, *canonical_columns()]})
    some = frame(
        departed_date=["2012-03-04"], anonymized_identifier=["a"], msc_charge_code=["0301"]
    )
    out_empty, counts = clean_removals(empty, None)
    out_some, _ = clean_removals(some, RELEASE_DATE)
    assert out_empty.height == 0 and out_empty.schema == out_some.schema
    assert counts["duplicates"] == {"groups": 0, "rows_flagged": 0}
