"""Two monthly releases through the whole graph: the release diff and the latest.* views."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from pipelines.assets.releases import DIFF_KEY, RELEASES_KEY
from pipelines.cli.runner import run_release
from pipelines.releases.diff import build_release_diff, previous_release
from pipelines.releases.latest import materialized_releases, record_complete, refresh_latest_views
from pipelines.releases.watch import fingerprint
from pipelines.settings import Settings
from pipelines.warehouse.db import connect, fetch_frame
from tests.eoir.conftest import small_release
from tests.ops.releases import may_2026_edits, next_release


@pytest.fixture(scope="module")
def two_releases(tmp_path_factory):
    """April (small_release) then May (may_2026_edits), each run through every asset."""
    root = tmp_path_factory.mktemp("two_releases")
    settings = Settings(
        raw_dir=root / "raw",
        warehouse=root / "wh.duckdb",
        reports_dir=root / "reports",
        temp_dir=root / "tmp",
        duckdb_memory_limit="1GB",
    )
    (root / "raw" / "eoir" / "a").mkdir(parents=True)
    april = small_release(root / "raw" / "eoir" / "a")
    may = next_release(
        april, root / "raw" / "eoir" / "b", "EOIR Case Data 2026-0501", may_2026_edits()
    )
    # What the diff reads, and the two operations assets; the models and reports are not needed.
    selection = dg.AssetSelection.groups(
        "eoir_ingest", "staging", "classification", "closures"
    ) | dg.AssetSelection.assets(DIFF_KEY, RELEASES_KEY)
    outcomes = [
        run_release(p, settings, show_progress=False, selection=selection) for p in (april, may)
    ]
    return settings, april, may, outcomes


def _summary(con, release_id: str) -> dict[tuple[str, str], tuple]:
    rows = con.execute(
        "SELECT section, item, previous_release_id, previous_value, current_value, difference "
        "FROM marts.release_diff WHERE release_id = ?",
        [release_id],
    ).fetchall()
    return {(r[0], r[1]): r[2:] for r in rows}


def test_both_runs_succeed(two_releases):
    _, _, _, outcomes = two_releases
    for o in outcomes:
        assert o.success, o
        assert "marts__release_diff" in o.succeeded_steps
        assert "marts__releases" in o.succeeded_steps


def test_first_release_has_nothing_to_compare(two_releases):
    settings, *_ = two_releases
    con = connect(settings, read_only=True)
    try:
        s = _summary(con, "synthetic-2026-04")
        assert s[("proceedings", "total")] == (None, None, 4, None)
        assert s[("table_rows", "B_TblProceeding")] == (None, None, 4, None)
        assert ("proceedings", "added") not in s
        n = con.execute(
            "SELECT count(*) FROM marts.release_diff_proceedings WHERE release_id = 'synthetic-2026-04'"
        ).fetchall()[0][0]
        assert n == 0
    finally:
        con.close()


def test_second_release_diff_names_every_change(two_releases):
    settings, *_ = two_releases
    con = connect(settings, read_only=True)
    try:
        s = _summary(con, "synthetic-2026-05")
        prev = "synthetic-2026-04"
        assert s[("proceedings", "total")] == (prev, 4, 4, 0)
        assert s[("proceedings", "added")][2] == 1
        assert s[("proceedings", "removed")][2] == 1
        assert s[("proceedings", "outcome_changed")][2] == 2  # 11 (date), 13 (completed)
        assert s[("proceedings", "pd_status_changed")][2] == 1  # 13 became a PD termination
        assert s[("proceedings", "became_pd_closure")][2] == 1
        # 10 (a PD closure) was removed and 13 became one: the total stays 2.
        assert s[("proceedings", "pd_closures")] == (prev, 2, 2, 0)
        assert s[("charges", "added")][2] == 1 and s[("charges", "removed")][2] == 1
        assert s[("charges", "code_changed")][2] == 1 and s[("charges", "category_changed")][2] == 1
        assert s[("table_rows", "tbl_RepsAssigned")] == (prev, 1, 0, -1)
        procs = con.execute(
            "SELECT idnproceeding, change, outcome_changed, pd_status_changed, previous_dec_code, "
            "dec_code, CAST(previous_comp_date AS VARCHAR), CAST(comp_date AS VARCHAR), "
            "previous_pd_kind, pd_kind FROM marts.release_diff_proceedings "
            "WHERE release_id = 'synthetic-2026-05' ORDER BY idnproceeding"
        ).fetchall()
        assert procs == [
            (10, "removed", False, False, None, None, "2012-06-15", None, "admin_closed", None),
            (11, "changed", True, False, "X", "X", "2012-07-15", "2012-07-16", None, None),
            (13, "changed", True, True, None, "I", None, "2013-02-15", None, "terminated"),
            (14, "added", False, False, None, None, None, None, None, None),
        ]
        charges = con.execute(
            "SELECT idnprcdchg, change, previous_charge_code, charge_code, "
            "previous_severity_category, severity_category FROM marts.release_diff_charges "
            "WHERE release_id = 'synthetic-2026-05' ORDER BY idnprcdchg"
        ).fetchall()
        assert charges == [
            (100, "removed", "212a06Ai", None, "entry_without_inspection", None),
            (
                103,
                "code_changed",
                "212a02Ai  I",
                "212a06Ai",
                "other_criminal",
                "entry_without_inspection",
            ),
            (105, "added", None, "237a02Aiii", None, "aggravated_felony"),
        ]
    finally:
        con.close()


def test_diff_markdown_summarizes_in_words(two_releases):
    settings, *_ = two_releases
    con = connect(settings)
    try:
        # Rebuilding is idempotent: same rows, and the Markdown for the asset metadata.
        diff = build_release_diff(con, "synthetic-2026-05")
        again = fetch_frame(
            con,
            "SELECT count(*) AS n FROM marts.release_diff WHERE release_id = 'synthetic-2026-05'",
        )
        first = build_release_diff(con, "synthetic-2026-04")
    finally:
        con.close()
    assert again["n"][0] == len(diff.summary)
    assert diff.previous_release_id == "synthetic-2026-04"
    assert "compared with **synthetic-2026-04**" in diff.markdown
    assert "proceedings: 4 -> 4 (1 added, 1 removed)" in diff.markdown
    assert "PD status changed: 1 (1 became PD closures, 0 no longer are)" in diff.markdown
    assert "| tbl_RepsAssigned | 1 | 0 | -1 |" in diff.markdown
    assert "no earlier synthetic release in the warehouse" in first.markdown


def test_latest_views_follow_the_newest_complete_release(two_releases):
    settings, april, may, _ = two_releases
    con = connect(settings, read_only=True)
    try:
        assert con.execute("SELECT release_id FROM latest.release").fetchall() == [
            ("synthetic-2026-05",)
        ]
        rows = con.execute(
            "SELECT DISTINCT release_id, count(*) OVER () FROM latest.proceedings"
        ).fetchall()
        assert rows == [("synthetic-2026-05", 4)]
        # Earlier releases stay in the marts: nothing was overwritten.
        per_release = con.execute(
            "SELECT release_id, count(*) FROM marts.proceedings GROUP BY 1 ORDER BY 1"
        ).fetchall()
        assert per_release == [("synthetic-2026-04", 4), ("synthetic-2026-05", 4)]
        assert materialized_releases(con) == {
            "synthetic-2026-04": fingerprint(april),
            "synthetic-2026-05": fingerprint(may),
        }
    finally:
        con.close()


def test_previous_release_is_same_kind_and_earlier(settings):
    con = connect(settings)
    try:
        con.execute("CREATE TABLE raw.load_audit (release_id VARCHAR, source_table VARCHAR)")
        con.execute("CREATE TABLE staging.proceedings (release_id VARCHAR, idnproceeding BIGINT)")
        con.execute("CREATE TABLE marts.proceedings (release_id VARCHAR, idnproceeding BIGINT)")
        con.execute("CREATE TABLE marts.charges_classified (release_id VARCHAR)")
        for rid in ("2026-02", "2026-03", "synthetic-2026-04", "2026-06"):
            con.execute("INSERT INTO raw.load_audit VALUES (?, 'A_TblCase')", [rid])
            if rid != "2026-03":  # ingested but never classified: not comparable
                con.execute("INSERT INTO marts.proceedings VALUES (?, 1)", [rid])
        assert previous_release(con, "2026-05") == "2026-02"
        assert previous_release(con, "2026-07") == "2026-06"
        assert previous_release(con, "synthetic-2026-05") == "synthetic-2026-04"
        assert previous_release(con, "2026-02") is None
    finally:
        con.close()


def test_latest_prefers_real_releases_then_the_newest_date(settings):
    con = connect(settings)
    try:
        con.execute(
            "CREATE TABLE marts.pd_by_month AS SELECT * FROM (VALUES "
            "('synthetic-2026-05', 5), ('2026-02', 2), ('2026-03', 3)) t(release_id, n)"
        )
        assert refresh_latest_views(con).release_id is None  # nothing complete yet
        for rid, day, synthetic in (
            ("synthetic-2026-05", date(2026, 5, 1), True),
            ("2026-03", date(2026, 3, 2), False),
            ("2026-02", date(2026, 2, 1), False),
        ):
            record_complete(
                con,
                rid,
                source_path=Path("/x"),
                fingerprint="f",
                release_date=day,
                synthetic=synthetic,
            )
        views = refresh_latest_views(con)
        assert views.release_id == "2026-03"
        assert "latest.pd_by_month" in views.views
        assert con.execute("SELECT release_id, n FROM latest.pd_by_month").fetchall() == [
            ("2026-03", 3)
        ]
        # A re-run of an older release does not move latest back.
        record_complete(
            con,
            "2026-02",
            source_path=Path("/x"),
            fingerprint="g",
            release_date=date(2026, 2, 1),
            synthetic=False,
        )
        assert refresh_latest_views(con).release_id == "2026-03"
        assert materialized_releases(con)["2026-02"] == "g"
    finally:
        con.close()
