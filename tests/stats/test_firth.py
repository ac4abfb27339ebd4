"""Firth penalized likelihood on cells, held to two independent computations, and the tables'
treatment of separated and rare levels."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import optimize
from scipy.special import expit

from pipelines.stats import collapse_to_cells, fit_grouped_logit
from pipelines.stats.design import design_matrix, make_spec
from pipelines.stats.firth import fit_firth
from pipelines.stats.fit_release import fit_main_model, separation_problems
from pipelines.stats.simulate import SimulationDesign, reference_levels, simulate_rows

REGRESSORS = ["lead_charge_category", "custody", "represented"]
FE = ["court"]
# A rare category (2% of rows, strongly negative): some seeds give it no PD closure at all.
RARE = SimulationDesign(
    n_courts=6,
    n_periods=2,
    categories=(
        ("entry_without_inspection", 0.55, 0.0),
        ("other_immigration", 0.30, 0.35),
        ("other_criminal", 0.13, -0.7),
        ("aggravated_felony", 0.02, -2.5),
    ),
)
REFS = reference_levels(RARE)


def _cells(rows: pl.DataFrame) -> pl.DataFrame:
    return collapse_to_cells(rows, [*REGRESSORS, *FE])


def _penalized_rowlevel(X: np.ndarray, y: np.ndarray, b: np.ndarray) -> float:
    """Row-level l(b) + 1/2 log det X'WX written out directly (no cells, no hat values)."""
    eta = X @ b
    p = expit(eta)
    info = X.T @ (X * (p * (1 - p))[:, None])
    return float(y @ eta - np.logaddexp(0, eta).sum() + 0.5 * np.linalg.slogdet(info)[1])


@pytest.fixture(scope="module")
def small_rows() -> pl.DataFrame:
    rows = simulate_rows(1_500, seed=11, design=RARE)
    # Make the rare category separated: none of its rows is a PD closure.
    return rows.with_columns(
        pl.when(pl.col("lead_charge_category") == "aggravated_felony")
        .then(False)
        .otherwise(pl.col("pd_closure"))
        .alias("pd_closure")
    )


def test_grouped_firth_equals_direct_rowlevel_maximization(small_rows):
    cells = _cells(small_rows)
    spec = make_spec(cells, REGRESSORS, REFS, FE)
    n = cells["n"].cast(pl.Float64).to_numpy()
    y = cells["pd_closures"].cast(pl.Float64).to_numpy()
    ours = fit_firth(cells, spec, n, y)
    assert ours.converged
    X = design_matrix(small_rows, spec)
    yy = small_rows["pd_closure"].cast(pl.Float64).to_numpy()
    res = optimize.minimize(
        lambda b: -_penalized_rowlevel(X, yy, b),
        np.zeros(X.shape[1]),
        method="BFGS",
        options={"gtol": 1e-9, "maxiter": 5000},
    )
    np.testing.assert_allclose(ours.params, res.x, atol=2e-4)
    sep = spec.terms()[0].index("lead_charge_category[T.aggravated_felony]")
    assert np.isfinite(ours.params[sep]) and ours.params[sep] < -1.0


def test_grouped_firth_matches_firthmodels_on_rows_with_profile_intervals(small_rows):
    firthmodels = pytest.importorskip("firthmodels", reason="firthmodels is a dev dependency")
    cells = _cells(small_rows)
    spec = make_spec(cells, REGRESSORS, REFS, FE)
    n = cells["n"].cast(pl.Float64).to_numpy()
    y = cells["pd_closures"].cast(pl.Float64).to_numpy()
    terms = spec.terms()[0]
    wanted = ["lead_charge_category[T.aggravated_felony]", "lead_charge_category[T.other_criminal]"]
    ours = fit_firth(cells, spec, n, y, profile_terms=wanted)
    X = design_matrix(small_rows, spec)
    yy = small_rows["pd_closure"].cast(pl.Int64).to_numpy()
    ref = firthmodels.FirthLogisticRegression(
        fit_intercept=False, gtol=1e-9, xtol=1e-9, max_iter=200
    ).fit(X, yy)
    np.testing.assert_allclose(ours.params, ref.coef_, atol=1e-6)
    idx = [terms.index(t) for t in wanted]
    ci = ref.conf_int(method="pl", features=idx, tol=1e-8, max_iter=200)
    for t, i in zip(wanted, idx, strict=True):
        np.testing.assert_allclose(ours.profile_ci[t], ci[i], atol=5e-4)
    lo, hi = ours.profile_ci[wanted[0]]
    assert lo < ours.params[idx[0]] < hi


