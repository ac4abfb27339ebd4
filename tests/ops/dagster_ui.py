"""Start `dagster dev` (webserver + daemon) on a free localhost port, talk GraphQL to it, stop it.

The instance lives in a temporary DAGSTER_HOME holding a copy of the repository's dagster.yaml
(the configuration under test; `pdpipeline run` makes it, as it makes `.dagster_home/` for a
user); the pipeline's paths point at temporary folders through the same PD_* environment
variables a user sets.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.settings import REPO_ROOT

LOCATION = "pd_pipeline"  # pyproject.toml [tool.dagster] code_location_name
REPOSITORY = "__repository__"
STARTUP_TIMEOUT_S = 240


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class GraphQLError(AssertionError):
    pass


@dataclass
class DagsterDev:
    root: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def home(self) -> Path:
        return self.root / "dagster_home"

    @property
    def raw_dir(self) -> Path:
        return self.root / "raw"

    @property
    def warehouse(self) -> Path:
        return self.root / "derived" / "warehouse.duckdb"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    @property
    def log_path(self) -> Path:
        return self.root / "dagster_dev.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DAGSTER_HOME": str(self.home),
            "PD_RAW_DIR": str(self.raw_dir),
            "PD_WAREHOUSE": str(self.warehouse),
            "PD_REPORTS_DIR": str(self.reports_dir),
            "PD_TEMP_DIR": str(self.root / "derived" / "tmp"),
            "PD_DUCKDB_MEMORY_LIMIT": "1GB",
            # Ticks a few seconds apart, so a dropped release is picked up quickly.
            "PD_SENSOR_INTERVAL": "3",
        }

    def run_cli(self, *args: str, timeout_s: float = 900) -> subprocess.CompletedProcess:
        """`pdpipeline <args>` as a user types it, with this server's environment."""
        exe = Path(sys.executable).parent / "pdpipeline"
        return subprocess.run(
            [str(exe), *args],
            cwd=REPO_ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )

    def start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.raw_dir.mkdir(parents=True, exist_ok=True)
        if not (self.home / "dagster.yaml").exists():
            shutil.copy(REPO_ROOT / "dagster.yaml", self.home / "dagster.yaml")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dagster", "dev", "-h", "127.0.0.1", "-p", str(self.port)],
            cwd=REPO_ROOT,
            env=self.env(),
            stdout=self.log_path.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() ends the code server too
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"dagster dev exited:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"dagster dev not ready in {STARTUP_TIMEOUT_S}s:\n{self.log_tail()}"
                )
            if self._location_loaded():
                return
            time.sleep(1)

    def _location_loaded(self) -> bool:
        try:
            data = self.gql(
                "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus "
                "locationOrLoadError { __typename ... on PythonError { message } } } } } }"
            )
        except (urllib.error.URLError, OSError, GraphQLError):
            return False
        for entry in data["workspaceOrError"].get("locationEntries", []):
            if entry["name"] == LOCATION and entry["loadStatus"] == "LOADED":
                loaded = entry["locationOrLoadError"]
                if loaded["__typename"] == "PythonError":
                    raise AssertionError(f"code location failed to load: {loaded['message']}")
                return True
        return False

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        pgid = os.getpgid(self.proc.pid)
        os.killpg(pgid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(pgid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        # The webserver, daemon and code servers are in the same group; make sure none is left.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.5)
        os.killpg(pgid, signal.SIGKILL)

    def log_tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def gql(self, query: str, variables: dict | None = None) -> dict:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        req = urllib.request.Request(
            f"{self.url}/graphql", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=60) as resp:
            payload = json.loads(resp.read())
        if payload.get("errors"):
            raise GraphQLError(json.dumps(payload["errors"])[:2000])
        return payload["data"]

    # --- the calls the tests make -------------------------------------------------------------

    def sensor_selector(self, name: str) -> dict:
        return {
            "repositoryLocationName": LOCATION,
            "repositoryName": REPOSITORY,
            "sensorName": name,
        }

    def stop_sensor(self, name: str) -> str:
        data = self.gql(
            "query($s: SensorSelector!) { sensorOrError(sensorSelector: $s) { __typename "
            "... on Sensor { sensorState { id status } } } }",
            {"s": self.sensor_selector(name)},
        )
        state_id = data["sensorOrError"]["sensorState"]["id"]
        out = self.gql(
            "mutation($id: String!) { stopSensor(id: $id) { __typename "
            "... on StopSensorMutationResult { instigationState { status } } "
            "... on PythonError { message } } }",
            {"id": state_id},
        )["stopSensor"]
        return out["instigationState"]["status"]

    def start_sensor(self, name: str) -> str:
        out = self.gql(
            "mutation($s: SensorSelector!) { startSensor(sensorSelector: $s) { __typename "
            "... on Sensor { sensorState { status } } ... on PythonError { message } } }",
            {"s": self.sensor_selector(name)},
        )["startSensor"]
        return out["sensorState"]["status"]

    def add_partition(self, partitions_def: str, key: str) -> str:
        out = self.gql(
            "mutation($r: RepositorySelector!, $d: String!, $k: String!) { "
            "addDynamicPartition(repositorySelector: $r, partitionsDefName: $d, partitionKey: $k) "
            "{ __typename ... on AddDynamicPartitionSuccess { partitionKey } "
            "... on PythonError { message } } }",
            {
                "r": {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY},
                "d": partitions_def,
                "k": key,
            },
        )["addDynamicPartition"]
        return out["__typename"]

    def runs_for_partition(self, key: str) -> list[dict]:
        data = self.gql(
            "query($t: [ExecutionTag!]) { runsOrError(filter: {tags: $t}) { "
            "... on Runs { results { runId status jobName tags { key value } } } } }",
            {"t": [{"key": "dagster/partition", "value": key}]},
        )
        return data["runsOrError"]["results"]

    def wait_for_run(self, run_id: str, timeout_s: float = 300) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            status = self.gql(
                "query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }",
                {"id": run_id},
            )["runOrError"]["status"]
            if status in ("SUCCESS", "FAILURE", "CANCELED"):
                return status
            time.sleep(1)
        raise AssertionError(f"run {run_id} did not finish in {timeout_s}s:\n{self.log_tail()}")

    def run_events(self, run_id: str) -> list[dict]:
        """Every event of a run, paging through logsForRun."""
        events, cursor = [], None
        while True:
            data = self.gql(
                "query($id: ID!, $c: String) { logsForRun(runId: $id, afterCursor: $c) { "
                "__typename ... on EventConnection { cursor hasMore events { __typename "
                "... on MessageEvent { message level } "
                "... on ExecutionStepFailureEvent { stepKey error { message } } "
                "... on AssetCheckEvaluationEvent { evaluation { checkName success severity "
                "assetKey { path } } } } } } }",
                {"id": run_id, "c": cursor},
            )["logsForRun"]
            events.extend(data["events"])
            cursor = data["cursor"]
            if not data["hasMore"]:
                return events

    def sensor_ticks(self, name: str) -> list[dict]:
        data = self.gql(
            "query($s: SensorSelector!) { sensorOrError(sensorSelector: $s) { ... on Sensor { "
            "sensorState { ticks(limit: 20) { status skipReason runIds } } } } }",
            {"s": self.sensor_selector(name)},
        )
        return data["sensorOrError"]["sensorState"]["ticks"]

    def sensor_cursor(self, name: str) -> str | None:
        data = self.gql(
            "query($s: SensorSelector!) { sensorOrError(sensorSelector: $s) { ... on Sensor { "
            "sensorState { typeSpecificData { ... on SensorData { lastCursor } } } } } }",
            {"s": self.sensor_selector(name)},
        )
        return (data["sensorOrError"]["sensorState"]["typeSpecificData"] or {}).get("lastCursor")

    def partition_keys(self, partitions_def: str) -> list[str]:
        data = self.gql(
            "query($r: RepositorySelector!) { repositoryOrError(repositorySelector: $r) { "
            "... on Repository { partitionSets { name partitionsOrError { ... on Partitions { "
            "results { name } } } } } } }",
            {"r": {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}},
        )
        keys: set[str] = set()
        for ps in data["repositoryOrError"]["partitionSets"]:
            for p in (ps.get("partitionsOrError") or {}).get("results", []):
                keys.add(p["name"])
        return sorted(keys)

    def asset_checks(self, asset_path: list[str]) -> dict[str, dict]:
        """{check name: latest execution (status, its evaluation's partition)} of an asset."""
        data = self.gql(
            "query($k: AssetKeyInput!) { assetNodeOrError(assetKey: $k) { ... on AssetNode { "
            "assetChecksOrError { ... on AssetChecks { checks { name description "
            "executionForLatestMaterialization { status runId evaluation { severity "
            "targetMaterialization { runId } } } } } } } } }",
            {"k": {"path": asset_path}},
        )
        checks = data["assetNodeOrError"]["assetChecksOrError"]["checks"]
        return {c["name"]: c for c in checks}

    def materialized_partitions(self, asset_path: list[str]) -> list[str]:
        data = self.gql(
            "query($k: AssetKeyInput!) { assetNodeOrError(assetKey: $k) { ... on AssetNode { "
            "assetPartitionStatuses { ... on DefaultPartitionStatuses { materializedPartitions "
            "} } } } }",
            {"k": {"path": asset_path}},
        )
        return data["assetNodeOrError"]["assetPartitionStatuses"]["materializedPartitions"]

    def materialization_metadata(self, asset_path: list[str], partition: str) -> dict[str, str]:
        data = self.gql(
            "query($k: AssetKeyInput!, $p: [String!]) { assetOrError(assetKey: $k) { "
            "... on Asset { assetMaterializations(partitions: $p, limit: 1) { metadataEntries { "
            "label ... on MarkdownMetadataEntry { mdStr } ... on TextMetadataEntry { text } "
            "} } } } }",
            {"k": {"path": asset_path}, "p": [partition]},
        )
        (mat,) = data["assetOrError"]["assetMaterializations"]
        return {e["label"]: e.get("mdStr") or e.get("text") for e in mat["metadataEntries"]}
