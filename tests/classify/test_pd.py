"""The PD rule on each code and case type, in Python and in the SQL rendered from the same CSV."""

from __future__ import annotations

import itertools

import duckdb
import pytest

from pipelines.classify.pd import (
    PD_DEC_CODE_CASE_TYPES,
    PD_DEC_CODES,
    PD_OTHER_COMP,
    is_pd_closure,
    pd_kind,
    pd_kind_sql,
)
from pipelines.classify.reference import PD_CODES_CSV, read_pd_codes

# Case types of tblLookupCaseType (docs/EOIR_FORMAT.md#other-code-tables) plus BND, seen in data
# only.
CASE_TYPES = [
    "AOC",
    "CDR",
    "CFR",
    "CSR",
    "DCC",
    "DDC",
    "DEP",
    "EXC",
    "NAC",
    "REC",
    "RFR",
    "RMV",
    "WHO",
    "BND",
]
# DEC_CODE and OTHER_COMP letters that occur in the court-decision lookup
# (docs/EOIR_FORMAT.md#court-decision-codes).
DEC_CODES = ["A", "C", "D", "E", "G", "I", "J", "K", "N", "O", "R", "S", "T", "V", "W", "X"]
OTHER_COMPS = ["A", "B", "C", "F", "H", "M", "O", "P", "T", "X", "Y"]


def test_constants_come_from_the_csv():
    assert PD_OTHER_COMP == {"Y": "admin_closed", "M": "admin_closed"}
    assert PD_DEC_CODES == {"I": "terminated"}
    assert PD_DEC_CODE_CASE_TYPES == {"I": frozenset({"RMV", "DEP", "EXC", "REC"})}


@pytest.mark.parametrize("case_type", CASE_TYPES)
@pytest.mark.parametrize("other_comp", ["Y", "M"])
def test_y_and_m_are_admin_closures_in_every_case_type(case_type, other_comp):
    assert pd_kind(case_type, None, other_comp) == "admin_closed"


@pytest.mark.parametrize("case_type", ["RMV", "DEP", "EXC", "REC"])
def test_i_is_a_pd_termination_in_rmv_dep_exc_rec(case_type):
    assert pd_kind(case_type, "I", None) == "terminated"


@pytest.mark.parametrize(
    "case_type", [t for t in CASE_TYPES if t not in {"RMV", "DEP", "EXC", "REC"}]
)
def test_i_outside_rmv_dep_exc_rec_is_not_pd(case_type):
    assert pd_kind(case_type, "I", None) is None
    assert not is_pd_closure(case_type, "I", None)


@pytest.mark.parametrize("case_type", CASE_TYPES)
def test_admin_closing_other_is_not_pd(case_type):
    # OTHER_COMP A "Administrative Closing - Other" and B "... Failure to Appear"
    assert pd_kind(case_type, None, "A") is None
    assert pd_kind(case_type, None, "B") is None
    # DEC_CODE A (Admit / Abandonment / Affirmed, by case type) is not PD either
    assert pd_kind(case_type, "A", None) is None


def test_other_codes_are_not_pd():
    for ct, dec in itertools.product(CASE_TYPES, DEC_CODES):
        if dec == "I" and ct in {"RMV", "DEP", "EXC", "REC"}:
            continue
        assert pd_kind(ct, dec, None) is None, (ct, dec)
    for ct, oc in itertools.product(CASE_TYPES, OTHER_COMPS):
        if oc not in {"Y", "M"}:
            assert pd_kind(ct, None, oc) is None, (ct, oc)


def test_codes_are_trimmed_and_case_folded():
    assert pd_kind(" rmv ", "i ", None) == "terminated"
    assert pd_kind("RMV", None, " y") == "admin_closed"
    assert pd_kind(None, None, "M") == "admin_closed"
    assert pd_kind(None, "I", None) is None  # I needs a case type
    assert pd_kind("RMV", "", "") is None
    assert pd_kind(None, None, None) is None


def test_both_fields_pd_counts_once_as_terminated():
    assert pd_kind("RMV", "I", "Y") == "terminated"
    assert pd_kind("AOC", "I", "Y") == "admin_closed"  # I is not PD in AOC; Y is


