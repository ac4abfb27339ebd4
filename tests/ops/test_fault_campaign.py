"""The fault campaign script (scripts/fault_campaign.py) runs as a maintainer runs it, on two of its
cases: a read-only reports folder and a kill -9 early in the run."""

from __future__ import annotations

import re
import subprocess
import sys

from pipelines.settings import REPO_ROOT


def test_fault_campaign_runs_two_cases_and_prints_their_rows():
    res = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "scripts" / "fault_campaign.py"),
            "--cases",
            "ro_reports,kill_raw_lookups",
            "--baseline-cases",
            "400",
            "--cases-per-release",
            "200",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    rows = {line.split(" | ")[0]: line.split(" | ") for line in res.stdout.splitlines()}
    kill = rows["kill_raw_lookups"]
    assert kill[2] == "-9" and "killed in raw__eoir_lookups" in kill[1], kill
    assert kill[4:6] == ["yes", "yes"] and kill[-1] == "ok", kill
    ro = rows["ro_reports"]
    if ro[-1] != "SKIPPED":  # no private mount namespace here: the row says why
        assert ro[2] == "2" and ro[3].startswith("error: folder") and ro[-1] == "ok", ro
    summary = re.search(r"^summary: 2 cases: (\d) ok, 0 failed, (\d) skipped", res.stdout, re.M)
    assert summary and int(summary[1]) + int(summary[2]) == 2, res.stdout
