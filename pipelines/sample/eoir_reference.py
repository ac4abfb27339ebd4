"""Real EOIR code values for the synthetic release, read from `reference/` beside this file.

Every code the generator writes comes from here, and the release's `Lookup/` tables are built
from these real rows laid out in the 2026-04 headers (docs/EOIR_FORMAT.md#lookup-tables). Columns whose
real values no public source shows are filled as documented per builder below.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"

# Audit timestamp for lookup rows whose source has none: the real lookup `datCreatedOn`
# `2003-08-07 00:00:00.000` seen in the 2026-04 files (docs/EOIR_FORMAT.md#dates-times-booleans, [DK]).
LOOKUP_CREATED_ON = "2003-08-07 00:00:00.000"

# Case types with a charging document, whose DEC_CODE `I` is a PD termination (docs/EOIR_FORMAT.md#pd-closures-in-the-data).
PD_TERMINATION_CASE_TYPES = ("RMV", "DEP", "EXC", "REC")


def _json(name: str) -> dict[str, str]:
    with open(REFERENCE_DIR / name, encoding="utf-8") as f:
        data = json.load(f)
    # marrowb's maps hold NaN where the release's description was empty.
    return {k: ("" if isinstance(v, float) and math.isnan(v) else v) for k, v in data.items()}


def _audit_time(raw: str) -> str:
    """2014-era export timestamps (`2004-09-12 23:35:21.247000000`, `2007-11-09 08:40:33`) in
    the current `YYYY-MM-DD HH:MM:SS.mmm` form."""
    raw = raw.strip()
    if not raw:
        return ""
    day, _, clock = raw.partition(" ")
    hms, _, frac = clock.partition(".")
    return f"{day} {hms}.{(frac + '000')[:3]}"


def _bool01(raw: str) -> str:
    return {"True": "1", "False": "0"}.get(raw.strip(), raw.strip())


# --- charges ---------------------------------------------------------------------------------


@cache
def charge_descriptions() -> dict[str, str]:
    """The 252 real tbllookupCharges codes (EOIR spellings, padding kept) -> description."""
    return _json("marrowb_tbllookupCharges.json")


_PUNCT = re.compile(r"[()\s]")


def statutory_flags(code: str) -> tuple[str, str]:
    """(criminal_flag, aggravate_felon) for a charge code, from its statutory section.

    The real tbllookupCharges has these columns but no public source shows their values
    (docs/EOIR_FORMAT.md#charge-codes). They are filled here from the INA section alone: 237(a)(2)(A)(iii) and the
    legacy 241(a)(2)(A)(iii) are the aggravated-felony grounds (aggravate_felon 1); every
    212(a)(2), 237(a)(2) and 241(a)(2) ground is criminal (criminal_flag 1). Punctuated junk
    spellings such as `237(a)(02)(A)(i  )(I  )` are read after dropping brackets and spaces.
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


# EOIR added OTHER_COMP `M` after 2014 (docs/EOIR_FORMAT.md#pd-closures-in-the-data: [MB] 2025 description, field and case
# types not public). Assumed: an OTHER_COMP code for every case type that has `Y`.
_IN_COURT_PD = "In Court Prosecutorial Discretion - Admin Closure"


@cache
def court_decisions() -> tuple[Decision, ...]:
    """tblLookupCourtDecision rows: TRAC's c.2014 table plus the later `M` code.

    The source is a Mac Excel export (CR line endings, MacRoman: 0xD0 is an en dash); the 2025
    release spells "Prosecutorial Discretion - Admin Close" with a plain hyphen, as here.
    """
    text = (REFERENCE_DIR / "jgutman_master_decision_on_proceeding.csv").read_bytes()
    text = text.decode("mac_roman").replace("\r\n", "\n").replace("\r", "\n")
    out: list[Decision] = []
    for row in csv.DictReader(io.StringIO(text)):
        case_type = (row.get("strCaseType") or "").strip()
        dec_type = (row.get("strDecType") or "").strip()
        if not case_type or dec_type not in ("C", "O"):
            continue  # blank lines and TRAC's annotation at the end
        field = "DEC_CODE" if dec_type == "C" else "OTHER_COMP"
        desc = row["strDecDescription"].replace("\u2013", "-").strip()
        out.append(Decision(case_type, row["strDecCode"].strip(), field, desc))
    with_y = sorted({d.case_type for d in out if d.field == "OTHER_COMP" and d.code == "Y"})
    out += [Decision(ct, "M", "OTHER_COMP", _IN_COURT_PD) for ct in with_y]
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


def _base_city_source_rows() -> list[list[str]]:
    with open(REFERENCE_DIR / "jgutman_tblLookupBaseCity.csv", encoding="cp1252", newline="") as f:
        return list(csv.reader(f))


@cache
def courts() -> tuple[Court, ...]:
    """The 56 immigration courts of the 2014 base-city table with their street address city."""
    out = []
    for r in _base_city_source_rows():
        if r[1] in _NOT_COURTS:
            continue
        out.append(Court(r[1], r[5].strip(), r[6].strip(), r[7].strip().zfill(5)))
    return tuple(out)


def lookup_base_city_rows() -> list[list[str]]:
    """tblLookupBaseCity rows: the 59 real 2014 rows (address, region, flags; the export's
    created-by/modified-by columns dropped, which the 2026 header lacks) and, after them, the
    2025 codes the 2014 table lacks with only their name known. Space padding is kept."""
    rows = []
    seen = set()
    for r in _base_city_source_rows():
        # 11 leading fields, 80 form fields, 3 Rop fields, then created, createdBy, modified,
        # modifiedBy, blnActive, blnBCIS.
        rows.append(
            r[:94] + [_audit_time(r[94]), _audit_time(r[96]), _bool01(r[98]), _bool01(r[99])]
        )
        seen.add(r[1])
    next_idn = max(int(r[0]) for r in rows) + 1
    for code, name in _json("marrowb_tblLookupBaseCity.json").items():
        if code in seen:
            continue
        rows.append([str(next_idn), code, name] + [""] * 91 + [LOOKUP_CREATED_ON, "", "1", "1"])
        next_idn += 1
    return rows


@cache
def judge_codes() -> tuple[str, ...]:
    """Active immigration-judge codes of the 2014 judge table (the `<ALL JUDGES>` row dropped)."""
    with open(REFERENCE_DIR / "jgutman_tblLookupJudge.csv", encoding="cp1252", newline="") as f:
        return tuple(r[1] for r in csv.reader(f) if r[13] == "True" and not r[2].startswith("<"))


# --- nationalities, case types, custody, priorities -------------------------------------------


def _nationality_source_rows() -> list[list[str]]:
    with open(REFERENCE_DIR / "jgutman_tblLookupNationality.csv", encoding="cp1252") as f:
        return list(csv.reader(f))


@cache
def nationality_names() -> dict[str, str]:
    return {r[1]: r[2] for r in _nationality_source_rows()}


def lookup_nationality_rows() -> list[list[str]]:
    """tblLookupNationality rows: the 248 real 2014 rows (created-by/modified-by dropped), then
    the 2025 codes they lack with the 2025 name."""
    rows = []
    for r in _nationality_source_rows():
        rows.append(r[:5] + [_audit_time(r[6]), _audit_time(r[8]), _bool01(r[9])])
    seen = {r[1] for r in rows}
    next_id = max(int(r[0]) for r in rows) + 1
    for code, name in _json("marrowb_tblLookupNationality.json").items():
        if code in seen or code == "NaN":
            continue
        rows.append([str(next_id), code, name, name, "N", LOOKUP_CREATED_ON, "", "1"])
        next_id += 1
    return rows


def lookup_alien_nat_rows() -> list[list[str]]:
    rows = []
    for i, (code, name) in enumerate(_json("marrowb_tblLookupAlienNat.json").items(), start=1):
        if code == "NaN":
            continue
        rows.append([str(i), code, name, "1", LOOKUP_CREATED_ON, ""])
    return rows


@cache
def case_type_names() -> dict[str, str]:
    return _json("marrowb_tblLookupCaseType.json")


def lookup_case_type_rows() -> list[list[str]]:
    # strAnsirCode's real values are unknown publicly (empty).
    return [
        [str(i), code, name, "1", LOOKUP_CREATED_ON, "", ""]
        for i, (code, name) in enumerate(case_type_names().items(), start=1)
    ]


# docs/EOIR_FORMAT.md#other-code-tables: CUSTODY codes ([MB] lookups.json key "tblLookupCustodyStatus"; marrowb's separate
# lookups/tblLookupCustodyStatus.json wrongly holds case types, so it is not used).
CUSTODY_STATUS = {"N": "Never Detained", "D": "Detained", "R": "Released"}


def lookup_custody_rows() -> list[list[str]]:
    return [
        [str(i), code, name, name, "1", LOOKUP_CREATED_ON, ""]
        for i, (code, name) in enumerate(CUSTODY_STATUS.items(), start=1)
    ]


@cache
def case_priorities() -> dict[str, str]:
    """CASEPRIORITY_CODE values; `N/A` ("Not Applicable") is a real code (docs/EOIR_FORMAT.md#null-spellings, docs/EOIR_FORMAT.md#other-code-tables),
    which pandas had turned into a NaN key in marrowb's map."""
    return {
        ("N/A" if k == "NaN" else k): v
        for k, v in _json("marrowb_tblLookup_CasePriority.json").items()
    }


def lookup_case_priority_rows() -> list[list[str]]:
    # strDays and blnBypasscal are unknown publicly (empty, 0); descriptions keep their padding.
    return [
        [str(i), code, name, "", LOOKUP_CREATED_ON, "", "1", "0"]
        for i, (code, name) in enumerate(case_priorities().items(), start=1)
    ]


@cache
def language_codes() -> frozenset[str]:
    return frozenset(_json("marrowb_tblLanguage.json"))


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
