"""Severity category of a charge: reference table first, citation-prefix rule second, never silent.

Order of decision for one charge spelling (`classify_charge`):
1. `normalize_charge` gives the canonical code. A code with a row in
   data/reference/charge_severity.csv takes that row's category and legal basis
   (`category_source = "reference"`, `is_known_code = True`).
2. A parseable code absent from the table (an unseen `237a02Ex`, say) takes the category of the
   longest matching citation prefix in data/reference/charge_prefix_rules.csv (`PREFIX_RULES`;
   `category_source = "rule"`).
3. An unparseable or empty spelling is `miscellaneous` with `category_source = "unknown"` and no
   canonical code; the unknown-code asset check counts these.
4. Where a release's tbllookupCharges has `criminal_flag` / `aggravate_felon`,
   `reconcile_with_release_flags` may raise the category (`category_source = "release_lookup"`)
   and reports every disagreement with the table.

The rules and the table are kept consistent by tests/classify: every table code that the
grammar parses gets the same category from the rules, so the table is the reviewable list and the
rules only extend it to spellings the lookup does not have.

Reading of the statute (the table's notes give the evidence row by row):
- INA 212(a) / 237(a): current numbering. 241(a) was the deportation section until IIRIRA moved it
  to 237(a) on 1 April 1997; codes with a subparagraph use the Immigration Act of 1990 numbering
  (241a01B "Entered without inspection", 241a02Aiii "Convicted of Aggravated Felony"), bare
  paragraphs the 1952 Act numbering (241a04 "Crime involving moral turpitude", 241a11 "Convicted of
  a controlled substance violation" in EOIR's lookup; the 1990 Act has no 241(a)(7)-(19)). So bare
  `241a02` is the 1952 Act's entry without inspection (Matter of Ruis, 18 I&N Dec. 320 (BIA 1982)).
  212(a)(11)-(33) exist only in the 1952 Act numbering.
- National security / terrorism: 212(a)(3), 237(a)(4), 1990-numbering 241(a)(4), their 1952-Act
  predecessors, and the two charges TRAC's own charge table counts as national security outside those
  paragraphs: 237(a)(2)(D)(i) and 237(a)(3)(B)(i) (TRAC report 260 charge detail,
  trac.syr.edu/immigration/reports/260/include/detailchg.html), with their 241 analogues.
- Aggravated felony: 237(a)(2)(A)(iii), 241(a)(2)(A)(iii), and 1952-Act 241(a)(4)(B) (`241a4B`,
  added by the Anti-Drug Abuse Act of 1988 §7344).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

import polars as pl

from pipelines.classify.categories import (
    AGGRAVATED_FELONY,
    ENTRY_WITHOUT_INSPECTION,
    MISCELLANEOUS,
    NATIONAL_SECURITY_TERRORISM,
    OTHER_CRIMINAL,
    OTHER_IMMIGRATION,
    SOURCE_REFERENCE,
    SOURCE_RELEASE_LOOKUP,
    SOURCE_RULE,
    SOURCE_UNKNOWN,
    rank_of,
)
from pipelines.classify.charges import NormalizedCharge, normalize_charge
from pipelines.classify.reference import PrefixRule, charge_severity_table, prefix_rules

NS, AF, CRIM, EWI, IMM, MISC = (
    NATIONAL_SECURITY_TERRORISM,
    AGGRAVATED_FELONY,
    OTHER_CRIMINAL,
    ENTRY_WITHOUT_INSPECTION,
    OTHER_IMMIGRATION,
    MISCELLANEOUS,
)

# The rules are data (data/reference/charge_prefix_rules.csv: id, pattern, category, legal basis,
# source); charge_severity.csv rows name the rule they follow by `rule_id`.
PREFIX_RULES: tuple[PrefixRule, ...] = prefix_rules()


def match_rule(citation: str) -> PrefixRule | None:
    """The most specific rule for a citation: the longest pattern; exact beats prefix."""
    best: PrefixRule | None = None
    best_key = (-1, False)
    for rule in PREFIX_RULES:
        if rule.pattern.endswith("*"):
            stem, exact = rule.pattern[:-1], False
            hit = citation.startswith(stem)
        else:
            stem, exact = rule.pattern, True
            hit = citation == stem
        if hit and (len(stem), exact) > best_key:
            best, best_key = rule, (len(stem), exact)
    return best


class ChargeClassification(NamedTuple):
    charge_code: str | None
    citation: str | None
    severity_category: str
    severity_rank: int
    legal_basis: str
    category_source: str
    is_known_code: bool


class Severity(NamedTuple):
    category: str
    rank: int
    legal_basis: str


# Paragraphs that exist in some version of each section's subsection (a): 212(a)(1)-(33) (1952
# Act numbering; (1)-(10) since 1991), 237(a)(1)-(7), former 241(a)(1)-(19) (1952 Act). A code
# citing another paragraph parses but names no ground, so it is counted as unknown.
GROUND_PARAGRAPHS: dict[str, range] = {"212": range(1, 34), "237": range(1, 8), "241": range(1, 20)}

UNPARSEABLE_BASIS = (
    "unparseable charge code: not an INA citation in EOIR's format and not a spelling listed in "
    "data/reference/charge_severity.csv; counted as unknown"
)
EMPTY_BASIS = "empty charge code; counted as unknown"


def classify_normalized(
    norm: NormalizedCharge | None, *, empty: bool = False
) -> ChargeClassification:
    if norm is None:
        return ChargeClassification(
            None,
            None,
            MISC,
            rank_of(MISC),
            EMPTY_BASIS if empty else UNPARSEABLE_BASIS,
            SOURCE_UNKNOWN,
            False,
        )
    row = charge_severity_table().get(norm.code)
    if row is not None:
        return ChargeClassification(
            norm.code,
            row.citation,
            row.category,
            rank_of(row.category),
            row.legal_basis,
            SOURCE_REFERENCE,
            True,
        )
    valid = GROUND_PARAGRAPHS.get(norm.section or "")
    if valid is not None and norm.paragraph is None:
        return ChargeClassification(
            norm.code,
            norm.citation,
            MISC,
            rank_of(MISC),
            f"{norm.citation} without a paragraph names no ground of removability; counted as unknown",
            SOURCE_UNKNOWN,
            False,
        )
    if valid is not None and norm.paragraph not in valid:
        return ChargeClassification(
            norm.code,
            norm.citation,
            MISC,
            rank_of(MISC),
            f"{norm.citation}: no such paragraph in any version of INA {norm.section}(a), so the "
            "code names no ground; counted as unknown",
            SOURCE_UNKNOWN,
            False,
        )
    rule = match_rule(norm.citation)
    if rule is None:  # cannot happen for parser output ("INA *" catches all), kept for safety
        return ChargeClassification(
            norm.code, norm.citation, MISC, rank_of(MISC), UNPARSEABLE_BASIS, SOURCE_UNKNOWN, False
        )
    return ChargeClassification(
        norm.code,
        norm.citation,
        rule.category,
        rank_of(rule.category),
        f"{rule.legal_basis} [by citation rule: {norm.code!r} has no row in charge_severity.csv]",
        SOURCE_RULE,
        False,
    )


def classify_charge(raw: str | None) -> ChargeClassification:
    """Category of one raw charge spelling (see the module docstring for the order of decision)."""
    empty = raw is None or not raw.replace("\x00", "").strip()
    return classify_normalized(normalize_charge(raw), empty=empty)


def severity_of(code: str | None) -> Severity:
    """(category, rank, legal_basis) of a charge code in any spelling."""
    c = classify_charge(code)
    return Severity(c.severity_category, c.severity_rank, c.legal_basis)


# --------------------------------------------------------------------------------------------
# Release lookup flags (tbllookupCharges.criminal_flag / aggravate_felon)
# --------------------------------------------------------------------------------------------


class FlagDisagreement(NamedTuple):
    charge_code: str | None
    table_category: str
    criminal_flag: bool | None
    aggravate_felon: bool | None
    resolved_category: str
    resolution: str  # "release_flag_applied" | "table_kept"
    reason: str


class Reconciliation(NamedTuple):
    classification: ChargeClassification
    disagreement: FlagDisagreement | None


_CRIMINAL_OR_WORSE = frozenset({NS, AF, CRIM})


def _flag(value: object) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    s = str(value).strip().upper()
    if s in ("1", "TRUE", "T", "Y", "YES"):
        return True
    if s in ("0", "FALSE", "F", "N", "NO"):
        return False
    return None


def reconcile_with_release_flags(
    code: str | None, criminal_flag: object, aggravate_felon: object
) -> Reconciliation:
    """Apply a release's charge-lookup flags to the table's category; report any disagreement.

    The flags are EOIR's own statement about a code, so a flag that says *more* serious wins:
    - `aggravate_felon = 1` -> aggravated_felony, unless the table says national security /
      terrorism (more serious; kept, and reported).
    - `criminal_flag = 1` -> at least other_criminal (entry without inspection, other immigration
      and miscellaneous are raised to other_criminal).
    A flag that says *less* serious does not lower the table's category, because the table's
    category rests on the statute the code cites (a 237(a)(2) charge is a criminal ground whatever
    the flag says) and a 0 may be a default rather than a finding; the disagreement is reported so a
    reader can see it:
    - `criminal_flag = 0` on a code the table calls aggravated_felony or other_criminal;
    - `aggravate_felon = 0` on a code the table calls aggravated_felony;
    - `aggravate_felon = 1` with `criminal_flag = 0` (contradictory flags; aggravate_felon wins).
    Missing flags (the release lacks the columns, or NULL) change nothing.
    """
    base = classify_charge(code)
    crim, agg = _flag(criminal_flag), _flag(aggravate_felon)
    table_cat = base.severity_category
    new_cat = table_cat
    applied: list[str] = []
    kept: list[str] = []
    if agg is True:
        if table_cat == NS:
            kept.append("aggravate_felon=1 on a national security / terrorism code (more serious)")
        elif table_cat != AF:
            new_cat = AF
            applied.append(f"aggravate_felon=1 raises {table_cat} to {AF}")
        if crim is False:
            kept.append("contradictory flags: aggravate_felon=1 with criminal_flag=0")
    if crim is True and new_cat not in _CRIMINAL_OR_WORSE:
        applied.append(f"criminal_flag=1 raises {new_cat} to {CRIM}")
        new_cat = CRIM
    if crim is False and agg is not True and table_cat in (AF, CRIM):
        kept.append(f"criminal_flag=0 on a code the table calls {table_cat}")
    if agg is False and table_cat == AF:
        kept.append("aggravate_felon=0 on a code the table calls aggravated_felony")

    classification = base
    if new_cat != table_cat:
        classification = base._replace(
            severity_category=new_cat,
            severity_rank=rank_of(new_cat),
            legal_basis=(
                f"release tbllookupCharges flags (criminal_flag={_fmt(crim)}, "
                f"aggravate_felon={_fmt(agg)}) raise the table's {table_cat}; "
                f"table basis: {base.legal_basis}"
            ),
            category_source=SOURCE_RELEASE_LOOKUP,
        )
    disagreement = None
    if applied or kept:
        disagreement = FlagDisagreement(
            charge_code=base.charge_code,
            table_category=table_cat,
            criminal_flag=crim,
            aggravate_felon=agg,
            resolved_category=new_cat,
            resolution="release_flag_applied" if applied else "table_kept",
            reason="; ".join(applied + kept),
        )
    return Reconciliation(classification, disagreement)


def _fmt(flag: bool | None) -> str:
    return "NULL" if flag is None else str(int(flag))


def release_flags_by_code(
    release_lookup: pl.DataFrame,
) -> dict[str, tuple[bool | None, bool | None]]:
    """{canonical code: (criminal_flag, aggravate_felon)} from a release's charge lookup.

    `release_lookup` has `charge_code` (the lookup's raw spelling) and, when the release has them,
    `criminal_flag` and `aggravate_felon` (staging.lookup_charges). Several raw spellings can share
    a canonical code; a flag is 1 if any of them says 1, 0 if all present values say 0.
    """
    cols = set(release_lookup.columns)
    out: dict[str, tuple[bool | None, bool | None]] = {}
    for row in release_lookup.iter_rows(named=True):
        norm = normalize_charge(row["charge_code"])
        if norm is None:
            continue
        crim = _flag(row.get("criminal_flag")) if "criminal_flag" in cols else None
        agg = _flag(row.get("aggravate_felon")) if "aggravate_felon" in cols else None
        prev_c, prev_a = out.get(norm.code, (None, None))
        out[norm.code] = (_any(prev_c, crim), _any(prev_a, agg))
    return out


def _any(a: bool | None, b: bool | None) -> bool | None:
    if a is None:
        return b
    if b is None:
        return a
    return a or b


DISAGREEMENT_SCHEMA = {
    "charge_code": pl.String,
    "table_category": pl.String,
    "criminal_flag": pl.Boolean,
    "aggravate_felon": pl.Boolean,
    "resolved_category": pl.String,
    "resolution": pl.String,
    "reason": pl.String,
}


def release_flag_disagreements(release_lookup: pl.DataFrame) -> pl.DataFrame:
    """Every code where the release's flags disagree with the table, and how it was resolved."""
    rows = []
    for code, (crim, agg) in sorted(release_flags_by_code(release_lookup).items()):
        d = reconcile_with_release_flags(code, crim, agg).disagreement
        if d is not None:
            rows.append(d._asdict())
    return pl.DataFrame(rows, schema=DISAGREEMENT_SCHEMA)


# --------------------------------------------------------------------------------------------
# The SQL-facing map over distinct raw spellings
# --------------------------------------------------------------------------------------------

CHARGE_CODE_MAP_SCHEMA = {
    "charge_raw": pl.String,
    "charge_code": pl.String,
    "citation": pl.String,
    "severity_category": pl.String,
    "severity_rank": pl.Int32,
    "legal_basis": pl.String,
    "category_source": pl.String,
    "is_known_code": pl.Boolean,
}


def charge_code_map(
    raw_codes: Iterable[str | None], release_lookup: pl.DataFrame | None = None
) -> pl.DataFrame:
    """One row per distinct raw spelling: canonical code, citation and category.

    Run it over `SELECT DISTINCT charge_raw` (about 571 values in a full release) and join the
    result back in SQL on `charge_raw` (use `IS NOT DISTINCT FROM` if NULL spellings matter: a
    NULL or empty spelling gets a row, category miscellaneous, source unknown). With
    `release_lookup` (staging.lookup_charges: charge_code, criminal_flag, aggravate_felon) the
    release's flags are applied by `reconcile_with_release_flags`.
    """
    flags: Mapping[str, tuple[bool | None, bool | None]] = (
        release_flags_by_code(release_lookup) if release_lookup is not None else {}
    )
    seen: set[str | None] = set()
    rows = []
    for raw in raw_codes:
        if raw in seen:
            continue
        seen.add(raw)
        c = classify_charge(raw)
        if c.charge_code is not None and c.charge_code in flags:
            crim, agg = flags[c.charge_code]
            c = reconcile_with_release_flags(raw, crim, agg).classification
        rows.append({"charge_raw": raw, **c._asdict()})
    return pl.DataFrame(rows, schema=CHARGE_CODE_MAP_SCHEMA)
