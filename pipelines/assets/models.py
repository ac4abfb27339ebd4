"""Model assets: the grouped cluster-robust logit, its margins, the era gap and robustness fits.

Each reads cells from a mart (marts.model_cells_*), calls pipelines.stats, and writes tidy tables
to models.* (one row per model x term, with release_id and model first). The specification in
words and as a formula is in the README ("Models").
"""

import json

import dagster as dg
import polars as pl

from pipelines.assets.common import WAREHOUSE_POOL, markdown_table, release_partitions, run_context
from pipelines.classify.categories import LEAD_CHARGE_GROUPS
from pipelines.resources import PipelineSettings, Warehouse
from pipelines.warehouse.db import fetch_frame, table_exists, write_frame

# Immigration-only reference: entry without inspection, the most common immigration-only charge.
REFERENCE = {"lead_charge_category": "entry_without_inspection"}
CONTROLS = ["custody", "represented", "nationality_group", "nta_age_band"]
MAIN_CATEGORICAL = ["lead_charge_category", *CONTROLS]
FIXED_EFFECTS = ["court", "period"]
COHORTS = {"completions": "marts.model_cells_completions", "pending": "marts.model_cells_pending"}
# Leave-one-court-out refits the main model once per court (about 60 in a real release). The
# sparse Newton engine gives the same fit as statsmodels' GLM (tests/stats compare both with the
# row-level fit) in a fraction of the time on ~10^5 cells with ~150 dummies; the headline model
# stays on statsmodels.
LOCO_ENGINE = "sparse_newton"
# The random-intercept model (variational Bayes) runs on rows, not cells: above this many rows it
# uses a seeded Bernoulli subsample of the rows (pipelines.stats.expand_cells), whose fraction is
# stored with the results; 50,000 rows take well under a minute.
RI_MAX_ROWS = 50_000
MAIN_TABLES = (
    "coefficients",
    "odds_ratios",
    "marginal_effects",
    "predicted_probabilities",
    "fit_diagnostics",
)
DESCRIPTIONS = {
    "coefficients": "Logit coefficients (log-odds) of PD closure with court-clustered SEs, for the completions and pending-docket cohorts.",
    "odds_ratios": "Odds ratios with 95% CIs (exp of the coefficients and of their CI bounds).",
    "marginal_effects": "Average marginal effects: discrete change in P(PD closure) per lead-charge category vs entry without inspection (and per control), delta-method SEs under the clustered covariance.",
    "predicted_probabilities": "Average predicted P(PD closure) setting every proceeding to each lead-charge category, with delta-method CIs on the logit scale built on the larger of the clustered SE (std_error) and the model-based SE (std_error_model): the clustered one cannot see the court fixed effects' estimation error.",
    "fit_diagnostics": "Per model: estimated or why not, convergence, observations, cells, clusters, log-likelihood, pseudo-R2, separation handling.",
}


def _with_ids(frame: pl.DataFrame, release_id: str, model: str) -> pl.DataFrame:
    return frame.select(
        pl.lit(release_id).alias("release_id"), pl.lit(model).alias("model"), pl.all()
    )


