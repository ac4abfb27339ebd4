"""The grouped logit recovers known coefficients from data simulated with them."""

from __future__ import annotations

import numpy as np
import polars as pl

from pipelines.stats import collapse_to_cells, fit_grouped_logit
from pipelines.stats.simulate import (
    SimulationDesign,
    reference_levels,
    simulate_rows,
    true_coefficients,
)

REGRESSORS = ["lead_charge_category", "custody", "represented", "nationality_group", "nta_age_band"]
FE = ["court", "period"]


def test_clustered_95pct_intervals_cover_the_truth_in_most_replications():
    # 30 replications of 6,000 proceedings in 20 courts: each true regressor coefficient must lie
    # inside its court-clustered 95% CI in at least 80% of them (nominal 95%; with 20 clusters
    # a little under-coverage is expected, 80% still catches a wrong covariance).
    design = SimulationDesign(n_courts=20, n_periods=4)
    truth = true_coefficients(design)
    reps = 30
    covered: dict[str, int] = {}
    for rep in range(reps):
        fit = fit_grouped_logit(
            collapse_to_cells(simulate_rows(6_000, seed=1000 + rep, design=design)),
            categorical=REGRESSORS,
            reference=reference_levels(design),
            fixed_effects=FE,
        )
        regs = fit.coefficients.filter(pl.col("kind") == "regressor")
        assert (regs["status"] == "estimated").all()
        for row in regs.iter_rows(named=True):
            inside = row["ci_low"] <= truth[row["term"]] <= row["ci_high"]
            covered[row["term"]] = covered.get(row["term"], 0) + int(inside)
    assert len(covered) == 11
    coverage = {t: c / reps for t, c in covered.items()}
    assert min(coverage.values()) >= 0.8, coverage
    assert np.mean(list(coverage.values())) >= 0.88, coverage


def test_large_sample_point_estimates_are_close_to_the_truth():
    # 300,000 proceedings, 50 courts: every regressor within 0.05 of the truth on the logit scale
    # (the clustered SEs are about 0.01-0.03, so 0.05 allows for chance, not for bias).
    design = SimulationDesign()
    truth = true_coefficients(design)
    fit = fit_grouped_logit(
        collapse_to_cells(simulate_rows(300_000, seed=2024, design=design)),
        categorical=REGRESSORS,
        reference=reference_levels(design),
        fixed_effects=FE,
    )
    est = fit.params_dict()
    regs = [t for t, k in zip(fit.terms, fit.kinds, strict=True) if k == "regressor"]
    errors = {t: abs(est[t] - truth[t]) for t in regs}
    assert max(errors.values()) < 0.05, errors
    se = dict(zip(fit.coefficients["term"], fit.coefficients["std_error"], strict=True))
    assert max(se[t] for t in regs) < 0.05 / 1.5
    # The court fixed effects are recovered too, if less precisely (smaller courts).
    courts = [t for t in fit.terms if t.startswith("court[")]
    court_err = np.array([est[t] - truth[t] for t in courts])
    assert np.sqrt(np.mean(court_err**2)) < 0.1
    assert fit.diagnostics["n_clusters"] == 50
