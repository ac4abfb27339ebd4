"""How cost grows with the release: the whole pipeline at several scales, time and peak memory per
stage, and the fitted growth exponent (seconds ~ rows^b).

    python -m benchmarks scaling --scales 0.01,0.1,0.3,1.0

Each scale's figures are kept in benchmarks/results/scaling.json (one entry per scale, replaced
when that scale is run again), so the small scales and the full size can be run at different
times with the same code; the table, the chart (benchmarks/results/scaling.png) and the
exponents are made from every entry there. Ratios against the floors (bare DuckDB read_csv,
pandas) are only ever quoted within one run.
"""

from __future__ import annotations

import json
import math
import subprocess
import time
from pathlib import Path

from pipelines.settings import REPO_ROOT

RESULTS = REPO_ROOT / "benchmarks" / "results"

# Stage of a Dagster step, by its key (asset key with '__' for '/').
STAGES = ("ingest", "staging", "marts", "models", "reports", "extracts")


def stage_of(step: str) -> str:
    if step.startswith("raw__") or step.startswith("ice_"):
        return "ingest"
    if step.startswith("staging__") or step == "reference_tables":
        return "staging"
    if step.startswith("extracts__"):
        return "extracts"
    # referee_tables is the step of the models group's referee tables (event study, court
    # heterogeneity, lead-rule and population comparisons): fits, not marts.
    if step.startswith(("models__", "pd_logit", "era_gap", "robustness", "referee_tables")):
        return "models"
    if step.startswith("reports__"):
        return "reports"
    return "marts"


def stage_figures(step_times: dict, samples: list[tuple[float, int]]) -> dict[str, dict]:
    """Seconds (sum of step durations) and peak RSS (over the stage's steps) per stage."""
    out: dict[str, dict] = {s: {"seconds": 0.0, "peak_rss": 0} for s in STAGES}
    for step, (start, end) in step_times.items():
        st = out[stage_of(step)]
        st["seconds"] += max(end - start, 0.0)
        window = [rss for t, rss in samples if start - 0.1 <= t <= end + 0.1]
        if window:
            st["peak_rss"] = max(st["peak_rss"], max(window))
    return out


def growth_exponent(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of log(y) on log(x); None with fewer than two usable points."""
    pts = [(math.log(x), math.log(y)) for x, y in points if x > 0 and y > 0]
    if len(pts) < 2:
        return None
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx if sxx else None


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def load(results: Path = RESULTS) -> dict[str, dict]:
    """Every scale's latest entry: one file per scale (entry-<scale>.json), so that two runs at
    different scales never overwrite each other's figures."""
    entries: dict[str, dict] = {}
    for p in sorted(results.glob("entry-*.json")):
        e = json.loads(p.read_text(encoding="utf-8"))
        entries[str(e["scale"])] = e
    return dict(sorted(entries.items(), key=lambda kv: float(kv[0])))


def save_entry(entry: dict, results: Path = RESULTS) -> None:
    results.mkdir(parents=True, exist_ok=True)
    (results / f"entry-{entry['scale']}.json").write_text(
        json.dumps(entry, indent=1) + "\n", encoding="utf-8"
    )


def entry_for(scale: float, cases: int, total: float, peak: int, stages: dict, run: dict) -> dict:
    return {
        "scale": scale,
        "cases": cases,
        "measured_on": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit": _commit(),
        "total_seconds": round(total, 1),
        "peak_rss": peak,
        "stages": {
            s: {"seconds": round(v["seconds"], 1), "peak_rss": v["peak_rss"]}
            for s, v in stages.items()
        },
        **run,
    }


def markdown(entries: dict[str, dict]) -> str:
    """The table; a failed run is shown with its note but left out of the fitted exponents."""
    shown = sorted(entries.values(), key=lambda e: e["scale"])
    rows = [e for e in shown if e.get("succeeded", True)]
    head = (
        "| scale | cases | "
        + " | ".join(f"{s} s" for s in STAGES)
        + " | total s | peak RSS GiB | "
        + " | ".join(f"{s} GiB" for s in STAGES)
        + " | measured |"
    )
    lines = [head, "|" + "---|" * (len(STAGES) * 2 + 5)]
    for e in shown:
        lines.append(
            f"| {e['scale']} | {e['cases']:,} | "
            + " | ".join(f"{e['stages'][s]['seconds']:,.1f}" for s in STAGES)
            + f" | {e['total_seconds']:,.0f} | {e['peak_rss'] / 2**30:.2f} | "
            + " | ".join(f"{e['stages'][s]['peak_rss'] / 2**30:.2f}" for s in STAGES)
            + f" | {e['measured_on']} ({e['commit']}){'; ' + e['note'] if e.get('note') else ''} |"
        )

    def fmt(b):
        return "n/a" if b is None else f"{b:.2f}"

    exps_t = [
        growth_exponent([(e["cases"], e["stages"][s]["seconds"]) for e in rows]) for s in STAGES
    ]
    exps_m = [
        growth_exponent([(e["cases"], e["stages"][s]["peak_rss"]) for e in rows]) for s in STAGES
    ]
    exp_total = growth_exponent([(e["cases"], e["total_seconds"]) for e in rows])
    exp_peak = growth_exponent([(e["cases"], e["peak_rss"]) for e in rows])
    lines.append(
        "| exponent b | | "
        + " | ".join(fmt(b) for b in exps_t)
        + f" | {fmt(exp_total)} | {fmt(exp_peak)} | "
        + " | ".join(fmt(b) for b in exps_m)
        + " | |"
    )
    return "\n".join(lines) + "\n"


def chart(entries: dict[str, dict], out: Path = RESULTS / "scaling.png") -> Path:
    """Seconds and peak RSS per stage against cases, log-log (altair, exported by vl-convert)."""
    import altair as alt
    import pandas as pd
    import vl_convert as vlc

    recs = []
    for e in entries.values():
        # A failed run shows only the stages it finished (ingest), never a truncated later stage.
        for s in STAGES if e.get("succeeded", True) else ("ingest",):
            st = e["stages"][s]
            recs.append(
                {"cases": e["cases"], "stage": s, "measure": "seconds", "value": st["seconds"]}
            )
            recs.append(
                {
                    "cases": e["cases"],
                    "stage": s,
                    "measure": "peak RSS (GiB)",
                    "value": st["peak_rss"] / 2**30,
                }
            )
    frame = pd.DataFrame(recs)
    frame = frame[frame["value"] > 0]
    base = (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X(
                "cases:Q",
                scale=alt.Scale(type="log"),
                title="cases in the release (log)",
                # One labelled tick a decade: 1-2-5 ticks ran into each other.
                axis=alt.Axis(values=[10**k for k in range(4, 9)], format="~s"),
            ),
            y=alt.Y("value:Q", scale=alt.Scale(type="log"), title=None),
            color=alt.Color("stage:N", sort=list(STAGES)),
            # The same field as the colour: one legend shows both (a second one drew black dots).
            strokeDash=alt.StrokeDash("stage:N", sort=list(STAGES), legend=None),
        )
        .properties(width=320, height=220)
    )
    spec = (
        base.facet(column=alt.Column("measure:N", title=None))
        .resolve_scale(y="independent")
        .properties(title="Pipeline cost by stage and release size (SYNTHETIC releases)")
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(vlc.vegalite_to_png(spec.to_dict(), scale=2))
    return out
