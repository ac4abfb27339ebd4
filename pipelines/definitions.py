"""The Dagster code location: `dagster dev` (or `pdpipeline ui`) in the repository root opens it.

`build_definitions(settings)` is the one graph: the code location below and `pdpipeline run`
(pipelines/cli/runner.py) both use it, so a run started from the command line is a run of the
same job, on the same assets and checks, that the UI shows.
"""

from __future__ import annotations

import dagster as dg

from pipelines.assets.classification import charge_code_map
from pipelines.assets.eoir_ingest import eoir_lookups, raw_table_assets
from pipelines.assets.extracts import analysis_extracts
from pipelines.assets.ice import ice_removals, removals_published_comparison
from pipelines.assets.models import era_gap, pd_logit, referee_tables, robustness
from pipelines.assets.reference import reference_tables
from pipelines.assets.releases import eoir_release_zip, ops_jobs, ops_schedules, release_ops_assets
from pipelines.assets.reports import release_report
from pipelines.assets.sql_models import sql_assets
from pipelines.resources import resources_for
from pipelines.sensors import build_release_sensor, failed_release_run
from pipelines.settings import Settings


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


def build_definitions(
    settings: Settings, loggers: dict | None = None, extra_jobs: list | None = None
) -> dg.Definitions:
    """Every asset, check, job, schedule and the sensor, with resources holding `settings`."""
    return dg.Definitions(
        # The download asset is not a release asset: it runs only in its own job
        # (pipelines/assets/releases.py).
        assets=[*all_assets(), eoir_release_zip],
        asset_checks=all_asset_checks(),
        jobs=[*ops_jobs, *(extra_jobs or [])],
        schedules=ops_schedules,
        sensors=[build_release_sensor(settings.sensor_interval), failed_release_run],
        resources=resources_for(settings),
        loggers=loggers,
    )


# The environment is read (and validated) here, once, when the code location loads.
defs = build_definitions(Settings.from_env())
