"""The completions model with a PD bound as its outcome, on the sample run (real-format inputs):
the bound cells are the main model's cells with the bound's flag of marts.proceedings counted,
each bound counts at least the strict rule's PD closures, models.pd_bound_models has one row set
per bound, and a mart that counts the strict flag instead of the bound is caught."""

from __future__ import annotations

import polars as pl
import pytest

from pipelines.assets.models import CELL_KEY, fit_pd_bounds
from pipelines.classify.pd import PD_VARIANTS
from pipelines.stats.fit_release import PD_BOUND_VARIANTS
from pipelines.warehouse.checks import evaluate
from pipelines.warehouse.db import (
    build_model,
    connect,
    fetch_frame,
    load_models,
    run_variables,
)

MART = "marts.model_cells_completion_variants"
BOUNDS = {f"outcome_{v.variant}": v.column_name for v in PD_VARIANTS if not v.is_default}


@pytest.fixture(scope="module")
def sample(sample_warehouse):
    assert sample_warehouse.outcome.success
    con = connect(sample_warehouse.settings, read_only=True)
    yield con, sample_warehouse.release_id
    con.close()


def _expected_bound_cells(con, rid: str) -> pl.DataFrame:
    """Every bound's cells from the rows: the completions cohort (with a charge record) joined
    to its flags in marts.proceedings, grouped in polars (not the mart's SQL)."""
    flags = ", ".join(f"p.{col}" for col in BOUNDS.values())
    rows = fetch_frame(
        con,
        f"SELECT {', '.join('c.' + k for k in CELL_KEY)}, c.pd_closure, {flags} "
        "FROM marts.cohort_completions c JOIN marts.proceedings p "
        "ON p.release_id = c.release_id AND p.idnproceeding = c.idnproceeding "
        "WHERE c.release_id = ? AND c.lead_charge_category <> 'no_charge_recorded'",
        [rid],
    )
    # The flags agree with the strict rule wherever the strict rule counts PD.
    for col in BOUNDS.values():
        assert rows.filter(pl.col("pd_closure") & ~pl.col(col)).height == 0, col
    return pl.concat(
        [
            rows.group_by(CELL_KEY)
            .agg(pl.len().alias("n"), pl.col(col).sum().alias("pd_closures"))
            .with_columns(pl.lit(variant).alias("variant"))
            for variant, col in BOUNDS.items()
        ]
    )


def _mart_bound_cells(con, rid: str) -> pl.DataFrame:
    return fetch_frame(
        con,
        f"SELECT variant, {', '.join(CELL_KEY)}, n, pd_closures FROM {MART} "
        "WHERE release_id = ? AND kind = 'outcome'",
        [rid],
    )


def _cell_differences(con, rid: str) -> pl.DataFrame:
    """Cells (variant x key) whose n or PD count differ between the mart and the rows."""
    key = ["variant", *CELL_KEY]
    exp = _expected_bound_cells(con, rid).with_columns(pl.col("n", "pd_closures").cast(pl.Int64))
    got = _mart_bound_cells(con, rid).with_columns(pl.col("n", "pd_closures").cast(pl.Int64))
    both = exp.join(got, on=key, how="full", nulls_equal=True, coalesce=True, suffix="_mart")
    return both.filter(
        pl.col("n").ne_missing(pl.col("n_mart"))
        | pl.col("pd_closures").ne_missing(pl.col("pd_closures_mart"))
    )


def test_bound_cells_reconcile_with_the_flags_of_marts_proceedings(sample):
    con, rid = sample
    got = _mart_bound_cells(con, rid)
    # One cell set per bound of pd_variants.csv, nothing else of kind outcome.
    assert set(got["variant"]) == set(BOUNDS)
    diff = _cell_differences(con, rid)
    assert diff.height == 0, diff.head()
    # The bounds' cells and n are the main model's: only the outcome changes.
    main = fetch_frame(
        con,
        f"SELECT {', '.join(CELL_KEY)}, n, pd_closures FROM marts.model_cells_completions "
        "WHERE release_id = ?",
        [rid],
    )
    for variant in BOUNDS:
        sub = got.filter(pl.col("variant") == variant)
        assert sub.height == main.height and sub["n"].sum() == main["n"].sum(), variant
        assert sub["pd_closures"].sum() >= main["pd_closures"].sum(), variant
    # The sample has terminations: the widest bound adds PD closures (the test is not vacuous).
    widest = got.filter(pl.col("variant") == "outcome_with_terminations")["pd_closures"].sum()
    assert widest > main["pd_closures"].sum()


