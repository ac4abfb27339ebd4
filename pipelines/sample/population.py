"""The synthetic population: cases, their proceedings, representation and case priorities.

Everything fixed for a seed (courts with their effects, judges, nationalities, the charge
vocabulary) is the `World`; cases are generated in chunks of CHUNK_CASES, each from its own
seeded stream (`gen_chunk`), so a chunk is the same whichever table is being written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from pipelines.classify.policy import POLICY_DATES
from pipelines.sample import codes as ref
from pipelines.sample.charges import (
    AF,
    CATEGORIES,
    CHARGE_POOLS,
    EWI,
    LEAD_SHARES,
    N_CHARGES_SHARES,
    NO_LEAD,
    NST,
    OC,
    POOLS,
    charge_vocabulary,
    draw_charges,
    gen_charges,
)
from pipelines.sample.draws import NEVER, NULL_DAY, choice, day_number, letters
from pipelines.settings import DEFAULT_PENDING_ON, DEFAULT_WINDOW_START

CHUNK_CASES = 50_000

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
# closures are sometimes reopened (docs/EOIR_FORMAT.md#cases-and-proceedings: new IDNPROCEEDING
# after change of venue or reopening after administrative closure).
ADMIN_OUTCOMES = {"C": 0.45, "T": 0.15, "A": 0.20, "B": 0.06, "O": 0.06, "P": 0.04, "F": 0.04}
ADMIN_SHARE = {"RMV": 0.22, "CFR": 0.05, "RFR": 0.05}
ADMIN_SHARE_DEFAULT = 0.15
REMOVAL_ORDER_CODES = ("X", "D", "E")  # DEPORTED_1 is set, absentia possible
REOPEN_SHARE = {"admin_closed": 0.25, "pd_closed": 0.12}
MAX_PROCEEDINGS = 3

# --- the PD model (the truth the models must recover) -------------------------------------------
# Eras of PD closure (COMP_DATE), named and dated as pipelines.classify.policy's eras: PD closures
# begin with the nationwide case review (2011-11-17) in the Morton era; the Johnson memo opens the
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

ID_BASES = {
    "case": 5_100_000,
    "proc": 12_000_000,
    "chg": 30_000_000,
    "rep": 40_000_000,
    "pri": 100_001,
}


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


# --- the world: everything fixed for a seed, shared by all chunks ----------------------------


@dataclass
class World:
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


def build_world(seed: int, n_cases: int, release_date: date) -> World:
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
    vocab, pool_codes, pool_w, extra_w = charge_vocabulary()
    return World(
        seed=seed, n_cases=n_cases, release_day=day_number(release_date),
        pending_day=day_number(DEFAULT_PENDING_ON), courts=courts, court_u=court_u,
        court_w_free=w / w.sum(), court_w_det=w_det / w_det.sum(), judges=tuple(judges),
        judge_start=start, judge_count=count, nat_codes=nat_codes, nat_w=nat_w / nat_w.sum(),
        nat_lang=nat_lang, lang_codes=langs, charge_vocab=tuple(vocab), pool_codes=pool_codes,
        pool_w=pool_w, extra_w=extra_w,
    )  # fmt: skip


# --- one chunk of cases with all their rows ---------------------------------------------------


@dataclass
class Chunk:
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


def gen_chunk(world: World, c: int) -> Chunk:
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
    osc = day_number(OSC_FIRST) + np.floor(
        x * (day_number(OSC_LAST) - day_number(OSC_FIRST) + 1)
    ).astype(np.int64)
    osc[osc == D] += 1
    inp = osc + np.minimum(rng.geometric(1 / 12, n) - 1, 90)
    # No first proceeding straddles the pending date (OSC before it, INPUT after): with that, the
    # pending docket is the same whether counted from OSC_DATE or INPUT_DATE for first proceedings.
    straddle = (osc < D) & (inp >= D)
    inp[straddle] = osc[straddle]
    case["osc"], case["inp"] = osc, inp

    ctype = choice(rng, n, [s for s, _ in CASE_TYPES.values()])
    pool_of_type = np.array([POOLS.index(p) if p else -1 for _, p in CASE_TYPES.values()])
    pool = pool_of_type[ctype]
    lead = np.full(n, NO_LEAD, dtype=np.int64)
    for p, name in enumerate(POOLS):
        rows = np.flatnonzero(pool == p)
        lead[rows] = choice(rng, len(rows), LEAD_SHARES[name])
    has_ch = pool >= 0
    k = np.where(has_ch, 1 + choice(rng, n, N_CHARGES_SHARES), 0)
    codes = draw_charges(rng, pool, lead, k, world.pool_codes, world.pool_w, world.extra_w)
    case.update(ctype=ctype, lead=lead, k=k, codes=codes)

    case["nat"] = choice(rng, n, world.nat_w)
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
    court_free = choice(rng, n, world.court_w_free)
    court_det = choice(rng, n, world.court_w_det)
    court0 = np.where(detained0, court_det, court_free)
    case["court0"] = court0
    case["site_type"] = np.where(rng.random(n) < 0.8, ord("M"), 0)
    case["asy_type"] = np.array([ord("E"), ord("I"), 0])[choice(rng, n, (0.05, 0.05, 0.90))]

    proc = _gen_proceedings(world, rng, case, cust0, court0, has_ch)
    chg = gen_charges(rng, case, proc)
    rep = _gen_reps(world, rng, case, proc)
    pri = _gen_priorities(rng, case)
    _summarize_cases(world, rng, case, proc, rep, pri)
    return Chunk(c, case, proc, chg, rep, pri)


def _gen_proceedings(world: World, rng, case, cust0, court0, has_ch) -> dict[str, np.ndarray]:
    """The chain of proceedings of every case: a change of venue or transfer opens the next at
    another court the same day; an administrative or PD closure is sometimes reopened later."""
    D = world.pending_day
    release = world.release_day
    pd_start, pd_end = day_number(PD_ERAS[0][1]), day_number(PD_ERAS[-1][2])
    johnson_start = day_number(PD_ERAS[1][1])
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
            dec[rows] = letters(outs)[choice(rng, len(rows), list(outs.values()))]
            rows = np.flatnonzero(admin & (ct == t_idx))
            allowed = {
                c: w for c, w in ADMIN_OUTCOMES.items() if c in ref.valid_codes(t, "OTHER_COMP")
            }
            oth[rows] = letters(allowed)[choice(rng, len(rows), list(allowed.values()))]
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
        alt = choice(rng, m, world.court_w_free)
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


def _gen_reps(world: World, rng, case, proc) -> dict[str, np.ndarray]:
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
    eligible = case["inp"] >= day_number(PRIORITY_START)
    has = eligible & (rng.random(n) < PRIORITY_SHARE)
    code = choice(rng, n, list(PRIORITY_CODES.values()))
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


def _summarize_cases(world: World, rng, case, proc, rep, pri) -> None:
    """Case-level fields that follow the latest proceeding, and the inert flag for quirks."""
    n = len(case["g"])
    nprocs = np.bincount(proc["case"], minlength=n)
    first = np.cumsum(nprocs) - nprocs
    last = first + nprocs - 1
    case["first_proc"], case["last_proc"] = first, last
    max_comp = np.maximum.reduceat(proc["comp"], first)
    # Inert: every proceeding completed before the pending date (so before the window too).
    case["inert"] = max_comp < min(world.pending_day, day_number(DEFAULT_WINDOW_START))
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
