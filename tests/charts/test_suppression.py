from __future__ import annotations

import polars as pl
import pytest

from pipelines.tables.suppression import (
    SUPPRESSED_CELLS,
    SUPPRESSED_FLAG,
    check_no_small_counts,
    suppress,
    suppression_kinds,
)


def _frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "category": ["a", "b", "c", "d", "e", "Total"],
            "n": [120, 7, 45, 0, 30, 202],
            "pct": [59.4, 3.5, 22.3, 0.0, 14.9, 100.0],
            "other": [1.5, 2.5, 3.5, 4.5, 5.5, 6.5],
            "is_total": [False, False, False, False, False, True],
        }
    )


def test_primary_suppression_blanks_counts_1_to_9_and_their_derived_values():
    out = suppress(_frame(), ["n"], 10, ["pct"], secondary=False)
    assert out.height == 6  # rows are never dropped
    assert out["n"].to_list() == [120, None, 45, 0, 30, 202]
    assert out["pct"].to_list() == [59.4, None, 22.3, 0.0, 14.9, 100.0]
    # A column not derived from the count is left alone.
    assert out["other"].to_list() == _frame()["other"].to_list()
    assert out[SUPPRESSED_FLAG].to_list() == [False, True, False, False, False, False]
    assert suppression_kinds(out, "n") == [None, "primary", None, None, None, None]


def test_zero_is_not_suppressed_and_threshold_is_exclusive():
    df = pl.DataFrame({"n": [0, 1, 9, 10, 11]})
    out = suppress(df, ["n"], 10, secondary=False)
    assert out["n"].to_list() == [0, None, None, 10, 11]
    out5 = suppress(df, ["n"], 5, secondary=False)
    assert out5["n"].to_list() == [0, None, 9, 10, 11]


def test_secondary_suppression_hides_the_next_smallest_cell_when_a_total_is_printed():
    out = suppress(_frame(), ["n"], 10, ["pct"], total_col="is_total")
    # b (7) is primary; without a second blank, Total - (a + c + d + e) would give it back.
    # The smallest non-zero other count is e (30); the total row is never chosen.
    assert out["n"].to_list() == [120, None, 45, 0, None, 202]
    assert out["pct"].to_list() == [59.4, None, 22.3, 0.0, None, 100.0]
    assert suppression_kinds(out, "n") == [None, "primary", None, None, "secondary", None]
    recovered = 202 - sum(v for v in out["n"].to_list()[:5] if v is not None)
    assert recovered == 7 + 30  # only the sum of the two blanks is recoverable


def test_secondary_suppression_works_within_groups():
    df = pl.DataFrame(
        {
            "year": [2012, 2012, 2012, 2013, 2013, 2013],
            "level": ["1", "2", "3", "1", "2", "3"],
            "removals": [500, 4, 80, 600, 3, 2],
        }
    )
    out = suppress(df, ["removals"], 10, secondary_by=["year"])
    # 2012: one primary (4) -> the 80 goes too. 2013: two primaries already, nothing more.
    assert out["removals"].to_list() == [500, None, None, 600, None, None]
    assert suppression_kinds(out, "removals") == [
        None,
        "primary",
        "secondary",
        None,
        "primary",
        "primary",
    ]


def test_suppression_is_idempotent():
    once = suppress(_frame(), ["n"], 10, ["pct"], total_col="is_total")
    twice = suppress(once, ["n"], 10, ["pct"], total_col="is_total")
    assert twice.equals(once)


def test_frame_flagged_upstream_keeps_its_suppressed_cells():
    upstream = pl.DataFrame(
        {"n": [None, 50, 60], "rate": [None, 0.5, 0.6], SUPPRESSED_FLAG: [True, False, False]}
    )
    out = suppress(upstream, ["n"], 10, ["rate"], secondary=False)
    assert suppression_kinds(out, "n") == ["primary", None, None]
    assert out[SUPPRESSED_CELLS].to_list() == ["n", "", ""]


def test_bad_arguments_name_the_problem():
    with pytest.raises(ValueError, match="not in frame"):
        suppress(_frame(), ["missing"], 10)
    with pytest.raises(ValueError, match="not in count_cols"):
        suppress(_frame(), ["n"], 10, {"pct": ["other"]})


def test_check_no_small_counts_reports_leaks():
    assert check_no_small_counts(pl.DataFrame({"n": [0, 10, None]}), ["n"]) == []
    assert check_no_small_counts(pl.DataFrame({"n": [0, 3]}), ["n"]) == [
        "n: 1 count(s) between 1 and 9"
    ]
