"""Separation: a court or category with no (or only) PD closures must not crash or vanish silently."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from pipelines.stats import collapse_to_cells, fit_grouped_logit
from pipelines.stats.simulate import SimulationDesign, reference_levels, simulate_rows
from tests.stats.rowlevel import aligned, fit_rowlevel

REGRESSORS = ["lead_charge_category", "custody", "represented"]
FE = ["court", "period"]
DESIGN = SimulationDesign(n_courts=8, n_periods=3)
REFS = reference_levels(DESIGN)


@pytest.fixture(scope="module")
def base_rows() -> pl.DataFrame:
    return simulate_rows(15_000, seed=3, design=DESIGN)


def _fit(rows: pl.DataFrame, engine: str = "statsmodels"):
    return fit_grouped_logit(
        collapse_to_cells(rows, [*REGRESSORS, *FE]),
        categorical=REGRESSORS,
        reference=REFS,
        fixed_effects=FE,
        engine=engine,
    )


def _force(rows: pl.DataFrame, condition: pl.Expr, value: bool) -> pl.DataFrame:
    return rows.with_columns(
        pl.when(condition).then(value).otherwise(pl.col("pd_closure")).alias("pd_closure")
    )


@pytest.mark.parametrize("engine", ["statsmodels", "sparse_newton"])
def test_court_and_category_without_pd_closures(base_rows, engine):
    rows = _force(
        base_rows,
        (pl.col("court") == "C005") | (pl.col("lead_charge_category") == "national_security"),
        False,
    )
    fit = _fit(rows, engine)
    d = fit.diagnostics
    assert d["converged"]
    reported = {e["term"]: e for e in d["separation"] if e["kind"] == "single_term"}
    assert set(reported) == {"court[T.C005]", "lead_charge_category[T.national_security]"}
    assert all(e["direction"] == "-inf" for e in reported.values())
    coef = fit.coefficients.filter(pl.col("status") == "separated")
    assert coef["estimate"].to_list() == [-np.inf, -np.inf]
    # Every set-aside row is accounted for, with its reason.
    gone = rows.filter(
        (pl.col("court") == "C005") | (pl.col("lead_charge_category") == "national_security")
    )
    assert d["rows_perfectly_predicted"] == gone.height == fit.perfectly_predicted["n"].sum()
    assert d["n_obs"] + gone.height == rows.height
    assert fit.perfectly_predicted["reason"].str.starts_with("separated by").all()
    assert d["n_clusters"] == DESIGN.n_courts - 1

    # The finite estimates are the row-level MLE on the rows that are not perfectly predicted.
    kept = rows.filter(
        (pl.col("court") != "C005") & (pl.col("lead_charge_category") != "national_security")
    )
    theirs = fit_rowlevel(kept, [*REGRESSORS, *FE], REFS)[0]
    est = fit.coefficients.filter(pl.col("status") == "estimated")
    t, o = aligned(theirs, est, "estimate")
    np.testing.assert_allclose(o, t, atol=1e-6)
    t, o = aligned(theirs, est, "std_error")
    np.testing.assert_allclose(o, t, atol=1e-4)

    # Margins: the separated category has predicted probability 0 (its limit), flagged as such.
    pp = fit.predicted_probabilities("lead_charge_category")
    ns = pp.filter(pl.col("level") == "national_security").row(0, named=True)
    assert ns["predicted_probability"] == 0.0 and ns["status"] == "separated_limit"
    ame = fit.average_marginal_effects(["lead_charge_category"]).filter(
        pl.col("level") == "national_security"
    )
    assert ame["ame"][0] == pytest.approx(-pp["predicted_probability"][0])


def test_reference_court_without_pd_closures_is_found_by_the_linear_program(base_rows):
    # No single dummy is separated here: it is Intercept minus all court dummies that predicts.
    rows = _force(base_rows, pl.col("court") == "C001", False)
    fit = _fit(rows)
    events = fit.diagnostics["separation"]
    assert [e["kind"] for e in events] == ["linear_combination"]
    assert events[0]["shared_by_cells"] == {"court": "C001"}
    assert events[0]["rows_set_aside"] == rows.filter(pl.col("court") == "C001").height
    # With C001 gone, intercept + all remaining court dummies are collinear: one is reported.
    assert [t["status"] for t in fit.diagnostics["dropped_terms"]] == ["collinear"]
    # The regressors are the row-level fit without court C001 (court parametrization aside).
    theirs = fit_rowlevel(rows.filter(pl.col("court") != "C001"), [*REGRESSORS, *FE], REFS)[0]
    regs = fit.coefficients.filter(pl.col("kind") == "regressor")
    names = regs["term"].to_list()
    np.testing.assert_allclose(regs["estimate"], theirs.params[names], atol=1e-6)
    np.testing.assert_allclose(regs["std_error"], theirs.bse[names], atol=1e-4)


def test_category_with_only_pd_closures_is_plus_infinity(base_rows):
    rows = _force(base_rows, pl.col("lead_charge_category") == "other_immigration", True)
    fit = _fit(rows)
    (event,) = fit.diagnostics["separation"]
    assert event["term"] == "lead_charge_category[T.other_immigration]"
    assert event["direction"] == "+inf"
    pp = fit.predicted_probabilities("lead_charge_category")
    assert pp.filter(pl.col("level") == "other_immigration")["predicted_probability"][0] == 1.0


def test_no_pd_closures_at_all_is_an_error(base_rows):
    with pytest.raises(ValueError, match="never"):
        _fit(_force(base_rows, pl.lit(True), False))
