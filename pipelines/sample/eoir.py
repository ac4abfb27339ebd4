"""Deterministic synthetic EOIR "case data" release, in the exact real layout, at any scale.

    python -m pipelines.sample.eoir --cases 20000 --seed 20260401 --out data/raw/sample

writes `EOIR Case Data.zip` (or, with --no-zip, the same tree as a folder) and, next to it,
`truth.json`: the generator's parameters and the counts later stages must recover.

What is real and what is made up
- Layout, headers, encoding, date/time/NULL spellings: docs/EOIR_FORMAT.md (release layout to
  lookup tables).
- Every code (court, judge, nationality, language, case type, decision, charge, custody, case
  priority) is a real EOIR value from the project's tables in data/reference/ (see codes.py);
  the Lookup/ tables are built from the same rows.
- The people, dates and outcomes are synthetic, drawn from a seeded generator with known
  effects (see `truth.json` -> "model").

How it is built
- Cases are generated in chunks of CHUNK_CASES with numpy; every chunk draws from its own
  seeded stream, so a chunk is the same whichever table is being written. The zip can hold only
  one open member at a time, so each core table is written in its own pass over the chunks,
  regenerating them (cheap next to formatting and compression); memory stays bounded by a chunk.
- Rows are formatted by polars (`write_csv`, TAB, no quoting) and streamed into the zip member.
  Generated text is ASCII, so polars' UTF-8 equals cp1252; the few quirk rows that carry
  cp1252-only bytes are encoded separately.
- Real releases compress members with Deflate64, which no Python library can write; this writes
  plain deflate. The reader handles both (zipfile-deflate64).

Quirks (quirks=True) go only on "inert" cases: every proceeding of the case completed before
the pending date (2011-11-17), hence before the article's window. Whatever the ingest makes of
those rows (repair, reject, NULL), no count in truth["counts"] and no model-cohort row can
change. truth["quirks"] lists each with its table, source line and the expected ingest outcome.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from pipelines.classify.categories import CATEGORY_NAMES
from pipelines.classify.policy import POLICY_DATES
from pipelines.sample import codes as ref
from pipelines.sample import eoir_format as fmt
from pipelines.settings import DEFAULT_PENDING_ON, DEFAULT_WINDOW_END, DEFAULT_WINDOW_START

GENERATOR_VERSION = 1
CHUNK_CASES = 50_000
# zlib's default deflate level: 1M cases take ~35 s on 2 cores (level 1: ~21 s, a 35% larger zip).
COMPRESS_LEVEL = 6

_EPOCH = date(1970, 1, 1)


def _day(d: date) -> int:
    return (d - _EPOCH).days


NULL_DAY = np.int64(-(2**31) + 1)  # a date field left empty
NEVER = np.int64(2**31 - 1)  # COMP_DATE of a proceeding still pending at the release date

# --- lead-charge categories and the real charge codes drawn for each -----------------------
# Categories, most serious first (docs/DECISIONS.md#charge-severity); the lead charge is the most serious one. The
# list is pipelines.classify's, the one every stage imports.
CATEGORIES = CATEGORY_NAMES
NO_CHARGE = "no_charge"  # truth-count key for proceedings without a charge (CFR/RFR reviews)
NST, AF, OC, EWI, OI, MISC = range(6)
assert CATEGORIES[AF] == "aggravated_felony" and CATEGORIES[EWI] == "entry_without_inspection"
_NONE = 6

# Real EOIR spellings (tbllookupCharges rows of data/reference/eoir_lookup_codes.csv), with
# relative weights. Only codes whose category follows plainly from
# docs/DECISIONS.md#charge-severity and docs/EOIR_FORMAT.md#charge-categories are drawn, so the
# truth does not hinge on a disputable classification: e.g. 237a02Di (TRAC: national security;
# docs/DECISIONS.md#charge-severity:
# 237(a)(2) criminal) and 237a03Bi are never used; 212a06Ci (fraud) is other immigration.
_DEPARTURE_CONTROL = {f"2153{c}": 1.0 for c in "abcdefghijk"}  # misc: not a removal ground
CHARGE_POOLS: dict[str, dict[int, dict[str, float]]] = {
    # removal (RMV) and the case types charged like it
    "INA_212_237": {
        NST: {"237a04B": 3, "212a03Bi  I": 2, "237a04Ai": 2, "212a03Bi  IV": 1, "212a03Aii": 1},
        AF: {"237a02Aiii": 1},
        OC: {
            "237a02Bi": 25, "237a02Ai": 20, "212a02Ai  I": 15, "212a02Ai  II": 15,
            "237a02Aii": 10, "237a02Ei": 8, "237a02C": 5, "212a02C": 2,
        },
        EWI: {"212a06Ai": 1},
        OI: {
            "237a01B": 35, "212a07Ai  I": 30, "237a01Ci": 15, "212a06Ci": 10,
            "212a09Bi  II": 5, "237a01A": 5,
        },
        MISC: _DEPARTURE_CONTROL,
    },
    # legacy deportation (DEP): INA 241 before 1997; 241(a)(1)(B) is entry without inspection
    "INA_241": {
        NST: {"241a04B": 1},
        AF: {"241a02Aiii": 1},
        OC: {"241a02Bi": 4, "241a02Ai": 3, "241a02Aii": 2, "241a02C": 1},
        EWI: {"241a01B": 1},
        OI: {"241a01Ci": 4, "241a01A": 3, "241a01Gi": 1, "241a01Cii": 1},
        MISC: _DEPARTURE_CONTROL,
    },
    # legacy exclusion (EXC): 212 grounds only; no aggravated-felony or EWI ground exists
    "INA_212": {
        NST: {"212a03Bi  I": 1},
        OC: {"212a02Ai  I": 2, "212a02Ai  II": 2, "212a02C": 1},
        OI: {"212a07Ai  I": 5, "212a06Ci": 3, "212a07Bi  I": 2},
        MISC: _DEPARTURE_CONTROL,
    },
}  # fmt: skip
POOLS = tuple(CHARGE_POOLS)
# Share of each lead category among cases charged under each pool. EWI and other immigration
# dominate, about 10% criminal, national security rare (TRAC: 41.1% EWI, 10.8% criminal; "only
# 15 individuals on national security charges"; docs/EOIR_FORMAT.md#charge-categories).
LEAD_SHARES = {
    "INA_212_237": (0.002, 0.025, 0.075, 0.500, 0.388, 0.010),
    "INA_241": (0.002, 0.060, 0.140, 0.400, 0.388, 0.010),
    "INA_212": (0.005, 0.000, 0.150, 0.000, 0.835, 0.010),
}
N_CHARGES_SHARES = (0.55, 0.30, 0.11, 0.04)  # 1..4 charges a proceeding
# Weights of the categories of a proceeding's further charges, among those no more serious than
# the lead (the lead's own category only where its pool has 4+ codes, so codes stay distinct).
EXTRA_CHARGE_WEIGHTS = (0.01, 0.10, 0.30, 0.30, 0.60, 0.02)

# --- case types, custody, outcomes ---------------------------------------------------------
# (share of cases, charge pool or None for reviews without a charging document)
CASE_TYPES: dict[str, tuple[float, str | None]] = {
    "RMV": (0.925, "INA_212_237"),
    "DEP": (0.012, "INA_241"),
    "EXC": (0.004, "INA_212"),
    "REC": (0.002, "INA_212_237"),
    "AOC": (0.018, "INA_212_237"),
    "WHO": (0.020, "INA_212_237"),
    "NAC": (0.002, "INA_212_237"),
    "CFR": (0.011, None),
    "RFR": (0.006, None),
}
CASE_TYPE_CODES = tuple(CASE_TYPES)
REVIEW_CASE_TYPES = ("CFR", "RFR")  # detained, decided within weeks, no charges
# Share detained at the first proceeding, by lead category (then no charge).
DETAINED_SHARE = (0.60, 0.80, 0.55, 0.30, 0.15, 0.20, 1.00)
REPRESENTED_SHARE = {"detained": 0.25, "not_detained": 0.60}

# Non-PD outcomes. Merits decisions go in DEC_CODE, administrative completions in OTHER_COMP;
# codes are those TRAC's decision table lists for the case type (checked at import), except the
# deliberate DEC_CODE `I` in AOC/WHO: a code EOIR defines as a PD termination only for
# RMV/DEP/EXC/REC, so the PD rule must not count it (docs/EOIR_FORMAT.md#pd-closures-in-the-data).
MERITS_OUTCOMES: dict[str, dict[str, float]] = {
    "RMV": {"X": 0.50, "V": 0.14, "R": 0.15, "T": 0.15, "O": 0.05, "J": 0.01},
    "DEP": {"D": 0.45, "V": 0.15, "R": 0.20, "T": 0.15, "J": 0.05},
    "EXC": {"E": 0.50, "A": 0.10, "T": 0.25, "O": 0.10, "J": 0.05},
    "REC": {"R": 0.40, "S": 0.40, "T": 0.15, "O": 0.05},
    "AOC": {"D": 0.45, "G": 0.20, "W": 0.13, "A": 0.10, "O": 0.05, "C": 0.05, "I": 0.02},
    "WHO": {"D": 0.45, "G": 0.20, "W": 0.13, "A": 0.10, "O": 0.05, "C": 0.05, "I": 0.02},
    "NAC": {"G": 0.60, "D": 0.30, "W": 0.10},
    "CFR": {"A": 0.70, "V": 0.25, "O": 0.05},
    "RFR": {"A": 0.70, "V": 0.25, "O": 0.05},
}
NON_PD_DEC_CODE_EXCEPTIONS = {("AOC", "I"), ("WHO", "I")}
# C change of venue and T transfer open a new proceeding at another court; A/B administrative
# closures are sometimes reopened (docs/EOIR_FORMAT.md#cases-and-proceedings: new IDNPROCEEDING after change of venue or
# reopening after administrative closure).
ADMIN_OUTCOMES = {"C": 0.45, "T": 0.15, "A": 0.20, "B": 0.06, "O": 0.06, "P": 0.04, "F": 0.04}
ADMIN_SHARE = {"RMV": 0.22, "CFR": 0.05, "RFR": 0.05}
ADMIN_SHARE_DEFAULT = 0.15
REMOVAL_ORDER_CODES = ("X", "D", "E")  # DEPORTED_1 is set, absentia possible
REOPEN_SHARE = {"admin_closed": 0.25, "pd_closed": 0.12}
MAX_PROCEEDINGS = 3

# --- the PD model (the truth the models must recover) -------------------------------------------
# Eras of PD closure (COMP_DATE), named and dated as pipelines.classify.policy's eras: PD closures begin
# with the nationwide case review (2011-11-17) in the Morton era; the Johnson memo opens the
# next. They are generated through 2015 only.
_CASE_REVIEW = next(p.on for p in POLICY_DATES if p.short_label == "Case review")
_JOHNSON = next(p.on for p in POLICY_DATES if p.opens_era == "Johnson")
PD_ERAS = (
    ("Morton", _CASE_REVIEW, _JOHNSON - timedelta(days=1)),
    ("Johnson", _JOHNSON, date(2015, 12, 31)),
)
INTERCEPT_BY_ERA = {"Morton": -2.5, "Johnson": -2.0}
CATEGORY_EFFECT = {
    "national_security_terrorism": -3.5,
    "aggravated_felony": -3.0,
    "other_criminal": -2.0,
    "entry_without_inspection": 0.0,  # reference category
    "other_immigration": 0.2,
    "miscellaneous": -0.5,
}
DETAINED_EFFECT = -1.0
REPRESENTED_EFFECT = 0.5
COURT_EFFECT_SD = 0.4
# A PD closure is a termination (DEC_CODE I) or an administrative closure (OTHER_COMP Y, or M
# "In Court PD", a later code, used more in the Johnson era).
PD_TERMINATED_SHARE = 0.25
PD_IN_COURT_SHARE = {"Morton": 0.05, "Johnson": 0.15}

# --- calendar ------------------------------------------------------------------------------
OSC_FIRST, OSC_LAST = date(2008, 1, 1), date(2016, 12, 31)
OSC_GROWTH = 0.5  # density of NTA dates rises linearly by 50% over 2008-2016
PRIORITY_START = date(2014, 6, 1)  # surge-docket priorities (AWC, UC, RBC) began mid-2014
PRIORITY_SHARE = 0.10
PRIORITY_CODES = {"AWC/ATD": 0.35, "AWC/D": 0.15, "RBC/D": 0.15, "UC": 0.30, "CR": 0.05}

# --- people and places ---------------------------------------------------------------------
# Real NAT codes (data/reference/eoir_nationalities.csv) with shares of the 2008-2016
# docket, and the LANG code (tblLanguage rows of data/reference/eoir_lookup_codes.csv) spoken.
NATIONALITIES = {
    "MX": (0.42, "SP"), "GT": (0.11, "SP"), "ES": (0.10, "SP"), "HO": (0.09, "SP"),
    "CH": (0.04, "MAN"), "IN": (0.02, "PUN"), "DR": (0.02, "SP"), "EC": (0.015, "SP"),
    "CU": (0.015, "SP"), "HA": (0.015, "CRE"), "JM": (0.01, "ENG"), "CO": (0.01, "SP"),
    "BR": (0.01, "POR"), "RP": (0.008, "TAG"), "NU": (0.008, "SP"), "PE": (0.007, "SP"),
    "PK": (0.005, "UR"), "BG": (0.004, "BEN"), "NI": (0.004, "ENG"), "SO": (0.003, "SOM"),
    "ER": (0.003, "TIG"), "ET": (0.003, "AMH"), "AL": (0.003, "ALB"), "RU": (0.003, "RUS"),
    "KS": (0.002, "KOR"),
}  # fmt: skip
OTHER_NATIONALITY_SHARE = 0.05  # spread over every other real code, language English
# Relative caseloads: the big courts by name, every other court 1.
COURT_WEIGHTS = {
    "NYC": 10, "LOS": 9, "SFR": 6, "MIA": 5, "HOU": 5, "CHI": 4, "WAS": 4, "NEW": 3, "DAL": 3,
    "SNA": 3, "ORL": 3, "ATL": 2, "PHO": 2, "DEN": 2, "ELZ": 2, "BOS": 2, "SND": 2, "SEA": 2,
}  # fmt: skip
# Detention courts get most detained cases (4x weight for detained cases).
DETENTION_COURTS = ("ELO", "FLO", "OAK", "PIS", "SDC", "HOD", "KRO", "TAC", "YOR", "ULS", "IMP")
HEARING_TIMES = ("0830", "0900", "1000", "1300", "1330", "1400")

# Core tables, in the order they are written.
CORE_TABLES = tuple(fmt.CORE_HEADERS)
LOOKUP_TABLES = tuple(fmt.LOOKUP_HEADERS)
ID_BASES = {
    "case": 5_100_000,
    "proc": 12_000_000,
    "chg": 30_000_000,
    "rep": 40_000_000,
    "pri": 100_001,
}
DATE_FORMAT = "%Y-%m-%d 00:00:00.000"
BOGUS_DATE = "1900-01-01 00:00:00.000"

_LETTERS = ["" if i == 0 else chr(i) for i in range(128)]


def _check_codes() -> None:
    """Fail at import if a code above is not a real one (one source of truth: the references)."""
    known = set(ref.charge_descriptions())
    for pool in CHARGE_POOLS.values():
        for codes in pool.values():
            missing = set(codes) - known
            assert not missing, f"charge codes not in tbllookupCharges: {missing}"
    for ct, outcomes in MERITS_OUTCOMES.items():
        bad = {c for c in outcomes if (ct, c) not in NON_PD_DEC_CODE_EXCEPTIONS}
        bad -= ref.valid_codes(ct, "DEC_CODE")
        assert not bad, f"{ct} DEC_CODE not in tblLookupCourtDecision: {bad}"
    names = ref.nationality_names()
    assert set(NATIONALITIES) <= set(names), set(NATIONALITIES) - set(names)
    langs = {lang for _, lang in NATIONALITIES.values()} | {"ENG"}
    assert langs <= ref.language_codes(), langs - ref.language_codes()
    courts = {c.code for c in ref.courts()}
    assert set(COURT_WEIGHTS) | set(DETENTION_COURTS) <= courts
    assert set(PRIORITY_CODES) <= set(ref.case_priorities())


_check_codes()


# --- small vectorized helpers ----------------------------------------------------------------


def _choice(rng: np.random.Generator, n: int, probs) -> np.ndarray:
    cum = np.cumsum(np.asarray(probs, dtype=float))
    return np.minimum(np.searchsorted(cum / cum[-1], rng.random(n), side="right"), len(cum) - 1)


def _choice_rows(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One draw per row of a (rows, k) weight matrix."""
    cum = np.cumsum(weights, axis=1)
    r = rng.random(len(weights)) * cum[:, -1]
    return np.minimum((cum <= r[:, None]).sum(axis=1), weights.shape[1] - 1)


