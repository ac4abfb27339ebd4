"""ICE removals: read the release's workbooks, clean, classify; compare with ICE's published figures."""

import json

import dagster as dg
import polars as pl

from pipelines.assets.common import (
    WAREHOUSE_POOL,
    markdown_table,
    release_partitions,
    run_context,
    schema_metadata,
    warehouse_session,
)
from pipelines.releases.find import ice_files_for
from pipelines.resources import PipelineSettings, Warehouse

STAGING_KEY = dg.AssetKey(["staging", "ice_removals"])
MART_KEY = dg.AssetKey(["marts", "removals"])
COMPARISON_KEY = dg.AssetKey(["marts", "removals_published_comparison"])


def _empty_removals() -> pl.DataFrame:
    from pipelines.ice.reader import META_COLUMNS, canonical_columns

    return pl.DataFrame(schema={c: pl.String for c in [*META_COLUMNS, *canonical_columns()]})


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            STAGING_KEY,
            group_name="ice_ingest",
            description=(
                "ICE removal records from the release's ERO-LESA workbooks (an `ice/` folder beside "
                "the EOIR release): header row found under the cover block, every data sheet "
                "concatenated, columns mapped to one schema by data/reference/ice_column_aliases.csv; "
                "redaction tokens such as (b)(6)(b)(7)(c) to NULL, codes kept as text, impossible "
                "dates to NULL (counted), likely duplicates flagged, fiscal year of departure."
            ),
            metadata=schema_metadata("staging.ice_removals"),
            kinds={"duckdb", "python"},
        ),
        dg.AssetSpec(
            MART_KEY,
            group_name="classification",
            deps=[STAGING_KEY],
            description=(
                "One row per removal with its classification: criminality (convicted / pending "
                "charges / other immigration violator, and where it came from), ICE's Case Threat "
                "Level as given or a derived level flagged `derived`, the NCIC offense family of the "
                "most serious conviction, and `immigration_only_conviction` (NCIC 03xx)."
            ),
            metadata=schema_metadata("marts.removals"),
            kinds={"duckdb", "python"},
        ),
    ],
    # Formula cells with no stored value are read as NULL (pipelines.ice.reader): counted here.
    check_specs=[
        dg.AssetCheckSpec(
            "formula_cells_have_values",
            asset=STAGING_KEY,
            description=(
                "Every formula cell of the ICE workbooks has a stored value; one without is read "
                "as empty, never as 0, and counted here by file, sheet and column."
            ),
        )
    ],
    partitions_def=release_partitions,
    pool=WAREHOUSE_POOL,
)
def ice_removals(
    context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: Warehouse
):
    from pipelines.ice.classify import classify_removals
    from pipelines.ice.clean import clean_removals
    from pipelines.ice.reader import read_ice_release, release_date_from_filenames

    rc = run_context(context, settings, warehouse)
    files = ice_files_for(rc.release_path)
    if files:
        context.log.info(f"reading {len(files)} ICE workbook(s): {[f.name for f in files]}")
        frame, report = read_ice_release(files)
        release_date = release_date_from_filenames(files)
    else:
        context.log.warning(f"no ICE workbooks beside {rc.release_path}: ICE tables are empty")
        frame, report, release_date = _empty_removals(), {"rows": 0, "files": []}, None
    formula_cells = report.get("formula_cells_without_value", {})
    for where, n in formula_cells.items():
        context.log.warning(
            f"{where}: {n} formula cell(s) hold no calculated value and were read as NULL; "
            "open the file in a spreadsheet program and save it, or ask ICE for values"
        )
    cleaned, counts = clean_removals(frame, release_date)
    classified = classify_removals(cleaned)
    with warehouse_session(context, settings, warehouse) as wh:
        n_staged = wh.write("staging.ice_removals", cleaned)
        n_mart = wh.write("marts.removals", classified)
    yield dg.MaterializeResult(
        asset_key=STAGING_KEY,
        metadata={
            "dagster/row_count": n_staged,
            "files": [f.name for f in files],
            "rows_per_sheet": report.get("rows_per_sheet", {}),
            "unknown_columns": report.get("unknown_columns", {}),
            "layouts": report.get("layouts", []),
            "cleaning_counts": dg.MetadataValue.json(json.loads(json.dumps(counts, default=str))),
            "formula_cells_without_value": dg.MetadataValue.json(formula_cells),
        },
    )
    yield dg.AssetCheckResult(
        asset_key=STAGING_KEY,
        check_name="formula_cells_have_values",
        passed=not formula_cells,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "formula_cells_without_value": sum(formula_cells.values()),
            "by_file_sheet_column": dg.MetadataValue.json(formula_cells),
        },
    )
    by_source = classified.group_by("criminality", "threat_level_source").len().sort("criminality")
    yield dg.MaterializeResult(
        asset_key=MART_KEY,
        metadata={
            "dagster/row_count": n_mart,
            "by_criminality": dg.MetadataValue.md(markdown_table(by_source)),
        },
    )


@dg.asset(
    key=COMPARISON_KEY,
    group_name="classification",
    deps=[dg.AssetKey(["marts", "removals_by_fy"])],
    partitions_def=release_partitions,
    pool=WAREHOUSE_POOL,
    description=(
        "Fiscal-year removals and convicted-criminal removals of the FOIA records against ICE's "
        "published figures (data/reference/ice_removals_published_aggregates.csv), for fiscal years "
        "the release fully covers. Not applicable to synthetic data."
    ),
    check_specs=[
        dg.AssetCheckSpec(
            "matches_published_figures",
            asset=COMPARISON_KEY,
            description=(
                "Warns when a fiscal year's removals or convicted-criminal removals in the FOIA "
                "records differ from ICE's published figure by more than the tolerance of "
                "pipelines/ice/published.py; years the release does not fully cover are not "
                "compared."
            ),
        )
    ],
    metadata=schema_metadata("marts.removals_published_comparison"),
    kinds={"duckdb", "python"},
)
def removals_published_comparison(
    context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: Warehouse
):
    from pipelines.ice.published import compare_with_published

    with warehouse_session(context, settings, warehouse) as wh:
        by_fy = wh.fetch("SELECT * FROM marts.removals_by_fy WHERE release_id = ?", [wh.release_id])
        comparison = compare_with_published(by_fy)
        n = wh.write("marts.removals_published_comparison", comparison)
    compared = comparison.filter(pl.col("status") == "compared")
    off = compared.filter(~pl.col("within_tolerance"))
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": n,
            "comparison": dg.MetadataValue.md(markdown_table(comparison)),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="matches_published_figures",
                passed=off.height == 0,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={
                    "fiscal_years_compared": compared.height,
                    "outside_tolerance": off["fiscal_year"].to_list(),
                    "statuses": sorted(set(comparison["status"].to_list())),
                },
            )
        ],
    )
