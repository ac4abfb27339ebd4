"""Event study of monthly PD rates and the shrunken court-by-group table."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from pipelines.stats import collapse_to_cells
from pipelines.stats.heterogeneity import court_heterogeneity, event_study
from pipelines.stats.simulate import SimulationDesign, reference_levels, simulate_rows

GROUPS = {
    "entry_without_inspection": "immigration",
    "other_immigration": "immigration",
    "other_criminal": "criminal",
    "aggravated_felony": "criminal",
}
KEYS = ["lead_charge_category", "custody", "represented", "court", "period"]


def test_event_study_rates_intervals_and_pre_post_difference():
    months = [date(2011 + (m // 12), m % 12 + 1, 1) for m in range(24)]
    monthly = pl.DataFrame(
        {
            "month": months * 2,
            "lead_charge_category": ["other_criminal"] * 24 + ["entry_without_inspection"] * 24,
            "completions": [100] * 48,
            # criminal: 2% before 2011-11, 5% after; immigration: 10% throughout
            "pd_closures": [2 if m < date(2011, 11, 1) else 5 for m in months] + [10] * 24,
        }
    )
    out = event_study(monthly, [("review", "Case review", date(2011, 11, 17))], GROUPS)
    rates = out.filter(pl.col("measure") == "monthly_rate")
    assert set(rates["relative_month"]) == set(range(-6, 13))
    assert ((rates["ci_low"] >= 0) & (rates["ci_high"] <= 1)).all()
    assert (rates["ci_low"] <= rates["estimate"]).all() and (
        rates["estimate"] <= rates["ci_high"]
    ).all()
    diff = out.filter(pl.col("measure") == "post_minus_pre").sort("group")
    crim, imm = diff.row(0, named=True), diff.row(1, named=True)
    assert abs(crim["estimate"] - 0.03) < 1e-12 and crim["ci_low"] > 0
    assert abs(imm["estimate"]) < 1e-12 and imm["ci_low"] < 0 < imm["ci_high"]


def _table(design: SimulationDesign, seed: int):
    rows = simulate_rows(60_000, seed=seed, design=design).filter(
        pl.col("lead_charge_category").is_in(list(GROUPS))
    )
    cells = collapse_to_cells(rows, KEYS)
    return court_heterogeneity(
        cells,
        groups=GROUPS,
        reference_group="immigration",
        controls=["custody", "represented"],
        control_reference=reference_levels(design),
    )


def test_court_heterogeneity_finds_court_specific_effects_and_shrinks():
    base = dict(n_courts=20, n_periods=2, court_size_concentration=5.0, intercept=-1.0)
    hetero, d1 = _table(SimulationDesign(court_slope_sd=0.8, **base), seed=1)
    homo, d0 = _table(SimulationDesign(court_slope_sd=0.0, **base), seed=1)
    est = hetero.filter(pl.col("status") == "estimated")
    assert est.height >= 15
    assert d1["tau"] > 0.3 and d1["courts_differing_at_fdr"] >= 1
    # Without court-specific effects, BH keeps false discoveries rare and tau is small.
    assert d0["tau"] < 0.2 and d0["courts_differing_at_fdr"] <= 1
    # Shrinkage pulls every court towards the mean, never past it.
    mu = d1["mean_log_odds_ratio"]
    raw, shrunk = est["log_odds_ratio"].to_numpy(), est["shrunken_log_odds_ratio"].to_numpy()
    assert (np.abs(shrunk - mu) <= np.abs(raw - mu) + 1e-12).all()
    assert (np.sign(shrunk - mu) == np.sign(raw - mu)).all()
    assert {"n_group", "pd_closures_group", "n_reference", "pd_closures_reference"} <= set(
        hetero.columns
    )
