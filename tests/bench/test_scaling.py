"""The scaling benchmark's arithmetic: growth exponents and per-stage figures."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.scaling import growth_exponent, markdown, stage_figures, stage_of


def test_growth_exponent_matches_an_independent_log_log_fit():
    rng = np.random.default_rng(3)
    x = np.array([127_000, 1_266_000, 3_798_000, 12_662_705], dtype=float)
    y = 0.002 * x**0.93 * np.exp(rng.normal(0, 0.05, len(x)))
    slope = np.polyfit(np.log(x), np.log(y), 1)[0]
    assert growth_exponent(list(zip(x, y, strict=True))) == pytest.approx(slope, abs=1e-12)
    assert growth_exponent([(10.0, 5.0)]) is None
    assert growth_exponent([(10.0, 5.0), (100.0, 0.0)]) is None  # a zero cannot be logged


def test_stage_figures_sum_seconds_and_take_the_peak_inside_each_stage():
    steps = {
        "raw__A_TblCase": (100.0, 110.0),
        "raw__B_TblProceeding": (110.0, 130.0),
        "staging__cases": (130.0, 135.0),
        "models__robustness": (135.0, 160.0),
        "extracts__analysis_extracts": (160.0, 170.0),
    }
    samples = [(105.0, 1), (120.0, 7), (132.0, 3), (150.0, 9), (165.0, 2), (200.0, 99)]
    got = stage_figures(steps, samples)
    assert got["ingest"] == {"seconds": 30.0, "peak_rss": 7}
    assert got["staging"] == {"seconds": 5.0, "peak_rss": 3}
    assert got["models"] == {"seconds": 25.0, "peak_rss": 9}
    assert got["extracts"] == {"seconds": 10.0, "peak_rss": 2}
    assert got["marts"] == {"seconds": 0.0, "peak_rss": 0}
    assert stage_of("pd_logit") == "models" and stage_of("marts__proceedings") == "marts"
    assert stage_of("referee_tables") == "models"


def test_markdown_table_has_one_row_per_scale_and_the_exponents():
    def entry(scale, cases, sec):
        stages = {
            s: {"seconds": sec, "peak_rss": 2**30}
            for s in ("ingest", "staging", "marts", "models", "reports", "extracts")
        }
        return {
            "scale": scale,
            "cases": cases,
            "total_seconds": 6 * sec,
            "peak_rss": 2**30,
            "stages": stages,
            "measured_on": "now",
            "commit": "abc",
        }

    table = markdown({"0.1": entry(0.1, 1000, 10.0), "1.0": entry(1.0, 10000, 100.0)})
    lines = table.strip().splitlines()
    assert len(lines) == 5
    assert lines[-1].startswith("| exponent b | | 1.00 | 1.00")
    assert "| 0.00 |" in lines[-1]  # memory flat
