"""The Dagster code location: `dagster dev` in the repository root opens it."""

from __future__ import annotations

import dagster as dg

from pipelines.assets.classification import charge_code_map
from pipelines.assets.eoir_ingest import eoir_lookups, raw_table_assets
from pipelines.assets.extracts import analysis_extracts
from pipelines.assets.ice import ice_removals, removals_published_comparison
from pipelines.assets.models import era_gap, pd_logit, referee_tables, robustness
from pipelines.assets.ops import eoir_release_zip, ops_jobs, ops_schedules, release_ops_assets
from pipelines.assets.reference import reference_tables
from pipelines.assets.reports import release_report
from pipelines.assets.sql_models import sql_assets
from pipelines.resources import default_resources
from pipelines.sensors import new_release_sensor


def all_assets() -> list:
    core = [
        *raw_table_assets,
        eoir_lookups,
        reference_tables,
        charge_code_map,
        ice_removals,
        removals_published_comparison,
        pd_logit,
        era_gap,
        robustness,
        referee_tables,
        release_report,
        analysis_extracts,
        *sql_assets(),
    ]
    # The release diff and the latest-release views come last: they depend on all of the above.
    return [*core, *release_ops_assets(core)]


def all_asset_checks() -> list:
    """Asset checks defined apart from their assets (most live in the assets' check_specs)."""
    return []


defs = dg.Definitions(
    # The download asset is not a release asset: it runs only in its own job (pipelines/assets/ops.py).
    assets=[*all_assets(), eoir_release_zip],
    asset_checks=all_asset_checks(),
    jobs=ops_jobs,
    schedules=ops_schedules,
    sensors=[new_release_sensor],
    resources=default_resources(),
)