@pytest.fixture(scope="module")
def release_model():
    """A generated release (court and period FE) with a separated and a rare category."""
    rows = simulate_rows(6_000, seed=5, design=RARE)
    rows = rows.with_columns(
        pl.when(pl.col("lead_charge_category") == "aggravated_felony")
        .then(False)
        .otherwise(pl.col("pd_closure"))
        .alias("pd_closure")
    )
    cells = collapse_to_cells(rows, [*REGRESSORS, "court", "period"])
    return fit_main_model(
        cells,
        categorical=REGRESSORS,
        reference=REFS,
        fixed_effects=["court", "period"],
        bootstrap_draws=199,
    )


def test_no_table_holds_wald_inference_for_a_separated_term(release_model):
    tables = release_model.tables
    assert separation_problems(tables) == []
    coef = tables["coefficients"].filter(
        pl.col("term") == "lead_charge_category[T.aggravated_felony]"
    )
    row = coef.row(0, named=True)
    assert row["status"] == "separated" and row["inference"] == "firth_profile_likelihood"
    assert row["std_error"] is None and row["z"] is None and row["p_value"] is None
    assert row["p_value_t"] is None and row["pd_closures_with_term"] == 0
    assert row["n_obs_with_term"] > 0 and row["ci_low"] < row["estimate"] < row["ci_high"]
    for name in ("odds_ratios", "marginal_effects", "predicted_probabilities"):
        t = tables[name]
        key = "term" if "term" in t.columns else "level"
        sep = t.filter(pl.col(key).str.contains("aggravated_felony")).row(0, named=True)
        assert sep["status"] == "separated", name
        for col in ("std_error", "z", "p_value"):
            assert sep.get(col) is None or not np.isfinite(sep[col]), (name, col)
    pp = tables["predicted_probabilities"]
    assert ((pp["ci_low"] >= 0) & (pp["ci_high"] <= 1)).all()
    agg = pp.filter(pl.col("level") == "aggravated_felony").row(0, named=True)
    assert 0 < agg["ci_low"] < agg["predicted_probability"] < agg["ci_high"] < 1
    # Event counts in every table.
    for name, t in tables.items():
        assert any(c.startswith("pd_closures_") for c in t.columns), name


def test_separation_check_fails_on_false_precision(release_model):
    """Mutation: give the separated category back the ML delta-method SE it used to get (the
    reference category's uncertainty alone); the check must name it."""
    tables = dict(release_model.tables)
    me = tables["marginal_effects"]
    tables["marginal_effects"] = me.with_columns(
        pl.when(pl.col("level") == "aggravated_felony")
        .then(0.0044)
        .otherwise(pl.col("std_error"))
        .alias("std_error")
    )
    problems = separation_problems(tables)
    assert problems and "aggravated_felony" in problems[0]
    pp = tables["predicted_probabilities"]
    tables = dict(release_model.tables)
    tables["predicted_probabilities"] = pp.with_columns(
        (pl.col("predicted_probability") - 0.5).alias("ci_low")
    )
    assert any("outside [0, 1]" in p for p in separation_problems(tables))


def test_estimable_terms_keep_the_exact_ml_fit(release_model):
    """Rows not flagged rare keep the ML estimate and CRV1 SE of the grouped fit."""
    fit = release_model.fit
    ml = fit_grouped_logit(
        fit.cells, categorical=REGRESSORS, reference=REFS, fixed_effects=["court", "period"]
    ).coefficients
    ours = release_model.tables["coefficients"].filter(pl.col("inference") == "wald_crv1")
    joined = ours.join(ml, on="term", suffix="_ml")
    assert joined.height > 5
    np.testing.assert_allclose(joined["estimate"], joined["estimate_ml"], rtol=1e-9)
    np.testing.assert_allclose(joined["std_error"], joined["std_error_ml"], rtol=1e-9)