def test_bound_models_count_at_least_the_strict_models_pd_closures(sample):
    con, rid = sample
    bounds = fetch_frame(
        con,
        "SELECT * FROM models.pd_bound_models WHERE release_id = ? "
        "AND term LIKE 'lead_charge_category%'",
        [rid],
    )
    strict = dict(
        fetch_frame(
            con,
            "SELECT term, pd_closures_in_level FROM models.marginal_effects WHERE release_id = ? "
            "AND model = 'completions_main' AND variable = 'lead_charge_category'",
            [rid],
        ).iter_rows()
    )
    main_n, main_pd = fetch_frame(
        con,
        "SELECT sum(n), sum(pd_closures) FROM marts.model_cells_completions WHERE release_id = ?",
        [rid],
    ).row(0)
    assert bounds.height > 0 and strict
    for r in bounds.iter_rows(named=True):
        assert r["pd_closures_with_term"] >= strict[r["term"]], (r["variant"], r["term"])
        assert r["n_obs_model"] == main_n and r["pd_closures_model"] >= main_pd
    # Each model counts what its cells count.
    cells = _mart_bound_cells(con, rid).group_by("variant").agg(pl.col("pd_closures").sum())
    for variant, pd in cells.iter_rows():
        if variant in PD_BOUND_VARIANTS:
            assert bounds.filter(pl.col("variant") == variant)["pd_closures_model"][0] == pd
    widest = bounds.filter(pl.col("variant") == "outcome_with_terminations")
    assert widest["pd_closures_model"][0] > main_pd
    assert (widest["pd_closures_with_term"] > pl.Series([strict[t] for t in widest["term"]])).any()


def test_bound_models_have_one_row_set_per_bound(sample):
    con, rid = sample
    rows = fetch_frame(con, "SELECT * FROM models.pd_bound_models WHERE release_id = ?", [rid])
    terms = set(
        fetch_frame(
            con,
            "SELECT term FROM models.coefficients WHERE release_id = ? "
            "AND model = 'completions_main' AND term LIKE 'lead_charge_category%'",
            [rid],
        )["term"]
    )
    assert set(rows["variant"]) == set(PD_BOUND_VARIANTS)
    for variant in PD_BOUND_VARIANTS:
        sub = rows.filter(pl.col("variant") == variant)
        assert sorted(sub["term"]) == sorted(terms), variant  # every term once
        assert sub["ame"].null_count() == 0
    # The default window lies inside the case-review months: the review bound has the widest
    # bound's cells, and its rows are that fit's, said in same_cells_as.
    review = rows.filter(pl.col("variant") == "outcome_with_review_terminations").sort("term")
    widest = rows.filter(pl.col("variant") == "outcome_with_terminations").sort("term")
    assert set(review["same_cells_as"]) == {"outcome_with_terminations"}
    assert widest["same_cells_as"].null_count() == widest.height
    cols = ["term", "estimate", "ame", "ame_ci_low", "ame_ci_high", "pd_closures_with_term"]
    assert review.select(cols).equals(widest.select(cols))


def test_a_bound_whose_cells_differ_is_fitted_on_its_own(sample):
    con, rid = sample
    cells = fetch_frame(
        con, f"SELECT * FROM {MART} WHERE release_id = ? AND kind = 'outcome'", [rid]
    )
    # The review bound without its terminations in one cell: no longer the widest bound's cells.
    target = cells.filter(
        (pl.col("variant") == "outcome_with_review_terminations") & (pl.col("pd_closures") > 0)
    ).row(0, named=True)
    hit = pl.all_horizontal(
        pl.col("variant") == target["variant"], *(pl.col(k) == target[k] for k in CELL_KEY)
    )
    changed = cells.with_columns(
        pl.when(hit).then(pl.col("pd_closures") - 1).otherwise("pd_closures").alias("pd_closures")
    )
    table, notes = fit_pd_bounds(changed, PD_BOUND_VARIANTS)
    assert notes == {}
    review = table.filter(pl.col("variant") == "outcome_with_review_terminations")
    widest = table.filter(pl.col("variant") == "outcome_with_terminations")
    assert review["same_cells_as"].null_count() == review.height
    assert review["pd_closures_model"][0] == widest["pd_closures_model"][0] - 1
    assert not review.sort("term")["estimate"].equals(widest.sort("term")["estimate"])


def test_a_mart_counting_the_strict_flag_instead_of_the_bound_fails(sample_warehouse, tmp_path):
    """The mutation the checks and the reconciliation above guard against: the outcome variants
    built with the strict rule's flag (`pd_closure`) in place of the bound's."""
    settings = sample_warehouse.copy_to(tmp_path)
    rid = sample_warehouse.release_id
    model = next(m for m in load_models() if m.qualified == MART)
    assert model.sql.count("b.counted") == 1
    mutated = type(model)(
        **{**model.__dict__, "sql": model.sql.replace("b.counted", "c.pd_closure AS counted")}
    )
    con = connect(settings)
    try:
        build_model(con, mutated, run_variables(settings, rid))
        diff = _cell_differences(con, rid)
        # Every cell where a bound adds a termination now reads the strict count.
        assert diff.height > 0
        assert (diff["pd_closures"] > diff["pd_closures_mart"]).all()
        failed = {
            c.name
            for c in model.checks
            if c.kind == "sql" and not evaluate(con, MART, c, rid).passed
        }
        assert "bounds_reconcile_with_proceedings" in failed
    finally:
        con.close()
