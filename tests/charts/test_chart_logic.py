"""Pure pieces behind the charts: intervals, label layout, ticks, eras, theme, provenance."""

from __future__ import annotations

from datetime import date

import altair as alt
import numpy as np
import polars as pl
import pytest
from statsmodels.stats.proportion import proportion_confint

from pipelines.charts import theme
from pipelines.charts.courts import add_rates, prepare_courts, wilson_interval
from pipelines.charts.models import era_labels, log_ticks, prepare_era_gap, prepare_forest
from pipelines.charts.provenance import SYNTHETIC_MARK, Provenance, code_version, footer_lines
from pipelines.charts.rates_over_time import layout_policy_labels
from pipelines.charts.removals import prepare_removals
from pipelines.classify.policy import POLICY_DATES, POLICY_ERAS, era_of


def test_wilson_interval_matches_statsmodels():
    rng = np.random.default_rng(7)
    n = rng.integers(1, 5000, 200)
    k = rng.binomial(n, rng.uniform(0, 1, 200))
    k[:3], n[:3] = [0, 5, 17], [10, 5, 17]  # edges: no successes, all successes
    low, high = wilson_interval(k, n)
    sm_low, sm_high = proportion_confint(k, n, alpha=0.05, method="wilson")
    np.testing.assert_allclose(low, sm_low, rtol=0, atol=1e-12)
    np.testing.assert_allclose(high, sm_high, rtol=0, atol=1e-12)
    low90, _ = wilson_interval(k, n, alpha=0.10)
    np.testing.assert_allclose(low90, proportion_confint(k, n, 0.10, "wilson")[0], atol=1e-12)


def test_court_rates_blank_where_no_completions_or_suppressed():
    df = pl.DataFrame(
        {"court": ["A", "B", "C"], "completions": [0, 100, 400], "pd_closures": [0, 3, 40]}
    )
    rated = add_rates(df)
    assert rated["pd_rate"].to_list() == [None, 0.03, 0.1]
    out = prepare_courts(df)
    assert out["pd_rate"].to_list() == [None, None, 0.1]
    assert out["ci_low"][1] is None and out["ci_high"][1] is None
    assert out["ci_low"][2] == pytest.approx(proportion_confint(40, 400, method="wilson")[0])


def test_policy_labels_never_overlap():
    start, end = date(2009, 10, 1), date(2022, 7, 1)
    font = 7
    for plot_w in (150, 200, 450):
        labels = layout_policy_labels(list(POLICY_DATES), start, end, plot_w, font)
        assert [lab["label"] for lab in labels] == [p.short_label for p in POLICY_DATES]
        span = (end - start).days
        boxes = []
        for lab in labels:
            x = (date.fromisoformat(lab["on"]) - start).days / span * plot_w
            w = len(lab["label"]) * font * 0.55 + 4
            left = x - w if lab["align"] == "right" else x
            assert left >= -1e-9 or lab["align"] == "left"
            assert left + w <= plot_w + 1e-9 or lab["align"] == "left"
            boxes.append((lab["row"], left, left + w))
        for i, (row, a0, a1) in enumerate(boxes):
            for row2, b0, b1 in boxes[i + 1 :]:
                assert row != row2 or a1 < b0 or b1 < a0
    # Close dates need more than one row.
    assert (
        max(lab["row"] for lab in layout_policy_labels(list(POLICY_DATES), start, end, 200, 7)) >= 1
    )


def test_policy_eras_come_from_the_dates():
    assert [name for name, _ in POLICY_ERAS] == [
        "Pre-Morton",
        "Morton",
        "Johnson",
        "2017-2021",
        "Mayorkas",
    ]
    assert era_of(date(2011, 6, 16)) == "Pre-Morton"
    assert era_of(date(2011, 6, 17)) == "Morton"
    assert era_of(date(2014, 11, 20)) == "Johnson"
    assert era_of(date(2019, 1, 1)) == "2017-2021"
    assert era_of(date(2021, 9, 30)) == "Mayorkas"
    assert [d.on for d in POLICY_DATES] == sorted(d.on for d in POLICY_DATES)
    labels = era_labels()
    assert labels["Morton"] == ["Morton", "2011\u201314"] and labels["2017-2021"] == [
        "2017\u201321"
    ]


