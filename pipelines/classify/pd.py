"""Prosecutorial-discretion (PD) closures: the rule of docs/DECISIONS.md#pd-rule as data plus one
function.

The codes live in data/reference/pd_codes.csv (field, code, case_type, pd_kind, description,
evidence), the single source of truth for Python and SQL:

- OTHER_COMP `Y` "Prosecutorial Discretion - Admin Close" and `M` "In Court Prosecutorial
  Discretion - Admin Closure" -> `admin_closed`, whatever the case type (`case_type = *`);
- DEC_CODE `I` "Prosecutorial Discretion - Terminated" -> `terminated` in RMV, DEP, EXC and REC
  cases only (the lookup defines I for those four; docs/EOIR_FORMAT.md#court-decision-codes,
  docs/EOIR_FORMAT.md#pd-closures-in-the-data).

Everything else, including OTHER_COMP `A` (administrative closing - other) and DEC_CODE `I`
under another case type, is not a PD closure. Codes are compared after trimming and upper-casing.
If a proceeding carries both a PD DEC_CODE and a PD OTHER_COMP (the two fields should be
exclusive), it is counted once, as `terminated`: the decision code is the judge's order.

SQL reads the same CSV. `pd_kind_sql` renders the CASE expression from it; or join the CSV:

    LEFT JOIN read_csv('data/reference/pd_codes.csv', all_varchar = true) AS pd
      ON (pd.field = 'DEC_CODE' AND pd.code = upper(trim(p.dec_code))
          AND pd.case_type IN ('*', upper(trim(p.case_type))))
      OR (pd.field = 'OTHER_COMP' AND pd.code = upper(trim(p.other_comp))
          AND pd.case_type IN ('*', upper(trim(p.case_type))))

(with the DEC_CODE-first precedence applied if both match).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path

from pipelines.classify.reference import PD_CODES_CSV, PdCode, read_pd_codes

ADMIN_CLOSED = "admin_closed"
TERMINATED = "terminated"
PD_KINDS = (ADMIN_CLOSED, TERMINATED)
ANY_CASE_TYPE = "*"

PD_CODES: tuple[PdCode, ...] = read_pd_codes(PD_CODES_CSV)


def _codes_for(field: str) -> dict[str, tuple[frozenset[str], str]]:
    """{code: (case types or {'*'}, pd_kind)} for one field."""
    out: dict[str, tuple[set[str], str]] = {}
    for row in PD_CODES:
        if row.field != field:
            continue
        types, kind = out.setdefault(row.code, (set(), row.pd_kind))
        if kind != row.pd_kind:
            raise ValueError(
                f"{PD_CODES_CSV}: {field} {row.code} has two pd_kinds ({kind}, {row.pd_kind})"
            )
        types.add(row.case_type)
    return {code: (frozenset(types), kind) for code, (types, kind) in out.items()}


_DEC_CODES = _codes_for("DEC_CODE")
_OTHER_COMP = _codes_for("OTHER_COMP")

# Convenience views of the CSV (do not edit here; edit the CSV).
PD_OTHER_COMP: dict[str, str] = {code: kind for code, (_, kind) in _OTHER_COMP.items()}
PD_DEC_CODES: dict[str, str] = {code: kind for code, (_, kind) in _DEC_CODES.items()}
PD_DEC_CODE_CASE_TYPES: dict[str, frozenset[str]] = {
    code: types for code, (types, _) in _DEC_CODES.items()
}


def _norm(value: str | None) -> str | None:
    if value is None:
        return None
    v = str(value).strip().upper()
    return v or None


def _match(table: dict[str, tuple[frozenset[str], str]], code: str | None, case_type: str | None):
    if code is None or code not in table:
        return None
    types, kind = table[code]
    if ANY_CASE_TYPE in types or (case_type is not None and case_type in types):
        return kind
    return None


def pd_kind(case_type: str | None, dec_code: str | None, other_comp: str | None) -> str | None:
    """`admin_closed`, `terminated`, or None when the proceeding is not a PD closure."""
    ct = _norm(case_type)
    return _match(_DEC_CODES, _norm(dec_code), ct) or _match(_OTHER_COMP, _norm(other_comp), ct)


def is_pd_closure(case_type: str | None, dec_code: str | None, other_comp: str | None) -> bool:
    return pd_kind(case_type, dec_code, other_comp) is not None


_SAFE_CODE = re.compile(r"^[A-Z0-9*]+$")


def _sql_list(values: frozenset[str]) -> str:
    for v in values:
        if not _SAFE_CODE.match(v):
            raise ValueError(f"{PD_CODES_CSV}: code {v!r} is not a plain upper-case code")
    return ", ".join(f"'{v}'" for v in sorted(values))


def pd_kind_sql(case_type_col: str, dec_code_col: str, other_comp_col: str) -> str:
    """A DuckDB CASE expression equal to `pd_kind`, rendered from pd_codes.csv.

    Arguments are SQL expressions (column names) supplied by the pipeline, not user input.
    """
    ct = f"upper(trim({case_type_col}))"
    whens: list[str] = []
    for col, table in ((dec_code_col, _DEC_CODES), (other_comp_col, _OTHER_COMP)):
        by_kind_types: dict[tuple[str, frozenset[str]], set[str]] = {}
        for code, (types, kind) in table.items():
            by_kind_types.setdefault((kind, types), set()).add(code)
        for (kind, types), codes in sorted(by_kind_types.items(), key=lambda kv: sorted(kv[1])):
            cond = f"upper(trim({col})) IN ({_sql_list(frozenset(codes))})"
            if ANY_CASE_TYPE not in types:
                cond += f" AND {ct} IN ({_sql_list(types)})"
            whens.append(f"WHEN {cond} THEN '{kind}'")
    return "CASE " + " ".join(whens) + " ELSE NULL END"


# --- PD variants: labelled bounds beside the strict rule --------------------------------------
#
# On a current release DEC_CODE `I` may never occur (none among 8.2 million DEC_CODE values of
# the release EOIR published in October 2025), while TRAC counted about one early PD closure in
# four as a termination. The variants in data/reference/pd_variants.csv bound those missing
# terminations with the plain terminations (DEC_CODE `T`) of removal-type cases, over all dates,
# over the months of ICE's case review, or at a court during its docket review
# (data/reference/pd_review_periods.csv). They are bounds, not findings: a `T` can end a case for
# reasons that have nothing to do with PD. marts.proceedings carries one boolean column a variant.

PD_VARIANTS_CSV = PD_CODES_CSV.parent / "pd_variants.csv"
PD_REVIEW_PERIODS_CSV = PD_CODES_CSV.parent / "pd_review_periods.csv"
STRICT = "strict"
ANY_COURT = "*"
PERIOD_KINDS = ("case_review", "docket_review")


@dataclass(frozen=True)
class PdVariant:
    variant: str
    column_name: str
    is_default: bool
    extra_field: str | None  # DEC_CODE | OTHER_COMP | None (strict)
    extra_code: str | None
    extra_case_types: frozenset[str]
    period_kind: str | None  # None: any completion date
    label: str
    can_contain: str
    cannot_contain: str


@dataclass(frozen=True)
class ReviewPeriod:
    period_kind: str
    court: str  # a BASE_CITY_CODE, or "*" for every court
    start: date
    end: date


def _rows(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in columns if c not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(f"{path}: header is missing column(s) {', '.join(missing)}")
        return [(i + 2, {k: (v or "").strip() for k, v in r.items()}) for i, r in enumerate(reader)]


def read_pd_variants(path: Path = PD_VARIANTS_CSV) -> tuple[PdVariant, ...]:
    cols = tuple(f.name for f in fields(PdVariant))
    out: list[PdVariant] = []
    for line, r in _rows(path, cols):
        if r["extra_field"] not in ("", "DEC_CODE", "OTHER_COMP"):
            raise ValueError(
                f"{path} line {line}: extra_field must be DEC_CODE, OTHER_COMP or empty"
            )
        if r["period_kind"] not in ("", *PERIOD_KINDS):
            raise ValueError(
                f"{path} line {line}: period_kind must be one of {', '.join(PERIOD_KINDS)} or empty"
            )
        if bool(r["extra_field"]) != bool(r["extra_code"]):
            raise ValueError(f"{path} line {line}: extra_field and extra_code go together")
        out.append(
            PdVariant(
                variant=r["variant"],
                column_name=r["column_name"],
                is_default=r["is_default"].lower() == "true",
                extra_field=r["extra_field"] or None,
                extra_code=r["extra_code"].upper() or None,
                extra_case_types=frozenset(r["extra_case_types"].upper().split()),
                period_kind=r["period_kind"] or None,
                label=r["label"],
                can_contain=r["can_contain"],
                cannot_contain=r["cannot_contain"],
            )
        )
    defaults = [v.variant for v in out if v.is_default]
    if defaults != [STRICT]:
        raise ValueError(
            f"{path}: exactly one default variant, {STRICT!r}, expected; got {defaults}"
        )
    return tuple(out)


def read_review_periods(path: Path = PD_REVIEW_PERIODS_CSV) -> tuple[ReviewPeriod, ...]:
    cols = ("period_kind", "court", "start_date", "end_date", "source")
    out: list[ReviewPeriod] = []
    for line, r in _rows(path, cols):
        if r["period_kind"] not in PERIOD_KINDS or not r["source"]:
            raise ValueError(f"{path} line {line}: period_kind unknown or source missing")
        p = ReviewPeriod(
            r["period_kind"],
            r["court"].upper(),
            date.fromisoformat(r["start_date"]),
            date.fromisoformat(r["end_date"]),
        )
        if p.end < p.start:
            raise ValueError(f"{path} line {line}: end_date before start_date")
        out.append(p)
    return tuple(out)


PD_VARIANTS: tuple[PdVariant, ...] = read_pd_variants()
REVIEW_PERIODS: tuple[ReviewPeriod, ...] = read_review_periods()


def _in_period(kind: str, court: str | None, comp_date: date | None) -> bool:
    if comp_date is None:
        return False
    for p in REVIEW_PERIODS:
        if p.period_kind == kind and p.court in (ANY_COURT, _norm(court)):
            if p.start <= comp_date <= p.end:
                return True
    return False


def pd_variant_flags(
    case_type: str | None,
    dec_code: str | None,
    other_comp: str | None,
    comp_date: date | None = None,
    court: str | None = None,
) -> dict[str, bool]:
    """{variant column name: counted}, for every variant of pd_variants.csv.

    The same reading as the `pd_*` columns of marts.proceedings: the strict rule, or one of the
    extra codes in its case types (restricted to the variant's review periods, if any).
    """
    strict = is_pd_closure(case_type, dec_code, other_comp)
    ct = _norm(case_type)
    out: dict[str, bool] = {}
    for v in PD_VARIANTS:
        extra = False
        if v.extra_field is not None:
            value = _norm(dec_code if v.extra_field == "DEC_CODE" else other_comp)
            extra = value == v.extra_code and ct in v.extra_case_types
            if extra and v.period_kind is not None:
                extra = _in_period(v.period_kind, court, comp_date)
        out[v.column_name] = strict or extra
    return out
