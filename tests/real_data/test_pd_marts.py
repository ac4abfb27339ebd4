"""The PD marts on a small generated (SYNTHETIC) release, reconciled with marts.proceedings, with
the Python rule, and with the files themselves (read by the tests' own simple reader)."""

from __future__ import annotations

import collections
import csv
from datetime import date

from pipelines.classify.pd import PD_VARIANTS, pd_kind, pd_variant_flags
from pipelines.settings import DEFAULT_WINDOW_END, DEFAULT_WINDOW_START, REFERENCE_DIR, Settings
from pipelines.warehouse.checks import evaluate
from pipelines.warehouse.db import load_models, run_variables, set_variables
from tests.sample.simple_eoir_reader import read_rows

VARIANT_COLUMNS = [v.column_name for v in PD_VARIANTS]
REMOVAL_TYPES = ("RMV", "DEP", "EXC", "REC")


def _check(con, table: str, name: str, release_id: str) -> tuple[bool, dict]:
    """Evaluate one declared check of a model on the built warehouse, as the asset does."""
    model = {m.qualified: m for m in load_models()}[table]
    check = next(c for c in model.checks if c.name == name)
    set_variables(con, run_variables(Settings(), release_id))
    outcome = evaluate(con, table, check, release_id)
    return outcome.passed, outcome.metadata


def test_variant_columns_are_the_python_rule_row_by_row(generated):
    con = generated.con()
    rows = con.execute(
        f"SELECT s.case_type, s.dec_code, s.other_comp, s.comp_date, s.base_city_code, "
        f"p.is_pd_closure, {', '.join('p.' + c for c in VARIANT_COLUMNS)} "
        "FROM marts.proceedings p JOIN staging.proceedings s USING (release_id, idnproceeding) "
        "WHERE p.release_id = ?",
        [generated.release_id],
    ).fetchall()
    con.close()
    assert len(rows) > 1000
    added = collections.Counter()
    for r in rows:
        expected = pd_variant_flags(r[0], r[1], r[2], r[3], r[4])
        got = dict(zip(VARIANT_COLUMNS, r[6:], strict=True))
        assert got == expected, r
        assert got["pd_strict"] == r[5]
        # each broader reading contains the narrower ones
        assert got["pd_strict"] <= got["pd_with_docket_terminations"]
        assert got["pd_with_docket_terminations"] <= got["pd_with_review_terminations"]
        assert got["pd_with_review_terminations"] <= got["pd_with_terminations"]
        for c in VARIANT_COLUMNS:
            added[c] += got[c] and not got["pd_strict"]
    # the test is not vacuous: the generated release has plain terminations, some in the review months
    assert added["pd_with_terminations"] > added["pd_with_review_terminations"] > 0


def test_pd_closures_by_category_reconciles_with_proceedings(generated):
    con = generated.con()
    rid = generated.release_id
    table = {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT lead_charge_category, pd_closures, admin_closed, terminated, "
            "pd_closures_with_terminations, pd_closures_with_review_terminations, "
            "pd_closures_with_docket_terminations, terminations_added, pd_closures_undated "
            "FROM marts.pd_closures_by_category WHERE release_id = ?",
            [rid],
        ).fetchall()
    }
    direct = {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT coalesce(lead_charge_category, 'no_charge_recorded'), "
            "count(*) FILTER (WHERE pd_strict AND in_w), "
            "count(*) FILTER (WHERE pd_kind = 'admin_closed' AND in_w), "
            "count(*) FILTER (WHERE pd_kind = 'terminated' AND in_w), "
            "count(*) FILTER (WHERE pd_with_terminations AND in_w), "
            "count(*) FILTER (WHERE pd_with_review_terminations AND in_w), "
            "count(*) FILTER (WHERE pd_with_docket_terminations AND in_w), "
            "count(*) FILTER (WHERE pd_with_terminations AND NOT pd_strict AND in_w), "
            "count(*) FILTER (WHERE pd_strict AND comp_date IS NULL) "
            "FROM (SELECT *, comp_date BETWEEN ? AND ? AS in_w FROM marts.proceedings "
            "      WHERE release_id = ?) GROUP BY 1",
            [DEFAULT_WINDOW_START, DEFAULT_WINDOW_END, rid],
        ).fetchall()
    }
    con.close()
    for cat, vals in direct.items():
        if any(vals):
            assert table[cat] == vals, cat
    total = tuple(sum(v[i] for v in direct.values()) for i in range(8))
    assert table["total"] == total
    assert table["total"][0] == table["total"][1] + table["total"][2]  # admin-closed + terminated
    assert table["total"][3] > table["total"][0]  # the bound adds terminations