def _letters(codes) -> np.ndarray:
    return np.array([ord(c) for c in codes], dtype=np.uint8)


# --- the world: everything fixed for a seed, shared by all chunks ----------------------------


@dataclass
class _World:
    seed: int
    n_cases: int
    release_day: int
    pending_day: int
    courts: tuple[ref.Court, ...]
    court_u: np.ndarray
    court_w_free: np.ndarray
    court_w_det: np.ndarray
    judges: tuple[str, ...]
    judge_start: np.ndarray
    judge_count: np.ndarray
    nat_codes: tuple[str, ...]
    nat_w: np.ndarray
    nat_lang: np.ndarray
    lang_codes: tuple[str, ...]
    charge_vocab: tuple[str, ...]
    pool_codes: dict[tuple[int, int], np.ndarray]  # (pool, category) -> vocab indices
    pool_w: dict[tuple[int, int], np.ndarray]
    extra_w: np.ndarray  # (pool, lead 0..6, category) weights of further charges


def _build_world(seed: int, n_cases: int, release_date: date) -> _World:
    rng = np.random.default_rng([seed, 0])
    courts = ref.courts()
    court_u = rng.normal(0.0, COURT_EFFECT_SD, len(courts))
    w = np.array([COURT_WEIGHTS.get(c.code, 1.0) for c in courts])
    w_det = w * np.array([4.0 if c.code in DETENTION_COURTS else 1.0 for c in courts])
    # Judges: the real codes, shuffled, dealt to courts in proportion to caseload (2 at least).
    judges = np.array(ref.judge_codes())
    judges = judges[rng.permutation(len(judges))]
    count = np.maximum(2, np.floor(w / w.sum() * len(judges) * 0.9)).astype(int)
    start = np.concatenate([[0], np.cumsum(count)[:-1]]) % len(judges)
    # Nationalities: the named ones, then every other real code equally.
    others = [c for c in ref.nationality_names() if c not in NATIONALITIES and c != "??"]
    nat_codes = tuple(NATIONALITIES) + tuple(others)
    nat_w = np.array(
        [s for s, _ in NATIONALITIES.values()]
        + [OTHER_NATIONALITY_SHARE / len(others)] * len(others)
    )
    langs = tuple(sorted({lang for _, lang in NATIONALITIES.values()} | {"ENG"}))
    nat_lang = np.array(
        [
            langs.index(NATIONALITIES[c][1]) if c in NATIONALITIES else langs.index("ENG")
            for c in nat_codes
        ]
    )
    vocab = sorted(
        {code for pool in CHARGE_POOLS.values() for codes in pool.values() for code in codes}
    )
    pool_codes, pool_w = {}, {}
    extra_w = np.zeros((len(POOLS), 7, 6))
    for p, name in enumerate(POOLS):
        for cat, codes in CHARGE_POOLS[name].items():
            items = [(c, wt) for c, wt in codes.items() if wt > 0]
            pool_codes[p, cat] = np.array([vocab.index(c) for c, _ in items])
            pool_w[p, cat] = np.array([wt for _, wt in items], dtype=float)
        for lead in range(6):
            for cat in range(6):
                size = len(pool_codes.get((p, cat), ()))
                if size and (cat > lead or (cat == lead and size >= 4)):
                    extra_w[p, lead, cat] = EXTRA_CHARGE_WEIGHTS[cat]
    return _World(
        seed=seed, n_cases=n_cases, release_day=_day(release_date),
        pending_day=_day(DEFAULT_PENDING_ON), courts=courts, court_u=court_u,
        court_w_free=w / w.sum(), court_w_det=w_det / w_det.sum(), judges=tuple(judges),
        judge_start=start, judge_count=count, nat_codes=nat_codes, nat_w=nat_w / nat_w.sum(),
        nat_lang=nat_lang, lang_codes=langs, charge_vocab=tuple(vocab), pool_codes=pool_codes,
        pool_w=pool_w, extra_w=extra_w,
    )  # fmt: skip


