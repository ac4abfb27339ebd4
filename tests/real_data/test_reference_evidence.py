"""Real spellings and real headers from ../shared/reference, through the project's own readers."""

from __future__ import annotations

import ast
import csv
from collections import Counter

from pipelines.classify.severity import classify_charge
from pipelines.eoir.columns import (
    CORE_TABLES,
    REQUIRED_LOOKUPS,
    canonical_name,
    core_specs,
    map_header,
)
from tests.real_data.conftest import DDP, REAL_ROWS, needs_reference


def _variable_types() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    with open(DDP / "variable_types.csv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            out.setdefault(row["table"], []).append(row["name"])
    return out


@needs_reference
def test_every_real_charge_spelling_is_classified():
    """724 real CHARGE spellings (497 distinct) from 7 sources: none falls to `unknown`."""
    with open(REAL_ROWS / "charge_spellings_results.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 724
    spellings = {ast.literal_eval(r["spelling_repr"]) for r in rows}
    assert len(spellings) == 497
    sources = Counter()
    unknown = []
    for s in sorted(spellings):
        c = classify_charge(s)
        sources[c.category_source] += 1
        if c.category_source == "unknown":
            unknown.append(s)
    assert unknown == [], f"unclassified real spellings: {unknown}"
    # nearly all by a reference row; the rest by a citation rule that names its basis
    assert sources["reference"] >= 490


@needs_reference
def test_real_core_headers_map_without_loss():
    """The October 2025 release's headers (DDP variable_types.csv, file order) of every core
    table map onto the project's columns with nothing missing and nothing unknown."""
    headers = _variable_types()
    for table in CORE_TABLES:
        m = map_header(headers[table], core_specs()[table])
        assert (table, m.missing, m.unknown) == (table, [], []), m


@needs_reference
def test_real_lookup_headers_carry_the_columns_staging_reads():
    headers = _variable_types()
    for table, needed in REQUIRED_LOOKUPS.items():
        have = {canonical_name(h) for h in headers[table]}
        assert [c for c in needed if c not in have] == [], table
