"""The PD and lead-charge rules as the pipeline computes them: sql/marts/proceedings.sql.

A tiny release in the real layout (tests/eoir/conftest.py) goes through the production path: the
real ingest into raw, every staging model that marts.proceedings needs (run by the warehouse SQL
runner the Dagster assets call: `load_models`, `build_model`, `run_variables`), the charge-code map
built the way its asset builds it, then marts.charges_classified and marts.proceedings. The
expectations come from data/reference/pd_codes.csv (read here with the csv module, not through
pipelines.classify.pd) and from the lead-charge rule written in the mart's header; the Python
copies in pipelines.classify.pd and pipelines.classify.lead are only compared with the SQL.
"""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.classify.lead import lead_charge, lead_charge_category
from pipelines.classify.pd import pd_kind as python_pd_kind
from pipelines.classify.pd import pd_variant_flags
from pipelines.classify.severity import charge_code_map, classify_charge
from pipelines.eoir.archive import open_release
from pipelines.eoir.columns import CORE_TABLES, core_specs
from pipelines.eoir.ingest import ensure_lookup_tables, ingest_table
from pipelines.settings import REFERENCE_DIR, Settings
from pipelines.warehouse.db import (
    build_model,
    connect,
    fetch_frame,
    load_models,
    run_variables,
    write_frame,
)
from tests.eoir.conftest import case_fields, header_of, row_for, tsv, write_release

COMP_DATE = "2012-06-15 00:00:00.000"
CHARGE_MAP = "staging.charge_code_map"
TARGETS = ("marts.charges_classified", "marts.proceedings")

# --------------------------------------------------------------------------------------------
# The grid: every case type x DEC_CODE x OTHER_COMP the court-decision lookup knows
# --------------------------------------------------------------------------------------------


