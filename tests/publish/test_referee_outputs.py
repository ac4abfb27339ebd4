"""The event-study chart, the lead-rule and court-heterogeneity tables and the appendix paragraphs
on them, as the sample run publishes them: their numbers are the models.* tables' numbers, small
cells are suppressed and cannot be recovered, the LaTeX fits an 11 pt article."""

from __future__ import annotations

import math
from datetime import date

import polars as pl
import pytest

from pipelines.publish import release_report as rr
from pipelines.publish.attack import attack_report
from pipelines.publish.cells import add_frame, build_equations, frame_name
from pipelines.publish.disclosure import PRIMARY, CellSet, protect, solve
from pipelines.publish.latex import article, compile_document, engine
from pipelines.publish.stored import stored_settings
from pipelines.tables.export import export_table
from pipelines.warehouse.db import connect, fetch_frame, write_frame

THRESHOLD = 10


@pytest.fixture(scope="module")
def sample(sample_warehouse):
    assert sample_warehouse.outcome.success
    con = connect(sample_warehouse.settings, read_only=True)
    rid = sample_warehouse.release_id
    yield con, rid, sample_warehouse.settings.reports_dir / rid
    con.close()


def _csv(path):
    return pl.read_csv(path, infer_schema=False)


def test_event_study_chart_is_exported_listed_and_marked_synthetic(sample):
    _, _, out = sample
    for ext in ("svg", "pdf", "png", "csv", "csv-metadata.json"):
        assert (out / f"event_study_column.{ext}").stat().st_size > 0, ext
    assert "event_study_column" in (out / "index.html").read_text(encoding="utf-8")
    svg = (out / "event_study_column.svg").read_text(encoding="utf-8")
    assert "SYNTHETIC" in svg and "Months since the policy date" in svg


def test_event_study_csv_holds_the_table_rates_and_blanks_small_months(sample):
    con, rid, out = sample
    table = fetch_frame(
        con,
        'SELECT policy, "group", relative_month, completions, pd_closures, estimate, ci_low, '
        "ci_high FROM models.event_study WHERE release_id = ? AND measure = 'monthly_rate'",
        [rid],
    )
    csv = _csv(out / "event_study_column.csv")
    assert csv.height == table.height
    by_key = {(r["policy"], r["group"], r["relative_month"]): r for r in table.to_dicts()}
    small = shown = 0
    for r in csv.to_dicts():
        src = by_key[(r["policy"], r["group"], int(r["relative_month"]))]
        if 1 <= src["completions"] < THRESHOLD or 1 <= src["pd_closures"] < THRESHOLD:
            small += 1
            assert r["estimate"] in (None, ""), r
            assert r["ci_high"] in (None, ""), r
            assert r["suppressed"] == "true"
        if r["estimate"] not in (None, ""):
            shown += 1
            assert float(r["estimate"]) == pytest.approx(src["estimate"], abs=1e-12)
            assert float(r["ci_low"]) == pytest.approx(src["ci_low"], abs=1e-12)
            assert float(r["ci_high"]) == pytest.approx(src["ci_high"], abs=1e-12)
            assert int(r["completions"]) == src["completions"]
    # The sample has both kinds of month: the test looks at something.
    assert small > 0 and shown > 0


def test_lead_rule_table_prints_the_models_numbers_and_suppresses_small_event_counts(sample):
    con, rid, out = sample
    table = fetch_frame(
        con,
        "SELECT l.lead_rule, coalesce(s.label, l.term) AS label, l.ame, l.ame_ci_low, "
        "l.ame_ci_high, l.odds_ratio, l.pd_closures_with_term FROM models.lead_rule_comparison l "
        "LEFT JOIN staging.severity_categories s ON s.release_id = l.release_id "
        "AND s.category = regexp_extract(l.term, '\\[T\\.(.*)\\]', 1) "
        "WHERE l.release_id = ? AND l.term LIKE 'lead_charge_category%'",
        [rid],
    )
    csv = _csv(out / "lead_rule_comparison.csv")
    # Every term of every rule is a row: nothing dropped (all charges withdrawn has no rank).
    assert csv.height == table.height
    assert set(csv["lead_rule"]) == set(rr.LEAD_RULE_LABELS.values())
    printed = {(r["lead_rule"], r["lead_charge"]): r for r in csv.to_dicts()}
    small = 0
    for src in table.to_dicts():
        label = src["label"] if "[T." not in src["label"] else "All charges withdrawn"
        row = printed[(rr.LEAD_RULE_LABELS[src["lead_rule"]], label)]
        assert row["ame_pp"] == f"{100 * src['ame']:.1f}"
        assert row["ame_ci"] == f"[{100 * src['ame_ci_low']:.1f}, {100 * src['ame_ci_high']:.1f}]"
        assert row["odds_ratio"] == f"{src['odds_ratio']:.2f}"
        n = int(src["pd_closures_with_term"])
        if 1 <= n < THRESHOLD:
            small += 1
            assert row["pd_closures"] == f"<{THRESHOLD}", row
        else:
            assert row["pd_closures"] == str(n)
    assert small > 0
    tex = (out / "lead_rule_comparison.tex").read_text(encoding="utf-8")
    assert "\\toprule" in tex and "lead_rule" not in tex.split("\\toprule")[1]


