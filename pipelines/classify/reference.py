"""Loaders for the classification reference tables in data/reference/.

- `charge_prefix_rules.csv`: the citation-prefix rules (`rule_id`, `pattern`, `category`,
  `legal_basis`, `source`); a pattern ending in `*` matches citations that start with the rest,
  any other pattern matches exactly.
- `charge_severity.csv`: one row per canonical EOIR charge code with its citation, severity
  category, description, legal basis, the prefix rule it follows (`rule_id`), source, the raw
  EOIR lookup spellings that map to it (`lookup_spellings`, `|`-separated, spaces kept exactly)
  and notes. A row that follows its rule leaves `legal_basis` empty and takes the rule's; a row
  with a basis of its own (a category the rule does not give, or a narrower reading) states it.
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
CHARGE_PREFIX_RULES_CSV = REFERENCE_DIR / "charge_prefix_rules.csv"
PD_CODES_CSV = REFERENCE_DIR / "pd_codes.csv"

CHARGE_SEVERITY_COLUMNS = (
    "charge_code",
    "citation",
    "category",
    "description",
    "legal_basis",
    "rule_id",
    "source",
    "lookup_spellings",
    "notes",
)
SPELLING_SEPARATOR = "|"

_WHITESPACE = re.compile(r"\s+")


PREFIX_RULE_COLUMNS = ("rule_id", "pattern", "category", "legal_basis", "source")


class PrefixRule(NamedTuple):
    """`pattern` ending in `*` matches citations starting with the rest; otherwise exact match."""

    pattern: str
    category: str
    legal_basis: str
    rule_id: str = ""
    source: str = ""


class ChargeReference(NamedTuple):
    charge_code: str
    citation: str
    category: str
    description: str
    legal_basis: str
    source: str
    lookup_spellings: tuple[str, ...]
    notes: str
    rule_id: str = ""


def spelling_key(raw: str) -> str:
    """Whitespace-free key for matching a raw spelling against the table.

    EOIR pads codes with spaces in fixed-width fields and the padding varies between the lookup and
    the data (docs/EOIR_FORMAT.md#charge-codes); with the spaces removed, the case pattern of a code
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


def read_prefix_rules(path: Path | str = CHARGE_PREFIX_RULES_CSV) -> tuple[PrefixRule, ...]:
    """Read and validate charge_prefix_rules.csv (ids and patterns unique, known categories)."""
    path = Path(path)
    rules: list[PrefixRule] = []
    ids: set[str] = set()
    patterns: set[str] = set()
    for line, row in _read_csv(path, PREFIX_RULE_COLUMNS):
        rule = PrefixRule(
            pattern=row["pattern"],
            category=row["category"],
            legal_basis=row["legal_basis"],
            rule_id=row["rule_id"],
            source=row["source"],
        )
        if not rule.rule_id or rule.rule_id != rule.rule_id.strip() or rule.rule_id in ids:
            raise ValueError(
                f"{path} line {line}: rule_id {rule.rule_id!r} is empty, padded or repeated"
            )
        if not rule.pattern or rule.pattern in patterns:
            raise ValueError(f"{path} line {line}: pattern {rule.pattern!r} is empty or repeated")
        if rule.category not in CATEGORY_BY_NAME:
            raise ValueError(
                f"{path} line {line}: category {rule.category!r} of rule {rule.rule_id!r} is not "
                f"one of {', '.join(CATEGORY_NAMES)}"
            )
        if not rule.legal_basis.strip() or not rule.source.strip():
            raise ValueError(
                f"{path} line {line}: rule {rule.rule_id!r} needs a legal_basis and a source"
            )
        ids.add(rule.rule_id)
        patterns.add(rule.pattern)
        rules.append(rule)
    return tuple(rules)


@lru_cache(maxsize=1)
def prefix_rules() -> tuple[PrefixRule, ...]:
    """The repository's charge_prefix_rules.csv (read once per process)."""
    return read_prefix_rules(CHARGE_PREFIX_RULES_CSV)


def read_charge_severity(
    path: Path | str = CHARGE_SEVERITY_CSV, rules: tuple[PrefixRule, ...] | None = None
) -> dict[str, ChargeReference]:
    """Read and validate charge_severity.csv into {charge_code: row}.

    A row's `rule_id` must name a rule of `rules` (default: the repository's prefix rules); an
    empty `legal_basis` is the rule's.
    """
    path = Path(path)
    rules_by_id = {r.rule_id: r for r in (prefix_rules() if rules is None else rules)}
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
        rule_id = (row.get("rule_id") or "").strip()
        if rule_id and rule_id not in rules_by_id:
            raise ValueError(
                f"{path} line {line}: rule_id {rule_id!r} of {code!r} is not in "
                f"{CHARGE_PREFIX_RULES_CSV.name}"
            )
        legal_basis = row["legal_basis"]
        if not legal_basis.strip():
            legal_basis = rules_by_id[rule_id].legal_basis if rule_id else ""
        if not legal_basis.strip():
            raise ValueError(
                f"{path} line {line}: {code!r} has no legal_basis and no rule_id; every row "
                "needs one or the other"
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
            legal_basis=legal_basis,
            source=row["source"],
            lookup_spellings=spellings,
            notes=row["notes"],
            rule_id=rule_id,
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
