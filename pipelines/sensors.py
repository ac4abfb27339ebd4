"""The release sensor: a complete new release under data/raw/ becomes a partition and a run.

The decisions (is it complete, is it new, is it broken) are in pipelines/releases/watch.py; this file only
turns them into Dagster requests. On by default, so `dagster dev` picks up the embedded sample
(and any release dropped later) with no action.
"""

from __future__ import annotations

import dagster as dg

from pipelines.assets.common import release_partitions
from pipelines.assets.releases import release_job
from pipelines.releases.latest import forget_release, read_materialized
from pipelines.releases.watch import plan_tick
from pipelines.resources import PipelineSettings, Warehouse

SENSOR_NAME = "new_release_sensor"
FAILURE_SENSOR_NAME = "failed_release_run"


def build_release_sensor(interval_s: int) -> dg.SensorDefinition:
    """The sensor, ticking every `interval_s` seconds (the `sensor_interval` setting).

    A release must look the same on two ticks before it runs, so a drop is picked up within
    about twice the interval.
    """

    @dg.sensor(
        name=SENSOR_NAME,
        job=release_job,
        minimum_interval_seconds=interval_s,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Watches data/raw/ (PD_RAW_DIR). A zip or folder is run once it is unchanged across "
            "two ticks and whole: Count.txt present with all its tables, a folder's tables with "
            "the line counts Count.txt gives, a zip's members all readable with a good CRC "
            "(checked once per fingerprint of its files, in the background for a big zip). It "
            "is registered as a `release` partition and one run of every asset is requested for "
            "it (run key = release id + fingerprint). A release the warehouse already holds "
            "complete is registered as a partition but not run again; a broken release is "
            "reported once and ignored until its files change."
        ),
    )
    def new_release_sensor(
        context: dg.SensorEvaluationContext, settings: PipelineSettings, warehouse: Warehouse
    ):
        base = warehouse.settings(settings)
        plan = plan_tick(
            base.raw_dir,
            context.cursor,
            materialized=lambda: read_materialized(base),
            work_dir=base.temp_dir / "release_checks",
        )
        for path, problem in plan.broken:
            context.log.error(f"release at {path} is not usable and will not run: {problem}")
        known = set(context.instance.get_dynamic_partitions(release_partitions.name))
        # A release already complete in the warehouse (built by `pdpipeline run`, or by an
        # instance that has since been reset) still becomes a partition, so the UI lists it and
        # a person can materialize it again by hand.
        ids = {r.release_id for r in plan.requests} | set(plan.already_materialized)
        new_ids = sorted(ids - known)
        partitions = [release_partitions.build_add_request(new_ids)] if new_ids else None
        if not plan.requests:
            return dg.SensorResult(
                skip_reason=plan.skip_reason,
                cursor=plan.cursor,
                dynamic_partitions_requests=partitions,
            )
        for r in plan.requests:
            context.log.info(f"release {r.release_id} at {r.path} is complete: requesting a run")
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    run_key=r.run_key,
                    partition_key=r.release_id,
                    # The run reads exactly the files the sensor checked.
                    run_config={
                        "resources": {"settings": {"config": {"release_path": str(r.path)}}}
                    },
                    tags={"pd/release_path": str(r.path), "pd/fingerprint": r.fingerprint},
                )
                for r in plan.requests
            ],
            dynamic_partitions_requests=partitions,
            cursor=plan.cursor,
        )

    return new_release_sensor


@dg.run_failure_sensor(
    name=FAILURE_SENSOR_NAME,
    monitored_jobs=[release_job],
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "When a release run fails (a blocking check such as the Count.txt reconciliation, or any "
        "asset), the release may have been recorded complete by an earlier run whose tables the "
        "failed run has partly rewritten: its record is removed from marts.releases and the "
        "latest.* views move to the newest release still complete."
    ),
)
def failed_release_run(
    context: dg.RunFailureSensorContext, settings: PipelineSettings, warehouse: Warehouse
):
    release_id = context.dagster_run.tags.get("dagster/partition")
    if not release_id:
        return
    con = warehouse.connect(settings)
    try:
        views = forget_release(con, release_id)
    finally:
        con.close()
    if views is not None:
        context.log.info(
            f"release {release_id} failed: removed from marts.releases; latest.* now shows "
            f"{views.release_id or '(no release)'}"
        )
