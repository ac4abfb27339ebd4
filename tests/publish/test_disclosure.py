"""Joint complementary suppression and the linear attack on it (pipelines.publish.disclosure)."""

from __future__ import annotations

from datetime import date

import polars as pl

from pipelines.publish.cells import add_frame, apply_suppression, build_equations
from pipelines.publish.disclosure import PRIMARY, CellSet, protect, recoverable


def _published(cells: CellSet, kinds) -> dict:
    return {k: (None if k in kinds else v) for k, v in cells.values.items()}


def _two_way() -> CellSet:
    """Categories x (admin-closed, terminated) with row and column totals."""
    cells = CellSet()
    grid = {"a": (3, 40), "b": (55, 12), "c": (70, 2)}
    for cat, (adm, term) in grid.items():
        cells.add(("admin_closed", "category", cat), adm)
        cells.add(("terminated", "category", cat), term)
        cells.add(("pd_closures", "category", cat), adm + term)
    for m, v in (("admin_closed", 128), ("terminated", 54), ("pd_closures", 182)):
        cells.add((m, "category", "Total"), v)
    build_equations(cells, date(2011, 12, 1), date(2013, 6, 30))
    return cells


def test_primary_suppression_alone_is_recovered_by_row_and_column_differences():
    cells = _two_way()
    primaries = {k: PRIMARY for k, v in cells.values.items() if 1 <= v < 10}
    got = recoverable(_published(cells, primaries), cells.equations)
    # 3 = 43 - 40 and 2 = 72 - 70: the attack gives both back exactly.
    assert got[("admin_closed", "category", "a")] == 3
    assert got[("terminated", "category", "c")] == 2


def test_joint_protection_leaves_nothing_recoverable_and_keeps_zeros():
    cells = _two_way()
    cells.add(("admin_closed", "category", "z"), 0)
    kinds = protect(cells, 10)
    assert recoverable(_published(cells, kinds), cells.equations) == {}
    assert kinds[("admin_closed", "category", "a")] == PRIMARY
    assert ("admin_closed", "category", "z") not in kinds


def test_a_court_cell_is_protected_against_the_national_total_of_another_table():
    courts = pl.DataFrame(
        {
            "court_code": ["NYC", "NYD", "LOS"],
            "completions": [200, 150, 300],
            "pd_closures": [4, 30, 26],
        }
    )
    rates = pl.DataFrame(
        {"category_label": ["Total", "x"], "completions": [650, 650], "pd_closures": [60, 60]}
    )
    cells = CellSet()
    add_frame(cells, "courts", courts)
    add_frame(cells, "pd_rates_by_category", rates)
    build_equations(cells, date(2011, 12, 1), date(2013, 6, 30))
    primaries = {("pd_closures", "court", "NYC"): PRIMARY}
    assert recoverable(_published(cells, primaries), cells.equations) == {
        ("pd_closures", "court", "NYC"): 4.0
    }
    kinds = protect(cells, 10)
    assert recoverable(_published(cells, kinds), cells.equations) == {}
    shown = apply_suppression("courts", courts, kinds)
    assert shown.filter(pl.col("court_code") == "NYC")["pd_closures"].to_list() == [None]
    assert shown["pd_closures"].null_count() == 2  # the complement is another court


def test_quarters_are_tied_to_the_window_only_when_it_is_made_of_whole_quarters():
    def cells_for(start, end):
        cells = CellSet()
        cells.add(("completions", "category", "x"), 30)
        for q, v in (("2012-01-01", 4), ("2012-04-01", 26)):
            cells.add(("completions", "quarter", q, "x"), v)
        build_equations(cells, start, end)
        return cells

    aligned = cells_for(date(2012, 1, 1), date(2012, 6, 30))
    assert aligned.equations
    assert protect(aligned, 10) == {
        ("completions", "quarter", "2012-01-01", "x"): PRIMARY,
        ("completions", "quarter", "2012-04-01", "x"): "secondary",
    }
    assert not cells_for(date(2011, 12, 1), date(2012, 6, 30)).equations


def test_removals_against_ice_annual_totals():
    """ICE publishes each fiscal year's total, so with two levels a small one is recoverable as
    total minus the other and needs a complement; a year with a single level is that total, a
    public figure already, and is not counted as recovered."""

    def removals(values: dict[str, int]) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "fiscal_year": [2023] * len(values),
                "immigration_only_excluded": [False] * len(values),
                "threat_level": list(values),
                "removals": list(values.values()),
            }
        )

    two = CellSet()
    add_frame(two, "removals", removals({"none": 3, "1": 500}))
    build_equations(two, date(2011, 12, 1), date(2013, 6, 30))
    primaries = {k: PRIMARY for k, v in two.values.items() if 1 <= v < 10}
    assert list(recoverable(_published(two, primaries), two.equations).values()) == [3.0]
    kinds = protect(two, 10)
    assert len(kinds) == 2 and recoverable(_published(two, kinds), two.equations) == {}

    one = CellSet()
    add_frame(one, "removals", removals({"none": 3}))
    build_equations(one, date(2011, 12, 1), date(2013, 6, 30))
    kinds = protect(one, 10)
    assert list(kinds.values()) == [PRIMARY]
    assert one.equations == [] and recoverable(_published(one, kinds), one.equations) == {}
