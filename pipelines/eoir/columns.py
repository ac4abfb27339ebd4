"""Column specifications of the EOIR core tables, from `data/reference/eoir_columns.csv`.

Columns are mapped by header name, never by position: names drift between releases (`GENDER` in 2025
became `Sex` in 2026-04; tbl_Court_Motions gained `_Remove` suffixes), see
docs/EOIR_FORMAT.md#header-drift. The canonical name of a column is its 2026-04 header in upper
case. Each column has a `kind` used only to decide how a tab-shifted row is repaired
(`pipelines.eoir.repair`): a value of the wrong shape in a column tells where a shift happened.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pipelines.settings import REFERENCE_DIR

# Suffixes EOIR appends to retired columns: `_Remove` (2026-04 tbl_Court_Motions: `REJ_Remove`,
# ...) and `_TO_BE_REMOVED` (2025-10 D_TblAssociatedBond). Both map to the base name.
_RETIRED_SUFFIX = re.compile(r"_(?:TO_BE_REMOVED|REMOVE)$", re.IGNORECASE)

# The tables the analysis needs (docs/EOIR_FORMAT.md#release-layout). Lookups are loaded
# generically.
CORE_TABLES = (
    "A_TblCase",
    "B_TblProceeding",
    "B_TblProceedCharges",
    "tbl_RepsAssigned",
    "tbl_CasePriorityHistory",
)
# The lookups the staging models read, with the columns they need (2026-04 headers,
# docs/EOIR_FORMAT.md#lookup-tables). A release that lacks one still gets an (empty) raw table, and
# staging falls back to data/reference for its codes, so a missing lookup is visible in checks
# rather than fatal.
REQUIRED_LOOKUPS: dict[str, tuple[str, ...]] = {
    "tbllookupCharges": ("STRCODE", "STRCODEDESCRIPTION", "CRIMINAL_FLAG", "AGGRAVATE_FELON"),
    "tblLookupCourtDecision": ("STRCASETYPE", "STRDECCODE", "STRDECDESCRIPTION", "STRDECTYPE"),
    "tblLookupBaseCity": ("BASE_CITY_CODE", "BASE_CITY_NAME", "BASE_CITY", "BASE_STATE"),
    "tblLookupNationality": ("NAT_CODE", "NAT_NAME"),
    "tblLookupCaseType": ("STRCODE", "STRDESCRIPTION"),
    "tblLookupCustodyStatus": ("STRCODE", "STRDESCRIPTION"),
}


# Every lookup this pipeline loads: the required ones, plus the alternative nationality table of
# some releases (tblLookupAlienNat, docs/EOIR_FORMAT.md#lookup-tables) and the case-priority codes of
# tbl_CasePriorityHistory, and tblDecCode, EOIR's own labels of B_TblProceeding.DEC_CODE (12 codes;
# `T` is "CASE TERMINATED BY IJ"), kept so a reader can check a code's meaning against the release
# itself. Other Lookup/ files are listed in raw.release_members as not used and never become tables
# (a file named `rejects.csv` must not become raw.rejects).
KNOWN_LOOKUPS: tuple[str, ...] = (
    *REQUIRED_LOOKUPS,
    "tblLookupAlienNat",
    "tblLookup_CasePriority",
    "tblDecCode",
)


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    kind: str  # int | datetime | hhmm | code | text | flag | charge | pattern
    pattern: str = ""
    primary_key: bool = False
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[ColumnSpec, ...]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def primary_key(self) -> str | None:
        for c in self.columns:
            if c.primary_key:
                return c.name
        return None


@cache
def core_specs(path: Path = REFERENCE_DIR / "eoir_columns.csv") -> dict[str, TableSpec]:
    cols: dict[str, list[ColumnSpec]] = {}
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            cols.setdefault(row["table"], []).append(
                ColumnSpec(
                    name=row["column"],
                    kind=row["kind"],
                    pattern=row["pattern"],
                    primary_key=row["primary_key"] == "1",
                    aliases=tuple(a for a in row["aliases"].split("|") if a),
                )
            )
    return {t: TableSpec(t, tuple(c)) for t, c in cols.items()}


def generic_spec(name: str, header: list[str]) -> TableSpec:
    """A spec for a table we have no reference for (lookups): every column is free text."""
    return TableSpec(name, tuple(ColumnSpec(canonical_name(h), "text") for h in header))


def canonical_name(header: str) -> str:
    """Upper-case, trimmed, with EOIR's `_Remove` retirement suffix dropped."""
    return _RETIRED_SUFFIX.sub("", header.strip().upper())


@dataclass(frozen=True)
class HeaderMapping:
    """How a file's header maps onto a spec: position in file -> canonical column."""

    file_columns: list[str]  # canonical name for each position in the file
    missing: list[str]  # spec columns absent from the file (loaded as NULL)
    unknown: list[str]  # file columns the spec does not know (kept, reported)
    renamed: dict[str, str]  # file header -> canonical, where they differ beyond case


def map_header(header: list[str], spec: TableSpec) -> HeaderMapping:
    lookup: dict[str, str] = {}
    for c in spec.columns:
        lookup[c.name] = c.name
        for a in c.aliases:
            lookup[canonical_name(a)] = c.name
    file_columns, unknown, renamed = [], [], {}
    seen: set[str] = set()
    for h in header:
        key = canonical_name(h)
        name = lookup.get(key)
        if name is None:
            name = re.sub(r"[^A-Z0-9_]", "_", key) or "UNNAMED"
            unknown.append(name)
        if name in seen:
            raise ValueError(f"duplicate column {h!r} in header of {spec.name}")
        seen.add(name)
        if h.strip().upper() != name:
            renamed[h] = name
        file_columns.append(name)
    missing = [c for c in spec.names if c not in seen]
    return HeaderMapping(file_columns, missing, unknown, renamed)