def test_sql_expression_equals_python_on_every_combination():
    grid = [
        (ct, dec, oc)
        for ct in [*CASE_TYPES, None, "rmv"]
        for dec in [*DEC_CODES, None, " i"]
        for oc in [*OTHER_COMPS, None, "y "]
    ]
    con = duckdb.connect()
    con.execute("CREATE TABLE p (case_type VARCHAR, dec_code VARCHAR, other_comp VARCHAR)")
    con.executemany("INSERT INTO p VALUES (?, ?, ?)", grid)
    sql_rows = con.execute(
        f"SELECT case_type, dec_code, other_comp, {pd_kind_sql('case_type', 'dec_code', 'other_comp')}"
        " FROM p"
    ).fetchall()
    assert len(sql_rows) == len(grid)
    for ct, dec, oc, kind in sql_rows:
        assert kind == pd_kind(ct, dec, oc), (ct, dec, oc)


def test_csv_join_in_sql_equals_python():
    """The join pattern in the pd module docstring, run in DuckDB against the real CSV."""
    grid = [
        (ct, dec, oc)
        for ct in CASE_TYPES
        for dec in ["I", "T", None]
        for oc in ["Y", "M", "A", None]
    ]
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE p (id INTEGER, case_type VARCHAR, dec_code VARCHAR, other_comp VARCHAR)"
    )
    con.executemany("INSERT INTO p VALUES (?, ?, ?, ?)", [(i, *g) for i, g in enumerate(grid)])
    rows = con.execute(
        """
        SELECT p.id, coalesce(
            max(pd.pd_kind) FILTER (WHERE pd.field = 'DEC_CODE'),
            max(pd.pd_kind) FILTER (WHERE pd.field = 'OTHER_COMP')) AS pd_kind
        FROM p LEFT JOIN read_csv(?, all_varchar = true) AS pd
          ON (pd.field = 'DEC_CODE' AND pd.code = upper(trim(p.dec_code))
              AND pd.case_type IN ('*', upper(trim(p.case_type))))
          OR (pd.field = 'OTHER_COMP' AND pd.code = upper(trim(p.other_comp))
              AND pd.case_type IN ('*', upper(trim(p.case_type))))
        GROUP BY p.id ORDER BY p.id
        """,
        [str(PD_CODES_CSV)],
    ).fetchall()
    assert [k for _, k in rows] == [pd_kind(*g) for g in grid]


