"""One release's work on the warehouse: open, bind the run's variables, write, close (Dagster-free).

Every asset that touches the warehouse did the same four things: open a connection (waiting on the
lock), set the SQL variables of the run, read or write that release's partition, and close the
connection whatever happened. `release_session` does them once:

    with release_session(settings, release_id, connect=...) as wh:
        rows = wh.write("staging.policy_dates", frame)     # release_id column added if absent
        df = wh.fetch("SELECT ... FROM marts.x WHERE release_id = ?", [wh.release_id])

`connect` is how to open the file (the Dagster `Warehouse` resource passes its lock-waiting
connect; the default opens it directly, as tests and scripts do).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
import polars as pl

from pipelines.settings import Settings
from pipelines.warehouse import db


@dataclass
class ReleaseSession:
    """An open warehouse connection bound to one release (its variables are set)."""

    con: duckdb.DuckDBPyConnection
    settings: Settings
    release_id: str

    @property
    def synthetic(self) -> bool:
        return self.release_id.startswith("synthetic")

    def fetch(self, query: str, params: list | None = None) -> pl.DataFrame:
        return db.fetch_frame(self.con, query, params)

    def write(self, qualified: str, frame: pl.DataFrame) -> int:
        """Replace this release's rows of `qualified` with `frame` (release_id added first)."""
        if "release_id" not in frame.columns:
            frame = frame.select(pl.lit(self.release_id).alias("release_id"), pl.all())
        return db.write_frame(self.con, qualified, self.release_id, frame)

    def build(self, model: db.SqlModel) -> int:
        return db.replace_partition(self.con, model.qualified, self.release_id, model.sql)


@contextmanager
def release_session(
    settings: Settings,
    release_id: str,
    *,
    read_only: bool = False,
    connect: Callable[..., duckdb.DuckDBPyConnection] | None = None,
) -> Iterator[ReleaseSession]:
    """Open the warehouse for `release_id`, set the run's SQL variables, close it on exit."""
    opener = connect or (lambda read_only: db.connect(settings, read_only=read_only))
    con = opener(read_only=read_only)
    try:
        db.set_variables(con, db.run_variables(settings, release_id))
        yield ReleaseSession(con, settings, release_id)
    finally:
        con.close()
