"""Reading ICE STU removal workbooks: header detection, renames, sheets, lock files, errors."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from pipelines.ice.clean import clean_removals
from pipelines.ice.reader import (
    CorruptWorkbookError,
    HeaderNotFoundError,
    IceWorkbookError,
    MissingColumnError,
    alias_map,
    find_ice_files,
    header_key,
    read_ice_release,
    release_date_from_filenames,
)
from tests.ice.workbooks import (
    HEADER_2025_AUG,
    HEADER_2026_MAR,
    HEADER_42034,
    HEADER_NYT,
    Sheet,
    record,
    write_workbook,
)

# Excel's 1900 date system counts days from 1899-12-30 (for serials above 60).
EXCEL_SERIAL_2012_03_04 = (date(2012, 3, 4) - date(1899, 12, 30)).days
PERSON_A = "a" * 40
PERSON_B = "b" * 40

LAYOUTS = [
    # (release, header, header row, data sheet name)
    ("2023-ICFO-42034", HEADER_42034, 6, "FY13-12"),
    ("2024-ICFO-39357", HEADER_2025_AUG, 7, "Removals"),
    ("2026-ICLI-00005", HEADER_2026_MAR, 7, "Removals"),
    ("14-03290", HEADER_NYT, 4, "Details"),
]


def _two_rows(header):
    return [
        record(header, departed=date(2012, 3, 4), person=PERSON_A, code="0301", level="3"),
        record(header, departed=date(2012, 10, 1), person=PERSON_B, code="70AA", level="2"),
    ]


@pytest.mark.parametrize("release,header,header_row,sheet", LAYOUTS)
def test_each_layout_header_found_and_renamed(tmp_path, release, header, header_row, sheet):
    sheets = [Sheet(sheet, header, _two_rows(header), header_row=header_row)]
    if release == "14-03290":
        # the NYT release keeps prose on other sheets around "Details" (docs/ICE_FORMAT.md#14-03290)
        sheets = [
            Sheet("Notes", None, prose=["These data were released under FOIA 14-03290."]),
            *sheets,
            Sheet("Legend", None, prose=["Rc Threat Level: 1 most serious"]),
            Sheet("Appendix", None, prose=["Program codes", "CAP Criminal Alien Program"]),
        ]
    path = write_workbook(tmp_path / f"{release}.xlsx", sheets)

    df, report = read_ice_release([path])

    info = [s for s in report["files"][0]["sheets"] if s["status"] == "data"]
    assert [s["sheet"] for s in info] == [sheet]
    assert info[0]["header_row"] == header_row
    assert info[0]["layout"] == release
    assert report["unknown_columns"] == {}
    # every documented header of the layout maps to a canonical column
    keys = alias_map()
    assert all(header_key(h) in keys for h in header)
    assert df["anonymized_identifier"].to_list() == [PERSON_A, PERSON_B]
    assert df["msc_charge_code"].to_list() == ["0301", "70AA"]
    assert df["case_threat_level"].to_list() == ["3", "2"]
    assert df["source_sheet"].to_list() == [sheet, sheet]
    assert df["source_row"].to_list() == [header_row + 1, header_row + 2]
    if release == "14-03290":
        skipped = [s["sheet"] for s in report["files"][0]["sheets"] if s["status"] == "skipped"]
        assert skipped == ["Notes", "Legend", "Appendix"]
    clean, _ = clean_removals(df, date(2026, 3, 11))
    assert clean["departed_date"].to_list() == [date(2012, 3, 4), date(2012, 10, 1)]
    assert clean["fiscal_year"].to_list() == [2012, 2013]


def test_header_found_below_a_long_cover_block_but_not_beyond_the_scan(tmp_path):
    cover = [f"cover line {i}" for i in range(30)]
    ok = write_workbook(
        tmp_path / "deep.xlsx",
        [Sheet("Removals", HEADER_2026_MAR, _two_rows(HEADER_2026_MAR), 15, cover)],
    )
    df, report = read_ice_release([ok])
    assert report["files"][0]["sheets"][0]["header_row"] == 15
    assert df["source_row"].to_list() == [16, 17]

    too_deep = write_workbook(
        tmp_path / "too_deep.xlsx",
        [Sheet("Removals", HEADER_2026_MAR, _two_rows(HEADER_2026_MAR), 25, cover)],
    )
    with pytest.raises(HeaderNotFoundError) as err:
        read_ice_release([too_deep])
    assert "too_deep.xlsx" in str(err.value) and "'Removals'" in str(err.value)


def test_sheets_are_concatenated_in_order_with_their_excel_rows(tmp_path):
    h = HEADER_2026_MAR
    rows = [
        record(h, departed=date(2013, 1, d), person=f"{d:040x}", code="5404") for d in range(1, 8)
    ]
    path = write_workbook(
        tmp_path / "split.xlsx",
        [
            Sheet("Removals", h, rows[:3]),
            Sheet("Removals 2", h, rows[3:6]),
            Sheet("Removals 3", h, rows[6:]),
        ],
    )
    df, report = read_ice_release([path])
    assert df.height == 7
    assert report["rows_per_sheet"] == {
        "split.xlsx::Removals": 3,
        "split.xlsx::Removals 2": 3,
        "split.xlsx::Removals 3": 1,
    }
    assert df["source_sheet"].to_list() == ["Removals"] * 3 + ["Removals 2"] * 3 + ["Removals 3"]
    assert df["source_row"].to_list() == [8, 9, 10, 8, 9, 10, 8]
    assert df["anonymized_identifier"].to_list() == [f"{d:040x}" for d in range(1, 8)]


def test_lock_files_are_skipped(tmp_path):
    h = HEADER_2026_MAR
    write_workbook(tmp_path / "rel" / "Removals_FY23.xlsx", [Sheet("Removals", h, _two_rows(h))])
    write_workbook(tmp_path / "rel" / "sub" / "Removals_FY24.XLSX", [Sheet("R", h, _two_rows(h))])
    (tmp_path / "rel" / "~$Removals_FY23.xlsx").write_bytes(b"\x00owner lock")
    (tmp_path / "rel" / "._Removals_FY23.xlsx").write_bytes(b"mac resource fork")
    (tmp_path / "rel" / "readme.txt").write_text("not a workbook")

    files = find_ice_files(tmp_path / "rel")
    assert [p.name for p in files] == ["Removals_FY23.xlsx", "Removals_FY24.XLSX"]

    lock = tmp_path / "rel" / "~$Removals_FY23.xlsx"
    df, report = read_ice_release([*files, lock])
    assert df.height == 4
    assert report["skipped_files"] == [str(lock)]


def test_unknown_column_is_kept_and_reported(tmp_path):
    h = [*HEADER_2026_MAR, "Removal Reason Narrative"]
    rows = _two_rows(HEADER_2026_MAR)
    rows[0]["Removal Reason Narrative"] = "new in this release"
    path = write_workbook(tmp_path / "new.xlsx", [Sheet("Removals", h, rows)])
    df, report = read_ice_release([path])
    assert report["unknown_columns"] == {
        "Removal Reason Narrative": "unmapped_removal_reason_narrative"
    }
    assert df["unmapped_removal_reason_narrative"].to_list() == ["new in this release", None]
    # the layout is still recognised, with a score below a perfect match
    sheet = report["files"][0]["sheets"][0]
    assert sheet["layout"] == "2026-ICLI-00005" and sheet["layout_score"] < 1


def test_codes_stay_text_and_dates_arrive_both_ways(tmp_path):
    h = HEADER_2026_MAR
    rows = [
        # a date-formatted cell, and the same day as a bare Excel serial number
        {**record(h, departed=datetime(2012, 3, 4), person=PERSON_A, code="0301")},
        {**record(h, departed=EXCEL_SERIAL_2012_03_04, person=PERSON_B, code="70AA")},
        # a code that went through a numeric cell lost its leading zero
        {**record(h, departed="03/05/2012", person="c" * 40, code=301)},
    ]
    path = write_workbook(tmp_path / "codes.xlsx", [Sheet("Removals", h, rows)])
    df, _ = read_ice_release([path])
    assert df.schema["msc_charge_code"] == pl.String
    clean, counts = clean_removals(df, date(2026, 3, 11))
    assert clean["msc_charge_code"].to_list() == ["0301", "70AA", "0301"]
    assert counts["msc_charge_code_zero_padded"] == 1
    assert clean["departed_date"].to_list() == [
        date(2012, 3, 4),
        date(2012, 3, 4),
        date(2012, 3, 5),
    ]


def test_release_date_from_file_names(tmp_path):
    names = [
        tmp_path / "2026-ICLI-00005_Removals_FY23_20260311_Redacted.xlsx",
        tmp_path / "2026-ICLI-00005_Removals_FY24_20260310_Redacted.xlsx",
    ]
    assert release_date_from_filenames(names) == date(2026, 3, 11)
    assert release_date_from_filenames([tmp_path / "2023-ICFO_42034_FY13-12.xlsx"]) is None


# --- errors: clear, naming file and sheet --------------------------------------------------


def test_corrupt_workbook_names_the_file(tmp_path):
    bad = tmp_path / "Removals_FY12_truncated.xlsx"
    good = write_workbook(tmp_path / "good.xlsx", [Sheet("Removals", HEADER_2026_MAR, [])])
    bad.write_bytes(good.read_bytes()[:300])
    with pytest.raises(CorruptWorkbookError) as err:
        read_ice_release([bad])
    msg = str(err.value)
    assert "Removals_FY12_truncated.xlsx" in msg and "What to do:" in msg
    assert isinstance(err.value, IceWorkbookError) and isinstance(err.value, ValueError)


def test_sheet_without_a_recognizable_header_names_file_and_sheet(tmp_path):
    h = HEADER_2026_MAR
    path = write_workbook(
        tmp_path / "odd.xlsx",
        [
            Sheet("Removals", h, _two_rows(h)),
            Sheet("Data 2", ["Col A", "Col B", "Col C"], [{"Col A": "x", "Col B": "y"}]),
        ],
    )
    with pytest.raises(HeaderNotFoundError) as err:
        read_ice_release([path])
    assert err.value.sheet == "Data 2"
    assert "odd.xlsx" in str(err.value) and "'Data 2'" in str(err.value)


def test_missing_required_column_names_file_sheet_and_column(tmp_path):
    h = [c for c in HEADER_2026_MAR if c != "Anonymized Identifier"]
    rows = [record(h, departed=date(2012, 3, 4), code="0301")]
    path = write_workbook(tmp_path / "noid.xlsx", [Sheet("Removals", h, rows)])
    with pytest.raises(MissingColumnError) as err:
        read_ice_release([path])
    msg = str(err.value)
    assert "noid.xlsx" in msg and "'Removals'" in msg
    assert "anonymized_identifier" in msg and "Anonymized Identifer" in msg


def test_a_second_header_for_a_mapped_column_is_kept_apart(tmp_path):
    # both spellings of the departure date in one sheet: the first wins, the second is kept
    h = [*HEADER_2026_MAR, "Departure Date"]
    rows = _two_rows(HEADER_2026_MAR)
    rows[0]["Departure Date"] = date(2012, 3, 5)
    path = write_workbook(tmp_path / "twice.xlsx", [Sheet("Removals", h, rows)])
    df, report = read_ice_release([path])
    assert report["duplicate_alias_columns"] == {"Departure Date": "departed_date"}
    assert "unmapped_departure_date" in df.columns
    assert df["departed_date"][0].startswith("2012-03-04")
    assert find_ice_files(tmp_path / "no such folder") == []
