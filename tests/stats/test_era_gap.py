"""The category gap by era: recovered from data whose category effects change between eras."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest
from scipy.special import expit

from pipelines.stats import collapse_to_cells, fit_era_gap
from pipelines.stats.eras import era_of
from pipelines.stats.simulate import SimulationDesign, reference_levels, simulate_rows

KEYS = [
    "lead_charge_category",
    "custody",
    "represented",
    "nationality_group",
    "nta_age_band",
    "court",
    "period",
]


def _design(first_year: int, felony: float) -> SimulationDesign:
    # Same courts and shares; quarters from `first_year`; a different aggravated-felony effect.
    base = SimulationDesign(n_courts=10, n_periods=8, first_period_year=first_year)
    cats = tuple(
        (lv, s, felony if lv == "aggravated_felony" else c) for lv, s, c in base.categories
    )
    return SimulationDesign(n_courts=10, n_periods=8, first_period_year=first_year, categories=cats)


def _quarter_start(period: str) -> date:
    return date(int(period[:4]), 3 * (int(period[-1]) - 1) + 1, 1)


@pytest.fixture(scope="module")
def rows() -> pl.DataFrame:
    # 2012-2013 (Morton era, felony effect -2.0) and 2015-2016 (Johnson era, felony effect -0.5).
    parts = [
        simulate_rows(20_000, seed=1, design=_design(2012, -2.0)),
        simulate_rows(20_000, seed=2, design=_design(2015, -0.5)),
    ]
    out = pl.concat(parts)
    return out.with_columns(
        pl.col("period").map_elements(_quarter_start, return_dtype=pl.Date).alias("period_start")
    )


def _sample_true_gap(rows: pl.DataFrame, design: SimulationDesign, era_rows: pl.Series) -> float:
    """AME of aggravated felony vs EWI over the era's rows, from the data-generating model."""
    court_eff, period_eff, _ = design.nuisance_effects()
    sub = rows.filter(era_rows)
    eta = design.intercept + design.represented_coef * sub["represented"].to_numpy()
    eta = eta + court_eff[sub["court"].str.slice(1).cast(pl.Int64).to_numpy() - 1]
    eta = eta + period_eff[[design.periods().index(p) for p in sub["period"]]]
    for column, levels in (
        ("custody", design.custody),
        ("nationality_group", design.nationality_groups),
        ("nta_age_band", design.nta_age_bands),
    ):
        eta = eta + sub[column].replace_strict({lv: c for lv, _, c in levels}).to_numpy()
    felony = {lv: c for lv, _, c in design.categories}["aggravated_felony"]
    return float(np.mean(expit(eta + felony) - expit(eta)))


def test_gap_per_era_recovers_the_change(rows):
    cells = collapse_to_cells(rows, [*KEYS, "period_start"])
    gap = fit_era_gap(
        cells,
        date_column="period_start",
        fixed_effects=["court", "period"],
        reference="entry_without_inspection",
        control_reference=reference_levels(_design(2012, -2.0)),
    )
    felony = gap.by_era.filter(pl.col("level") == "aggravated_felony")
    assert felony["era"].to_list() == ["Morton", "Johnson"]
    assert felony["era_label"].to_list() == ["2011-2014 Morton", "2014-2017 Johnson"]
    eras = rows["period_start"].map_elements(era_of, return_dtype=pl.String)
    for row, design in zip(
        felony.iter_rows(named=True), (_design(2012, -2.0), _design(2015, -0.5)), strict=True
    ):
        truth = _sample_true_gap(rows, design, eras == row["era"])
        assert abs(row["ame"] - truth) < 4 * row["std_error"], (row, truth)
    change = gap.change_vs_first_era.filter(pl.col("level") == "aggravated_felony").row(
        0, named=True
    )
    assert change["first_era"] == "Morton" and change["era"] == "Johnson"
    assert change["ci_low"] > 0  # the felony penalty shrank from -2.0 to -0.5 on the logit scale
    # Periods nest within eras, so the era main effect is absorbed by the period fixed effects.
    dropped = {d["term"] for d in gap.fit.diagnostics["dropped_terms"]}
    assert dropped == {"era[T.Johnson]"}


