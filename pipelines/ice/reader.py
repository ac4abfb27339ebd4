"""Read ICE ERO-LESA Statistical Tracking Unit (STU) removal workbooks as ICE publishes them.

The layout facts this module relies on (evidence: docs/ICE_FORMAT.md#workbook-layout,
docs/ICE_FORMAT.md#columns-by-release, docs/ICE_FORMAT.md#ingestion-quirks):

- A cover block (title, FOIA number, date range) sits above the header row: the header is on
  row 7 in the 2025 and 2026 releases, on row 6 in 2023-ICFO-42034, elsewhere in the NYT
  FY2003-2013 release. The header row is therefore *found*, by matching the cells of the first
  `HEADER_SCAN_ROWS` rows against the known column names, never assumed.
- Big tables are split over several sheets with the same columns (Excel's 1,048,576-row limit);
  every data sheet is read and the sheets are concatenated.
- The FY2003-2013 NYT release (14-03290) has its data on sheet "Details" and prose on sheets
  Notes / Legend / Appendix, which are skipped by name.
- Column names drift between releases; `data/reference/ice_column_aliases.csv` maps each raw
  header to one canonical snake_case name and records the releases it was seen in. Headers are
  matched after `header_key()` (case, punctuation and spacing ignored).
- Codes such as NCIC `0301` / `70AA` must stay text, so every cell is read as a string. Excel
  dates arrive as `YYYY-MM-DD HH:MM:SS` strings (date-formatted cells) or as serial numbers
  (unformatted cells); `pipelines.ice.clean` parses both.

The workbook is read with polars.read_excel on the calamine engine (fastexcel), one call per
file for all sheets, with no header (`skip_rows=0` keeps leading blank rows so that frame row
i is Excel row i + 1, which gives `source_row`).

A formula cell holds the value its formula gave when the file was last calculated. A file
written by a program that never calculates (xlsxwriter writes 0 and asks Excel to recalculate on
load; openpyxl writes no value at all) holds no such value, and calamine reads 0 or nothing:
a departure date became NULL and a charge code `0399` became `0000`. Such cells are found in the
sheet XML (`formula_cells_without_value`), set to NULL and counted per file, sheet and column in
the report; the ICE asset reports them in a check, never as values.
"""

from __future__ import annotations

import csv
import re
import zipfile
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from xml.etree import ElementTree

import polars as pl

from pipelines.settings import REFERENCE_DIR

ALIASES_CSV = REFERENCE_DIR / "ice_column_aliases.csv"

# The header was found on row 6 or 7 in every known release; 20 leaves room for a longer
# cover block without letting a data row that happens to hold column-like words win.
HEADER_SCAN_ROWS = 20
# A header row must name at least this many known columns (cover-block lines hold one cell).
MIN_HEADER_MATCHES = 3
# Below this Jaccard score against every known release the layout is reported as unrecognized.
MIN_LAYOUT_SCORE = 0.6

# Without these a file cannot be a removals table this pipeline can use: the departure date
# gives the fiscal year, the identifier the duplicate flag, the MSC code the classification.
REQUIRED_COLUMNS = ("departed_date", "anonymized_identifier", "msc_charge_code")

# Sheets that hold prose, not records (14-03290: Notes, Legend, Appendix;
# docs/ICE_FORMAT.md#14-03290).
NON_DATA_SHEET = re.compile(
    r"^\s*(notes?|legend|appendix|read\s*me|cover|definitions?|glossary|title|sources?)\b",
    re.IGNORECASE,
)

META_COLUMNS = ("source_file", "source_sheet", "source_row")
UNMAPPED_PREFIX = "unmapped_"


class IceWorkbookError(ValueError):
    """An ICE workbook cannot be read as a removals table; the message says which and why."""

    def __init__(self, path: Path | str, sheet: str | None, problem: str, remedy: str):
        self.path = Path(path)
        self.sheet = sheet
        self.problem = problem
        self.remedy = remedy
        where = f"{self.path}" + (f", sheet {sheet!r}" if sheet is not None else "")
        super().__init__(f"{where}: {problem} What to do: {remedy}")


class CorruptWorkbookError(IceWorkbookError):
    """The file is not a readable xlsx workbook."""


class HeaderNotFoundError(IceWorkbookError):
    """No row near the top of a sheet names the known removal columns."""


class MissingColumnError(IceWorkbookError):
    """A header was found but a column the pipeline needs is absent."""


