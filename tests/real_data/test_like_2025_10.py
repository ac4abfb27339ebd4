"""A release shaped like the one EOIR published in October 2025: no DEC_CODE `I`, and every coded
value DDP counted in it (junk case types, lower-case and ESC charge statuses, a date in DEC_CODE).

The generated release is edited (each I becomes a plain termination T; each of DDP's values is
written on its own data line) and run through the pipeline as a user would."""

from __future__ import annotations

from tests.real_data.conftest import CODED_FIELDS, FIELD_TARGETS, ddp_values
from tests.real_data.test_pd_marts import _check


def test_the_run_completes_and_flags_what_it_cannot_read(like_2025_10):
    out = like_2025_10.outcome
    assert like_2025_10.i_replaced > 0  # the generated release had PD terminations to remove
    assert out.release_id == "synthetic-2026-05"
    assert not out.failed_checks, out.failed_checks
    assert "marts/pd_code_frequencies:pd_rule_codes_occur" in out.warned_checks
    assert "marts/code_value_frequencies:coded_values_known" in out.warned_checks


def test_pd_rule_code_check_names_the_missing_i(like_2025_10):
    con = like_2025_10.con()
    rid = like_2025_10.release_id
    passed, meta = _check(con, "marts.pd_code_frequencies", "pd_rule_codes_occur", rid)
    zero = con.execute(
        "SELECT case_type, proceedings, label FROM marts.pd_code_frequencies "
        "WHERE release_id = ? AND field = 'DEC_CODE' AND code = 'I' AND counted_by_pd_rule "
        "ORDER BY case_type",
        [rid],
    ).fetchall()
    terminated, strict, bound = con.execute(
        "SELECT terminated, pd_closures, pd_closures_with_terminations "
        "FROM marts.pd_closures_by_category WHERE release_id = ? AND lead_charge_category = 'total'",
        [rid],
    ).fetchone()
    con.close()
    assert not passed
    assert "DEC_CODE I never occurs in the release (case types DEP,EXC,REC,RMV)" in meta["codes"]
    # the absence is a row of the table, not just a missing row
    assert [(ct, n) for ct, n, _ in zero] == [("DEP", 0), ("EXC", 0), ("REC", 0), ("RMV", 0)]
    assert terminated == 0
    assert bound > strict  # the bound carries the terminations the strict rule cannot see


def test_every_ddp_value_is_decoded_or_counted(like_2025_10):
    """Each value of DEC_CODE, OTHER_COMP, CASE_TYPE, CUSTODY and CHG_STATUS in DDP's table is in
    marts.code_value_frequencies with a status; every one not decoded is named by the check."""
    con = like_2025_10.con()
    rid = like_2025_10.release_id
    rows = con.execute(
        "SELECT source_table, field, raw_value, status, label, rows FROM marts.code_value_frequencies "
        "WHERE release_id = ?",
        [rid],
    ).fetchall()
    rejected = con.execute(
        "SELECT count(*) FROM raw.rejects WHERE release_id = ?", [rid]
    ).fetchone()[0]
    passed, meta = _check(con, "marts.code_value_frequencies", "coded_values_known", rid)
    con.close()
    assert rejected == 0  # nothing was quarantined, so every value reached the tables
    seen: dict[tuple[str, str, str], set[str]] = {}
    for table, field, raw, status, label, _n in rows:
        seen.setdefault((table, field, raw), set()).add(status)
        assert status in {"decoded", "unknown", "no_lookup", "read_as_missing"}
        assert (status == "decoded") == (label is not None)
    listed = " ".join(str(meta[k] or "") for k in ("unknown", "without_lookup", "read_as_missing"))
    values = ddp_values()
    assert sum(len(v) for v in values.values()) > 70
    for field in CODED_FIELDS:
        for table, column in FIELD_TARGETS[field]:
            for value in values[field]:
                statuses = seen.get((table, column, value))
                assert statuses, f"{table}.{column} {value!r} is in no row of the table"
                if statuses != {"decoded"}:
                    shown = (
                        "bytes 0x" + value.encode("utf-8").hex().upper()
                        if any(ord(ch) < 32 for ch in value)
                        else f"`{value}`"
                    )
                    assert f"{table}.{column} {shown} (" in listed, (table, column, value)
    # DDP's junk and the ESC status are named; the real codes are decoded
    assert "B_TblProceedCharges.CHG_STATUS bytes 0x1B" in listed
    assert "B_TblProceeding.CASE_TYPE `AOL`" in meta["unknown"]
    assert "B_TblProceeding.DEC_CODE `1996-05-21 00:00:00.000`" in meta["unknown"]
    assert seen[("A_TblCase", "CUSTODY", "D")] == {"decoded"}
    assert seen[("A_TblCase", "CASE_TYPE", "00")] == {"read_as_missing"}
    assert not passed and meta["unknown_values"] > 0
