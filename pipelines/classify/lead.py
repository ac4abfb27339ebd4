"""The lead charge of a proceeding: the rule, configurable, in Python and as SQL ordering.

TRAC does not publish its rule for the "lead charge" of an NTA with several charges
(docs/EOIR_FORMAT.md#charge-categories, open question 5). Ours, documented as an assumption:

- `most_serious` (default): the charge whose severity category ranks highest
  (`pipelines.classify.categories`, rank 1 = national security / terrorism); ties go to the
  charge entered first, i.e. the lowest IDNPRCDCHG.
- `first_charged`: the first charge entered (lowest IDNPRCDCHG), whatever its category, the
  order in which deportationdata/eoir lists a case's charges.

Every charge counts, whatever its CHG_STATUS (its meanings are unverified,
docs/EOIR_FORMAT.md#other-code-tables); a charge with an unknown code ranks as miscellaneous. A
proceeding with no charge has no lead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pipelines.classify.severity import classify_charge

MOST_SERIOUS = "most_serious"
FIRST_CHARGED = "first_charged"
LEAD_CHARGE_RULES = (MOST_SERIOUS, FIRST_CHARGED)
DEFAULT_LEAD_CHARGE_RULE = MOST_SERIOUS


def _check_rule(rule: str) -> None:
    if rule not in LEAD_CHARGE_RULES:
        raise ValueError(
            f"unknown lead-charge rule {rule!r}; expected one of {', '.join(LEAD_CHARGE_RULES)}"
        )


def lead_charge_index(
    codes: Sequence[str | None],
    rule: str = DEFAULT_LEAD_CHARGE_RULE,
    ranks: Mapping[str | None, int] | None = None,
) -> int | None:
    """Position in `codes` (given in IDNPRCDCHG order) of the lead charge; None if empty.

    `ranks` maps a code to its severity rank when the caller has them already (for example after
    applying a release's lookup flags); otherwise each code is classified here.
    """
    _check_rule(rule)
    if not codes:
        return None
    if rule == FIRST_CHARGED:
        return 0

    def rank(code: str | None) -> int:
        if ranks is not None and code in ranks:
            return ranks[code]
        return classify_charge(code).severity_rank

    # min() keeps the first of equal keys, which is the lowest IDNPRCDCHG.
    return min(range(len(codes)), key=lambda i: rank(codes[i]))


def lead_charge(
    codes: Sequence[str | None],
    rule: str = DEFAULT_LEAD_CHARGE_RULE,
    ranks: Mapping[str | None, int] | None = None,
) -> str | None:
    """The lead charge (as given in `codes`, which must be in IDNPRCDCHG order); None if empty."""
    i = lead_charge_index(codes, rule, ranks)
    return None if i is None else codes[i]


def lead_charge_category(
    codes: Sequence[str | None],
    rule: str = DEFAULT_LEAD_CHARGE_RULE,
    ranks: Mapping[str | None, int] | None = None,
) -> str | None:
    i = lead_charge_index(codes, rule, ranks)
    return None if i is None else classify_charge(codes[i]).severity_category


def lead_charge_order_sql(
    rule: str = DEFAULT_LEAD_CHARGE_RULE,
    rank_col: str = "severity_rank",
    order_col: str = "idnprcdchg",
) -> str:
    """ORDER BY key for DuckDB's `first(x ORDER BY ...)` that picks the same lead charge.

    e.g. `first(charge_code ORDER BY {lead_charge_order_sql()})` grouped by idnproceeding.
    """
    _check_rule(rule)
    return order_col if rule == FIRST_CHARGED else f"{rank_col}, {order_col}"