def test_the_sample_report_leaves_no_suppressed_count_recoverable(sample):
    con, rid, out = sample
    stored = stored_settings(con, rid)
    result = attack_report(out, stored.window_start, stored.window_end)
    assert result.ok, (result.recovered, result.leaks[:5])
    # The attack reads the new files as cells, not as files without counts.
    assert frame_name("event_study_column") == "event_study"
    assert frame_name("lead_rule_comparison") == "lead_rule_comparison"
    assert (out / "event_study_column.csv").exists() and (out / "lead_rule_comparison.csv").exists()


def test_a_small_month_is_protected_against_its_categories_quarters():
    """A group's three months add up to its categories' quarters: one small month alone would be
    recovered from the other two and the quarters, so a second cell is suppressed."""
    month_rows = pl.DataFrame(
        {
            "month": [date(2012, 1, 1), date(2012, 2, 1), date(2012, 3, 1)],
            "group": ["criminal"] * 3,
            "categories": ["Aggravated felony; Other criminal"] * 3,
            "completions": [40, 50, 60],
            "pd_closures": [3, 12, 20],
        }
    )
    quarters = pl.DataFrame(
        {
            "period": [date(2012, 1, 1)] * 2,
            "category_label": ["Aggravated felony", "Other criminal"],
            "completions": [70, 80],
            "pd_closures": [20, 15],
        }
    )
    cells = CellSet()
    add_frame(cells, "event_study", month_rows)
    add_frame(cells, "rates_over_time", quarters)
    build_equations(cells, date(2011, 12, 1), date(2013, 6, 30))
    small = ("pd_closures", "month", "2012-01-01", "criminal", "Aggravated felony; Other criminal")
    # The tie is real: with only the small month hidden, a reader solves it.
    alone = {k: (None if k == small else v) for k, v in cells.values.items() if v is not None}
    alone.update({k: None for k, v in cells.values.items() if v is None})
    assert solve(alone, cells.equations)[small] == pytest.approx(3)
    kinds = protect(cells, THRESHOLD)
    assert kinds[small] == PRIMARY and len(kinds) >= 2
    assert all(v is not None for k, v in cells.values.items() if k in kinds)
    hidden = {k: (None if k in kinds or v is None else v) for k, v in cells.values.items()}
    recovered = {k: v for k, v in solve(hidden, cells.equations).items() if k in kinds}
    assert recovered == {}


def _court_rows() -> pl.DataFrame:
    """Rows as pipelines.stats.heterogeneity.court_heterogeneity writes them (estimated courts)."""
    theta = [-1.3, -0.9, -0.4, -0.2, 0.0, 0.2, 0.35, 0.5, 0.8, 1.0, 1.4, 1.6]
    courts = [f"C{i:02d}" for i in range(len(theta))]
    post = [0.7 * t for t in theta]
    return pl.DataFrame(
        {
            "release_id": ["synthetic-2026-04"] * len(theta),
            "model": ["court_heterogeneity"] * len(theta),
            "court": courts,
            "group": ["criminal"] * len(theta),
            "reference_group": ["immigration"] * len(theta),
            "status": ["estimated"] * len(theta),
            "log_odds_ratio": theta,
            "std_error": [0.4] * len(theta),
            "shrunken_log_odds_ratio": post,
            "shrunken_sd": [0.33] * len(theta),
            "shrinkage_weight": [0.7] * len(theta),
            "odds_ratio_shrunken": [math.exp(p) for p in post],
            "p_value_vs_mean": [0.5] * len(theta),
            "q_value_bh": [0.01 + 0.07 * i for i in range(len(theta))],
            "differs_at_fdr": [i == 0 for i in range(len(theta))],
            "n_group": [200.0] * len(theta),
            "pd_closures_group": [12.0, 3.0] + [15.0] * (len(theta) - 2),
            "n_reference": [900.0] * len(theta),
            "pd_closures_reference": [80.0] * len(theta),
            "details": [
                '{"courts": 56, "courts_estimable": 12, "mean_log_odds_ratio": 0.1, "tau": 0.62,'
                ' "courts_tested": 12, "fdr": 0.05, "courts_differing_at_fdr": 1}'
            ]
            * len(theta),
        }
    )