@dataclass(frozen=True)
class Alias:
    raw_header: str
    canonical_name: str
    releases: tuple[str, ...]
    evidence: str


def header_key(text: str) -> str:
    """Matching key of a header cell: lower case, punctuation and runs of spaces to one space.

    'Final Order Yes/No', 'final order yes no' and 'FINAL_ORDER_YES_NO' share one key.
    """
    return " ".join(re.sub(r"[^0-9a-z]+", " ", str(text).lower()).split())


def snake_name(text: str) -> str:
    return header_key(text).replace(" ", "_")


@lru_cache(maxsize=4)
def load_aliases(path: Path = ALIASES_CSV) -> tuple[Alias, ...]:
    with open(path, encoding="utf-8", newline="") as f:
        rows = [
            Alias(
                raw_header=r["raw_header"],
                canonical_name=r["canonical_name"],
                releases=tuple(x.strip() for x in r["releases"].split(";") if x.strip()),
                evidence=r["evidence"],
            )
            for r in csv.DictReader(f)
        ]
    keys: dict[str, str] = {}
    for a in rows:
        k = header_key(a.raw_header)
        if k in keys and keys[k] != a.canonical_name:
            raise ValueError(f"{path}: header {a.raw_header!r} maps to two canonical names")
        keys[k] = a.canonical_name
    return tuple(rows)


def alias_map(path: Path = ALIASES_CSV) -> dict[str, str]:
    """header_key(raw header) -> canonical name."""
    return {header_key(a.raw_header): a.canonical_name for a in load_aliases(path)}


def canonical_columns(path: Path = ALIASES_CSV) -> list[str]:
    """Canonical names in the order of the alias table (the staging column order)."""
    seen: dict[str, None] = {}
    for a in load_aliases(path):
        seen.setdefault(a.canonical_name, None)
    return list(seen)


def release_signatures(path: Path = ALIASES_CSV) -> dict[str, frozenset[str]]:
    """Known release -> the header keys of its removals table."""
    out: dict[str, set[str]] = {}
    for a in load_aliases(path):
        for rel in a.releases:
            out.setdefault(rel, set()).add(header_key(a.raw_header))
    return {k: frozenset(v) for k, v in out.items()}


def detect_layout(headers: list[str], path: Path = ALIASES_CSV) -> tuple[str, float]:
    """The known release whose header set best matches `headers` (Jaccard), and the score."""
    keys = {header_key(h) for h in headers if header_key(h)}
    best, score = "unrecognized", 0.0
    for rel, sig in sorted(release_signatures(path).items()):
        s = len(keys & sig) / len(keys | sig) if keys | sig else 0.0
        if s > score:
            best, score = rel, s
    if score < MIN_LAYOUT_SCORE:
        return f"unrecognized (closest: {best})", round(score, 3)
    return best, round(score, 3)


def is_lock_file(path: Path) -> bool:
    """Excel's `~$` owner files and macOS `._` resource forks are not workbooks."""
    return path.name.startswith("~$") or path.name.startswith("._")


def find_ice_files(folder: Path) -> list[Path]:
    """xlsx files under `folder` at any depth, sorted, skipping `~$` lock files.

    A folder that does not exist holds no ICE files: the result is empty, not an error.
    """
    folder = Path(folder)
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.suffix.lower() == ".xlsx" and not is_lock_file(p)
    )


_RELEASE_DATE_IN_NAME = re.compile(r"(?<!\d)(20\d{2})(\d{2})(\d{2})(?!\d)")


def release_date_from_filenames(paths: list[Path]) -> date | None:
    """The data date ICE puts in file names (`..._FY23_20260311_Redacted.xlsx`), the latest.

    None when no file name carries one (2023-ICFO-42034, 14-03290): pass the date yourself.
    """
    found: list[date] = []
    for p in paths:
        for y, m, d in _RELEASE_DATE_IN_NAME.findall(Path(p).name):
            try:
                found.append(date(int(y), int(m), int(d)))
            except ValueError:
                continue
    return max(found) if found else None


_SHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
# Any formula element (`<f>`, `<f t="shared" .../>`), with or without a namespace prefix.
_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z0-9]+:)?f[\s>/]")
_CELL_REF = re.compile(r"^([A-Z]+)(\d+)$")


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _has_formula(member) -> bool:
    """A cheap scan of a sheet's XML for a formula element (most ICE sheets have none)."""
    tail = b""
    while chunk := member.read(1 << 20):
        if _FORMULA_TAG.search(tail + chunk):
            return True
        tail = chunk[-16:]
    return False


