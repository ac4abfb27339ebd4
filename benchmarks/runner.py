"""Benchmarks that print their figures (never timed unit tests).

    python -m benchmarks ingest --cases 1000000      # ingest of the three big tables vs bare read_csv
    python -m benchmarks full --scale 1.0            # every asset through Dagster at a real release's size
    python -m benchmarks scaling --scales 0.01,0.1,0.3,1.0   # full at each scale, growth exponents
    python -m benchmarks models --rows 1000000       # grouped vs row-level logit (benchmarks.models)

`full` writes BENCHMARKS.md. Scale 1.0 is the 2026 release: 12,662,705 cases (the generator makes
about 1.3 proceedings and 2.3 charges per case, close to the real 16.5M and 18.9M).
Peak RSS is sampled every 0.1 s over this process and its children.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from pipelines.settings import REPO_ROOT, Settings

REAL_CASES = 12_662_705
BIG_TABLES = ("A_TblCase", "B_TblProceeding", "B_TblProceedCharges")


class PeakRSS:
    """Samples the resident memory of this process tree in a background thread."""

    def __init__(self, interval: float = 0.1):
        self.interval = interval
        self.peak = 0
        self.samples: list[tuple[float, int]] = []  # (epoch seconds, bytes), for per-stage peaks
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        me = psutil.Process()
        total = me.memory_info().rss
        for child in me.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = self._sample()
            self.samples.append((time.time(), rss))
            self.peak = max(self.peak, rss)
            time.sleep(self.interval)

    def __enter__(self) -> PeakRSS:
        self.peak = self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._sample())


def gib(n: float) -> str:
    return f"{n / 2**30:.2f} GiB"


@dataclass
class Measured:
    label: str
    seconds: float
    rows: int
    mb: float
    peak_rss: int

    def line(self) -> str:
        rate = f"{self.rows / self.seconds:,.0f} rows/s" if self.rows else ""
        mbs = f"{self.mb / self.seconds:,.1f} MB/s" if self.mb else ""
        return f"| {self.label} | {self.seconds:,.1f} | {self.rows:,} | {rate} | {mbs} | {gib(self.peak_rss)} |"


def machine() -> str:
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, {gib(psutil.virtual_memory().total)} RAM, "
        f"Python {platform.python_version()}"
    )


def generate(out: Path, cases: int, seed: int = 20260401, ice_rows: int = 0) -> Path:
    import json

    from pipelines.sample.eoir import write_sample_release

    truth = out / "truth.json"
    if truth.exists() and (out / "EOIR Case Data.zip").exists():
        t = json.loads(truth.read_text(encoding="utf-8"))
        ice_ok = not ice_rows or (out / "ice").is_dir()
        if t.get("cases") == cases and t.get("seed") == seed and ice_ok:
            print(
                f"reusing the generated release in {out} ({cases:,} cases, seed {seed})", flush=True
            )
            return out / "EOIR Case Data.zip"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    t = time.perf_counter()
    rel = write_sample_release(out, cases=cases, seed=seed, zip=True, progress=True)
    if ice_rows:
        from pipelines.sample.ice import write_sample_ice

        write_sample_ice(
            out / "ice", n_rows=ice_rows, seed=seed, rows_per_sheet=max(1000, ice_rows // 3)
        )
    print(f"generated {cases:,} cases in {time.perf_counter() - t:.1f}s: {rel.path}", flush=True)
    return rel.path


def bare_read_csv(folder: Path, settings: Settings) -> list[Measured]:
    """The floor: DuckDB's own parallel CSV reader on the extracted files, all columns as text."""
    import duckdb

    out = []
    for table in BIG_TABLES:
        path = next(folder.rglob(f"{table}.csv"))
        con = duckdb.connect(
            str(settings.temp_dir / "bare.duckdb"),
            config={
                "memory_limit": settings.duckdb_memory_limit,
                "threads": settings.duckdb_threads,
                "temp_directory": str(settings.temp_dir),
            },
        )
        with PeakRSS() as rss:
            t = time.perf_counter()
            con.execute(
                f"CREATE OR REPLACE TABLE t AS SELECT * FROM read_csv('{path}', delim='\\t', quote='', "
                "escape='', header=true, all_varchar=true, ignore_errors=true, strict_mode=false, "
                "null_padding=true)"
            )
            rows = con.execute("SELECT count(*) FROM t").fetchall()[0][0]
            sec = time.perf_counter() - t
        con.close()
        (settings.temp_dir / "bare.duckdb").unlink(missing_ok=True)
        out.append(
            Measured(f"bare read_csv {table}", sec, rows, path.stat().st_size / 1e6, rss.peak)
        )
    return out


