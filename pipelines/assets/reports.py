"""The report asset: every chart and table of a release under reports/<release>/."""

import base64

import dagster as dg

from pipelines.assets.common import WAREHOUSE_POOL, release_partitions, run_context
from pipelines.resources import PipelineSettings, Warehouse

REPORT_KEY = dg.AssetKey(["reports", "release_report"])
UPSTREAM = [
    ["marts", "run_settings"],
    ["marts", "pd_closures_by_category"],
    ["marts", "pd_rates_by_category"],
    ["marts", "pd_by_month"],
    ["marts", "pd_by_group"],
    ["marts", "removals_by_fy"],
    ["models", "odds_ratios"],
    ["models", "marginal_effects"],
    ["models", "era_gap"],
]


def _thumbnail_md(svg_path, title: str) -> str:
    """A small PNG rendered from the chart's SVG, inline, for the asset's metadata."""
    import vl_convert as vlc

    png = vlc.svg_to_png(svg_path.read_text(encoding="utf-8"), scale=0.6)
    return f"**{title}**\n\n![{title}](data:image/png;base64,{base64.b64encode(png).decode()})"


@dg.asset(
    key=REPORT_KEY,
    group_name="reports",
    deps=[dg.AssetKey(k) for k in UPSTREAM],
    partitions_def=release_partitions,
    pool=WAREHOUSE_POOL,
    description=(
        "Publication charts (SVG, PDF, 300-dpi PNG, Vega-Lite JSON and the CSV behind each) and "
        "tables (CSV, Markdown, LaTeX booktabs) for the release, with an index.html; each file "
        "states its source release, window, generation date and code version, charts from the "
        "synthetic sample carry a SYNTHETIC mark, and counts below the threshold are suppressed."
    ),
    kinds={"python"},
    check_specs=[
        dg.AssetCheckSpec(
            "suppressed_cells_not_recoverable",
            asset=REPORT_KEY,
            description=(
                "Attacks the published files of the release (every CSV, Markdown, LaTeX and "
                "index.html table, every Vega-Lite dataset): row and column differences, the same "
                "cell across tables and charts, courts and quarters against the window's totals, "
                "rates beside suppressed counts. Fails if any suppressed count comes back."
            ),
        )
    ],
)
def release_report(
    context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: Warehouse
):
    from pipelines.publish.release_report import write_release_report

    rc = run_context(context, settings, warehouse)
    out = rc.settings.reports_dir / rc.release_id
    con = warehouse.connect(settings, read_only=True)
    try:
        index = write_release_report(
            con,
            rc.settings,
            rc.release_id,
            out_dir=out,
            progress=lambda stem: context.log.info(f"exporting {stem}"),
        )
    finally:
        con.close()
    from pipelines.publish.attack import attack_report
    from pipelines.publish.stored import stored_settings

    con = warehouse.connect(settings, read_only=True)
    try:
        stored = stored_settings(con, rc.release_id)
    finally:
        con.close()
    attack = attack_report(out, stored.window_start, stored.window_end)
    check = dg.AssetCheckResult(
        check_name="suppressed_cells_not_recoverable",
        passed=attack.ok,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "files_attacked": attack.files,
            "suppressed_cells": attack.suppressed,
            # Which cells came back, never their values.
            "recovered_cells": dg.MetadataValue.json([list(k) for k in attack.recovered][:50]),
            "leaks": dg.MetadataValue.json(attack.leaks[:50]),
        },
    )
    files = sorted(p for p in out.iterdir() if p.is_file())
    thumbs = [_thumbnail_md(p, p.stem) for p in files if p.suffix == ".svg"]
    return dg.MaterializeResult(
        metadata={
            "index": dg.MetadataValue.path(str(index)),
            "files": dg.MetadataValue.md("\n".join(f"- `{p}`" for p in files)),
            "n_files": len(files),
            "thumbnails": dg.MetadataValue.md("\n\n".join(thumbs)),
            "synthetic": rc.synthetic,
        },
        check_results=[check],
    )
