"""Collapse/expand helpers and the simulator's bookkeeping."""

from __future__ import annotations

import polars as pl
import pytest

from benchmarks.models import bench_grouped_vs_rowlevel
from pipelines.stats import CELL_KEYS, collapse_to_cells, expand_cells
from pipelines.stats.simulate import SimulationDesign, simulate_rows, true_coefficients


def test_simulated_rows_have_the_mart_columns_and_are_reproducible():
    a = simulate_rows(2_000, seed=4)
    assert a.columns == [*CELL_KEYS, "pd_closure"]
    assert a.schema["represented"] == pl.Boolean and a.schema["pd_closure"] == pl.Boolean
    assert a.equals(simulate_rows(2_000, seed=4))
    assert not a.equals(simulate_rows(2_000, seed=5))
    # The truth does not depend on the replication seed, only on the design.
    assert true_coefficients() == true_coefficients(SimulationDesign())
    assert a["court"].n_unique() <= 50 and a["period"].n_unique() == 8


def test_collapse_then_expand_round_trip():
    rows = simulate_rows(3_000, seed=9)
    cells = collapse_to_cells(rows)
    assert cells.columns == [*CELL_KEYS, "n", "pd_closures"]
    assert cells["n"].sum() == 3_000 and cells["pd_closures"].sum() == rows["pd_closure"].sum()
    back, fraction = expand_cells(cells)
    assert fraction == 1.0
    key = [*CELL_KEYS, "pd_closure"]
    original = rows.with_columns(pl.col("pd_closure").cast(pl.Int8)).group_by(key).len().sort(key)
    assert back.group_by(key).len().sort(key).equals(original)


def test_expand_with_sampling_keeps_cells_consistent():
    cells = collapse_to_cells(simulate_rows(10_000, seed=9))
    rows, fraction = expand_cells(cells, max_rows=2_000, seed=1)
    assert fraction == pytest.approx(0.2)
    assert 1_700 < rows.height < 2_300
    again = collapse_to_cells(rows.with_columns(pl.col("pd_closure").cast(pl.Boolean)))
    joined = again.join(cells, on=list(CELL_KEYS), suffix="_full")
    assert joined.height == again.height  # every sampled cell exists in the full data
    assert (joined["n"] <= joined["n_full"]).all()
    assert (joined["pd_closures"] <= joined["pd_closures_full"]).all()


def test_bench_reports_identical_fits():
    out = bench_grouped_vs_rowlevel(15_000, seed=2, n_courts=10, n_periods=3)
    assert out["n_rows"] == 15_000 and out["n_clusters"] == 10
    assert out["n_cells"] < 15_000
    for engine in ("statsmodels", "sparse_newton"):
        assert out[f"max_abs_coef_diff_{engine}"] < 1e-6
        assert out[f"max_abs_se_diff_{engine}"] < 1e-4
    assert {
        "grouped_statsmodels_total_seconds",
        "rowlevel_fit_seconds",
        "speedup_sparse_newton",
    } <= set(out)