def _write_all(con, release_id: str, frames: dict[str, list[pl.DataFrame]]) -> dict[str, int]:
    counts = {}
    for table, parts in frames.items():
        qualified = f"models.{table}"
        if parts:
            counts[table] = write_frame(
                con, qualified, release_id, pl.concat(parts, how="diagonal_relaxed")
            )
        else:
            if table_exists(con, qualified):
                con.execute(f"DELETE FROM {qualified} WHERE release_id = ?", [release_id])
            counts[table] = 0
    return counts


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["models", t],
            group_name="models",
            deps=[
                dg.AssetKey(["marts", "model_cells_completions"]),
                dg.AssetKey(["marts", "model_cells_pending"]),
            ],
            description=DESCRIPTIONS[t],
            kinds={"duckdb", "python"},
        )
        for t in MAIN_TABLES
    ],
    check_specs=[
        dg.AssetCheckSpec(
            "models_converged",
            asset=dg.AssetKey(["models", "fit_diagnostics"]),
            description=(
                "Every model that was fitted converged (an error if one did not); a release too "
                "small to model is a warning naming why, never a silent empty table."
            ),
        ),
        dg.AssetCheckSpec(
            "separation_reported",
            asset=dg.AssetKey(["models", "fit_diagnostics"]),
            description=(
                "Separated and rare levels carry Firth estimates with profile intervals and no "
                "Wald SE, z or p; probability intervals stay in [0, 1]; every table has its event "
                "counts; fitted plus set-aside rows add up to the cohort."
            ),
        ),
    ],
    partitions_def=release_partitions,
    pool=WAREHOUSE_POOL,
)
def pd_logit(context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: Warehouse):
    """Main model: logit of PD closure on lead-charge category + controls + court and period FE."""
    from pipelines.stats.fit_release import fit_release_models, separation_problems

    rc = run_context(context, settings, warehouse)
    con = warehouse.connect(settings)
    try:
        inputs = {
            cohort: (
                fetch_frame(con, f"SELECT * FROM {table} WHERE release_id = ?", [rc.release_id]),
                _no_charge_rows(con, cohort, rc.release_id),
            )
            for cohort, table in COHORTS.items()
        }
        out = fit_release_models(
            inputs, categorical=MAIN_CATEGORICAL, reference=REFERENCE, fixed_effects=FIXED_EFFECTS
        )
        for line in out.log:
            context.log.info(line)
        frames = {
            t: [_with_ids(f, rc.release_id, m) for m, f in parts] for t, parts in out.tables.items()
        }
        frames["fit_diagnostics"] = [
            out.diagnostics.select(pl.lit(rc.release_id).alias("release_id"), pl.all())
        ]
        counts = _write_all(con, rc.release_id, frames)
        preview = (
            fetch_frame(
                con,
                "SELECT * EXCLUDE (release_id) FROM models.odds_ratios WHERE release_id = ? "
                "AND term LIKE 'lead_charge_category%'",
                [rc.release_id],
            )
            if counts["odds_ratios"]
            else pl.DataFrame()
        )
    finally:
        con.close()
    diagnostics = out.diagnostics
    for t in MAIN_TABLES:
        meta: dict = {"dagster/row_count": counts[t]}
        if t == "odds_ratios":
            meta["lead_charge_odds_ratios"] = dg.MetadataValue.md(markdown_table(preview))
        if t == "fit_diagnostics":
            meta["models"] = dg.MetadataValue.md(
                markdown_table(diagnostics.drop("details", "separation"))
            )
        yield dg.MaterializeResult(asset_key=dg.AssetKey(["models", t]), metadata=meta)
    estimated = diagnostics.filter(pl.col("estimated"))
    unconverged = estimated.filter(~pl.col("converged").fill_null(False))["model"].to_list()
    yield dg.AssetCheckResult(
        asset_key=dg.AssetKey(["models", "fit_diagnostics"]),
        check_name="models_converged",
        passed=estimated.height > 0 and not unconverged,
        # A release too small to model (the unit-test fixture) warns; a failed fit is an error.
        severity=dg.AssetCheckSeverity.ERROR if estimated.height else dg.AssetCheckSeverity.WARN,
        metadata={
            "estimated": estimated["model"].to_list(),
            "not_converged": unconverged,
            "not_estimated": json.dumps(
                dict(diagnostics.filter(~pl.col("estimated")).select("model", "reason").iter_rows())
            ),
        },
    )
    problems = out.accounting_problems + separation_problems(
        {f"{t}/{m}": f for t, parts in out.tables.items() for m, f in parts}
    )
    yield dg.AssetCheckResult(
        asset_key=dg.AssetKey(["models", "fit_diagnostics"]),
        check_name="separation_reported",
        passed=not problems,
        metadata={
            "problems": problems[:20],
            "firth_terms": json.dumps(out.firth_terms),
            "note": "separated or rare levels: event counts, Firth estimate and profile interval, "
            "no Wald SE/z/p; rows set aside reconcile with the input",
        },
    )


def _no_charge_rows(con, cohort: str, release_id: str) -> int:
    """Proceedings of the cohort without a charge record (left out of the model cells)."""
    table = f"marts.cohort_{cohort}"
    if not table_exists(con, table):
        return 0
    found = fetch_frame(
        con,
        f"SELECT count(*) AS n FROM {table} WHERE release_id = ? "
        "AND lead_charge_category = 'no_charge_recorded'",
        [release_id],
    )
    return int(found["n"][0])


# The criminal-vs-immigration groups (pipelines/classify/categories.py).
ERA_GROUPS = LEAD_CHARGE_GROUPS


