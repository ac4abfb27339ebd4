"""Ingest of EOIR tables: decoding, repairs, quarantine and the exact accounting."""

from __future__ import annotations

import pytest

from pipelines.eoir.archive import ReleaseError, open_release
from pipelines.eoir.columns import core_specs
from pipelines.eoir.ingest import ingest_table
from tests.eoir.conftest import case_fields, header_of, row_for, tsv, write_release


def _ingest(con, settings, path, table="A_TblCase"):
    rel = open_release(path)
    return rel, ingest_table(
        con, rel, rel.member(table), core_specs().get(table), settings.temp_dir
    )


def test_real_2026_tab_shift_is_repaired_and_accounted(con, settings, tmp_path):
    good = [case_fields(i) for i in range(1, 6)]
    # 2026-04 A_TblCase line 111549 [DK]: an empty field inserted after ALIEN_CITY -> 40 fields.
    shifted = case_fields(7375924)
    shifted.insert(2, "")
    assert len(shifted) == 40
    city_tab = case_fields(8, city="SAN\tJUAN")  # a TAB typed inside the city name
    rows = good + [shifted, city_tab]
    path = write_release(
        tmp_path, {"A_TblCase": tsv(header_of("A_TblCase"), rows)}, counts={"A_TblCase": len(rows)}
    )
    rel, audit = _ingest(con, settings, path)
    assert rel.release_id == "2026-04"
    assert (audit.lines_read, audit.loaded_as_is, audit.repaired, audit.rejected) == (7, 5, 2, 0)
    assert audit.reconciled is True
    got = con.execute(
        "SELECT source_line, ALIEN_CITY, ALIEN_STATE, ALIEN_ZIPCODE, CASEPRIORITY_CODE, SEX "
        "FROM raw.A_TblCase WHERE IDNCASE IN ('7375924', '8') ORDER BY source_line"
    ).fetchall()
    assert got == [
        (7, "BROOKLYN\t", "NY", "11209", "N/A", "F"),
        (8, "SAN\tJUAN", "NY", "11209", "N/A", "F"),
    ]
    repairs = con.execute("SELECT source_line, repair FROM raw.repairs ORDER BY 1").fetchall()
    assert repairs == [(7, "tab_shift_merged:ALIEN_CITY"), (8, "tab_shift_merged:ALIEN_CITY")]


def test_quarantine_keeps_line_reason_and_text(con, settings, tmp_path):
    rows = [case_fields(1), ["FC"] + case_fields(2)[1:], [], case_fields(3)]
    ambiguous = case_fields(4, city="A\tB\tC")  # two tabs into a text column...
    ambiguous[20] = "x\ty"  # ...and a non-text column split in two non-empty halves
    rows.append(ambiguous)
    path = write_release(
        tmp_path, {"A_TblCase": tsv(header_of("A_TblCase"), rows)}, counts={"A_TblCase": 5}
    )
    _, audit = _ingest(con, settings, path)
    assert (audit.loaded_as_is, audit.repaired, audit.rejected) == (2, 0, 3)
    assert audit.reconciled is True
    rejects = con.execute(
        "SELECT source_line, reason, left(raw_text, 3) FROM raw.rejects ORDER BY 1"
    ).fetchall()
    assert rejects[0] == (3, "invalid primary key", "FC\t")
    assert rejects[1] == (4, "blank line", "")
    assert rejects[2][0] == 6 and rejects[2][1].startswith("unrepairable tab shift")


