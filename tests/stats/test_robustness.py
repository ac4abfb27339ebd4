"""Robustness models: leave-one-court-out and court random intercepts."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from pipelines.stats import (
    collapse_to_cells,
    fit_court_random_intercepts,
    fit_grouped_logit,
    leave_one_court_out,
)
from pipelines.stats.simulate import (
    SimulationDesign,
    reference_levels,
    simulate_rows,
    true_coefficients,
)

REGRESSORS = ["lead_charge_category", "custody", "represented", "nationality_group", "nta_age_band"]
DESIGN = SimulationDesign(n_courts=8, n_periods=3)
REFS = reference_levels(DESIGN)


@pytest.fixture(scope="module")
def cells() -> pl.DataFrame:
    return collapse_to_cells(simulate_rows(20_000, seed=21, design=DESIGN))


def test_leave_one_court_out(cells):
    loco = leave_one_court_out(
        cells,
        variable="lead_charge_category",
        categorical=REGRESSORS,
        reference=REFS,
        fixed_effects=["court", "period"],
    )
    assert loco.by_court.height == DESIGN.n_courts * (len(DESIGN.categories) - 1)
    assert loco.by_court["converged"].all()
    # Each refit is the plain fit without that court, the reference court C001 included.
    for court in ("C001", "C004"):
        direct = fit_grouped_logit(
            cells.filter(pl.col("court") != court),
            categorical=REGRESSORS,
            reference=REFS,
            fixed_effects=["court", "period"],
        )
        mine = loco.by_court.filter(pl.col("court_left_out") == court)
        for row in mine.iter_rows(named=True):
            assert row["estimate"] == pytest.approx(direct.params_dict()[row["term"]], abs=1e-7)
    full = fit_grouped_logit(
        cells, categorical=REGRESSORS, reference=REFS, fixed_effects=["court", "period"]
    )
    s = loco.summary
    assert s["term"].to_list()[0] == "lead_charge_category[T.aggravated_felony]"
    for row in s.iter_rows(named=True):
        sub = loco.by_court.filter(pl.col("term") == row["term"])
        assert (
            row["min_estimate"] == sub["estimate"].min()
            and row["max_estimate"] == sub["estimate"].max()
        )
        at_min = sub.filter(pl.col("estimate") == row["min_estimate"])["court_left_out"][0]
        assert row["court_at_min_estimate"] == at_min
        assert row["full_estimate"] == pytest.approx(full.params_dict()[row["term"]], abs=1e-12)
        assert row["min_estimate"] < row["max_estimate"]


def _loco(cells, fast):
    return leave_one_court_out(
        cells,
        variable="lead_charge_category",
        categorical=REGRESSORS,
        reference=REFS,
        fixed_effects=["court", "period"],
        engine="sparse_newton",
        fast=fast,
    ).by_court.sort("court_left_out", "term")


def test_masked_refits_equal_plain_refits(cells):
    """The shortcut (the full design with one court masked, warm-started) gives every court's
    coefficients, clustered SEs, AMEs and AME SEs of the plain refit from scratch."""
    fast, plain = _loco(cells, True), _loco(cells, False)
    assert fast["court_left_out"].to_list() == plain["court_left_out"].to_list()
    assert fast["term"].to_list() == plain["term"].to_list()
    for col in ("estimate", "std_error", "ame", "ame_std_error"):
        np.testing.assert_allclose(
            fast[col].to_numpy(), plain[col].to_numpy(), rtol=1e-7, atol=1e-9
        )


def test_masked_refits_fall_back_where_a_level_lives_in_one_court(cells):
    """A nationality only one court has: leaving that court out empties its column, which the
    shortcut must not guess at; the plain refit reports it, and both paths agree."""
    one = cells["court"].unique().sort()[3]
    odd = cells.with_columns(
        pl.when((pl.col("court") == one) & (pl.col("nationality_group") == "other"))
        .then(pl.lit("only_here"))
        .otherwise(pl.col("nationality_group"))
        .alias("nationality_group")
    )
    fast, plain = _loco(odd, True), _loco(odd, False)
    for col in ("estimate", "ame"):
        np.testing.assert_allclose(
            fast[col].to_numpy(), plain[col].to_numpy(), rtol=1e-7, atol=1e-9
        )


def test_court_random_intercepts_recover_the_regressors():
    design = SimulationDesign(n_courts=12, n_periods=2)
    cells = collapse_to_cells(simulate_rows(20_000, seed=8, design=design))
    fit = fit_court_random_intercepts(
        cells,
        categorical=REGRESSORS,
        reference=reference_levels(design),
        fixed_effects=["period"],
    )
    d = fit.diagnostics
    assert d["n_rows_used"] == 20_000 and d["sampling_fraction"] == 1.0
    assert d["n_groups"] == 12
    truth = true_coefficients(design)
    fe = fit.fixed_effects.filter(pl.col("kind") == "regressor")
    assert fe.height == 11
    errors = {r["term"]: r["posterior_mean"] - truth[r["term"]] for r in fe.iter_rows(named=True)}
    assert max(abs(e) for e in errors.values()) < 0.2, errors
    # The court SD is estimated near the SD of the court effects actually drawn.
    drawn_sd = float(np.std(design.nuisance_effects()[0]))
    assert 0.5 * drawn_sd < fit.group_sd < 2.0 * drawn_sd
    assert fit.random_intercepts.height == 12


def test_random_intercepts_on_a_sample_of_rows(cells):
    fit = fit_court_random_intercepts(
        cells,
        categorical=["lead_charge_category"],
        fixed_effects=[],
        max_rows=5_000,
        seed=3,
    )
    d = fit.diagnostics
    assert d["sampling_fraction"] == pytest.approx(5_000 / 20_000)
    assert 4_500 < d["n_rows_used"] < 5_500


def test_random_intercepts_warm_started_at_the_fixed_effects_fit_reach_the_same_optimum():
    """Starting the variational means at the court fixed-effects logit changes the path, not
    the answer: the posterior means and SDs equal the cold start's."""
    design = SimulationDesign(n_courts=12, n_periods=2)
    cells = collapse_to_cells(simulate_rows(8_000, seed=5, design=design))
    kwargs = dict(
        categorical=["lead_charge_category", "custody"],
        reference={"lead_charge_category": "entry_without_inspection"},
        fixed_effects=["period"],
    )
    fe = fit_grouped_logit(
        cells,
        fixed_effects=["court", "period"],
        **{k: v for k, v in kwargs.items() if k != "fixed_effects"},
    )
    warm = fit_court_random_intercepts(cells, start=fe.params_dict(), **kwargs)
    cold = fit_court_random_intercepts(cells, **kwargs)
    assert warm.diagnostics["converged"] and cold.diagnostics["converged"]
    for col in ("posterior_mean", "posterior_sd"):
        np.testing.assert_allclose(
            warm.fixed_effects[col].to_numpy(), cold.fixed_effects[col].to_numpy(), atol=1e-4
        )
    assert warm.group_sd == pytest.approx(cold.group_sd, rel=1e-3)
    # The start is used: the optimizer gets there in fewer steps.
    assert warm.diagnostics["iterations"] < cold.diagnostics["iterations"]