def test_pd_codes_csv_validation(tmp_path):
    bad = tmp_path / "pd.csv"
    bad.write_text(
        "field,code,case_type,pd_kind,description,evidence\n"
        "OTHER_COMP,Y,*,closed,Prosecutorial Discretion - Admin Close,lookup\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match=r"pd\.csv line 2: pd_kind 'closed'"):
        read_pd_codes(bad)


# --- PD variants and the undated-closure thresholds ---------------------------------------------

from datetime import date  # noqa: E402

from pipelines.classify.pd import (  # noqa: E402
    PD_VARIANTS,
    REVIEW_PERIODS,
    pd_variant_flags,
    read_pd_variants,
    read_review_periods,
)


def test_variants_come_from_the_csv_with_strict_the_default():
    assert [v.column_name for v in PD_VARIANTS] == [
        "pd_strict",
        "pd_with_terminations",
        "pd_with_review_terminations",
        "pd_with_docket_terminations",
    ]
    assert [v.variant for v in PD_VARIANTS if v.is_default] == ["strict"]
    for v in PD_VARIANTS:
        assert v.label and v.can_contain and v.cannot_contain
    # every court of a docket review is a real base-city code; pilots Dec 2011 - Jan 2012
    pilots = {p.court: (p.start, p.end) for p in REVIEW_PERIODS if p.period_kind == "docket_review"}
    assert pilots["BAL"] == pilots["DEN"] == (date(2011, 12, 4), date(2012, 1, 13))
    assert set(pilots) == {"BAL", "DEN", "DET", "NOL", "ORL", "SEA", "NYC", "SFR", "LOS"}


@pytest.mark.parametrize("case_type", ["RMV", "DEP", "EXC", "REC"])
def test_a_plain_termination_counts_only_in_the_broader_variants(case_type):
    in_pilot = pd_variant_flags(case_type, "T", None, date(2011, 12, 20), "DEN")
    assert in_pilot == {
        "pd_strict": False,
        "pd_with_terminations": True,
        "pd_with_review_terminations": True,
        "pd_with_docket_terminations": True,
    }
    # the same day at a court without a docket review; and after the review months
    assert pd_variant_flags(case_type, "T", None, date(2011, 12, 20), "HOU") == {
        **in_pilot,
        "pd_with_docket_terminations": False,
    }
    assert pd_variant_flags(case_type, "T", None, date(2014, 1, 2), "DEN") == {
        **in_pilot,
        "pd_with_review_terminations": False,
        "pd_with_docket_terminations": False,
    }
    # no completion date: in no period
    assert (
        pd_variant_flags(case_type, "t ", None, None, "DEN")["pd_with_review_terminations"] is False
    )


@pytest.mark.parametrize("case_type", ["AOC", "WHO", "CFR", "NAC"])
def test_a_termination_outside_removal_type_cases_counts_nowhere(case_type):
    flags = pd_variant_flags(case_type, "T", None, date(2012, 1, 5), "BAL")
    assert not any(flags.values())


def test_strict_closures_count_in_every_variant():
    for args in (("RMV", "I", None), ("AOC", None, "Y"), ("WHO", None, "M")):
        assert all(pd_variant_flags(*args, comp_date=None, court=None).values())


def test_variant_and_period_csv_validation(tmp_path):
    good = (PD_CODES_CSV.parent / "pd_variants.csv").read_text(encoding="utf-8")
    bad = tmp_path / "pd_variants.csv"
    bad.write_text(good.replace(",true,", ",false,", 1), encoding="utf-8")
    with pytest.raises(ValueError, match="exactly one default variant"):
        read_pd_variants(bad)
    bad.write_text(good.replace(",case_review,", ",someday,", 1), encoding="utf-8")
    with pytest.raises(ValueError, match="period_kind"):
        read_pd_variants(bad)
    periods = (PD_CODES_CSV.parent / "pd_review_periods.csv").read_text(encoding="utf-8")
    bad_p = tmp_path / "pd_review_periods.csv"
    bad_p.write_text(
        periods.replace("2011-12-04,2012-01-13", "2012-01-13,2011-12-04", 1), encoding="utf-8"
    )
    with pytest.raises(ValueError, match="end_date before start_date"):
        read_review_periods(bad_p)


def _undated_check():
    from pipelines.warehouse.db import load_models

    model = {m.qualified: m for m in load_models()}["marts.proceedings"]
    return next(c for c in model.checks if c.name == "pd_closures_undated")


@pytest.mark.parametrize(
    ("missing", "placeholder", "outcome"),
    [
        (0, 0, "passed"),
        (1, 0, "passed"),  # 1 of 1,000 = 0.1%: at the warn fraction, not above it
        (1, 1, "warn"),  # 0.2%: above 0.1%, below 1%
        (6, 5, "error"),  # 1.1%: above the stop fraction
    ],
)
def test_undated_pd_closures_are_judged_by_warn_and_stop_fractions(missing, placeholder, outcome):
    """1,000 PD closures, some without a usable COMP_DATE (missing, or SQL Server's 1900-01-01)."""
    from pipelines.settings import SQL_DIR
    from pipelines.warehouse.checks import evaluate

    con = duckdb.connect()
    con.execute((SQL_DIR / "macros.sql").read_text(encoding="utf-8"))
    con.execute("CREATE SCHEMA marts; CREATE SCHEMA raw")
    con.execute(
        "CREATE TABLE marts.proceedings AS SELECT 'r' AS release_id, i AS idnproceeding, "
        "i <= 1000 AS is_pd_closure, CASE WHEN i <= ? THEN NULL ELSE DATE '2012-01-01' END AS comp_date "
        "FROM range(1, 1201) t(i)",
        [missing + placeholder],
    )
    con.execute(
        "CREATE TABLE raw.B_TblProceeding AS SELECT 'r' AS release_id, i::VARCHAR AS IDNPROCEEDING, "
        "CASE WHEN i <= ? THEN '' WHEN i <= ? THEN '1900-01-01 00:00:00.000' "
        "ELSE '2012-01-01 00:00:00.000' END AS COMP_DATE FROM range(1, 1201) t(i)",
        [missing, missing + placeholder],
    )
    result = evaluate(con, "marts.proceedings", _undated_check(), "r")
    got = "passed" if result.passed else result.severity
    assert got == outcome
    meta = result.metadata
    assert meta["total"] == 1000
    assert meta["pd_closures_undated"] == missing + placeholder
    assert meta["undated_missing_date"] == missing
    assert meta["undated_placeholder_date"] == placeholder
    assert (meta["warn_above"], meta["stop_above"]) == (0.001, 0.01)
