"""Benchmark: grouped logit (collapse + fit) against the row-level statsmodels fit.

Both fits estimate the same model (lead-charge category, custody, representation [and, with
`full_controls`, nationality group and time-since-NTA band], court and period fixed effects,
standard errors clustered by court) on the same simulated rows. The grouped time includes the
polars group_by that collapses the rows to cells and is reported for both engines
("statsmodels": GLM Binomial on a dense design; "sparse_newton": Newton on the sparse design); the
row-level time is the statsmodels GLM(Binomial) fit with `cov_type='cluster'` on the row-level
design (building that design is timed separately).

Run: `OPENBLAS_NUM_THREADS=1 python -m benchmarks.models --rows 1000000 [--full-controls]`.
On a shared 2-core machine multi-threaded BLAS thrashes and makes every timing noisy (a grouped fit
took 1.2 s single-threaded and 4-7 s with the default threads); one thread compares like with like.
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
    """Simulate `n_rows` rows; time the grouped fit with each engine (collapse included) and the
    row-level statsmodels fit; return the times, speed-ups and largest differences."""
    design = SimulationDesign(n_courts=n_courts, n_periods=n_periods)
    rows = simulate_rows(n_rows, seed, design)
    regressors = ["lead_charge_category", "custody", "represented"]
    if full_controls:
        regressors += ["nationality_group", "nta_age_band"]
    refs = {k: v for k, v in reference_levels(design).items() if k in regressors}
    fixed_effects = ["court", "period"]

    def grouped_fit(engine: str):
        return fit_grouped_logit(
            cells,
            categorical=regressors,
            reference=refs,
            fixed_effects=fixed_effects,
            cluster="court",
            engine=engine,
        )

    # Warm-up on a slice so one-time costs (lazy imports, HiGHS start-up) are not timed.
    cells = collapse_to_cells(rows.head(20_000), [*regressors, *fixed_effects])
    grouped_fit("statsmodels"), grouped_fit("sparse_newton")

    t0 = perf_counter()
    cells = collapse_to_cells(rows, [*regressors, *fixed_effects])
    t1 = perf_counter()
    grouped = grouped_fit("statsmodels")
    t2 = perf_counter()
    fast = grouped_fit("sparse_newton")
    t3 = perf_counter()

    X = design_matrix(rows, grouped.spec)[:, grouped.estimated]
    y = rows.get_column("pd_closure").cast(pl.Float64).to_numpy()
    groups = rows.get_column("court").rank("dense").to_numpy()
    t4 = perf_counter()
    row_level = sm.GLM(y, X, family=sm.families.Binomial()).fit(
        tol=1e-10, cov_type="cluster", cov_kwds={"groups": groups}
    )
    t5 = perf_counter()

    row_params, row_se = np.asarray(row_level.params), np.asarray(row_level.bse)
    collapse, rowlevel = t1 - t0, t5 - t4
    out = {
        "n_rows": n_rows,
        "seed": seed,
        "full_controls": full_controls,
        "n_cells": cells.height,
        "n_params": int(grouped.estimated.sum()),
        "n_clusters": grouped.diagnostics["n_clusters"],
        "collapse_seconds": collapse,
        "rowlevel_design_seconds": t4 - t3,
        "rowlevel_fit_seconds": rowlevel,
    }
    for name, fit, seconds in (("statsmodels", grouped, t2 - t1), ("sparse_newton", fast, t3 - t2)):
        se = np.sqrt(np.diag(fit.cov))
        out[f"grouped_{name}_fit_seconds"] = seconds
        out[f"grouped_{name}_total_seconds"] = collapse + seconds
        out[f"speedup_{name}"] = rowlevel / (collapse + seconds)
        out[f"max_abs_coef_diff_{name}"] = float(np.max(np.abs(row_params - fit.params)))
        out[f"max_abs_se_diff_{name}"] = float(np.max(np.abs(row_se - se)))
        out[f"max_rel_se_diff_{name}"] = float(np.max(np.abs(row_se / se - 1)))
    # Linux reports ru_maxrss in KiB.
    out["peak_rss_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    return out


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
