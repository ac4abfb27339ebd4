"""The charge-severity categories: the one list every stage imports.

Order and names follow docs/DECISIONS.md#charge-severity. Rank 1 is the most serious; the lead
charge of a proceeding is the charge with the lowest rank. The category strings are the values of
`severity_category` / `lead_charge_category` in the warehouse; the labels are what charts and tables
print.

`is_criminal` marks the categories that `any_criminal` counts: charges whose ground is a criminal
conviction or criminal conduct (INA 212(a)(2), 237(a)(2) and their predecessors). National security
/ terrorism grounds are mostly conduct- or membership-based and are kept apart, as TRAC does
("criminal", "national security", "terrorism" are separate TRAC groups;
docs/EOIR_FORMAT.md#charge-categories).
"""

from __future__ import annotations

from typing import NamedTuple


class SeverityCategory(NamedTuple):
    name: str
    rank: int
    label: str
    is_criminal: bool


SEVERITY_CATEGORIES: tuple[SeverityCategory, ...] = (
    SeverityCategory("national_security_terrorism", 1, "National security / terrorism", False),
    SeverityCategory("aggravated_felony", 2, "Aggravated felony", True),
    SeverityCategory("other_criminal", 3, "Other criminal", True),
    SeverityCategory("entry_without_inspection", 4, "Entry without inspection", False),
    SeverityCategory("other_immigration", 5, "Other immigration", False),
    SeverityCategory("miscellaneous", 6, "Miscellaneous", False),
)

CATEGORY_BY_NAME: dict[str, SeverityCategory] = {c.name: c for c in SEVERITY_CATEGORIES}
CATEGORY_NAMES: tuple[str, ...] = tuple(c.name for c in SEVERITY_CATEGORIES)

NATIONAL_SECURITY_TERRORISM = "national_security_terrorism"
AGGRAVATED_FELONY = "aggravated_felony"
OTHER_CRIMINAL = "other_criminal"
ENTRY_WITHOUT_INSPECTION = "entry_without_inspection"
OTHER_IMMIGRATION = "other_immigration"
MISCELLANEOUS = "miscellaneous"

# Where a charge's category came from (column `category_source`).
SOURCE_REFERENCE = "reference"  # a row of data/reference/charge_severity.csv
SOURCE_RULE = "rule"  # parseable code absent from the table: the citation-prefix rule
SOURCE_RELEASE_LOOKUP = "release_lookup"  # the release's criminal_flag/aggravate_felon changed it
SOURCE_UNKNOWN = "unknown"  # unparseable and not in the table: miscellaneous, and counted
CATEGORY_SOURCES: tuple[str, ...] = (
    SOURCE_REFERENCE,
    SOURCE_RULE,
    SOURCE_RELEASE_LOOKUP,
    SOURCE_UNKNOWN,
)


def rank_of(category: str) -> int:
    """Rank of a category name (1 = most serious); a KeyError names the valid values."""
    try:
        return CATEGORY_BY_NAME[category].rank
    except KeyError:
        raise KeyError(
            f"unknown severity category {category!r}; expected one of {', '.join(CATEGORY_NAMES)}"
        ) from None


def label_of(category: str) -> str:
    return CATEGORY_BY_NAME[category].label


# The two lead-charge groups the era model, the event study and the court table compare
# (docs/DECISIONS.md#models, the criminal-vs-immigration gap by era); national security and
# miscellaneous are left out of them.
LEAD_CHARGE_GROUPS: dict[str, str] = {
    "aggravated_felony": "criminal",
    "other_criminal": "criminal",
    "entry_without_inspection": "immigration",
    "other_immigration": "immigration",
}
