"""Repair rows whose field count does not match the header.

EOIR files are tab-delimited with no quoting, so a TAB typed into a field splits it in two and
shifts every later field right (docs/EOIR_FORMAT.md#tab-shifted-rows, VERIFIED in the 2026-04
release: A_TblCase 100 rows, 98 fixable by [DD]; B_TblProceeding 71 rows with extra tabs before
COMP_DATE; the real A_TblCase line 111549 has an empty field inserted after ALIEN_CITY, 40 fields
for 39 columns). A repair merges adjacent fields back into one column. It is accepted only when it
is unambiguous: every way of merging that leaves each column holding a value of its column's shape
gives the same row (after trimming whitespace). Two non-empty fields may only be merged into a
free-text column (a TAB typed into a city name); an empty field may be absorbed anywhere (a stray
TAB next to a value). Everything else is rejected with its reason and kept in raw.rejects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from pipelines.eoir.columns import ColumnSpec

MAX_EXTRA_FIELDS = 4

# NULL spellings of docs/EOIR_FORMAT.md#null-spellings ([MB] is_nul_like); they fit every column.
_NULL_LIKE = re.compile(r"^(\s*|N/A|b6|A\.2\.a|\?+|0+)$", re.IGNORECASE)
_KIND_PATTERNS = {
    "int": r"^-?\d+$",
    "datetime": r"^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?$",
    "hhmm": r"^\d{1,4}$",
    "flag": r"^([01YNyn]|True|False|TRUE|FALSE)$",
    "code": r"^[A-Za-z0-9/?._&#*-]{1,12}$",
    "charge": r"^[0-9A-Za-z()<>. ]{1,40}$",
}


@cache
def _compiled(kind: str, pattern: str) -> re.Pattern | None:
    if kind == "text":
        return None
    if kind == "pattern":
        return re.compile(pattern)
    return re.compile(_KIND_PATTERNS[kind])


def fits(value: str, col: ColumnSpec) -> bool:
    """Does `value` have the shape of `col`? Whitespace (and so a stray TAB) is ignored."""
    v = value.strip()
    if _NULL_LIKE.match(v):
        return True
    rx = _compiled(col.kind, col.pattern)
    return rx is None or bool(rx.match(v))


_NULL_LIKE_SQL = r"(?i)^(\s*|N/A|b6|A\.2\.a|\?+|0+)$"


def fits_sql(field: str, col: ColumnSpec) -> str:
    """The `fits` test as a DuckDB expression on `field` (NULL, i.e. absent, fits)."""
    if col.kind == "text":
        return "true"
    pattern = col.pattern if col.kind == "pattern" else _KIND_PATTERNS[col.kind]
    v = f"trim({field})"
    return (
        f"({field} IS NULL OR regexp_matches({v}, '{_NULL_LIKE_SQL}') "
        f"OR regexp_matches({v}, '{pattern.replace(chr(39), chr(39) * 2)}'))"
    )


@dataclass(frozen=True)
class Repair:
    ok: bool
    values: list[str] | None  # the repaired row, one value per column (raw text, tabs kept)
    detail: str  # e.g. "tab_shift_merged:ALIEN_CITY" or the rejection reason


def repair_row(fields: list[str], columns: tuple[ColumnSpec, ...]) -> Repair:
    """Repair a row with more fields than columns; see the module docstring for the rule."""
    n, k = len(columns), len(fields)
    extra = k - n
    if extra <= 0:
        raise ValueError("repair_row is for rows with more fields than columns")
    if extra > MAX_EXTRA_FIELDS:
        return Repair(False, None, f"unrepairable: {k} fields for {n} columns")
    solutions: list[tuple[list[str], list[str]]] = []

    def walk(ci: int, fi: int, values: list[str], merged: list[str]) -> None:
        if len(solutions) > 64:
            return
        if ci == n:
            if fi == k:
                solutions.append((list(values), list(merged)))
            return
        col = columns[ci]
        remaining_extra = (k - fi) - (n - ci)
        for size in range(1, remaining_extra + 2):
            parts = fields[fi : fi + size]
            if size > 1 and col.kind != "text" and sum(1 for p in parts if p.strip()) > 1:
                continue
            # A stray TAB absorbed into a code, date or number column is not part of the value;
            # in a free-text column the TAB was typed by someone and is kept (staging trims it).
            value = (
                "\t".join(parts)
                if col.kind == "text"
                else "".join(parts).strip()
                if size > 1
                else parts[0]
            )
            if not fits(value, col):
                continue
            values.append(value)
            if size > 1:
                merged.append(col.name)
            walk(ci + 1, fi + size, values, merged)
            values.pop()
            if size > 1:
                merged.pop()

    walk(0, 0, [], [])
    if not solutions:
        return Repair(False, None, f"unrepairable tab shift: {k} fields for {n} columns")
    distinct = {tuple(v.strip() for v in vals) for vals, _ in solutions}
    if len(distinct) > 1:
        return Repair(
            False,
            None,
            f"ambiguous tab shift: {k} fields for {n} columns, {len(distinct)} readings",
        )
    # Equivalent readings differ only in where a stray TAB is kept; keep it in a free-text
    # column where possible (the city `BROOKLYN<TAB>` rather than the state `<TAB>NY`).
    kinds = {c.name: c.kind for c in columns}
    values, merged = min(solutions, key=lambda s: sum(kinds[m] != "text" for m in s[1]))
    return Repair(True, values, "tab_shift_merged:" + ",".join(merged))
