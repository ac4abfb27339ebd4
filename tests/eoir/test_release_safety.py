"""A release is read as data: hostile names, links, encodings, sizes and lines in the real layout.

Each test writes the bad release byte by byte, runs the real ingest, and asserts what a user
would see: the pipeline's own tables untouched, every member listed with what was done with it,
one clear message naming the file.
"""

from __future__ import annotations

import errno
import os
import zipfile

import pytest

from pipelines.eoir import decode as decode_mod
from pipelines.eoir import limits
from pipelines.eoir.archive import ReleaseError, open_release
from pipelines.eoir.columns import canonical_name, core_specs, map_header
from pipelines.eoir.ingest import ingest_lookups, ingest_table
from tests.eoir.conftest import (
    LOOKUP_HEADERS,
    case_fields,
    header_of,
    small_lookups,
    tsv,
    write_release,
)

DATED = "EOIR Case Data 2026-0401"


def _cases(rows=3, extra_rows=()):
    return tsv(
        header_of("A_TblCase"), [case_fields(i) for i in range(1, rows + 1)] + list(extra_rows)
    )


def _members(con, release_id="2026-04"):
    return {
        m: (a, d)
        for m, a, d in con.execute(
            "SELECT member, action, detail FROM raw.release_members WHERE release_id = ?",
            [release_id],
        ).fetchall()
    }


def _tables(con):
    return {
        r[0].lower()
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw'"
        ).fetchall()
    }


def test_a_lookup_named_rejects_never_touches_raw_rejects(con, settings, tmp_path):
    bad = ["FC"] + case_fields(9)[1:]  # a real reject: invalid primary key on line 5
    planted = tsv(
        ["release_id", "source_table", "source_file", "source_line", "reason", "raw_text"],
        [["2026-04", "A_TblCase", "x", "1", "planted", "planted row"]],
    )
    lookups = {**small_lookups(), "rejects": planted, "load_audit": planted}
    path = write_release(
        tmp_path, {"A_TblCase": _cases(extra_rows=[bad])}, counts={"A_TblCase": 4}, lookups=lookups
    )
    rel = open_release(path)
    ingest_table(con, rel, rel.member("A_TblCase"), core_specs()["A_TblCase"], settings.temp_dir)
    audits, problems = ingest_lookups(con, rel, settings.temp_dir)
    assert problems == {}
    assert {a.source_table for a in audits} == set(small_lookups())
    got = con.execute("SELECT source_table, source_line, reason FROM raw.rejects").fetchall()
    assert got == [("A_TblCase", 5, "invalid primary key")]
    assert con.execute(
        "SELECT count(*) FROM raw.load_audit WHERE source_table = 'load_audit'"
    ).fetchone() == (0,)
    members = _members(con)
    assert members[f"{DATED}/Lookup/rejects.csv"] == ("not used by this pipeline", "")
    assert members[f"{DATED}/Lookup/load_audit.csv"] == ("not used by this pipeline", "")
    assert members[f"{DATED}/EOIR Case Data/A_TblCase.csv"][0] == "ingested"
    assert members[f"{DATED}/Lookup/tblLookupCaseType.csv"][0] == "ingested"
    assert members[f"{DATED}/Count.txt"] == ("read", "row counts")


def test_every_member_is_listed_and_unknown_tables_are_not_loaded(con, settings, tmp_path):
    hdr = ["IDNSCHEDULE", "IDNCASE", "ADJ_DATE"]
    path = write_release(
        tmp_path,
        {"A_TblCase": _cases(), "tbl_schedule": tsv(hdr, [["1", "1", "2012-01-01"]])},
        counts={"A_TblCase": 3, "tbl_schedule": 1},
        lookups={"tblLookupJudge": tsv(["JUDGE_CODE", "JUDGE_NAME"], [["AB", "X"]])},
    )
    rel = open_release(path)
    ingest_table(con, rel, rel.member("A_TblCase"), core_specs()["A_TblCase"], settings.temp_dir)
    ingest_lookups(con, rel, settings.temp_dir)
    members = _members(con)
    assert members[f"{DATED}/EOIR Case Data/tbl_schedule.csv"][0] == "not used by this pipeline"
    assert members[f"{DATED}/Lookup/tblLookupJudge.csv"][0] == "not used by this pipeline"
    assert members[f"{DATED}/EOIR Case Data/A_TblCase.csv"] == (
        "ingested",
        "raw.A_TblCase: 3 lines, 3 as-is, 0 repaired, 0 rejected",
    )
    assert "tbl_schedule" not in _tables(con) and "tbllookupjudge" not in _tables(con)
    # A completeness check still sees the table Count.txt lists.
    assert "tbl_schedule" in rel.members


