"""The byte-level format of an EOIR "case data" release, for writing one.

Every fact here comes from docs/EOIR_FORMAT.md (anchors cited inline). The ingest
reader is tolerant of variants (any depth, any case, Deflate64 or deflate, CRLF or LF); this module
writes the one canonical shape a 2026-04 release has, so fixtures and the synthetic sample look
like the real thing.

`write_eoir_table` and `write_count_txt` are public: tests elsewhere use them to write tiny
real-format fixtures, including deliberately damaged rows (ragged rows, NUL bytes, raw bytes).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path

# docs/EOIR_FORMAT.md#release-layout: the download is "EOIR Case Data.zip"; inside, one folder per
# release named "EOIR Case Data YYYY-MMDD" (e.g. "EOIR Case Data 2026-0401") holding "EOIR Case
# Data/" (core tables) and "Lookup/".
RELEASE_ZIP_NAME = "EOIR Case Data.zip"
CORE_FOLDER = "EOIR Case Data"
LOOKUP_FOLDER = "Lookup"
# docs/EOIR_FORMAT.md#release-layout, docs/EOIR_FORMAT.md#open-questions: where Count.txt sits is
# not established; the generator puts it at the release root.
COUNT_FILE = "Count.txt"
# Not part of a real release: its presence tells the reader the release is synthetic.
SYNTHETIC_MARKER = "SYNTHETIC-README.txt"

# docs/EOIR_FORMAT.md#text-format: cp1252 text (latin-1 as the reader's fallback).
ENCODING = "cp1252"

# docs/EOIR_FORMAT.md#core-table-columns: column lists of the 2026-04 release, verified from printed
# headers. A_TblCase has `Sex` where 2025 had `GENDER`.
CORE_HEADERS: dict[str, list[str]] = {
    "A_TblCase": [
        "IDNCASE", "ALIEN_CITY", "ALIEN_STATE", "ALIEN_ZIPCODE", "UPDATED_ZIPCODE",
        "UPDATED_CITY", "NAT", "LANG", "CUSTODY", "SITE_TYPE", "E_28_DATE", "ATTY_NBR",
        "CASE_TYPE", "UPDATE_SITE", "LATEST_HEARING", "LATEST_TIME", "LATEST_CAL_TYPE",
        "UP_BOND_DATE", "UP_BOND_RSN", "CORRECTIONAL_FAC", "RELEASE_MONTH", "RELEASE_YEAR",
        "INMATE_HOUSING", "DATE_OF_ENTRY", "C_ASY_TYPE", "C_BIRTHDATE", "C_RELEASE_DATE",
        "UPDATED_STATE", "ADDRESS_CHANGEDON", "ZBOND_MRG_FLAG", "Sex", "DATE_DETAINED",
        "DATE_RELEASED", "LPR", "DETENTION_DATE", "DETENTION_LOCATION", "DCO_LOCATION",
        "DETENTION_FACILITY_TYPE", "CASEPRIORITY_CODE",
    ],
    "B_TblProceeding": [
        "IDNPROCEEDING", "IDNCASE", "OSC_DATE", "INPUT_DATE", "BASE_CITY_CODE",
        "HEARING_LOC_CODE", "IJ_CODE", "TRANS_IN_DATE", "PREV_HEARING_LOC", "PREV_HEARING_BASE",
        "PREV_IJ_CODE", "TRANS_NBR", "HEARING_DATE", "HEARING_TIME", "DEC_TYPE", "DEC_CODE",
        "DEPORTED_1", "DEPORTED_2", "OTHER_COMP", "APPEAL_RSVD", "APPEAL_NOT_FILED", "COMP_DATE",
        "ABSENTIA", "VENUE_CHG_GRANTED", "TRANSFER_TO", "DATE_APPEAL_DUE_STATUS",
        "TRANSFER_STATUS", "CUSTODY", "CASE_TYPE", "NAT", "LANG", "SCHEDULED_HEAR_LOC",
        "CORRECTIONAL_FAC", "CRIM_IND", "IHP", "AGGRAVATE_FELON", "DATE_DETAINED",
        "DATE_RELEASED",
    ],
    "B_TblProceedCharges": ["IDNPRCDCHG", "IDNCASE", "IDNPROCEEDING", "CHARGE", "CHG_STATUS"],
    "tbl_RepsAssigned": [
        "IDNREPSASSIGNED", "IDNCASE", "STRATTYLEVEL", "STRATTYTYPE", "PARENT_TABLE",
        "PARENT_IDN", "BASE_CITY_CODE", "INS_TA_DATE_ASSIGNED", "E_27_DATE", "E_28_DATE",
        "BLNPRIMEATTY",
    ],
    "tbl_CasePriorityHistory": [
        "idnCasePriHistory", "casePriority_code", "idnCase", "DATCREATEDON", "DATMODIFIEDON",
    ],
}  # fmt: skip


def _base_city_header() -> list[str]:
    # docs/EOIR_FORMAT.md#lookup-tables: 98 columns; the BaseEoir form blocks are listed compactly
    # in docs/EOIR_FORMAT.md and spelled out in the 2026-04 DDL of [DK]
    # SQL/Tables/lookup_tables.sql.
    cols = [
        "idnBaseCity", "BASE_CITY_CODE", "BASE_CITY_NAME", "BaseAutomated", "BASE_ST_ADDRESS",
        "BASE_CITY", "BASE_STATE", "BASE_ZIP_1", "BASE_ZIP_2", "BASE_PHONE_NO", "strRegion",
    ]  # fmt: skip
    subs = ["Flag", "Code", "Suba", "Subb", "Subc", "Subd", "Sube", "Subf"]
    for form in ("1", "2", "5", "6", "7", "34", "35", "36", "39"):
        cols += [f"BaseEoir{form}{s}" for s in subs]
    cols += [f"I122{s}" for s in subs]
    cols += [
        "RopDefault", "RopPrtClass", "BaseSplPrtClass", "datCreatedOn", "datModifiedOn",
        "blnActive", "blnBCIS",
    ]  # fmt: skip
    return cols


# docs/EOIR_FORMAT.md#lookup-tables: current lookup headers, each equal to the column list of
# deportationdata/eoir's column-type table of the October 2025 release (tests compare them);
# tblLookupAlienNat's is known from that table only.
LOOKUP_HEADERS: dict[str, list[str]] = {
    "tbllookupCharges": [
        "idnCharges", "strCode", "strCodeString", "strCodeDescription", "applicable_case_type1",
        "applicable_case_type2", "applicable_case_type3", "criminal_flag", "aggravate_felon",
        "DatCreatedOn", "DatModifiedOn", "blnActive",
    ],
    "tblLookupCourtDecision": [
        "idnCourtDecision", "strCaseType", "strDecCode", "strDecDescription", "strDecType",
        "strFinalDisposition", "blnActive", "datCreatedOn", "datModifiedOn",
    ],
    "tblLookupBaseCity": _base_city_header(),
    "tblLookupNationality": [
        "ID", "NAT_CODE", "NAT_NAME", "NAT_COUNTRY_NAME", "NAT_NACARA_COUNTRY", "datCreatedOn",
        "datModifiedOn", "blnActive",
    ],
    "tblLookupAlienNat": [
        "idnNat", "strCode", "strDescription", "Nacara", "blnActive", "datCreatedOn",
        "datModifiedOn",
    ],
    "tblLookupCaseType": [
        "idnCaseType", "strCode", "strDescription", "blnActive", "datCreatedOn", "datModifiedOn",
        "strAnsirCode",
    ],
    "tblLookupCustodyStatus": [
        "idnCustodyStatus", "strCode", "strSelecBoxVal", "strDescription", "blnActive",
        "datCreatedOn", "datModifiedOn",
    ],
    "tblLookup_CasePriority": [
        "idnCasePriority", "strCode", "strDescription", "strDays", "DATCREATEDON",
        "DATMODIFIEDON", "blnActive", "blnBypasscal",
    ],
}  # fmt: skip


def release_folder_name(release_date: date) -> str:
    """`EOIR Case Data 2026-0401` for a release dated 2026-04-01
    (docs/EOIR_FORMAT.md#release-layout, VERIFIED path)."""
    return f"{CORE_FOLDER} {release_date:%Y-%m%d}"


def member_path(release_date: date, table: str) -> str:
    """Path of a table inside the zip (or below the output folder), with forward slashes."""
    root = release_folder_name(release_date)
    if table in CORE_HEADERS:
        return f"{root}/{CORE_FOLDER}/{table}.csv"
    if table in LOOKUP_HEADERS:
        return f"{root}/{LOOKUP_FOLDER}/{table}.csv"
    raise KeyError(f"{table!r} is neither a core table nor a lookup this generator writes")


def eoir_datetime(value: date | datetime | None) -> str:
    """`YYYY-MM-DD HH:MM:SS.mmm` (docs/EOIR_FORMAT.md#dates-times-booleans); case-table dates carry
    a 00:00:00.000 time."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}"
    return f"{value:%Y-%m-%d} 00:00:00.000"


def line_terminator(crlf: bool) -> bytes:
    # docs/EOIR_FORMAT.md#open-questions: real line endings are not established; CRLF (a Windows SQL
    # Server export) is the default and LF is available so readers are tested on both.
    return b"\r\n" if crlf else b"\n"


def encode_row(fields: Sequence[str | bytes], encoding: str = ENCODING) -> bytes:
    """One record: fields joined by TAB with no quoting (docs/EOIR_FORMAT.md#text-format). `bytes`
    fields go in verbatim."""
    return b"\t".join(f if isinstance(f, bytes) else f.encode(encoding) for f in fields)


def encode_table(
    header: Sequence[str],
    rows: Iterable[Sequence[str | bytes]],
    crlf: bool = True,
    encoding: str = ENCODING,
) -> bytes:
    """A whole table as bytes: header row, then one line per row, every line terminated."""
    eol = line_terminator(crlf)
    lines = [encode_row(header, encoding)]
    lines += [encode_row(r, encoding) for r in rows]
    return eol.join(lines) + eol


def write_eoir_table(
    path: Path | str,
    header: list[str],
    rows: list[list[str]],
    crlf: bool = True,
    encoding: str = ENCODING,
) -> int:
    """Write a table in EOIR's text format and return the number of data records written.

    Rows are written exactly as given: a row may be longer or shorter than the header, a field
    may hold a TAB, NUL or `"`, and a field given as `bytes` is written verbatim (for bytes the
    encoding cannot produce). Parent folders are created.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode_table(header, rows, crlf=crlf, encoding=encoding))
    return len(rows)


def count_txt_bytes(counts: Mapping[str, int], crlf: bool = True) -> bytes:
    """`<TableName>\\t<rows>` per table (docs/EOIR_FORMAT.md#counttxt), rows = data records, the
    header excluded."""
    eol = line_terminator(crlf)
    return b"".join(f"{name}\t{int(n)}".encode("ascii") + eol for name, n in counts.items())


def write_count_txt(path: Path | str, counts: dict[str, int], crlf: bool = True) -> None:
    """Write a Count.txt listing `counts` in the given order."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(count_txt_bytes(counts, crlf=crlf))