# --- one chunk of cases with all their rows ---------------------------------------------------


@dataclass
class _Chunk:
    index: int
    case: dict[str, np.ndarray]
    proc: dict[str, np.ndarray]
    chg: dict[str, np.ndarray]
    rep: dict[str, np.ndarray]
    pri: dict[str, np.ndarray]

    @property
    def counts(self) -> dict[str, int]:
        return {
            k: len(next(iter(getattr(self, k).values())))
            for k in ("case", "proc", "chg", "rep", "pri")
        }


def _gen_chunk(world: _World, c: int) -> _Chunk:
    rng = np.random.default_rng([world.seed, 1, c])
    N = world.n_cases
    D = world.pending_day
    i0, i1 = c * CHUNK_CASES, min(N, (c + 1) * CHUNK_CASES)
    n = i1 - i0
    g = np.arange(i0, i1, dtype=np.int64)
    case: dict[str, np.ndarray] = {"g": g}
    case["idn"] = ID_BASES["case"] + 3 * g + rng.integers(0, 3, n)

    # NTA dates stratified over the case index, so IDNCASE rises with the date as in EOIR data.
    u = (g + rng.random(n)) / N
    a = OSC_GROWTH
    x = (np.sqrt(1 + a * (2 + a) * u) - 1) / a
    osc = _day(OSC_FIRST) + np.floor(x * (_day(OSC_LAST) - _day(OSC_FIRST) + 1)).astype(np.int64)
    osc[osc == D] += 1
    inp = osc + np.minimum(rng.geometric(1 / 12, n) - 1, 90)
    # No first proceeding straddles the pending date (OSC before it, INPUT after): with that, the
    # pending docket is the same whether counted from OSC_DATE or INPUT_DATE for first proceedings.
    straddle = (osc < D) & (inp >= D)
    inp[straddle] = osc[straddle]
    case["osc"], case["inp"] = osc, inp

    ctype = _choice(rng, n, [s for s, _ in CASE_TYPES.values()])
    pool_of_type = np.array([POOLS.index(p) if p else -1 for _, p in CASE_TYPES.values()])
    pool = pool_of_type[ctype]
    lead = np.full(n, _NONE, dtype=np.int64)
    for p, name in enumerate(POOLS):
        rows = np.flatnonzero(pool == p)
        lead[rows] = _choice(rng, len(rows), LEAD_SHARES[name])
    has_ch = pool >= 0
    k = np.where(has_ch, 1 + _choice(rng, n, N_CHARGES_SHARES), 0)
    codes = _draw_charges(world, rng, pool, lead, k)
    case.update(ctype=ctype, lead=lead, k=k, codes=codes)

    case["nat"] = _choice(rng, n, world.nat_w)
    case["lang"] = world.nat_lang[case["nat"]]
    case["female"] = rng.random(n) < 0.28
    age = np.clip(np.round(rng.normal(30, 10, n)), 14, 80).astype(np.int64)
    case["birth_year"] = 1970 + (osc / 365.25).astype(np.int64) - age
    case["birth_month"] = rng.integers(1, 13, n)
    criminal = (lead == AF) | (lead == OC) | (lead == NST)
    case["lpr"] = rng.random(n) < np.where(criminal, 0.25, 0.02)
    back = np.where(lead == EWI, rng.geometric(1 / 200, n), rng.integers(30, 5500, n))
    case["entry"] = np.where(rng.random(n) < 0.15, NULL_DAY, osc - back)
    detained0 = rng.random(n) < np.array(DETAINED_SHARE)[lead]
    rep_p = np.where(detained0, REPRESENTED_SHARE["detained"], REPRESENTED_SHARE["not_detained"])
    case["represented"] = rng.random(n) < rep_p
    cust0 = np.where(detained0, ord("D"), np.where(rng.random(n) < 0.15, ord("R"), ord("N")))
    court_free = _choice(rng, n, world.court_w_free)
    court_det = _choice(rng, n, world.court_w_det)
    court0 = np.where(detained0, court_det, court_free)
    case["court0"] = court0
    case["site_type"] = np.where(rng.random(n) < 0.8, ord("M"), 0)
    case["asy_type"] = np.array([ord("E"), ord("I"), 0])[_choice(rng, n, (0.05, 0.05, 0.90))]

    proc = _gen_proceedings(world, rng, case, cust0, court0, has_ch)
    chg = _gen_charges(rng, case, proc)
    rep = _gen_reps(world, rng, case, proc)
    pri = _gen_priorities(rng, case)
    _summarize_cases(world, rng, case, proc, rep, pri)
    return _Chunk(c, case, proc, chg, rep, pri)


def _draw_charges(world: _World, rng, pool, lead, k) -> np.ndarray:
    """(n, 4) charge-vocab indices (-1 unused): the lead code, then less serious (or same-pool,
    distinct) codes, in random order so the lead is not always the first row."""
    n = len(pool)
    codes = np.full((n, 4), -1, dtype=np.int64)
    cats = np.full((n, 4), -1, dtype=np.int64)
    cats[:, 0] = np.where(k > 0, lead, -1)
    for j in range(1, 4):
        rows = np.flatnonzero(k > j)
        cats[rows, j] = _choice_rows(rng, world.extra_w[pool[rows], lead[rows]])
    for j in range(4):
        for (p, cat), vocab_idx in world.pool_codes.items():
            rows = np.flatnonzero((pool == p) & (cats[:, j] == cat))
            if len(rows) == 0:
                continue
            pick = _choice(rng, len(rows), world.pool_w[p, cat])
            # Same-category further charges: step through the pool until the code is new.
            for _ in range(len(vocab_idx)):
                dup = (codes[rows, :j] == vocab_idx[pick][:, None]).any(axis=1)
                if not dup.any():
                    break
                pick = np.where(dup, (pick + 1) % len(vocab_idx), pick)
            codes[rows, j] = vocab_idx[pick]
    keys = rng.random((n, 4))
    keys[codes < 0] = 2.0
    order = np.argsort(keys, axis=1, kind="stable")
    return np.take_along_axis(codes, order, axis=1)


