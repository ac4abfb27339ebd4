"""Export a publication table as CSV, Markdown and LaTeX (booktabs), each with its provenance.

Where the provenance goes (decided here, one rule for every table):

* CSV: leading ``#`` comment lines (title, SYNTHETIC mark, suppression note, provenance), then a
  plain header row and data. The file itself carries its provenance (docs/DECISIONS.md#provenance:
  "every file carries its provenance"); readers skip the lines with ``pl.read_csv(p,
  comment_prefix="#")``, ``pd.read_csv(p, comment="#")``, R ``read.csv(p, comment.char="#")``; Stata
  users ``import delimited`` with ``rowrange()``/``varnames()`` set past the comment block, whose
  length is the first line's ``comment_lines=N``. Suppressed counts print as ``<10``; values derived
  from them are empty; the ``suppressed`` column is ``true`` on such rows.
* Markdown: a bold caption above the table (and the SYNTHETIC mark), notes and provenance in
  an italic footnote below.
* LaTeX: a ``table`` float with ``\\caption``, a booktabs tabular (``\\toprule``,
  ``\\midrule``, ``\\bottomrule``; needs ``\\usepackage{booktabs}``) and a footnotesize note
  below; provenance also as ``%`` comments at the top of the file.
"""

from __future__ import annotations

import html
import re
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


def _md_escape(text: str) -> str:
    return text.replace("|", r"\|")


def suppression_note(threshold: int = DEFAULT_THRESHOLD) -> str:
    return (
        f"Counts from 1 to {threshold - 1} are suppressed ({marker(threshold)}); where one "
        f"suppressed count could be recovered from a total, the next smallest count is "
        f"suppressed too, marked {SECONDARY_MARKER}; rates and percentages derived from a "
        f"suppressed count are left blank."
    )


def _is_integer(dtype: pl.DataType) -> bool:
    return dtype.is_integer()


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
        aligns.append("r" if numeric else "l")
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
        if any(ch in cell for ch in ',"\n\r') or cell.startswith("#"):
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
    cols, rows, _ = format_table(df, threshold, for_csv=True)
    has_supp = SUPPRESSED_FLAG in df.columns
    notes = table_header_lines(provenance, caption, threshold, has_supp)
    comment = [f"# comment_lines={len(notes) + 1}"] + ["# " + n.replace("\n", " ") for n in notes]
    body = [_csv_line(cols)] + [_csv_line(r) for r in rows]
    path.write_text("\n".join(comment + body) + "\n", encoding="utf-8")
    return path


def to_markdown(
    df: pl.DataFrame,
    provenance: Provenance,
    caption: str,
    threshold: int = DEFAULT_THRESHOLD,
    column_labels: Mapping[str, str] | None = None,
    float_formats: Mapping[str, str] | None = None,
    hidden: Sequence[str] = (),
) -> str:
    labels = dict(column_labels or {})
    cols, rows, aligns = format_table(df, threshold, float_formats, hidden=hidden)
    head = [_md_escape(labels.get(c, c)) for c in cols]
    sep = ["---:" if a == "r" else ":---" for a in aligns]
    out = [f"**{_md_escape(caption)}**", ""]
    if provenance.synthetic:
        out += [f"**{SYNTHETIC_MARK}**", ""]
    out.append("| " + " | ".join(head) + " |")
    out.append("| " + " | ".join(sep) + " |")
    out += ["| " + " | ".join(_md_escape(c) for c in r) + " |" for r in rows]
    out.append("")
    if SUPPRESSED_FLAG in df.columns:
        out += [f"*Note:* {suppression_note(threshold)}", ""]
    out.append(f"*{provenance.footnote()}*")
    return "\n".join(out) + "\n"


def to_latex(
    df: pl.DataFrame,
    provenance: Provenance,
    caption: str,
    label: str,
    threshold: int = DEFAULT_THRESHOLD,
    column_labels: Mapping[str, str] | None = None,
    float_formats: Mapping[str, str] | None = None,
    hidden: Sequence[str] = (),
) -> str:
    labels = dict(column_labels or {})
    cols, rows, aligns = format_table(df, threshold, float_formats, hidden=hidden)
    notes = []
    if provenance.synthetic:
        notes.append(r"\textbf{" + latex_escape(SYNTHETIC_MARK) + ".}")
    if SUPPRESSED_FLAG in df.columns:
        notes.append(latex_escape(suppression_note(threshold)))
    notes.append(latex_escape(provenance.footnote()))
    out = [f"% {SYNTHETIC_MARK}"] if provenance.synthetic else []
    out += [f"% {provenance.footnote()}"]
    out += [
        "% Requires \\usepackage{booktabs}.",
        r"\begin{table}[htbp]",
        r"\centering",
        r"\caption{" + latex_escape(caption) + "}",
        r"\label{tab:" + re.sub(r"[^A-Za-z0-9:-]", "-", label) + "}",
        r"\begin{tabular}{" + "".join(aligns) + "}",
        r"\toprule",
        " & ".join(latex_escape(labels.get(c, c)) for c in cols) + r" \\",
        r"\midrule",
    ]
    out += [" & ".join(latex_escape(c) for c in r) + r" \\" for r in rows]
    out += [
        r"\bottomrule",
        r"\end{tabular}",
        r"\par\smallskip",
        r"\parbox{\linewidth}{\footnotesize " + " ".join(notes) + "}",
        r"\end{table}",
    ]
    return "\n".join(out) + "\n"


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
            to_markdown(df, provenance, caption, threshold, column_labels, float_formats, hidden),
            encoding="utf-8",
        )
        paths["md"] = p
    if "tex" in formats:
        p = out / f"{stem}.tex"
        p.write_text(
            to_latex(
                df, provenance, caption, stem, threshold, column_labels, float_formats, hidden
            ),
            encoding="utf-8",
        )
        paths["tex"] = p
    return paths
