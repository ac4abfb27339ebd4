"""Through the whole pipeline: ICE formula cells without a value are a warning naming the file,
sheet and column, and arrive as NULL in staging.ice_removals, never as the placeholder 0."""

from __future__ import annotations


def test_formula_cells_are_a_named_warning_and_null(generated):
    assert "staging/ice_removals:formula_cells_have_values" in generated.outcome.warned_checks
    con = generated.con()
    rows = con.execute(
        "SELECT anonymized_identifier, msc_charge_code FROM staging.ice_removals "
        "WHERE release_id = ? ORDER BY source_row",
        [generated.release_id],
    ).fetchall()
    con.close()
    codes = dict(rows)
    assert codes["P0"] == "0399"
    assert [codes[p] for p in ("P1", "P2", "P3")] == [None, None, None]
