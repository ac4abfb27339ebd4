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
