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

import re

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
