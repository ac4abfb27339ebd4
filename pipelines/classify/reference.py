"""Loaders for the classification reference tables in data/reference/.

- `charge_severity.csv`: one row per canonical EOIR charge code with its citation, severity
  category, description, legal basis, source, the raw EOIR lookup spellings that map to it
  (`lookup_spellings`, `|`-separated, spaces kept exactly) and notes.
- `pd_codes.csv`: the prosecutorial-discretion completion codes (see `pipelines.classify.pd`).

The CSVs are read with the csv module, not a type-guessing reader, because charge codes carry
significant inner and trailing spaces (`212a02Ai  I`, `212a03Eiii   `).
"""

from __future__ import annotations

import csv
import re
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from pipelines.classify.categories import CATEGORY_BY_NAME, CATEGORY_NAMES
from pipelines.settings import REFERENCE_DIR

CHARGE_SEVERITY_CSV = REFERENCE_DIR / "charge_severity.csv"
PD_CODES_CSV = REFERENCE_DIR / "pd_codes.csv"

CHARGE_SEVERITY_COLUMNS = (
    "charge_code",
    "citation",
    "category",
    "description",
    "legal_basis",
    "source",
    "lookup_spellings",
    "notes",
)
SPELLING_SEPARATOR = "|"

_WHITESPACE = re.compile(r"\s+")


class ChargeReference(NamedTuple):
    charge_code: str
    citation: str
    category: str
    description: str
    legal_basis: str
    source: str
    lookup_spellings: tuple[str, ...]
    notes: str


def spelling_key(raw: str) -> str:
    """Whitespace-free key for matching a raw spelling against the table.

    EOIR pads codes with spaces in fixed-width fields and the padding varies between the lookup
    and the data (docs/EOIR_FORMAT.md#charge-codes); with the spaces removed, the case pattern of a code
    (upper subparagraph, lower clause, upper subclause) still separates its parts, so no two table
    codes share a key (checked on load).
    """
    return _WHITESPACE.sub("", raw)


def _read_csv(path: Path, expected: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        header = tuple(reader.fieldnames or ())
        missing = [c for c in expected if c not in header]
        if missing:
            raise ValueError(
                f"{path}: header is missing column(s) {', '.join(missing)}; "
                f"expected {', '.join(expected)}"
            )
        # line numbers: the header is line 1; rows never span lines in these files.
        return [(i + 2, row) for i, row in enumerate(reader)]


def read_charge_severity(path: Path | str = CHARGE_SEVERITY_CSV) -> dict[str, ChargeReference]:
    """Read and validate charge_severity.csv into {charge_code: row}."""
    path = Path(path)
    table: dict[str, ChargeReference] = {}
    keys: dict[str, tuple[str, int]] = {}
    for line, row in _read_csv(path, CHARGE_SEVERITY_COLUMNS):
        code = row["charge_code"]
        if not code or code != code.strip():
            raise ValueError(
                f"{path} line {line}: charge_code {code!r} is empty or has outer spaces; "
                "canonical codes are right-trimmed (put raw spellings in lookup_spellings)"
            )
        if row["category"] not in CATEGORY_BY_NAME:
            raise ValueError(
                f"{path} line {line}: category {row['category']!r} for {code!r} is not one of "
                f"{', '.join(CATEGORY_NAMES)}"
            )
        if not row["legal_basis"].strip():
            raise ValueError(
                f"{path} line {line}: {code!r} has no legal_basis; every row needs one"
            )
        if code in table:
            raise ValueError(f"{path} line {line}: charge_code {code!r} appears twice")
        spellings = tuple(s for s in row["lookup_spellings"].split(SPELLING_SEPARATOR) if s)
        for spelling in (code, *spellings):
            key = spelling_key(spelling)
            if key in keys and keys[key][0] != code:
                other, other_line = keys[key]
                raise ValueError(
                    f"{path} line {line}: spelling {spelling!r} of {code!r} collides with "
                    f"{other!r} (line {other_line}); a raw spelling must map to one code"
                )
            keys[key] = (code, line)
        table[code] = ChargeReference(
            charge_code=code,
            citation=row["citation"],
            category=row["category"],
            description=row["description"],
            legal_basis=row["legal_basis"],
            source=row["source"],
            lookup_spellings=spellings,
            notes=row["notes"],
        )
    return table


@lru_cache(maxsize=1)
def charge_severity_table() -> dict[str, ChargeReference]:
    """The repository's charge_severity.csv (read once per process)."""
    return read_charge_severity(CHARGE_SEVERITY_CSV)


def known_spellings(table: dict[str, ChargeReference]) -> dict[str, str]:
    """{spelling_key: charge_code} for every canonical code and lookup spelling in the table."""
    out: dict[str, str] = {}
    for row in table.values():
        out[spelling_key(row.charge_code)] = row.charge_code
        for spelling in row.lookup_spellings:
            out[spelling_key(spelling)] = row.charge_code
    return out


@lru_cache(maxsize=1)
def _default_known_spellings() -> dict[str, str]:
    return known_spellings(charge_severity_table())


PD_CODES_COLUMNS = ("field", "code", "case_type", "pd_kind", "description", "evidence")


class PdCode(NamedTuple):
    field: str  # DEC_CODE | OTHER_COMP
    code: str
    case_type: str  # a CASE_TYPE, or "*" for any case type
    pd_kind: str  # admin_closed | terminated
    description: str
    evidence: str


def read_pd_codes(path: Path | str = PD_CODES_CSV) -> tuple[PdCode, ...]:
    """Read and validate pd_codes.csv."""
    path = Path(path)
    rows: list[PdCode] = []
    seen: set[tuple[str, str, str]] = set()
    for line, row in _read_csv(path, PD_CODES_COLUMNS):
        rec = PdCode(**{c: row[c].strip() for c in PD_CODES_COLUMNS})
        if rec.field not in ("DEC_CODE", "OTHER_COMP"):
            raise ValueError(
                f"{path} line {line}: field {rec.field!r} must be DEC_CODE or OTHER_COMP"
            )
        if rec.pd_kind not in ("admin_closed", "terminated"):
            raise ValueError(
                f"{path} line {line}: pd_kind {rec.pd_kind!r} must be admin_closed or terminated"
            )
        if not rec.code or not rec.case_type or not rec.evidence:
            raise ValueError(f"{path} line {line}: code, case_type and evidence are required")
        key = (rec.field, rec.code, rec.case_type)
        if key in seen:
            raise ValueError(f"{path} line {line}: duplicate row for {key}")
        seen.add(key)
        rows.append(rec)
    return tuple(rows)