@dg.asset(
    key=["models", "era_gap"],
    group_name="models",
    deps=[dg.AssetKey(["marts", "model_cells_eras"])],
    partitions_def=release_partitions,
    pool=WAREHOUSE_POOL,
    description=(
        "The criminal-vs-immigration gap in P(PD closure) by policy era (Morton 2011-2014, Johnson "
        "2014-2017, 2017-2021, Mayorkas 2021-): a logit with lead-charge group x era, custody, "
        "representation, nationality group, time since NTA, court and year fixed effects, "
        "court-clustered; the gap is the average "
        "marginal effect of a criminal (aggravated felony, other criminal) vs immigration-only "
        "(entry without inspection, other immigration) lead charge within each era, with its change "
        "from the Morton era (measure by_era / change_vs_first_era); the odds ratio within each era "
        "(odds_ratio_by_era); a court-clustered Wald test of all group x era interactions "
        "(interaction_test, with the fit's diagnostics in `details`); and a not_estimable row for "
        "each era without estimable cells. Controls are the main model's."
    ),
    kinds={"duckdb", "python"},
)
def era_gap(context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: Warehouse):
    from pipelines.stats import fit_era_gap
    from pipelines.stats.fit_release import era_gap_parts, not_estimable_reason

    rc = run_context(context, settings, warehouse)
    con = warehouse.connect(settings)
    try:
        cells = fetch_frame(
            con,
            "SELECT * FROM marts.model_cells_eras WHERE release_id = ? AND lead_charge_category IN ("
            + ", ".join(f"'{c}'" for c in ERA_GROUPS)
            + ")",
            [rc.release_id],
        )
        reason = not_estimable_reason(cells)
        frames: dict[str, list[pl.DataFrame]] = {"era_gap": []}
        if not reason:
            try:
                result = fit_era_gap(
                    cells,
                    group_levels=ERA_GROUPS,
                    reference="immigration",
                    controls=CONTROLS,
                    fixed_effects=("court", "period"),
                )
                frames["era_gap"] = [
                    _with_ids(
                        part.with_columns(pl.lit(measure).alias("measure")),
                        rc.release_id,
                        "era_gap",
                    )
                    for measure, part in era_gap_parts(result)
                ]
            except ValueError as exc:
                reason = f"not identified: {exc}"
        if reason:
            context.log.warning(f"era gap not estimated: {reason}")
        counts = _write_all(con, rc.release_id, frames)
    finally:
        con.close()
    shown = (
        frames["era_gap"][0].select("era", "ame", "ci_low", "ci_high")
        if frames["era_gap"]
        else pl.DataFrame()
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": counts["era_gap"],
            "not_estimated": reason,
            "gap_by_era": dg.MetadataValue.md(markdown_table(shown)),
        }
    )


@dg.asset(
    key=["models", "robustness"],
    group_name="models",
    deps=[dg.AssetKey(["marts", "model_cells_completions"])],
    partitions_def=release_partitions,
    pool=WAREHOUSE_POOL,
    description=(
        "Robustness of the main completions model's lead-charge effects, all on the logit's "
        "estimation sample (after the separation checks): (1) a linear probability model with the "
        "same controls, court and period fixed effects and court clustering (a different "
        "estimand: probability differences by least squares, labelled so); (2) court random "
        "intercepts instead of court fixed effects (statsmodels BinomialBayesMixedGLM, "
        "variational Bayes: approximate posteriors; court SD, convergence and sampling fraction "
        "stored; on the cells expanded to rows, a seeded Bernoulli subsample above 50,000 rows); "
        "(3) the range of each coefficient and AME when each court is left out in turn, for "
        "estimable (not rare or separated) terms only."
    ),
    kinds={"duckdb", "python"},
)
def robustness(context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: Warehouse):
    from pipelines.stats.fit_release import fit_robustness, not_estimable_reason

    rc = run_context(context, settings, warehouse)
    con = warehouse.connect(settings)
    parts: list[pl.DataFrame] = []
    notes: dict[str, str] = {}
    try:
        cells = fetch_frame(
            con, "SELECT * FROM marts.model_cells_completions WHERE release_id = ?", [rc.release_id]
        )
        reason = not_estimable_reason(cells)
        if reason:
            notes["all"] = reason
        else:
            fitted, notes = fit_robustness(
                cells,
                categorical=MAIN_CATEGORICAL,
                reference=REFERENCE,
                fixed_effects=FIXED_EFFECTS,
                ri_max_rows=RI_MAX_ROWS,
                loco_engine=LOCO_ENGINE,
            )
            parts = [_with_ids(f, rc.release_id, name) for name, f in fitted]
        for k, v in notes.items():
            context.log.warning(f"robustness {k}: {v}")
        counts = _write_all(con, rc.release_id, {"robustness": parts})
    finally:
        con.close()
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": counts["robustness"],
            "models": [p["model"][0] for p in parts],
            "not_estimated": json.dumps(notes),
        }
    )


