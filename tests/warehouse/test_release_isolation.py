"""A second, tiny, degenerate release run into the sample's warehouse leaves the sample as it was.

The second release has a header-only charges table and four proceedings in two courts: too small
to fit any model, so its models.* rows have fewer columns and all-NULL ones. Every table's rows
for the sample (row count, column types, digest of the rows) are compared before and after.
"""

from __future__ import annotations

import dagster as dg

from pipelines.cli.runner import run_release
from pipelines.warehouse.db import connect
from tests.eoir.conftest import small_release
from tests.ops.releases import next_release
from tests.warehouse.fingerprint import differences, release_fingerprints

TINY = "synthetic-2026-05"


def _fingerprints(settings, release_id):
    con = connect(settings, read_only=True)
    try:
        return release_fingerprints(con, release_id)
    finally:
        con.close()


def test_a_degenerate_release_leaves_every_sample_row_byte_identical(sample_warehouse, tmp_path):
    assert sample_warehouse.outcome.success, sample_warehouse.outcome
    settings = sample_warehouse.copy_to(tmp_path / "warehouse")
    sample = sample_warehouse.release_id
    before = _fingerprints(settings, sample)
    assert before["models.robustness"].rows > 0 and before["marts.proceedings"].rows > 0

    (tmp_path / "a").mkdir()
    april = small_release(tmp_path / "a")
    tiny = next_release(
        april,
        tmp_path / "raw" / "b",
        "EOIR Case Data 2026-0501",
        {"B_TblProceedCharges": lambda rows: []},
    )
    # Every asset but the release report, which fails on a release without charges in the report
    # code itself (a polars when() on an all-NULL column; the same before declared schemas).
    everything_but_the_report = dg.AssetSelection.all() - dg.AssetSelection.assets(
        ["reports", "release_report"]
    )
    outcome = run_release(tiny, settings, show_progress=False, selection=everything_but_the_report)
    assert outcome.release_id == TINY
    assert outcome.success, outcome

    after = _fingerprints(settings, sample)
    assert differences(before, after) == []
    # The tiny release did write the tables it shares with the sample.
    mine = _fingerprints(settings, TINY)
    assert mine["raw.B_TblProceedCharges"].rows == 0
    assert mine["staging.proceedings"].rows == 4
    assert mine["models.fit_diagnostics"].rows > 0
    assert mine["marts.releases"].rows == 1