def test_traversal_names_in_a_zip_are_refused_and_never_loaded(con, settings, tmp_path):
    path = tmp_path / "EOIR Case Data.zip"
    evil = tsv(header_of("A_TblCase"), [case_fields(666)])
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{DATED}/EOIR Case Data/A_TblCase.csv", _cases())
        zf.writestr(f"{DATED}/Lookup/../../../evil/A_TblCase.csv", evil)
        zf.writestr("/abs/tblLookupCaseType.csv", tsv(LOOKUP_HEADERS["tblLookupCaseType"], []))
        zf.writestr(f"{DATED}/../Lookup/tblLookupCustodyStatus.csv", evil)
    rel = open_release(path)
    assert rel.member("A_TblCase").path == f"{DATED}/EOIR Case Data/A_TblCase.csv"
    assert rel.lookups() == []
    ingest_table(con, rel, rel.member("A_TblCase"), core_specs()["A_TblCase"], settings.temp_dir)
    ingest_lookups(con, rel, settings.temp_dir)
    members = _members(con)
    for name in (
        f"{DATED}/Lookup/../../../evil/A_TblCase.csv",
        "/abs/tblLookupCaseType.csv",
        f"{DATED}/../Lookup/tblLookupCustodyStatus.csv",
    ):
        assert members[name] == ("refused", "name leaves the release"), name
    assert con.execute("SELECT count(*) FROM raw.A_TblCase WHERE IDNCASE = '666'").fetchone() == (
        0,
    )
    assert con.execute("SELECT count(*) FROM raw.tblLookupCustodyStatus").fetchone() == (0,)


