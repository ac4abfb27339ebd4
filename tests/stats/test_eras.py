"""Model eras: boundaries from pipelines.classify.policy, and the three ways of assigning them agree."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import polars as pl

from pipelines.classify.policy import POLICY_DATES
from pipelines.stats.eras import ERA_KEYS, ERA_LABELS, MODEL_ERAS, era_case_sql, era_expr, era_of


def test_eras_follow_the_policy_dates():
    assert ERA_KEYS == ("Morton", "Johnson", "2017-2021", "Mayorkas")
    assert [e.start for e in MODEL_ERAS] == [
        date(2011, 6, 17),
        date(2014, 11, 20),
        date(2017, 2, 20),
        date(2021, 9, 30),
    ]
    assert [p.on for p in POLICY_DATES if p.opens_era] == [e.start for e in MODEL_ERAS]
    assert list(ERA_LABELS.values()) == [
        "2011-2014 Morton",
        "2014-2017 Johnson",
        "2017-2021",
        "2021- Mayorkas",
    ]


def test_boundaries_belong_to_the_new_era():
    assert era_of(date(2011, 6, 16)) is None
    assert era_of(date(2011, 6, 17)) == "Morton"
    assert era_of(date(2014, 11, 19)) == "Morton"
    assert era_of(date(2014, 11, 20)) == "Johnson"
    assert era_of(date(2021, 9, 30)) == "Mayorkas"
    assert era_of(None) is None


def test_python_polars_and_sql_assign_the_same_era():
    days = [date(2011, 6, 10) + timedelta(days=i) for i in range(0, 3900, 3)]
    days += [e.start + timedelta(days=d) for e in MODEL_ERAS for d in (-1, 0, 1)]
    frame = pl.DataFrame({"comp_date": days})
    via_polars = frame.select(era_expr("comp_date"))["era"].to_list()
    con = duckdb.connect()
    con.register("f", frame.to_arrow())
    via_sql = [r[0] for r in con.execute(f"SELECT {era_case_sql('comp_date')} FROM f").fetchall()]
    expected = [era_of(d) for d in days]
    assert via_polars == expected == via_sql
    assert set(expected) == {None, *ERA_KEYS}
