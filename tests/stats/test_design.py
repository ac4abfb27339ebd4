"""The design matrix helpers the fits share: the reused X'WX product and counterfactual codes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from pipelines.stats import collapse_to_cells
from pipelines.stats.design import (
    GramPlan,
    counterfactual_codes,
    design_from_codes,
    design_matrix_sparse,
    factor_codes,
    gram,
    make_spec,
)
from pipelines.stats.simulate import SimulationDesign, reference_levels, simulate_rows

REGRESSORS = ["lead_charge_category", "custody", "represented"]
DESIGN = SimulationDesign(n_courts=12, n_periods=3)


@pytest.fixture(scope="module")
def cells():
    return collapse_to_cells(
        simulate_rows(6_000, seed=11, design=DESIGN), [*REGRESSORS, "court", "period"]
    )


@pytest.fixture(scope="module")
def spec(cells):
    return make_spec(cells, REGRESSORS, reference_levels(DESIGN), ["court", "period"], ())


def test_gram_plan_equals_the_sparse_product(cells, spec):
    """Rows with every factor at its reference (intercept only) and rows with all factors on,
    several weight vectors on one plan, and a column-subset design (the bootstrap's)."""
    X = design_matrix_sparse(cells, spec)
    counts = np.diff(X.indptr)
    assert counts.min() < counts.max()  # rows of different widths: the padding is exercised
    plan = GramPlan(X)
    assert not plan.general
    rng = np.random.default_rng(3)
    for _ in range(3):
        w = rng.random(X.shape[0])
        np.testing.assert_allclose(plan(w), gram(X, w), rtol=1e-12, atol=1e-12)
    Xo = sparse.csr_matrix(X[:, np.arange(X.shape[1]) != 2])
    w = rng.random(X.shape[0])
    np.testing.assert_allclose(GramPlan(Xo)(w), gram(Xo, w), rtol=1e-12, atol=1e-12)


def test_gram_plan_of_a_design_that_is_not_0_1_is_the_general_product():
    X = sparse.csr_matrix(np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 3.0], [1.0, 0.0, 0.0]]))
    plan = GramPlan(X)
    assert plan.general
    w = np.array([0.5, 2.0, 1.0])
    np.testing.assert_allclose(plan(w), X.T.toarray() @ np.diag(w) @ X.toarray())


def test_counterfactual_codes_give_the_design_of_the_changed_cells(cells, spec):
    import polars as pl

    codes = factor_codes(cells, spec)
    for level in spec.factor("lead_charge_category").levels:
        direct = design_matrix_sparse(
            cells.with_columns(
                pl.lit(level)
                .cast(cells.schema["lead_charge_category"])
                .alias("lead_charge_category")
            ),
            spec,
        )
        cf = counterfactual_codes(codes, spec, "lead_charge_category", level)
        assert (design_from_codes(cf, cells.height, spec) != direct).nnz == 0
    with pytest.raises(ValueError, match="not among the model's levels"):
        counterfactual_codes(codes, spec, "lead_charge_category", "no_such_level")
