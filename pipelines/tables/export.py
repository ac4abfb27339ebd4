"""Export a publication table as CSV, Markdown and LaTeX (booktabs), each with its provenance.

Where the provenance goes (decided here, one rule for every table):

* CSV: a plain header row and data, nothing else, so any reader opens it as it is. The title,
  SYNTHETIC mark, suppression note and provenance go in a sidecar ``<stem>.csv-metadata.json``
  (the W3C "CSV on the Web" convention: ``dc:title``, ``dc:source``, notes, one entry per column).
  Suppressed counts print as ``<10`` or ``(s)``; values derived from them are empty; the
  ``suppressed`` column is ``true`` on such rows. Every cell that a spreadsheet would read as
  a formula (starting with ``=``, ``+``, ``-``, ``@``, TAB or CR, unless it is a number) is
  prefixed with ``'`` (OWASP's advice for CSV injection): :func:`neutralise_cell`.
* Markdown: a bold caption above the table (and the SYNTHETIC mark), notes and provenance in
  an italic footnote below; text is escaped for Markdown and HTML (:func:`md_escape`).
* LaTeX: a ``table`` float holding a ``threeparttable`` (caption, booktabs tabular, notes that
  wrap at the table's width); needs ``\\usepackage{booktabs,threeparttable}``. Provenance also as
  ``%`` comments at the top of the file. Long text columns are set as ragged ``p`` columns so
  the table fits ``\\textwidth``.
"""

from __future__ import annotations

import html
import json
import re
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

import polars as pl

from pipelines.charts.provenance import SYNTHETIC_MARK, Provenance
from pipelines.tables.suppression import (
    DEFAULT_THRESHOLD,
    SECONDARY_MARKER,
    SUPPRESSED_CELLS,
    SUPPRESSED_FLAG,
    cell_marker,
    marker,
    suppress,
    suppression_kinds,
)

TABLE_FORMATS = ("csv", "md", "tex")

_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    # OT1-encoded text fonts print < and > as inverted punctuation: go through math mode.
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "\u2014": "---",
    "\u2013": "--",
}
_LATEX_RE = re.compile("|".join(re.escape(k) for k in _LATEX_SPECIAL))


def latex_escape(text: str) -> str:
    """Escape LaTeX's special characters so `text` prints literally in a text-mode cell."""
    return _LATEX_RE.sub(lambda m: _LATEX_SPECIAL[m.group(0)], text)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d[\d,]*(\.\d*)?|\.\d+)([eE][+-]?\d+)?%?$")


def neutralise_cell(text: str) -> str:
    """A CSV cell a spreadsheet cannot run: formula-like text gets a leading ``'``."""
    if text.startswith(_FORMULA_START) and not _NUMBER.match(text):
        return "'" + text
    return text


_MD_SPECIAL = re.compile(r"([\\`*\[\]|])")