def _gen_proceedings(world: _World, rng, case, cust0, court0, has_ch) -> dict[str, np.ndarray]:
    """The chain of proceedings of every case: a change of venue or transfer opens the next at
    another court the same day; an administrative or PD closure is sometimes reopened later."""
    D = world.pending_day
    release = world.release_day
    pd_start, pd_end = _day(PD_ERAS[0][1]), _day(PD_ERAS[-1][2])
    johnson_start = _day(PD_ERAS[1][1])
    ct_review = np.array([t in REVIEW_CASE_TYPES for t in CASE_TYPE_CODES])
    ct_pd_term = np.array([t in ref.PD_TERMINATION_CASE_TYPES for t in CASE_TYPE_CODES])
    ct_admin = np.array([ADMIN_SHARE.get(t, ADMIN_SHARE_DEFAULT) for t in CASE_TYPE_CODES])
    cat_eff = np.array([CATEGORY_EFFECT[c] for c in CATEGORIES] + [0.0])
    ncourts = len(world.courts)

    steps = []
    act = np.arange(len(case["g"]))
    start = case["inp"].copy()
    court, cust = court0.copy(), cust0.copy()
    prev = np.full(len(act), -1)
    trans_nbr = np.zeros(len(act), dtype=np.int64)
    trans_in = np.zeros(len(act), dtype=bool)
    made = 0
    for seq in range(MAX_PROCEEDINGS):
        m = len(act)
        if m == 0:
            break
        ct = case["ctype"][act]
        det = cust == ord("D")
        free_dur = np.exp(rng.normal(np.log(550.0), 0.85, m)).astype(np.int64) + 1
        free_dur += np.where(rng.random(m) < 0.04, rng.integers(2500, 6000, m), 0)
        det_dur = 10 + rng.gamma(1.5, 30.0, m).astype(np.int64)
        review_dur = 5 + rng.geometric(1 / 10, m)
        dur = np.where(ct_review[ct], review_dur, np.where(det, det_dur, free_dur))
        comp = start + dur
        comp[comp == D] += 1  # no completion on the pending date itself
        done = comp <= release
        comp = np.where(done, comp, NEVER)

        lead = case["lead"][act]
        johnson = comp >= johnson_start
        eta = (
            np.where(johnson, INTERCEPT_BY_ERA["Johnson"], INTERCEPT_BY_ERA["Morton"])
            + cat_eff[lead]
            + DETAINED_EFFECT * det
            + REPRESENTED_EFFECT * case["represented"][act]
            + world.court_u[court]
        )
        eligible = done & has_ch[act] & (comp >= pd_start) & (comp <= pd_end)
        pd = eligible & (rng.random(m) < 1.0 / (1.0 + np.exp(-eta)))

        dec = np.zeros(m, dtype=np.uint8)
        oth = np.zeros(m, dtype=np.uint8)
        terminated = pd & ct_pd_term[ct] & (rng.random(m) < PD_TERMINATED_SHARE)
        admin_pd = pd & ~terminated
        in_court = rng.random(m) < np.where(
            johnson, PD_IN_COURT_SHARE["Johnson"], PD_IN_COURT_SHARE["Morton"]
        )
        dec[terminated] = ord("I")
        oth[admin_pd] = np.where(in_court[admin_pd], ord("M"), ord("Y"))
        regular = done & ~pd
        admin = regular & (rng.random(m) < ct_admin[ct])
        merits = regular & ~admin
        for t_idx, t in enumerate(CASE_TYPE_CODES):
            rows = np.flatnonzero(merits & (ct == t_idx))
            outs = MERITS_OUTCOMES[t]
            dec[rows] = _letters(outs)[_choice(rng, len(rows), list(outs.values()))]
            rows = np.flatnonzero(admin & (ct == t_idx))
            allowed = {
                c: w for c, w in ADMIN_OUTCOMES.items() if c in ref.valid_codes(t, "OTHER_COMP")
            }
            oth[rows] = _letters(allowed)[_choice(rng, len(rows), list(allowed.values()))]
        dec_type = np.where(dec > 0, np.where(rng.random(m) < 0.85, ord("O"), ord("W")), 0)

        venue = (oth == ord("C")) | (oth == ord("T"))
        closed = (oth == ord("A")) | (oth == ord("B"))
        pd_closed = (oth == ord("Y")) | (oth == ord("M"))
        r = rng.random(m)
        delay = np.where(
            venue, 0,
            np.where(closed, 200 + rng.geometric(1 / 600, m), 365 + rng.geometric(1 / 900, m)),
        )  # fmt: skip
        nstart = np.where(done, comp, 0) + delay
        nstart[nstart == D] += 1
        go = (
            venue
            | (closed & (r < REOPEN_SHARE["admin_closed"]))
            | (pd_closed & (r < REOPEN_SHARE["pd_closed"]))
        )
        go &= done & (nstart < release) & (seq < MAX_PROCEEDINGS - 1)
        alt = _choice(rng, m, world.court_w_free)
        alt = np.where(alt == court, (alt + 1) % ncourts, alt)
        ncourt = np.where(venue, alt, court)
        released = venue & (rng.random(m) < 0.5) | ~venue
        ncust = np.where(det & released, ord("R"), cust)

        first_hearing = start + np.where(
            det, 5 + rng.geometric(1 / 7, m), 20 + rng.geometric(1 / 60, m)
        )
        judge = world.judge_start[court] + (rng.random(m) * world.judge_count[court]).astype(
            np.int64
        )
        judge %= len(world.judges)
        detained_on = np.where(cust != ord("N"), start - rng.geometric(1 / 20, m), NULL_DAY)
        released_on = np.where(
            cust == ord("R"),
            np.maximum(detained_on + rng.geometric(1 / 30, m), detained_on),
            NULL_DAY,
        )
        ids = made + np.arange(m)
        steps.append(
            dict(
                case=act, seq=np.full(m, seq), local_id=ids, prev=prev, start=start, comp=comp,
                court=court, judge=judge, cust=cust, dec=dec, oth=oth, dec_type=dec_type, pd=pd,
                pd_kind=np.where(terminated, 2, np.where(admin_pd, 1, 0)), trans_in=trans_in,
                trans_nbr=trans_nbr, transfer_to=np.where(venue, ncourt, -1),
                hearing=np.minimum(first_hearing, comp), hearing_time=rng.integers(0, len(HEARING_TIMES), m),
                absentia_draw=rng.random(m), appeal_draw=rng.random(m), flag_draw=rng.random(m),
                detained_on=detained_on, released_on=released_on,
            )
        )  # fmt: skip
        made += m
        act, start = act[go], nstart[go]
        prev, court, cust = ids[go], ncourt[go], ncust[go]
        trans_in = venue[go]
        trans_nbr = trans_nbr[go] + venue[go]

    proc = {key: np.concatenate([s[key] for s in steps]) for key in steps[0]}
    order = np.lexsort((proc["seq"], proc["case"]))
    proc = {key: v[order] for key, v in proc.items()}
    position = np.empty(made, dtype=np.int64)
    position[proc["local_id"]] = np.arange(made)
    proc["prev"] = np.where(proc["prev"] >= 0, position[np.maximum(proc["prev"], 0)], -1)
    del proc["local_id"]
    return proc


def _gen_charges(rng, case, proc) -> dict[str, np.ndarray]:
    """Every proceeding repeats its case's NTA charges (docs/EOIR_FORMAT.md#cases-and-proceedings: the charges table likely
    reflects the NTA's original charges)."""
    k = case["k"][proc["case"]]
    p_idx = np.repeat(np.arange(len(k)), k)
    first = np.repeat(np.cumsum(k) - k, k)
    slot = np.arange(len(p_idx)) - first
    code = case["codes"][proc["case"][p_idx], slot]
    # CHG_STATUS values seen: N, O, S, W (docs/EOIR_FORMAT.md#other-code-tables; meanings not public).
    status = _letters("S WNO")[_choice(rng, len(p_idx), (0.60, 0.25, 0.08, 0.05, 0.02))]
    status[status == ord(" ")] = 0
    return {"proc": p_idx, "code": code, "status": status}