def formula_cells_without_value(path: Path) -> dict[str, dict[tuple[int, int], str]]:
    """{sheet name: {(0-based row, 0-based column): formula}} for formula cells with no value.

    A formula cell has no usable value when the XML holds none (`<v>` absent or empty) or when the
    workbook asks to be recalculated on load (`fullCalcOnLoad`, written by programs that store a
    placeholder 0 instead of calculating). Column numbers count from the sheet's first used
    column, as calamine's do. A file that is not a readable zip returns {} (the xlsx reader names
    the damage).
    """
    out: dict[str, dict[tuple[int, int], str]] = {}
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return out
    with zf:
        try:
            wb = ElementTree.fromstring(zf.read("xl/workbook.xml"))
            rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
        except (KeyError, ElementTree.ParseError):
            return out
        calc = wb.find(f"{_SHEET_NS}calcPr")
        stale = calc is not None and calc.get("fullCalcOnLoad") in ("1", "true")
        targets = {
            r.get("Id"): r.get("Target", "") for r in rels.iter(f"{_PKG_REL_NS}Relationship")
        }
        names = set(zf.namelist())
        for sheet in wb.iter(f"{_SHEET_NS}sheet"):
            target = targets.get(sheet.get(f"{_REL_NS}id"), "")
            member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            if member not in names:
                continue
            with zf.open(member) as fh:
                if not _has_formula(fh):
                    continue
            cells: dict[tuple[int, int], str] = {}
            first_col = None
            with zf.open(member) as fh:
                for _, el in ElementTree.iterparse(fh):
                    if el.tag == f"{_SHEET_NS}dimension":
                        m = _CELL_REF.match((el.get("ref") or "").split(":")[0])
                        first_col = _col_index(m.group(1)) if m else 0
                    elif el.tag == f"{_SHEET_NS}c":
                        f = el.find(f"{_SHEET_NS}f")
                        if f is not None:
                            v = el.find(f"{_SHEET_NS}v")
                            if stale or v is None or not (v.text or "").strip():
                                m = _CELL_REF.match(el.get("r") or "")
                                if m:
                                    key = (int(m.group(2)) - 1, _col_index(m.group(1)))
                                    cells[key] = f.text or "(shared formula)"
                        el.clear()
                    elif el.tag == f"{_SHEET_NS}row":
                        el.clear()
            if cells:
                offset = first_col or 0
                out[sheet.get("name", "")] = {(r, c - offset): t for (r, c), t in cells.items()}
    return out


def _read_sheets(path: Path) -> dict[str, pl.DataFrame]:
    try:
        sheets = pl.read_excel(
            path,
            sheet_id=0,
            engine="calamine",
            has_header=False,
            # skip_rows=0 keeps blank rows above the cover block, so row i is Excel row i+1;
            # every cell as text keeps codes like 0301 and 70AA intact.
            read_options={"skip_rows": 0, "dtypes": "string"},
            drop_empty_rows=False,
            drop_empty_cols=False,
            raise_if_empty=False,
        )
    except Exception as exc:  # calamine raises its own error types for every kind of damage
        raise CorruptWorkbookError(
            path,
            None,
            f"not a readable xlsx workbook ({type(exc).__name__}: {str(exc).splitlines()[0]}).",
            "re-download or re-extract the file from the FOIA release, or move it out of the "
            "release folder if it is not part of it.",
        ) from exc
    return sheets


def _find_header(frame: pl.DataFrame, keys: dict[str, str]) -> tuple[int, int] | None:
    """(0-based row index of the header, number of known columns it names), or None."""
    best: tuple[int, int] | None = None
    for i, row in enumerate(frame.head(HEADER_SCAN_ROWS).iter_rows()):
        n = sum(1 for v in row if v is not None and header_key(v) in keys)
        if n >= MIN_HEADER_MATCHES and (best is None or n > best[1]):
            best = (i, n)
    return best


def _closest_row_text(frame: pl.DataFrame) -> str:
    for row in frame.head(HEADER_SCAN_ROWS).iter_rows():
        cells = [str(v) for v in row if v is not None and str(v).strip()]
        if len(cells) >= 3:
            return " | ".join(cells[:8])
    return "(no row with three or more filled cells)"


