"""Small-cluster inference on cells, held to its definition computed on the rows."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from scipy.special import expit

from pipelines.stats import collapse_to_cells, fit_grouped_logit
from pipelines.stats.design import design_matrix, gram
from pipelines.stats.simulate import SimulationDesign, reference_levels, simulate_rows
from pipelines.stats.small_clusters import ScoreBootstrap, effective_clusters

REGRESSORS = ["lead_charge_category", "custody"]
DESIGN = SimulationDesign(n_courts=9, n_periods=2, court_size_concentration=0.7)
REFS = reference_levels(DESIGN)
TERM = "lead_charge_category[T.other_criminal]"


@pytest.fixture(scope="module")
def data():
    rows = simulate_rows(3_000, seed=21, design=DESIGN)
    cells = collapse_to_cells(rows, [*REGRESSORS, "court"])
    fit = fit_grouped_logit(cells, categorical=REGRESSORS, reference=REFS, fixed_effects=["court"])
    assert all(s == "estimated" for s in fit.status)
    return rows, fit


def _rowlevel_statistics(rows, fit, k, b0, weights):
    """T and T* from the module docstring's formulas, on the rows with statsmodels' fit."""
    X = design_matrix(rows, fit.spec)
    y = rows["pd_closure"].cast(pl.Float64).to_numpy()
    others = np.arange(X.shape[1]) != k
    res = sm.GLM(y, X[:, others], family=sm.families.Binomial(), offset=b0 * X[:, k]).fit(tol=1e-12)
    b = np.empty(X.shape[1])
    b[others], b[k] = res.params, b0
    p = expit(X @ b)
    courts = rows["court"].to_numpy()
    labels = np.unique(courts)
    U = np.array([(X[courts == c] * (y - p)[courts == c, None]).sum(axis=0) for c in labels])
    Hg = [gram(X[courts == c], (p * (1 - p))[courts == c]) for c in labels]
    H = sum(Hg)
    Hinv = np.linalg.inv(H)
    g = len(labels)

    def t_of(w):
        delta = Hinv @ (U.T @ w)
        resid = [w[i] * U[i] - Hg[i] @ delta for i in range(g)]
        v = g / (g - 1) * sum((Hinv @ r)[k] ** 2 for r in resid)
        return delta[k] / np.sqrt(v)

    return t_of(np.ones(g)), np.array([t_of(weights[:, j]) for j in range(weights.shape[1])])


@pytest.mark.parametrize("b0", [0.0, -0.4])
def test_score_bootstrap_equals_its_rowlevel_definition(data, b0):
    rows, fit = data
    k = fit.terms.index(TERM)
    boot = ScoreBootstrap.build(
        fit.X, fit.n, fit.y, fit.cells["court"].to_numpy(), k, fit.params, draws=50, seed=1
    )
    assert boot.weight_kind == "webb"  # 9 courts
    t, draws = boot.statistics(b0)
    t_ref, draws_ref = _rowlevel_statistics(rows, fit, k, b0, boot.weights)
    np.testing.assert_allclose(t, t_ref, rtol=1e-6)
    np.testing.assert_allclose(draws, draws_ref, rtol=1e-6)


def test_bootstrap_interval_contains_estimate_and_inverts_the_test(data):
    _, fit = data
    k = fit.terms.index(TERM)
    row = fit.coefficients.row(k, named=True)
    boot = ScoreBootstrap.build(
        fit.X, fit.n, fit.y, fit.cells["court"].to_numpy(), k, fit.params, draws=199, seed=2
    )
    lo, hi = boot.interval(row["estimate"], row["std_error"])
    assert lo < row["estimate"] < hi
    assert boot.p_value(lo - 0.05 * row["std_error"]) <= 0.05
    assert boot.p_value((lo + hi) / 2) > 0.05


def test_effective_clusters_equal_their_rowlevel_definition_and_fall_with_unequal_courts(data):
    rows, fit = data
    p = expit(fit.X @ fit.params)
    H_inv = np.linalg.inv(gram(fit.X, fit.n * p * (1 - p)))
    ours = effective_clusters(fit.X, fit.n, p, fit.cells["court"].to_numpy(), H_inv)
    # Row level: s_g = sum_i sqrt(p_i (1 - p_i)) x_i, gamma_g = (e_k' H^-1 s_g)^2.
    X = design_matrix(rows, fit.spec)
    pr = expit(X @ fit.params)
    courts = rows["court"].to_numpy()
    s = np.array(
        [
            (X[courts == c] * np.sqrt(pr * (1 - pr))[courts == c, None]).sum(0)
            for c in np.unique(courts)
        ]
    )
    gamma = (s @ H_inv) ** 2
    ref = len(s) / (1 + gamma.var(axis=0) / gamma.mean(axis=0) ** 2)
    np.testing.assert_allclose(ours, ref, rtol=1e-8)
    assert (ours <= len(s) + 1e-9).all()
    k = fit.terms.index(TERM)
    assert ours[k] < 0.9 * len(s)  # unequal courts (Dirichlet 0.7): fewer effective clusters