def pandas_read(folder: Path) -> list[Measured]:
    """The peers' reader: pandas' C engine, tab-separated, QUOTE_NONE, every column a string.

    Read in parts of 1M rows and dropped (the peers keep the whole frame; that costs memory, not
    speed); bad lines are skipped, as the peers' scripts do."""
    import csv

    import pandas as pd

    out = []
    for table in BIG_TABLES:
        path = next(folder.rglob(f"{table}.csv"))
        with PeakRSS() as rss:
            t = time.perf_counter()
            rows = 0
            with pd.read_csv(
                path,
                sep="\t",
                quoting=csv.QUOTE_NONE,
                dtype=str,
                keep_default_na=False,
                encoding="latin-1",
                engine="c",
                on_bad_lines="skip",
                chunksize=1_000_000,
            ) as reader:
                for part in reader:
                    rows += len(part)
            sec = time.perf_counter() - t
        out.append(
            Measured(f"pandas C engine {table}", sec, rows, path.stat().st_size / 1e6, rss.peak)
        )
    return out


def ingest_tables(release_path: Path, settings: Settings) -> list[Measured]:
    from pipelines.eoir.archive import open_release
    from pipelines.eoir.columns import core_specs
    from pipelines.eoir.ingest import ingest_table
    from pipelines.warehouse.db import connect

    rel = open_release(release_path)
    con = connect(settings)
    out = []
    for table in BIG_TABLES:
        member = rel.member(table)
        with PeakRSS() as rss:
            t = time.perf_counter()
            audit = ingest_table(con, rel, member, core_specs()[table], settings.temp_dir)
            sec = time.perf_counter() - t
        assert audit.accounted, audit
        out.append(
            Measured(
                f"ingest {table} ({'zip' if rel.is_zip else 'folder'})",
                sec,
                audit.lines_read,
                member.size / 1e6,
                rss.peak,
            )
        )
    con.close()
    return out


def release_dir(workdir: Path, cases: int) -> Path:
    """One cached generated release per size, so a scaling run does not regenerate each time."""
    return workdir / f"release-{cases}"


def ratios(results: list[Measured]) -> list[str]:
    """Throughput ratios of ingest against the two floors, per table and for the three together."""
    by = {m.label: m for m in results}
    lines = []
    for src in ("folder", "zip"):
        ing = [by.get(f"ingest {t} ({src})") for t in BIG_TABLES]
        if None in ing:
            continue
        for peer in ("bare read_csv", "pandas C engine"):
            base = [by.get(f"{peer} {t}") for t in BIG_TABLES]
            if None in base:
                continue
            per = ", ".join(
                f"{t} {b.seconds / i.seconds:.2f}x"
                for t, b, i in zip(BIG_TABLES, base, ing, strict=True)
            )
            total = sum(b.seconds for b in base) / sum(i.seconds for i in ing)
            lines.append(f"ingest ({src}) vs {peer}: {total:.2f}x throughput ({per})")
    return lines


def bench_ingest(cases: int, workdir: Path) -> list[Measured]:
    zip_path = generate(release_dir(workdir, cases), cases)
    folder = workdir / "extracted"
    if folder.exists():
        shutil.rmtree(folder)
    import zipfile

    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(folder)
    settings = Settings(warehouse=workdir / "bench.duckdb", temp_dir=workdir / "tmp")
    settings.temp_dir.mkdir(parents=True, exist_ok=True)
    settings.warehouse.unlink(missing_ok=True)
    results = bare_read_csv(folder, settings)
    results += pandas_read(folder)
    results += ingest_tables(folder, settings)
    settings.warehouse.unlink(missing_ok=True)
    results += ingest_tables(zip_path, settings)
    header = "| step | seconds | rows | rows/s | MB/s | peak RSS |\n|---|---|---|---|---|---|"
    print(header)
    for m in results:
        print(m.line())
    for line in ratios(results):
        print(line)
    return results