def md_escape(text: str) -> str:
    """Text that Markdown prints literally: HTML escaped, Markdown punctuation backslashed."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False).replace("\n", " "))


_md_escape = md_escape


def suppression_note(threshold: int = DEFAULT_THRESHOLD) -> str:
    return (
        f"Counts from 1 to {threshold - 1} are suppressed ({marker(threshold)}); further "
        f"counts, marked {SECONDARY_MARKER}, are suppressed so that none of them can be "
        f"recovered from totals or from the other tables and charts of the release; rates and "
        f"percentages derived from a suppressed count are left blank."
    )


def _is_integer(dtype: pl.DataType) -> bool:
    return dtype.is_integer()


_NUMERIC_TEXT = re.compile(r"^([-+]?[\d.,]+( \(reference\))?|\[[-\d., ]+\]|not estimable)$")


def _numbers_as_text(col: pl.Series) -> bool:
    """A text column of formatted numbers (an estimate, an interval, "not estimable"): set
    right-aligned like numbers."""
    if col.dtype != pl.String:
        return False
    cells = [v for v in col.to_list() if v]
    return bool(cells) and all(_NUMERIC_TEXT.match(v) for v in cells)


_MINUS = re.compile(r"(?<![\w])-(?=\d)")


def _tex_cell(text: str) -> str:
    """A cell escaped for LaTeX, with a minus sign (not a hyphen) before a negative number."""
    return (
        _MINUS.sub(r"\\textminus{}", latex_escape(text))
        if _MINUS.search(text)
        else latex_escape(text)
    )


def format_table(
    df: pl.DataFrame,
    threshold: int = DEFAULT_THRESHOLD,
    float_formats: Mapping[str, str] | None = None,
    *,
    for_csv: bool = False,
    hidden: Sequence[str] = (),
) -> tuple[list[str], list[list[str]], list[str]]:
    """(column names, rows of cell strings, alignments 'l'/'r') with the suppression marker.

    CSV cells are plain (no thousands separators, full float precision); display cells use
    thousands separators and `float_formats` (a ``str.format`` spec per column, default
    ``{:,.1f}``). The ``suppressed_cells`` helper column is dropped; ``suppressed`` stays only
    in CSV.
    """
    float_formats = dict(float_formats or {})
    hidden = {SUPPRESSED_CELLS, *hidden} | (set() if for_csv else {SUPPRESSED_FLAG})
    cols = [c for c in df.columns if c not in hidden]
    kinds = {c: suppression_kinds(df, c) for c in cols}
    rows: list[list[str]] = [[] for _ in range(df.height)]
    aligns = []
    for c in cols:
        dtype = df.schema[c]
        numeric = dtype.is_numeric()
        aligns.append("r" if numeric or _numbers_as_text(df[c]) else "l")
        for i, v in enumerate(df[c].to_list()):
            if kinds[c][i]:
                cell = cell_marker(kinds[c][i], threshold)
            elif v is None:
                cell = ""
            elif for_csv:
                cell = str(v).lower() if isinstance(v, bool) else str(v)
            elif _is_integer(dtype):
                cell = f"{v:,}"
            elif dtype.is_float():
                cell = float_formats.get(c, "{:,.1f}").format(v)
            elif isinstance(v, bool):
                cell = "yes" if v else "no"
            else:
                cell = str(v)
            rows[i].append(cell)
    return cols, rows, aligns


def _csv_line(cells: Sequence[str]) -> str:
    out = []
    for cell in cells:
        cell = neutralise_cell(cell)
        if any(ch in cell for ch in ',"\n\r'):
            cell = '"' + cell.replace('"', '""') + '"'
        out.append(cell)
    return ",".join(out)


def table_header_lines(
    provenance: Provenance, caption: str, threshold: int, suppressed: bool
) -> list[str]:
    lines = [caption]
    if provenance.synthetic:
        lines.append(SYNTHETIC_MARK)
    if suppressed:
        lines.append(suppression_note(threshold))
    lines.append(provenance.footnote())
    return lines


def write_csv(
    df: pl.DataFrame, path: Path, provenance: Provenance, caption: str, threshold: int
) -> Path:
    """The CSV (header and data only) and its ``-metadata.json`` sidecar with the provenance."""
    cols, rows, _ = format_table(df, threshold, for_csv=True)
    rows = _markers_within_inference(rows)
    has_supp = SUPPRESSED_FLAG in df.columns
    notes = table_header_lines(provenance, caption, threshold, has_supp)
    body = [_csv_line(cols)] + [_csv_line(r) for r in rows]
    path.write_text("\n".join(body) + "\n", encoding="utf-8")
    sidecar = {
        "@context": "http://www.w3.org/ns/csvw",
        "url": path.name,
        "dc:title": caption,
        "dc:source": provenance.source,
        "dc:created": provenance.generated.isoformat(),
        "notes": notes,
        "provenance": provenance.as_dict(),
        "tableSchema": {"columns": [{"name": c, "titles": c} for c in cols]},
    }
    metadata_path(path).write_text(json.dumps(sidecar, indent=1) + "\n", encoding="utf-8")
    return path


_NUMERIC = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")
# Readers that guess a column's type look at its first rows (polars: 100) and then refuse a
# value that does not fit, so a count column whose first marker ("<10") comes later would not
# open without options.
INFERENCE_ROWS = 100


def _markers_within_inference(rows: list[list[str]]) -> list[list[str]]:
    """`rows` with, for each column whose first non-numeric value lies beyond the first
    INFERENCE_ROWS rows of an otherwise numeric column, that row moved to the top (the others
    keep their order). Rows are rarely moved: only a long table whose small cells come late."""
    if len(rows) <= INFERENCE_ROWS:
        return rows
    lift: list[int] = []
    for j in range(len(rows[0]) if rows else 0):
        first_text = next(
            (i for i, r in enumerate(rows) if r[j] and not _NUMERIC.match(r[j])), None
        )
        numeric_before = first_text is not None and all(
            not r[j] or _NUMERIC.match(r[j]) for r in rows[:first_text]
        )
        if first_text is not None and first_text >= INFERENCE_ROWS and numeric_before:
            lift.append(first_text)
    if not lift:
        return rows
    moved = sorted(set(lift))
    return [rows[i] for i in moved] + [r for i, r in enumerate(rows) if i not in set(moved)]


def metadata_path(csv_path: Path) -> Path:
    return csv_path.with_name(csv_path.name + "-metadata.json")


def to_markdown(
    df: pl.DataFrame,
    provenance: Provenance,
    caption: str,
    threshold: int = DEFAULT_THRESHOLD,
    column_labels: Mapping[str, str] | None = None,
    float_formats: Mapping[str, str] | None = None,
    hidden: Sequence[str] = (),
    column_groups: Sequence[tuple[str, int]] = (),
    note: str = "",
) -> str:
    labels = dict(column_labels or {})
    cols, rows, aligns = format_table(df, threshold, float_formats, hidden=hidden)
    group_of = [g for g, span in column_groups for _ in range(span)] or [""] * len(cols)
    head = [
        _md_escape(f"{g}: {labels.get(c, c)}" if g else labels.get(c, c))
        for c, g in zip(cols, group_of, strict=False)
    ]
    sep = ["---:" if a == "r" else ":---" for a in aligns]
    out = [f"**{_md_escape(caption)}**", ""]
    if provenance.synthetic:
        out += [f"**{SYNTHETIC_MARK}**", ""]
    out.append("| " + " | ".join(head) + " |")
    out.append("| " + " | ".join(sep) + " |")
    out += ["| " + " | ".join(_md_escape(c) for c in r) + " |" for r in rows]
    out.append("")
    if note:
        out += [f"*Note:* {_md_escape(note)}", ""]
    if SUPPRESSED_FLAG in df.columns:
        out += [f"*Suppression:* {_md_escape(suppression_note(threshold))}", ""]
    out.append(f"*{provenance.footnote()}*")
    return "\n".join(out) + "\n"


# A text column whose longest cell is longer than this is set as a ragged p column.
_WRAP_CHARS = 22


def _latex_colspec(cols: Sequence[str], rows: list[list[str]], aligns: list[str], labels) -> str:
    spec = []
    for k, (c, a) in enumerate(zip(cols, aligns, strict=True)):
        longest = max([len(r[k]) for r in rows] + [len(labels.get(c, c))])
        if a == "l" and longest > _WRAP_CHARS:
            # About 0.5 em per character in an 11 pt article; at most 4.2 cm so numbers fit.
            width = min(3.4, 0.16 * min(longest, 30))
            spec.append(r">{\raggedright\arraybackslash}p{" + f"{width:.1f}cm" + "}")
        else:
            spec.append(a)
    return "@{}" + "".join(spec) + "@{}"


_HEAD_CHARS = 8


def _latex_head(text: str, align: str) -> str:
    """A header cell stacked over lines of about 11 characters, so headers do not set the
    width of a column of numbers."""
    lines = textwrap.wrap(text, _HEAD_CHARS, break_on_hyphens=False) or [""]
    if len(lines) == 1:
        return latex_escape(text)
    inner = r"\\".join(latex_escape(ln) for ln in lines)
    return r"\begin{tabular}[b]{@{}" + align + "@{}}" + inner + r"\end{tabular}"


def to_latex(
    df: pl.DataFrame,
    provenance: Provenance,
    caption: str,
    label: str,
    threshold: int = DEFAULT_THRESHOLD,
    column_labels: Mapping[str, str] | None = None,
    float_formats: Mapping[str, str] | None = None,
    hidden: Sequence[str] = (),
    column_groups: Sequence[tuple[str, int]] = (),
    note: str = "",
) -> str:
    labels = dict(column_labels or {})
    cols, rows, aligns = format_table(df, threshold, float_formats, hidden=hidden)
    notes = [latex_escape(note)] if note else []
    if provenance.synthetic:
        notes.append(r"\textbf{" + latex_escape(SYNTHETIC_MARK) + ".}")
    if SUPPRESSED_FLAG in df.columns:
        notes.append(latex_escape(suppression_note(threshold)))
    notes.append(latex_escape(provenance.footnote()))
    out = [f"% {SYNTHETIC_MARK}"] if provenance.synthetic else []
    out += [f"% {provenance.footnote()}"]
    out += [
        "% Requires \\usepackage{booktabs,threeparttable,array}.",
        r"\begin{table}[htbp]",
        r"\centering\small",
        r"\begin{threeparttable}",
        r"\caption{" + latex_escape(caption) + "}",
        r"\label{tab:" + re.sub(r"[^A-Za-z0-9:-]", "-", label) + "}",
        r"\begin{tabular}{" + _latex_colspec(cols, rows, aligns, labels) + "}",
        r"\toprule",
    ]
    if column_groups:
        heads, rules, at = [], [], 1
        for text, span in column_groups:
            heads.append(
                r"\multicolumn{" + f"{span}" + "}{c}{" + latex_escape(text) + "}" if text else ""
            )
            if text:
                rules.append(r"\cmidrule(lr){" + f"{at}-{at + span - 1}" + "}")
            at += span
        out.append(" & ".join(h for h in _spread(column_groups, heads)) + r" \\")
        out.append(" ".join(rules))
    out += [
        " & ".join(
            _latex_head(labels.get(c, c), a) if a == "r" else latex_escape(labels.get(c, c))
            for c, a in zip(cols, aligns, strict=True)
        )
        + r" \\",
        r"\midrule",
    ]
    out += [" & ".join(_tex_cell(c) for c in r) + r" \\" for r in rows]
    out += [
        r"\bottomrule",
        r"\end{tabular}",
        r"\begin{tablenotes}[flush left]\footnotesize\raggedright",
    ]
    out += [r"\item " + n for n in notes]
    out += [r"\end{tablenotes}", r"\end{threeparttable}", r"\end{table}"]
    return "\n".join(out) + "\n"


def _spread(groups: Sequence[tuple[str, int]], heads: list[str]) -> list[str]:
    """One cell per group: a multicolumn for a named group, empty cells for an unnamed one."""
    cells = []
    for (text, span), head in zip(groups, heads, strict=True):
        cells += [head] if text else [""] * span
    return cells


def to_html(
    df: pl.DataFrame,
    threshold: int = DEFAULT_THRESHOLD,
    column_labels: Mapping[str, str] | None = None,
    float_formats: Mapping[str, str] | None = None,
    hidden: Sequence[str] = (),
) -> str:
    """An HTML <table> of the formatted cells, for the report index."""
    labels = dict(column_labels or {})
    cols, rows, aligns = format_table(df, threshold, float_formats, hidden=hidden)
    style = {"r": ' style="text-align:right"', "l": ""}
    head = "".join(
        f"<th{style[a]}>{html.escape(labels.get(c, c))}</th>"
        for c, a in zip(cols, aligns, strict=True)
    )
    body = "".join(
        "<tr>"
        + "".join(f"<td{style[a]}>{html.escape(v)}</td>" for v, a in zip(r, aligns, strict=True))
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def export_table(
    df: pl.DataFrame,
    out_dir: str | Path,
    stem: str,
    provenance: Provenance,
    caption: str,
    suppress_cols: Sequence[str] = (),
    *,
    derived_cols: Mapping[str, Sequence[str]] | Sequence[str] | None = None,
    threshold: int = DEFAULT_THRESHOLD,
    secondary: bool = True,
    secondary_by: Sequence[str] | None = None,
    total_col: str | None = None,
    column_labels: Mapping[str, str] | None = None,
    float_formats: Mapping[str, str] | None = None,
    column_groups: Sequence[tuple[str, int]] = (),
    note: str = "",
    formats: Sequence[str] = TABLE_FORMATS,
) -> dict[str, Path]:
    """Write ``<stem>.csv``, ``.md``, ``.tex`` into `out_dir`; returns {format: path}.

    Counts in `suppress_cols` go through :func:`suppress` first (idempotent, so a frame that is
    already suppressed passes through unchanged); `derived_cols` are blanked with them.
    """
    unknown = set(formats) - set(TABLE_FORMATS)
    if unknown:
        raise ValueError(f"export_table: unknown formats {sorted(unknown)}; use {TABLE_FORMATS}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if suppress_cols:
        df = suppress(
            df,
            suppress_cols,
            threshold,
            derived_cols,
            secondary=secondary,
            secondary_by=secondary_by,
            total_col=total_col,
        )
    # The total flag drives suppression and stays in the CSV; printed tables show the row only.
    hidden = [total_col] if total_col else []
    paths: dict[str, Path] = {}
    if "csv" in formats:
        paths["csv"] = write_csv(df, out / f"{stem}.csv", provenance, caption, threshold)
    if "md" in formats:
        p = out / f"{stem}.md"
        p.write_text(
            to_markdown(
                df,
                provenance,
                caption,
                threshold,
                column_labels,
                float_formats,
                hidden,
                column_groups,
                note,
            ),
            encoding="utf-8",
        )
        paths["md"] = p
    if "tex" in formats:
        p = out / f"{stem}.tex"
        p.write_text(
            to_latex(
                df,
                provenance,
                caption,
                stem,
                threshold,
                column_labels,
                float_formats,
                hidden,
                column_groups,
                note,
            ),
            encoding="utf-8",
        )
        paths["tex"] = p
    return paths
