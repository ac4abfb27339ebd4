"""Monte Carlo coverage of every interval the main model reports (SYNTHETIC data).

Each replication draws a small release from `pipelines.stats.simulate` with the things that break
naive inference switched on: charge mix correlated with the court's PD propensity, court-specific
category effects (dependence within court), 30 unequal courts, and a rare category (about 1.5%
of rows, a handful of PD closures, sometimes none), then fits the main model exactly as the
`pd_logit` asset does (`pipelines.stats.fit_release.fit_main_model`) and checks whether each
reported interval covers the data-generating value:

- coefficients of every regressor level: the reported interval (`ci_low`/`ci_high`: CRV1 Wald,
  or Firth's profile interval for rare and separated levels), and beside it the t(G-1) and the
  wild-score-bootstrap intervals where reported;
- predicted probabilities of every lead-charge level: truth is the average of the true
  probability over the estimation sample with everyone set to that level.

The court-specific deviations have mean zero over courts, so the target of the category
coefficients is the generator's average effect.

Usage: python benchmarks/monte_carlo_coverage.py [--reps 200] [--rows 3000] [--seed 1]
    [--draws 99] [--wild-every 4]
Prints one line per term and interval type: coverage, its Monte Carlo SE, and how many
replications reported that interval. Target: 92-98% for every row.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections import defaultdict

import numpy as np
import polars as pl
from scipy.special import expit

from pipelines.stats import collapse_to_cells
from pipelines.stats.design import design_matrix_sparse
from pipelines.stats.fit_release import fit_main_model
from pipelines.stats.simulate import (
    SimulationDesign,
    reference_levels,
    simulate_rows,
    true_coefficients,
)

DESIGN = SimulationDesign(
    intercept=-1.0,
    categories=(
        ("entry_without_inspection", 0.45, 0.0),
        ("other_immigration", 0.28, 0.35),
        ("other_criminal", 0.20, -0.7),
        ("aggravated_felony", 0.055, -1.0),
        ("national_security", 0.015, -1.8),
    ),
    n_courts=30,
    n_periods=2,
    court_size_concentration=1.0,
    court_category_tilt=0.5,
    court_slope_sd=0.15,
)
REGRESSORS = ["lead_charge_category", "custody", "represented", "nationality_group", "nta_age_band"]
KEYS = [*REGRESSORS, "court", "period"]


def replicate(seed: int, n_rows: int, draws: int) -> list[tuple[str, str, bool, str]]:
    """One replication; `draws` = 0 skips the wild bootstrap (its test inversion refits the model
    a few dozen times and dominates the run time)."""
    rows = simulate_rows(n_rows, seed=seed, design=DESIGN)
    cells = collapse_to_cells(rows, KEYS)
    model = fit_main_model(
        cells,
        categorical=REGRESSORS,
        reference=reference_levels(DESIGN),
        fixed_effects=["court", "period"],
        bootstrap_draws=draws,
        seed=seed,
        engine="sparse_newton",
    )
    truth = true_coefficients(DESIGN)
    out = []
    coef = model.tables["coefficients"].filter(pl.col("kind") == "regressor")
    for r in coef.iter_rows(named=True):
        b = truth[r["term"]]
        kinds = [("reported", "ci_low", "ci_high"), ("t", "ci_low_t", "ci_high_t")]
        kinds.append(("wild", "ci_low_wild", "ci_high_wild"))
        for kind, lo, hi in kinds:
            if r[lo] is None or r[hi] is None or not np.isfinite(r[lo]) or not np.isfinite(r[hi]):
                continue
            out.append((r["term"], kind, r[lo] <= b <= r[hi], r["inference"]))
    # Predicted probabilities: truth on the estimation sample.
    fit = model.fit
    beta = np.array([truth.get(t, 0.0) for t in fit.terms])
    for r in model.tables["predicted_probabilities"].iter_rows(named=True):
        cf = fit.cells.with_columns(pl.lit(r["level"]).alias("lead_charge_category"))
        p_true = float(fit.n @ expit(design_matrix_sparse(cf, fit.spec) @ beta) / fit.n.sum())
        if r["ci_low"] is None or r["ci_high"] is None:
            continue
        ok = r["ci_low"] <= p_true <= r["ci_high"]
        out.append((f"P({r['level']})", "reported", ok, r["inference"]))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--rows", type=int, default=3_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--draws", type=int, default=99, help="wild bootstrap draws per test")
    ap.add_argument(
        "--wild-every", type=int, default=4, help="run the wild bootstrap in every k-th replication"
    )
    args = ap.parse_args(argv)
    hits: dict[tuple[str, str], list[bool]] = defaultdict(list)
    firth: dict[str, int] = defaultdict(int)
    start = time.time()
    # Near-singular information far along a profile is expected (counted in the fit's
    # diagnostics); the table below is what this script is for.
    warnings.simplefilter("ignore", category=RuntimeWarning)
    done = 0
    try:
        for i in range(args.reps):
            if i and i % 10 == 0:
                print(f"{i} replications, {time.time() - start:.0f} s", file=sys.stderr, flush=True)
            draws = args.draws if i % args.wild_every == 0 else 0
            for term, kind, ok, inference in replicate(args.seed + i, args.rows, draws):
                hits[(term, kind)].append(ok)
                if kind == "reported" and inference == "firth_profile_likelihood":
                    firth[term] += 1
            done += 1
    except KeyboardInterrupt:  # report what was done (e.g. under `timeout -s INT`)
        print(f"interrupted after {done} replications", file=sys.stderr)
    print(
        f"SYNTHETIC Monte Carlo: {done} replications of {args.rows} rows, "
        f"{DESIGN.n_courts} courts, {time.time() - start:.0f} s"
    )
    print(f"{'term':55s} {'interval':9s} {'coverage':>8s} {'mc_se':>6s} {'reps':>5s} {'firth':>5s}")
    worst = 1.0
    for (term, kind), v in sorted(hits.items()):
        cov = float(np.mean(v))
        se = float(np.sqrt(cov * (1 - cov) / len(v)))
        worst = min(worst, cov) if kind == "reported" else worst
        f = firth.get(term, 0) if kind == "reported" else 0
        print(f"{term:55s} {kind:9s} {cov:8.3f} {se:6.3f} {len(v):5d} {f:5d}")
    print(f"lowest coverage of a reported interval: {worst:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
