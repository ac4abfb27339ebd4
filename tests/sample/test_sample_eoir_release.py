"""The synthetic EOIR release: layout, format, quirks, determinism and the truth it records.

Expected headers are copied from docs/EOIR_FORMAT.md#core-table-columns,
docs/EOIR_FORMAT.md#lookup-tables (not imported from the generator), and every count is recomputed
from the written files with an independent reader.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections import Counter
from datetime import date

import numpy as np
import pytest
import statsmodels.api as sm
from simple_eoir_reader import (
    CATEGORY_ORDER,
    member_bytes,
    proceedings,
    read_rows,
    split_lines,
)

from pipelines.sample.eoir import main, write_sample_release

# docs/EOIR_FORMAT.md#core-table-columns (2026-04 headers).
HEADERS_2026_04 = {
    "A_TblCase": "IDNCASE, ALIEN_CITY, ALIEN_STATE, ALIEN_ZIPCODE, UPDATED_ZIPCODE, UPDATED_CITY, NAT, LANG, CUSTODY, SITE_TYPE, E_28_DATE, ATTY_NBR, CASE_TYPE, UPDATE_SITE, LATEST_HEARING, LATEST_TIME, LATEST_CAL_TYPE, UP_BOND_DATE, UP_BOND_RSN, CORRECTIONAL_FAC, RELEASE_MONTH, RELEASE_YEAR, INMATE_HOUSING, DATE_OF_ENTRY, C_ASY_TYPE, C_BIRTHDATE, C_RELEASE_DATE, UPDATED_STATE, ADDRESS_CHANGEDON, ZBOND_MRG_FLAG, Sex, DATE_DETAINED, DATE_RELEASED, LPR, DETENTION_DATE, DETENTION_LOCATION, DCO_LOCATION, DETENTION_FACILITY_TYPE, CASEPRIORITY_CODE",
    "B_TblProceeding": "IDNPROCEEDING, IDNCASE, OSC_DATE, INPUT_DATE, BASE_CITY_CODE, HEARING_LOC_CODE, IJ_CODE, TRANS_IN_DATE, PREV_HEARING_LOC, PREV_HEARING_BASE, PREV_IJ_CODE, TRANS_NBR, HEARING_DATE, HEARING_TIME, DEC_TYPE, DEC_CODE, DEPORTED_1, DEPORTED_2, OTHER_COMP, APPEAL_RSVD, APPEAL_NOT_FILED, COMP_DATE, ABSENTIA, VENUE_CHG_GRANTED, TRANSFER_TO, DATE_APPEAL_DUE_STATUS, TRANSFER_STATUS, CUSTODY, CASE_TYPE, NAT, LANG, SCHEDULED_HEAR_LOC, CORRECTIONAL_FAC, CRIM_IND, IHP, AGGRAVATE_FELON, DATE_DETAINED, DATE_RELEASED",
    "B_TblProceedCharges": "IDNPRCDCHG, IDNCASE, IDNPROCEEDING, CHARGE, CHG_STATUS",
    "tbl_CasePriorityHistory": "idnCasePriHistory, casePriority_code, idnCase, DATCREATEDON, DATMODIFIEDON",
    "tbl_RepsAssigned": "IDNREPSASSIGNED, IDNCASE, STRATTYLEVEL, STRATTYTYPE, PARENT_TABLE, PARENT_IDN, BASE_CITY_CODE, INS_TA_DATE_ASSIGNED, E_27_DATE, E_28_DATE, BLNPRIMEATTY",
    # docs/EOIR_FORMAT.md#lookup-tables lookups
    "tbllookupCharges": "idnCharges, strCode, strCodeString, strCodeDescription, applicable_case_type1, applicable_case_type2, applicable_case_type3, criminal_flag, aggravate_felon, DatCreatedOn, DatModifiedOn, blnActive",
    "tblLookupCourtDecision": "idnCourtDecision, strCaseType, strDecCode, strDecDescription, strDecType, strFinalDisposition, blnActive, datCreatedOn, datModifiedOn",
    "tblLookup_CasePriority": "idnCasePriority, strCode, strDescription, strDays, DATCREATEDON, DATMODIFIEDON, blnActive, blnBypasscal",
    "tblLookupCaseType": "idnCaseType, strCode, strDescription, blnActive, datCreatedOn, datModifiedOn, strAnsirCode",
    "tblLookupCustodyStatus": "idnCustodyStatus, strCode, strSelecBoxVal, strDescription, blnActive, datCreatedOn, datModifiedOn",
    "tblLookupNationality": "ID, NAT_CODE, NAT_NAME, NAT_COUNTRY_NAME, NAT_NACARA_COUNTRY, datCreatedOn, datModifiedOn, blnActive",
    "tblLookupAlienNat": "idnNat, strCode, strDescription, Nacara, blnActive, datCreatedOn, datModifiedOn",
}
HEADERS_2026_04 = {k: v.split(", ") for k, v in HEADERS_2026_04.items()}
CORE = [
    "A_TblCase",
    "B_TblProceeding",
    "B_TblProceedCharges",
    "tbl_RepsAssigned",
    "tbl_CasePriorityHistory",
]
LOOKUPS = [
    "tbllookupCharges", "tblLookupCourtDecision", "tblLookupBaseCity", "tblLookupNationality",
    "tblLookupAlienNat", "tblLookupCaseType", "tblLookupCustodyStatus", "tblLookup_CasePriority",
]  # fmt: skip
ROOT = "EOIR Case Data 2026-0401"
PENDING_ON, WINDOW = date(2011, 11, 17), (date(2011, 12, 1), date(2013, 6, 30))
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2} 00:00:00\.000$")


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    return write_sample_release(tmp_path_factory.mktemp("sample"), cases=6000)


@pytest.fixture(scope="module")
def clean_release(tmp_path_factory):
    return write_sample_release(tmp_path_factory.mktemp("clean"), cases=6000, quirks=False)


def _truth_file(rel) -> dict:
    return json.loads(rel.truth_path.read_text(encoding="utf-8"))


def test_zip_layout(release):
    assert release.path.name == "EOIR Case Data.zip"
    assert release.truth_path == release.path.parent / "truth.json"
    with zipfile.ZipFile(release.path) as zf:
        names = set(zf.namelist())
        assert {i.compress_type for i in zf.infolist()} == {zipfile.ZIP_DEFLATED}
        readme = zf.read(f"{ROOT}/SYNTHETIC-README.txt").decode("ascii")
    expected = {f"{ROOT}/EOIR Case Data/{t}.csv" for t in CORE}
    expected |= {f"{ROOT}/Lookup/{t}.csv" for t in LOOKUPS}
    expected |= {f"{ROOT}/Count.txt", f"{ROOT}/SYNTHETIC-README.txt"}
    assert names == expected
    assert "SYNTHETIC" in readme and "NOT A REAL EOIR RELEASE" in readme
    assert "truth.json" not in {n.rsplit("/", 1)[-1] for n in names}


def test_headers_are_the_2026_04_lists(release):
    for table, header in HEADERS_2026_04.items():
        _, data = member_bytes(release.path, table)
        assert data.split(b"\r\n", 1)[0].decode("ascii").split("\t") == header, table
    assert len(HEADERS_2026_04["A_TblCase"]) == 39 and "Sex" in HEADERS_2026_04["A_TblCase"]
    assert len(HEADERS_2026_04["B_TblProceeding"]) == 38
    _, data = member_bytes(release.path, "tblLookupBaseCity")
    base_city = data.split(b"\r\n", 1)[0].decode("ascii").split("\t")
    assert len(base_city) == 98
    assert base_city[:3] == ["idnBaseCity", "BASE_CITY_CODE", "BASE_CITY_NAME"]
    assert base_city[-4:] == ["datCreatedOn", "datModifiedOn", "blnActive", "blnBCIS"]


def test_count_txt_equals_data_lines(release):
    with zipfile.ZipFile(release.path) as zf:
        count_lines = split_lines(zf.read(f"{ROOT}/Count.txt"))
        counts = dict(line.decode("ascii").split("\t") for line in count_lines)
        assert set(counts) == set(CORE + LOOKUPS)
        for table, n in counts.items():
            _, data = member_bytes(release.path, table)
            assert len(split_lines(data)) - 1 == int(n), table
    assert {t: int(n) for t, n in counts.items()} == release.truth["row_counts"]


def test_text_is_cp1252_with_crlf_nul_and_real_formats(release):
    _, cases = member_bytes(release.path, "A_TblCase")
    assert cases.count(b"\n") == cases.count(b"\r\n")
    for byte in (b"\xd1", b"\xc9", b"\x92", b"\x93"):  # Ñ É ’ “
        assert byte in cases
    with pytest.raises(UnicodeDecodeError):
        cases.decode("utf-8")
    assert "CAÑON CITY" in cases.decode("cp1252")
    for table in (
        "A_TblCase",
        "B_TblProceeding",
        "B_TblProceedCharges",
        "tbllookupCharges",
        "tblLookupNationality",
    ):
        assert b"\x00" in member_bytes(release.path, table)[1], table
    header, rows = read_rows(release.path, "A_TblCase")
    birth = header.index("C_BIRTHDATE")
    assert all(re.fullmatch(r"(1[0-2]|[1-9])/(19|20)\d\d", r[birth]) for r in rows)
    assert {r[header.index("LPR")] for r in rows} == {"0", "1"}
    assert "N/A" in {r[header.index("CASEPRIORITY_CODE")] for r in rows}
    header, rows = read_rows(release.path, "B_TblProceeding")
    date_cols = [
        i
        for i, h in enumerate(header)
        if h.endswith("_DATE") or h in ("VENUE_CHG_GRANTED", "DATE_APPEAL_DUE_STATUS")
    ]
    values = [r[i] for r in rows for i in date_cols if r[i]]
    assert values and all(DATE_RE.match(v) for v in values if not v.startswith("1900"))
    assert all(re.fullmatch(r"\d{4}", r[header.index("HEARING_TIME")]) for r in rows)


def test_tab_shift_rows_have_the_real_2026_shape(release):
    _, data = member_bytes(release.path, "A_TblCase")
    rows = [ln.decode("cp1252").split("\t") for ln in split_lines(data)[1:]]
    by_len = Counter(len(r) for r in rows)
    assert by_len[41] == 1  # the ambiguous one
    forty = [r for r in rows if len(r) == 40]
    empty_after_city = [r for r in forty if r[1] and r[2] == "" and re.fullmatch("[A-Z]{2}", r[3])]
    assert len(empty_after_city) == 3
    # one exactly like 2026-04 line 111549: ... `F|||0||||N/A` after the shift
    assert [r[-1] for r in empty_after_city].count("N/A") == 1
    assert [r[1:4] for r in forty if r[1] == "SAN"] == [["SAN", "JUAN", "PR"]]
    assert by_len[35] == 1  # short row


def test_quirk_records_point_at_their_lines(release):
    truth = release.truth
    kinds = Counter(q["kind"] for q in truth["quirks"])
    for kind in ("tab_shift_empty_after_city", "city_with_tab", "ambiguous_extra_fields", "short_row",
                 "nul_byte", "cp1252_text", "null_spelling", "bogus_date", "stray_quote",
                 "tab_shift_extra_before_comp_date", "junk_primary_key", "extra_trailing_field",
                 "junk_charge_code"):  # fmt: skip
        assert kinds[kind] >= 1, kind
    with zipfile.ZipFile(release.path) as zf:
        for q in truth["quirks"]:
            line = split_lines(zf.read(q["file"]))[q["source_line"] - 1]
            fields = line.decode("cp1252").split("\t")
            assert len(fields) == q["fields"], q
            assert q["key"] in fields[:2], q
    junk = [q for q in truth["quirks"] if q["kind"] == "junk_primary_key"]
    assert [q["key"] for q in junk] == ["FC"]


def test_expected_load_reconciles_with_count_txt(release):
    load = release.truth["expected_load"]
    for table, n in release.truth["row_counts"].items():
        e = load[table]
        assert e["loaded_as_is"] + e["repaired"] + e["rejected"] == e["count_txt_rows"] == n
        assert e["nul_bytes"] == member_bytes(release.path, table)[1].count(b"\x00")
    assert load["A_TblCase"]["rejected"] == 1 and load["B_TblProceeding"]["rejected"] == 1


def test_quirks_sit_only_on_cases_completed_before_the_pending_date(release, clean_release):
    # The same seed without quirks gives the same cases: read their true dates there.
    procs = proceedings(clean_release.path)
    by_case: dict[str, list[dict]] = {}
    for p in procs:
        by_case.setdefault(p["IDNCASE"], []).append(p)
    case_of_proc = {p["IDNPROCEEDING"]: p["IDNCASE"] for p in procs}
    core = [q for q in release.truth["quirks"] if q["table"] in CORE]
    assert len(core) > 30
    with zipfile.ZipFile(release.path) as zf:
        for q in core:
            line = split_lines(zf.read(q["file"]))[q["source_line"] - 1]
            fields = line.replace(b"\x00", b"").decode("cp1252").split("\t")
            idncase = fields[0] if q["table"] == "A_TblCase" else fields[1]
            if q["table"] == "B_TblProceedCharges":
                assert case_of_proc[fields[2]] == idncase
            comps = [p["comp"] for p in by_case[idncase]]
            assert comps and all(c is not None and c < PENDING_ON for c in comps), q


def _recount(procs: list[dict]) -> dict:
    ws, we = WINDOW
    in_window = [p for p in procs if p["comp"] and ws <= p["comp"] <= we]
    pending = [
        p
        for p in procs
        if p["input"] <= PENDING_ON and (p["comp"] is None or p["comp"] > PENDING_ON)
    ]

    def by(rows):
        c = Counter(p["lead"] for p in rows)
        return {
            "total": len(rows),
            "by_category": {k: c.get(k, 0) for k in CATEGORY_ORDER + ["no_charge"]},
        }

    pd_window = [p for p in in_window if p["pd_kind"]]
    return {
        "pd_closures_in_window": by(pd_window),
        "pd_kind": Counter(p["pd_kind"] for p in pd_window),
        "completions_in_window": by(in_window),
        "completions_in_window_excluding_transfers": by(
            [p for p in in_window if p["OTHER_COMP"] not in ("C", "T")]
        ),
        "pending_on": by(pending),
        "pending_on_pd_closed_by_window_end": by(
            [p for p in pending if p["pd_kind"] and p["comp"] <= we]
        ),
    }


def test_truth_counts_match_an_independent_recount(release):
    got = _recount(proceedings(release.path))
    truth = _truth_file(release)["counts"]
    for key in ("pd_closures_in_window", "completions_in_window", "completions_in_window_excluding_transfers",
                "pending_on", "pending_on_pd_closed_by_window_end"):  # fmt: skip
        assert {k: truth[key][k] for k in ("total", "by_category")} == got[key], key
    assert truth["pd_closures_in_window"]["by_kind"] == dict(got["pd_kind"])
    assert got["pd_closures_in_window"]["total"] > 50
    # the rule's edge: DEC_CODE I in AOC/WHO is present and is not a PD closure
    procs = proceedings(release.path)
    assert any(
        p["DEC_CODE"] == "I" and p["CASE_TYPE"] in ("AOC", "WHO") and not p["pd_kind"]
        for p in procs
    )
    assert {"Y", "M"} <= {p["OTHER_COMP"] for p in procs if p["pd_kind"]}


def test_codes_are_real_lookup_values(release):
    h, charges = read_rows(release.path, "tbllookupCharges")
    lookup = {r[1]: r for r in charges}
    assert len(lookup) == 252 and "212a02Ai  I" in lookup and "(212)(a)(06)(i)(   )(   )" in lookup

    def flags(code):
        return lookup[code][h.index("criminal_flag")], lookup[code][h.index("aggravate_felon")]

    assert (
        flags("237a02Aiii") == ("1", "1")
        and flags("212a02Ai  I") == ("1", "0")
        and flags("212a06Ai") == ("0", "0")
    )
    ch_h, ch_rows = read_rows(release.path, "B_TblProceedCharges")
    used = {r[ch_h.index("CHARGE")] for r in ch_rows}
    assert used - set(lookup) == {"237a02Axx"}  # the one junk code not in the lookup
    dh, dec = read_rows(release.path, "tblLookupCourtDecision")
    decisions = {(r[1], r[2], r[4]) for r in dec}
    assert {("RMV", "I", "C"), ("RMV", "Y", "O"), ("RMV", "M", "O"), ("WHO", "Y", "O")} <= decisions
    _, courts = read_rows(release.path, "tblLookupBaseCity")
    court_codes = {r[1] for r in courts}
    for p in proceedings(release.path):
        assert p["BASE_CITY_CODE"] in court_codes
        if p["DEC_CODE"] and (p["CASE_TYPE"], p["DEC_CODE"]) not in {("AOC", "I"), ("WHO", "I")}:
            assert (p["CASE_TYPE"], p["DEC_CODE"], "C") in decisions, p
        if p["OTHER_COMP"]:
            assert (p["CASE_TYPE"], p["OTHER_COMP"], "O") in decisions, p


def test_same_seed_same_bytes(tmp_path):
    a = write_sample_release(tmp_path / "a", cases=3000, seed=7)
    b = write_sample_release(tmp_path / "b", cases=3000, seed=7)
    c = write_sample_release(tmp_path / "c", cases=3000, seed=8)
    assert a.path.read_bytes() == b.path.read_bytes()
    assert a.truth_path.read_bytes() == b.truth_path.read_bytes()
    assert a.path.read_bytes() != c.path.read_bytes()


def test_folder_with_lf_holds_the_same_tables(tmp_path):
    zipped = write_sample_release(tmp_path / "zip", cases=3000, seed=11)
    folder = write_sample_release(tmp_path / "dir", cases=3000, seed=11, zip=False, crlf=False)
    assert folder.path == tmp_path / "dir" / ROOT and folder.path.is_dir()
    assert folder.truth["counts"] == zipped.truth["counts"]
    with zipfile.ZipFile(zipped.path) as zf:
        for name in zf.namelist():
            on_disk = (tmp_path / "dir" / name).read_bytes()
            assert b"\r" not in on_disk, name
            assert on_disk == zf.read(name).replace(b"\r\n", b"\n"), name


def test_without_quirks_every_row_is_clean_and_the_truth_unchanged(release, clean_release):
    # Quirks sit on inert cases only: leaving them out changes no truth count.
    assert clean_release.truth["counts"] == release.truth["counts"]
    assert clean_release.truth["quirks"] == []
    for table in CORE + LOOKUPS:
        data = member_bytes(clean_release.path, table)[1]
        assert b"\x00" not in data
        lines = split_lines(data)
        assert {len(ln.split(b"\t")) for ln in lines} == {len(lines[0].split(b"\t"))}, table


def test_pd_logit_effects_are_recovered(tmp_path):
    """A logit on completions in the PD eras recovers the coefficients recorded in truth."""
    rel = write_sample_release(tmp_path / "model", cases=30000, seed=3, quirks=False)
    model = rel.truth["model"]
    rh, reps = read_rows(rel.path, "tbl_RepsAssigned")
    represented = {
        r[rh.index("PARENT_IDN")]
        for r in reps
        if r[rh.index("STRATTYTYPE")] == "ALIEN" and r[rh.index("E_28_DATE")]
    }
    start = date.fromisoformat(model["eras"]["Morton"]["start"])
    end = date.fromisoformat(model["eras"]["Johnson"]["end"])
    johnson = date.fromisoformat(model["eras"]["Johnson"]["start"])
    rows = [
        p
        for p in proceedings(rel.path)
        if p["comp"] and start <= p["comp"] <= end and p["lead"] != "no_charge"
    ]
    cats = ["other_criminal", "other_immigration"]  # with enough PD closures at this size
    rows = [p for p in rows if p["lead"] in cats + ["entry_without_inspection"]]
    courts = sorted({p["BASE_CITY_CODE"] for p in rows})
    X = np.array(
        [
            [1.0, p["comp"] >= johnson, p["CUSTODY"] == "D", p["IDNPROCEEDING"] in represented]
            + [p["lead"] == c for c in cats]
            + [p["BASE_CITY_CODE"] == c for c in courts[1:]]
            for p in rows
        ],
        dtype=float,
    )
    y = np.array([p["pd_kind"] is not None for p in rows], dtype=float)
    fit = sm.GLM(y, X, family=sm.families.Binomial()).fit()
    truth = {
        1: model["intercept_by_era"]["Johnson"] - model["intercept_by_era"]["Morton"],
        2: model["detained"],
        3: model["represented"],
        4: model["lead_category"]["other_criminal"],
        5: model["lead_category"]["other_immigration"],
    }
    for j, value in truth.items():
        assert abs(fit.params[j] - value) < 3 * fit.bse[j], (j, fit.params[j], value, fit.bse[j])


def test_tiny_release_and_command_line(tmp_path, capsys):
    assert main(["--cases", "40", "--seed", "5", "--out", str(tmp_path), "--quiet"]) == 0
    assert "SYNTHETIC" in capsys.readouterr().out
    truth = json.loads((tmp_path / "truth.json").read_text(encoding="utf-8"))
    zip_path = tmp_path / "EOIR Case Data.zip"
    for table, n in truth["row_counts"].items():
        assert len(split_lines(member_bytes(zip_path, table)[1])) - 1 == n, table
        e = truth["expected_load"][table]
        assert e["loaded_as_is"] + e["repaired"] + e["rejected"] == n
    assert truth["cases"] == 40 and truth["row_counts"]["A_TblCase"] == 40
