"""The Dagster code location: `dagster dev` in the repository root opens it."""

from __future__ import annotations

import dagster as dg

from pipelines.assets.classification import charge_code_map
from pipelines.assets.eoir_ingest import eoir_lookups, raw_table_assets
from pipelines.assets.ice import ice_removals, removals_published_comparison
from pipelines.assets.models import pd_logit
from pipelines.assets.reference import reference_tables
from pipelines.assets.sql_models import sql_assets
from pipelines.resources import default_resources


def all_assets() -> list:
    return [
        *raw_table_assets,
        eoir_lookups,
        reference_tables,
        charge_code_map,
        ice_removals,
        removals_published_comparison,
        pd_logit,
        *sql_assets(),
    ]


def all_asset_checks() -> list:
    """Asset checks defined apart from their assets (most live in the assets' check_specs)."""
    return []


defs = dg.Definitions(
    assets=all_assets(),
    asset_checks=all_asset_checks(),
    resources=default_resources(),
)
