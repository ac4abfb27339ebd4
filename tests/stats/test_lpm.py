"""Grouped linear probability model vs row-level OLS (clustered and model-based)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from pipelines.stats import collapse_to_cells, fit_grouped_lpm
from pipelines.stats.simulate import SimulationDesign, reference_levels, simulate_rows
from tests.stats.rowlevel import aligned, fit_rowlevel

REGRESSORS = ["lead_charge_category", "custody", "represented"]
FE = ["court", "period"]
DESIGN = SimulationDesign(n_courts=10, n_periods=4)
REFS = reference_levels(DESIGN)


@pytest.fixture(scope="module")
def rows() -> pl.DataFrame:
    return simulate_rows(20_000, seed=5, design=DESIGN)


def test_clustered_lpm_equals_rowlevel_ols(rows):
    cells = collapse_to_cells(rows, [*REGRESSORS, *FE])
    ours = fit_grouped_lpm(cells, categorical=REGRESSORS, reference=REFS, fixed_effects=FE)
    theirs = fit_rowlevel(rows, [*REGRESSORS, *FE], REFS, family="ols")[0]
    t, o = aligned(theirs, ours.coefficients, "estimate")
    np.testing.assert_allclose(o, t, atol=1e-8)
    t, o = aligned(theirs, ours.coefficients, "std_error")
    np.testing.assert_allclose(o, t, rtol=1e-8)
    assert ours.diagnostics["r2"] == pytest.approx(theirs.rsquared, rel=1e-9)
    assert ours.diagnostics["n_obs"] == rows.height
    assert ours.diagnostics["n_clusters"] == DESIGN.n_courts


def test_weighted_least_squares_on_cells_is_not_the_rowlevel_se(rows):
    # Why the LPM has its own covariance: WLS of cell means with weights n has the right
    # coefficients, but its residual variance comes from cell means (model-based SEs are off)
    # and its clustered small-sample factor counts cells instead of rows.
    import statsmodels.api as sm

    from pipelines.stats.design import design_matrix

    cells = collapse_to_cells(rows, [*REGRESSORS, *FE])
    X = design_matrix(
        cells, fit_grouped_lpm(cells, categorical=REGRESSORS, reference=REFS, fixed_effects=FE).spec
    )
    n = cells["n"].to_numpy().astype(float)
    ybar = cells["pd_closures"].to_numpy() / n
    m, k, big_n = len(n), X.shape[1], n.sum()

    model_based = fit_grouped_lpm(
        cells, categorical=REGRESSORS, reference=REFS, fixed_effects=FE, cluster=None
    )
    wls = sm.WLS(ybar, X, weights=n).fit()
    np.testing.assert_allclose(wls.params, model_based.params, atol=1e-10)
    assert np.max(np.abs(wls.bse / np.sqrt(np.diag(model_based.cov)) - 1)) > 1e-3

    clustered = fit_grouped_lpm(cells, categorical=REGRESSORS, reference=REFS, fixed_effects=FE)
    groups = cells["court"].rank("dense").to_numpy()
    wls_cl = sm.WLS(ybar, X, weights=n).fit(cov_type="cluster", cov_kwds={"groups": groups})
    ratio = wls_cl.bse / np.sqrt(np.diag(clustered.cov))
    np.testing.assert_allclose(
        ratio, np.sqrt((m - 1) / (m - k) / ((big_n - 1) / (big_n - k))), rtol=1e-8
    )
    assert abs(ratio[0] - 1) > 1e-3


def test_non_binary_outcome_uses_sum_of_squares(rows):
    # A count outcome (0..3) per row: the model-based variance needs sum(y^2), not sum(y).
    rng = np.random.default_rng(0)
    counted = rows.with_columns(pl.Series("events", rng.integers(0, 4, rows.height)))
    cells = counted.group_by([*REGRESSORS, *FE]).agg(
        pl.len().alias("n"),
        pl.col("events").sum().alias("y"),
        (pl.col("events") ** 2).sum().alias("y2"),
    )
    ours = fit_grouped_lpm(
        cells,
        outcome_y="y",
        outcome_y2="y2",
        categorical=REGRESSORS,
        reference=REFS,
        fixed_effects=FE,
        cluster=None,
    )
    theirs = fit_rowlevel(
        counted, [*REGRESSORS, *FE], REFS, outcome="events", family="ols", cluster=None
    )[0]
    t, o = aligned(theirs, ours.coefficients, "std_error")
    np.testing.assert_allclose(o, t, rtol=1e-8)
