"""Tiny EOIR releases in the real layout, written byte by byte by the tests."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from pipelines.eoir.columns import core_specs
from pipelines.settings import Settings
from pipelines.warehouse import connect


def header_of(table: str) -> list[str]:
    # The 2026-04 header spelling (`Sex`, not `SEX`), as EOIR writes it.
    import csv

    from pipelines.settings import REFERENCE_DIR

    with open(REFERENCE_DIR / "eoir_columns.csv", encoding="utf-8") as f:
        return [r["header_2026_04"] for r in csv.DictReader(f) if r["table"] == table]


def case_fields(idncase: int, city: str = "BROOKLYN", **over: str) -> list[str]:
    """A plausible A_TblCase record (39 fields) shaped like the real 2026-04 row [DK]."""
    row = dict.fromkeys(core_specs()["A_TblCase"].names, "")
    row.update(
        IDNCASE=str(idncase), ALIEN_CITY=city, ALIEN_STATE="NY", ALIEN_ZIPCODE="11209",
        NAT="EG", LANG="AR", CUSTODY="N", SITE_TYPE="M", E_28_DATE="2024-09-12 00:00:00.000",
        ATTY_NBR="0", CASE_TYPE="RMV", UPDATE_SITE="NYC",
        LATEST_HEARING="2014-12-02 00:00:00.000", LATEST_TIME="1000", LATEST_CAL_TYPE="M",
        DATE_OF_ENTRY="1998-12-06 00:00:00.000", C_ASY_TYPE="I", C_BIRTHDATE="4/1974", SEX="F",
        LPR="0", CASEPRIORITY_CODE="N/A",
    )
    row.update(over)
    return list(row.values())


def tsv(header: list[str], rows: list[list[str]], crlf: bool = True, encoding: str = "cp1252") -> bytes:
    nl = "\r\n" if crlf else "\n"
    text = nl.join("\t".join(r) for r in [header, *rows]) + nl
    return text.encode(encoding)


def write_release(
    root: Path,
    tables: dict[str, bytes],
    counts: dict[str, int] | None = None,
    lookups: dict[str, bytes] | None = None,
    as_zip: bool = True,
    dated: str = "EOIR Case Data 2026-0401",
    synthetic: bool = False,
) -> Path:
    """Write tables in EOIR's nested layout; return the zip or the folder."""
    files: dict[str, bytes] = {}
    for name, data in tables.items():
        files[f"{dated}/EOIR Case Data/{name}.csv"] = data
    for name, data in (lookups or {}).items():
        files[f"{dated}/Lookup/{name}.csv"] = data
    if counts is not None:
        files[f"{dated}/Count.txt"] = "".join(f"{k}\t{v}\r\n" for k, v in counts.items()).encode()
    if synthetic:
        files[f"{dated}/SYNTHETIC-README.txt"] = b"synthetic"
    if as_zip:
        path = root / "EOIR Case Data.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in files.items():
                zf.writestr(name, data)
        return path
    for name, data in files.items():
        p = root / "release" / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return root / "release"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        raw_dir=tmp_path / "raw",
        warehouse=tmp_path / "wh.duckdb",
        reports_dir=tmp_path / "reports",
        temp_dir=tmp_path / "tmp",
        duckdb_memory_limit="1GB",
    )


@pytest.fixture
def con(settings):
    c = connect(settings)
    yield c
    c.close()
