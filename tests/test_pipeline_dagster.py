"""The Dagster graph end to end on a tiny real-format release (tests/eoir/conftest.small_release)."""

from __future__ import annotations

import dagster as dg

from pipelines.cli.runner import run_release
from pipelines.warehouse.db import connect
from tests.eoir.conftest import small_release


def test_ingest_and_staging_through_dagster(settings, tmp_path):
    path = small_release(tmp_path)
    sel = dg.AssetSelection.groups("eoir_ingest", "staging") - dg.AssetSelection.assets(
        ["staging", "charges"]
    )
    outcome = run_release(path, settings, show_progress=False, selection=sel)
    assert outcome.success, outcome
    assert outcome.release_id == "synthetic-2026-04"
    con = connect(settings, read_only=True)
    audit = con.execute(
        "SELECT source_table, lines_read, loaded_as_is, reconciled FROM raw.load_audit "
        "WHERE source_table IN ('A_TblCase','B_TblProceeding') ORDER BY 1"
    ).fetchall()
    assert audit == [("A_TblCase", 3, 3, True), ("B_TblProceeding", 4, 4, True)]
    procs = con.execute(
        "SELECT idnproceeding, comp_date, other_comp, dec_code FROM staging.proceedings ORDER BY 1"
    ).fetchall()
    assert [p[0] for p in procs] == [10, 11, 12, 13]
    assert str(procs[0][1]) == "2012-06-15" and procs[0][2] == "Y"
    assert procs[3][1] is None
    assert (
        con.execute("SELECT casepriority_code FROM staging.case_priority_history").fetchone()[0]
        == "N/A"
    )
    decisions = con.execute(
        "SELECT source, count(*) FROM staging.lookup_court_decision GROUP BY 1 ORDER BY 1"
    ).fetchall()
    # The release defines 4 codes; the rest of EOIR's 179 (case type, field, code) come from reference.
    # data/reference/court_decisions.csv has 178 rows; the 4 the release defines are not repeated.
    assert decisions == [("reference", 174), ("release", 4)]


def test_whole_graph_builds_marts_on_a_tiny_release(settings, tmp_path):
    path = small_release(tmp_path)
    outcome = run_release(path, settings, show_progress=False)
    assert outcome.success, outcome
    assert not outcome.failed_checks
    # Four proceedings in two courts are too few to model: that is a warning, not a failure.
    # Nor do four proceedings carry every code the PD rule relies on: a warning, naming them.
    assert sorted(outcome.warned_checks) == [
        "marts/pd_code_frequencies:pd_rule_codes_occur",
        "models/fit_diagnostics:models_converged",
    ]
    con = connect(settings, read_only=True)
    procs = con.execute(
        "SELECT idnproceeding, is_pd_closure, pd_kind, lead_charge_code, lead_charge_category, "
        "any_criminal, represented, outcome_description FROM marts.proceedings ORDER BY 1"
    ).fetchall()
    assert procs == [
        (
            10,
            True,
            "admin_closed",
            "212a06Ai",
            "entry_without_inspection",
            False,
            True,
            "Prosecutorial Discretion - Admin Close",
        ),
        (11, False, None, "237a02Aiii", "aggravated_felony", True, False, "Remove"),
        (
            12,
            True,
            "terminated",
            "212a02Ai  I",
            "other_criminal",
            True,
            False,
            "Prosecutorial Discretion - Terminated",
        ),
        (13, False, None, "212a06Ai", "entry_without_inspection", False, False, None),
    ]
    table = con.execute(
        "SELECT lead_charge_category, pd_closures, pct_of_pd_closures FROM marts.pd_closures_by_category "
        "ORDER BY row_order"
    ).fetchall()
    assert table[0] == ("total", 2, 100.0)
    assert ("other_criminal", 1, 50.0) in table and ("entry_without_inspection", 1, 50.0) in table
