"""Time exporting the chart families (all formats) on sample-sized demo inputs.

    .venv/bin/python -m benchmarks.charts [n_charts]

Prints one line per chart and the total; asserts nothing (DESIGN: exporting every chart should
take under 30 s on the sample).
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from benchmarks.chart_demo_data import demo_frames
from pipelines.charts.export import CHART_FORMATS
from pipelines.charts.families import FAMILIES, render_chart
from pipelines.charts.provenance import Provenance


def bench_export(
    n_charts: int | None = None,
    out_dir: str | Path | None = None,
    width: str = "column",
    formats: tuple[str, ...] = CHART_FORMATS,
) -> dict[str, float]:
    """Export `n_charts` charts (cycling through the families; default: each family once).

    Returns {stem: seconds}; prints them and the total.
    """
    frames = demo_frames()
    names = list(FAMILIES)
    n = len(names) if n_charts is None else n_charts
    provenance = Provenance(
        "demo inputs (benchmarks.chart_demo_data)",
        "synthetic-demo",
        date(2011, 12, 1),
        date(2013, 6, 30),
    )
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(out_dir) if out_dir else Path(tmp)
        start = time.perf_counter()
        for i in range(n):
            family = names[i % len(names)]
            t0 = time.perf_counter()
            rendered = render_chart(
                family, frames[family], target, provenance, width, formats, stem=f"{family}_{i}"
            )
            timings[rendered.stem] = time.perf_counter() - t0
            print(f"{rendered.stem:<24} {timings[rendered.stem]:6.2f} s  {len(formats)} files")
        total = time.perf_counter() - start
    print(f"{'total':<24} {total:6.2f} s  for {n} charts ({', '.join(formats)})")
    return timings


if __name__ == "__main__":
    bench_export(int(sys.argv[1]) if len(sys.argv) > 1 else None)
