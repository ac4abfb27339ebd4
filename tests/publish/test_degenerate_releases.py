"""Releases with nothing to count still get every report they can, with notes, never a crash:
the real rows in ../shared/reference/eoir/real_rows/ (a few real rows of three releases, charges
header-only, no PD closure, no completion in the window)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from pipelines.cli.main import main
from pipelines.publish.attack import attack_report
from pipelines.publish.stored import stored_settings
from pipelines.settings import REPO_ROOT, Settings
from pipelines.warehouse.db import connect

REAL_ROWS = REPO_ROOT.parent / "shared" / "reference" / "eoir" / "real_rows"
ZIPS = sorted(REAL_ROWS.glob("*.zip")) if REAL_ROWS.is_dir() else []


@pytest.mark.skipif(not ZIPS, reason=f"{REAL_ROWS} is absent (real reference rows not mounted)")
@pytest.mark.parametrize("zip_path", ZIPS, ids=[z.stem for z in ZIPS])
def test_real_rows_run_with_exit_0_and_reports_with_notes(zip_path: Path, tmp_path, capsys):
    warehouse, reports = tmp_path / "wh.duckdb", tmp_path / "reports"
    code = main(
        ["run", "--release", str(zip_path), "--warehouse", str(warehouse),
         "--reports", str(reports), "--quiet"]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 0, err
    (out,) = [p for p in reports.iterdir() if p.is_dir()]
    index = (out / "index.html").read_text(encoding="utf-8")
    # What is empty is said in words.
    assert 'class="note"' in index
    assert "No PD closure" in index or "No proceeding completed" in index
    for stem in ("closures_table", "pd_rates_by_category"):
        for ext in ("csv", "md", "tex"):
            assert (out / f"{stem}.{ext}").stat().st_size > 0, (stem, ext)
        pl.read_csv(out / f"{stem}.csv")
    assert (out / "extracts" / "codebook.md").exists()
    con = connect(Settings(warehouse=warehouse, temp_dir=tmp_path / "tmp"), read_only=True)
    try:
        stored = stored_settings(con, out.name)
    finally:
        con.close()
    assert attack_report(out, stored.window_start, stored.window_end).ok
