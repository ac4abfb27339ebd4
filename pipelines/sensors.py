"""The release sensor: a complete new release under data/raw/ becomes a partition and a run.

The decisions (is it complete, is it new, is it broken) are in pipelines/releases/watch.py; this file only
turns them into Dagster requests. On by default, so `dagster dev` picks up the embedded sample
(and any release dropped later) with no action.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from pipelines.assets.common import release_partitions
from pipelines.assets.releases import release_job
from pipelines.releases.latest import read_materialized
from pipelines.releases.watch import plan_tick
from pipelines.resources import PipelineSettings, Warehouse

# Seconds between ticks. A release must look the same on two ticks before it runs, so a drop is
# picked up within about twice this. PD_SENSOR_INTERVAL overrides it (the UI tests use a few s).
SENSOR_INTERVAL_S = int(os.environ.get("PD_SENSOR_INTERVAL", "30"))


@dg.sensor(
    name="new_release_sensor",
    job=release_job,
    minimum_interval_seconds=SENSOR_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Watches data/raw/ (PD_RAW_DIR). A zip or folder that is unchanged across two ticks and "
        "complete (zip central directory readable, Count.txt present with all its tables) is "
        "registered as a `release` partition and one run of every asset is requested for it "
        "(run key = release id + fingerprint of its files). A broken release is reported once "
        "and ignored until its files change."
    ),
)
def new_release_sensor(
    context: dg.SensorEvaluationContext, settings: PipelineSettings, warehouse: Warehouse
):
    base = warehouse.settings(settings)
    plan = plan_tick(
        Path(settings.raw_dir), context.cursor, materialized=lambda: read_materialized(base)
    )
    for path, problem in plan.broken:
        context.log.error(f"release at {path} is not usable and will not run: {problem}")
    if not plan.requests:
        return dg.SensorResult(skip_reason=plan.skip_reason, cursor=plan.cursor)
    known = set(context.instance.get_dynamic_partitions(release_partitions.name))
    new_ids = sorted({r.release_id for r in plan.requests} - known)
    for r in plan.requests:
        context.log.info(f"release {r.release_id} at {r.path} is complete: requesting a run")
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=r.run_key,
                partition_key=r.release_id,
                # The run reads exactly the files the sensor checked.
                run_config={"resources": {"settings": {"config": {"release_path": str(r.path)}}}},
                tags={"pd/release_path": str(r.path), "pd/fingerprint": r.fingerprint},
            )
            for r in plan.requests
        ],
        dynamic_partitions_requests=[release_partitions.build_add_request(new_ids)]
        if new_ids
        else None,
        cursor=plan.cursor,
    )
