"""The appendix says what a release's own codes can and cannot show, without a small cell."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from pipelines.publish.appendix import code_notes
from pipelines.publish.stored import ReleaseSettings

STORED = ReleaseSettings(
    "r", date(2011, 12, 1), date(2013, 6, 30), date(2011, 11, 17), "most_serious", 10, 100
)


def _warehouse(dec_i_2012: int, docket: int) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA marts")
    con.execute(
        "CREATE TABLE marts.pd_code_frequencies AS SELECT * FROM (VALUES "
        f"('r', 'DEC_CODE', 'I', 'RMV', 2012, {dec_i_2012}, true), "
        "('r', 'OTHER_COMP', 'Y', 'RMV', 2012, 40, true), "
        "('r', 'OTHER_COMP', 'Y', 'RMV', 2013, 30, true), "
        "('r', 'DEC_CODE', 'X', 'RMV', 2013, 50, false)) "
        "t(release_id, field, code, case_type, fiscal_year, proceedings, counted_by_pd_rule)"
    )
    con.execute(
        "CREATE TABLE marts.pd_closures_by_category AS SELECT 'r' AS release_id, "
        "'total' AS lead_charge_category, 70 AS pd_closures, 120 AS pd_closures_with_terminations, "
        f"110 AS pd_closures_with_review_terminations, {70 + docket} AS "
        "pd_closures_with_docket_terminations, 3 AS pd_closures_undated"
    )
    return con


def test_a_release_without_dec_code_i_is_told_what_that_means():
    notes = " ".join(code_notes(_warehouse(dec_i_2012=0, docket=40), STORED))
    assert "DEC_CODE I, a code the PD rule counts, never occurs in this release" in notes
    assert "upper bounds, not findings" in notes
    assert "OTHER_COMP Y" not in notes  # it occurs to the release's last fiscal year
    assert "120 (all dates), 110 (ICE's case-review months), 110 (court docket reviews)" in notes


@pytest.mark.parametrize("docket", [1, 9])
def test_no_small_cell_is_printed_or_recoverable(docket):
    notes = " ".join(code_notes(_warehouse(dec_i_2012=25, docket=docket), STORED))
    assert "never occurs" not in notes
    # 3 undated closures and a bound 1-9 above the strict count are both small cells.
    assert "hold them: <10" in notes
    assert f"{70 + docket} (court docket reviews)" not in notes
    assert "<10 more than the strict count (court docket reviews)" in notes
