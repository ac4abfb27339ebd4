"""Simulation tests that can fail: each names the error it guards against and, in the same test,
shows that the estimator with that error (a mutation) fails the same criterion.

- within-court dependence (court-specific category effects): the CRV1 SE must match the spread of
  the estimates over replications; with clustering dropped (cluster=None) it does not;
- charge mix correlated with the court's PD propensity: with court fixed effects the estimate is
  within sampling error of the truth; with the court fixed effects left out it is not;
- a rare category (about 1.5 PD closures expected, often none): the reported interval (Firth,
  profile likelihood) covers the true predicted probability in most replications; the ML Wald
  interval (what the tables reported before, separation mishandled) does not.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy.special import expit

from pipelines.stats import collapse_to_cells, fit_grouped_logit
from pipelines.stats.design import design_matrix_sparse
from pipelines.stats.fit_release import fit_main_model
from pipelines.stats.simulate import (
    SimulationDesign,
    reference_levels,
    simulate_rows,
    true_coefficients,
)

REGRESSORS = ["lead_charge_category", "custody", "represented", "nationality_group", "nta_age_band"]
KEYS = [*REGRESSORS, "court", "period"]
TERM = "lead_charge_category[T.other_immigration]"


def _fit(rows: pl.DataFrame, design: SimulationDesign, **kwargs):
    kwargs.setdefault("fixed_effects", ["court", "period"])
    return fit_grouped_logit(
        collapse_to_cells(rows, KEYS),
        categorical=REGRESSORS,
        reference=reference_levels(design),
        engine="sparse_newton",
        **kwargs,
    )


def _se_calibrated(estimates: list[float], ses: list[float]) -> bool:
    """Mean reported SE within [0.7, 1.4] x the SD of the estimates (25 replications: the
    SD itself has a relative sampling error of about 14%)."""
    ratio = float(np.mean(ses) / np.std(estimates, ddof=1))
    return 0.7 <= ratio <= 1.4


def test_clustered_se_tracks_within_court_dependence_and_unclustered_does_not():
    design = SimulationDesign(n_courts=20, n_periods=2, court_slope_sd=0.6)
    est, se_crv1, se_model = [], [], []
    for seed in range(25):
        rows = simulate_rows(4_000, seed=100 + seed, design=design)
        clustered = _fit(rows, design, cluster="court")
        naive = _fit(rows, design, cluster=None)  # mutation: clustering dropped
        row = clustered.coefficients.filter(pl.col("term") == TERM).row(0, named=True)
        est.append(row["estimate"])
        se_crv1.append(row["std_error"])
        se_model.append(naive.coefficients.filter(pl.col("term") == TERM)["std_error"][0])
    assert _se_calibrated(est, se_crv1)
    assert not _se_calibrated(est, se_model)


def _within_sampling_error(fit, truth: dict[str, float], term: str) -> bool:
    row = fit.coefficients.filter(pl.col("term") == term).row(0, named=True)
    return abs(row["estimate"] - truth[term]) < 3 * row["std_error"]


def test_court_fixed_effects_remove_court_confounding_and_leaving_them_out_does_not():
    design = SimulationDesign(n_courts=25, n_periods=2, court_sd=0.8, court_category_tilt=1.5)
    rows = simulate_rows(40_000, seed=7, design=design)
    truth = true_coefficients(design)
    term = "lead_charge_category[T.other_criminal]"
    assert _within_sampling_error(_fit(rows, design), truth, term)
    # Mutation: court fixed effects left out.
    assert not _within_sampling_error(_fit(rows, design, fixed_effects=["period"]), truth, term)


RARE = SimulationDesign(
    intercept=-1.0,
    categories=(
        ("entry_without_inspection", 0.55, 0.0),
        ("other_immigration", 0.30, 0.35),
        ("other_criminal", 0.14, -0.7),
        ("national_security", 0.01, -3.5),
    ),
    n_courts=15,
    n_periods=2,
)


@pytest.fixture(scope="module")
def rare_replications():
    out = []
    for seed in range(20):
        rows = simulate_rows(3_000, seed=500 + seed, design=RARE)
        cells = collapse_to_cells(rows, KEYS)
        model = fit_main_model(
            cells,
            categorical=REGRESSORS,
            reference=reference_levels(RARE),
            fixed_effects=["court", "period"],
            bootstrap_draws=99,
            engine="sparse_newton",
        )
        fit = model.fit
        truth = true_coefficients(RARE)
        beta = np.array([truth.get(t, 0.0) for t in fit.terms])
        cf = fit.cells.with_columns(pl.lit("national_security").alias("lead_charge_category"))
        p_true = float(fit.n @ expit(design_matrix_sparse(cf, fit.spec) @ beta) / fit.n.sum())
        reported = model.tables["predicted_probabilities"].filter(
            pl.col("level") == "national_security"
        )
        ml = fit.predicted_probabilities("lead_charge_category").filter(
            pl.col("level") == "national_security"
        )
        out.append((p_true, reported.row(0, named=True), ml.row(0, named=True)))
    return out


def _coverage(pairs) -> float:
    hits = [
        r["ci_low"] is not None
        and r["ci_high"] is not None
        and np.isfinite(r["ci_low"])
        and r["ci_low"] <= p <= r["ci_high"]
        for p, r in pairs
    ]
    return float(np.mean(hits))


def test_rare_category_interval_covers_and_ml_wald_does_not(rare_replications):
    statuses = {r["status"] for _, r, _ in rare_replications}
    assert statuses <= {"rare", "separated"} and "separated" in statuses
    for _, r, _ in rare_replications:
        assert r["std_error"] is None or not np.isfinite(r["std_error"])
    assert _coverage([(p, r) for p, r, _ in rare_replications]) >= 0.85
    # Mutation: separation mishandled, the ML fit's Wald interval kept for the rare level.
    assert _coverage([(p, m) for p, _, m in rare_replications]) < 0.85