def _gen_reps(world: _World, rng, case, proc) -> dict[str, np.ndarray]:
    """tbl_RepsAssigned: the respondent's attorney (EOIR-28) on every proceeding of a represented
    case, filed on or before completion; sometimes a second attorney; DHS counsel on some."""
    m = len(proc["case"])
    span = np.where(proc["comp"] < NEVER, proc["comp"] - proc["start"], 10_000)
    rep_case = case["represented"][proc["case"]]
    e28 = proc["start"] + np.minimum(rng.geometric(1 / 40, m) - 1, span)
    second = rep_case & (rng.random(m) < 0.10)
    e28b = np.minimum(e28 + rng.geometric(1 / 100, m), proc["start"] + span)
    dhs = rng.random(m) < 0.40
    ta = proc["start"] + np.minimum(rng.geometric(1 / 15, m) - 1, span)
    parts = []
    for kind, mask, day in ((0, rep_case, e28), (1, second, e28b), (2, dhs, ta)):
        idx = np.flatnonzero(mask)
        parts.append((idx, np.full(len(idx), kind), day[idx]))
    p_idx = np.concatenate([p[0] for p in parts])
    kind = np.concatenate([p[1] for p in parts])
    day = np.concatenate([p[2] for p in parts])
    order = np.lexsort((kind, p_idx))
    return {"proc": p_idx[order], "kind": kind[order], "day": day[order]}


def _gen_priorities(rng, case) -> dict[str, np.ndarray]:
    n = len(case["g"])
    eligible = case["inp"] >= _day(PRIORITY_START)
    has = eligible & (rng.random(n) < PRIORITY_SHARE)
    code = _choice(rng, n, list(PRIORITY_CODES.values()))
    created = case["inp"] + rng.geometric(1 / 30, n) - 1
    lifted = has & (rng.random(n) < 0.20)  # a later N/A row: priority lifted
    lifted_on = created + 100 + rng.geometric(1 / 300, n)
    modified = rng.random(n) < 0.5
    first = np.flatnonzero(has)
    second = np.flatnonzero(lifted)
    c_idx = np.concatenate([first, second])
    codes = np.concatenate([code[first], np.full(len(second), len(PRIORITY_CODES))])  # N/A last
    created_all = np.concatenate([created[first], lifted_on[second]])
    mod_all = np.where(np.concatenate([modified[first], modified[second]]), created_all, NULL_DAY)
    order = np.lexsort((created_all, c_idx))
    latest = np.full(n, -1)
    latest[c_idx[order]] = codes[order]  # later rows overwrite earlier ones
    case["priority"] = np.where(latest >= 0, latest, np.where(eligible, len(PRIORITY_CODES), -1))
    return {
        "case": c_idx[order],
        "code": codes[order],
        "created": created_all[order],
        "modified": mod_all[order],
    }


def _summarize_cases(world: _World, rng, case, proc, rep, pri) -> None:
    """Case-level fields that follow the latest proceeding, and the inert flag for quirks."""
    n = len(case["g"])
    nprocs = np.bincount(proc["case"], minlength=n)
    first = np.cumsum(nprocs) - nprocs
    last = first + nprocs - 1
    case["first_proc"], case["last_proc"] = first, last
    max_comp = np.maximum.reduceat(proc["comp"], first)
    # Inert: every proceeding completed before the pending date (so before the window too).
    case["inert"] = max_comp < min(world.pending_day, _day(DEFAULT_WINDOW_START))
    done = proc["comp"][last] < NEVER
    case["latest_hearing"] = np.where(
        done, proc["comp"][last], world.release_day + rng.geometric(1 / 200, n)
    )
    case["latest_time"] = rng.integers(0, len(HEARING_TIMES), n)
    case["latest_cal"] = np.where(done & (rng.random(n) < 0.6), ord("I"), ord("M"))
    e28 = np.full(n, NULL_DAY)
    alien = rep["kind"] < 2
    np.maximum.at(e28, proc["case"][rep["proc"][alien]], rep["day"][alien])
    case["e28"] = e28
    moved = proc["court"][last] != case["court0"]
    case["moved"] = moved
    case["address_changed"] = np.where(
        moved, proc["start"][last] - rng.geometric(1 / 30, n), NULL_DAY
    )
    case["zip_tail"] = rng.integers(0, 100, n)
    case["zip_tail2"] = rng.integers(0, 100, n)


# --- formatting: numpy arrays -> polars frame -> TAB-separated bytes ------------------------


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
class _Offsets:
    proc: int = 0
    chg: int = 0
    rep: int = 0
    pri: int = 0

    def advance(self, chunk: _Chunk) -> None:
        cnt = chunk.counts
        self.proc += cnt["proc"]
        self.chg += cnt["chg"]
        self.rep += cnt["rep"]
        self.pri += cnt["pri"]


def _proc_ids(chunk: _Chunk, off: _Offsets) -> np.ndarray:
    return ID_BASES["proc"] + off.proc + np.arange(len(chunk.proc["case"]), dtype=np.int64)


def _frame_cases(world: _World, chunk: _Chunk, off: _Offsets) -> pl.DataFrame:
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
        # Legacy field (docs/EOIR_FORMAT.md#cases-and-proceedings: refer to tbl_RepsAssigned); the real row has 0.
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


