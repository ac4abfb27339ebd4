"""One Dagster asset per file in sql/staging and sql/marts (the project_dbt pattern, without dbt).

The asset key is the table name (`staging/proceedings`), the description is the file's header
comment, dependencies are the tables the SELECT names, and `-- check:` lines become asset checks
evaluated on the partition just written. The asset body only runs the file.
"""

import dagster as dg

from pipelines.assets.common import WAREHOUSE_POOL, release_partitions, run_context, table_preview
from pipelines.eoir.columns import CORE_TABLES
from pipelines.resources import PipelineSettings, Warehouse
from pipelines.warehouse.db import SqlModel, build_model, load_models, run_check, run_variables

_CHECK_SEVERITY = {
    "unique": dg.AssetCheckSeverity.ERROR,
    "not_null": dg.AssetCheckSeverity.ERROR,
    # Orphans are counted, never dropped: a warning with the count, not a failed run.
    "references": dg.AssetCheckSeverity.WARN,
    "sql": dg.AssetCheckSeverity.ERROR,
    "sql_warn": dg.AssetCheckSeverity.WARN,
}


def dep_key(qualified: str) -> dg.AssetKey:
    """The asset that builds a warehouse table named in SQL (case-insensitive)."""
    schema, table = qualified.split(".")
    if schema == "raw":
        core = {t.lower(): t for t in CORE_TABLES}
        if table.lower() in core:
            return dg.AssetKey(["raw", core[table.lower()]])
        return dg.AssetKey(["raw", "eoir_lookups"])
    return dg.AssetKey([schema, table.lower()])


def check_name(kind: str, args: tuple[str, ...]) -> str:
    if kind == "references":
        return f"fk_{args[0]}_to_{args[1].split('.')[1]}"
    if kind in ("sql", "sql_warn"):
        return args[0]
    return f"{kind}_{'_'.join(args)}"


def make_sql_asset(model: SqlModel) -> dg.AssetsDefinition:
    key = dg.AssetKey([model.schema, model.table])
    checks = {check_name(k, a): (k, a) for k, a in model.checks}

    @dg.asset(
        key=key,
        group_name=model.group,
        deps=[dep_key(d) for d in model.deps],
        partitions_def=release_partitions,
        pool=WAREHOUSE_POOL,
        description=f"{model.description}\n\nSQL: sql/{model.schema}/{model.table}.sql",
        check_specs=[dg.AssetCheckSpec(name, asset=key) for name in checks],
        kinds={"duckdb", "sql"},
    )
    def _asset(context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: Warehouse):
        rc = run_context(context, settings, warehouse)
        con = warehouse.connect(settings)
        try:
            rows = build_model(con, model, run_variables(rc.settings, rc.release_id))
            results = []
            for name, (kind, args) in checks.items():
                passed, meta = run_check(con, model, kind, args, rc.release_id)
                results.append(
                    dg.AssetCheckResult(
                        check_name=name,
                        passed=passed,
                        severity=_CHECK_SEVERITY[kind],
                        metadata=meta,
                    )
                )
            preview = table_preview(con, model.qualified, rc.release_id)
        finally:
            con.close()
        context.log.info(f"{model.qualified}: {rows} rows for release {rc.release_id}")
        return dg.MaterializeResult(
            metadata={"dagster/row_count": rows, "preview": preview, "synthetic": rc.synthetic},
            check_results=results,
        )

    return _asset


def sql_assets(schemas: tuple[str, ...] = ("staging", "marts")) -> list[dg.AssetsDefinition]:
    return [make_sql_asset(m) for m in load_models() if m.schema in schemas]
