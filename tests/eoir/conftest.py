"""Tiny EOIR releases in the real layout, written byte by byte by the tests."""

from __future__ import annotations

import zipfile
from pathlib import Path

from pipelines.eoir.columns import core_specs
from pipelines.sample.eoir_format import LOOKUP_HEADERS as SAMPLE_LOOKUP_HEADERS


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
        IDNCASE=str(idncase),
        ALIEN_CITY=city,
        ALIEN_STATE="NY",
        ALIEN_ZIPCODE="11209",
        NAT="EG",
        LANG="AR",
        CUSTODY="N",
        SITE_TYPE="M",
        E_28_DATE="2024-09-12 00:00:00.000",
        ATTY_NBR="0",
        CASE_TYPE="RMV",
        UPDATE_SITE="NYC",
        LATEST_HEARING="2014-12-02 00:00:00.000",
        LATEST_TIME="1000",
        LATEST_CAL_TYPE="M",
        DATE_OF_ENTRY="1998-12-06 00:00:00.000",
        C_ASY_TYPE="I",
        C_BIRTHDATE="4/1974",
        SEX="F",
        LPR="0",
        CASEPRIORITY_CODE="N/A",
    )
    row.update(over)
    return list(row.values())


def tsv(
    header: list[str], rows: list[list[str]], crlf: bool = True, encoding: str = "cp1252"
) -> bytes:
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


def row_for(table: str, **values: str) -> list[str]:
    """A record of `table` with the given columns set and the rest empty."""
    names = core_specs()[table].names
    unknown = set(values) - set(names)
    assert not unknown, unknown
    return [values.get(n, "") for n in names]


# The 2026-04 lookup headers (docs/EOIR_FORMAT.md#lookup-tables), one list shared with the sample
# generator.
LOOKUP_HEADERS = {k: list(v) for k, v in SAMPLE_LOOKUP_HEADERS.items()}


def small_lookups() -> dict[str, bytes]:
    d = "2003-08-07 00:00:00.000"
    rows = {
        "tbllookupCharges": [
            [
                "1",
                "212a06Ai",
                "",
                "Alien in U.S. without Admission or Paroled",
                "RMV",
                "",
                "",
                "0",
                "0",
                d,
                "",
                "1",
            ],
            [
                "2",
                "237a02Aiii",
                "",
                "Convicted of Aggravated Felony",
                "RMV",
                "",
                "",
                "1",
                "1",
                d,
                "",
                "1",
            ],
            [
                "3",
                "212a02Ai  I",
                "",
                "Crimes involving moral turpitude",
                "RMV",
                "",
                "",
                "1",
                "0",
                d,
                "",
                "1",
            ],
        ],
        "tblLookupCourtDecision": [
            ["1", "RMV", "I", "Prosecutorial Discretion - Terminated", "C", "", "1", d, ""],
            ["2", "RMV", "Y", "Prosecutorial Discretion - Admin Close", "O", "", "1", d, ""],
            ["3", "RMV", "X", "Remove", "C", "", "1", d, ""],
            ["4", "RMV", "A", "Administrative Closing - Other", "O", "", "1", d, ""],
        ],
        "tblLookupBaseCity": [
            ["3", "ATL", "ATLANTA, GA", "M", "180 SPRING ST", "ATLANTA", "GA"],
            ["4", "NYC", "NEW YORK, NY", "M", "26 FEDERAL PLAZA", "NEW YORK", "NY"],
        ],
        "tblLookupNationality": [
            ["1", "??", "UNKNOWN NATIONALITY", "UNKNOWN COUNTRY", "N", d, "", "1"],
            ["2", "MX", "MEXICO", "MEXICO", "N", d, "", "1"],
        ],
        "tblLookupCaseType": [["1", "RMV", "Removal", "1", d, "", ""]],
        "tblLookupCustodyStatus": [
            ["1", "D", "D", "Detained", "1", d, ""],
            ["2", "N", "N", "Never Detained", "1", d, ""],
        ],
    }
    # Rows fill the leading columns; the rest of each real header (98 columns for
    # tblLookupBaseCity) is empty, as EOIR's lookups mostly are.
    return {
        name: tsv(
            LOOKUP_HEADERS[name], [row + [""] * (len(LOOKUP_HEADERS[name]) - len(row)) for row in r]
        )
        for name, r in rows.items()
    }


