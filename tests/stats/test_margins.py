"""Average marginal effects and predicted probabilities vs row-level statsmodels."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy.special import expit
from statsmodels.tools.numdiff import approx_fprime

from pipelines.stats import collapse_to_cells, fit_grouped_logit
from pipelines.stats.simulate import SimulationDesign, reference_levels, simulate_rows
from tests.stats.rowlevel import fit_rowlevel

REGRESSORS = ["lead_charge_category", "custody", "represented", "nta_age_band"]
FE = ["court", "period"]
DESIGN = SimulationDesign(n_courts=12, n_periods=4)
REFS = reference_levels(DESIGN)


@pytest.fixture(scope="module")
def rows() -> pl.DataFrame:
    return simulate_rows(25_000, seed=11, design=DESIGN)


@pytest.fixture(scope="module")
def grouped(rows):
    return fit_grouped_logit(
        collapse_to_cells(rows, [*REGRESSORS, *FE]),
        categorical=REGRESSORS,
        reference=REFS,
        fixed_effects=FE,
    )


@pytest.fixture(scope="module")
def rowlevel(rows):
    return fit_rowlevel(rows, [*REGRESSORS, *FE], REFS)


def test_binary_regressors_match_get_margeff(grouped, rowlevel):
    result, _ = rowlevel
    margeff = result.get_margeff(at="overall", method="dydx", dummy=True)
    names = list(result.params.index[1:])
    theirs = dict(zip(names, zip(margeff.margeff, margeff.margeff_se, strict=True), strict=True))
    ame = grouped.average_marginal_effects(["custody", "represented"])
    assert ame["term"].to_list() == ["custody[T.detained]", "represented[T.True]"]
    for row in ame.iter_rows(named=True):
        value, se = theirs[row["term"]]
        assert row["ame"] == pytest.approx(value, abs=1e-8)
        assert row["std_error"] == pytest.approx(se, rel=1e-6)
        assert row["status"] == "estimated"


def _rowlevel_average_prediction(result, df, column, level, mask=None):
    """Mean predicted probability over rows with `column` set to `level`, and its gradient by
    numerical differentiation; uses only statsmodels' design and parameters."""
    cf = df.copy()
    cf[column] = level
    cf[column] = cf[column].astype(df[column].dtype)  # same categories, so the same dummies
    exog = smf.glm(result.model.formula, cf, family=sm.families.Binomial()).exog
    np.testing.assert_allclose(
        result.predict(cf).mean(), expit(exog @ np.asarray(result.params)).mean()
    )
    if mask is not None:
        exog = exog[mask]

    def mean_pred(b):
        return np.array([expit(exog @ b).mean()])

    b = np.asarray(result.params)
    return mean_pred(b)[0], approx_fprime(b, mean_pred, centered=True).ravel()


def test_multilevel_category_matches_rowlevel_counterfactual(grouped, rowlevel):
    result, df = rowlevel
    cov = np.asarray(result.cov_params())
    ref_value, ref_grad = _rowlevel_average_prediction(
        result, df, "lead_charge_category", REFS["lead_charge_category"]
    )
    ame = grouped.average_marginal_effects(["lead_charge_category"])
    assert ame.height == len(DESIGN.categories) - 1
    for row in ame.iter_rows(named=True):
        value, grad = _rowlevel_average_prediction(result, df, "lead_charge_category", row["level"])
        assert row["ame"] == pytest.approx(value - ref_value, abs=1e-8)
        se = np.sqrt((grad - ref_grad) @ cov @ (grad - ref_grad))
        assert row["std_error"] == pytest.approx(se, rel=1e-5)
        assert row["ci_low"] < row["ame"] < row["ci_high"]


def test_predicted_probabilities_and_ame_agree(grouped, rowlevel):
    result, df = rowlevel
    pp = grouped.predicted_probabilities("lead_charge_category")
    assert pp["level"][0] == "entry_without_inspection"
    for row in pp.iter_rows(named=True):
        value, grad = _rowlevel_average_prediction(result, df, "lead_charge_category", row["level"])
        assert row["predicted_probability"] == pytest.approx(value, abs=1e-8)
        assert row["std_error"] == pytest.approx(
            np.sqrt(grad @ np.asarray(result.cov_params()) @ grad), rel=1e-5
        )
    ame = grouped.average_marginal_effects(["lead_charge_category"])
    base = pp["predicted_probability"][0]
    joined = ame.join(pp, on="level")
    np.testing.assert_allclose(joined["ame"], joined["predicted_probability"] - base, atol=1e-12)


def test_ame_within_subsets(grouped, rowlevel, rows):
    # by= averages over the cells of each value only (used for AME per era).
    result, df = rowlevel
    ame = grouped.average_marginal_effects(["represented"], by="period")
    assert ame["period"].to_list() == sorted(rows["period"].unique().to_list())
    for row in ame.iter_rows(named=True):
        mask = (df["period"] == row["period"]).to_numpy()
        v1, g1 = _rowlevel_average_prediction(result, df, "represented", True, mask)
        v0, g0 = _rowlevel_average_prediction(result, df, "represented", False, mask)
        assert row["ame"] == pytest.approx(v1 - v0, abs=1e-8)
        assert row["n_obs"] == mask.sum()


def test_level_probabilities_carry_the_model_based_error_of_the_fixed_effects(grouped, rowlevel):
    """`std_error_model` is the row-level delta method with statsmodels' model-based covariance;
    the interval is built on the larger of it and the clustered SE. Clustered on court with court
    fixed effects, the clustered SE misses the fixed effects' error (each court's residuals sum to
    zero at the fit), so here the model-based SE is the larger for some level and must be used."""
    from pipelines.stats.margins import logit_scale_interval

    result, df = rowlevel
    model_cov = np.asarray(result.normalized_cov_params)
    pp = grouped.predicted_probabilities("lead_charge_category")
    larger = 0
    for row in pp.iter_rows(named=True):
        _value, grad = _rowlevel_average_prediction(
            result, df, "lead_charge_category", row["level"]
        )
        assert row["std_error_model"] == pytest.approx(np.sqrt(grad @ model_cov @ grad), rel=1e-5)
        se = max(row["std_error"], row["std_error_model"])
        larger += row["std_error_model"] > row["std_error"]
        lo, hi = logit_scale_interval(
            np.array([row["predicted_probability"]]), np.array([se]), 0.05
        )
        assert row["ci_low"] == pytest.approx(lo[0], rel=1e-12)
        assert row["ci_high"] == pytest.approx(hi[0], rel=1e-12)
    assert larger >= 1
