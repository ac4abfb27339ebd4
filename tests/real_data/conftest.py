"""Evidence from real EOIR releases, read where it lies (../shared/reference/eoir), and releases
built for the tests: a small generated release as written, and one edited to look like the
release EOIR published in October 2025 (no DEC_CODE `I`, every coded value DDP counted).

The shared folder sits beside the repository in every checkout and in CI; where it is absent the
tests that need it skip and say so. Nothing from it is copied into the repository.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from pipelines.cli.runner import run_release
from pipelines.sample import eoir_format as fmt
from pipelines.sample.eoir import write_sample_release
from pipelines.settings import Settings
from pipelines.warehouse.db import connect

REPO = Path(__file__).resolve().parents[2]
EOIR_REF = REPO.parent / "shared" / "reference" / "eoir"
REAL_ROWS = EOIR_REF / "real_rows"
DDP = EOIR_REF / "deportationdata_eoir"

needs_reference = pytest.mark.skipif(
    not EOIR_REF.is_dir(),
    reason=f"{EOIR_REF} is absent: the real-release evidence lives beside the repository",
)

# The coded fields whose every real value must be decoded or counted (DDP's frequency table).
CODED_FIELDS = ("DEC_CODE", "OTHER_COMP", "CASE_TYPE", "CHG_STATUS", "CUSTODY")
# Where each field is written in the edited release: (table, column).
FIELD_TARGETS = {
    "DEC_CODE": [("B_TblProceeding", "DEC_CODE")],
    "OTHER_COMP": [("B_TblProceeding", "OTHER_COMP")],
    "CASE_TYPE": [("B_TblProceeding", "CASE_TYPE"), ("A_TblCase", "CASE_TYPE")],
    "CUSTODY": [("B_TblProceeding", "CUSTODY"), ("A_TblCase", "CUSTODY")],
    "CHG_STATUS": [("B_TblProceedCharges", "CHG_STATUS")],
}


@dataclass
class Built:
    settings: Settings
    release_id: str
    outcome: object
    release_path: Path
    placed: dict  # (table, column, value) -> 1-based data line number, for the edited release
    i_replaced: int = 0

    def con(self):
        return connect(self.settings, read_only=True)


def ddp_values() -> dict[str, set[str]]:
    """{field: every value DDP counted for it in any table} of value_frequencies_by_field.csv."""
    out: dict[str, set[str]] = {f: set() for f in CODED_FIELDS}
    with open(DDP / "value_frequencies_by_field.csv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row["name"] in out:
                out[row["name"]].add(row["value"])
    return out


def _settings(root: Path) -> Settings:
    return Settings(
        raw_dir=root / "raw",
        warehouse=root / "warehouse.duckdb",
        reports_dir=root / "reports",
        temp_dir=root / "tmp",
    )


def _read_table(path: Path) -> tuple[list[str], list[list[str]]]:
    lines = path.read_bytes().decode(fmt.ENCODING).split("\r\n")
    assert lines[-1] == ""
    rows = [ln.split("\t") for ln in lines[:-1]]
    return rows[0], rows[1:]


def _write_table(path: Path, header: list[str], rows: list[list[str]]) -> None:
    text = "".join("\t".join(r) + "\r\n" for r in [header, *rows])
    path.write_bytes(text.encode(fmt.ENCODING))


@pytest.fixture(scope="session")
def generated(tmp_path_factory) -> Built:
    """A small generated release run as written (SYNTHETIC): the reconciliation oracle; beside
    it an ICE workbook whose formula cells carry no calculated value."""
    root = tmp_path_factory.mktemp("generated")
    rel = write_sample_release(root / "raw", cases=1500, seed=11, quirks=False)
    # ICE workbooks travel in an `ice/` folder beside the release: one written by a program
    # that never calculates, so its formula cells hold no value.
    from tests.ice.test_formula_cells import _with_formulas

    (root / "raw" / "ice").mkdir()
    _with_formulas(root / "raw" / "ice" / "removals.xlsx")
    settings = _settings(root)
    outcome = run_release(rel.path, settings, show_progress=False)
    assert outcome.success, outcome
    return Built(settings, outcome.release_id, outcome, rel.path, {})


@pytest.fixture(scope="session")
def like_2025_10(tmp_path_factory) -> Built:
    """A generated release edited to carry what the October 2025 release shows: no DEC_CODE `I`
    (each I made a plain termination T) and every DEC_CODE, OTHER_COMP, CASE_TYPE, CUSTODY and
    CHG_STATUS value of DDP's frequency table, one data line each."""
    if not EOIR_REF.is_dir():
        pytest.skip(f"{EOIR_REF} is absent: DDP's frequency table lives beside the repository")
    root = tmp_path_factory.mktemp("like_2025_10")
    release_date = date(2026, 5, 1)
    rel = write_sample_release(
        root / "raw", cases=1500, seed=12, quirks=False, zip=False, release_date=release_date
    )
    folder = rel.path
    values = ddp_values()
    placed: dict[tuple[str, str, str], int] = {}
    tables: dict[str, tuple[list[str], list[list[str]]]] = {}
    for table in ("A_TblCase", "B_TblProceeding", "B_TblProceedCharges"):
        tables[table] = _read_table(folder.parent / fmt.member_path(release_date, table))
    header, rows = tables["B_TblProceeding"]
    dec = header.index("DEC_CODE")
    i_replaced = 0
    for r in rows:
        if r[dec].strip() == "I":
            r[dec] = "T"
            i_replaced += 1
    # Put each value on its own line, from the end of the table so the lines stay distinct.
    next_line = {t: len(tables[t][1]) for t in tables}
    for field in CODED_FIELDS:
        for table, column in FIELD_TARGETS[field]:
            header, rows = tables[table]
            j = header.index(column)
            for value in sorted(values[field]):
                k = next_line[table] - 1
                next_line[table] = k
                rows[k][j] = value
                if column == "OTHER_COMP":
                    rows[k][dec] = ""  # a proceeding ends with one or the other
                if column == "DEC_CODE":
                    rows[k][header.index("OTHER_COMP")] = ""
                placed[(table, column, value)] = k + 1
    for table, (header, rows) in tables.items():
        _write_table(folder.parent / fmt.member_path(release_date, table), header, rows)
    settings = _settings(root)
    outcome = run_release(folder, settings, show_progress=False)
    return Built(settings, outcome.release_id, outcome, folder, placed, i_replaced)


def truth() -> dict:
    return json.loads((REAL_ROWS / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def real_releases(tmp_path_factory) -> dict[str, Built]:
    """The three real_rows zips, each run into its own warehouse as a user would."""
    if not REAL_ROWS.is_dir():
        pytest.skip(f"{REAL_ROWS} is absent: the real rows live beside the repository")
    out: dict[str, Built] = {}
    for name in truth()["releases"]:
        root = tmp_path_factory.mktemp(name.removesuffix(".zip"))
        settings = _settings(root)
        outcome = run_release(REAL_ROWS / name, settings, show_progress=False)
        out[name] = Built(settings, outcome.release_id, outcome, REAL_ROWS / name, {})
    return out