def small_release(root: Path, as_zip: bool = True, synthetic: bool = True) -> Path:
    """A complete tiny release: 3 cases, 4 proceedings, 5 charges, reps, priorities, lookups."""
    day = "2012-{:02d}-15 00:00:00.000".format
    cases = [case_fields(1), case_fields(2, CUSTODY="D"), case_fields(3)]
    procs = [
        row_for(
            "B_TblProceeding",
            IDNPROCEEDING="10",
            IDNCASE="1",
            OSC_DATE=day(1),
            INPUT_DATE=day(1),
            BASE_CITY_CODE="NYC",
            CASE_TYPE="RMV",
            CUSTODY="N",
            OTHER_COMP="Y",
            COMP_DATE=day(6),
            NAT="MX",
        ),
        row_for(
            "B_TblProceeding",
            IDNPROCEEDING="11",
            IDNCASE="2",
            OSC_DATE=day(2),
            INPUT_DATE=day(2),
            BASE_CITY_CODE="ATL",
            CASE_TYPE="RMV",
            CUSTODY="D",
            DEC_CODE="X",
            COMP_DATE=day(7),
            NAT="MX",
        ),
        row_for(
            "B_TblProceeding",
            IDNPROCEEDING="12",
            IDNCASE="3",
            OSC_DATE=day(3),
            INPUT_DATE=day(3),
            BASE_CITY_CODE="ATL",
            CASE_TYPE="RMV",
            CUSTODY="N",
            DEC_CODE="I",
            COMP_DATE=day(8),
            NAT="??",
        ),
        row_for(
            "B_TblProceeding",
            IDNPROCEEDING="13",
            IDNCASE="3",
            OSC_DATE=day(3),
            INPUT_DATE=day(9),
            BASE_CITY_CODE="ATL",
            CASE_TYPE="RMV",
            CUSTODY="N",
            NAT="??",
        ),
    ]
    charges = [
        row_for(
            "B_TblProceedCharges",
            IDNPRCDCHG="100",
            IDNCASE="1",
            IDNPROCEEDING="10",
            CHARGE="212a06Ai",
            CHG_STATUS="S",
        ),
        row_for(
            "B_TblProceedCharges",
            IDNPRCDCHG="101",
            IDNCASE="2",
            IDNPROCEEDING="11",
            CHARGE="237a02Aiii",
            CHG_STATUS="S",
        ),
        row_for(
            "B_TblProceedCharges",
            IDNPRCDCHG="102",
            IDNCASE="2",
            IDNPROCEEDING="11",
            CHARGE="212a06Ai ",
            CHG_STATUS="S",
        ),
        row_for(
            "B_TblProceedCharges",
            IDNPRCDCHG="103",
            IDNCASE="3",
            IDNPROCEEDING="12",
            CHARGE="212a02Ai  I",
            CHG_STATUS="S",
        ),
        row_for(
            "B_TblProceedCharges",
            IDNPRCDCHG="104",
            IDNCASE="3",
            IDNPROCEEDING="13",
            CHARGE="212(a)(6)(A)(i) ",
            CHG_STATUS="S",
        ),
    ]
    reps = [
        row_for(
            "tbl_RepsAssigned",
            IDNREPSASSIGNED="500",
            IDNCASE="1",
            STRATTYLEVEL="COURT",
            STRATTYTYPE="ALIEN",
            PARENT_TABLE="P",
            PARENT_IDN="10",
            E_28_DATE=day(2),
            BLNPRIMEATTY="1",
        )
    ]
    prio = [
        row_for(
            "tbl_CasePriorityHistory",
            IDNCASEPRIHISTORY="900",
            CASEPRIORITY_CODE="N/A",
            IDNCASE="1",
            DATCREATEDON=day(1),
        )
    ]
    tables = {
        "A_TblCase": tsv(header_of("A_TblCase"), cases),
        "B_TblProceeding": tsv(header_of("B_TblProceeding"), procs),
        "B_TblProceedCharges": tsv(header_of("B_TblProceedCharges"), charges),
        "tbl_RepsAssigned": tsv(header_of("tbl_RepsAssigned"), reps),
        "tbl_CasePriorityHistory": tsv(header_of("tbl_CasePriorityHistory"), prio),
    }
    counts = {
        "A_TblCase": 3,
        "B_TblProceeding": 4,
        "B_TblProceedCharges": 5,
        "tbl_RepsAssigned": 1,
        "tbl_CasePriorityHistory": 1,
        **{k: len(v.splitlines()) - 1 for k, v in small_lookups().items()},
    }
    return write_release(
        root, tables, counts=counts, lookups=small_lookups(), as_zip=as_zip, synthetic=synthetic
    )