def test_trailing_and_short_rows_cp1252_nul_and_lf(con, settings, tmp_path):
    hdr = header_of("B_TblProceedCharges")
    rows = [
        ["1", "10", "100", "212a06Ai", "S"],
        ["2", "10", "100", "237a02Ai  I", "S", ""],  # one extra empty trailing field [DD]
        ["3", "10", "100", "212a06Ai"],  # short row: CHG_STATUS missing
        ["4", "11", "101", "212a06Ai", "S\x00"],  # a NUL byte inside a field
    ]
    data = tsv(hdr, rows, crlf=False)
    path = write_release(
        tmp_path, {"B_TblProceedCharges": data}, counts={"B_TblProceedCharges": 4}, as_zip=False
    )
    _, audit = _ingest(con, settings, path, "B_TblProceedCharges")
    assert (audit.loaded_as_is, audit.repaired, audit.rejected) == (2, 2, 0)
    assert audit.nul_bytes_stripped == 1
    got = con.execute(
        "SELECT IDNPRCDCHG, CHARGE, CHG_STATUS FROM raw.B_TblProceedCharges ORDER BY 1"
    ).fetchall()
    assert got == [
        ("1", "212a06Ai", "S"),
        ("2", "237a02Ai  I", "S"),
        ("3", "212a06Ai", None),
        ("4", "212a06Ai", "S"),
    ]
    kinds = dict(con.execute("SELECT source_line, repair FROM raw.repairs").fetchall())
    assert kinds == {3: "trailing_empty_trimmed", 4: "short_row_padded"}


def test_cp1252_text_and_header_drift(con, settings, tmp_path):
    hdr = header_of("A_TblCase")
    hdr[hdr.index("Sex")] = "GENDER"  # the 2025 spelling [MB]
    hdr.append("NEW_FIELD_2027")  # an unknown new column is kept and reported
    rows = [case_fields(1, city="SAN JOSÉ") + ["x"], case_fields(2, city="O\u2019HARE") + ["y"]]
    path = write_release(tmp_path, {"A_TblCase": tsv(hdr, rows)}, counts={"A_TblCase": 2})
    _, audit = _ingest(con, settings, path)
    assert audit.unknown_columns == ["NEW_FIELD_2027"]
    assert audit.renamed_columns == {"GENDER": "SEX"}
    got = con.execute(
        "SELECT ALIEN_CITY, SEX, NEW_FIELD_2027 FROM raw.A_TblCase ORDER BY 1"
    ).fetchall()
    assert got == [("O\u2019HARE", "F", "y"), ("SAN JOSÉ", "F", "x")]


def test_count_txt_mismatch_is_reported_not_hidden(con, settings, tmp_path):
    rows = [case_fields(1), case_fields(2)]
    path = write_release(
        tmp_path, {"A_TblCase": tsv(header_of("A_TblCase"), rows)}, counts={"A_TblCase": 3}
    )
    _, audit = _ingest(con, settings, path)
    assert audit.accounted is True
    assert audit.reconciled is False


def test_reingest_replaces_only_this_release(con, settings, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    p1 = write_release(
        tmp_path / "a",
        {"A_TblCase": tsv(header_of("A_TblCase"), [case_fields(1)])},
        counts={"A_TblCase": 1},
    )
    p2 = write_release(
        tmp_path / "b",
        {"A_TblCase": tsv(header_of("A_TblCase"), [case_fields(2), case_fields(3)])},
        counts={"A_TblCase": 2},
        dated="EOIR Case Data 2026-0501",
    )
    _ingest(con, settings, p1)
    _ingest(con, settings, p2)
    _ingest(con, settings, p1)
    got = con.execute(
        "SELECT release_id, count(*) FROM raw.A_TblCase GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert got == [("2026-04", 1), ("2026-05", 2)]


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty"),
        (b"IDNCASE,ALIEN_CITY\r\n1,X\r\n", "no TAB in the header"),
    ],
)
def test_bad_files_stop_with_a_clear_message(con, settings, tmp_path, content, message):
    path = write_release(tmp_path, {"A_TblCase": content}, counts={"A_TblCase": 1})
    with pytest.raises(ReleaseError, match=message) as exc:
        _ingest(con, settings, path)
    assert "A_TblCase.csv" in str(exc.value)


