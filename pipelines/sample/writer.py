"""The layout: generated arrays to polars frames to TAB-separated bytes, and the archive they go
in (a zip member by member, or a folder)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from pipelines.sample import eoir_format as fmt
from pipelines.sample.charges import AF, NST, OC
from pipelines.sample.draws import NEVER, NULL_DAY, letters
from pipelines.sample.population import (
    CASE_TYPE_CODES,
    HEARING_TIMES,
    ID_BASES,
    PRIORITY_CODES,
    REMOVAL_ORDER_CODES,
    Chunk,
    World,
)

DATE_FORMAT = "%Y-%m-%d 00:00:00.000"
_LETTERS = ["" if i == 0 else chr(i) for i in range(128)]


def _vocab(values, idx, name: str) -> pl.Series:
    return pl.Series(name, list(values), dtype=pl.String).gather(np.asarray(idx, dtype=np.int64))


def _letter_col(codes: np.ndarray, name: str) -> pl.Series:
    return _vocab(_LETTERS, codes, name)


def _date_col(days: np.ndarray, name: str) -> pl.Series:
    days = np.asarray(days, dtype=np.int64)
    valid = (days > NULL_DAY) & (days < NEVER)
    return (
        pl.Series(name, np.where(valid, days, 0).astype(np.int32))
        .cast(pl.Date)
        .scatter(np.flatnonzero(~valid), None)
    )


def _const(n: int, value: str, name: str = "x") -> pl.Series:
    return pl.Series(name, [value], dtype=pl.String).gather(np.zeros(n, dtype=np.int64))


def _empty(n: int, name: str) -> pl.Series:
    return _const(n, "", name)


def _frame(header: list[str], cols: dict[str, pl.Series]) -> pl.DataFrame:
    n = len(next(iter(cols.values())))
    return pl.DataFrame([cols[h].alias(h) if h in cols else _empty(n, h) for h in header])


@dataclass
class Offsets:
    proc: int = 0
    chg: int = 0
    rep: int = 0
    pri: int = 0

    def advance(self, chunk: Chunk) -> None:
        cnt = chunk.counts
        self.proc += cnt["proc"]
        self.chg += cnt["chg"]
        self.rep += cnt["rep"]
        self.pri += cnt["pri"]


def _proc_ids(chunk: Chunk, off: Offsets) -> np.ndarray:
    return ID_BASES["proc"] + off.proc + np.arange(len(chunk.proc["case"]), dtype=np.int64)


def _frame_cases(world: World, chunk: Chunk, off: Offsets) -> pl.DataFrame:
    c, p = chunk.case, chunk.proc
    n = len(c["g"])
    courts = world.courts
    last = c["last_proc"]
    city = [ct.city for ct in courts]
    state = [ct.state for ct in courts]
    zip3 = [ct.zip5[:3] for ct in courts]
    zip_tail = pl.Series(c["zip_tail"]).cast(pl.String).str.zfill(2)
    moved = c["moved"]
    new_court = p["court"][last]
    upd_zip = (
        _vocab(zip3, new_court, "z") + pl.Series(c["zip_tail2"]).cast(pl.String).str.zfill(2)
    ).scatter(np.flatnonzero(~moved), "")
    priority = list(PRIORITY_CODES) + ["N/A", ""]
    cols = {
        "IDNCASE": pl.Series(c["idn"]),
        "ALIEN_CITY": _vocab(city, c["court0"], "x"),
        "ALIEN_STATE": _vocab(state, c["court0"], "x"),
        "ALIEN_ZIPCODE": _vocab(zip3, c["court0"], "x") + zip_tail,
        "UPDATED_ZIPCODE": upd_zip,
        "UPDATED_CITY": _vocab(city, new_court, "x").scatter(np.flatnonzero(~moved), ""),
        "NAT": _vocab(world.nat_codes, c["nat"], "x"),
        "LANG": _vocab(world.lang_codes, c["lang"], "x"),
        "CUSTODY": _letter_col(p["cust"][last], "x"),
        "SITE_TYPE": _letter_col(c["site_type"], "x"),
        "E_28_DATE": _date_col(c["e28"], "x"),
        # Legacy field (docs/EOIR_FORMAT.md#cases-and-proceedings: refer to tbl_RepsAssigned); the
        # real row has 0.
        "ATTY_NBR": _vocab(["", "0"], c["represented"].astype(np.int64), "x"),
        "CASE_TYPE": _vocab(CASE_TYPE_CODES, c["ctype"], "x"),
        "UPDATE_SITE": _vocab([ct.code for ct in courts], new_court, "x"),
        "LATEST_HEARING": _date_col(c["latest_hearing"], "x"),
        "LATEST_TIME": _vocab(HEARING_TIMES, c["latest_time"], "x"),
        "LATEST_CAL_TYPE": _letter_col(c["latest_cal"], "x"),
        "DATE_OF_ENTRY": _date_col(c["entry"], "x"),
        "C_ASY_TYPE": _letter_col(c["asy_type"], "x"),
        "C_BIRTHDATE": pl.Series(c["birth_month"]).cast(pl.String)
        + "/"
        + pl.Series(c["birth_year"]).cast(pl.String),
        "UPDATED_STATE": _vocab(state, new_court, "x").scatter(np.flatnonzero(~moved), ""),
        "ADDRESS_CHANGEDON": _date_col(c["address_changed"], "x"),
        "Sex": _vocab(["M", "F"], c["female"].astype(np.int64), "x"),
        "DATE_DETAINED": _date_col(p["detained_on"][last], "x"),
        "DATE_RELEASED": _date_col(p["released_on"][last], "x"),
        "LPR": _vocab(["0", "1"], c["lpr"].astype(np.int64), "x"),
        "CASEPRIORITY_CODE": _vocab(priority, c["priority"], "x"),
    }
    assert n == len(cols["IDNCASE"])
    return _frame(fmt.CORE_HEADERS["A_TblCase"], cols)


def _frame_proceedings(world: World, chunk: Chunk, off: Offsets) -> pl.DataFrame:
    c, p = chunk.case, chunk.proc
    m = len(p["case"])
    ids = _proc_ids(chunk, off)
    court_codes = [ct.code for ct in world.courts]
    lead = c["lead"][p["case"]]
    done = p["comp"] < NEVER
    merits = p["dec"] > 0
    removal = np.isin(p["dec"], letters(REMOVAL_ORDER_CODES))
    absentia = np.where(
        merits,
        np.where(
            removal & (p["cust"] != ord("D")) & (p["absentia_draw"] < 0.25), ord("Y"), ord("N")
        ),
        0,
    )
    appeal = np.where(
        merits & (p["appeal_draw"] < 0.15),
        letters("AAAIB")[(p["appeal_draw"] * 33).astype(np.int64) % 5],
        0,
    )
    criminal = (lead == AF) | (lead == OC) | (lead == NST)
    # CRIM_IND / AGGRAVATE_FELON are "rarely filled in" (docs/EOIR_FORMAT.md#cases-and-proceedings).
    crim_ind = np.where(
        criminal & (p["flag_draw"] < 0.3),
        ord("Y"),
        np.where(~criminal & (p["flag_draw"] < 0.1), ord("N"), 0),
    )
    agg = np.where(
        (lead == AF) & (p["flag_draw"] < 0.3),
        2,
        np.where((lead != AF) & (p["flag_draw"] < 0.05), 1, 0),
    )
    prev = p["prev"]
    has_prev = p["trans_in"]
    prev_court = np.where(has_prev, p["court"][np.maximum(prev, 0)], -1)
    prev_judge = np.where(has_prev, p["judge"][np.maximum(prev, 0)], -1)
    courts_e = court_codes + [""]
    judges_e = list(world.judges) + [""]
    venue = p["oth"] == ord("C")
    cols = {
        "IDNPROCEEDING": pl.Series(ids),
        "IDNCASE": pl.Series(c["idn"][p["case"]]),
        "OSC_DATE": _date_col(c["osc"][p["case"]], "x"),
        "INPUT_DATE": _date_col(p["start"], "x"),
        "BASE_CITY_CODE": _vocab(court_codes, p["court"], "x"),
        "HEARING_LOC_CODE": _vocab(court_codes, p["court"], "x"),
        "IJ_CODE": _vocab(world.judges, p["judge"], "x"),
        "TRANS_IN_DATE": _date_col(np.where(has_prev, p["start"], NULL_DAY), "x"),
        "PREV_HEARING_LOC": _vocab(courts_e, prev_court, "x"),
        "PREV_HEARING_BASE": _vocab(courts_e, prev_court, "x"),
        "PREV_IJ_CODE": _vocab(judges_e, prev_judge, "x"),
        "TRANS_NBR": _vocab(["", "1", "2", "3"], p["trans_nbr"], "x"),
        "HEARING_DATE": _date_col(p["hearing"], "x"),
        "HEARING_TIME": _vocab(HEARING_TIMES, p["hearing_time"], "x"),
        "DEC_TYPE": _letter_col(p["dec_type"], "x"),
        "DEC_CODE": _letter_col(p["dec"], "x"),
        "DEPORTED_1": _vocab(
            list(world.nat_codes) + [""],
            np.where(removal, c["nat"][p["case"]], len(world.nat_codes)),
            "x",
        ),
        "OTHER_COMP": _letter_col(p["oth"], "x"),
        "APPEAL_RSVD": _letter_col(appeal, "x"),
        "COMP_DATE": _date_col(p["comp"], "x"),
        "ABSENTIA": _letter_col(absentia, "x"),
        "VENUE_CHG_GRANTED": _date_col(np.where(venue, p["comp"], NULL_DAY), "x"),
        "TRANSFER_TO": _vocab(courts_e, p["transfer_to"], "x"),
        "DATE_APPEAL_DUE_STATUS": _date_col(np.where(merits & done, p["comp"] + 30, NULL_DAY), "x"),
        "TRANSFER_STATUS": _letter_col(
            np.where(venue, ord("V"), np.where(p["oth"] == ord("T"), ord("T"), 0)), "x"
        ),
        "CUSTODY": _letter_col(p["cust"], "x"),
        "CASE_TYPE": _vocab(CASE_TYPE_CODES, c["ctype"][p["case"]], "x"),
        "NAT": _vocab(world.nat_codes, c["nat"][p["case"]], "x"),
        "LANG": _vocab(world.lang_codes, c["lang"][p["case"]], "x"),
        "SCHEDULED_HEAR_LOC": _vocab(court_codes, p["court"], "x"),
        "CRIM_IND": _letter_col(crim_ind, "x"),
        "AGGRAVATE_FELON": _vocab(["", "0", "1"], agg, "x"),
        "DATE_DETAINED": _date_col(p["detained_on"], "x"),
        "DATE_RELEASED": _date_col(p["released_on"], "x"),
    }
    assert m == len(ids)
    return _frame(fmt.CORE_HEADERS["B_TblProceeding"], cols)


def _frame_charges(world: World, chunk: Chunk, off: Offsets) -> pl.DataFrame:
    c, p, q = chunk.case, chunk.proc, chunk.chg
    pids = _proc_ids(chunk, off)
    cols = {
        "IDNPRCDCHG": pl.Series(
            ID_BASES["chg"] + off.chg + np.arange(len(q["proc"]), dtype=np.int64)
        ),
        "IDNCASE": pl.Series(c["idn"][p["case"][q["proc"]]]),
        "IDNPROCEEDING": pl.Series(pids[q["proc"]]),
        "CHARGE": _vocab(world.charge_vocab, q["code"], "x"),
        "CHG_STATUS": _letter_col(q["status"], "x"),
    }
    return _frame(fmt.CORE_HEADERS["B_TblProceedCharges"], cols)


def _frame_reps(world: World, chunk: Chunk, off: Offsets) -> pl.DataFrame:
    c, p, r = chunk.case, chunk.proc, chunk.rep
    pids = _proc_ids(chunk, off)
    alien = r["kind"] < 2
    cols = {
        "IDNREPSASSIGNED": pl.Series(
            ID_BASES["rep"] + off.rep + np.arange(len(r["proc"]), dtype=np.int64)
        ),
        "IDNCASE": pl.Series(c["idn"][p["case"][r["proc"]]]),
        # Real STRATTYLEVEL/TYPE codes (docs/EOIR_FORMAT.md#other-code-tables via [MB]
        # tblAttyLevel/tblAttyType): COURT level; ALIEN represents the respondent, INS represents
        # DHS. PARENT_TABLE's real values are not public; the proceeding is named as parent
        # (PARENT_IDN = IDNPROCEEDING).
        "STRATTYLEVEL": _const(len(alien), "COURT"),
        "STRATTYTYPE": _vocab(["INS", "ALIEN"], alien.astype(np.int64), "x"),
        "PARENT_TABLE": _const(len(alien), "B_TblProceeding"),
        "PARENT_IDN": pl.Series(pids[r["proc"]]),
        "BASE_CITY_CODE": _vocab([ct.code for ct in world.courts], p["court"][r["proc"]], "x"),
        "INS_TA_DATE_ASSIGNED": _date_col(np.where(alien, NULL_DAY, r["day"]), "x"),
        "E_28_DATE": _date_col(np.where(alien, r["day"], NULL_DAY), "x"),
        "BLNPRIMEATTY": _vocab(["1", "0"], (r["kind"] == 1).astype(np.int64), "x"),
    }
    return _frame(fmt.CORE_HEADERS["tbl_RepsAssigned"], cols)


def _frame_priorities(world: World, chunk: Chunk, off: Offsets) -> pl.DataFrame:
    c, s = chunk.case, chunk.pri
    cols = {
        "idnCasePriHistory": pl.Series(
            ID_BASES["pri"] + off.pri + np.arange(len(s["case"]), dtype=np.int64)
        ),
        "casePriority_code": _vocab(list(PRIORITY_CODES) + ["N/A"], s["code"], "x"),
        "idnCase": pl.Series(c["idn"][s["case"]]),
        "DATCREATEDON": _date_col(s["created"], "x"),
        "DATMODIFIEDON": _date_col(s["modified"], "x"),
    }
    return _frame(fmt.CORE_HEADERS["tbl_CasePriorityHistory"], cols)


FRAMERS: dict[str, Callable[[World, Chunk, Offsets], pl.DataFrame]] = {
    "A_TblCase": _frame_cases,
    "B_TblProceeding": _frame_proceedings,
    "B_TblProceedCharges": _frame_charges,
    "tbl_RepsAssigned": _frame_reps,
    "tbl_CasePriorityHistory": _frame_priorities,
}


def frame_bytes(df: pl.DataFrame, eol: bytes) -> bytes:
    buf = io.BytesIO()
    df.write_csv(
        buf, include_header=False, separator="\t", quote_style="never",
        line_terminator=eol.decode(), date_format=DATE_FORMAT, null_value="",
    )  # fmt: skip
    return buf.getvalue()


class Sink:
    """A zip archive or a folder, written member by member."""

    def __init__(self, out_dir: Path, zip_: bool, release_date: date, level: int):
        self.out_dir = out_dir
        self.zip_ = zip_
        self.dt = (release_date.year, release_date.month, release_date.day, 0, 0, 0)
        self.level = level
        if zip_:
            self.path = out_dir / fmt.RELEASE_ZIP_NAME
            self.zf = zipfile.ZipFile(
                self.path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=level
            )
        else:
            self.path = out_dir / fmt.release_folder_name(release_date)

    def _info(self, name: str) -> zipfile.ZipInfo:
        zi = zipfile.ZipInfo(name, date_time=self.dt)
        zi.compress_type = zipfile.ZIP_DEFLATED
        zi._compresslevel = self.level  # read by ZipFile.open(..., "w") in CPython 3.11-3.12
        if hasattr(zi, "compress_level"):
            zi.compress_level = self.level
        # Fixed metadata so the same seed gives the same bytes on any machine: made on Windows
        # (as EOIR's archive is), "archive" attribute.
        zi.create_system = 0
        zi.external_attr = 0x20
        return zi

    def open(self, name: str, large: bool):
        if self.zip_:
            return self.zf.open(self._info(name), "w", force_zip64=large)
        target = self.out_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        return open(target, "wb")

    def write(self, name: str, data: bytes) -> None:
        with self.open(name, large=False) as f:
            f.write(data)

    def close(self) -> None:
        if self.zip_:
            self.zf.close()


def synthetic_readme(seed: int, cases: int, release_date: date, eol: bytes) -> bytes:
    text = (
        "SYNTHETIC DATA - NOT A REAL EOIR RELEASE\n\n"
        "Every case, proceeding, charge and attorney record in this archive was made up by\n"
        "pd-pipeline's sample generator (pipelines/sample/eoir.py). The layout, headers, codes and\n"
        "lookup tables follow EOIR's real case-data release; the people, dates and outcomes do not\n"
        "describe anyone. Do not cite any number computed from it as a finding about immigration court.\n\n"
        f"Generated with: python -m pipelines.sample.eoir --cases {cases} --seed {seed} "
        f"--release-date {release_date.isoformat()}\n"
    )
    return text.replace("\n", eol.decode()).encode("ascii")