def test_court_table_shows_both_ends_with_the_stored_shrunken_numbers(sample_warehouse, tmp_path):
    settings = sample_warehouse.copy_to(tmp_path)
    con = connect(settings)
    rid = sample_warehouse.release_id
    # The declared table takes the estimated columns the model writes.
    write_frame(con, "models.court_heterogeneity", rid, _court_rows())
    report = rr.report_inputs(con, rid)
    spec = next(t for t in report.tables if t.stem == "court_heterogeneity")
    frame = spec.frame
    rows = _court_rows().sort("shrunken_log_odds_ratio", descending=True)
    expect = (
        rows.head(rr.COURT_ENDS)["court"].to_list() + rows.tail(rr.COURT_ENDS)["court"].to_list()
    )
    assert [c.split("(")[-1].rstrip(")") if "(" in c else c for c in frame["court"]] == expect
    for r in frame.to_dicts():
        code = r["court"].split("(")[-1].rstrip(")") if "(" in r["court"] else r["court"]
        src = rows.filter(pl.col("court") == code).row(0, named=True)
        m, sd = src["shrunken_log_odds_ratio"], src["shrunken_sd"]
        assert r["or_shrunken"] == f"{math.exp(m):.2f}"
        assert (
            r["or_shrunken_ci"] == f"[{math.exp(m - 1.96 * sd):.2f}, {math.exp(m + 1.96 * sd):.2f}]"
        )
        assert r["or_unshrunken"] == f"{math.exp(src['log_odds_ratio']):.2f}"
        assert r["q_value"] == f"{src['q_value_bh']:.3f}"
        if src["pd_closures_group"] < THRESHOLD:
            assert r["pd_closures_group"] is None  # suppressed with the report's cells
        else:
            assert r["pd_closures_group"] == int(src["pd_closures_group"])
    assert "Between-court SD of the log odds ratio (DerSimonian-Laird): 0.62" in spec.definition
    assert "Benjamini-Hochberg" in spec.definition and "1 courts differ" in spec.definition
    if engine() is not None:
        paths = export_table(
            frame,
            tmp_path / "out",
            spec.stem,
            rr.provenance_for(report.settings),
            spec.title,
            threshold=THRESHOLD,
            note=spec.definition,
            **spec.export_kwargs,
        )
        text = paths["tex"].read_text(encoding="utf-8")
        assert "\\textless{}10" in text  # the small count is printed as the marker
        compiled = compile_document(article(text), tmp_path / "court.pdf", "court")
        assert compiled.overfull == []
    con.close()


def test_sample_without_estimable_courts_says_so_in_the_index_and_the_appendix(sample):
    con, rid, out = sample
    assert not (out / "court_heterogeneity.csv").exists()
    details = fetch_frame(
        con, "SELECT details FROM models.court_heterogeneity WHERE release_id = ? LIMIT 1", [rid]
    )["details"][0]
    import json

    d = json.loads(details)
    said = f"{d['courts_estimable']} of {d['courts']} courts"
    assert said in (out / "index.html").read_text(encoding="utf-8")
    assert said in (out / "appendix.md").read_text(encoding="utf-8")


