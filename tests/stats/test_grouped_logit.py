"""Grouped logit vs the row-level statsmodels fit, and the API's contract on real-shaped cells."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from pipelines.stats import collapse_to_cells, fit_grouped_logit
from pipelines.stats.simulate import SimulationDesign, reference_levels, simulate_rows
from tests.stats.rowlevel import aligned, fit_rowlevel

REGRESSORS = ["lead_charge_category", "custody", "represented", "nationality_group", "nta_age_band"]
FE = ["court", "period"]
DESIGN = SimulationDesign(n_courts=15, n_periods=4)


@pytest.fixture(scope="module")
def rows() -> pl.DataFrame:
    return simulate_rows(40_000, seed=7, design=DESIGN)


@pytest.fixture(scope="module")
def cells(rows) -> pl.DataFrame:
    return collapse_to_cells(rows)


@pytest.fixture(scope="module")
def grouped(cells):
    return fit_grouped_logit(
        cells,
        outcome_n="n",
        outcome_y="pd_closures",
        categorical=REGRESSORS,
        reference=reference_levels(DESIGN),
        fixed_effects=FE,
        cluster="court",
    )


@pytest.fixture(scope="module")
def rowlevel(rows):
    return fit_rowlevel(rows, [*REGRESSORS, *FE], reference_levels(DESIGN))[0]


def test_cells_are_fewer_than_rows(rows, cells):
    assert cells.height < rows.height / 3
    assert cells["n"].sum() == rows.height


def test_grouped_equals_rowlevel_coefficients_and_clustered_se(grouped, rowlevel):
    theirs, ours = aligned(rowlevel, grouped.coefficients, "estimate")
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)
    theirs_se, ours_se = aligned(rowlevel, grouped.coefficients, "std_error")
    np.testing.assert_allclose(ours_se, theirs_se, rtol=0, atol=1e-4)
    # Not just within tolerance: the two computations agree to rounding.
    assert np.max(np.abs(ours_se / theirs_se - 1)) < 1e-8


def test_sparse_newton_engine_gives_the_same_fit(cells, grouped, rowlevel):
    fast = fit_grouped_logit(
        cells,
        categorical=REGRESSORS,
        reference=reference_levels(DESIGN),
        fixed_effects=FE,
        engine="sparse_newton",
    )
    assert fast.diagnostics["engine"] == "sparse_newton" and fast.diagnostics["converged"]
    np.testing.assert_allclose(fast.params, grouped.params, rtol=0, atol=1e-9)
    np.testing.assert_allclose(fast.cov, grouped.cov, rtol=1e-7, atol=1e-14)
    theirs, ours = aligned(rowlevel, fast.coefficients, "std_error")
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-4)
    assert fast.diagnostics["log_likelihood"] == pytest.approx(rowlevel.llf, rel=1e-10)
    with pytest.raises(ValueError, match="engine"):
        fit_grouped_logit(cells, categorical=["custody"], engine="lbfgs")


def test_fit_statistics_match_rowlevel(grouped, rowlevel, rows):
    d = grouped.diagnostics
    assert d["converged"] and d["iterations"] > 0
    assert d["n_obs"] == rows.height == rowlevel.nobs
    assert d["n_clusters"] == rows["court"].n_unique()
    assert d["n_params"] == len(rowlevel.params)
    assert d["log_likelihood"] == pytest.approx(rowlevel.llf, rel=1e-10)
    assert d["log_likelihood_null"] == pytest.approx(rowlevel.llnull, rel=1e-10)
    assert d["pseudo_r2_mcfadden"] == pytest.approx(rowlevel.pseudo_rsquared(kind="mcf"), rel=1e-8)
    assert d["separation"] == [] and d["dropped_terms"] == []
    # The small-sample factor uses rows, not cells: G/(G-1) * (N-1)/(N-K).
    g, n, k = d["n_clusters"], d["n_obs"], d["n_params"]
    assert d["small_sample_factor"] == pytest.approx(g / (g - 1) * (n - 1) / (n - k))


def test_wald_columns_and_odds_ratios(grouped, rowlevel):
    coef = grouped.coefficients
    assert coef.columns == [
        "term",
        "kind",
        "estimate",
        "std_error",
        "z",
        "p_value",
        "ci_low",
        "ci_high",
        "status",
    ]
    ci = rowlevel.conf_int()
    row = coef.filter(pl.col("term") == "custody[T.detained]").row(0, named=True)
    assert row["ci_low"] == pytest.approx(ci.loc["custody[T.detained]", 0], abs=1e-6)
    assert row["p_value"] == pytest.approx(
        rowlevel.pvalues["custody[T.detained]"], rel=1e-6, abs=1e-300
    )
    ors = grouped.odds_ratios.join(coef, on="term", suffix="_coef")
    np.testing.assert_allclose(ors["odds_ratio"], np.exp(ors["estimate"]))
    np.testing.assert_allclose(ors["ci_low"], np.exp(ors["ci_low_coef"]))
    np.testing.assert_allclose(ors["ci_high"], np.exp(ors["ci_high_coef"]))
    assert "Intercept" not in grouped.odds_ratios["term"].to_list()
    assert set(coef["kind"]) == {"intercept", "regressor", "fixed_effect"}


def test_model_based_covariance_matches_rowlevel_nonrobust(rows):
    rows = rows.head(12_000)
    cells = collapse_to_cells(rows)
    ours = fit_grouped_logit(
        cells,
        categorical=["lead_charge_category", "represented"],
        fixed_effects=["court"],
        cluster=None,
    )
    theirs = fit_rowlevel(
        rows,
        ["lead_charge_category", "represented", "court"],
        {"lead_charge_category": "entry_without_inspection"},
        cluster=None,
    )[0]
    t, o = aligned(theirs, ours.coefficients, "std_error")
    np.testing.assert_allclose(o, t, rtol=1e-8)
    assert ours.diagnostics["cov_type"] == "model" and ours.diagnostics["n_clusters"] is None


def test_pandas_input_and_default_references(cells, grouped):
    # The mart arrives as polars via DuckDB; pandas must give the same fit.
    fit = fit_grouped_logit(
        cells.to_pandas(),
        categorical=REGRESSORS,
        reference={
            "custody": "not_detained",
            "nationality_group": "mexico",
            "nta_age_band": "0-1y",
        },
        fixed_effects=FE,
    )
    np.testing.assert_allclose(fit.params, grouped.params, atol=1e-12)
    refs = fit.diagnostics["reference_levels"]
    # Defaults: the immigration-only lead charge, False for booleans, first level for fixed effects.
    assert refs["lead_charge_category"] == "entry_without_inspection"
    assert refs["represented"] is False
    assert refs["court"] == "C001"


def test_zero_size_cells_are_ignored_and_counted(cells, grouped):
    extra = cells.head(3).with_columns(
        pl.lit(0, dtype=pl.Int64).alias("n"), pl.lit(0, dtype=pl.Int64).alias("pd_closures")
    )
    fit = fit_grouped_logit(
        pl.concat([cells, extra]),
        categorical=REGRESSORS,
        reference=reference_levels(DESIGN),
        fixed_effects=FE,
    )
    np.testing.assert_allclose(fit.params, grouped.params, atol=1e-12)
    assert fit.diagnostics["n_cells_zero_n"] == 3


def test_bad_inputs_are_explained(cells):
    with pytest.raises(ValueError, match="null"):
        fit_grouped_logit(
            cells.with_columns(
                pl.when(pl.col("n") == 1).then(None).otherwise(pl.col("custody")).alias("custody")
            ),
            categorical=["custody"],
        )
    with pytest.raises(ValueError, match="impossible counts"):
        fit_grouped_logit(
            cells.with_columns((pl.col("n") + 1).alias("pd_closures")), categorical=["custody"]
        )
    with pytest.raises(ValueError, match="reference level 'nope'"):
        fit_grouped_logit(cells, categorical=["custody"], reference={"custody": "nope"})
    with pytest.raises(ValueError, match="cluster column 'court' has 1 null"):
        fit_grouped_logit(
            cells.with_columns(
                pl.when(pl.int_range(pl.len()) == 0)
                .then(None)
                .otherwise(pl.col("court"))
                .alias("court")
            ),
            categorical=["custody"],
        )
    with pytest.raises(ValueError, match="cluster column"):
        fit_grouped_logit(cells, categorical=["custody"], cluster="base_city_code")


def test_interaction_terms_match_patsy(rows):
    rows = rows.head(12_000)
    cells = collapse_to_cells(rows)
    fit = fit_grouped_logit(
        cells,
        categorical=["lead_charge_category", "custody"],
        reference={"custody": "not_detained"},
        interactions=[("lead_charge_category", "custody")],
        fixed_effects=["court"],
    )
    theirs = fit_rowlevel(
        rows,
        ["lead_charge_category", "custody", "court"],
        {"lead_charge_category": "entry_without_inspection", "custody": "not_detained"},
        extra_terms=["lead_charge_category:custody"],
    )[0]
    t, o = aligned(theirs, fit.coefficients, "estimate")
    np.testing.assert_allclose(o, t, atol=1e-6)
    t, o = aligned(theirs, fit.coefficients, "std_error")
    np.testing.assert_allclose(o, t, atol=1e-4)
    assert "lead_charge_category[T.aggravated_felony]:custody[T.detained]" in fit.terms
