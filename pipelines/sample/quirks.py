"""Damage injection: the real release's broken rows, put on inert cases of the first chunk.

Quirks go only on cases whose every proceeding completed before the pending date (so before the
window): whatever the ingest makes of those rows (repair, reject, NULL), no count and no model
cohort changes. Each quirk records its table, source line and the expected ingest outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pipelines.sample import codes as ref
from pipelines.sample import eoir_format as fmt
from pipelines.sample.population import Chunk, World

BOGUS_DATE = "1900-01-01 00:00:00.000"


@dataclass
class Quirk:
    kind: str
    table: str
    row: int  # row index in the table's chunk-0 frame
    expected: str  # ingest outcome: "loaded" (as is), "repaired" or "rejected"
    detail: str
    edit: Callable[[list[str]], list[str]] | None = None  # rewrite the row's fields
    insert_after: Callable[[list[str]], list[str]] | None = None  # add a new row after it
    key: str = ""
    source_line: int = 0
    fields: int = 0


def _col(table: str, name: str) -> int:
    return fmt.CORE_HEADERS[table].index(name)


def _set(i: int, value: str):
    def edit(f: list[str]) -> list[str]:
        f = list(f)
        f[i] = value
        return f

    return edit


def plan_quirks(world: World, chunk: Chunk) -> list[Quirk]:
    """Quirk rows on distinct inert cases of chunk 0 (see the module docstring)."""
    rng = np.random.default_rng([world.seed, 2])
    c = chunk.case
    candidates = list(rng.permutation(np.flatnonzero(c["inert"])))
    has_rep = np.zeros(len(c["g"]), dtype=bool)
    has_rep[chunk.proc["case"][chunk.rep["proc"]]] = True
    chg_first = np.full(len(chunk.proc["case"]), -1)
    chg_first[chunk.chg["proc"][::-1]] = np.arange(len(chunk.chg["proc"]))[::-1]

    def take(pred=lambda i: True) -> int | None:
        for j, i in enumerate(candidates):
            if pred(i):
                return candidates.pop(j)
        return None

    A, P, C, R = "A_TblCase", "B_TblProceeding", "B_TblProceedCharges", "tbl_RepsAssigned"
    city, state, zipc = _col(A, "ALIEN_CITY"), _col(A, "ALIEN_STATE"), _col(A, "ALIEN_ZIPCODE")
    upd_city = _col(A, "UPDATED_CITY")

    def city_tab(f):  # `SAN\tJUAN`: ALIEN_STATE gets `JUAN`, ALIEN_ZIPCODE gets `PR`
        return f[:city] + ["SAN\tJUAN", "PR", "00901"] + f[zipc + 1 :]

    def empty_after_city(f):  # docs/EOIR_FORMAT.md#tab-shifted-rows: 2026-04 A_TblCase line 111549
        return f[: city + 1] + [""] + f[city + 1 :]

    def ambiguous(f):
        # A city split by a TAB, and a third date between DATE_DETAINED and DATE_RELEASED:
        # which of the three dates is the stray one cannot be known.
        released = _col(A, "DATE_RELEASED")
        return (
            f[:city]
            + ["EAST", "ELMHURST"]
            + f[city + 1 : released]
            + ["2009-03-02 00:00:00.000"]
            + f[released:]
        )

    def extra_before_comp(
        f,
    ):  # docs/EOIR_FORMAT.md#tab-shifted-rows: B_TblProceeding extra tabs before COMP_DATE
        i = _col(P, "COMP_DATE")
        return f[:i] + [""] + f[i:]

    def junk_pk(f):  # docs/EOIR_FORMAT.md#junk-primary-keys: IDNPROCEEDING `FC`
        return ["FC"] + f[1:]

    def nul_inside(i):
        def edit(f):
            f = list(f)
            v = f[i] or "X"
            f[i] = v[: len(v) // 2] + "\x00" + v[len(v) // 2 :]
            return f

        return edit

    plan: list[tuple] = [
        # (kind, table, level, expected, detail, edit, insert_after)
        # As the real row: it ends with CASEPRIORITY_CODE `N/A`.
        ("tab_shift_empty_after_city", A, "case", "repaired", "an empty field inserted after ALIEN_CITY, last field `N/A`: 40 fields", lambda f: empty_after_city(f[:-1] + ["N/A"]), None),
        # The harder shape: the last field is empty, so the row also looks like one with an
        # extra trailing field; only the shifted ALIEN_STATE/ALIEN_ZIPCODE tell them apart.
        ("tab_shift_empty_after_city", A, "case", "repaired", "an empty field inserted after ALIEN_CITY, last field empty: 40 fields", empty_after_city, None),
        ("tab_shift_empty_after_city", A, "case", "repaired", "an empty field inserted after ALIEN_CITY, last field empty: 40 fields", empty_after_city, None),
        ("city_with_tab", A, "case", "repaired", "ALIEN_CITY `SAN<TAB>JUAN` (PR 00901): 40 fields", city_tab, None),
        ("ambiguous_extra_fields", A, "case", "rejected", "ALIEN_CITY `EAST<TAB>ELMHURST` and a stray date between DATE_DETAINED and DATE_RELEASED: 41 fields, no unique repair", ambiguous, None),
        ("short_row", A, "case", "repaired", "last 4 fields missing: 35 fields", lambda f: f[:35], None),
        ("nul_byte", A, "case", "loaded", "NUL inside ALIEN_CITY", nul_inside(city), None),
        ("nul_byte", A, "case", "loaded", "UPDATED_CITY is a lone NUL", _set(upd_city, "\x00"), None),
        ("cp1252_text", A, "case", "loaded", "ALIEN_CITY `CAÑON CITY` (0xD1)", lambda f: _set(state, "CO")(_set(city, "CAÑON CITY")(f)), None),
        ("cp1252_text", A, "case", "loaded", "ALIEN_CITY `SAN JOSÉ` (0xC9)", lambda f: _set(state, "CA")(_set(city, "SAN JOSÉ")(f)), None),
        ("cp1252_text", A, "case", "loaded", "ALIEN_CITY `COEUR D’ALENE` (0x92)", lambda f: _set(state, "ID")(_set(city, "COEUR D’ALENE")(f)), None),
        ("cp1252_text", A, "case", "loaded", "UPDATED_CITY `“EL CENTRO”` (0x93, 0x94)", _set(upd_city, "“EL CENTRO”"), None),
        ("null_spelling", A, "case", "loaded", "ALIEN_CITY `b6` (FOIA exemption marker)", _set(city, "b6"), None),
        ("null_spelling", A, "case", "loaded", "ALIEN_STATE `??`", _set(state, "??"), None),
        ("null_spelling", A, "case", "loaded", "ALIEN_ZIPCODE `00000`", _set(zipc, "00000"), None),
        ("null_spelling", A, "case", "loaded", "ALIEN_CITY all whitespace", _set(city, "   "), None),
        ("bogus_date", A, "case", "loaded", "DATE_OF_ENTRY 1900-01-01", _set(_col(A, "DATE_OF_ENTRY"), BOGUS_DATE), None),
        ("bogus_date", A, "case", "loaded", "ADDRESS_CHANGEDON 1900-01-01", _set(_col(A, "ADDRESS_CHANGEDON"), BOGUS_DATE), None),
        ("stray_quote", A, "case", "loaded", 'ALIEN_CITY `"BROOKLYN` (no quoting in EOIR files)', lambda f: _set(state, "NY")(_set(city, '"BROOKLYN')(f)), None),
        ("stray_quote", A, "case", "loaded", "ALIEN_CITY `ST. JOHN\"S`", _set(city, 'ST. JOHN"S'), None),
        ("tab_shift_extra_before_comp_date", P, "proc_no_appeal", "repaired", "an empty field inserted before COMP_DATE: 39 fields", extra_before_comp, None),
        ("tab_shift_extra_before_comp_date", P, "proc_no_appeal", "repaired", "an empty field inserted before COMP_DATE: 39 fields", extra_before_comp, None),
        ("junk_primary_key", P, "proc", "rejected", "an extra row, a copy of the row above with IDNPROCEEDING `FC`", None, junk_pk),
        ("nul_byte", P, "proc", "loaded", "NUL inside HEARING_TIME", nul_inside(_col(P, "HEARING_TIME")), None),
        ("bogus_date", P, "proc", "loaded", "OSC_DATE 1900-01-01", _set(_col(P, "OSC_DATE"), BOGUS_DATE), None),
        ("extra_trailing_field", C, "chg", "repaired", "one extra empty trailing field: 6 fields", lambda f: f + [""], None),
        ("extra_trailing_field", C, "chg", "repaired", "one extra empty trailing field: 6 fields", lambda f: f + [""], None),
        ("extra_trailing_field", C, "chg", "repaired", "one extra empty trailing field: 6 fields", lambda f: f + [""], None),
        ("short_row", C, "chg", "repaired", "CHG_STATUS missing: 4 fields", lambda f: f[:4], None),
        ("junk_charge_code", C, "chg", "loaded", "CHARGE `(212)(a)(06)(i)(   )(   )` (in the real lookup)", _set(3, "(212)(a)(06)(i)(   )(   )"), None),
        ("junk_charge_code", C, "chg", "loaded", "CHARGE `212(a)(3)(E)(iii) ` (in the real lookup)", _set(3, "212(a)(3)(E)(iii) "), None),
        ("junk_charge_code", C, "chg", "loaded", "CHARGE `<A>` (the lookup's TEST code)", _set(3, "<A>"), None),
        ("junk_charge_code", C, "chg", "loaded", "CHARGE `237a02Axx` (not in the lookup)", _set(3, "237a02Axx"), None),
        ("junk_charge_code", C, "chg", "loaded", "CHARGE `237a02Ai  I  ` (real lookup spelling, trailing spaces)", _set(3, "237a02Ai  I  "), None),
        ("nul_byte", C, "chg", "loaded", "NUL inside CHARGE", nul_inside(3), None),
        ("bogus_date", R, "rep", "loaded", "E_27_DATE 1900-01-01", _set(_col(R, "E_27_DATE"), BOGUS_DATE), None),
        ("nul_byte", R, "rep", "loaded", "BASE_CITY_CODE is a lone NUL", _set(_col(R, "BASE_CITY_CODE"), "\x00"), None),
    ]  # fmt: skip
    fp = c["first_proc"]
    appeal = (chunk.proc["dec"] > 0) & (chunk.proc["appeal_draw"] < 0.15)  # as _frame_proceedings
    need = {
        "case": lambda i: True,
        "proc": lambda i: True,
        # Only empty fields between DEPORTED_2 and COMP_DATE, so that dropping any one of them
        # gives the same row: the repair is unambiguous.
        "proc_no_appeal": lambda i: not appeal[fp[i]],
        "chg": lambda i: c["k"][i] > 0,
        "rep": lambda i: has_rep[i],
    }
    quirks = []
    for kind, table, level, expected, detail, edit, insert_after in plan:
        i = take(need[level])
        if i is None:
            continue  # too few inert cases (tiny releases): the quirk is skipped
        if level == "case":
            row = int(i)
        elif level.startswith("proc"):
            row = int(c["first_proc"][i])
        elif level == "chg":
            row = int(chg_first[c["first_proc"][i]])
        else:
            row = int(np.flatnonzero(chunk.proc["case"][chunk.rep["proc"]] == i)[0])
        quirks.append(Quirk(kind, table, row, expected, detail, edit, insert_after))
    return quirks


def apply_quirks(data: bytes, eol: bytes, quirks: list[Quirk]) -> bytes:
    lines = data.split(eol)
    assert lines[-1] == b""
    lines = lines[:-1]
    by_row = {q.row: q for q in quirks}
    out: list[bytes] = []
    for i, line in enumerate(lines):
        q = by_row.get(i)
        if q is None:
            out.append(line)
            continue
        fields = line.decode("ascii").split("\t")
        if q.edit is not None:
            new = q.edit(fields)
            q.key = new[0]
            q.fields = len("\t".join(new).split("\t"))
            q.source_line = len(out) + 2  # the header is line 1
            out.append(fmt.encode_row(new))
        else:
            out.append(line)
        if q.insert_after is not None:
            new = q.insert_after(fields)
            q.key = new[0]
            q.fields = len("\t".join(new).split("\t"))
            q.source_line = len(out) + 2
            out.append(fmt.encode_row(new))
    return eol.join(out) + eol


# Lookup quirks: NUL bytes in description fields only, so that a key never depends on stripping.
_LOOKUP_NULS = (
    ("tbllookupCharges", "strCode", "212a06Ai", "strCodeDescription"),
    ("tblLookupNationality", "NAT_CODE", "MX", "NAT_NAME"),
    ("tblLookupBaseCity", "BASE_CITY_CODE", "LOS", "BASE_CITY_NAME"),
)


def lookup_tables(quirks: bool, release_path: str) -> tuple[dict[str, list[list[str]]], list[dict]]:
    tables = ref.lookup_rows()
    records = []
    if quirks:
        for table, key_col, key, col in _LOOKUP_NULS:
            header = fmt.LOOKUP_HEADERS[table]
            k, j = header.index(key_col), header.index(col)
            for i, row in enumerate(tables[table]):
                if row[k] == key:
                    row[j] = row[j] + "\x00"
                    records.append(
                        {
                            "kind": "nul_byte", "table": table, "file": release_path + f"/{fmt.LOOKUP_FOLDER}/{table}.csv",
                            "source_line": i + 2, "key": key, "fields": len(header), "expected": "loaded",
                            "detail": f"NUL at the end of {col}",
                        }
                    )  # fmt: skip
    return tables, records
