"""A deliberately simple reader of a synthetic EOIR release, independent of the generator.

It knows only what docs/EOIR_FORMAT.md says about the format and what docs/DECISIONS.md#pd-rule,
docs/DECISIONS.md#charge-severity say about PD closures and charge categories; it shares no code
with pipelines.sample, so the truth tests compare the generator's bookkeeping with what its files
actually say.
"""

from __future__ import annotations

import re
import zipfile
from datetime import date
from pathlib import Path

PD_TERMINATION_CASE_TYPES = {"RMV", "DEP", "EXC", "REC"}
CATEGORY_ORDER = [
    "national_security_terrorism",
    "aggravated_felony",
    "other_criminal",
    "entry_without_inspection",
    "other_immigration",
    "miscellaneous",
]


def member_bytes(zip_path: Path, table: str) -> tuple[str, bytes]:
    """(member name, bytes) of the one member named `<table>.csv` at any depth."""
    with zipfile.ZipFile(zip_path) as zf:
        names = [n for n in zf.namelist() if n.rsplit("/", 1)[-1].lower() == f"{table.lower()}.csv"]
        assert len(names) == 1, names
        return names[0], zf.read(names[0])


def split_lines(data: bytes) -> list[bytes]:
    lines = data.split(b"\n")
    assert lines[-1] == b""
    return [ln[:-1] if ln.endswith(b"\r") else ln for ln in lines[:-1]]


def read_rows(zip_path: Path, table: str) -> tuple[list[str], list[list[str]]]:
    """Header and the rows that have exactly the header's number of fields and a numeric first
    field, decoded cp1252 with NUL bytes removed. Damaged rows are simply skipped."""
    _, data = member_bytes(zip_path, table)
    lines = split_lines(data)
    header = lines[0].decode("cp1252").split("\t")
    rows = []
    for ln in lines[1:]:
        fields = ln.replace(b"\x00", b"").decode("cp1252").split("\t")
        if len(fields) == len(header) and fields[0].isdigit():
            rows.append(fields)
    return header, rows


def parse_date(value: str) -> date | None:
    if not value:
        return None
    return date.fromisoformat(value[:10])


def charge_category(code: str) -> str:
    """docs/DECISIONS.md#charge-severity applied to a compact EOIR code (spaces removed)."""
    c = code.replace(" ", "")
    if re.match(r"^(237a04|241a04|212a03)", c):
        return "national_security_terrorism"
    if c in ("237a02Aiii", "241a02Aiii"):
        return "aggravated_felony"
    if re.match(r"^(212|237|241)a02", c):
        return "other_criminal"
    if c in ("212a06Ai", "241a01B"):
        return "entry_without_inspection"
    if c.startswith("2153"):
        return "miscellaneous"
    if re.match(r"^(212|237|241)a", c):
        return "other_immigration"
    return "unknown"  # junk spellings such as `<A>` or `(212)(a)(06)(i)(   )(   )`


def proceedings(zip_path: Path) -> list[dict]:
    """One dict per clean proceeding row, with its lead-charge category and PD flag."""
    h, rows = read_rows(zip_path, "B_TblProceeding")
    ch_h, ch_rows = read_rows(zip_path, "B_TblProceedCharges")
    cats: dict[str, set[str]] = {}
    for r in ch_rows:
        cats.setdefault(r[ch_h.index("IDNPROCEEDING")], set()).add(
            charge_category(r[ch_h.index("CHARGE")])
        )
    out = []
    for r in rows:
        rec = dict(zip(h, r, strict=True))
        found = cats.get(rec["IDNPROCEEDING"], set())
        rec["lead"] = next((c for c in CATEGORY_ORDER + ["unknown"] if c in found), "no_charge")
        terminated = rec["DEC_CODE"] == "I" and rec["CASE_TYPE"] in PD_TERMINATION_CASE_TYPES
        admin = rec["OTHER_COMP"] in ("Y", "M")
        rec["pd_kind"] = "terminated" if terminated else ("admin_closed" if admin else None)
        rec["input"] = parse_date(rec["INPUT_DATE"])
        rec["comp"] = parse_date(rec["COMP_DATE"])
        out.append(rec)
    return out