def _null_formula_cells(
    body: pl.DataFrame, header: list, header_idx: int, formulas: dict[tuple[int, int], str]
) -> tuple[pl.DataFrame, dict[str, int]]:
    """Set formula cells without a value to NULL; {header (or column letter): cells}."""
    by_col: dict[int, list[int]] = {}
    for (r, c), _ in formulas.items():
        i = r - (header_idx + 1)
        if 0 <= i < body.height and 0 <= c < body.width:
            by_col.setdefault(c, []).append(i)
    counts: dict[str, int] = {}
    exprs = []
    for c, rows in sorted(by_col.items()):
        name = body.columns[c]
        h = header[c] if c < len(header) and header[c] is not None else f"column {c + 1}"
        counts[str(h)] = len(rows)
        exprs.append(
            pl.when(pl.int_range(pl.len()).is_in(rows))
            .then(None)
            .otherwise(pl.col(name))
            .alias(name)
        )
    return (body.with_columns(exprs) if exprs else body), counts


def _read_data_sheet(
    path: Path,
    sheet: str,
    raw: pl.DataFrame,
    header_idx: int,
    keys: dict[str, str],
    formulas: dict[tuple[int, int], str] | None = None,
) -> tuple[pl.DataFrame, dict]:
    header = list(raw.row(header_idx))
    body = raw.slice(header_idx + 1)
    body, formula_counts = _null_formula_cells(body, header, header_idx, formulas or {})
    n_cols = len(header)
    names: list[str] = []
    raw_names: list[str] = []
    unknown: dict[str, str] = {}
    duplicate_alias: dict[str, str] = {}
    keep_idx: list[int] = []
    empty_unnamed_dropped = 0
    used: set[str] = set()
    for j in range(n_cols):
        h = header[j]
        col = body.get_column(body.columns[j])
        if h is None or not str(h).strip():
            if col.null_count() == body.height:
                # blank header over a blank column: trailing formatting, not data
                empty_unnamed_dropped += 1
                continue
            name = f"{UNMAPPED_PREFIX}column_{j + 1}"
            unknown[f"(blank header, column {j + 1})"] = name
        else:
            canon = keys.get(header_key(h))
            if canon is not None and canon not in used:
                name = canon
            else:
                name = f"{UNMAPPED_PREFIX}{snake_name(h) or f'column_{j + 1}'}"
                if canon is not None:
                    duplicate_alias[str(h)] = canon
                else:
                    unknown[str(h)] = name
        while name in used:  # two identical unknown headers
            name = f"{name}_{j + 1}"
        used.add(name)
        names.append(name)
        raw_names.append("" if h is None else str(h))
        keep_idx.append(j)

    data = body.select([body.columns[j] for j in keep_idx])
    data.columns = names
    n_before = data.height
    data = data.with_columns(
        pl.lit(path.name).alias("source_file"),
        pl.lit(sheet).alias("source_sheet"),
        # Excel row number: header_idx is 0-based, the first data row is header row + 1.
        pl.int_range(header_idx + 2, header_idx + 2 + data.height, dtype=pl.Int64).alias(
            "source_row"
        ),
    )
    data = data.filter(~pl.all_horizontal(pl.col(names).is_null())) if names else data.clear()
    data = data.select([*META_COLUMNS, *names])

    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        wanted = {
            c: sorted({a.raw_header for a in load_aliases() if a.canonical_name == c})
            for c in missing
        }
        raise MissingColumnError(
            path,
            sheet,
            f"the header on Excel row {header_idx + 1} has no column for "
            + "; ".join(f"{c} (known headers: {', '.join(wanted[c])})" for c in missing)
            + f". Headers found: {', '.join(h for h in raw_names if h)}.",
            "if the column is there under a new name, add that name to "
            "data/reference/ice_column_aliases.csv with the release it was seen in; "
            "otherwise this file is not a removals table.",
        )
    layout, score = detect_layout([h for h in raw_names if h])
    info = {
        "sheet": sheet,
        "status": "data",
        "header_row": header_idx + 1,
        "rows": data.height,
        "blank_rows_dropped": n_before - data.height,
        "layout": layout,
        "layout_score": score,
        "unknown_columns": unknown,
        "duplicate_alias_columns": duplicate_alias,
        "blank_columns_dropped": empty_unnamed_dropped,
        "formula_cells_without_value": formula_counts,
        "columns": names,
    }
    return data, info