def test_symlinks_leaving_a_release_folder_are_refused(con, settings, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "passwd.csv"
    secret.write_bytes(b"root:x:0:0\tSECRET-LINE\r\n1\tSECRET-VALUE\r\n")
    (outside / "sub").mkdir()
    (outside / "sub" / "tblLookupCustodyStatus.csv").write_bytes(secret.read_bytes())
    (tmp_path / "r").mkdir()
    folder = write_release(
        tmp_path / "r", {"A_TblCase": _cases()}, counts={"A_TblCase": 3}, as_zip=False
    )
    lookup_dir = folder / DATED / "Lookup"
    lookup_dir.mkdir(parents=True, exist_ok=True)
    os.symlink(secret, lookup_dir / "tblLookupCaseType.csv")
    os.symlink(outside / "sub", lookup_dir / "more")
    # A link that stays inside the release is an ordinary file.
    os.symlink(folder / DATED / "EOIR Case Data" / "A_TblCase.csv", folder / "link_inside.csv")
    rel = open_release(folder)
    assert rel.lookups() == []
    audits, problems = ingest_lookups(con, rel, settings.temp_dir)
    assert audits == [] and problems == {}
    members = _members(con)
    assert members[f"{DATED}/Lookup/tblLookupCaseType.csv"] == (
        "refused",
        "symlink to a file outside the release",
    )
    assert members[f"{DATED}/Lookup/more"] == ("refused", "symlink to a folder outside the release")
    assert members["link_inside.csv"][0] == "not used by this pipeline"
    dump = str(con.execute("SELECT * FROM raw.tblLookupCaseType").fetchall())
    dump += str(con.execute("SELECT * FROM raw.tblLookupCustodyStatus").fetchall())
    dump += str(con.execute("SELECT * FROM raw.release_members").fetchall())
    assert "SECRET" not in dump


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_a_utf16_table_is_named_as_such(con, settings, tmp_path, encoding):
    data = tsv(header_of("A_TblCase"), [case_fields(1)], encoding=encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    path = write_release(tmp_path, {"A_TblCase": data}, counts={"A_TblCase": 1})
    rel = open_release(path)
    with pytest.raises(ReleaseError, match=r"A_TblCase.csv: the file is UTF-16") as exc:
        ingest_table(
            con, rel, rel.member("A_TblCase"), core_specs()["A_TblCase"], settings.temp_dir
        )
    assert "renamed" not in str(exc.value)
    assert list(settings.temp_dir.iterdir()) == []  # the half-decoded file is gone
    action, detail = _members(con)[f"{DATED}/EOIR Case Data/A_TblCase.csv"]
    assert action == "unreadable" and "UTF-16" in detail


def test_a_utf16_lookup_is_reported_not_loaded(con, settings, tmp_path):
    lookups = small_lookups()
    lookups["tblLookupBaseCity"] = tsv(
        LOOKUP_HEADERS["tblLookupBaseCity"], [["3", "ATL"] + [""] * 96], encoding="utf-16"
    )
    path = write_release(tmp_path, {"A_TblCase": _cases()}, lookups=lookups)
    rel = open_release(path)
    audits, problems = ingest_lookups(con, rel, settings.temp_dir)
    assert set(problems) == {"tblLookupBaseCity"}
    assert "UTF-16" in problems["tblLookupBaseCity"]
    cols = [r[0] for r in con.execute("DESCRIBE raw.tblLookupBaseCity").fetchall()]
    assert not any(c.startswith(("Ÿ", "ÿ")) for c in cols), cols
    assert con.execute("SELECT count(*) FROM raw.tblLookupBaseCity").fetchone() == (0,)
    assert _members(con)[f"{DATED}/Lookup/tblLookupBaseCity.csv"][0] == "unreadable"


def test_retired_column_suffixes_map_to_the_base_name():
    assert canonical_name("REJ_Remove") == "REJ"
    assert canonical_name("IDNCASE_TO_BE_REMOVED") == "IDNCASE"
    assert canonical_name("DATE_REMOVED") == "DATE_REMOVED"  # a name that merely ends in REMOVED
    header = header_of("B_TblProceedCharges")
    header[header.index("CHG_STATUS")] = "CHG_STATUS_TO_BE_REMOVED"
    mapping = map_header(header, core_specs()["B_TblProceedCharges"])
    assert "CHG_STATUS" in mapping.file_columns and mapping.unknown == []


def test_a_member_beyond_the_limits_is_refused_before_decompression(
    con, settings, tmp_path, monkeypatch
):
    monkeypatch.setattr(limits, "RATIO_EXEMPT_BYTES", 100_000)
    monkeypatch.setattr(limits, "MAX_LOOKUP_BYTES", 5_000_000)
    lookups = small_lookups()
    # A bomb: 4 MB of one repeated row compresses about 1000-fold.
    hdr = LOOKUP_HEADERS["tblLookupCaseType"]
    row = ["1", "RMV", "Removal", "1", "2003-08-07 00:00:00.000", "", ""]
    lookups["tblLookupCaseType"] = tsv(hdr, [row] * 90_000)
    lookups["tblLookupCustodyStatus"] = b"x" * 6_000_000  # beyond the lookup size limit
    path = write_release(tmp_path, {"A_TblCase": _cases()}, lookups=lookups)
    rel = open_release(path)
    opened = []
    real_open = type(rel).open

    def spy(self, member):
        opened.append(member.name)
        return real_open(self, member)

    monkeypatch.setattr(type(rel), "open", spy)
    audits, problems = ingest_lookups(con, rel, settings.temp_dir)
    assert "tblLookupCaseType" not in opened and "tblLookupCustodyStatus" not in opened
    assert set(problems) == {"tblLookupCaseType", "tblLookupCustodyStatus"}
    assert "PD_EOIR_MAX_COMPRESSION_RATIO" in problems["tblLookupCaseType"]
    assert "PD_EOIR_MAX_LOOKUP_BYTES" in problems["tblLookupCustodyStatus"]
    assert {a.source_table for a in audits} == set(small_lookups()) - set(problems)
    members = _members(con)
    assert members[f"{DATED}/Lookup/tblLookupCaseType.csv"][0] == "refused"


def test_a_core_table_beyond_the_size_limit_stops_with_the_setting(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_MEMBER_BYTES", 1000)
    path = write_release(tmp_path, {"A_TblCase": _cases(rows=20)}, counts={"A_TblCase": 20})
    rel = open_release(path)
    with pytest.raises(
        ReleaseError, match="refused before decompression.*raise PD_EOIR_MAX_MEMBER_BYTES"
    ):
        rel.member("A_TblCase")


def test_limits_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("PD_EOIR_MAX_LINE_BYTES", "2_000_000")
    assert limits._env_int("PD_EOIR_MAX_LINE_BYTES", 5) == 2_000_000
    monkeypatch.setenv("PD_EOIR_MAX_LINE_BYTES", "lots")
    with pytest.raises(ValueError, match="PD_EOIR_MAX_LINE_BYTES='lots' is not a whole number"):
        limits._env_int("PD_EOIR_MAX_LINE_BYTES", 5)


def test_an_over_long_line_is_quarantined_with_its_line_number(con, settings, tmp_path):
    long_city = "X" * 10_500_000  # 10.5 MB in one field
    rows = [
        case_fields(1),
        case_fields(2, city=long_city),
        case_fields(3),
        [],  # a blank line (line 5) that the reader skips
        case_fields(4) + [""] * 9,  # more trailing fields than the spare columns hold
        case_fields(5) + ["", "x", "", "", "", "", "", ""],  # too many fields, not repairable
        case_fields(6),
    ]
    # A folder: in a zip, 10.5 MB of one letter is refused by the compression-ratio limit.
    path = write_release(
        tmp_path,
        {"A_TblCase": tsv(header_of("A_TblCase"), rows)},
        counts={"A_TblCase": 7},
        as_zip=False,
    )
    rel = open_release(path)
    audit = ingest_table(
        con, rel, rel.member("A_TblCase"), core_specs()["A_TblCase"], settings.temp_dir
    )
    assert (audit.lines_read, audit.loaded_as_is, audit.repaired, audit.rejected) == (7, 3, 1, 3)
    assert audit.reconciled is True
    loaded = con.execute("SELECT IDNCASE, source_line FROM raw.A_TblCase ORDER BY 2").fetchall()
    assert loaded == [("1", 2), ("3", 4), ("4", 6), ("6", 8)]
    rejects = con.execute(
        "SELECT source_line, reason, length(raw_text) FROM raw.rejects ORDER BY 1"
    ).fetchall()
    assert rejects[0][0] == 3 and rejects[0][1].startswith("line longer than 1,048,576 bytes")
    assert 0 < rejects[0][2] <= 2000
    assert rejects[1] == (5, "blank line", 0)
    assert rejects[2][0] == 7 and rejects[2][1].startswith("unrepairable: 47 fields")
    repairs = con.execute("SELECT source_line, repair FROM raw.repairs").fetchall()
    assert repairs == [(6, "trailing_empty_trimmed")]


def test_line_numbers_stay_right_after_many_skipped_lines(con, settings, tmp_path):
    """More skipped lines than the inline expression takes: the ASOF join path."""
    rows = []
    for i in range(1, 101):
        rows.append(case_fields(i))
        if i % 3 == 0:
            rows.append([])
    path = write_release(
        tmp_path, {"A_TblCase": tsv(header_of("A_TblCase"), rows)}, counts={"A_TblCase": len(rows)}
    )
    rel = open_release(path)
    audit = ingest_table(
        con, rel, rel.member("A_TblCase"), core_specs()["A_TblCase"], settings.temp_dir
    )
    assert (audit.loaded_as_is, audit.rejected) == (100, 33)
    expected = [(str(i), 1 + i + (i - 1) // 3) for i in range(1, 101)]
    got = con.execute(
        "SELECT IDNCASE, source_line FROM raw.A_TblCase ORDER BY source_line"
    ).fetchall()
    assert got == expected


def test_a_lone_cr_stays_in_its_field(con, settings, tmp_path):
    rows = [case_fields(1, city="A\rB"), case_fields(2)]
    path = write_release(
        tmp_path, {"A_TblCase": tsv(header_of("A_TblCase"), rows)}, counts={"A_TblCase": 2}
    )
    rel = open_release(path)
    audit = ingest_table(
        con, rel, rel.member("A_TblCase"), core_specs()["A_TblCase"], settings.temp_dir
    )
    assert (audit.lines_read, audit.loaded_as_is) == (2, 2)
    got = con.execute("SELECT ALIEN_CITY FROM raw.A_TblCase ORDER BY source_line").fetchall()
    assert got == [("A\rB",), ("BROOKLYN",)]


def test_disk_full_on_the_temp_dir_is_one_line_and_leaves_nothing(
    con, settings, tmp_path, monkeypatch
):
    path = write_release(tmp_path, {"A_TblCase": _cases(rows=50)}, counts={"A_TblCase": 50})
    rel = open_release(path)
    real_open = open

    class FullDisk:
        """Writes the first bytes for real, then fails as a full disk does."""

        def __init__(self, f):
            self.f = f

        def write(self, b):
            self.f.write(b[:100])
            raise OSError(errno.ENOSPC, "No space left on device")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    monkeypatch.setattr(
        decode_mod, "open", lambda p, mode: FullDisk(real_open(p, mode)), raising=False
    )
    with pytest.raises(ReleaseError) as exc:
        ingest_table(
            con, rel, rel.member("A_TblCase"), core_specs()["A_TblCase"], settings.temp_dir
        )
    msg = str(exc.value)
    assert "\n" not in msg
    assert str(settings.temp_dir) in msg and "needs about" in msg and "PD_TEMP_DIR" in msg
    assert list(settings.temp_dir.iterdir()) == []


def test_temp_files_of_a_failed_load_are_removed(con, settings, tmp_path):
    path = write_release(tmp_path, {"A_TblCase": b"IDNCASE,X\r\n1,2\r\n"}, counts={"A_TblCase": 1})
    rel = open_release(path)
    with pytest.raises(ReleaseError, match="no TAB in the header"):
        ingest_table(
            con, rel, rel.member("A_TblCase"), core_specs()["A_TblCase"], settings.temp_dir
        )
    assert list(settings.temp_dir.iterdir()) == []