def bench_full(
    scale: float,
    workdir: Path,
    ice_rows: int,
    show_progress: bool = True,
    skip: tuple[str, ...] = (),
):
    """Run everything at `scale` (but the assets in `skip`, e.g. "models/robustness", and what
    depends on them); returns (Markdown report, run outcome)."""
    from pipelines.cli.runner import run_release

    cases = max(1000, int(REAL_CASES * scale))
    zip_path = generate(release_dir(workdir, cases), cases, ice_rows=ice_rows)
    # Everything a run writes is under its own folder, so runs at two scales cannot collide.
    run_dir = workdir / f"run-{cases}"
    folder = run_dir / "extracted"
    if folder.exists():
        shutil.rmtree(folder)
    import zipfile

    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(folder, members=[m for m in zf.namelist() if any(t in m for t in BIG_TABLES)])
    settings = Settings(
        warehouse=run_dir / "warehouse.duckdb",
        reports_dir=run_dir / "reports",
        temp_dir=run_dir / "tmp",
        raw_dir=workdir,
    )
    settings.temp_dir.mkdir(parents=True, exist_ok=True)
    settings.warehouse.unlink(missing_ok=True)
    floor = bare_read_csv(folder, settings)
    floor += pandas_read(folder)
    with PeakRSS() as rss:
        t = time.perf_counter()
        selection = None
        if skip:
            import dagster as dg

            skipped = dg.AssetSelection.assets(*[dg.AssetKey(k.split("/")) for k in skip])
            selection = dg.AssetSelection.all() - skipped.downstream()
        outcome = run_release(zip_path, settings, show_progress=show_progress, selection=selection)
        total = time.perf_counter() - t
    if not outcome.success:
        print(f"run failed: {outcome}", file=sys.stderr)
    steps = sorted(outcome.step_times.items(), key=lambda kv: kv[1][0])
    ingest_keys = [f"raw__{t}" for t in BIG_TABLES]
    ingest_s = sum(e - s for k, (s, e) in steps if k in ingest_keys)
    later_s = sum(
        e - s
        for k, (s, e) in steps
        if k.startswith(
            (
                "staging",
                "marts",
                "models",
                "pd_logit",
                "era_gap",
                "robustness",
                "reports",
                "extracts",
            )
        )
    )
    floor_s = sum(m.seconds for m in floor if m.label.startswith("bare"))
    pandas_s = sum(m.seconds for m in floor if m.label.startswith("pandas"))
    sizes = {t: next(folder.rglob(f"{t}.csv")).stat().st_size / 1e6 for t in BIG_TABLES}
    from benchmarks.scaling import stage_figures

    stages = stage_figures(outcome.step_times, rss.samples)
    stage_line = ", ".join(
        f"{name} {v['seconds']:,.0f} s (peak {gib(v['peak_rss'])})" for name, v in stages.items()
    )
    lines = [
        f"Measured by `python -m benchmarks full --scale {scale}` on {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC: "
        f"{machine()}. DuckDB memory_limit {settings.duckdb_memory_limit}, threads {settings.duckdb_threads}. "
        f"SYNTHETIC release of {cases:,} cases (scale {scale} of the 2026 release), ICE workbook rows {ice_rows:,}. "
        "The machine is shared and noisy: ratios within one run are what to read."
        + (f" Not run: {', '.join(skip)} and what depends on it." if skip else "")
        + "\n",
        f"- whole pipeline: {total:,.0f} s wall (target <= 600 s at scale 1.0), peak RSS of the process tree "
        f"{gib(rss.peak)} (target <= 4 GiB), run {'succeeded' if outcome.success else 'FAILED'}",
        f"- by stage: {stage_line}",
        f"- ingest of the three big tables from the zip: {ingest_s:,.1f} s; bare DuckDB read_csv of the same "
        f"extracted files: {floor_s:,.1f} s -> ingest throughput = {floor_s / ingest_s:.2f}x bare read_csv "
        f"(target >= 0.8x); pandas C engine (QUOTE_NONE, all strings) of the same files: {pandas_s:,.1f} s "
        f"-> {pandas_s / ingest_s:.2f}x pandas (target >= 2x)",
        f"- every later stage together: {later_s:,.1f} s vs ingest {ingest_s:,.1f} s (target: no longer than ingest)\n",
        "| asset (step) | seconds | rows | rows/s | MB/s |",
        "|---|---|---|---|---|",
    ]
    for key, (s, e) in steps:
        asset = key.replace("__", "/")
        rows = outcome.row_counts.get(asset, 0)
        table = key.removeprefix("raw__")
        mb = sizes.get(table, 0.0)
        sec = max(e - s, 1e-9)
        lines.append(
            f"| {key} | {sec:,.1f} | {rows:,} | {rows / sec:,.0f} | {mb / sec if mb else 0:,.1f} |"
        )
    lines += [
        "",
        "| floor | seconds | rows | rows/s | MB/s | peak RSS |",
        "|---|---|---|---|---|---|",
    ]
    lines += [m.line() for m in floor]
    report = "\n".join(lines) + "\n"
    print(report)
    bench_full.last = {
        "total": total,
        "peak": rss.peak,
        "stages": stages,
        "cases": cases,
        "run": {
            "succeeded": outcome.success,
            "ingest_big_tables_seconds": round(ingest_s, 1),
            "bare_read_csv_seconds": round(floor_s, 1),
            "pandas_seconds": round(pandas_s, 1),
            "later_stages_seconds": round(later_s, 1),
        },
    }
    return report, outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    ing = sub.add_parser("ingest")
    ing.add_argument("--cases", type=int, default=1_000_000)
    full = sub.add_parser("full")
    full.add_argument("--scale", type=float, default=1.0)
    full.add_argument("--ice-rows", type=int, default=100_000)
    full.add_argument("--write", default=str(REPO_ROOT / "BENCHMARKS.md"), help="'' to not write")
    scaling = sub.add_parser("scaling")
    scaling.add_argument("--scales", default="0.01,0.1,0.3,1.0")
    scaling.add_argument(
        "--write", default=str(REPO_ROOT / "BENCHMARKS.md"), help="'' to not write"
    )
    scaling.add_argument(
        "--skip", default="", help="asset keys not to run, comma-separated (models/robustness)"
    )
    models = sub.add_parser("models")
    models.add_argument("--rows", type=int, default=1_000_000)
    for p in (ing, full, scaling):
        p.add_argument("--workdir", default=str(REPO_ROOT / "data" / "derived" / "bench"))
    args = parser.parse_args(argv)
    if args.command == "models":
        from benchmarks.models import bench_grouped_vs_rowlevel

        print(bench_grouped_vs_rowlevel(args.rows, seed=1))
        return 0
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    if args.command == "ingest":
        bench_ingest(args.cases, workdir)
        return 0
    if args.command == "scaling":
        skip = tuple(k for k in args.skip.split(",") if k)
        scales = [float(x) for x in args.scales.split(",") if x]  # none: only rewrite the table
        return run_scaling(scales, workdir, args.write, skip)
    report, _ = bench_full(args.scale, workdir, args.ice_rows)
    if args.write:
        Path(args.write).write_text("# Benchmarks\n\n" + report, encoding="utf-8")
        print(f"wrote {args.write}")
    return 0


