"""A second monthly release derived from tests/eoir/conftest.small_release, in the real layout.

EOIR's next release is a full snapshot in which some records appear, some disappear and some
change; `next_release` rewrites the tiny release that way, byte format kept (cp1252, TAB, CRLF,
nested `EOIR Case Data YYYY-MMDD/` folder, Count.txt recounted).
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

Rows = list[dict[str, str]]
Edit = Callable[[Rows], Rows]


def _parse(data: bytes) -> tuple[list[str], Rows]:
    lines = data.decode("cp1252").split("\r\n")
    header = lines[0].split("\t")
    rows = [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:] if line]
    return header, rows


def _unparse(header: list[str], rows: Rows) -> bytes:
    lines = ["\t".join(header), *("\t".join(r[h] for h in header) for r in rows)]
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def next_release(
    src_zip: Path, dst_dir: Path, dated: str, edits: dict[str, Edit] | None = None
) -> Path:
    """Copy `src_zip` into `dst_dir` under the dated folder `dated`, applying `edits` per table."""
    edits = edits or {}
    dst_dir.mkdir(parents=True, exist_ok=True)
    out = dst_dir / "EOIR Case Data.zip"
    with zipfile.ZipFile(src_zip) as zin:
        members = {i.filename: zin.read(i) for i in zin.infolist() if not i.is_dir()}
    counts: dict[str, int] = {}
    written: dict[str, bytes] = {}
    for name, data in members.items():
        parts = name.split("/")
        new_name = "/".join([dated, *parts[1:]])
        stem = parts[-1].rsplit(".", 1)[0]
        if parts[-1].lower().endswith(".csv"):
            header, rows = _parse(data)
            if stem in edits:
                rows = edits[stem](rows)
                data = _unparse(header, rows)
            counts[stem] = len(rows)
        written[new_name] = data
    count_name = next(n for n in written if n.endswith("/Count.txt"))
    written[count_name] = "".join(f"{k}\t{v}\r\n" for k, v in counts.items()).encode()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in written.items():
            zout.writestr(name, data)
    return out


def update(rows: Rows, key: str, value: str, **changes: str) -> Rows:
    return [{**r, **changes} if r[key] == value else r for r in rows]


def drop(rows: Rows, key: str, value: str) -> Rows:
    return [r for r in rows if r[key] != value]


def add_like(rows: Rows, key: str, value: str, **changes: str) -> Rows:
    template = next(r for r in rows if r[key] == value)
    return [*rows, {**template, **changes}]


def may_2026_edits() -> dict[str, Edit]:
    """The month after small_release: what a monthly EOIR update typically does.

    * proceeding 10 (a PD admin closure) is deleted with its charge 100;
    * proceeding 13 (pending) is completed with a PD termination (DEC_CODE I): an outcome and PD
      status change;
    * proceeding 11 (removal order) gets a corrected completion date: an outcome change only;
    * new proceeding 14 for case 2 with new charge 105;
    * charge 103 is re-coded from 212a02Ai  I to 212a06Ai (a severity category change).
    """
    return {
        "B_TblProceeding": lambda rows: add_like(
            update(
                update(
                    drop(rows, "IDNPROCEEDING", "10"),
                    "IDNPROCEEDING",
                    "13",
                    DEC_CODE="I",
                    COMP_DATE="2013-02-15 00:00:00.000",
                ),
                "IDNPROCEEDING",
                "11",
                COMP_DATE="2012-07-16 00:00:00.000",
            ),
            "IDNPROCEEDING",
            "11",
            IDNPROCEEDING="14",
            DEC_CODE="",
            COMP_DATE="",
            INPUT_DATE="2013-01-15 00:00:00.000",
        ),
        "B_TblProceedCharges": lambda rows: add_like(
            update(drop(rows, "IDNPRCDCHG", "100"), "IDNPRCDCHG", "103", CHARGE="212a06Ai"),
            "IDNPRCDCHG",
            "101",
            IDNPRCDCHG="105",
            IDNPROCEEDING="14",
        ),
        "tbl_RepsAssigned": lambda rows: drop(rows, "IDNREPSASSIGNED", "500"),
    }
