"""A `pdpipeline run` killed with its process (kill -9) leaves its run STARTED and its slot of the
`warehouse` pool claimed in the Dagster instance; the next `pdpipeline run` frees both, else it
would wait at its first warehouse step for ever (scripts/fault_campaign.py found it)."""

from __future__ import annotations

import subprocess
import sys

import dagster as dg

from pipelines.cli.runner import cli_run_tags, release_dead_cli_runs


def _started_run(instance: dg.DagsterInstance, tags: dict[str, str]) -> str:
    run = instance.create_run_for_job(
        dg.GraphDefinition(name="g", node_defs=[]).to_job(name="materialize_release"),
        tags=tags,
    )
    instance.handle_run_event(
        run.run_id,
        dg.DagsterEvent(
            event_type_value=dg.DagsterEventType.RUN_START.value, job_name="materialize_release"
        ),
    )
    instance.event_log_storage.claim_concurrency_slot("warehouse", run.run_id, "raw__A_TblCase")
    return run.run_id


def test_a_killed_cli_runs_pool_slot_and_status_are_released(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        instance.event_log_storage.set_concurrency_slots("warehouse", 1)
        killed = _started_run(instance, {**cli_run_tags(), "pd/cli_pid": str(dead.pid)})
        alive = _started_run(instance, cli_run_tags())  # this process: a run still going
        other = _started_run(instance, {})  # launched by dagster dev: not the CLI's business
        info = instance.event_log_storage.get_concurrency_info("warehouse")
        assert info.claimed_slots[0].run_id == killed and info.pending_step_count == 2

        assert release_dead_cli_runs(instance) == [killed]

        assert instance.get_run_by_id(killed).status == dg.DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(alive).status == dg.DagsterRunStatus.STARTED
        assert instance.get_run_by_id(other).status == dg.DagsterRunStatus.STARTED
        # The slot is free: one of the runs waiting for it gets it (which one is the pool's
        # queue order, not this test's business), and only one.
        info = instance.event_log_storage.get_concurrency_info("warehouse")
        assert info.claimed_slots == []
        claimed = [
            instance.event_log_storage.claim_concurrency_slot(
                "warehouse", run_id, "raw__A_TblCase"
            ).is_claimed
            for run_id in (alive, other)
        ]
        assert claimed.count(True) == 1, claimed