CELL_KEY = ["lead_charge_category", *CONTROLS, *FIXED_EFFECTS]


def fit_pd_bounds(cells: pl.DataFrame, bounds) -> tuple[pl.DataFrame, dict[str, str]]:
    """The main model refitted with each PD bound of `bounds` as its outcome (the `outcome`
    variants of marts.model_cells_completion_variants), with the variant's totals. A bound whose
    cells equal an earlier one's (the review-months bound, when the window lies inside the
    review months) reuses that fit and names it in `same_cells_as`: the same fit twice would
    double the cost for identical rows."""
    from pipelines.stats.fit_release import fit_lead_rule_comparison

    parts, notes, fitted = [], {}, {}
    for bound in bounds:
        sub = cells.filter(pl.col("variant") == bound).select(
            "variant", *CELL_KEY, "n", "pd_closures"
        )
        if sub.height == 0:
            notes[bound] = "no cells (the bound is missing from the mart)"
            continue
        key = sub.drop("variant").sort(CELL_KEY, nulls_last=True)
        same = next((b for b, k in fitted.items() if k.equals(key)), None)
        fitted[bound] = key
        if same is not None:
            if same in notes:
                notes[bound] = notes[same]
            table = next((p for p in parts if p["variant"][0] == same), None)
            if table is not None:
                parts.append(
                    table.with_columns(
                        pl.lit(bound).alias("variant"), pl.lit(same).alias("same_cells_as")
                    )
                )
            continue
        table, note = fit_lead_rule_comparison(
            sub,
            categorical=MAIN_CATEGORICAL,
            reference=REFERENCE,
            fixed_effects=FIXED_EFFECTS,
            column="variant",
            values=(bound,),
        )
        notes.update(note)
        if table.height:
            parts.append(
                table.with_columns(
                    pl.lit(None, dtype=pl.String).alias("same_cells_as"),
                    pl.lit(float(sub["n"].sum())).alias("n_obs_model"),
                    pl.lit(float(sub["pd_closures"].sum())).alias("pd_closures_model"),
                )
            )
    frame = pl.concat(parts, how="diagonal_relaxed") if parts else pl.DataFrame()
    return frame, notes


def _model_spec(table: str, mart: str, description: str) -> dg.AssetSpec:
    """A `models.<table>` asset fitted from `marts.<mart>`."""
    return dg.AssetSpec(
        ["models", table],
        group_name="models",
        deps=[dg.AssetKey(["marts", mart])],
        description=description,
        kinds={"duckdb", "python"},
    )