def test_log_ticks_are_1_2_5_and_thin_out():
    assert log_ticks(0.15, 1.5) == [0.2, 0.5, 1.0]
    assert log_ticks(0.008, 1.4, max_ticks=5) == [0.01, 0.03, 0.1, 0.3, 1.0]
    assert log_ticks(0.0001, 10, max_ticks=4) == [0.0001, 0.01, 1.0]


def test_model_inputs_are_checked():
    bad = pl.DataFrame({"term": ["a"], "estimate": [0.5], "ci_low": [0.6], "ci_high": [0.9]})
    with pytest.raises(ValueError, match="outside its CI"):
        prepare_forest(bad)
    neg = pl.DataFrame({"term": ["a"], "estimate": [-0.1], "ci_low": [-0.2], "ci_high": [0.1]})
    with pytest.raises(ValueError, match="> 0 for a log scale"):
        prepare_forest(neg, "odds_ratio")
    assert prepare_forest(neg, "ame")["is_reference"].to_list() == [False]
    with pytest.raises(ValueError, match="unknown policy eras"):
        prepare_era_gap(
            pl.DataFrame({"era": ["Obama"], "estimate": [0.0], "ci_low": [0.0], "ci_high": [0.0]})
        )
    with pytest.raises(ValueError, match="lacks columns"):
        prepare_forest(pl.DataFrame({"term": ["a"]}))


def test_removals_threat_levels_are_normalised_and_checked():
    df = pl.DataFrame(
        {
            "fiscal_year": [2012] * 4,
            "threat_level": ["Level 1", "2", "3", None],
            "immigration_only_excluded": [False] * 4,
            "removals": [100, 200, 300, 400],
        }
    )
    out = prepare_removals(df)
    assert out["threat_level"].to_list() == ["1", "2", "3", "none"]
    assert out["threat_label"].to_list() == ["Level 1", "Level 2", "Level 3", "No conviction"]
    with pytest.raises(ValueError, match="not 1, 2, 3 or none"):
        prepare_removals(df.with_columns(threat_level=pl.lit("4")))


def test_theme_is_registered_and_serif():
    theme.enable()
    assert theme.THEME_NAME in alt.theme.names()
    with alt.theme.enable(theme.THEME_NAME):
        assert alt.theme.active == theme.THEME_NAME
    cfg = theme.theme_config()["config"]
    assert "Serif" in cfg["font"] and cfg["view"]["stroke"] is None
    assert cfg["axis"]["grid"] is False
    assert theme.WIDTHS == {"column": 252, "page": 504}
    assert len(set(theme.PALETTE)) == len(theme.PALETTE) == 8


def test_provenance_footnote_and_synthetic_flag():
    p = Provenance("EOIR", "synthetic-2026-04", date(2011, 12, 1), None, date(2026, 1, 2), "v1")
    assert p.synthetic and not Provenance("EOIR", "2026-04").synthetic
    assert p.footnote() == (
        "Source: EOIR; release synthetic-2026-04; window from 2011-12-01; generated 2026-01-02; v1."
    )
    lines = footer_lines(p, 150, ["A note."])
    assert lines[0] == "A note." and SYNTHETIC_MARK in " ".join(lines)
    assert all(len(line) * 6.5 * 0.55 <= 150 + 1 for line in lines)
    assert p.as_dict()["synthetic"] is True and p.as_dict()["generated"] == "2026-01-02"
    assert code_version().startswith("pd-pipeline ")


def test_palette_reads_in_grayscale():
    def luma(hex_colour: str) -> float:
        r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
        return 0.299 * r + 0.587 * g + 0.114 * b

    first3 = sorted(luma(c) for c in theme.PALETTE[:3])
    assert min(b - a for a, b in zip(first3, first3[1:], strict=False)) > 60
    ordinal = [luma(c) for c in (*theme.ORDINAL_BLUES, theme.NEUTRAL_FILL)]
    assert ordinal[:4] == sorted(ordinal[:4])  # threat levels: darker = more serious
