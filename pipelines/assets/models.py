"""Model assets: the grouped cluster-robust logit, its margins, the era gap and robustness fits.

Each reads cells from a mart (marts.model_cells_*), calls pipelines.stats, and writes tidy tables
to models.* (one row per model x term, with release_id and model first). The specification in
words and as a formula is in the README ("Models").
"""

import json

import dagster as dg
import polars as pl

from pipelines.assets.common import WAREHOUSE_POOL, markdown_table, release_partitions, run_context
from pipelines.resources import PipelineSettings, Warehouse
from pipelines.warehouse.db import fetch_frame, table_exists, write_frame

# Immigration-only reference: entry without inspection, the most common immigration-only charge.
REFERENCE = {"lead_charge_category": "entry_without_inspection"}
CONTROLS = ["custody", "represented", "nationality_group", "nta_age_band"]
MAIN_CATEGORICAL = ["lead_charge_category", *CONTROLS]
FIXED_EFFECTS = ["court", "period"]
COHORTS = {"completions": "marts.model_cells_completions", "pending": "marts.model_cells_pending"}
MIN_CLUSTERS = 2
# Leave-one-court-out refits the main model once per court (about 60 in a real release). The
# sparse Newton engine gives the same fit as statsmodels' GLM (tests/stats compare both with the
# row-level fit) in a fraction of the time on ~10^5 cells with ~150 dummies; the headline model
# stays on statsmodels.
LOCO_ENGINE = "sparse_newton"
# The random-intercept model (variational Bayes) runs on rows, not cells: above this many rows it
# uses a documented random subsample (pipelines.stats.expand_cells); 200,000 rows take ~3 min.
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
    "predicted_probabilities": "Average predicted P(PD closure) setting every proceeding to each lead-charge category, with delta-method CIs.",
    "fit_diagnostics": "Per model: estimated or why not, convergence, observations, cells, clusters, log-likelihood, pseudo-R2, separation handling.",
}


def _with_ids(frame: pl.DataFrame, release_id: str, model: str) -> pl.DataFrame:
    return frame.select(
        pl.lit(release_id).alias("release_id"), pl.lit(model).alias("model"), pl.all()
    )


def not_estimable_reason(cells: pl.DataFrame) -> str:
    """Why a cohort cannot be modelled, or '' when it can."""
    if cells.height == 0:
        return "no cells"
    if cells["court"].n_unique() < MIN_CLUSTERS:
        return f"fewer than {MIN_CLUSTERS} courts (clusters)"
    y, n = int(cells["pd_closures"].sum()), int(cells["n"].sum())
    if y == 0 or y == n:
        return "outcome has no variation (no PD closures, or all)"
    if cells["lead_charge_category"].n_unique() < 2:
        return "a single lead-charge category"
    return ""