# Groups for the event study and the court table: criminal vs immigration-only lead charges, as
# in the era model.
@dg.multi_asset(
    specs=[
        _model_spec(
            "event_study",
            "pd_by_month",
            "Monthly PD rate (PD closures / completions) of criminal and immigration-only lead "
            "charges from 6 months before to 12 months after each policy date, with Wilson "
            "intervals, and per policy the pooled rate 6 months after minus 6 months before "
            "(Newcombe interval). Descriptive: timing, not effects.",
        ),
        _model_spec(
            "court_heterogeneity",
            "model_cells_completions",
            "Court-by-group log odds ratios (criminal vs immigration-only lead charge) from the "
            "completions model with a group x court interaction, shrunk towards the mean by "
            "empirical Bayes (DerSimonian-Laird), each court tested against the mean with "
            "Benjamini-Hochberg q-values (FDR 5%); courts with too few PD closures are listed "
            "with their counts as not estimated.",
        ),
        _model_spec(
            "population_variants",
            "model_cells_completion_variants",
            "The main completions model's lead-charge effects on two other populations: "
            "without completions by change of venue or transfer, and one proceeding per case "
            "(its last completion in the window).",
        ),
        _model_spec(
            "pd_bound_models",
            "model_cells_completion_variants",
            "The main completions model's lead-charge effects with a PD bound as the outcome "
            "(strict rule plus plain terminations, DEC_CODE T, of removal-type cases: over all "
            "dates, and in the months of ICE's case review), on the main model's cells. Bounds "
            "on the PD terminations a current release no longer codes, not findings; the strict "
            "rule's model is completions_main in models.coefficients and models.marginal_effects.",
        ),
        _model_spec(
            "lead_rule_comparison",
            "model_cells_lead_rules",
            "The main completions model's lead-charge effects (log-odds, odds ratio, AME, "
            "event counts, inference used) under three lead-charge rules side by side: most "
            "serious charge, first charged, and most serious excluding withdrawn charges.",
        ),
    ],
    partitions_def=release_partitions,
    pool=WAREHOUSE_POOL,
)
def referee_tables(
    context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: Warehouse
):
    from pipelines.stats.fit_release import (
        PD_BOUND_VARIANTS,
        POPULATION_VARIANTS,
        fit_lead_rule_comparison,
    )
    from pipelines.stats.heterogeneity import court_heterogeneity, event_study

    rc = run_context(context, settings, warehouse)
    con = warehouse.connect(settings)
    notes: dict[str, str] = {}
    frames: dict[str, list[pl.DataFrame]] = {
        "event_study": [],
        "court_heterogeneity": [],
        "lead_rule_comparison": [],
        "population_variants": [],
        "pd_bound_models": [],
    }
    try:
        monthly = fetch_frame(
            con,
            "SELECT month, lead_charge_category, completions, pd_closures FROM marts.pd_by_month "
            "WHERE release_id = ? AND lead_charge_category <> 'all'",
            [rc.release_id],
        )
        dates = fetch_frame(
            con,
            "SELECT short_label, description, policy_date FROM staging.policy_dates "
            "WHERE release_id = ? ORDER BY policy_date",
            [rc.release_id],
        )
        policies = [(r[0], r[1], r[2]) for r in dates.iter_rows()]
        if monthly.height and policies:
            es = event_study(monthly, policies, ERA_GROUPS)
            frames["event_study"] = [_with_ids(es, rc.release_id, "event_study")]
        else:
            notes["event_study"] = "no monthly completions or no policy dates"
        cells = fetch_frame(
            con, "SELECT * FROM marts.model_cells_completions WHERE release_id = ?", [rc.release_id]
        )
        if cells.height:
            try:
                table, diag = court_heterogeneity(
                    cells,
                    groups=ERA_GROUPS,
                    reference_group="immigration",
                    controls=CONTROLS,
                )
                frames["court_heterogeneity"] = [
                    _with_ids(
                        table.with_columns(pl.lit(json.dumps(diag, default=str)).alias("details")),
                        rc.release_id,
                        "court_heterogeneity",
                    )
                ]
            except ValueError as exc:
                notes["court_heterogeneity"] = f"not identified: {exc}"
        rule_cells = fetch_frame(
            con, "SELECT * FROM marts.model_cells_lead_rules WHERE release_id = ?", [rc.release_id]
        )
        if rule_cells.height:
            table, rule_notes = fit_lead_rule_comparison(
                rule_cells,
                categorical=MAIN_CATEGORICAL,
                reference=REFERENCE,
                fixed_effects=FIXED_EFFECTS,
            )
            if table.height:
                frames["lead_rule_comparison"] = [
                    _with_ids(table, rc.release_id, "lead_rule_comparison")
                ]
            if rule_notes:
                notes["lead_rule_comparison"] = json.dumps(rule_notes)
        variant_cells = fetch_frame(
            con,
            "SELECT * FROM marts.model_cells_completion_variants WHERE release_id = ?",
            [rc.release_id],
        )
        if variant_cells.height:
            table, variant_notes = fit_lead_rule_comparison(
                variant_cells,
                categorical=MAIN_CATEGORICAL,
                reference=REFERENCE,
                fixed_effects=FIXED_EFFECTS,
                column="variant",
                values=POPULATION_VARIANTS,
            )
            if table.height:
                frames["population_variants"] = [
                    _with_ids(table, rc.release_id, "population_variants")
                ]
            if variant_notes:
                notes["population_variants"] = json.dumps(variant_notes)
            bound_cells = variant_cells.filter(pl.col("kind") == "outcome")
            table, bound_notes = fit_pd_bounds(bound_cells, PD_BOUND_VARIANTS)
            if table.height:
                frames["pd_bound_models"] = [_with_ids(table, rc.release_id, "pd_bound_models")]
            if bound_notes:
                notes["pd_bound_models"] = json.dumps(bound_notes)
        for k, v in notes.items():
            context.log.warning(f"{k}: {v}")
        counts = _write_all(con, rc.release_id, frames)
    finally:
        con.close()
    for t in frames:
        yield dg.MaterializeResult(
            asset_key=dg.AssetKey(["models", t]),
            metadata={"dagster/row_count": counts[t], "not_estimated": notes.get(t, "")},
        )
