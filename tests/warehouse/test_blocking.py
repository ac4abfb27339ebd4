"""A blocking check that fails stops the run: nothing downstream of the failed table is built."""

from __future__ import annotations

import zipfile

import dagster as dg

from pipelines.cli.runner import run_release
from pipelines.warehouse.db import connect, table_exists
from tests.eoir.conftest import small_release


def _claim_more_rows(src, dst, table: str, extra: int):
    """A copy of the release whose Count.txt claims `extra` more rows of `table` than it has."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith("Count.txt"):
                lines = []
                for line in data.decode().splitlines():
                    name, n = line.split("\t")
                    lines.append(f"{name}\t{int(n) + extra if name == table else n}")
                data = ("\r\n".join(lines) + "\r\n").encode()
            zout.writestr(info, data)
    return dst


def test_a_table_that_does_not_reconcile_stops_everything_built_from_it(settings, tmp_path):
    (tmp_path / "a").mkdir()
    good = small_release(tmp_path / "a")
    (tmp_path / "b" / good.parent.name).mkdir(parents=True)
    bad = _claim_more_rows(
        good, tmp_path / "b" / good.parent.name / good.name, "B_TblProceeding", 1
    )
    selection = dg.AssetSelection.groups("eoir_ingest", "staging", "classification", "closures")
    outcome = run_release(bad, settings, show_progress=False, selection=selection)
    assert not outcome.success
    assert "raw/B_TblProceeding:count_txt_reconciled" in outcome.failed_checks
    assert "raw__A_TblCase" in outcome.succeeded_steps
    # What does not read B_TblProceeding is built; what does is not.
    assert "staging__cases" in outcome.succeeded_steps
    for step in ("staging__proceedings", "staging__charges", "marts__proceedings"):
        assert step not in outcome.succeeded_steps, outcome.succeeded_steps
    con = connect(settings, read_only=True)
    try:
        assert not table_exists(con, "staging.proceedings")
        assert con.execute(
            "SELECT count_txt_rows, lines_read, reconciled FROM raw.load_audit "
            "WHERE source_table = 'B_TblProceeding'"
        ).fetchall() == [(5, 4, False)]
    finally:
        con.close()
