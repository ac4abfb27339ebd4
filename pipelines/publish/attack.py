"""The attack on a report folder as published: can any suppressed count be given back?

Reads only the files a reader gets (no warehouse): every CSV (tables and the data behind each
chart), and checks the other renderings against them.

* Linear recovery: the printed cells of all files together, the equations a reader can form
  (pipelines.publish.cells: rows and columns adding up to totals, the same cell in another
  table or chart, courts and quarters adding up to the window) solved for the suppressed cells;
  any cell the system determines is recovered (pipelines.publish.disclosure).
* Derived values: a rate, share or interval printed where a count behind it is suppressed.
* Other renderings: every Markdown, LaTeX and index.html table prints a marker where its CSV
  does, and no Vega-Lite dataset holds a number where the CSV holds a marker.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import polars as pl

from pipelines.publish.cells import (
    CELL_MAPS,
    TOTAL,
    UNPRINTED,
    build_equations,
    frame_cells,
    frame_name,
)
from pipelines.publish.disclosure import CellSet, Key, solve

_MARKER = re.compile(r"^(<\d+|\(s\))$")
# Columns the CSV carries that no printed table shows.
_NOT_PRINTED = {"suppressed", "is_total"}


@dataclass
class AttackResult:
    recovered: dict[Key, float] = field(default_factory=dict)
    leaks: list[str] = field(default_factory=list)
    suppressed: int = 0
    files: int = 0

    @property
    def ok(self) -> bool:
        return not self.recovered and not self.leaks


def _value(text: str | None) -> int | None:
    if text is None or text == "" or _MARKER.match(text):
        return None
    return int(float(text.replace(",", "")))


def _read(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False)


class _Cells(HTMLParser):
    """Body cells of each <table> in an HTML page, row by row."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._section = ""
        self._in_body = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "section":
            self._section = dict(attrs).get("id") or ""
        elif tag == "tbody":
            self._in_body = True
            self.tables[self._section] = []
        elif tag == "tr" and self._in_body:
            self.tables[self._section].append([])
        elif tag == "td" and self._in_body:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "tbody":
            self._in_body = False
        elif tag == "td" and self._cell is not None:
            self.tables[self._section][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _md_rows(text: str) -> list[list[str]]:
    lines = [ln for ln in text.splitlines() if ln.startswith("| ")]
    rows = []
    for ln in lines[2:]:  # header and alignment row first
        cells = re.split(r"(?<!\\) \| ", ln[2:-2])
        rows.append([html.unescape(re.sub(r"\\(.)", r"\1", c)).strip() for c in cells])
    return rows


def _tex_rows(text: str) -> list[list[str]]:
    body = text.split("\\midrule", 1)[1].split("\\bottomrule", 1)[0]
    rows = []
    for ln in body.strip().splitlines():
        ln = ln.strip().removesuffix("\\\\").strip()
        cells = [c.strip() for c in re.split(r"(?<!\\)&", ln)]
        rows.append([c.replace("\\textless{}", "<").replace("\\textgreater{}", ">") for c in cells])
    return rows


def _printed_grid(csv: pl.DataFrame) -> list[list[str]]:
    cols = [c for c in csv.columns if c not in _NOT_PRINTED]
    return [[r[c] or "" for c in cols] for r in csv.select(cols).iter_rows(named=True)]


def _compare(name: str, csv_grid: list[list[str]], shown: list[list[str]], out: list[str]) -> None:
    if len(shown) != len(csv_grid):
        out.append(f"{name}: {len(shown)} rows printed, {len(csv_grid)} in the CSV")
        return
    for i, (a, b) in enumerate(zip(csv_grid, shown, strict=True)):
        for j, cell in enumerate(a):
            other = b[j] if j < len(b) else ""
            if _MARKER.match(cell) and other != cell:
                out.append(f"{name}: row {i + 1} column {j + 1} prints {other!r} for {cell}")
            if cell == "" and other != "":
                out.append(f"{name}: row {i + 1} column {j + 1} prints {other!r}, blank in CSV")


def _json_rows(spec) -> list[dict]:
    rows: list[dict] = []
    for values in (spec.get("datasets") or {}).values():
        rows += [v for v in values if isinstance(v, dict)]

    def walk(node):
        if isinstance(node, dict):
            data = node.get("data")
            if isinstance(data, dict) and isinstance(data.get("values"), list):
                rows.extend(v for v in data["values"] if isinstance(v, dict))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(spec)
    return rows


def attack_report(out_dir: Path, window_start: date, window_end: date) -> AttackResult:
    """Attack every published file in `out_dir` (see the module docstring)."""
    out_dir = Path(out_dir)
    result = AttackResult()
    values: dict[Key, int | None] = {}
    csvs: dict[str, pl.DataFrame] = {}
    for path in sorted(out_dir.glob("*.csv")):
        name = frame_name(path.stem)
        if name is None:
            continue
        df = _read(path)
        csvs[path.stem] = df
        result.files += 1
        for key, _col, text in frame_cells(name, df):
            v = _value(text)
            if v is not None:
                values[key] = v
            else:
                values.setdefault(key, None)
    hidden = {k for k, v in values.items() if v is None}
    result.suppressed = len(hidden)

    # Derived values printed beside a suppressed count.
    for stem, df in csvs.items():
        cmap = CELL_MAPS[frame_name(stem)]
        for i, row in enumerate(df.iter_rows(named=True)):
            for dcol, sources in cmap.derived.items():
                if dcol in row and row[dcol] not in (None, ""):
                    if any(s in row and _value(row[s]) is None and row[s] for s in sources):
                        result.leaks.append(
                            f"{stem}.csv row {i + 1}: {dcol} printed beside a suppressed count"
                        )
            for scol, ccol in cmap.shares.items():
                total = (cmap.counts[ccol], "category", TOTAL)
                if total in hidden and row.get(scol) not in (None, ""):
                    result.leaks.append(
                        f"{stem}.csv row {i + 1}: {scol} printed, its total is suppressed"
                    )

    # Linear recovery from all files together.
    cells = CellSet()
    cells.values = dict(values)  # type: ignore[assignment]
    build_equations(cells, window_start, window_end)
    result.recovered = {
        k: v
        for k, v in solve(cells.values, cells.equations).items()
        if not k[0].startswith(UNPRINTED)  # a sum no file prints: knowing it reveals no cell
    }

    # The other renderings print what their CSV prints.
    index = out_dir / "index.html"
    parsed = _Cells()
    if index.exists():
        parsed.feed(index.read_text(encoding="utf-8"))
    for stem, df in csvs.items():
        grid = _printed_grid(df)
        for ext, reader in ((".md", _md_rows), (".tex", _tex_rows)):
            p = out_dir / f"{stem}{ext}"
            if p.exists():
                _compare(p.name, grid, reader(p.read_text(encoding="utf-8")), result.leaks)
        spec_path = out_dir / f"{stem}.json"
        if spec_path.exists():
            name = frame_name(stem)
            cmap = CELL_MAPS[name]
            spec = json.loads(spec_path.read_text(encoding="utf-8"))
            for row in _json_rows(spec):
                try:
                    dims = cmap.dims(row)
                except (KeyError, TypeError):
                    continue
                for col, measure in cmap.counts.items():
                    if (measure, *dims) in hidden and isinstance(row.get(col), (int, float)):
                        result.leaks.append(f"{spec_path.name}: {col} of {dims} is {row[col]}")
    for stem, df in csvs.items():
        if (out_dir / f"{stem}.md").exists():
            shown = parsed.tables.get(stem)
            if shown is None:
                result.leaks.append(f"index.html: no table for {stem}")
            else:
                _compare(f"index.html {stem}", _printed_grid(df), shown, result.leaks)
    return result
