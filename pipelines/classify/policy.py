"""Enforcement-policy dates and eras: the one list that charts, models and reports import.

Each date is the day a DHS/ICE memo was signed or a programme began; the eras used by the
policy-era interaction in the models (docs/DECISIONS.md#models: Morton 2011-2014, Johnson 2014-2017,
2017-2021, Mayorkas 2021-) are derived from the same list, so a chart's vertical rules and a
model's era boundaries can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class PolicyDate:
    on: date
    short_label: str  # fits above a vertical rule at journal-column width
    description: str
    # The era this date opens, if any (memos that refine an era's priorities open none).
    opens_era: str | None = None


POLICY_DATES: tuple[PolicyDate, ...] = (
    PolicyDate(
        date(2010, 6, 30),
        "Morton I",
        "ICE Director Morton, 'Civil Immigration Enforcement: Priorities for the Apprehension, "
        "Detention, and Removal of Aliens' (first priorities memo).",
    ),
    PolicyDate(
        date(2011, 3, 2),
        "Morton II",
        "Morton reissues the civil enforcement priorities memo.",
    ),
    PolicyDate(
        date(2011, 6, 17),
        "Morton PD",
        "Morton, 'Exercising Prosecutorial Discretion Consistent with the Civil Immigration "
        "Enforcement Priorities of the Agency'.",
        opens_era="Morton",
    ),
    PolicyDate(
        date(2011, 11, 17),
        "Case review",
        "ICE begins the nationwide case-by-case review of the pending immigration-court docket.",
    ),
    PolicyDate(
        date(2014, 11, 20),
        "Johnson",
        "DHS Secretary Johnson, 'Policies for the Apprehension, Detention and Removal of "
        "Undocumented Immigrants'.",
        opens_era="Johnson",
    ),
    PolicyDate(
        date(2017, 2, 20),
        "Rescission",
        "DHS Secretary Kelly, 'Enforcement of the Immigration Laws to Serve the National "
        "Interest', rescinding the earlier priorities.",
        opens_era="2017-2021",
    ),
    PolicyDate(
        date(2021, 9, 30),
        "Mayorkas",
        "DHS Secretary Mayorkas, 'Guidelines for the Enforcement of Civil Immigration Law'.",
        opens_era="Mayorkas",
    ),
)

PRE_POLICY_ERA = "Pre-Morton"

# (era name, first day) in time order; the last era is open-ended.
POLICY_ERAS: tuple[tuple[str, date], ...] = ((PRE_POLICY_ERA, date.min),) + tuple(
    (p.opens_era, p.on) for p in POLICY_DATES if p.opens_era
)


def era_of(day: date) -> str:
    """The policy era in force on `day` (an era starts on its memo's date)."""
    current = PRE_POLICY_ERA
    for name, start in POLICY_ERAS:
        if day >= start:
            current = name
    return current