def _diag_row(model: str, cells: pl.DataFrame, reason: str = "", d: dict | None = None) -> dict:
    d = d or {}
    return {
        "model": model,
        "estimated": not reason,
        "reason": reason,
        "converged": bool(d["converged"]) if "converged" in d else None,
        "n_obs": int(d.get("n_obs") or (cells["n"].sum() if cells.height else 0)),
        "n_cells": int(d.get("n_cells") or cells.height),
        "n_clusters": int(
            d.get("n_clusters") or (cells["court"].n_unique() if cells.height else 0)
        ),
        "pseudo_r2": d.get("pseudo_r2_mcfadden"),
        "log_likelihood": d.get("log_likelihood"),
        "separation": json.dumps(d.get("separation", []), default=str),
        "details": json.dumps(d, default=str),
    }


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
        dg.AssetCheckSpec("models_converged", asset=dg.AssetKey(["models", "fit_diagnostics"])),
        dg.AssetCheckSpec("separation_reported", asset=dg.AssetKey(["models", "fit_diagnostics"])),
    ],
    partitions_def=release_partitions,
    pool=WAREHOUSE_POOL,
)
def pd_logit(context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: Warehouse):
    """Main model: logit of PD closure on lead-charge category + controls + court and period FE."""
    from pipelines.stats import fit_grouped_logit

    rc = run_context(context, settings, warehouse)
    frames: dict[str, list[pl.DataFrame]] = {t: [] for t in MAIN_TABLES}
    diag_rows = []
    con = warehouse.connect(settings)
    try:
        for cohort, table in COHORTS.items():
            model = f"{cohort}_main"
            cells = fetch_frame(con, f"SELECT * FROM {table} WHERE release_id = ?", [rc.release_id])
            reason = not_estimable_reason(cells)
            if reason:
                context.log.warning(f"{model}: not estimated: {reason}")
                diag_rows.append(_diag_row(model, cells, reason))
                continue
            try:
                fit = fit_grouped_logit(
                    cells,
                    outcome_n="n",
                    outcome_y="pd_closures",
                    categorical=MAIN_CATEGORICAL,
                    reference=REFERENCE,
                    fixed_effects=FIXED_EFFECTS,
                    cluster="court",
                )
            except ValueError as exc:  # not identified: recorded, not a crash
                context.log.warning(f"{model}: not estimated: {exc}")
                diag_rows.append(_diag_row(model, cells, f"not identified: {exc}"))
                continue
            d = fit.diagnostics
            context.log.info(
                f"{model}: converged={d.get('converged')} n={d.get('n_obs')} clusters={d.get('n_clusters')}"
            )
            frames["coefficients"].append(_with_ids(fit.coefficients, rc.release_id, model))
            frames["odds_ratios"].append(_with_ids(fit.odds_ratios, rc.release_id, model))
            frames["marginal_effects"].append(
                _with_ids(fit.average_marginal_effects(MAIN_CATEGORICAL), rc.release_id, model)
            )
            frames["predicted_probabilities"].append(
                _with_ids(fit.predicted_probabilities("lead_charge_category"), rc.release_id, model)
            )
            diag_rows.append(_diag_row(model, cells, "", d))
        diagnostics = pl.DataFrame(diag_rows, infer_schema_length=None)
        frames["fit_diagnostics"] = [
            diagnostics.select(pl.lit(rc.release_id).alias("release_id"), pl.all())
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
    for t in MAIN_TABLES:
        meta: dict = {"dagster/row_count": counts[t]}
        if t == "odds_ratios":
            meta["lead_charge_odds_ratios"] = dg.MetadataValue.md(markdown_table(preview))
        if t == "fit_diagnostics":
            meta["models"] = dg.MetadataValue.md(
                markdown_table(diagnostics.drop("details", "separation"))
            )
        yield dg.MaterializeResult(asset_key=dg.AssetKey(["models", t]), metadata=meta)
    estimated = [r for r in diag_rows if r["estimated"]]
    unconverged = [r["model"] for r in estimated if not r["converged"]]
    yield dg.AssetCheckResult(
        asset_key=dg.AssetKey(["models", "fit_diagnostics"]),
        check_name="models_converged",
        passed=bool(estimated) and not unconverged,
        # A release too small to model (the unit-test fixture) warns; a failed fit is an error.
        severity=dg.AssetCheckSeverity.ERROR if estimated else dg.AssetCheckSeverity.WARN,
        metadata={
            "estimated": [r["model"] for r in estimated],
            "not_converged": unconverged,
            "not_estimated": json.dumps(
                {r["model"]: r["reason"] for r in diag_rows if not r["estimated"]}
            ),
        },
    )
    yield dg.AssetCheckResult(
        asset_key=dg.AssetKey(["models", "fit_diagnostics"]),
        check_name="separation_reported",
        passed=True,
        metadata={
            "models_with_separation": [
                r["model"] for r in estimated if r["separation"] not in ("[]", "null")
            ],
            "note": "perfectly predicted cells are set aside, listed in fit_diagnostics.separation, never silently dropped",
        },
    )


# The era model compares criminal with immigration-only lead charges (docs/DECISIONS.md#models, the
# criminal-vs-immigration gap by era); national security and miscellaneous are left out of it.
ERA_GROUPS = {
    "aggravated_felony": "criminal",
    "other_criminal": "criminal",
    "entry_without_inspection": "immigration",
    "other_immigration": "immigration",
}


@dg.asset(
    key=["models", "era_gap"],
    group_name="models",
    deps=[dg.AssetKey(["marts", "model_cells_eras"])],
    partitions_def=release_partitions,
    pool=WAREHOUSE_POOL,
    description=(
        "The criminal-vs-immigration gap in P(PD closure) by policy era (Morton 2011-2014, Johnson "
        "2014-2017, 2017-2021, Mayorkas 2021-): a logit with lead-charge group x era, custody, "
        "representation, court and year fixed effects, court-clustered; the gap is the average "
        "marginal effect of a criminal (aggravated felony, other criminal) vs immigration-only "
        "(entry without inspection, other immigration) lead charge within each era, with its change "
        "from the Morton era."
    ),
    kinds={"duckdb", "python"},
)
def era_gap(context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: Warehouse):
    from pipelines.stats import fit_era_gap

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
                    controls=("custody", "represented"),
                    fixed_effects=("court", "period"),
                )
                frames["era_gap"] = [
                    _with_ids(
                        result.by_era.with_columns(pl.lit("by_era").alias("measure")),
                        rc.release_id,
                        "era_gap",
                    ),
                    _with_ids(
                        result.change_vs_first_era.with_columns(
                            pl.lit("change_vs_first_era").alias("measure")
                        ),
                        rc.release_id,
                        "era_gap",
                    ),
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
        "Robustness of the main completions model's lead-charge effects: (1) a linear probability "
        "model with the same controls, court and period fixed effects and court clustering (effects "
        "are probability differences); (2) court random intercepts instead of court fixed effects "
        "(statsmodels BinomialBayesMixedGLM, variational Bayes, on the cells expanded to rows, "
        "subsampled above 200,000 rows); (3) the range of each coefficient and AME when each court "
        "is left out in turn."
    ),
    kinds={"duckdb", "python"},
)
def robustness(context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: Warehouse):
    from pipelines.stats import fit_court_random_intercepts, fit_grouped_lpm, leave_one_court_out

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
            kwargs = dict(categorical=MAIN_CATEGORICAL, reference=REFERENCE)
            for name, run in (
                (
                    "lpm",
                    lambda: (
                        fit_grouped_lpm(
                            cells, fixed_effects=FIXED_EFFECTS, cluster="court", **kwargs
                        ).coefficients
                    ),
                ),
                (
                    "court_random_intercepts",
                    lambda: fit_court_random_intercepts(
                        cells, fixed_effects=("period",), max_rows=RI_MAX_ROWS, **kwargs
                    ).fixed_effects.rename(
                        {"posterior_mean": "estimate", "posterior_sd": "std_error"}, strict=False
                    ),
                ),
                (
                    "leave_one_court_out",
                    lambda: (
                        leave_one_court_out(
                            cells, fixed_effects=FIXED_EFFECTS, engine=LOCO_ENGINE, **kwargs
                        ).summary
                    ),
                ),
            ):
                try:
                    parts.append(_with_ids(run(), rc.release_id, name))
                except ValueError as exc:
                    notes[name] = f"not identified: {exc}"
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