def test_truncated_zip_names_the_file(tmp_path):
    path = write_release(
        tmp_path,
        {"A_TblCase": tsv(header_of("A_TblCase"), [case_fields(1)] * 50)},
        counts={"A_TblCase": 50},
    )
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ReleaseError, match="not a readable zip") as exc:
        open_release(path)
    assert str(path) in str(exc.value)


def test_missing_table_names_the_release(tmp_path):
    path = write_release(tmp_path, {"A_TblCase": tsv(header_of("A_TblCase"), [case_fields(1)])})
    rel = open_release(path)
    with pytest.raises(ReleaseError, match="B_TblProceeding.csv is missing"):
        rel.member("B_TblProceeding")


def test_deflate64_zip_streams(con, settings):
    """EOIR zips use Deflate64 (compress_type 9), which CPython's zipfile alone cannot inflate."""
    import zipfile
    from pathlib import Path

    path = Path(__file__).parent.parent / "fixtures" / "deflate64_release.zip"
    with zipfile.ZipFile(path) as zf:
        assert {i.compress_type for i in zf.infolist() if i.filename.endswith(".csv")} == {9}
    rel, audit = _ingest(con, settings, path)
    assert (audit.lines_read, audit.loaded_as_is, audit.reconciled) == (2000, 2000, True)
    assert con.execute("SELECT DISTINCT ALIEN_CITY FROM raw.A_TblCase").fetchall() == [("MÉXICO",)]


def test_bytes_undefined_in_cp1252_fall_back_to_latin1(con, settings, tmp_path):
    hdr = tsv(header_of("A_TblCase"), [])
    row = "\t".join(case_fields(1, city="CITY")).encode("cp1252").replace(b"CITY", b"CIT\x81Y\x93")
    path = write_release(tmp_path, {"A_TblCase": hdr + row + b"\r\n"}, counts={"A_TblCase": 1})
    _, audit = _ingest(con, settings, path)
    assert audit.latin1_fallback_bytes == 1
    assert con.execute("SELECT ALIEN_CITY FROM raw.A_TblCase").fetchone()[0] == "CIT\x81Y\u201c"


def test_empty_field_inserted_mid_row_is_not_mistaken_for_a_trailing_one(con, settings, tmp_path):
    """B_TblProceeding 2026: extra tabs before COMP_DATE [DD]. With DATE_RELEASED empty the row
    ends in an empty field, like a harmless trailing tab; trimming it would shift COMP_DATE,
    ABSENTIA, ... one column left. The shape check sends it to the tab-shift repair instead."""
    base = dict(
        IDNPROCEEDING="10",
        IDNCASE="1",
        OSC_DATE="2011-01-05 00:00:00.000",
        INPUT_DATE="2011-01-06 00:00:00.000",
        BASE_CITY_CODE="NYC",
        CASE_TYPE="RMV",
        CUSTODY="N",
        OTHER_COMP="Y",
        COMP_DATE="2012-06-15 00:00:00.000",
        ABSENTIA="N",
        TRANSFER_STATUS="C",
        NAT="MX",
        CRIM_IND="N",
    )
    shifted = row_for("B_TblProceeding", **base)
    at = core_specs()["B_TblProceeding"].names.index("COMP_DATE")
    shifted.insert(at, "")  # an empty field before COMP_DATE: 39 fields, the last one empty
    assert len(shifted) == 39 and shifted[-1] == ""
    ok = row_for("B_TblProceeding", **{**base, "IDNPROCEEDING": "11"})
    path = write_release(
        tmp_path,
        {"B_TblProceeding": tsv(header_of("B_TblProceeding"), [ok, shifted])},
        counts={"B_TblProceeding": 2},
    )
    _, audit = _ingest(con, settings, path, "B_TblProceeding")
    assert (audit.loaded_as_is, audit.repaired, audit.rejected) == (1, 1, 0)
    got = con.execute(
        "SELECT COMP_DATE, ABSENTIA, TRANSFER_STATUS, CASE_TYPE FROM raw.B_TblProceeding "
        "WHERE IDNPROCEEDING = '10'"
    ).fetchall()
    assert got == [("2012-06-15 00:00:00.000", "N", "C", "RMV")]
    assert (
        con.execute("SELECT repair FROM raw.repairs")
        .fetchall()[0][0]
        .startswith("tab_shift_merged:")
    )


