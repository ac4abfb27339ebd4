"""Real EOIR code values for the synthetic release, from the project's tables in data/reference/.

Every code the generator writes (courts, judges, nationalities, languages, case types, decision
codes, charge codes, custody, case priorities) comes from here, and the release's `Lookup/`
tables are built from the same rows laid out in the 2026-04 headers
(docs/EOIR_FORMAT.md#lookup-tables). The tables, each row with its source named:

- data/reference/eoir_lookup_codes.csv: (lookup, code, description) for tbllookupCharges (the 252
  codes of the 2025 release in EOIR's own spellings, space padding kept), tblLookupCaseType,
  tblLookupCustodyStatus, tblLookup_CasePriority, tblLanguage, tblLookupAlienNat, and the active
  judge codes of tblLookupJudge;
- data/reference/eoir_base_cities.csv: the immigration courts with their city and state;
- data/reference/eoir_nationalities.csv: NAT codes with name, country and NACARA flag;
- data/reference/court_decisions.csv: DEC_CODE / OTHER_COMP codes keyed on case type and field.

Columns whose real values no public source shows are left empty or filled as documented per
builder below.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pipelines.settings import REFERENCE_DIR

LOOKUP_CODES_CSV = REFERENCE_DIR / "eoir_lookup_codes.csv"
BASE_CITIES_CSV = REFERENCE_DIR / "eoir_base_cities.csv"
NATIONALITIES_CSV = REFERENCE_DIR / "eoir_nationalities.csv"
COURT_DECISIONS_CSV = REFERENCE_DIR / "court_decisions.csv"

# Audit timestamp for lookup rows: the real lookup `datCreatedOn` `2003-08-07 00:00:00.000` seen
# in the 2026-04 files (docs/EOIR_FORMAT.md#dates-times-booleans, [DK]).
LOOKUP_CREATED_ON = "2003-08-07 00:00:00.000"

# Case types with a charging document, whose DEC_CODE `I` is a PD termination
# (docs/EOIR_FORMAT.md#pd-closures-in-the-data).
PD_TERMINATION_CASE_TYPES = ("RMV", "DEP", "EXC", "REC")

# The synthetic docket runs 2008-2016, so it draws courts and nationalities from the codes the
# c.2014 tables list; codes first listed in 2025 appear in the lookups only.
DRAWN_FROM = "c.2014"


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@cache
def _lookup_codes() -> dict[str, dict[str, str]]:
    """lookup -> {code: description}, in the table's order (which fixes the lookup ids)."""
    out: dict[str, dict[str, str]] = {}
    for row in _rows(LOOKUP_CODES_CSV):
        out.setdefault(row["lookup"], {})[row["code"]] = row["description"]
    return out


def _codes(lookup: str) -> dict[str, str]:
    return _lookup_codes()[lookup]


# --- charges ---------------------------------------------------------------------------------


def charge_descriptions() -> dict[str, str]:
    """The 252 real tbllookupCharges codes (EOIR spellings, padding kept) -> description."""
    return _codes("tbllookupCharges")


_PUNCT = re.compile(r"[()\s]")


def statutory_flags(code: str) -> tuple[str, str]:
    """(criminal_flag, aggravate_felon) for a charge code, from its statutory section.

    The real tbllookupCharges has these columns but no public source shows their values
    (docs/EOIR_FORMAT.md#charge-codes). They are filled here from the INA section alone:
    237(a)(2)(A)(iii) and the legacy 241(a)(2)(A)(iii) are the aggravated-felony grounds
    (aggravate_felon 1); every 212(a)(2), 237(a)(2) and 241(a)(2) ground is criminal
    (criminal_flag 1). Punctuated junk spellings such as `237(a)(02)(A)(i  )(I  )` are read after
    dropping brackets and spaces.
    """
    compact = _PUNCT.sub("", code)
    # Any subsection letter: EOIR's own lookup has the keying error `237s02AiI` for 237(a)(2).
    m = re.match(r"^(212|237|241)[a-z]0?(\d+)(.*)$", compact)
    if not m or m.group(2) != "2":
        return "0", "0"
    aggravated = m.group(1) in ("237", "241") and m.group(3) == "Aiii"
    return "1", ("1" if aggravated else "0")


def _applicable_case_types(code: str) -> tuple[str, str, str]:
    # Not public either: derived from the section (212 inadmissibility grounds charge removal
    # and legacy exclusion cases; 237 removal; 241 legacy deportation; 215.3 departure control).
    compact = _PUNCT.sub("", code)
    if compact.startswith("2153"):
        return "DCC", "", ""
    if compact.startswith("212"):
        return "RMV", "EXC", ""
    if compact.startswith("237"):
        return "RMV", "", ""
    if compact.startswith("241"):
        return "DEP", "", ""
    return "", "", ""


def lookup_charges_rows() -> list[list[str]]:
    """tbllookupCharges rows (2026-04 layout) for all 252 real codes.

    strCodeString's real content is unknown publicly and is left empty.
    """
    rows = []
    for i, (code, desc) in enumerate(charge_descriptions().items(), start=1):
        crim, agg = statutory_flags(code)
        rows.append(
            [str(i), code, "", desc, *_applicable_case_types(code), crim, agg]
            + [LOOKUP_CREATED_ON, "", "1"]
        )
    return rows


# --- court decisions -------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    case_type: str
    code: str
    field: str  # "DEC_CODE" (strDecType C) or "OTHER_COMP" (strDecType O)
    description: str