def _frame_proceedings(world: _World, chunk: _Chunk, off: _Offsets) -> pl.DataFrame:
    c, p = chunk.case, chunk.proc
    m = len(p["case"])
    ids = _proc_ids(chunk, off)
    court_codes = [ct.code for ct in world.courts]
    lead = c["lead"][p["case"]]
    done = p["comp"] < NEVER
    merits = p["dec"] > 0
    removal = np.isin(p["dec"], _letters(REMOVAL_ORDER_CODES))
    absentia = np.where(
        merits,
        np.where(
            removal & (p["cust"] != ord("D")) & (p["absentia_draw"] < 0.25), ord("Y"), ord("N")
        ),
        0,
    )
    appeal = np.where(
        merits & (p["appeal_draw"] < 0.15),
        _letters("AAAIB")[(p["appeal_draw"] * 33).astype(np.int64) % 5],
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


def _frame_charges(world: _World, chunk: _Chunk, off: _Offsets) -> pl.DataFrame:
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


def _frame_reps(world: _World, chunk: _Chunk, off: _Offsets) -> pl.DataFrame:
    c, p, r = chunk.case, chunk.proc, chunk.rep
    pids = _proc_ids(chunk, off)
    alien = r["kind"] < 2
    cols = {
        "IDNREPSASSIGNED": pl.Series(
            ID_BASES["rep"] + off.rep + np.arange(len(r["proc"]), dtype=np.int64)
        ),
        "IDNCASE": pl.Series(c["idn"][p["case"][r["proc"]]]),
        # Real STRATTYLEVEL/TYPE codes (docs/EOIR_FORMAT.md#other-code-tables via [MB] tblAttyLevel/tblAttyType): COURT
        # level; ALIEN represents the respondent, INS represents DHS. PARENT_TABLE's real values
        # are not public; the proceeding is named as parent (PARENT_IDN = IDNPROCEEDING).
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


def _frame_priorities(world: _World, chunk: _Chunk, off: _Offsets) -> pl.DataFrame:
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


_FRAMERS: dict[str, Callable[[_World, _Chunk, _Offsets], pl.DataFrame]] = {
    "A_TblCase": _frame_cases,
    "B_TblProceeding": _frame_proceedings,
    "B_TblProceedCharges": _frame_charges,
    "tbl_RepsAssigned": _frame_reps,
    "tbl_CasePriorityHistory": _frame_priorities,
}


def _frame_bytes(df: pl.DataFrame, eol: bytes) -> bytes:
    buf = io.BytesIO()
    df.write_csv(
        buf, include_header=False, separator="\t", quote_style="never",
        line_terminator=eol.decode(), date_format=DATE_FORMAT, null_value="",
    )  # fmt: skip
    return buf.getvalue()


# --- quirks ----------------------------------------------------------------------------------


@dataclass
class _Quirk:
    kind: str
    table: str
    row: int  # row index in the table's chunk-0 frame
    expected: str  # ingest outcome: "loaded" (as is), "repaired" or "rejected"
    detail: str
    edit: Callable[[list[str]], list[str]] | None = None  # rewrite the row's fields
    insert_after: Callable[[list[str]], list[str]] | None = None  # add a new row after it
    key: str = ""
    source_line: int = 0
    fields: int = 0


def _col(table: str, name: str) -> int:
    return fmt.CORE_HEADERS[table].index(name)


def _set(i: int, value: str):
    def edit(f: list[str]) -> list[str]:
        f = list(f)
        f[i] = value
        return f

    return edit


def _plan_quirks(world: _World, chunk: _Chunk) -> list[_Quirk]:
    """Quirk rows on distinct inert cases of chunk 0 (see the module docstring)."""
    rng = np.random.default_rng([world.seed, 2])
    c = chunk.case
    candidates = list(rng.permutation(np.flatnonzero(c["inert"])))
    has_rep = np.zeros(len(c["g"]), dtype=bool)
    has_rep[chunk.proc["case"][chunk.rep["proc"]]] = True
    chg_first = np.full(len(chunk.proc["case"]), -1)
    chg_first[chunk.chg["proc"][::-1]] = np.arange(len(chunk.chg["proc"]))[::-1]

    def take(pred=lambda i: True) -> int | None:
        for j, i in enumerate(candidates):
            if pred(i):
                return candidates.pop(j)
        return None

    A, P, C, R = "A_TblCase", "B_TblProceeding", "B_TblProceedCharges", "tbl_RepsAssigned"
    city, state, zipc = _col(A, "ALIEN_CITY"), _col(A, "ALIEN_STATE"), _col(A, "ALIEN_ZIPCODE")
    upd_city = _col(A, "UPDATED_CITY")

    def city_tab(f):  # `SAN\tJUAN`: ALIEN_STATE gets `JUAN`, ALIEN_ZIPCODE gets `PR`
        return f[:city] + ["SAN\tJUAN", "PR", "00901"] + f[zipc + 1 :]

    def empty_after_city(f):  # docs/EOIR_FORMAT.md#tab-shifted-rows: 2026-04 A_TblCase line 111549
        return f[: city + 1] + [""] + f[city + 1 :]

    def ambiguous(f):
        # A city split by a TAB, and a third date between DATE_DETAINED and DATE_RELEASED:
        # which of the three dates is the stray one cannot be known.
        released = _col(A, "DATE_RELEASED")
        return (
            f[:city]
            + ["EAST", "ELMHURST"]
            + f[city + 1 : released]
            + ["2009-03-02 00:00:00.000"]
            + f[released:]
        )

    def extra_before_comp(
        f,
    ):  # docs/EOIR_FORMAT.md#tab-shifted-rows: B_TblProceeding extra tabs before COMP_DATE
        i = _col(P, "COMP_DATE")
        return f[:i] + [""] + f[i:]

    def junk_pk(f):  # docs/EOIR_FORMAT.md#junk-primary-keys: IDNPROCEEDING `FC`
        return ["FC"] + f[1:]

    def nul_inside(i):
        def edit(f):
            f = list(f)
            v = f[i] or "X"
            f[i] = v[: len(v) // 2] + "\x00" + v[len(v) // 2 :]
            return f

        return edit

    plan: list[tuple] = [
        # (kind, table, level, expected, detail, edit, insert_after)
        # As the real row: it ends with CASEPRIORITY_CODE `N/A`.
        ("tab_shift_empty_after_city", A, "case", "repaired", "an empty field inserted after ALIEN_CITY, last field `N/A`: 40 fields", lambda f: empty_after_city(f[:-1] + ["N/A"]), None),
        # The harder shape: the last field is empty, so the row also looks like one with an
        # extra trailing field; only the shifted ALIEN_STATE/ALIEN_ZIPCODE tell them apart.
        ("tab_shift_empty_after_city", A, "case", "repaired", "an empty field inserted after ALIEN_CITY, last field empty: 40 fields", empty_after_city, None),
        ("tab_shift_empty_after_city", A, "case", "repaired", "an empty field inserted after ALIEN_CITY, last field empty: 40 fields", empty_after_city, None),
        ("city_with_tab", A, "case", "repaired", "ALIEN_CITY `SAN<TAB>JUAN` (PR 00901): 40 fields", city_tab, None),
        ("ambiguous_extra_fields", A, "case", "rejected", "ALIEN_CITY `EAST<TAB>ELMHURST` and a stray date between DATE_DETAINED and DATE_RELEASED: 41 fields, no unique repair", ambiguous, None),
        ("short_row", A, "case", "repaired", "last 4 fields missing: 35 fields", lambda f: f[:35], None),
        ("nul_byte", A, "case", "loaded", "NUL inside ALIEN_CITY", nul_inside(city), None),
        ("nul_byte", A, "case", "loaded", "UPDATED_CITY is a lone NUL", _set(upd_city, "\x00"), None),
        ("cp1252_text", A, "case", "loaded", "ALIEN_CITY `CAÑON CITY` (0xD1)", lambda f: _set(state, "CO")(_set(city, "CAÑON CITY")(f)), None),
        ("cp1252_text", A, "case", "loaded", "ALIEN_CITY `SAN JOSÉ` (0xC9)", lambda f: _set(state, "CA")(_set(city, "SAN JOSÉ")(f)), None),
        ("cp1252_text", A, "case", "loaded", "ALIEN_CITY `COEUR D’ALENE` (0x92)", lambda f: _set(state, "ID")(_set(city, "COEUR D’ALENE")(f)), None),
        ("cp1252_text", A, "case", "loaded", "UPDATED_CITY `“EL CENTRO”` (0x93, 0x94)", _set(upd_city, "“EL CENTRO”"), None),
        ("null_spelling", A, "case", "loaded", "ALIEN_CITY `b6` (FOIA exemption marker)", _set(city, "b6"), None),
        ("null_spelling", A, "case", "loaded", "ALIEN_STATE `??`", _set(state, "??"), None),
        ("null_spelling", A, "case", "loaded", "ALIEN_ZIPCODE `00000`", _set(zipc, "00000"), None),
        ("null_spelling", A, "case", "loaded", "ALIEN_CITY all whitespace", _set(city, "   "), None),
        ("bogus_date", A, "case", "loaded", "DATE_OF_ENTRY 1900-01-01", _set(_col(A, "DATE_OF_ENTRY"), BOGUS_DATE), None),
        ("bogus_date", A, "case", "loaded", "ADDRESS_CHANGEDON 1900-01-01", _set(_col(A, "ADDRESS_CHANGEDON"), BOGUS_DATE), None),
        ("stray_quote", A, "case", "loaded", 'ALIEN_CITY `"BROOKLYN` (no quoting in EOIR files)', lambda f: _set(state, "NY")(_set(city, '"BROOKLYN')(f)), None),
        ("stray_quote", A, "case", "loaded", "ALIEN_CITY `ST. JOHN\"S`", _set(city, 'ST. JOHN"S'), None),
        ("tab_shift_extra_before_comp_date", P, "proc_no_appeal", "repaired", "an empty field inserted before COMP_DATE: 39 fields", extra_before_comp, None),
        ("tab_shift_extra_before_comp_date", P, "proc_no_appeal", "repaired", "an empty field inserted before COMP_DATE: 39 fields", extra_before_comp, None),
        ("junk_primary_key", P, "proc", "rejected", "an extra row, a copy of the row above with IDNPROCEEDING `FC`", None, junk_pk),
        ("nul_byte", P, "proc", "loaded", "NUL inside HEARING_TIME", nul_inside(_col(P, "HEARING_TIME")), None),
        ("bogus_date", P, "proc", "loaded", "OSC_DATE 1900-01-01", _set(_col(P, "OSC_DATE"), BOGUS_DATE), None),
        ("extra_trailing_field", C, "chg", "repaired", "one extra empty trailing field: 6 fields", lambda f: f + [""], None),
        ("extra_trailing_field", C, "chg", "repaired", "one extra empty trailing field: 6 fields", lambda f: f + [""], None),
        ("extra_trailing_field", C, "chg", "repaired", "one extra empty trailing field: 6 fields", lambda f: f + [""], None),
        ("short_row", C, "chg", "repaired", "CHG_STATUS missing: 4 fields", lambda f: f[:4], None),
        ("junk_charge_code", C, "chg", "loaded", "CHARGE `(212)(a)(06)(i)(   )(   )` (in the real lookup)", _set(3, "(212)(a)(06)(i)(   )(   )"), None),
        ("junk_charge_code", C, "chg", "loaded", "CHARGE `212(a)(3)(E)(iii) ` (in the real lookup)", _set(3, "212(a)(3)(E)(iii) "), None),
        ("junk_charge_code", C, "chg", "loaded", "CHARGE `<A>` (the lookup's TEST code)", _set(3, "<A>"), None),
        ("junk_charge_code", C, "chg", "loaded", "CHARGE `237a02Axx` (not in the lookup)", _set(3, "237a02Axx"), None),
        ("junk_charge_code", C, "chg", "loaded", "CHARGE `237a02Ai  I  ` (real lookup spelling, trailing spaces)", _set(3, "237a02Ai  I  "), None),
        ("nul_byte", C, "chg", "loaded", "NUL inside CHARGE", nul_inside(3), None),
        ("bogus_date", R, "rep", "loaded", "E_27_DATE 1900-01-01", _set(_col(R, "E_27_DATE"), BOGUS_DATE), None),
        ("nul_byte", R, "rep", "loaded", "BASE_CITY_CODE is a lone NUL", _set(_col(R, "BASE_CITY_CODE"), "\x00"), None),
    ]  # fmt: skip
    fp = c["first_proc"]
    appeal = (chunk.proc["dec"] > 0) & (chunk.proc["appeal_draw"] < 0.15)  # as _frame_proceedings
    need = {
        "case": lambda i: True,
        "proc": lambda i: True,
        # Only empty fields between DEPORTED_2 and COMP_DATE, so that dropping any one of them
        # gives the same row: the repair is unambiguous.
        "proc_no_appeal": lambda i: not appeal[fp[i]],
        "chg": lambda i: c["k"][i] > 0,
        "rep": lambda i: has_rep[i],
    }
    quirks = []
    for kind, table, level, expected, detail, edit, insert_after in plan:
        i = take(need[level])
        if i is None:
            continue  # too few inert cases (tiny releases): the quirk is skipped
        if level == "case":
            row = int(i)
        elif level.startswith("proc"):
            row = int(c["first_proc"][i])
        elif level == "chg":
            row = int(chg_first[c["first_proc"][i]])
        else:
            row = int(np.flatnonzero(chunk.proc["case"][chunk.rep["proc"]] == i)[0])
        quirks.append(_Quirk(kind, table, row, expected, detail, edit, insert_after))
    return quirks


def _apply_quirks(data: bytes, eol: bytes, quirks: list[_Quirk]) -> bytes:
    lines = data.split(eol)
    assert lines[-1] == b""
    lines = lines[:-1]
    by_row = {q.row: q for q in quirks}
    out: list[bytes] = []
    for i, line in enumerate(lines):
        q = by_row.get(i)
        if q is None:
            out.append(line)
            continue
        fields = line.decode("ascii").split("\t")
        if q.edit is not None:
            new = q.edit(fields)
            q.key = new[0]
            q.fields = len("\t".join(new).split("\t"))
            q.source_line = len(out) + 2  # the header is line 1
            out.append(fmt.encode_row(new))
        else:
            out.append(line)
        if q.insert_after is not None:
            new = q.insert_after(fields)
            q.key = new[0]
            q.fields = len("\t".join(new).split("\t"))
            q.source_line = len(out) + 2
            out.append(fmt.encode_row(new))
    return eol.join(out) + eol


# Lookup quirks: NUL bytes in description fields only, so that a key never depends on stripping.
_LOOKUP_NULS = (
    ("tbllookupCharges", "strCode", "212a06Ai", "strCodeDescription"),
    ("tblLookupNationality", "NAT_CODE", "MX", "NAT_NAME"),
    ("tblLookupBaseCity", "BASE_CITY_CODE", "LOS", "BASE_CITY_NAME"),
)


def _lookup_tables(
    quirks: bool, release_path: str
) -> tuple[dict[str, list[list[str]]], list[dict]]:
    tables = ref.lookup_rows()
    records = []
    if quirks:
        for table, key_col, key, col in _LOOKUP_NULS:
            header = fmt.LOOKUP_HEADERS[table]
            k, j = header.index(key_col), header.index(col)
            for i, row in enumerate(tables[table]):
                if row[k] == key:
                    row[j] = row[j] + "\x00"
                    records.append(
                        {
                            "kind": "nul_byte", "table": table, "file": release_path + f"/{fmt.LOOKUP_FOLDER}/{table}.csv",
                            "source_line": i + 2, "key": key, "fields": len(header), "expected": "loaded",
                            "detail": f"NUL at the end of {col}",
                        }
                    )  # fmt: skip
    return tables, records


# --- truth -----------------------------------------------------------------------------------


class _Truth:
    """Counts by construction, accumulated chunk by chunk from the generated proceedings."""

    def __init__(self, world: _World):
        self.world = world
        self.keys = list(CATEGORIES) + [NO_CHARGE]
        z = lambda: np.zeros(7, dtype=np.int64)  # noqa: E731
        self.pd_window, self.pd_window_admin, self.pd_window_term = z(), z(), z()
        self.completions, self.completions_excl_transfer, self.pending = z(), z(), z()
        self.pending_pd_by_end, self.pd_all = z(), z()
        self.proceedings = z()
        self.pd_by_year: dict[int, int] = {}
        nc = len(world.courts)
        self.pd_window_court, self.completions_court = (
            np.zeros(nc, np.int64),
            np.zeros(nc, np.int64),
        )
        self.inert_cases = 0

    def add(self, chunk: _Chunk) -> None:
        p, c = chunk.proc, chunk.case
        cat = c["lead"][p["case"]]
        ws, we = _day(DEFAULT_WINDOW_START), _day(DEFAULT_WINDOW_END)
        D = self.world.pending_day
        done = p["comp"] < NEVER
        in_window = done & (p["comp"] >= ws) & (p["comp"] <= we)
        transfer = np.isin(p["oth"], _letters("CT"))
        pending = (p["start"] <= D) & (p["comp"] > D)

        def acc(arr, mask):
            arr += np.bincount(cat[mask], minlength=7)

        acc(self.proceedings, np.ones(len(cat), dtype=bool))
        acc(self.pd_window, p["pd"] & in_window)
        acc(self.pd_window_admin, p["pd"] & in_window & (p["pd_kind"] == 1))
        acc(self.pd_window_term, p["pd"] & in_window & (p["pd_kind"] == 2))
        acc(self.completions, in_window)
        acc(self.completions_excl_transfer, in_window & ~transfer)
        acc(self.pending, pending)
        acc(self.pending_pd_by_end, pending & p["pd"] & (p["comp"] <= we))
        acc(self.pd_all, p["pd"])
        nc = len(self.world.courts)
        self.pd_window_court += np.bincount(p["court"][p["pd"] & in_window], minlength=nc)
        self.completions_court += np.bincount(p["court"][in_window], minlength=nc)
        years = (
            p["comp"][p["pd"]].astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64)
            + 1970
        )
        for y, cnt in zip(*np.unique(years, return_counts=True), strict=True):
            self.pd_by_year[int(y)] = self.pd_by_year.get(int(y), 0) + int(cnt)
        self.inert_cases += int(c["inert"].sum())

    def _by(self, arr) -> dict:
        out = {k: int(v) for k, v in zip(self.keys, arr, strict=True)}
        return {"total": int(arr.sum()), "by_category": out}

    def counts(self) -> dict:
        courts = [c.code for c in self.world.courts]
        return {
            "pd_closures_in_window": {
                **self._by(self.pd_window),
                "by_kind": {
                    "admin_closed": int(self.pd_window_admin.sum()),
                    "terminated": int(self.pd_window_term.sum()),
                },
                "admin_closed_by_category": self._by(self.pd_window_admin)["by_category"],
                "terminated_by_category": self._by(self.pd_window_term)["by_category"],
                "by_court": {
                    c: int(v) for c, v in zip(courts, self.pd_window_court, strict=True) if v
                },
            },
            "completions_in_window": {
                **self._by(self.completions),
                "by_court": {
                    c: int(v) for c, v in zip(courts, self.completions_court, strict=True) if v
                },
            },
            "completions_in_window_excluding_transfers": self._by(self.completions_excl_transfer),
            "pending_on": self._by(self.pending),
            "pending_on_pd_closed_by_window_end": self._by(self.pending_pd_by_end),
            "pd_closures_all": self._by(self.pd_all),
            "pd_closures_by_year": {str(y): n for y, n in sorted(self.pd_by_year.items())},
            "proceedings": self._by(self.proceedings),
        }


def _definitions() -> dict[str, str]:
    return {
        "unit": "a proceeding (one B_TblProceeding row).",
        "pd_closure": "OTHER_COMP in (Y, M) [admin_closed], or DEC_CODE = I with CASE_TYPE in (RMV, DEP, EXC, REC) [terminated]; DEC_CODE I in AOC/WHO occurs and is not a PD closure.",
        "lead_charge_category": "the most serious category among the proceeding's B_TblProceedCharges rows, in the order of 'categories'; 'no_charge' when it has none (CFR/RFR). Charge rows are in random order, so the first charge is often not the lead.",
        "completion": "COMP_DATE set (every completed proceeding has DEC_CODE or OTHER_COMP). 'excluding_transfers' drops OTHER_COMP C (change of venue) and T (transfer).",
        "window": "COMP_DATE between window.start and window.end, both inclusive.",
        "pending_on": "INPUT_DATE <= pending_on and (COMP_DATE empty or COMP_DATE > pending_on). No INPUT_DATE or COMP_DATE equals pending_on, and no first proceeding has OSC_DATE <= pending_on < INPUT_DATE; later proceedings carry the case's earlier OSC_DATE, so count by INPUT_DATE.",
        "pending_on_pd_closed_by_window_end": "of pending_on, PD closures with COMP_DATE <= window.end (horizon 2011-11-17 to 2013-06-30).",
        "detained": "B_TblProceeding.CUSTODY = D.",
        "represented": "the proceeding has a tbl_RepsAssigned row with STRATTYTYPE ALIEN and an E_28_DATE on or before COMP_DATE (PARENT_IDN = IDNPROCEEDING); every proceeding of a represented case has one.",
        "court": "B_TblProceeding.BASE_CITY_CODE.",
    }


def _model_truth(world: _World) -> dict:
    return {
        "form": "logit",
        "applies_to": "every proceeding with at least one charge whose COMP_DATE falls in a PD era; others are never PD closures. Given its completion date, a proceeding is a PD closure with probability 1/(1+exp(-eta)), so a logit on completions in a window recovers these coefficients; the pending-docket cohort mixes in how soon cases complete.",
        "eta": "intercept_by_era[era(COMP_DATE)] + lead_category[lead_charge_category] + detained*detained + represented*represented + court_effects[BASE_CITY_CODE]",
        "eras": {name: {"start": s.isoformat(), "end": e.isoformat()} for name, s, e in PD_ERAS},
        "intercept_by_era": dict(INTERCEPT_BY_ERA),
        "lead_category": dict(CATEGORY_EFFECT),
        "reference_category": "entry_without_inspection",
        "detained": DETAINED_EFFECT,
        "represented": REPRESENTED_EFFECT,
        "court_effect_sd": COURT_EFFECT_SD,
        "court_effects": {
            c.code: round(float(u), 6) for c, u in zip(world.courts, world.court_u, strict=True)
        },
        "no_effect": [
            "nationality",
            "time since NTA",
            "case type (beyond which codes mark PD)",
            "sex",
            "LPR",
        ],
        "pd_kind": {
            "terminated_share_rmv_dep_exc_rec": PD_TERMINATED_SHARE,
            "in_court_M_share_of_admin": PD_IN_COURT_SHARE,
        },
        "note": "detained cases complete faster and criminal-charge cases are more often detained, so a model without custody confounds the charge effect.",
    }


# --- writing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleRelease:
    """What `write_sample_release` made: the zip (or the release folder), its date and truth."""

    path: Path
    release_date: date
    truth: dict = field(repr=False)
    truth_path: Path | None = None


class _Sink:
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


def _synthetic_readme(seed: int, cases: int, release_date: date, eol: bytes) -> bytes:
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


def write_sample_release(
    out_dir: Path,
    cases: int = 20000,
    seed: int = 20260401,
    release_date: date = date(2026, 4, 1),
    zip: bool = True,  # noqa: A002 - the documented keyword
    crlf: bool = True,
    quirks: bool = True,
    progress: bool = False,
) -> SampleRelease:
    """Write a synthetic EOIR release into `out_dir` and `truth.json` beside it.

    The zip is `out_dir/EOIR Case Data.zip` (with zip=False, the folder
    `out_dir/EOIR Case Data YYYY-MMDD/`). Same arguments, same bytes.
    """
    if cases < 1:
        raise ValueError(f"cases must be at least 1, got {cases}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    world = _build_world(seed, cases, release_date)
    eol = fmt.line_terminator(crlf)
    root = fmt.release_folder_name(release_date)
    n_chunks = -(-cases // CHUNK_CASES)
    level = COMPRESS_LEVEL
    sink = _Sink(out_dir, zip, release_date, level)
    truth_acc = _Truth(world)
    row_counts: dict[str, int] = {}
    nul_counts: dict[str, int] = {}
    plan: list[_Quirk] = []

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=n_chunks * len(CORE_TABLES), unit="chunk", desc="sample release")
    try:
        for t_idx, table in enumerate(CORE_TABLES):
            member = fmt.member_path(release_date, table)
            off = _Offsets()
            rows = 0
            nuls = 0
            with sink.open(member, large=True) as f:
                f.write(fmt.encode_row(fmt.CORE_HEADERS[table]) + eol)
                for ci in range(n_chunks):
                    chunk = _gen_chunk(world, ci)
                    if ci == 0 and t_idx == 0 and quirks:
                        plan = _plan_quirks(world, chunk)
                    if t_idx == 0:
                        truth_acc.add(chunk)
                    data = _frame_bytes(_FRAMERS[table](world, chunk, off), eol)
                    if ci == 0:
                        table_quirks = [q for q in plan if q.table == table]
                        if table_quirks:
                            data = _apply_quirks(data, eol, table_quirks)
                        nuls += data.count(b"\x00")
                    rows += data.count(eol)
                    f.write(data)
                    off.advance(chunk)
                    if bar is not None:
                        bar.update(1)
            row_counts[table] = rows
            nul_counts[table] = nuls
    finally:
        if bar is not None:
            bar.close()

    lookups, lookup_quirks = _lookup_tables(quirks, root)
    for table in LOOKUP_TABLES:
        data = fmt.encode_table(fmt.LOOKUP_HEADERS[table], lookups[table], crlf=crlf)
        sink.write(fmt.member_path(release_date, table), data)
        row_counts[table] = len(lookups[table])
        nul_counts[table] = data.count(b"\x00")
    sink.write(f"{root}/{fmt.COUNT_FILE}", fmt.count_txt_bytes(row_counts, crlf=crlf))
    sink.write(
        f"{root}/{fmt.SYNTHETIC_MARKER}",
        _synthetic_readme(seed, cases, release_date, eol),
    )
    sink.close()

    quirk_records = [
        {
            "kind": q.kind, "table": q.table, "file": fmt.member_path(release_date, q.table),
            "source_line": q.source_line, "key": q.key, "fields": q.fields,
            "expected": q.expected, "detail": q.detail,
        }
        for q in plan
    ] + lookup_quirks  # fmt: skip
    expected_load = {}
    for table, n in row_counts.items():
        recs = [q for q in quirk_records if q["table"] == table]
        repaired = sum(q["expected"] == "repaired" for q in recs)
        rejected = sum(q["expected"] == "rejected" for q in recs)
        expected_load[table] = {
            "count_txt_rows": n, "loaded_as_is": n - repaired - rejected, "repaired": repaired,
            "rejected": rejected, "nul_bytes": nul_counts[table],
        }  # fmt: skip

    truth = {
        "synthetic": True,
        "generator": "pipelines.sample.eoir",
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "cases": cases,
        "release_date": release_date.isoformat(),
        "release_folder": root,
        "release_id_hint": f"synthetic-{release_date:%Y-%m}",
        "line_endings": "CRLF" if crlf else "LF",
        "encoding": fmt.ENCODING,
        "compression": f"deflate level {level} (real releases use Deflate64)",
        "window": {
            "start": DEFAULT_WINDOW_START.isoformat(),
            "end": DEFAULT_WINDOW_END.isoformat(),
        },
        "pending_on": DEFAULT_PENDING_ON.isoformat(),
        "categories": list(CATEGORIES),
        "definitions": _definitions(),
        "counts": truth_acc.counts(),
        "model": _model_truth(world),
        "row_counts": row_counts,
        "expected_load": expected_load,
        "quirk_rule": (
            "quirks are placed only on inert cases (every proceeding completed before "
            f"{DEFAULT_PENDING_ON.isoformat()}), so no count in 'counts' and no model-cohort row "
            "depends on how the ingest treats them; lookup quirks (NUL) touch descriptions only."
        ),
        "quirks": quirk_records,
    }
    truth_path = out_dir / "truth.json"
    truth_path.write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return SampleRelease(
        path=sink.path, release_date=release_date, truth=truth, truth_path=truth_path
    )


def build_arg_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m pipelines.sample.eoir",
        description="Write a synthetic EOIR case-data release (zip + truth.json).",
    )
    p.add_argument("--cases", type=int, default=20000, help="number of cases (default 20000)")
    p.add_argument("--seed", type=int, default=20260401, help="random seed (default 20260401)")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--release-date", type=date.fromisoformat, default=date(2026, 4, 1))
    p.add_argument("--no-zip", action="store_true", help="write a folder instead of a zip")
    p.add_argument("--lf", action="store_true", help="LF line endings instead of CRLF")
    p.add_argument("--no-quirks", action="store_true", help="leave out the damaged rows")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_arg_parser().parse_args(argv)
    release = write_sample_release(
        args.out, cases=args.cases, seed=args.seed, release_date=args.release_date,
        zip=not args.no_zip, crlf=not args.lf, quirks=not args.no_quirks, progress=not args.quiet,
    )  # fmt: skip
    pd = release.truth["counts"]["pd_closures_in_window"]["total"]
    print(f"wrote {release.path} (SYNTHETIC, {args.cases} cases, {pd} PD closures in the window)")
    print(f"truth: {release.truth_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