def test_grouped_levels_give_criminal_vs_immigration(rows):
    pre = rows.head(500).with_columns(pl.lit(date(2010, 1, 1)).alias("period_start"))
    cells = collapse_to_cells(pl.concat([pre, rows.tail(len(rows) - 500)]), [*KEYS, "period_start"])
    groups = {
        "aggravated_felony": "criminal",
        "other_criminal": "criminal",
        "national_security": "criminal",
        "entry_without_inspection": "immigration",
        "other_immigration": "immigration",
    }
    gap = fit_era_gap(
        cells,
        date_column="period_start",
        group_levels=groups,
        reference="immigration",
        controls=["represented"],
        fixed_effects=["court", "period"],
    )
    assert gap.by_era["level"].to_list() == ["criminal", "criminal"]
    assert (gap.by_era["ame"] < 0).all()
    assert gap.diagnostics["rows_without_era"] == 500
    # Grouping levels then fitting equals fitting on rows whose category was relabelled first.
    relabelled = rows.tail(len(rows) - 500).with_columns(
        pl.col("lead_charge_category").replace_strict(groups)
    )
    direct = fit_era_gap(
        collapse_to_cells(relabelled, [*KEYS, "period_start"]),
        date_column="period_start",
        reference="immigration",
        controls=["represented"],
        fixed_effects=["court", "period"],
    )
    np.testing.assert_allclose(gap.by_era["ame"], direct.by_era["ame"], atol=1e-10)
    np.testing.assert_allclose(gap.by_era["std_error"], direct.by_era["std_error"], rtol=1e-8)


def test_odds_ratios_by_era_interaction_test_and_not_estimable_eras(rows):
    cells = collapse_to_cells(rows, [*KEYS, "period_start"])
    gap = fit_era_gap(
        cells,
        date_column="period_start",
        fixed_effects=["court", "period"],
        reference="entry_without_inspection",
        control_reference=reference_levels(_design(2012, -2.0)),
    )
    odds = gap.odds_ratio_by_era.filter(pl.col("level") == "aggravated_felony")
    for row, truth in zip(odds.iter_rows(named=True), (-2.0, -0.5), strict=True):
        assert row["ci_low"] < np.exp(truth) < row["ci_high"], row
    # The felony effect changes between eras: the interaction test rejects.
    assert gap.interaction_test["df"] == 4 and gap.interaction_test["p_value"] < 1e-6
    # Eras without completions are reported, not dropped.
    missing = gap.not_estimable
    assert set(missing["era"]) == {"Trump", "Mayorkas"} or missing.height == 2
    assert (missing["status"] == "not_estimable").all()


def test_rising_baseline_without_interaction_is_not_an_era_effect():
    """Same category effects in both eras, a higher baseline in the second: the odds ratios agree
    and the interaction test does not reject, though the probability gap widens."""
    # 40 courts: with 10 the clustered chi2 test over-rejects (few clusters), which is why the
    # table also gives the F(q, G-1) p-value.
    first = SimulationDesign(n_courts=40, n_periods=8, first_period_year=2012, intercept=-2.5)
    second = SimulationDesign(n_courts=40, n_periods=8, first_period_year=2015, intercept=-0.5)
    rows = pl.concat(
        [simulate_rows(20_000, seed=3, design=first), simulate_rows(20_000, seed=4, design=second)]
    ).with_columns(
        pl.col("period").map_elements(_quarter_start, return_dtype=pl.Date).alias("period_start")
    )
    gap = fit_era_gap(
        collapse_to_cells(rows, [*KEYS, "period_start"]),
        date_column="period_start",
        fixed_effects=["court", "period"],
        reference="entry_without_inspection",
        control_reference=reference_levels(first),
    )
    assert gap.interaction_test["p_value"] > 0.001, gap.interaction_test
    assert gap.interaction_test["p_value_f"] > 0.001
    felony = gap.odds_ratio_by_era.filter(pl.col("level") == "aggravated_felony")
    assert (felony["ci_low"] < np.exp(-1.4)).all() and (felony["ci_high"] > np.exp(-1.4)).all()
    change = gap.change_vs_first_era.filter(pl.col("level") == "aggravated_felony")
    assert change["ame"][0] < 0  # the probability gap widens with the baseline alone