@cache
def court_decisions() -> tuple[Decision, ...]:
    """tblLookupCourtDecision rows: TRAC's c.2014 table plus the later `M` code (its field and
    case types assumed as for `Y`; docs/EOIR_FORMAT.md#court-decision-codes)."""
    out = [
        Decision(r["case_type"], r["code"], r["field"], r["description"])
        for r in _rows(COURT_DECISIONS_CSV)
    ]
    return tuple(sorted(out, key=lambda d: (d.case_type, d.code, d.field)))


def valid_codes(case_type: str, field: str) -> set[str]:
    return {d.code for d in court_decisions() if d.case_type == case_type and d.field == field}


def lookup_court_decision_rows() -> list[list[str]]:
    """tblLookupCourtDecision rows; strFinalDisposition's real values are unknown (empty)."""
    return [
        [str(i), d.case_type, d.code, d.description, "C" if d.field == "DEC_CODE" else "O"]
        + ["", "1", LOOKUP_CREATED_ON, ""]
        for i, d in enumerate(court_decisions(), start=1)
    ]


# --- courts and judges -----------------------------------------------------------------------


@dataclass(frozen=True)
class Court:
    code: str
    city: str
    state: str
    zip5: str


_NOT_COURTS = {"BIA", "CIJ", "HDQ"}  # appeals board, chief judge's office, headquarters


@cache
def courts() -> tuple[Court, ...]:
    """The 56 immigration courts of the c.2014 base-city table with their city, state and zip."""
    return tuple(
        Court(r["code"], r["city"], r["state"], r["zip"].zfill(5))
        for r in _rows(BASE_CITIES_CSV)
        if r["first_listed"] == DRAWN_FROM and r["code"] not in _NOT_COURTS
    )


def lookup_base_city_rows() -> list[list[str]]:
    """tblLookupBaseCity rows (98 columns): id, code, name, city, state, zip and region where
    known; the street address, phone number and the per-form flag blocks are left empty."""
    rows = []
    for r in _rows(BASE_CITIES_CSV):
        lead = [r["idn_base_city"], r["code"], r["name"], "", "", r["city"], r["state"]]
        lead += [r["zip"], "", "", r["region"]]
        rows.append(lead + [""] * 83 + [LOOKUP_CREATED_ON, "", r["active"], ""])
    return rows


@cache
def judge_codes() -> tuple[str, ...]:
    """Active immigration-judge codes of the c.2014 judge table."""
    return tuple(_codes("tblLookupJudge"))


# --- nationalities, case types, custody, priorities, languages --------------------------------


@cache
def nationality_names() -> dict[str, str]:
    """NAT code -> name for the codes the c.2014 nationality table lists."""
    return {
        r["code"]: r["name"] for r in _rows(NATIONALITIES_CSV) if r["first_listed"] == DRAWN_FROM
    }


def lookup_nationality_rows() -> list[list[str]]:
    """tblLookupNationality rows: every code with its name, country and NACARA flag."""
    return [
        [r["id"], r["code"], r["name"], r["country_name"], r["nacara_country"]]
        + [LOOKUP_CREATED_ON, "", r["active"]]
        for r in _rows(NATIONALITIES_CSV)
    ]


def lookup_alien_nat_rows() -> list[list[str]]:
    """tblLookupAlienNat rows in the real header (idnNat, strCode, strDescription, Nacara,
    blnActive, datCreatedOn, datModifiedOn). No public source shows the Nacara values: empty."""
    return [
        [str(i), code, name, "", "1", LOOKUP_CREATED_ON, ""]
        for i, (code, name) in enumerate(_codes("tblLookupAlienNat").items(), start=1)
    ]


def case_type_names() -> dict[str, str]:
    return _codes("tblLookupCaseType")


def lookup_case_type_rows() -> list[list[str]]:
    # strAnsirCode's real values are unknown publicly (empty).
    return [
        [str(i), code, name, "1", LOOKUP_CREATED_ON, "", ""]
        for i, (code, name) in enumerate(case_type_names().items(), start=1)
    ]


def custody_status() -> dict[str, str]:
    """CUSTODY codes (docs/EOIR_FORMAT.md#other-code-tables): N, D, R."""
    return _codes("tblLookupCustodyStatus")


def lookup_custody_rows() -> list[list[str]]:
    return [
        [str(i), code, name, name, "1", LOOKUP_CREATED_ON, ""]
        for i, (code, name) in enumerate(custody_status().items(), start=1)
    ]


def case_priorities() -> dict[str, str]:
    """CASEPRIORITY_CODE values; `N/A` ("Not Applicable") is a real code
    (docs/EOIR_FORMAT.md#null-spellings, docs/EOIR_FORMAT.md#other-code-tables)."""
    return _codes("tblLookup_CasePriority")


def lookup_case_priority_rows() -> list[list[str]]:
    # strDays and blnBypasscal are unknown publicly (empty, 0); descriptions keep their padding.
    return [
        [str(i), code, name, "", LOOKUP_CREATED_ON, "", "1", "0"]
        for i, (code, name) in enumerate(case_priorities().items(), start=1)
    ]


@cache
def language_codes() -> frozenset[str]:
    return frozenset(_codes("tblLanguage"))


def lookup_rows() -> dict[str, list[list[str]]]:
    """Every lookup table the synthetic release carries, keyed by table name (no header)."""
    return {
        "tbllookupCharges": lookup_charges_rows(),
        "tblLookupCourtDecision": lookup_court_decision_rows(),
        "tblLookupBaseCity": lookup_base_city_rows(),
        "tblLookupNationality": lookup_nationality_rows(),
        "tblLookupAlienNat": lookup_alien_nat_rows(),
        "tblLookupCaseType": lookup_case_type_rows(),
        "tblLookupCustodyStatus": lookup_custody_rows(),
        "tblLookup_CasePriority": lookup_case_priority_rows(),
    }