def test_pd_code_frequencies_count_what_the_files_say(generated):
    """Per (field, code, case type), the mart's total equals a count made from the raw file."""
    header, rows = read_rows(generated.release_path, "B_TblProceeding")
    col = {h: i for i, h in enumerate(header)}
    expected = collections.Counter()
    for r in rows:
        ct = r[col["CASE_TYPE"]].strip().upper()
        for field in ("DEC_CODE", "OTHER_COMP"):
            v = r[col[field]].strip().upper()
            if v:
                expected[(field, v, ct)] += 1
    con = generated.con()
    got_rows = con.execute(
        "SELECT field, code, case_type, sum(proceedings), bool_or(counted_by_pd_rule), "
        "any_value(pd_kind), any_value(label) "
        "FROM marts.pd_code_frequencies WHERE release_id = ? GROUP BY ALL",
        [generated.release_id],
    ).fetchall()
    fy = con.execute(
        "SELECT sum(proceedings) FROM marts.pd_code_frequencies WHERE release_id = ? "
        "AND field = 'DEC_CODE' AND code = 'X' AND fiscal_year = 2013",
        [generated.release_id],
    ).fetchone()[0]
    fy_direct = con.execute(
        "SELECT count(*) FROM staging.proceedings WHERE release_id = ? AND dec_code = 'X' "
        "AND comp_date BETWEEN DATE '2012-10-01' AND DATE '2013-09-30'",
        [generated.release_id],
    ).fetchone()[0]
    con.close()
    got = {(f, c, t): n for f, c, t, n, *_ in got_rows if n}
    assert got == dict(expected)
    assert fy == fy_direct > 0
    for field, code, ct, _, counted, kind, _label in got_rows:
        rule = pd_kind(
            ct, code if field == "DEC_CODE" else None, code if field == "OTHER_COMP" else None
        )
        assert counted == (rule is not None) and kind == rule, (field, code, ct)


def test_rule_code_check_names_codes_that_stop(generated):
    """The generated PD era ends in FY2016: the check warns that the codes stop; I occurs."""
    con = generated.con()
    passed, meta = _check(
        con, "marts.pd_code_frequencies", "pd_rule_codes_occur", generated.release_id
    )
    con.close()
    assert not passed
    assert "DEC_CODE I last occurs in FY" in meta["codes"]
    assert "DEC_CODE I never occurs" not in meta["codes"]


def _published() -> dict[str, dict]:
    with open(REFERENCE_DIR / "trac_published_figures.csv", encoding="utf-8", newline="") as f:
        return {r["figure_id"]: r for r in csv.DictReader(f)}


def test_trac_comparison_on_a_synthetic_release(generated):
    con = generated.con()
    rid = generated.release_id
    rows = {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT figure_id, published_value, computed_value, computed_with_terminations, "
            "difference, comparison, unit_computed FROM marts.trac_comparison WHERE release_id = ?",
            [rid],
        ).fetchall()
    }
    published = _published()
    assert set(rows) == set(published)
    for fid, (pub, _, _, diff, comparison, unit) in rows.items():
        assert pub == float(published[fid]["published_value"])
        assert diff is None and comparison == "not applicable: synthetic" and unit

    # the article's rows are the article table's rows (same window, same unit: proceedings)
    art = dict(
        con.execute(
            "SELECT lead_charge_category, pd_closures FROM marts.pd_closures_by_category "
            "WHERE release_id = ?",
            [rid],
        ).fetchall()
    )
    assert rows["article_total"][1] == art["total"] > 0
    assert rows["article_other_immigration"][1] == art["other_immigration"]

    def one(sql, *params):
        return con.execute(sql, [rid, *params]).fetchone()[0]

    fy12 = (date(2011, 10, 1), date(2012, 9, 30))
    completions = one(
        "SELECT count(*) FROM marts.proceedings WHERE release_id = ? AND is_completed "
        "AND comp_date BETWEEN ? AND ?",
        *fy12,
    )
    pd = one(
        "SELECT count(*) FROM marts.proceedings WHERE release_id = ? AND is_pd_closure "
        "AND is_completed AND comp_date BETWEEN ? AND ?",
        *fy12,
    )
    assert rows["trac_339_fy2012_completions"][1] == completions
    assert rows["trac_339_fy2012_pd_closures"][1] == pd
    assert rows["trac_339_fy2012_pd_rate"][1] == round(100 * pd / completions, 1)
    cases = one(
        "SELECT count(DISTINCT idncase) FROM marts.proceedings WHERE release_id = ? AND is_pd_closure "
        "AND comp_date BETWEEN ? AND ?",
        date(2011, 10, 1),
        date(2012, 6, 28),
    )
    pending = one(
        "SELECT count(DISTINCT idncase) FROM marts.proceedings WHERE release_id = ? "
        "AND input_date <= ? AND (comp_date IS NULL OR comp_date > ?)",
        date(2011, 9, 30),
        date(2011, 9, 30),
    )
    assert rows["trac_287_pd_closures"][1] == cases
    assert rows["trac_287_pending"][1] == pending
    assert rows["trac_287_pd_share_of_pending"][1] == round(100 * cases / pending, 1)
    sea = [
        one(
            "SELECT count(*) FILTER (WHERE is_pd_closure) FROM marts.proceedings WHERE release_id = ? "
            "AND is_completed AND court = 'SEA' AND comp_date BETWEEN ? AND ?",
            date(2011, 10, 1),
            date(2013, 12, 31),
        ),
        one(
            "SELECT count(*) FROM marts.proceedings WHERE release_id = ? "
            "AND is_completed AND court = 'SEA' AND comp_date BETWEEN ? AND ?",
            date(2011, 10, 1),
            date(2013, 12, 31),
        ),
    ]
    con.close()
    expected_sea = round(100 * sea[0] / sea[1], 1) if sea[1] else None
    assert rows["trac_339_seattle_pd_rate"][1] == expected_sea
    # the bound is never below the strict figure
    for fid, (_, comp, broad, *_rest) in rows.items():
        if broad is not None:
            assert broad >= comp, fid


def test_trac_gap_check_never_fails(generated):
    con = generated.con()
    passed, meta = _check(con, "marts.trac_comparison", "trac_gap_reported", generated.release_id)
    con.close()
    assert passed and meta["comparison"] == "not applicable: synthetic" and meta["gaps"] is None
