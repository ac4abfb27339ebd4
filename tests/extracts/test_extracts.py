"""Analysis extracts end to end: the tiny real-format release (with synthetic ICE workbooks beside
it) is built through the Dagster graph, the extracts asset writes parquet, Stata and CSV, and every
file is read back and compared with the marts it came from."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from datetime import date

import dagster as dg
import pandas as pd
import polars as pl
import pyarrow.parquet as pq
import pyreadstat
import pytest
from polars.testing import assert_frame_equal

from pipelines.assets.extracts import EXTRACTS_KEY
from pipelines.classify.categories import SEVERITY_CATEGORIES
from pipelines.cli.main import main as cli_main
from pipelines.cli.runner import run_release
from pipelines.extracts.columns import (
    BOOLEAN,
    DATE,
    EXTRACT_TABLES,
    INTEGER,
    LIST_SEPARATOR,
    LOOKUP_LABELS,
    TABLES_BY_NAME,
    TEXT,
    TEXT_LIST,
)
from pipelines.sample.ice import write_sample_ice
from pipelines.settings import Settings
from pipelines.warehouse.db import connect, fetch_frame
from tests.eoir.conftest import small_release

RELEASE = "synthetic-2026-04"
FORMATS = ("parquet", "dta", "csv")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(settings, extracts folder) after one graph run up to and including the extracts asset."""
    tmp = tmp_path_factory.mktemp("extracts")
    path = small_release(tmp)
    write_sample_ice(tmp / "ice", n_rows=60, seed=7, rows_per_sheet=40)
    settings = Settings(
        raw_dir=tmp / "raw",
        warehouse=tmp / "wh.duckdb",
        reports_dir=tmp / "reports",
        temp_dir=tmp / "tmp",
        duckdb_memory_limit="1GB",
        # Two of the four proceedings are pending on this day, so cohort (b) has rows.
        pending_on=date(2012, 2, 20),
        # every writer through the asset (the default job writes parquet only)
        extract_formats=",".join(FORMATS),
    )
    sel = dg.AssetSelection.assets(EXTRACTS_KEY).upstream()
    outcome = run_release(path, settings, show_progress=False, selection=sel)
    assert outcome.success, outcome
    assert outcome.release_id == RELEASE
    return settings, settings.reports_dir / RELEASE / "extracts"


@pytest.fixture(scope="module")
def marts(built):
    settings, _ = built
    con = connect(settings, read_only=True)
    out = {
        t.name: fetch_frame(
            con,
            f"SELECT {', '.join(t.column_names)} FROM {t.mart} WHERE release_id = ? "
            f"ORDER BY {t.order_by}",
            [RELEASE],
        )
        for t in EXTRACT_TABLES
    }
    con.close()
    return out


def _flat(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns(
        pl.col(c).list.join(LIST_SEPARATOR) for c, t in df.schema.items() if t == pl.List(pl.String)
    )


def test_every_extract_written_with_the_marts_row_counts(built, marts):
    _, out = built
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["extracts"]) == {t.name for t in EXTRACT_TABLES}
    assert manifest["skipped"] == {} and manifest["undocumented_columns"] == {}
    for t in EXTRACT_TABLES:
        n = marts[t.name].height
        assert n > 0, t.name  # every table, the ICE removals and the pending cohort included
        assert manifest["extracts"][t.name]["rows"] == n
        assert pl.read_parquet(out / f"{t.name}.parquet").height == n
        assert pl.read_csv(out / f"{t.name}.csv", infer_schema=False).height == n
        assert pyreadstat.read_dta(out / f"{t.name}.dta", metadataonly=True)[1].number_rows == n
    assert marts["proceedings"].height == 4 and marts["charges_classified"].height == 5
    assert marts["cohort_pending"]["idnproceeding"].to_list() == [10, 11]


def test_parquet_equals_the_marts_values_and_types(built, marts):
    _, out = built
    for t in EXTRACT_TABLES:
        got = pl.read_parquet(out / f"{t.name}.parquet")
        assert_frame_equal(got, marts[t.name])
    assert pl.read_parquet(out / "proceedings.parquet")["charges"].to_list()[1] == [
        "237a02Aiii",
        "212a06Ai",
    ]