def read_ice_workbook(path: Path) -> tuple[pl.DataFrame, dict]:
    """One workbook: every data sheet with its header found and columns renamed, concatenated."""
    path = Path(path)
    if not path.is_file():
        raise CorruptWorkbookError(
            path, None, "file not found.", "check the release folder and the path given."
        )
    keys = alias_map()
    sheets = _read_sheets(path)
    formulas = formula_cells_without_value(path)
    frames: list[pl.DataFrame] = []
    infos: list[dict] = []
    for sheet, raw in sheets.items():
        nonblank = raw.height - int(raw.select(pl.all_horizontal(pl.all().is_null()).sum()).item())
        found = _find_header(raw, keys) if raw.width else None
        if found is None:
            if NON_DATA_SHEET.search(sheet) or nonblank == 0:
                why = "empty sheet" if nonblank == 0 else "prose sheet (notes, legend, appendix)"
                infos.append({"sheet": sheet, "status": "skipped", "reason": why, "rows": 0})
                continue
            raise HeaderNotFoundError(
                path,
                sheet,
                f"none of the first {HEADER_SCAN_ROWS} rows names {MIN_HEADER_MATCHES} or more "
                f"known removal columns (first filled row: {_closest_row_text(raw)}).",
                "if this is a removals table with renamed columns, add the new header names to "
                "data/reference/ice_column_aliases.csv; if the sheet holds no records, rename it "
                "(Notes/Legend/Appendix are skipped) or remove the file from the release folder.",
            )
        data, info = _read_data_sheet(path, sheet, raw, found[0], keys, formulas.get(sheet))
        frames.append(data)
        infos.append(info)
    if not frames:
        raise HeaderNotFoundError(
            path,
            None,
            f"no sheet holds removal records (sheets: {', '.join(sheets) or 'none'}).",
            "check that this is an ICE removals workbook; remove it from the release folder "
            "if it is not.",
        )
    frame = pl.concat(frames, how="diagonal") if len(frames) > 1 else frames[0]
    return frame, {"file": path.name, "path": str(path), "sheets": infos}


def read_ice_release(paths: list[Path]) -> tuple[pl.DataFrame, dict]:
    """Read the workbooks of one ICE release into one frame of canonical columns.

    Returns the frame (source_file, source_sheet, source_row, then the canonical columns the
    files carry, then `unmapped_*` columns for headers the alias table does not know; every
    value is a string, as in the workbook) and a report: per file and sheet the header row,
    rows read, layout detected and unknown columns; overall totals.

    Raises CorruptWorkbookError, HeaderNotFoundError or MissingColumnError (all
    IceWorkbookError, a ValueError) naming the file and sheet. Nothing is written anywhere.
    """
    paths = [Path(p) for p in paths]
    files: list[dict] = []
    skipped: list[str] = []
    frames: list[pl.DataFrame] = []
    for p in sorted(paths):
        if is_lock_file(p):
            skipped.append(str(p))
            continue
        frame, info = read_ice_workbook(p)
        frames.append(frame)
        files.append(info)
    if not frames:
        raise IceWorkbookError(
            paths[0] if paths else Path("."),
            None,
            "no ICE workbook was given (only lock files, or an empty list).",
            "point the pipeline at the folder holding the release's xlsx files.",
        )
    frame = pl.concat(frames, how="diagonal") if len(frames) > 1 else frames[0]
    canon = canonical_columns()
    ordered = [c for c in canon if c in frame.columns]
    extra = [c for c in frame.columns if c not in canon and c not in META_COLUMNS]
    frame = frame.select([*META_COLUMNS, *ordered, *extra])

    unknown: dict[str, str] = {}
    duplicate_alias: dict[str, str] = {}
    rows_per_sheet: dict[str, int] = {}
    layouts: set[str] = set()
    formula_cells: dict[str, int] = {}
    for f in files:
        for s in f["sheets"]:
            if s["status"] != "data":
                continue
            rows_per_sheet[f"{f['file']}::{s['sheet']}"] = s["rows"]
            for col, n in s["formula_cells_without_value"].items():
                formula_cells[f"{f['file']}::{s['sheet']}::{col}"] = n
            unknown.update(s["unknown_columns"])
            duplicate_alias.update(s["duplicate_alias_columns"])
            layouts.add(s["layout"])
    report = {
        "files": files,
        "skipped_files": skipped,
        "rows": frame.height,
        "rows_per_sheet": rows_per_sheet,
        "unknown_columns": unknown,
        # a second header naming an already-mapped column (kept as unmapped_*)
        "duplicate_alias_columns": duplicate_alias,
        "layouts": sorted(layouts),
        "missing_canonical_columns": [c for c in canon if c not in frame.columns],
        # file::sheet::column -> formula cells without a stored value (read as NULL)
        "formula_cells_without_value": formula_cells,
    }
    return frame, report
