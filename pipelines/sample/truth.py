"""What the generator knows by construction: counts, definitions and the PD model's truth."""

from __future__ import annotations

import numpy as np

from pipelines.sample.charges import CATEGORIES, NO_CHARGE
from pipelines.sample.draws import NEVER, day_number, letters
from pipelines.sample.population import (
    CATEGORY_EFFECT,
    COURT_EFFECT_SD,
    DETAINED_EFFECT,
    INTERCEPT_BY_ERA,
    PD_ERAS,
    PD_IN_COURT_SHARE,
    PD_TERMINATED_SHARE,
    REPRESENTED_EFFECT,
    Chunk,
    World,
)
from pipelines.settings import DEFAULT_WINDOW_END, DEFAULT_WINDOW_START


class Truth:
    """Counts by construction, accumulated chunk by chunk from the generated proceedings."""

    def __init__(self, world: World):
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

    def add(self, chunk: Chunk) -> None:
        p, c = chunk.proc, chunk.case
        cat = c["lead"][p["case"]]
        ws, we = day_number(DEFAULT_WINDOW_START), day_number(DEFAULT_WINDOW_END)
        D = self.world.pending_day
        done = p["comp"] < NEVER
        in_window = done & (p["comp"] >= ws) & (p["comp"] <= we)
        transfer = np.isin(p["oth"], letters("CT"))
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


def definitions() -> dict[str, str]:
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


def model_truth(world: World) -> dict:
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
