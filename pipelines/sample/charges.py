"""The charges of the synthetic release: lead-charge categories, the real EOIR charge codes
drawn for each, and the NTA charges every proceeding carries."""

from __future__ import annotations

import numpy as np

from pipelines.classify.categories import CATEGORY_NAMES
from pipelines.sample.draws import choice, choice_rows, letters

# --- lead-charge categories and the real charge codes drawn for each -----------------------
# Categories, most serious first (docs/DECISIONS.md#charge-severity); the lead charge is the most
# serious one. The list is pipelines.classify's, the one every stage imports.
CATEGORIES = CATEGORY_NAMES
NO_CHARGE = "no_charge"  # truth-count key for proceedings without a charge (CFR/RFR reviews)
NST, AF, OC, EWI, OI, MISC = range(6)
assert CATEGORIES[AF] == "aggravated_felony" and CATEGORIES[EWI] == "entry_without_inspection"
NO_LEAD = 6

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


def charge_vocabulary() -> tuple[
    tuple[str, ...],
    dict[tuple[int, int], np.ndarray],
    dict[tuple[int, int], np.ndarray],
    np.ndarray,
]:
    """The charge codes drawn (sorted), and per (pool, category) their vocabulary indices and
    weights, and the (pool, lead, category) weights of further charges."""
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
    return tuple(vocab), pool_codes, pool_w, extra_w


def draw_charges(
    rng: np.random.Generator,
    pool: np.ndarray,
    lead: np.ndarray,
    k: np.ndarray,
    pool_codes: dict[tuple[int, int], np.ndarray],
    pool_w: dict[tuple[int, int], np.ndarray],
    extra_w: np.ndarray,
) -> np.ndarray:
    """(n, 4) charge-vocab indices (-1 unused): the lead code, then less serious (or same-pool,
    distinct) codes, in random order so the lead is not always the first row. `pool_codes`,
    `pool_w` and `extra_w` are `charge_vocabulary()`'s."""
    n = len(pool)
    codes = np.full((n, 4), -1, dtype=np.int64)
    cats = np.full((n, 4), -1, dtype=np.int64)
    cats[:, 0] = np.where(k > 0, lead, -1)
    for j in range(1, 4):
        rows = np.flatnonzero(k > j)
        cats[rows, j] = choice_rows(rng, extra_w[pool[rows], lead[rows]])
    for j in range(4):
        for (p, cat), vocab_idx in pool_codes.items():
            rows = np.flatnonzero((pool == p) & (cats[:, j] == cat))
            if len(rows) == 0:
                continue
            pick = choice(rng, len(rows), pool_w[p, cat])
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


def gen_charges(rng, case, proc) -> dict[str, np.ndarray]:
    """Every proceeding repeats its case's NTA charges (docs/EOIR_FORMAT.md#cases-and-proceedings:
    the charges table likely reflects the NTA's original charges)."""
    k = case["k"][proc["case"]]
    p_idx = np.repeat(np.arange(len(k)), k)
    first = np.repeat(np.cumsum(k) - k, k)
    slot = np.arange(len(p_idx)) - first
    code = case["codes"][proc["case"][p_idx], slot]
    # CHG_STATUS values seen: N, O, S, W (docs/EOIR_FORMAT.md#other-code-tables; meanings not
    # public).
    status = letters("S WNO")[choice(rng, len(p_idx), (0.60, 0.25, 0.08, 0.05, 0.02))]
    status[status == ord(" ")] = 0
    return {"proc": p_idx, "code": code, "status": status}