def _columns(con, table="A_TblCase"):
    return [r[0] for r in con.execute(f"DESCRIBE raw.{table}").fetchall()]


def _odd_release(tmp_path):
    # Two plainly right rows, one short row (repaired in SQL), one blank line (rejected): the two
    # odd ones pass through the quarantine.
    rows = [case_fields(1), case_fields(2)[:-2], [], case_fields(3)]
    return write_release(
        tmp_path, {"A_TblCase": tsv(header_of("A_TblCase"), rows)}, counts={"A_TblCase": 4}
    )


def test_a_kill_after_commit_leaves_only_quarantine_rows_the_next_load_removes(
    con, settings, tmp_path, monkeypatch
):
    import pipelines.eoir.ingest as ingest

    path = _odd_release(tmp_path)
    # The process dies between the load's COMMIT and its cleanup: the cleanup never runs.
    monkeypatch.setattr(ingest, "_finish_target", lambda *a, **k: None)
    _, first = _ingest(con, settings, path)
    left = con.sql(
        "SELECT release_id, count(*) FROM raw.A_TblCase GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert left == [("2026-04", 3), (ingest.QUARANTINE_PREFIX + "2026-04", 2)]
    columns = _columns(con)
    # What every query reads (the release's own id) is already complete and right.
    assert (first.loaded_as_is, first.repaired, first.rejected) == (2, 1, 1)

    monkeypatch.undo()
    _, again = _ingest(con, settings, path)
    assert con.sql("SELECT release_id, count(*) FROM raw.A_TblCase GROUP BY 1").fetchall() == [
        ("2026-04", 3)
    ]
    assert _columns(con) == columns
    # The spare columns stay, NULL in every loaded row.
    spares = [c for c in columns if c.startswith("__spare_")]
    assert len(spares) == ingest.SPARE_COLUMNS
    assert con.sql(
        "SELECT count(*) FROM raw.A_TblCase WHERE "
        + " OR ".join(f"{c} IS NOT NULL" for c in spares)
    ).fetchall() == [(0,)]
    assert (again.loaded_as_is, again.repaired, again.rejected) == (2, 1, 1)


def test_a_load_that_fails_keeps_the_release_rows_and_leaves_no_quarantine(
    con, settings, tmp_path, monkeypatch
):
    import pipelines.eoir.ingest as ingest

    path = _odd_release(tmp_path)
    _ingest(con, settings, path)
    loaded = con.sql("SELECT * FROM raw.A_TblCase ORDER BY source_line").fetchall()
    columns = _columns(con)

    def broken(*args, **kwargs):
        raise RuntimeError("disk gone mid-load")

    # The failure comes after the bulk insert, inside the load's transaction, and the process dies
    # with it: no cleanup runs (as under kill -9, the transaction never commits).
    monkeypatch.setattr(ingest, "repair_row", broken)
    monkeypatch.setattr(ingest, "_finish_target", lambda *a, **k: None)
    rows = [case_fields(1), case_fields(4, city="A\tB"), case_fields(5)]
    (tmp_path / "b").mkdir()
    bad = write_release(
        tmp_path / "b", {"A_TblCase": tsv(header_of("A_TblCase"), rows)}, counts={"A_TblCase": 3}
    )
    with pytest.raises(RuntimeError, match="disk gone"):
        _ingest(con, settings, bad)
    assert con.sql("SELECT * FROM raw.A_TblCase ORDER BY source_line").fetchall() == loaded
    # The table's columns are those the release's rows were read with (the fault campaign's
    # fingerprint hashes whole rows).
    assert _columns(con) == columns


def test_a_refused_line_longer_than_duckdb_keeps_is_judged_whole(con, settings, tmp_path):
    from pipelines.eoir.ingest import READER_TEXT_CHARS, SPARE_COLUMNS

    # Too many (empty) trailing fields for the spare columns, so the reader refuses the line, and
    # a city longer than the part of a refused line DuckDB keeps.
    city = "L" * (READER_TEXT_CHARS + 2000)
    long_row = case_fields(2, city=city) + [""] * (SPARE_COLUMNS + 2)
    rows = [case_fields(1), long_row, case_fields(3)]
    path = write_release(
        tmp_path, {"A_TblCase": tsv(header_of("A_TblCase"), rows)}, counts={"A_TblCase": 3}
    )
    _, audit = _ingest(con, settings, path)
    assert (audit.loaded_as_is, audit.repaired, audit.rejected) == (2, 1, 0)
    got = con.sql(
        "SELECT source_line, length(ALIEN_CITY), ALIEN_STATE, SEX FROM raw.A_TblCase "
        "WHERE IDNCASE = '2'"
    ).fetchall()
    assert got == [(3, len(city), "NY", "F")]
    assert con.sql("SELECT source_line, repair FROM raw.repairs").fetchall() == [
        (3, "trailing_empty_trimmed")
    ]


def test_quarantine_rows_of_any_release_go_with_the_next_load(con, settings, tmp_path, monkeypatch):
    import pipelines.eoir.ingest as ingest

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    april = _odd_release(tmp_path / "a")
    may = write_release(
        tmp_path / "b",
        {"A_TblCase": tsv(header_of("A_TblCase"), [case_fields(5)])},
        counts={"A_TblCase": 1},
        dated="EOIR Case Data 2026-0501",
    )
    monkeypatch.setattr(ingest, "_finish_target", lambda *a, **k: None)
    _ingest(con, settings, april)  # killed after COMMIT
    monkeypatch.undo()
    _ingest(con, settings, may)
    assert con.sql(
        "SELECT release_id, count(*) FROM raw.A_TblCase GROUP BY 1 ORDER BY 1"
    ).fetchall() == [("2026-04", 3), ("2026-05", 1)]


def test_a_line_holding_only_a_lone_cr_is_a_blank_line(con, settings, tmp_path):
    body = (
        tsv(header_of("A_TblCase"), [case_fields(1)])
        + b"\r\r\n"
        + tsv(header_of("A_TblCase"), [case_fields(2)]).split(b"\n", 1)[1]
    )
    path = write_release(tmp_path, {"A_TblCase": body}, counts={"A_TblCase": 3})
    _, audit = _ingest(con, settings, path)
    assert (audit.loaded_as_is, audit.repaired, audit.rejected) == (2, 0, 1)
    assert con.sql("SELECT source_line, reason FROM raw.rejects").fetchall() == [(3, "blank line")]


def test_a_long_refused_line_not_found_again_is_quarantined_with_its_start(
    con, settings, tmp_path, monkeypatch
):
    import pipelines.eoir.ingest as ingest

    city = "L" * (ingest.READER_TEXT_CHARS + 2000)
    rows = [case_fields(1), case_fields(2, city=city) + [""] * (ingest.SPARE_COLUMNS + 2)]
    path = write_release(
        tmp_path, {"A_TblCase": tsv(header_of("A_TblCase"), rows)}, counts={"A_TblCase": 2}
    )
    monkeypatch.setattr(ingest, "_whole_line", lambda *a: None)
    _, audit = _ingest(con, settings, path)
    assert (audit.loaded_as_is, audit.repaired, audit.rejected) == (1, 0, 1)
    ((line, reason, text),) = con.sql(
        "SELECT source_line, reason, raw_text FROM raw.rejects"
    ).fetchall()
    assert line == 3 and "cut short" in reason
    assert text.startswith("2\t") and len(text) == ingest.REJECT_TEXT_CHARS
