"""Analysis-ready extracts (parquet, Stata, CSV) of the classified marts, with their codebook."""

import dagster as dg
import polars as pl

from pipelines.assets.common import WAREHOUSE_POOL, markdown_table, release_partitions, run_context
from pipelines.extracts.columns import EXTRACT_TABLES
from pipelines.resources import PipelineSettings, Warehouse

EXTRACTS_KEY = dg.AssetKey(["extracts", "analysis_extracts"])


def _deps() -> list[dg.AssetKey]:
    # The marts extracted, and the lookups whose names label the codes.
    marts = [dg.AssetKey(t.mart.split(".")) for t in EXTRACT_TABLES]
    lookups = [
        dg.AssetKey(["staging", n])
        for n in ("lookup_base_city", "lookup_nationality", "lookup_case_type", "lookup_court_decision")
    ]  # fmt: skip
    return [*marts, *lookups]


@dg.asset(
    key=EXTRACTS_KEY,
    group_name="extracts",
    deps=_deps(),
    partitions_def=release_partitions,
    pool=WAREHOUSE_POOL,
    description=(
        "One file per analysis table (proceedings with PD flag and lead-charge category, "
        "classified charges, the two analysis cohorts, ICE removals when the release has them) "
        "as parquet (and, when the extract_formats setting asks, Stata .dta format 118 labelled, "
        "and CSV; `pdpipeline extract` writes them on request), with a codebook generated from "
        "the data and pipelines/extracts/columns.py (Markdown and CSV), in "
        "<reports_dir>/<release>/extracts/. Provenance in the parquet metadata, the Stata data "
        "label and the codebook header."
    ),
    kinds={"duckdb", "parquet", "csv"},
)
def analysis_extracts(
    context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: Warehouse
) -> dg.MaterializeResult:
    from pipelines.extracts.write import extract_provenance, write_extracts

    rc = run_context(context, settings, warehouse)
    s = rc.settings
    out_dir = s.reports_dir / rc.release_id / "extracts"
    con = warehouse.connect(settings, read_only=True)
    try:
        result = write_extracts(
            con,
            rc.release_id,
            out_dir,
            formats=[f.strip() for f in s.extract_formats.split(",")],
            suppress_below=s.suppress_below,
            provenance=extract_provenance(rc.release_id, s.window_start, s.window_end),
            show_progress=False,
            log=context.log.info,
        )
    finally:
        con.close()
    for table, cols in result.undocumented.items():
        context.log.warning(f"{table}: mart columns without an extract definition: {cols}")
    summary = pl.DataFrame(
        [
            {"extract": t, "rows": result.rows[t], "files": ", ".join(p.name for p in f.values())}
            for t, f in result.files.items()
        ]
        + [{"extract": t, "rows": None, "files": f"skipped: {why}"} for t, why in result.skipped.items()],
        schema={"extract": pl.String, "rows": pl.Int64, "files": pl.String},
    )  # fmt: skip
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(out_dir)),
            "extracts": dg.MetadataValue.md(markdown_table(summary)),
            "codebook": dg.MetadataValue.md(result.codebook_markdown),
            "stata_renamed": dg.MetadataValue.json(result.renamed_for_stata()),
            "undocumented_columns": dg.MetadataValue.json(result.undocumented),
            "synthetic": rc.synthetic,
        }
    )