def test_appendix_paragraphs_quote_the_tables_and_no_small_share(sample):
    con, rid, out = sample
    md = (out / "appendix.md").read_text(encoding="utf-8").replace("\\[", "[").replace("\\]", "]")
    section = md.split("## Robustness and further analyses", 1)[1].split("## Settings", 1)[0]
    for heading in (
        "Event study",
        "Court heterogeneity",
        "Lead-charge rules",
        "Competing risks of the pending cohort",
        "Population variants",
    ):
        assert f"**{heading}.**" in section
    rules = fetch_frame(
        con,
        "SELECT lead_rule, ame, ame_ci_low, ame_ci_high FROM models.lead_rule_comparison "
        "WHERE release_id = ? AND term = 'lead_charge_category[T.other_immigration]'",
        [rid],
    )
    for r in rules.to_dicts():
        assert (
            f"{100 * r['ame']:.1f} [{100 * r['ame_ci_low']:.1f}, {100 * r['ame_ci_high']:.1f}]"
            in section
        )
    cr = fetch_frame(
        con,
        "SELECT * FROM marts.pending_competing_risks WHERE release_id = ? AND horizon_months = "
        "(SELECT max(horizon_months) FROM marts.pending_competing_risks WHERE release_id = ?)",
        [rid, rid],
    )
    total = cr.filter(pl.col("lead_charge_category") == "all").row(0, named=True)
    assert (
        f"all categories {100 * total['cumulative_incidence_pd']:.1f}% PD, "
        f"{100 * total['cumulative_incidence_other']:.1f}% other" in section
    )
    # A category with 1-9 PD closures by the horizon: its PD share would give the count back.
    small = cr.filter((pl.col("pd") >= 1) & (pl.col("pd") < THRESHOLD))
    assert small.height > 0
    for r in small.to_dicts():
        share = f"{100 * r['cumulative_incidence_pd']:.1f}% PD"
        label = fetch_frame(
            con,
            "SELECT label FROM staging.severity_categories WHERE release_id = ? AND category = ?",
            [rid, r["lead_charge_category"]],
        )["label"][0]
        assert f"{label} not shown PD" in section and f"{label} {share}" not in section
    # The event study's pooled difference on 1-9 PD closures is not printed either.
    es = fetch_frame(
        con,
        'SELECT policy, "group" FROM models.event_study WHERE release_id = ? '
        "AND measure = 'post_minus_pre' AND pd_closures BETWEEN 1 AND ?",
        [rid, THRESHOLD - 1],
    )
    for r in es.to_dicts():
        assert f"{r['policy']}: " in section
        assert f"{r['group']} not shown (small cell)" in section
    assert (out / "appendix.pdf").stat().st_size > 0


def test_appendix_reports_the_pd_bound_models_as_bounds_without_small_cells(sample):
    con, rid, out = sample
    md = (out / "appendix.md").read_text(encoding="utf-8").replace("\\[", "[").replace("\\]", "]")
    assert "SYNTHETIC" in md
    codes = md.split("## What this release's codes can show", 1)[1].split("## ", 1)[0]
    assert "models.pd_bound_models" in codes and "bounds, not findings" in codes
    section = md.split("**PD bounds as the outcome.**", 1)[1].split("\n\n", 1)[0]
    assert "not findings" in section
    rows = fetch_frame(
        con,
        "SELECT b.variant, b.same_cells_as, b.ame, b.ame_ci_low, b.ame_ci_high, "
        "b.pd_closures_with_term, b.n_obs_with_term, s.label FROM models.pd_bound_models b "
        "JOIN staging.severity_categories s ON s.release_id = b.release_id "
        "AND s.category = regexp_extract(b.term, '\\[T\\.(.*)\\]', 1) "
        "WHERE b.release_id = ? AND b.term LIKE 'lead_charge_category%'",
        [rid],
    )
    shown = small = 0
    for r in rows.filter(pl.col("same_cells_as").is_null()).to_dicts():
        # The paragraph names each category once, its values up to the next category.
        text = section.split(f"{r['label']}: ", 1)[1].split("; ", 1)[0]
        value = (
            f"with terminations {100 * r['ame']:.1f} "
            f"[{100 * r['ame_ci_low']:.1f}, {100 * r['ame_ci_high']:.1f}]"
        )
        n_pd, n_other = (
            r["pd_closures_with_term"],
            r["n_obs_with_term"] - r["pd_closures_with_term"],
        )
        if 1 <= n_pd < THRESHOLD or 1 <= n_other < THRESHOLD:
            small += 1
            assert value not in text and "with terminations not shown (small cell)" in text
        else:
            shown += 1
            assert value in text
    # The review bound shares the widest bound's cells on the default window: said, not repeated.
    assert set(rows.filter(pl.col("same_cells_as").is_not_null())["variant"]) == {
        "outcome_with_review_terminations"
    }
    assert "with review terminations has the same cells as with terminations" in section
    assert "with review terminations not shown" not in section
    assert shown > 0 and small > 0
