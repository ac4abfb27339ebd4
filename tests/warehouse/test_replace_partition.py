"""A partition write changes its own release's rows and nothing else, whatever its data look like."""

from __future__ import annotations

import polars as pl
import pytest

from pipelines.warehouse.db import replace_partition, write_frame
from pipelines.warehouse.schema import SchemaError, declared_table, declared_tables
from tests.warehouse.fingerprint import release_fingerprints

ROBUSTNESS_COLS = [c for c, _ in declared_table("models.robustness").columns]


def _robustness_row(release_id: str, **values) -> dict:
    row = dict.fromkeys(ROBUSTNESS_COLS)
    row.update(release_id=release_id, **values)
    return row


def _seed(con) -> None:
    """A full-width release (every column typed) in models.robustness."""
    frame = pl.DataFrame([_robustness_row("2026-03", model="lpm")]).with_columns(
        pl.col(c).cast(pl.Float64)
        for c, t in declared_table("models.robustness").columns
        if t == "DOUBLE"
    )
    assert write_frame(con, "models.robustness", "2026-03", frame) == 1


def test_tables_are_created_with_their_declared_columns(con):
    _seed(con)
    got = [(r[0], r[1]) for r in con.execute("DESCRIBE models.robustness").fetchall()]
    assert got == list(declared_table("models.robustness").columns)


def test_a_release_with_fewer_and_untyped_columns_keeps_the_others_rows(con):
    """A model that cannot be fitted writes 2 columns, one all NULL (typed NULL by polars)."""
    _seed(con)
    before = release_fingerprints(con, "2026-03")
    degenerate = pl.DataFrame({"release_id": ["2026-04"], "model": ["lpm"], "estimate": [None]})
    assert degenerate.schema["estimate"] == pl.Null
    assert write_frame(con, "models.robustness", "2026-04", degenerate) == 1
    assert release_fingerprints(con, "2026-03") == before
    types = dict(con.execute("SELECT column_name, data_type FROM duckdb_columns() "
                             "WHERE table_name = 'robustness'").fetchall())  # fmt: skip
    assert types == dict(declared_table("models.robustness").columns)
    row = con.execute(
        "SELECT model, estimate FROM models.robustness WHERE release_id = '2026-04'"
    ).fetchall()
    assert row == [("lpm", None)]


def test_a_header_only_table_writes_no_rows_and_touches_no_other_release(con):
    _seed(con)
    before = release_fingerprints(con, "2026-03")
    empty = pl.DataFrame(schema={"release_id": pl.String, "model": pl.Null})
    assert write_frame(con, "models.robustness", "2026-04", empty) == 0
    assert release_fingerprints(con, "2026-03") == before


def test_a_column_the_table_does_not_declare_is_refused_by_name(con):
    _seed(con)
    before = release_fingerprints(con, "2026-03")
    frame = pl.DataFrame({"release_id": ["2026-04"], "model": ["x"], "surprise": [1]})
    with pytest.raises(SchemaError, match=r"models\.robustness.*surprise.*sql/ddl/models\.sql"):
        write_frame(con, "models.robustness", "2026-04", frame)
    assert release_fingerprints(con, "2026-03") == before
    assert con.execute(
        "SELECT count(*) FROM models.robustness WHERE release_id = '2026-04'"
    ).fetchone() == (0,)


def test_a_value_that_does_not_fit_its_type_fails_naming_the_column(con):
    _seed(con)
    before = release_fingerprints(con, "2026-03")
    frame = pl.DataFrame({"release_id": ["2026-04"], "model": ["x"], "estimate": ["about 2"]})
    with pytest.raises(SchemaError, match=r"models\.robustness\.estimate.*DOUBLE.*'about 2'"):
        write_frame(con, "models.robustness", "2026-04", frame)
    assert release_fingerprints(con, "2026-03") == before


def test_a_row_for_another_release_fails_the_write(con):
    _seed(con)
    before = release_fingerprints(con, "2026-03")
    frame = pl.DataFrame({"release_id": ["2026-04", "2026-03"], "model": ["x", "y"]})
    with pytest.raises(Exception, match="another release"):
        write_frame(con, "models.robustness", "2026-04", frame)
    assert release_fingerprints(con, "2026-03") == before


def test_a_stored_type_that_differs_from_the_declaration_is_refused_not_rebuilt(con):
    """An older warehouse whose column has another type: the table is left as it is."""
    con.execute("CREATE TABLE models.robustness (release_id VARCHAR, model INTEGER)")
    con.execute("INSERT INTO models.robustness VALUES ('2026-03', 1)")
    with pytest.raises(SchemaError, match=r"models\.robustness\.model.*INTEGER.*VARCHAR"):
        write_frame(con, "models.robustness", "2026-04", pl.DataFrame({"release_id": ["2026-04"]}))
    assert con.execute("SELECT * FROM models.robustness").fetchall() == [("2026-03", 1)]


def test_a_declared_column_an_older_table_lacks_is_added_for_null_in_older_rows(con):
    con.execute("CREATE TABLE models.robustness (release_id VARCHAR, model VARCHAR)")
    con.execute("INSERT INTO models.robustness VALUES ('2026-03', 'lpm')")
    frame = pl.DataFrame({"release_id": ["2026-04"], "model": ["lpm"], "estimate": [0.5]})
    write_frame(con, "models.robustness", "2026-04", frame)
    rows = con.execute(
        "SELECT release_id, model, estimate FROM models.robustness ORDER BY 1"
    ).fetchall()
    assert rows == [("2026-03", "lpm", None), ("2026-04", "lpm", 0.5)]


def test_an_undeclared_table_is_fixed_by_its_first_write_and_never_rebuilt(con):
    replace_partition(con, "marts.not_declared", "a", "SELECT 'a' AS release_id, 1 AS n")
    with pytest.raises(SchemaError, match="not_declared.*column extra"):
        replace_partition(
            con, "marts.not_declared", "b", "SELECT 'b' AS release_id, 2 AS n, 3 AS extra"
        )
    assert con.execute("SELECT * FROM marts.not_declared").fetchall() == [("a", 1)]
    with pytest.raises(SchemaError, match="no type"):
        replace_partition(con, "marts.untyped", "a", "SELECT 'a' AS release_id, NULL AS n")


def test_every_declared_table_starts_with_release_id():
    for qualified, table in declared_tables().items():
        assert table.columns[0] == ("release_id", "VARCHAR"), qualified