def _reference_rows(name: str) -> list[dict[str, str]]:
    with open(REFERENCE_DIR / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


PD_RULES = _reference_rows("pd_codes.csv")
_DECISIONS = _reference_rows("court_decisions.csv")
_PD_KEYS = {(r["field"], r["code"]) for r in PD_RULES}

# Case types, DEC_CODE and OTHER_COMP letters of the court-decision lookup, the PD codes
# themselves, BND (seen in data only), empty, and spellings the staging layer must normalise.
CASE_TYPES = sorted({r["case_type"] for r in _DECISIONS} | {"BND"}) + ["", " rmv", "dep "]
DEC_CODES = sorted(
    {r["code"] for r in _DECISIONS if r["field"] == "DEC_CODE"}
    | {c for f, c in _PD_KEYS if f == "DEC_CODE"}
) + ["", " i"]
OTHER_COMPS = sorted(
    {r["code"] for r in _DECISIONS if r["field"] == "OTHER_COMP"}
    | {c for f, c in _PD_KEYS if f == "OTHER_COMP"}
) + ["", "y ", "m"]
GRID = list(itertools.product(CASE_TYPES, DEC_CODES, OTHER_COMPS))
FIRST_GRID_ID = 100_000


def rule_table_pd_kind(case_type: str, dec_code: str, other_comp: str) -> str | None:
    """What pd_codes.csv says: a row matches its field's code under its case type or `*`.

    Codes are compared trimmed and upper-case; when both fields carry a PD code the DEC_CODE row
    (the judge's order) wins, as the mart's header states.
    """
    ct, dec, oc = (v.strip().upper() for v in (case_type, dec_code, other_comp))
    for field, code in (("DEC_CODE", dec), ("OTHER_COMP", oc)):
        for r in PD_RULES:
            if r["field"] == field and r["code"] == code and r["case_type"] in ("*", ct):
                return r["pd_kind"]
    return None


def test_the_grid_covers_every_rule_row_and_its_complement():
    """The grid holds each PD code under a case type it counts for and one it does not."""
    kinds = {rule_table_pd_kind(*g) for g in GRID}
    assert kinds == {None, *(r["pd_kind"] for r in PD_RULES)}
    for r in PD_RULES:
        assert r["code"] in (DEC_CODES if r["field"] == "DEC_CODE" else OTHER_COMPS)
        if r["case_type"] != "*":
            assert r["case_type"] in CASE_TYPES
    excluded = {t for t in CASE_TYPES if t.strip()} - {r["case_type"] for r in PD_RULES}
    assert excluded, "no case type outside the DEC_CODE rows: the case-type branch is untested"


# --------------------------------------------------------------------------------------------
# Lead-charge cases: (idnproceeding, [(idnprcdchg, CHARGE, CHG_STATUS)] in file order)
# --------------------------------------------------------------------------------------------

# Categories (data/reference/charge_severity.csv, asserted below on the mart itself):
# 237a04B national security (rank 1), 237a02Aiii aggravated felony (2), 212a02Ai  I, 237a02Ai
# and 237a02Bi other criminal (3), 212a06Ai entry without inspection (4), `zz` unreadable (6).
CATEGORY_OF = {
    "237a04B": "national_security_terrorism",
    "237a02Aiii": "aggravated_felony",
    "212a02Ai  I": "other_criminal",
    "237a02Ai": "other_criminal",
    "237a02Bi": "other_criminal",
    "212a06Ai": "entry_without_inspection",
    "zz": "miscellaneous",
    # spellings of 212a06Ai and 237a02Ai  I as releases publish them
    "212a06Ai ": "entry_without_inspection",
    "237(a)(02)(A)(i  )(I  )": "other_criminal",
}
# The mart names the lead by its canonical EOIR code (an unreadable spelling as published).
LEAD_CATEGORY = {**CATEGORY_OF, "237a02Ai  I": "other_criminal"}
LEAD_CASES: dict[int, list[tuple[int, str, str]]] = {
    # most serious is charged last
    1: [(1010, "212a06Ai", "S"), (1011, "212a02Ai  I", "S"), (1012, "237a02Aiii", "S")],
    # a tie in category: the first charged (lowest IDNPRCDCHG) leads, whatever the file order
    2: [(1021, "237a02Bi", "S"), (1020, "237a02Ai", "S")],
    # IDNPRCDCHG compared as numbers: 99 was charged before 100 (as text, "100" < "99")
    3: [(100, "237a02Ai", "S"), (99, "237a02Bi", "S")],
    # the most serious charge was withdrawn: every charge counts whatever its CHG_STATUS
    4: [(1040, "212a06Ai", "S"), (1041, "237a04B", "W")],
    # the first charged was withdrawn (lower-case, as some releases spell it)
    5: [(1050, "237a02Aiii", "w"), (1051, "237a04B", "S")],
    # an unreadable spelling alone: miscellaneous, kept as published
    6: [(1060, "zz", "")],
    # an unreadable spelling first, then a readable one of a higher rank
    7: [(1070, "zz", "S"), (1071, "212a06Ai", "S")],
    # a single charge
    8: [(1080, "237a02Aiii", "O")],
    # published spellings: the lead is reported as its canonical code
    10: [(1100, "212a06Ai ", "S"), (1101, "237(a)(02)(A)(i  )(I  )", "S")],
}
NO_CHARGE = 9  # a proceeding without a charge has no lead

# (most_serious, first_charged) lead code per proceeding, by the rule in the mart's header.
EXPECTED_LEAD = {
    1: ("237a02Aiii", "212a06Ai"),
    2: ("237a02Ai", "237a02Ai"),
    3: ("237a02Bi", "237a02Bi"),
    4: ("237a04B", "212a06Ai"),
    5: ("237a04B", "237a02Aiii"),
    6: ("zz", "zz"),
    7: ("212a06Ai", "zz"),
    8: ("237a02Aiii", "237a02Aiii"),
    10: ("237a02Ai  I", "212a06Ai"),
    NO_CHARGE: (None, None),
}
# PD variants (data/reference/pd_variants.csv, pd_review_periods.csv): a plain termination
# (DEC_CODE T) of a removal-type case, placed in and out of the review periods.
# (idnproceeding, case type, DEC_CODE, OTHER_COMP, court, COMP_DATE) -> (pd_with_terminations,
# pd_with_review_terminations, pd_with_docket_terminations)
VARIANT_CASES = {
    (20, "RMV", "T", "", "NYC", "2012-05-10"): (True, True, True),  # NYC's two-week review
    (21, "RMV", "T", "", "NYC", "2012-06-15"): (True, True, False),  # review months, not NYC's
    (22, "DEP", "T", "", "BAL", "2011-12-05"): (True, True, True),  # the Baltimore pilot
    (23, "REC", "T", "", "BAL", "2014-01-10"): (True, False, False),  # after the review
    (24, "AOC", "T", "", "NYC", "2012-05-10"): (False, False, False),  # not removal-type
    (25, "RMV", "T", "", "NYC", ""): (True, False, False),  # undated: in no period
    (26, "RMV", "I", "", "NYC", "2014-01-10"): (True, True, True),  # strict PD: every variant
}
VARIANT_COLUMNS = (
    "pd_with_terminations",
    "pd_with_review_terminations",
    "pd_with_docket_terminations",
)

RANK_OF = {
    "national_security_terrorism": 1,
    "aggravated_felony": 2,
    "other_criminal": 3,
    "entry_without_inspection": 4,
    "other_immigration": 5,
    "miscellaneous": 6,
}


# --------------------------------------------------------------------------------------------
# The release and the production build
# --------------------------------------------------------------------------------------------


def _proceeding(
    idnproceeding: int,
    case_type: str,
    dec_code: str,
    other_comp: str,
    court: str = "NYC",
    comp_date: str = COMP_DATE,
) -> list[str]:
    return row_for(
        "B_TblProceeding",
        IDNPROCEEDING=str(idnproceeding),
        IDNCASE="1",
        OSC_DATE="2011-03-01 00:00:00.000",
        INPUT_DATE="2011-03-01 00:00:00.000",
        BASE_CITY_CODE=court,
        CASE_TYPE=case_type,
        CUSTODY="N",
        DEC_CODE=dec_code,
        OTHER_COMP=other_comp,
        COMP_DATE=comp_date,
        NAT="MX",
    )


def write_rules_release(root: Path) -> Path:
    procs = [_proceeding(FIRST_GRID_ID + i, *g) for i, g in enumerate(GRID)]
    procs += [_proceeding(pid, "RMV", "X", "") for pid in [*LEAD_CASES, NO_CHARGE]]
    procs += [
        _proceeding(pid, ct, dec, oc, court, f"{day} 00:00:00.000" if day else "")
        for pid, ct, dec, oc, court, day in VARIANT_CASES
    ]
    charges = [
        row_for(
            "B_TblProceedCharges",
            IDNPRCDCHG=str(chg),
            IDNCASE="1",
            IDNPROCEEDING=str(pid),
            CHARGE=code,
            CHG_STATUS=status,
        )
        for pid, rows in LEAD_CASES.items()
        for chg, code, status in rows
    ]
    tables = {
        "A_TblCase": [case_fields(1)],
        "B_TblProceeding": procs,
        "B_TblProceedCharges": charges,
        "tbl_RepsAssigned": [],
        "tbl_CasePriorityHistory": [],
    }
    assert set(tables) == set(CORE_TABLES)
    return write_release(
        root,
        {t: tsv(header_of(t), rows) for t, rows in tables.items()},
        counts={t: len(rows) for t, rows in tables.items()},
    )


def _build_charge_code_map(con: duckdb.DuckDBPyConnection, release_id: str) -> None:
    """staging.charge_code_map as its asset (pipelines/assets/classification.py) builds it."""
    raw = fetch_frame(
        con,
        "SELECT CHARGE, count(*) AS n FROM raw.B_TblProceedCharges WHERE release_id = ? GROUP BY 1",
        [release_id],
    )
    lookup = fetch_frame(
        con,
        "SELECT charge_code_raw AS charge_code, criminal_flag, aggravate_felon "
        "FROM staging.lookup_charges WHERE release_id = ?",
        [release_id],
    )
    codes = [*raw["CHARGE"].to_list(), *lookup["charge_code"].to_list()]
    mapping = charge_code_map(codes, release_lookup=lookup if lookup.height else None)
    frame = mapping.select(pl.lit(release_id).alias("release_id"), pl.all())
    write_frame(con, CHARGE_MAP, release_id, frame)


def build_marts(con: duckdb.DuckDBPyConnection, settings: Settings, release_id: str) -> None:
    """Run every model marts.proceedings depends on, in dependency order, then the targets."""
    models = {m.qualified.lower(): m for m in load_models()}
    variables = run_variables(settings, release_id)
    built: set[str] = set()

    def build(name: str) -> None:
        name = name.lower()
        if name in built or name.startswith("raw."):
            return
        if name == CHARGE_MAP:
            build("staging.lookup_charges")
            _build_charge_code_map(con, release_id)
        else:
            assert name in models, f"{name} is neither a SQL model nor the charge-code map"
            for dep in models[name].deps:
                build(dep)
            build_model(con, models[name], variables)
        built.add(name)

    for target in TARGETS:
        build(target)


_BUILT: dict[str, pl.DataFrame] = {}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> tuple[duckdb.DuckDBPyConnection, Settings, str]:
    """Raw and staging built once; each test rebuilds the marts under its own settings."""
    root = tmp_path_factory.mktemp("rules_sql")
    # Explicit values only: a PD_* variable in the caller's environment must not leak in.
    settings = Settings.checked(
        {
            "raw_dir": root / "raw",
            "warehouse": root / "wh.duckdb",
            "reports_dir": root / "reports",
            "temp_dir": root / "tmp",
            "duckdb_memory_limit": "1GB",
            "duckdb_threads": 1,
        }
    )
    release = open_release(write_rules_release(root))
    con = connect(settings)
    for table in CORE_TABLES:
        audit = ingest_table(
            con, release, release.member(table), core_specs()[table], settings.temp_dir
        )
        assert audit.rejected == 0 and audit.reconciled, audit
    ensure_lookup_tables(con)
    _BUILT.clear()
    yield con, settings, release.release_id
    _BUILT.clear()
    con.close()


def _marts(warehouse, rule_env: str | None, monkeypatch) -> pl.DataFrame:
    """marts.proceedings built with PD_LEAD_CHARGE_RULE as the environment sets it."""
    con, base, release_id = warehouse
    if rule_env is None:
        monkeypatch.delenv("PD_LEAD_CHARGE_RULE", raising=False)
    else:
        monkeypatch.setenv("PD_LEAD_CHARGE_RULE", rule_env)
    rule = Settings.from_env().lead_charge_rule
    # One build per rule (a build takes seconds on a loaded machine); the frame is the mart's.
    if rule not in _BUILT:
        build_marts(con, base.with_(lead_charge_rule=rule), release_id)
        _BUILT[rule] = fetch_frame(
            con,
            "SELECT idnproceeding, case_type, is_pd_closure, pd_kind, n_charges, "
            "lead_charge_code, lead_charge_category, lead_charge_rank, comp_date, court, "
            "pd_strict, pd_with_terminations, pd_with_review_terminations, "
            "pd_with_docket_terminations "
            "FROM marts.proceedings WHERE release_id = ?",
            [release_id],
        )
    return _BUILT[rule]


# --------------------------------------------------------------------------------------------
# PD rule
# --------------------------------------------------------------------------------------------


def test_pd_flag_and_kind_follow_pd_codes_csv_on_every_combination(warehouse, monkeypatch):
    got = {
        r["idnproceeding"]: (r["is_pd_closure"], r["pd_kind"])
        for r in _marts(warehouse, None, monkeypatch).iter_rows(named=True)
    }
    wrong = []
    for i, (ct, dec, oc) in enumerate(GRID):
        kind = rule_table_pd_kind(ct, dec, oc)
        if got[FIRST_GRID_ID + i] != (kind is not None, kind):
            wrong.append(((ct, dec, oc), got[FIRST_GRID_ID + i], kind))
    assert len(got) == len(GRID) + len(LEAD_CASES) + 1 + len(VARIANT_CASES)
    assert not wrong, f"{len(wrong)} of {len(GRID)} combinations differ, e.g. {wrong[:5]}"


def test_pd_counts_by_kind(warehouse, monkeypatch):
    """A coarse cross-check that cannot pass by both sides being empty."""
    df = _marts(warehouse, None, monkeypatch).filter(pl.col("idnproceeding") >= FIRST_GRID_ID)
    counts = dict(df.group_by("pd_kind").len().iter_rows())
    expected: dict[str | None, int] = {}
    for g in GRID:
        k = rule_table_pd_kind(*g)
        expected[k] = expected.get(k, 0) + 1
    assert counts == expected
    assert expected.get("terminated", 0) > 0 and expected.get("admin_closed", 0) > 0


def test_python_pd_copy_agrees_with_the_sql(warehouse, monkeypatch):
    got = {
        r["idnproceeding"]: r["pd_kind"]
        for r in _marts(warehouse, None, monkeypatch).iter_rows(named=True)
    }
    differ = [
        (g, got[FIRST_GRID_ID + i], python_pd_kind(*g))
        for i, g in enumerate(GRID)
        if got[FIRST_GRID_ID + i] != python_pd_kind(*g)
    ]
    assert not differ, differ[:5]


def test_pd_variants_on_removal_type_terminations(warehouse, monkeypatch):
    df = _marts(warehouse, None, monkeypatch)
    rows = {r["idnproceeding"]: r for r in df.iter_rows(named=True)}
    for (pid, *_), expected in VARIANT_CASES.items():
        assert tuple(rows[pid][c] for c in VARIANT_COLUMNS) == expected, pid
    assert df["pd_strict"].to_list() == df["is_pd_closure"].to_list()


def test_python_pd_variant_copy_agrees_with_the_sql(warehouse, monkeypatch):
    df = _marts(warehouse, None, monkeypatch)
    given = {FIRST_GRID_ID + i: g for i, g in enumerate(GRID)}
    given |= {pid: (ct, dec, oc) for pid, ct, dec, oc, _, _ in VARIANT_CASES}
    differ = []
    for r in df.filter(pl.col("idnproceeding").is_in(list(given))).iter_rows(named=True):
        flags = pd_variant_flags(*given[r["idnproceeding"]], r["comp_date"], r["court"])
        got = {c: r[c] for c in ("pd_strict", *VARIANT_COLUMNS)}
        if got != flags:
            differ.append((given[r["idnproceeding"]], got, flags))
    assert not differ, differ[:5]


# --------------------------------------------------------------------------------------------
# Lead charge
# --------------------------------------------------------------------------------------------


def _lead_rows(df: pl.DataFrame) -> dict[int, dict]:
    ids = [*LEAD_CASES, NO_CHARGE]
    return {
        r["idnproceeding"]: r
        for r in df.filter(pl.col("idnproceeding").is_in(ids)).iter_rows(named=True)
    }


def test_charge_categories_are_the_ones_the_cases_assume(warehouse, monkeypatch):
    _marts(warehouse, None, monkeypatch)
    con, _, release_id = warehouse
    got = dict(
        con.execute(
            "SELECT DISTINCT charge_raw, severity_category FROM marts.charges_classified "
            "WHERE release_id = ?",
            [release_id],
        ).fetchall()
    )
    assert got == CATEGORY_OF


@pytest.mark.parametrize(
    ("rule_env", "column"),
    [(None, 0), ("most_serious", 0), ("first_charged", 1)],
    ids=["default", "most_serious", "first_charged"],
)
def test_lead_charge_rule(warehouse, monkeypatch, rule_env, column):
    rows = _lead_rows(_marts(warehouse, rule_env, monkeypatch))
    got = {pid: r["lead_charge_code"] for pid, r in rows.items()}
    assert got == {pid: lead[column] for pid, lead in EXPECTED_LEAD.items()}
    for pid, r in rows.items():
        lead = EXPECTED_LEAD[pid][column]
        assert r["lead_charge_category"] == (LEAD_CATEGORY[lead] if lead else None), pid
        assert r["n_charges"] == len(LEAD_CASES.get(pid, [])), pid


@pytest.mark.parametrize("rule", ["most_serious", "first_charged"])
def test_lead_charge_rank_is_the_lead_charges_rank(warehouse, monkeypatch, rule):
    rows = _lead_rows(_marts(warehouse, rule, monkeypatch))
    for pid, r in rows.items():
        cat = r["lead_charge_category"]
        assert r["lead_charge_rank"] == (RANK_OF[cat] if cat else None), pid


@pytest.mark.parametrize("rule", ["most_serious", "first_charged"])
def test_python_lead_copy_agrees_with_the_sql(warehouse, monkeypatch, rule):
    rows = _lead_rows(_marts(warehouse, rule, monkeypatch))
    for pid, r in rows.items():
        codes = [code for _, code, _ in sorted(LEAD_CASES.get(pid, []))]
        lead = lead_charge(codes, rule=rule)
        # The Python copy returns the spelling as given; the mart its canonical code.
        canonical = None if lead is None else classify_charge(lead).charge_code or lead
        assert r["lead_charge_code"] == canonical, (pid, rule)
        assert r["lead_charge_category"] == lead_charge_category(codes, rule=rule), (pid, rule)
