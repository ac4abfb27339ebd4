"""Classification assets that need Python: the charge-code map over the release's distinct codes."""

import dagster as dg
import polars as pl

from pipelines.assets.common import (
    WAREHOUSE_POOL,
    markdown_table,
    release_partitions,
    schema_metadata,
    warehouse_session,
)
from pipelines.resources import PipelineSettings, Warehouse

CHARGE_MAP_KEY = dg.AssetKey(["staging", "charge_code_map"])
# The share of charges (rows, not spellings) whose code is unknown warns above 1% and fails above
# 5%: a few unknown spellings are expected in every release, a twentieth means the map is stale.
UNKNOWN_SHARE_WARN = 0.01
UNKNOWN_SHARE_FAIL = 0.05


def unknown_share_check(counted: pl.DataFrame) -> dg.AssetCheckResult:
    """`counted`: one row per raw spelling with `n` rows and its `category_source`."""
    total = int(counted["n"].sum()) if counted.height else 0
    unknown = (
        counted.filter(pl.col("category_source") == "unknown")
        .group_by("CHARGE")
        .agg(pl.col("n").sum())
        .sort("n", descending=True)
    )
    n_unknown = int(unknown["n"].sum()) if unknown.height else 0
    share = n_unknown / total if total else 0.0
    severity = (
        dg.AssetCheckSeverity.ERROR if share > UNKNOWN_SHARE_FAIL else dg.AssetCheckSeverity.WARN
    )
    return dg.AssetCheckResult(
        asset_key=CHARGE_MAP_KEY,
        check_name="unknown_charge_share",
        passed=share <= UNKNOWN_SHARE_WARN,
        severity=severity,
        metadata={
            "charges": total,
            "unknown_charges": n_unknown,
            "unknown_share": round(share, 6),
            "warn_above": UNKNOWN_SHARE_WARN,
            "fail_above": UNKNOWN_SHARE_FAIL,
            "unknown_spellings": dg.MetadataValue.md(
                markdown_table(unknown.rename({"CHARGE": "charge_raw", "n": "rows"}).head(50))
            ),
        },
    )


@dg.asset(
    key=CHARGE_MAP_KEY,
    group_name="classification",
    deps=[dg.AssetKey(["raw", "B_TblProceedCharges"]), dg.AssetKey(["staging", "lookup_charges"])],
    partitions_def=release_partitions,
    pool=WAREHOUSE_POOL,
    description=(
        "Every distinct CHARGE spelling in the release (about 571 in a real release for 252 lookup "
        "codes) mapped to its canonical EOIR code, INA citation and severity category by "
        "pipelines.classify (data/reference/charge_severity.csv, the citation-prefix rules, and the "
        "release's own criminal_flag / aggravate_felon where it has them). Only the distinct "
        "spellings pass through Python; the charge rows are joined in SQL."
    ),
    check_specs=[
        dg.AssetCheckSpec(
            "unknown_charge_share",
            asset=CHARGE_MAP_KEY,
            description=(
                "The share of the release's charges (rows) whose code maps to no severity "
                f"category: passes up to {UNKNOWN_SHARE_WARN:.0%}, warns above it, fails above "
                f"{UNKNOWN_SHARE_FAIL:.0%}. The unknown spellings are listed with their counts."
            ),
        ),
        dg.AssetCheckSpec(
            "release_flags_agree",
            asset=CHARGE_MAP_KEY,
            description=(
                "Warns where the release's own criminal_flag / aggravate_felon in the charges "
                "lookup disagree with the category the classifier gives the code."
            ),
        ),
    ],
    metadata=schema_metadata("staging.charge_code_map"),
    kinds={"duckdb", "python"},
)
def charge_code_map(
    context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: Warehouse
):
    from pipelines.classify.severity import charge_code_map as build_map
    from pipelines.classify.severity import release_flag_disagreements

    with warehouse_session(context, settings, warehouse) as wh:
        raw = wh.fetch(
            "SELECT CHARGE, count(*) AS n FROM raw.B_TblProceedCharges WHERE release_id = ? GROUP BY 1",
            [wh.release_id],
        )
        lookup = wh.fetch(
            "SELECT charge_code_raw AS charge_code, criminal_flag, aggravate_felon "
            "FROM staging.lookup_charges WHERE release_id = ?",
            [wh.release_id],
        )
        codes = [*raw["CHARGE"].to_list(), *lookup["charge_code"].to_list()]
        mapping = build_map(codes, release_lookup=lookup if lookup.height else None)
        rows = wh.write("staging.charge_code_map", mapping)
    disagreements = release_flag_disagreements(lookup) if lookup.height else pl.DataFrame()
    counted = raw.join(
        mapping, left_on="CHARGE", right_on="charge_raw", how="left", nulls_equal=True
    )
    by_category = (
        counted.group_by("severity_category").agg(pl.col("n").sum()).sort("severity_category")
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "distinct_spellings_in_data": raw.height,
            "charges_by_category": dg.MetadataValue.md(markdown_table(by_category)),
        },
        check_results=[
            unknown_share_check(counted),
            dg.AssetCheckResult(
                asset_key=CHARGE_MAP_KEY,
                check_name="release_flags_agree",
                passed=disagreements.height == 0,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={
                    "disagreements": disagreements.height,
                    "detail": dg.MetadataValue.md(markdown_table(disagreements.head(50))),
                },
            ),
        ],
    )
