"""Deterministic demo inputs in each chart family's input layout, sized like the sample's marts.

For the export benchmark and for looking at the charts before the marts exist; numbers are
drawn from a seeded generator and mean nothing (release id ``synthetic-demo``).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

DEMO_CATEGORIES: tuple[tuple[str, str], ...] = (
    ("national_security", "National security or terrorism"),
    ("aggravated_felony", "Aggravated felony"),
    ("other_criminal", "Other criminal"),
    ("entry_without_inspection", "Entry without inspection"),
    ("other_immigration", "Other immigration"),
    ("miscellaneous", "Miscellaneous"),
)


def closures_frame(seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    pending = np.array([40, 9_000, 21_000, 160_000, 95_000, 3_000]) * rng.uniform(0.9, 1.1, 6)
    rate = np.array([0.1, 0.004, 0.012, 0.045, 0.05, 0.02])
    pd_n = rng.poisson(pending * rate)
    pending_n = pending.round().astype(int)
    return pl.DataFrame(
        {
            "lead_charge_category": [k for k, _ in DEMO_CATEGORIES],
            "category_label": [v for _, v in DEMO_CATEGORIES],
            "pd_closures": pd_n.astype(np.int64),
            "pct_of_pd_closures": 100 * pd_n / pd_n.sum(),
            "pending_cases": pending_n.astype(np.int64),
            "pending_share": 100 * pending_n / pending_n.sum(),
        }
    )


def rates_frame(seed: int = 0, start: date = date(2009, 10, 1), quarters: int = 52) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    base = {
        k: b
        for (k, _), b in zip(DEMO_CATEGORIES, [0.0, 0.004, 0.01, 0.04, 0.05, 0.02], strict=True)
    }
    size = {
        k: s for (k, _), s in zip(DEMO_CATEGORIES, [3, 800, 2500, 18000, 9000, 600], strict=True)
    }
    for q in range(quarters):
        month = start.month - 1 + 3 * q
        period = date(start.year + month // 12, month % 12 + 1, 1)
        boost = 2.5 if date(2011, 11, 17) <= period < date(2013, 7, 1) else 1.0
        if period >= date(2017, 2, 20):
            boost = 0.2
        for k, label in DEMO_CATEGORIES:
            n = int(rng.poisson(size[k]))
            pd_n = int(rng.binomial(n, min(0.9, base[k] * boost))) if n else 0
            rows.append(
                {
                    "period": period,
                    "lead_charge_category": k,
                    "category_label": label,
                    "completions": n,
                    "pd_closures": pd_n,
                    "pd_rate": pd_n / n if n else None,
                }
            )
    return pl.DataFrame(rows)


def courts_frame(seed: int = 0, n_courts: int = 58) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    completions = rng.lognormal(7.5, 1.1, n_courts).round().astype(np.int64) + 5
    rate = rng.beta(2, 40, n_courts)
    pd_n = rng.binomial(completions, rate)
    return pl.DataFrame(
        {
            "court": [f"Court {i:02d}" for i in range(n_courts)],
            "completions": completions,
            "pd_closures": pd_n.astype(np.int64),
        }
    )


def forest_frame(seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i, (_, label) in enumerate(DEMO_CATEGORIES):
        if label == "Entry without inspection":
            rows.append(
                {
                    "term": label,
                    "estimate": 1.0,
                    "ci_low": None,
                    "ci_high": None,
                    "is_reference": True,
                }
            )
            continue
        log_or = rng.normal([-3.0, -1.6, -0.9, 0.0, 0.2, -0.4][i], 0.1)
        se = [0.9, 0.12, 0.08, 0.05, 0.06, 0.15][i]
        rows.append(
            {
                "term": label,
                "estimate": float(np.exp(log_or)),
                "ci_low": float(np.exp(log_or - 1.96 * se)),
                "ci_high": float(np.exp(log_or + 1.96 * se)),
                "is_reference": False,
            }
        )
    return pl.DataFrame(rows)


def era_gap_frame(seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    eras = ["Pre-Morton", "Morton", "Johnson", "2017-2021", "Mayorkas"]
    # Probability differences (AME units), not percentage points.
    gaps = rng.normal([-0.005, -0.031, -0.024, -0.003, -0.018], 0.002)
    se = np.array([0.003, 0.0035, 0.004, 0.002, 0.006])
    return pl.DataFrame(
        {"era": eras, "estimate": gaps, "ci_low": gaps - 1.96 * se, "ci_high": gaps + 1.96 * se}
    )


def removals_frame(seed: int = 0, years: range = range(2008, 2024)) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for fy in years:
        total = int(rng.normal(330_000, 60_000))
        shares = rng.dirichlet([6, 2, 4, 8])
        ice = dict(zip(["1", "2", "3", "none"], (shares * total).astype(int).tolist(), strict=True))
        # Setting immigration-only convictions aside moves people from levels 2/3 to "none".
        moved2, moved3 = int(ice["2"] * 0.15), int(ice["3"] * rng.uniform(0.3, 0.5))
        adjusted = {
            "1": ice["1"],
            "2": ice["2"] - moved2,
            "3": ice["3"] - moved3,
            "none": ice["none"] + moved2 + moved3,
        }
        for excluded, levels in ((False, ice), (True, adjusted)):
            for level, n in levels.items():
                rows.append(
                    {
                        "fiscal_year": fy,
                        "threat_level": level,
                        "immigration_only_excluded": excluded,
                        "removals": n,
                    }
                )
    return pl.DataFrame(rows)


def demo_frames(seed: int = 0) -> dict[str, pl.DataFrame]:
    return {
        "closures": closures_frame(seed),
        "rates_over_time": rates_frame(seed),
        "courts": courts_frame(seed),
        "forest": forest_frame(seed),
        "era_gap": era_gap_frame(seed),
        "removals": removals_frame(seed),
    }