def test_csv_equals_the_marts_with_lists_joined(built, marts):
    _, out = built
    for t in EXTRACT_TABLES:
        expected = _flat(marts[t.name])
        got = pl.read_csv(out / f"{t.name}.csv", schema=expected.schema)
        assert_frame_equal(got, expected)
    with open(out / "proceedings.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows[1]["charges"] == "237a02Aiii|212a06Ai" and rows[1]["detained"] == "true"
    assert rows[3]["comp_date"] == "" and rows[0]["comp_date"] == "2012-06-15"


def _expected_label(settings, column, value) -> str:
    """A value's label computed here, from columns.py and the release's lookup tables."""
    fixed = dict(column.labels) | dict(column.extra_labels)
    if value in fixed:
        return fixed[value]
    if column.lookup:
        con = connect(settings, read_only=True)
        rows = dict(con.execute(LOOKUP_LABELS[column.lookup][1], [RELEASE]).fetchall())
        con.close()
        if value in rows:
            return rows[value]
    return str(value)


def test_stata_values_types_and_labels(built, marts):
    settings, out = built
    for t in EXTRACT_TABLES:
        path = out / f"{t.name}.dta"
        assert b"<release>118</release>" in path.read_bytes()[:64]  # Stata 14+
        df, meta = pyreadstat.read_dta(path)
        # pandas' reader is independent of pyreadstat: it decodes the value labels itself.
        decoded = pd.read_stata(path, convert_categoricals=True)
        mart = marts[t.name]
        assert meta.column_names == list(t.column_names)  # no renames needed for these names
        for c in t.columns:
            assert meta.column_names_to_labels[c.name] == c.label
            got = df[c.name].tolist()
            want = mart[c.name].to_list()
            if c.type == TEXT and c.categorical:
                labels = meta.variable_value_labels[c.name]
                assert all(
                    isinstance(v, float) and v != v
                    for v, w in zip(got, want, strict=True)
                    if w is None
                )
                pairs = {(int(g), w) for g, w in zip(got, want, strict=True) if w is not None}
                assert len({g for g, _ in pairs}) == len(pairs) == len({w for _, w in pairs})
                for code, value in pairs:
                    assert labels[code] == _expected_label(settings, c, value), (c.name, value)
                shown = [None if v != v else v for v in decoded[c.name].astype(object)]
                assert shown == [
                    None if w is None else _expected_label(settings, c, w) for w in want
                ]
            elif c.type == TEXT:
                assert got == [w or "" for w in want]
            elif c.type == TEXT_LIST:
                assert got == [LIST_SEPARATOR.join(w) if w else "" for w in want]
            elif c.type == BOOLEAN:
                assert meta.variable_value_labels[c.name] == {0: "No", 1: "Yes"}
                assert [None if v != v else bool(v) for v in got] == want
            elif c.type == DATE:
                assert meta.original_variable_types[c.name] == "%td"
                assert [None if v != v else v for v in got] == want
            elif c.type == INTEGER:
                assert [None if v != v else int(v) for v in got] == want
                if c.categorical:
                    labels = meta.variable_value_labels[c.name]
                    assert {w: labels[w] for w in want if w is not None} == {
                        w: dict(c.labels)[w] for w in want if w is not None
                    }
    procs = pd.read_stata(out / "proceedings.dta", convert_categoricals=True)
    names = {c.name: c.label for c in SEVERITY_CATEGORIES}
    assert procs["lead_charge_category"].astype(str).tolist() == [
        names["entry_without_inspection"],
        names["aggravated_felony"],
        names["other_criminal"],
        names["entry_without_inspection"],
    ]
    assert procs["court"].astype(str).tolist() == [
        "NEW YORK, NY",
        "ATLANTA, GA",
        "ATLANTA, GA",
        "ATLANTA, GA",
    ]
    kinds = [None if v != v else v for v in procs["pd_kind"].astype(object)]
    assert kinds == ["PD: administratively closed", None, "PD: terminated", None]


def test_codebook_documents_every_column_of_every_extract(built):
    _, out = built
    book = pl.read_csv(out / "codebook.csv", infer_schema=False)
    md = (out / "codebook.md").read_text(encoding="utf-8")
    for t in EXTRACT_TABLES:
        documented = book.filter(pl.col("extract") == t.name)
        stata = dict(zip(documented["column"], documented["stata_name"], strict=True))
        files = {
            "parquet": pl.read_parquet_schema(out / f"{t.name}.parquet").keys(),
            "csv": pl.read_csv(out / f"{t.name}.csv", n_rows=0).columns,
            "dta": pyreadstat.read_dta(out / f"{t.name}.dta", metadataonly=True)[1].column_names,
        }
        assert set(files["parquet"]) == set(files["csv"]) == set(stata)
        assert set(files["dta"]) == set(stata.values())
        for c in t.columns:
            row = documented.filter(pl.col("column") == c.name).row(0, named=True)
            assert row["definition"] == c.definition and row["source"] == c.source
            assert f"| `{c.name}` | `{stata[c.name]}` |" in md
    assert f"## {TABLES_BY_NAME['removals'].name}: " in md


def test_codebook_counts_are_the_data_with_small_counts_suppressed(built, marts):
    settings, out = built
    values = pl.read_csv(out / "codebook_values.csv", infer_schema=False)
    lead = values.filter(
        (pl.col("extract") == "proceedings") & (pl.col("column") == "lead_charge_category")
    )
    # Four proceedings: every non-zero count is under 10; zero is never suppressed.
    assert dict(zip(lead["value"], lead["count"], strict=True)) == {
        "national_security_terrorism": "0",
        "aggravated_felony": "<10",
        "other_criminal": "<10",
        "entry_without_inspection": "<10",
        "other_immigration": "0",
        "miscellaneous": "0",
        "(missing)": "0",
    }
    # With a threshold of 2 the counts print, except the single proceeding counts.
    from pipelines.extracts.write import write_extracts

    con = connect(settings, read_only=True)
    result = write_extracts(
        con, RELEASE, out.parent / "t2", formats=("parquet",), suppress_below=2,
        show_progress=False,
    )  # fmt: skip
    con.close()
    values = pl.read_csv(result.out_dir / "codebook_values.csv", infer_schema=False)
    lead = values.filter(
        (pl.col("extract") == "proceedings") & (pl.col("column") == "lead_charge_category")
    )
    assert dict(zip(lead["value"], lead["count"], strict=True)) == {
        "national_security_terrorism": "0",
        "aggravated_felony": "<2",
        "other_criminal": "<2",
        "entry_without_inspection": "2",
        "other_immigration": "0",
        "miscellaneous": "0",
        "(missing)": "0",
    }
    crim = values.filter((pl.col("extract") == "removals") & (pl.col("column") == "criminality"))
    truth = dict(marts["removals"]["criminality"].value_counts().iter_rows())
    assert len(truth) == 3 and min(truth.values()) >= 1
    # The suppression rule: a count of 1 prints "<2"; when exactly one count of the column is
    # suppressed, the smallest other non-zero count is withheld too ("(s)").
    expected = {v: ("<2" if n == 1 else f"{n:,}") for v, n in truth.items()}
    ones = [v for v, n in truth.items() if n == 1]
    if len(ones) == 1:
        expected[min((v for v in truth if v not in ones), key=truth.get)] = "(s)"
    printed = dict(zip(crim["value"], crim["count"], strict=True))
    assert printed == {**expected, "(missing)": "0"}
    assert crim.filter(pl.col("value") == "convicted")["label"].item() == "Convicted criminal"


def test_provenance_in_parquet_metadata_dta_label_and_codebook(built):
    _, out = built
    for t in EXTRACT_TABLES:
        kv = {
            k.decode(): v.decode()
            for k, v in pq.read_metadata(out / f"{t.name}.parquet").metadata.items()
        }
        assert kv["release_id"] == RELEASE and kv["synthetic"] == "true"
        assert kv["extract"] == t.name
        assert "pd-pipeline" in kv["code_version"] and kv["generated"] == date.today().isoformat()
        assert kv["provenance"].startswith("SYNTHETIC DATA")
        label = pyreadstat.read_dta(out / f"{t.name}.dta", metadataonly=True)[1].file_label
        assert label.startswith(f"SYNTHETIC release {RELEASE}") and len(label) <= 80
        assert date.today().isoformat() in label
        commit = kv["code_version"].split("git ")[-1].rstrip(")")
        assert commit in label
    md = (out / "codebook.md").read_text(encoding="utf-8")
    head = md.split("## Extracts")[0]
    assert "SYNTHETIC DATA" in head and RELEASE in head and "Code version: pd-pipeline" in head
    assert "no birth date finer than the year" in head


def test_privacy_nothing_identifying_is_extracted(built):
    _, out = built
    forbidden = {
        "birth_date", "alien_city", "city", "apprehension_county", "anonymized_identifier",
        "alien_file_number", "eid_case_id", "eid_subject_id", "case_id", "msc_conviction_date",
        "entry_date", "unmapped_columns", "source_file", "source_row",
    }  # fmt: skip
    for t in EXTRACT_TABLES:
        cols = set(pl.read_parquet_schema(out / f"{t.name}.parquet"))
        assert not cols & forbidden, (t.name, cols & forbidden)
    removals = pl.read_parquet(out / "removals.parquet")
    assert removals["birth_year"].dtype == pl.Int32
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["undocumented_columns"] == {}
    book = (out / "codebook.md").read_text(encoding="utf-8")
    assert "`birth_date` (not needed for the analysis, or identifying" in book


def test_cli_extracts_from_the_existing_warehouse(built, capsys):
    settings, out = built
    target = out.parent / "cli"
    target.mkdir()
    (target / "proceedings.dta").write_bytes(b"stale from an earlier run")
    rc = cli_main(
        ["extract", "--release", RELEASE, "--formats", "parquet,csv", "--out", str(target),
         "--warehouse", str(settings.warehouse), "--quiet"]
    )  # fmt: skip
    assert rc == 0
    written = sorted(p.name for p in target.iterdir())
    assert written == sorted(
        [f"{t.name}.{f}" for t in EXTRACT_TABLES for f in ("parquet", "csv")]
        + ["codebook.md", "codebook.csv", "codebook_values.csv", "stata_names.csv"]
        + ["manifest.json"]
    )
    assert pl.read_parquet(target / "proceedings.parquet").equals(
        pl.read_parquet(out / "proceedings.parquet")
    )
    rc = cli_main(
        ["extract", "--release", "2099-01", "--warehouse", str(settings.warehouse),
         "--out", str(out.parent / "none"), "--quiet"]
    )  # fmt: skip
    assert rc == 2
    assert f"releases there: {RELEASE}" in capsys.readouterr().err
    assert not (out.parent / "none").exists()
    rc = cli_main(
        ["extract", "--formats", "xlsx", "--warehouse", str(settings.warehouse), "--quiet",
         "--out", str(out.parent / "none")]
    )  # fmt: skip
    assert rc == 2 and "formats must be among" in capsys.readouterr().err


def test_extract_table_changes_are_caught(built):
    """A mart that lost a defined column, or changed its type, stops the extract."""
    from pipelines.extracts.codebook import ExtractError, check_mart

    procs = TABLES_BY_NAME["proceedings"]
    columns = {c.name: "VARCHAR" for c in procs.columns}
    with pytest.raises(ExtractError, match="column types differ"):
        check_mart(procs, columns)
    columns = {c.name: _DUCK[c.type] for c in procs.columns}
    del columns["pd_kind"]
    with pytest.raises(ExtractError, match=r"lacks \['pd_kind'\]"):
        check_mart(procs, columns)
    ok = {
        "release_id": "VARCHAR",
        **{c.name: _DUCK[c.type] for c in procs.columns},
        "new_col": "VARCHAR",
    }
    undocumented, excluded = check_mart(replace(procs, excluded={"x": "y"}), ok)
    assert undocumented == ["new_col"] and excluded == {}


_DUCK = {INTEGER: "BIGINT", TEXT: "VARCHAR", BOOLEAN: "BOOLEAN", DATE: "DATE",
         TEXT_LIST: "VARCHAR[]"}  # fmt: skip


def test_stata_labels_fit_and_names_are_valid_for_every_definition():
    from pipelines.extracts.stata import is_valid_stata_name, stata_name_map

    for t in EXTRACT_TABLES:
        names = stata_name_map(list(t.column_names))
        assert all(is_valid_stata_name(s) for s in names.values())
        for c in t.columns:
            assert len(c.label) <= 80 and c.label.isascii(), c.name
            assert c.definition and c.source


def test_large_tables_go_to_stata_in_parts_that_append_to_the_whole(built, marts, monkeypatch):
    """A full release's proceedings do not fit one in-memory .dta: parts of DTA_PART_ROWS rows."""
    import pyreadstat

    from pipelines.extracts import write as write_mod

    settings, out = built
    monkeypatch.setattr(write_mod, "DTA_PART_ROWS", 3)
    con = connect(settings, read_only=True)
    result = write_mod.write_extracts(
        con, RELEASE, out.parent / "parts", formats=("dta", "parquet"), show_progress=False
    )
    con.close()
    n = marts["charges_classified"].height
    parts = sorted(result.out_dir.glob("charges_classified_part*.dta"))
    assert n > 3 and len(parts) == -(-n // 3)
    assert not (result.out_dir / "charges_classified.dta").exists()
    frames = [pyreadstat.read_dta(str(p))[0] for p in parts]
    assert sum(len(f) for f in frames) == n
    assert all(list(f.columns) == list(frames[0].columns) for f in frames)
    assert (result.out_dir / "charges_classified.parquet").exists()
