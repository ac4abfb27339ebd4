"""The release session opens, binds the run's variables, writes that release, and always closes."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from pipelines.warehouse.session import release_session


def test_session_binds_the_run_variables_and_writes_its_release(settings):
    with release_session(settings, "2026-04") as wh:
        assert wh.con.execute("SELECT getvariable('release_id')").fetchall() == [("2026-04",)]
        assert wh.con.execute("SELECT getvariable('window_start')").fetchall()[0] == (
            settings.window_start,
        )
        n = wh.write("staging.policy_eras", pl.DataFrame({"era": ["a", "b"]}))
        assert n == 2
        assert wh.fetch("SELECT release_id, era FROM staging.policy_eras ORDER BY era").rows() == [
            ("2026-04", "a"),
            ("2026-04", "b"),
        ]


def test_session_closes_the_connection_when_the_body_fails(settings):
    opened = []

    def connect(read_only):
        con = duckdb.connect(str(settings.warehouse), read_only=read_only)
        opened.append(con)
        return con

    with pytest.raises(RuntimeError, match="boom"):
        with release_session(settings, "2026-04", connect=connect):
            raise RuntimeError("boom")
    with pytest.raises(duckdb.ConnectionException):
        opened[0].execute("SELECT 1")
    # Closed, so the file can be opened again in another mode (DuckDB refuses while it is open).
    duckdb.connect(str(settings.warehouse), read_only=True).close()
