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
