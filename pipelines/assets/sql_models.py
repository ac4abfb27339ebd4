"""One Dagster asset per file in sql/staging and sql/marts (the project_dbt pattern, without dbt).

The asset key is the table name (`staging/proceedings`), the description is the file's header
comment, dependencies are the tables the SELECT names, the column schema is the table's
declaration in sql/ddl/, and the checks declared beside the file (`<table>.checks.yaml`) become
asset checks evaluated on the partition just written. The asset body only runs the file.
"""

import dagster as dg

from pipelines.assets.common import (
    WAREHOUSE_POOL,
    release_partitions,
    schema_metadata,
    table_preview,
    warehouse_session,
)
from pipelines.eoir.columns import CORE_TABLES
from pipelines.resources import PipelineSettings, Warehouse
from pipelines.warehouse.checks import Check, evaluate
from pipelines.warehouse.db import SqlModel, load_models

SEVERITY = {"error": dg.AssetCheckSeverity.ERROR, "warn": dg.AssetCheckSeverity.WARN}


def dep_key(qualified: str) -> dg.AssetKey:
    """The asset that builds a warehouse table named in SQL (case-insensitive)."""
    schema, table = qualified.split(".")
    if schema == "raw":
        core = {t.lower(): t for t in CORE_TABLES}
        if table.lower() in core:
            return dg.AssetKey(["raw", core[table.lower()]])
        return dg.AssetKey(["raw", "eoir_lookups"])
    return dg.AssetKey([schema, table.lower()])


def check_description(check: Check) -> str:
    """The sidecar's words, then what makes the check warn or stop (shown in the UI)."""
    if check.warn_above is not None:
        rule = (
            f"Passes while at most {check.warn_above:.2%} of the rows fail, warns above that, "
            f"fails above {check.stop_above:.2%}."
        )
    else:
        rule = f"Fails ({check.severity}) on any failing row."
    if check.blocking:
        rule += " Blocking: downstream assets do not run when it fails."
    return f"{check.description}\n\n{rule}\n\nDeclared in {check.source}."


def check_spec(key: dg.AssetKey, check: Check) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        check.name, asset=key, description=check_description(check), blocking=check.blocking
    )


def make_sql_asset(model: SqlModel) -> dg.AssetsDefinition:
    key = dg.AssetKey([model.schema, model.table])

    @dg.asset(
        key=key,
        group_name=model.group,
        deps=[dep_key(d) for d in model.deps],
        partitions_def=release_partitions,
        pool=WAREHOUSE_POOL,
        description=f"{model.description}\n\nSQL: sql/{model.schema}/{model.table}.sql",
        check_specs=[check_spec(key, c) for c in model.checks],
        metadata=schema_metadata(model.qualified),
        kinds={"duckdb", "sql"},
    )
    def _asset(context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: Warehouse):
        with warehouse_session(context, settings, warehouse) as wh:
            rows = wh.build(model)
            results = []
            for check in model.checks:
                outcome = evaluate(wh.con, model.qualified, check, wh.release_id)
                results.append(
                    dg.AssetCheckResult(
                        check_name=check.name,
                        passed=outcome.passed,
                        severity=SEVERITY[outcome.severity],
                        metadata=outcome.metadata,
                    )
                )
            preview = table_preview(wh.con, model.qualified, wh.release_id)
            synthetic = wh.synthetic
        context.log.info(f"{model.qualified}: {rows} rows for release {context.partition_key}")
        return dg.MaterializeResult(
            metadata={"dagster/row_count": rows, "preview": preview, "synthetic": synthetic},
            check_results=results,
        )

    return _asset


def sql_assets(schemas: tuple[str, ...] = ("staging", "marts")) -> list[dg.AssetsDefinition]:
    return [make_sql_asset(m) for m in load_models() if m.schema in schemas]