def test_one_pass_elbo_gradient_equals_statsmodels():
    """The one-pass gradient is statsmodels' gradient: same values at arbitrary points, and the
    same fit."""
    from scipy import sparse
    from statsmodels.genmod.bayes_mixed_glm import BinomialBayesMixedGLM

    from pipelines.stats.mixed_vb import OnePassBinomialBayesMixedGLM

    rng = np.random.default_rng(4)
    m, k, g = 3_000, 6, 9
    X = np.column_stack([np.ones(m), (rng.random((m, k - 1)) < 0.3).astype(float)])
    codes = rng.integers(0, g, m)
    Z = sparse.csr_matrix((np.ones(m), (np.arange(m), codes)), shape=(m, g))
    y = (rng.random(m) < 0.3).astype(float)
    args = (y, X, Z, np.zeros(g, dtype=int))
    stock, mine = BinomialBayesMixedGLM(*args), OnePassBinomialBayesMixedGLM(*args)
    for _ in range(3):
        mean = rng.normal(size=k + 1 + g)
        sd = np.exp(rng.normal(scale=0.3, size=k + 1 + g) - 1)
        for a, b in zip(stock.vb_elbo_grad(mean, sd), mine.vb_elbo_grad(mean, sd), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)
        assert stock.vb_elbo(mean, sd) == pytest.approx(mine.vb_elbo(mean, sd), rel=1e-12)
    fa = stock.fit_vb(rng=np.random.default_rng(1))
    fb = mine.fit_vb(rng=np.random.default_rng(1))
    np.testing.assert_allclose(fa.fe_mean, fb.fe_mean, atol=1e-6)
    np.testing.assert_allclose(fa.vc_mean, fb.vc_mean, atol=1e-6)
