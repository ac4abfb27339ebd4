"""The fixture writers other tests use to make tiny real-format EOIR files."""

from __future__ import annotations

from datetime import date, datetime

from pipelines.sample.eoir_format import (
    eoir_datetime,
    member_path,
    release_folder_name,
    write_count_txt,
    write_eoir_table,
)


def test_write_eoir_table_writes_rows_exactly_as_given(tmp_path):
    path = tmp_path / "deep" / "A_TblCase.csv"
    n = write_eoir_table(
        path,
        ["IDNCASE", "ALIEN_CITY", "ALIEN_STATE"],
        [
            ["7375924", "BROOKLYN", "", "NY"],  # one field too many, as in the 2026 tab shift
            ["2", 'CA\u00d1ON "CITY', "CO"],
            ["3", b"\x81\x00raw"],  # a short row with bytes the encoding cannot produce
        ],
    )
    assert n == 3
    assert path.read_bytes() == (
        b"IDNCASE\tALIEN_CITY\tALIEN_STATE\r\n"
        b"7375924\tBROOKLYN\t\tNY\r\n"
        b'2\tCA\xd1ON "CITY\tCO\r\n'
        b"3\t\x81\x00raw\r\n"
    )


def test_write_eoir_table_lf_and_other_encoding(tmp_path):
    path = tmp_path / "t.csv"
    write_eoir_table(path, ["A"], [["\u00e9"]], crlf=False, encoding="latin-1")
    assert path.read_bytes() == b"A\n\xe9\n"


def test_write_count_txt(tmp_path):
    path = tmp_path / "Count.txt"
    write_count_txt(path, {"B_TblProceedCharges": 18867750, "A_TblCase": 2})
    assert path.read_bytes() == b"B_TblProceedCharges\t18867750\r\nA_TblCase\t2\r\n"
    write_count_txt(path, {"A_TblCase": 2}, crlf=False)
    assert path.read_bytes() == b"A_TblCase\t2\n"


def test_release_paths_and_dates():
    assert release_folder_name(date(2026, 4, 1)) == "EOIR Case Data 2026-0401"
    assert (
        member_path(date(2026, 4, 1), "B_TblProceeding")
        == "EOIR Case Data 2026-0401/EOIR Case Data/B_TblProceeding.csv"
    )
    assert (
        member_path(date(2025, 12, 9), "tbllookupCharges")
        == "EOIR Case Data 2025-1209/Lookup/tbllookupCharges.csv"
    )
    assert eoir_datetime(date(2024, 9, 12)) == "2024-09-12 00:00:00.000"
    assert eoir_datetime(datetime(2009, 10, 22, 11, 26, 36, 187000)) == "2009-10-22 11:26:36.187"
    assert eoir_datetime(None) == ""
