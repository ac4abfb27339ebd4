"""Small input frames in each chart family's documented layout, written here by the tests."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from pipelines.charts.provenance import Provenance

CATEGORIES = [
    ("aggravated_felony", "Aggravated felony"),
    ("other_criminal", "Other criminal"),
    ("entry_without_inspection", "Entry without inspection"),
    ("other_immigration", "Other immigration"),
]


@pytest.fixture
def synthetic_provenance() -> Provenance:
    return Provenance(
        "EOIR case data (FOIA)",
        "synthetic-2026-04",
        date(2011, 12, 1),
        date(2013, 6, 30),
        generated=date(2026, 4, 30),
        code_version="pd-pipeline 0.1.0 (git abc1234def)",
    )


@pytest.fixture
def real_provenance() -> Provenance:
    return Provenance(
        "EOIR case data (FOIA)",
        "2026-04",
        date(2011, 12, 1),
        date(2013, 6, 30),
        generated=date(2026, 4, 30),
        code_version="pd-pipeline 0.1.0 (git abc1234def)",
    )


def closures_input(small: bool = False) -> pl.DataFrame:
    counts = [4 if small else 40, 250, 6400, 5000]
    pending = [8600, 19000, 144000, 101000]
    total, ptotal = sum(counts), sum(pending)
    return pl.DataFrame(
        {
            "lead_charge_category": [k for k, _ in CATEGORIES],
            "category_label": [v for _, v in CATEGORIES],
            "pd_closures": counts,
            "pct_of_pd_closures": [100 * c / total for c in counts],
            "pending_cases": pending,
            "pending_share": [100 * p / ptotal for p in pending],
        }
    )


def rates_input() -> pl.DataFrame:
    rows = []
    for q in range(12):
        period = date(2010 + (q * 3) // 12, (q * 3) % 12 + 1, 1)
        for i, (key, label) in enumerate(CATEGORIES):
            completions = 500 * (i + 1) + 10 * q
            pd_n = 3 if (i == 0 and q % 4 == 0) else 20 + q * (i + 1)
            rows.append(
                {
                    "period": period,
                    "lead_charge_category": key,
                    "category_label": label,
                    "completions": completions,
                    "pd_closures": pd_n,
                    "pd_rate": pd_n / completions,
                }
            )
    return pl.DataFrame(rows)


def courts_input() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "court": ["Arlington", "Baltimore", "Chicago", "Dallas", "El Paso", "Fresno"],
            "completions": [1200, 800, 3000, 2500, 40, 700],
            "pd_closures": [60, 12, 210, 0, 5, 35],
        }
    )


def forest_input() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "term": [v for _, v in CATEGORIES],
            "estimate": [0.2, 0.45, 1.0, 1.2],
            "ci_low": [0.15, 0.38, None, 1.1],
            "ci_high": [0.27, 0.53, None, 1.31],
            "is_reference": [False, False, True, False],
        }
    )


def era_gap_input() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "era": ["Morton", "Pre-Morton", "Johnson", "2017-2021", "Mayorkas"],
            "estimate": [-0.031, -0.005, -0.024, -0.003, -0.018],
            "ci_low": [-0.038, -0.011, -0.032, -0.007, -0.03],
            "ci_high": [-0.024, 0.001, -0.016, 0.001, -0.006],
        }
    )


def removals_input() -> pl.DataFrame:
    rows = []
    for fy in (2011, 2012, 2013):
        ice = {"1": 150_000, "2": 40_000, "3": 60_000 + fy, "none": 160_000}
        adjusted = {"1": 150_000, "2": 34_000, "3": 30_000, "none": 196_000 + fy}
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


def event_study_input() -> pl.DataFrame:
    """Two policy dates, two groups, months -6 to 12; one small month per group (suppressed)."""
    rows = []
    for policy, on in (("Morton PD", date(2011, 6, 17)), ("Case review", date(2011, 11, 17))):
        for group, base in (("criminal", 0.01), ("immigration", 0.04)):
            for m in range(-6, 13):
                n = 8 if m == -3 else 120 + 5 * m
                k = round(n * (base + (0.05 if m >= 0 and group == "immigration" else 0.0)))
                k = 3 if m == 4 else k
                rows.append(
                    {
                        "policy": policy,
                        "policy_date": on,
                        "group": group,
                        "relative_month": m,
                        "completions": n,
                        "pd_closures": k,
                        "estimate": k / n,
                        "ci_low": max(0.0, k / n - 0.03),
                        "ci_high": min(1.0, k / n + 0.03),
                    }
                )
    return pl.DataFrame(rows)


FAMILY_INPUTS = {
    "event_study": event_study_input,
    "closures": closures_input,
    "rates_over_time": rates_input,
    "courts": courts_input,
    "forest": forest_input,
    "era_gap": era_gap_input,
    "removals": removals_input,
}
