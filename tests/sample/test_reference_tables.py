"""The project's code tables hold the facts of the third-party files they were written from, and
the synthetic release writes the real headers.

The third-party files are read where they are, in the team's shared reference folder beside the
repository (`../shared/reference/`); they are never copied into the repository. Each test that
needs them skips, saying so, only when that folder is absent.
"""

from __future__ import annotations

import csv
import io
import json
import math
import zipfile
from pathlib import Path

import pytest

from pipelines.sample import codes
from pipelines.sample.eoir import write_sample_release
from pipelines.sample.eoir_format import CORE_HEADERS, LOOKUP_HEADERS
from pipelines.settings import REFERENCE_DIR, REPO_ROOT

SHARED = REPO_ROOT.parent / "shared" / "reference" / "eoir"
needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"the shared reference folder {SHARED} is absent"
)
VARIABLE_TYPES = SHARED / "deportationdata_eoir" / "variable_types.csv"
MARROWB = SHARED / "marrowb_eoir" / "lookups"
JGUTMAN = SHARED / "jgutman_Refugee"


def _marrowb(name: str) -> dict[str, str]:
    data = json.loads((MARROWB / f"{name}.json").read_text(encoding="utf-8"))
    return {k: ("" if isinstance(v, float) and math.isnan(v) else v) for k, v in data.items()}


def _jgutman(name: str) -> list[list[str]]:
    with open(JGUTMAN / f"{name}.csv", encoding="cp1252", newline="") as f:
        return list(csv.reader(f))


def _table(name: str) -> list[dict[str, str]]:
    with open(REFERENCE_DIR / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@needs_shared
def test_every_header_the_generator_writes_is_the_real_one():
    real: dict[str, list[str]] = {}
    with open(VARIABLE_TYPES, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            real.setdefault(row["table"], []).append(row["name"])
    written = {**CORE_HEADERS, **LOOKUP_HEADERS}
    assert set(written) <= set(real)
    for table, header in written.items():
        assert header == real[table], table
    assert LOOKUP_HEADERS["tblLookupAlienNat"] == [
        "idnNat", "strCode", "strDescription", "Nacara", "blnActive", "datCreatedOn",
        "datModifiedOn",
    ]  # fmt: skip


@needs_shared
def test_charge_codes_are_the_2025_lookup_in_its_order_with_padding():
    assert list(codes.charge_descriptions().items()) == list(_marrowb("tbllookupCharges").items())
    assert "212a02Ai  I" in codes.charge_descriptions()


@needs_shared
@pytest.mark.parametrize(
    ("lookup", "source"),
    [
        ("tblLookupCaseType", "tblLookupCaseType"),
        ("tblLanguage", "tblLanguage"),
        ("tblLookupAlienNat", "tblLookupAlienNat"),
    ],
)
def test_small_lookups_are_the_2025_maps(lookup, source):
    ours = {
        r["code"]: r["description"]
        for r in _table("eoir_lookup_codes.csv")
        if r["lookup"] == lookup
    }
    theirs = {k: v for k, v in _marrowb(source).items() if k != "NaN"}
    assert ours == theirs


@needs_shared
def test_case_priorities_keep_the_real_n_a_code():
    theirs = _marrowb("tblLookup_CasePriority")
    ours = codes.case_priorities()
    assert ours["N/A"] == theirs["NaN"]
    assert {k: v for k, v in ours.items() if k != "N/A"} == {
        k: v for k, v in theirs.items() if k != "NaN"
    }


@needs_shared
def test_courts_and_judges_are_the_2014_tables():
    rows = _jgutman("tblLookupBaseCity")
    ours = {r["code"]: r for r in _table("eoir_base_cities.csv") if r["first_listed"] == "c.2014"}
    assert list(ours) == [r[1] for r in rows]
    for r in rows:
        mine = ours[r[1]]
        assert (mine["name"], mine["city"], mine["state"], mine["zip"]) == (
            r[2].strip(), r[5].strip(), r[6].strip(), r[7].strip(),
        )  # fmt: skip
    later = {r["code"] for r in _table("eoir_base_cities.csv") if r["first_listed"] == "2025"}
    assert later == set(_marrowb("tblLookupBaseCity")) - set(ours)
    active = [
        r[1] for r in _jgutman("tblLookupJudge") if r[13] == "True" and not r[2].startswith("<")
    ]
    assert list(codes.judge_codes()) == active


@needs_shared
def test_nationalities_are_the_2014_table_plus_the_later_codes():
    rows = _jgutman("tblLookupNationality")
    ours = _table("eoir_nationalities.csv")
    early = [r for r in ours if r["first_listed"] == "c.2014"]
    assert [(r["id"], r["code"], r["name"], r["country_name"]) for r in early] == [
        (r[0], r[1], r[2], r[3]) for r in rows
    ]
    later = {r["code"] for r in ours if r["first_listed"] == "2025"}
    assert later == set(_marrowb("tblLookupNationality")) - {r[1] for r in rows} - {"NaN"}


@needs_shared
def test_court_decisions_are_the_trac_table_plus_m():
    text = (JGUTMAN / "master_decision_on_proceeding.csv").read_bytes().decode("mac_roman")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    theirs = set()
    for row in csv.DictReader(io.StringIO(text)):
        dec_type = (row.get("strDecType") or "").strip()
        if (row.get("strCaseType") or "").strip() and dec_type in ("C", "O"):
            field = "DEC_CODE" if dec_type == "C" else "OTHER_COMP"
            desc = row["strDecDescription"].replace("\u2013", "-").strip()
            theirs.add((row["strCaseType"].strip(), row["strDecCode"].strip(), field, desc))
    ours = {(d.case_type, d.code, d.field, d.description) for d in codes.court_decisions()}
    assert {d for d in ours if d[1] != "M"} == theirs
    with_y = {d[0] for d in theirs if d[1:3] == ("Y", "OTHER_COMP")}
    assert {d[0] for d in ours if d[1] == "M"} == with_y


def test_every_code_table_row_names_its_source():
    for name in ("eoir_lookup_codes.csv", "eoir_base_cities.csv", "eoir_nationalities.csv"):
        rows = _table(name)
        assert rows and all(r["source"].strip() for r in rows), name


def test_no_third_party_file_ships_in_the_package():
    sample_dir = Path(codes.__file__).parent
    assert not (sample_dir / "reference").exists()
    assert {p.suffix for p in sample_dir.iterdir() if p.is_file()} == {".py"}


def test_release_lookups_carry_the_table_rows(tmp_path):
    rel = write_sample_release(tmp_path, cases=300)
    with zipfile.ZipFile(rel.path) as zf:
        name = next(n for n in zf.namelist() if n.endswith("Lookup/tblLookupAlienNat.csv"))
        lines = zf.read(name).decode("cp1252").split("\r\n")
    header = lines[0].split("\t")
    assert header == LOOKUP_HEADERS["tblLookupAlienNat"]
    rows = [line.split("\t") for line in lines[1:] if line]
    by_code = {r[header.index("strCode")]: r for r in rows}
    assert all(len(r) == len(header) for r in rows)
    expected = {
        r["code"]: r["description"]
        for r in _table("eoir_lookup_codes.csv")
        if r["lookup"] == "tblLookupAlienNat"
    }
    assert {c: r[header.index("strDescription")] for c, r in by_code.items()} == expected