def run_scaling(scales: list[float], workdir: Path, write: str, skip: tuple[str, ...] = ()) -> int:
    from benchmarks import scaling

    for scale in scales:
        ice_rows = max(1500, int(100_000 * scale))
        report, _ = bench_full(scale, workdir, ice_rows, skip=skip)
        last = bench_full.last
        last["run"]["skipped"] = list(skip)
        scaling.save_entry(
            scaling.entry_for(
                scale, last["cases"], last["total"], last["peak"], last["stages"], last["run"]
            )
        )
        (scaling.RESULTS / f"report-{scale}.md").write_text(report, encoding="utf-8")
    entries = scaling.load()
    table = scaling.markdown(entries)
    png = scaling.chart(entries)
    print(table)
    if write:
        ok = [k for k, e in entries.items() if e.get("succeeded", True)] or list(entries)
        largest = max(ok, key=float)
        full_report = (scaling.RESULTS / f"report-{largest}.md").read_text(encoding="utf-8")
        Path(write).write_text(
            "# Benchmarks\n\n"
            f"## The largest run (scale {largest})\n\n{full_report}\n"
            "## How cost grows\n\n"
            "`python -m benchmarks scaling --scales 0.01,0.1,0.3,1.0`: the whole pipeline on SYNTHETIC "
            "releases at four sizes; seconds and peak RSS of the process tree per stage, and the "
            "exponent b of a least-squares fit seconds ~ cases^b (b = 1 is linear; for memory, b near "
            "0 means flat). Each row is one run; rows may come from different runs of the same code "
            "(commit in the last column).\n\n"
            f"{table}\n![cost by stage and size]({png.relative_to(REPO_ROOT)})\n",
            encoding="utf-8",
        )
        print(f"wrote {write}")
    return 0
