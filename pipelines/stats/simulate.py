"""Direct simulator: row-level PD-closure data with known logit coefficients.

Each row is a proceeding with a lead-charge category, custody, representation, nationality group,
time-since-NTA band, court and period, drawn with the shares in `SimulationDesign` (independently
of each other unless the design correlates charge mix with court or adds court-specific category
effects; see `SimulationDesign`).
Its PD-closure probability is

    logit p = intercept + category + custody + represented + nationality + age band
              + court effect + period effect,

with the effects given in the design (court and period effects are drawn once from
`effects_seed`, so the truth does not change between replications that only change `seed`).
`true_coefficients` expresses the truth in the model's parametrization (reference levels first,
court and period effects relative to the first court / period), keyed by the term names that
`fit_grouped_logit` reports. Column names and cell keys are those of the mart (see `cells.CELL_KEYS`).

The level names are illustrative stand-ins for the classification's categories; the estimators do
not depend on them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.special import expit

# (level, share, coefficient); the first level is the reference (coefficient 0).
Levels = tuple[tuple[str, float, float], ...]


@dataclass(frozen=True)
class SimulationDesign:
    intercept: float = -2.0
    categories: Levels = (
        ("entry_without_inspection", 0.40, 0.0),
        ("other_immigration", 0.27, 0.35),
        ("other_criminal", 0.17, -0.7),
        ("aggravated_felony", 0.10, -1.4),
        ("national_security", 0.06, -1.0),
    )
    custody: Levels = (("not_detained", 0.7, 0.0), ("detained", 0.3, -0.9))
    represented_share: float = 0.55
    represented_coef: float = 0.6
    nationality_groups: Levels = (
        ("mexico", 0.40, 0.0),
        ("central_america", 0.35, 0.25),
        ("other", 0.25, 0.45),
    )
    nta_age_bands: Levels = (
        ("0-1y", 0.30, 0.0),
        ("1-2y", 0.30, 0.2),
        ("2-4y", 0.25, 0.4),
        ("4y+", 0.15, 0.6),
    )
    n_courts: int = 50
    court_sd: float = 0.5
    court_size_concentration: float = 2.0  # Dirichlet parameter: smaller = more unequal courts
    n_periods: int = 8
    first_period_year: int = 2012  # periods are quarters from Q1 of this year
    period_sd: float = 0.3
    effects_seed: int = 2011
    # Dependence and confounding the estimators must survive (all off by default):
    # - court_category_tilt: the share of each non-reference lead-charge category in a court is
    #   multiplied by exp(tilt * court effect / court_sd), so charge mix is correlated with the
    #   court's PD propensity (leaving out court fixed effects biases the category effects);
    # - court_slope_sd: each court gets its own deviation, N(0, sd^2), from the category
    #   effects (one draw per court and non-reference category, redrawn in every replication),
    #   so rows of a court are dependent beyond the court intercept (unclustered SEs are too
    #   small). The truth reported is the average effect (the deviations have mean zero).
    court_category_tilt: float = 0.0
    court_slope_sd: float = 0.0

    def courts(self) -> list[str]:
        return [f"C{i + 1:03d}" for i in range(self.n_courts)]

    def periods(self) -> list[str]:
        y0 = self.first_period_year
        return [f"{y0 + i // 4}Q{i % 4 + 1}" for i in range(self.n_periods)]

    def nuisance_effects(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Court effects, period effects and court shares, fixed by `effects_seed`."""
        rng = np.random.default_rng(self.effects_seed)
        court = rng.normal(0.0, self.court_sd, self.n_courts)
        period = rng.normal(0.0, self.period_sd, self.n_periods)
        shares = rng.dirichlet(np.full(self.n_courts, self.court_size_concentration))
        return court, period, shares

    def court_slopes(self, rng: np.random.Generator) -> np.ndarray:
        """Court x category deviations (courts x categories; reference column 0), mean zero."""
        slopes = rng.normal(0.0, self.court_slope_sd, (self.n_courts, len(self.categories)))
        slopes -= slopes.mean(axis=0)
        slopes[:, 0] = 0.0
        return slopes


