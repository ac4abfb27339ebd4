"""Classification assets that need Python: the charge-code map over the release's distinct codes."""

import dagster as dg
import polars as pl

from pipelines.assets.common import WAREHOUSE_POOL, markdown_table, release_partitions, run_context
from pipelines.resources import PipelineSettings, Warehouse
from pipelines.warehouse import fetch_frame, write_frame

CHARGE_MAP_KEY = dg.AssetKey(["staging", "charge_code_map"])


@dg.asset(
    key=CHARGE_MAP_KEY,
    group_name="classification",
    deps=[dg.AssetKey(["raw", "B_TblProceedCharges"]), dg.AssetKey(["raw", "eoir_lookups"])],
    partitions_def=release_partitions,
    pool=WAREHOUSE_POOL,
    description=(
        "Every distinct CHARGE spelling in the release (about 571 in a real release for 252 lookup "
        "codes) mapped to its canonical EOIR code, INA citation and severity category, by "
        "pipelines.classify.charges (the rules and data/reference/charge_severity.csv). Only the "
        "distinct spellings pass through Python; the 18.9M charge rows are joined in SQL."
    ),
    kinds={"duckdb", "python"},
)
def charge_code_map(
    context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: Warehouse
):
    from pipelines.classify.charges import charge_code_map as build_map

    rc = run_context(context, settings, warehouse)
    con = warehouse.connect(settings)
    try:
        raw = fetch_frame(
            con,
            "SELECT CHARGE, count(*) AS n FROM raw.B_TblProceedCharges WHERE release_id = ? GROUP BY 1",
            [rc.release_id],
        )
        lookup_codes = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT STRCODE FROM raw.tbllookupCharges WHERE release_id = ? AND STRCODE IS NOT NULL",
                [rc.release_id],
            ).fetchall()
        ]
        codes = sorted({c for c in raw["CHARGE"].to_list() if c is not None} | set(lookup_codes))
        mapping = build_map(codes)
        frame = mapping.with_columns(pl.lit(rc.release_id).alias("release_id")).select(
            "release_id", *[c for c in mapping.columns if c != "release_id"]
        )
        rows = write_frame(con, "staging.charge_code_map", rc.release_id, frame)
    finally:
        con.close()
    counted = raw.join(mapping, left_on="CHARGE", right_on="charge_raw", how="left")
    unknown = (
        counted.filter(pl.col("category_source") == "unknown")
        .group_by("CHARGE")
        .agg(pl.col("n").sum())
        .sort("n", descending=True)
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "distinct_spellings_in_data": raw.height,
            "unknown_spellings": unknown.height,
            "unknown_preview": dg.MetadataValue.md(markdown_table(unknown.head(20))),
        }
    )