def test_lbfgs_finish_reaches_the_direct_maximum(small_rows, monkeypatch):
    """Mutation-style guard of the finisher: stop Fisher scoring after one iteration so that
    L-BFGS does the rest; the optimum must still be the row-level one (and the profile
    intervals those of full Fisher scoring)."""
    import pipelines.stats.firth as firth

    cells = _cells(small_rows)
    spec = make_spec(cells, REGRESSORS, REFS, FE)
    n = cells["n"].cast(pl.Float64).to_numpy()
    y = cells["pd_closures"].cast(pl.Float64).to_numpy()
    wanted = ["lead_charge_category[T.aggravated_felony]"]
    full = fit_firth(cells, spec, n, y, profile_terms=wanted)
    monkeypatch.setattr(firth, "SCORING_ITER", 1)
    finished = fit_firth(cells, spec, n, y, profile_terms=wanted)
    assert finished.converged
    np.testing.assert_allclose(finished.params, full.params, atol=1e-5)
    np.testing.assert_allclose(
        finished.profile_ci[wanted[0]], full.profile_ci[wanted[0]], atol=1e-3
    )


def test_dense_and_sparse_designs_give_the_same_fit(small_rows, monkeypatch):
    import pipelines.stats.firth as firth

    cells = _cells(small_rows)
    spec = make_spec(cells, REGRESSORS, REFS, FE)
    n = cells["n"].cast(pl.Float64).to_numpy()
    y = cells["pd_closures"].cast(pl.Float64).to_numpy()
    wanted = ["lead_charge_category[T.other_criminal]"]
    dense = fit_firth(cells, spec, n, y, profile_terms=wanted)
    monkeypatch.setattr(firth, "DENSE_MAX_ENTRIES", 0)
    sparse_fit = fit_firth(cells, spec, n, y, profile_terms=wanted)
    np.testing.assert_allclose(dense.params, sparse_fit.params, atol=1e-10)
    np.testing.assert_allclose(
        dense.profile_ci[wanted[0]], sparse_fit.profile_ci[wanted[0]], atol=1e-6
    )


def test_fewer_events_than_coefficients_is_not_estimated():
    """A cohort whose rarer outcome has fewer events than the model has coefficients is reported
    as not estimated with the two numbers, not fitted into meaningless intervals."""
    from pipelines.stats.fit_release import fit_release_models

    rows = simulate_rows(2_000, seed=3, design=RARE)
    # Keep 6 PD closures: fewer than the model's coefficients (intercept, 3 categories, custody,
    # representation, 5 courts, 1 period), more than enough for the outcome to vary.
    keep = rows["pd_closure"].cum_sum() <= 6
    few = rows.with_columns((pl.col("pd_closure") & pl.Series(keep)).alias("pd_closure"))
    args = dict(categorical=REGRESSORS, reference=REFS, fixed_effects=["court", "period"])
    cells = collapse_to_cells(few, [*REGRESSORS, "court", "period"])
    out = fit_release_models({"tiny": (cells, 0)}, **args)
    row = out.diagnostics.row(0, named=True)
    assert not row["estimated"]
    assert row["reason"].startswith("not identified: 6 events (the rarer outcome) for ")
    assert out.tables["coefficients"] == []
    # The same rows with all their PD closures are fitted.
    full = fit_release_models(
        {"tiny": (collapse_to_cells(rows, [*REGRESSORS, "court", "period"]), 0)}, **args
    )
    assert full.diagnostics.row(0, named=True)["estimated"]


def test_an_interval_that_is_not_there_is_not_outside_the_unit_interval(release_model):
    """NaN sorts above every number in polars; an absent interval must not read as > 1."""
    tables = dict(release_model.tables)
    pp = tables["predicted_probabilities"]
    tables["predicted_probabilities"] = pp.with_columns(
        pl.lit(float("nan")).alias("ci_low"), pl.lit(float("nan")).alias("ci_high")
    )
    assert not any("outside [0, 1]" in p for p in separation_problems(tables))
