"""Smoke test of the benchmark at scale 0.01 (about 127,000 cases): correctness only, no timing."""

from __future__ import annotations

from benchmarks.runner import BIG_TABLES, REAL_CASES, bench_full


def test_full_benchmark_runs_every_asset_at_scale_001(tmp_path):
    report, outcome = bench_full(0.01, tmp_path, ice_rows=1500, show_progress=False)
    assert outcome.success, outcome
    assert not outcome.failed_checks
    # Every asset ran and was timed; the three big tables carry their row counts.
    for table in BIG_TABLES:
        assert outcome.row_counts[f"raw/{table}"] > 0
        assert f"| raw__{table} |" in report
    assert outcome.row_counts["raw/A_TblCase"] >= int(REAL_CASES * 0.01) - 10
    assert "bare read_csv B_TblProceeding" in report
    assert "peak RSS" in report
