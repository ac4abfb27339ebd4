"""Benchmark: grouped logit (collapse + fit) against the row-level statsmodels fit.

Both fits estimate the same model (lead-charge category, custody, representation [and, with
`full_controls`, nationality group and time-since-NTA band], court and period fixed effects,
standard errors clustered by court) on the same simulated rows. The grouped time includes the
polars group_by that collapses the rows to cells; the row-level time is the statsmodels
GLM(Binomial) fit with `cov_type='cluster'` on the row-level design (building that design is timed
separately). Run: `python -m pipelines.stats.bench --rows 1000000`.
"""

from __future__ import annotations

import argparse
import json
import resource
from time import perf_counter

import numpy as np
import polars as pl
import statsmodels.api as sm

from pipelines.stats.cells import collapse_to_cells
from pipelines.stats.design import design_matrix
from pipelines.stats.grouped_logit import fit_grouped_logit
from pipelines.stats.simulate import SimulationDesign, reference_levels, simulate_rows


def bench_grouped_vs_rowlevel(
    n_rows: int,
    seed: int,
    *,
    full_controls: bool = False,
    n_courts: int = 50,
    n_periods: int = 8,
) -> dict:
    """Simulate `n_rows` rows, fit grouped and row-level, return times and the largest differences."""
    design = SimulationDesign(n_courts=n_courts, n_periods=n_periods)
    rows = simulate_rows(n_rows, seed, design)
    regressors = ["lead_charge_category", "custody", "represented"]
    if full_controls:
        regressors += ["nationality_group", "nta_age_band"]
    refs = {k: v for k, v in reference_levels(design).items() if k in regressors}
    fixed_effects = ["court", "period"]

    # Warm-up on a slice so one-time costs (lazy imports, HiGHS start-up) are not timed.
    warm = collapse_to_cells(rows.head(20_000), [*regressors, *fixed_effects])
    fit_grouped_logit(warm, categorical=regressors, reference=refs, fixed_effects=fixed_effects)

    t0 = perf_counter()
    cells = collapse_to_cells(rows, [*regressors, *fixed_effects])
    t1 = perf_counter()
    grouped = fit_grouped_logit(
        cells, categorical=regressors, reference=refs, fixed_effects=fixed_effects, cluster="court"
    )
    t2 = perf_counter()

    X = design_matrix(rows, grouped.spec)[:, grouped.estimated]
    y = rows.get_column("pd_closure").cast(pl.Float64).to_numpy()
    groups = rows.get_column("court").rank("dense").to_numpy()
    t3 = perf_counter()
    row_level = sm.GLM(y, X, family=sm.families.Binomial()).fit(
        tol=1e-10, cov_type="cluster", cov_kwds={"groups": groups}
    )
    t4 = perf_counter()

    grouped_total = t2 - t0
    return {
        "n_rows": n_rows,
        "seed": seed,
        "full_controls": full_controls,
        "n_cells": cells.height,
        "n_params": int(grouped.estimated.sum()),
        "n_clusters": grouped.diagnostics["n_clusters"],
        "collapse_seconds": t1 - t0,
        "grouped_fit_seconds": t2 - t1,
        "grouped_total_seconds": grouped_total,
        "rowlevel_design_seconds": t3 - t2,
        "rowlevel_fit_seconds": t4 - t3,
        "speedup_fit_only": (t4 - t3) / grouped_total,
        "speedup_including_design": (t4 - t2) / grouped_total,
        "max_abs_coef_diff": float(np.max(np.abs(np.asarray(row_level.params) - grouped.params))),
        "max_abs_se_diff": float(
            np.max(np.abs(np.asarray(row_level.bse) - np.sqrt(np.diag(grouped.cov))))
        ),
        "max_rel_se_diff": float(
            np.max(np.abs(np.asarray(row_level.bse) / np.sqrt(np.diag(grouped.cov)) - 1))
        ),
        # Linux reports ru_maxrss in KiB.
        "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--full-controls", action="store_true")
    args = parser.parse_args()
    print(
        json.dumps(
            bench_grouped_vs_rowlevel(args.rows, args.seed, full_controls=args.full_controls),
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
