"""The declared schema is what the warehouse holds, and docs/SCHEMA.md is generated from it."""

from __future__ import annotations

import subprocess
import sys

import dagster as dg

from pipelines.settings import REPO_ROOT
from pipelines.warehouse.db import connect
from pipelines.warehouse.schema import DECLARED_SCHEMAS, declared_tables
from pipelines.warehouse.schema_doc import SCHEMA_MD, render


def test_committed_schema_doc_equals_the_generated_one():
    assert SCHEMA_MD.read_text(encoding="utf-8") == render(), (
        "docs/SCHEMA.md is stale: run `python -m pipelines.warehouse.schema_doc` and commit it"
    )


def test_schema_doc_check_mode_fails_on_a_stale_file(tmp_path, monkeypatch):
    import pipelines.warehouse.schema_doc as schema_doc

    stale = tmp_path / "SCHEMA.md"
    stale.write_text(render().replace("| BIGINT |", "| INTEGER |", 1), encoding="utf-8")
    monkeypatch.setattr(schema_doc, "SCHEMA_MD", stale)
    monkeypatch.setattr(schema_doc, "REPO_ROOT", tmp_path)
    assert schema_doc.main(["--check"]) == 1
    stale.write_text(render(), encoding="utf-8")
    assert schema_doc.main(["--check"]) == 0


def test_schema_doc_runs_as_a_module():
    out = subprocess.run(
        [sys.executable, "-m", "pipelines.warehouse.schema_doc", "--check"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr


def test_every_table_the_sample_run_writes_is_declared_with_its_stored_types(sample_warehouse):
    con = connect(sample_warehouse.settings, read_only=True)
    try:
        stored = {}
        for schema, table, column, typ in con.execute(
            "SELECT schema_name, table_name, column_name, data_type FROM duckdb_columns() "
            f"WHERE schema_name IN {DECLARED_SCHEMAS} AND database_name = current_database() "
            "ORDER BY schema_name, table_name, column_index"
        ).fetchall():
            stored.setdefault(f"{schema}.{table}".lower(), []).append((column, typ))
    finally:
        con.close()
    declared = declared_tables()
    assert sorted(stored) == sorted(declared)
    for qualified, cols in stored.items():
        assert sorted(cols) == sorted(declared[qualified].columns), qualified


def test_sql_assets_carry_their_column_schema():
    from pipelines.definitions import defs

    spec = next(
        s for s in defs.resolve_all_asset_specs() if s.key == dg.AssetKey(["marts", "proceedings"])
    )
    schema = spec.metadata["dagster/column_schema"]
    cols = {c.name: c for c in schema.columns}
    assert cols["idnproceeding"].type == "BIGINT"
    # The codebook's definition reaches the UI.
    assert cols["is_pd_closure"].description
    assert list(cols) == [c for c, _ in declared_tables()["marts.proceedings"].columns]


def test_table_preview_is_a_typed_dagster_table_of_the_release(con):
    from datetime import date

    import polars as pl

    from pipelines.assets.common import table_preview
    from pipelines.warehouse.db import write_frame

    frame = pl.DataFrame(
        {"release_id": ["a", "a"], "era": ["Morton", "Johnson"],
         "era_start": [date(2011, 6, 17), date(2014, 11, 20)]}
    )  # fmt: skip
    write_frame(con, "staging.policy_eras", "a", frame)
    write_frame(con, "staging.policy_eras", "b", frame.with_columns(release_id=pl.lit("b")))
    preview = table_preview(con, "staging.policy_eras", "a")
    assert isinstance(preview, dg.TableMetadataValue)
    assert [(c.name, c.type) for c in preview.schema.columns] == [
        ("era", "VARCHAR"), ("era_start", "DATE"), ("era_end", "DATE"),
    ]  # fmt: skip
    assert [r.data for r in preview.records] == [
        {"era": "Morton", "era_start": "2011-06-17", "era_end": None},
        {"era": "Johnson", "era_start": "2014-11-20", "era_end": None},
    ]


def test_table_preview_of_a_count_table_shows_no_counts(con):
    """A preview is published to anyone with the UI and has no room for complementary
    suppression: the counts of an aggregate table are not shown, its labels are."""
    import polars as pl

    from pipelines.assets.common import table_preview
    from pipelines.publish.preview import HIDDEN

    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    con.execute(
        "CREATE OR REPLACE TABLE marts.pd_closures_by_category AS SELECT * FROM (VALUES "
        "('a', 1, 'aggravated_felony', 'Aggravated felony', 2), "
        "('a', 2, 'other_criminal', 'Other criminal', 1)) "
        "t(release_id, row_order, lead_charge_category, category_label, pd_closures)"
    )
    preview = table_preview(con, "marts.pd_closures_by_category", "a")
    rows = [r.data for r in preview.records]
    assert [r["pd_closures"] for r in rows] == [HIDDEN, HIDDEN]
    assert [r["row_order"] for r in rows] == [1, 2]
    assert [r["category_label"] for r in rows] == ["Aggravated felony", "Other criminal"]
    assert pl.Series([r["pd_closures"] for r in rows]).dtype == pl.String