def _draw(rng: np.random.Generator, levels: Levels, size: int) -> tuple[np.ndarray, np.ndarray]:
    shares = np.array([s for _, s, _ in levels])
    codes = rng.choice(len(levels), size=size, p=shares / shares.sum())
    return codes, np.array([c for _, _, c in levels])[codes]


def _labels(names: list[str], codes: np.ndarray, column: str) -> pl.Series:
    return pl.Series(names, dtype=pl.String).gather(pl.Series(codes, dtype=pl.UInt32)).alias(column)


def simulate_rows(n_rows: int, seed: int, design: SimulationDesign | None = None) -> pl.DataFrame:
    """`n_rows` simulated proceedings with a boolean `pd_closure` outcome."""
    d = design or SimulationDesign()
    rng = np.random.default_rng(seed)
    court_eff, period_eff, court_shares = d.nuisance_effects()
    eta = np.full(n_rows, d.intercept)
    court = rng.choice(d.n_courts, size=n_rows, p=court_shares)
    columns = []
    cat_shares = np.array([sh for _, sh, _ in d.categories])
    tilt = np.exp(d.court_category_tilt * court_eff / max(d.court_sd, 1e-12))
    # Per-court category shares: non-reference categories scaled by the court's tilt.
    by_court = np.tile(cat_shares, (d.n_courts, 1))
    by_court[:, 1:] *= tilt[:, None]
    by_court /= by_court.sum(axis=1, keepdims=True)
    u = rng.random(n_rows)
    cat = (u[:, None] > np.cumsum(by_court[court], axis=1)).sum(axis=1)
    cat = np.minimum(cat, len(d.categories) - 1)
    eta += np.array([c for _, _, c in d.categories])[cat] + d.court_slopes(rng)[court, cat]
    columns.append(_labels([lv for lv, _, _ in d.categories], cat, "lead_charge_category"))
    for column, levels in (
        ("custody", d.custody),
        ("nationality_group", d.nationality_groups),
        ("nta_age_band", d.nta_age_bands),
    ):
        codes, effect = _draw(rng, levels, n_rows)
        eta += effect
        columns.append(_labels([lv for lv, _, _ in levels], codes, column))
    represented = rng.random(n_rows) < d.represented_share
    eta += d.represented_coef * represented
    period = rng.integers(0, d.n_periods, size=n_rows)
    eta += court_eff[court] + period_eff[period]
    pd_closure = rng.random(n_rows) < expit(eta)
    return pl.DataFrame(
        [
            columns[0],
            columns[1],
            pl.Series("represented", represented),
            columns[2],
            columns[3],
            _labels(d.courts(), court, "court"),
            _labels(d.periods(), period, "period"),
            pl.Series("pd_closure", pd_closure),
        ]
    )


def true_coefficients(design: SimulationDesign | None = None) -> dict[str, float]:
    """The data-generating coefficients under the model's parametrization, by term name."""
    d = design or SimulationDesign()
    court_eff, period_eff, _ = d.nuisance_effects()
    truth = {"Intercept": d.intercept + court_eff[0] + period_eff[0]}
    for column, levels in (
        ("lead_charge_category", d.categories),
        ("custody", d.custody),
        ("nationality_group", d.nationality_groups),
        ("nta_age_band", d.nta_age_bands),
    ):
        ref = levels[0][2]
        for level, _, coef in levels[1:]:
            truth[f"{column}[T.{level}]"] = coef - ref
    truth["represented[T.True]"] = d.represented_coef
    for name, eff in zip(d.courts()[1:], court_eff[1:], strict=True):
        truth[f"court[T.{name}]"] = eff - court_eff[0]
    for name, eff in zip(d.periods()[1:], period_eff[1:], strict=True):
        truth[f"period[T.{name}]"] = eff - period_eff[0]
    return truth


def reference_levels(design: SimulationDesign | None = None) -> dict[str, object]:
    """The reference level of each regressor in the simulated data (the first listed level)."""
    d = design or SimulationDesign()
    return {
        "lead_charge_category": d.categories[0][0],
        "custody": d.custody[0][0],
        "represented": False,
        "nationality_group": d.nationality_groups[0][0],
        "nta_age_band": d.nta_age_bands[0][0],
    }
