"""``index.html`` for a report folder: every chart and table with its definition and provenance.

Charts are shown as ``<img>`` of their SVG (relative links, so the folder can be zipped and
moved; inline SVGs would collide on clip-path ids), tables as HTML rendered from the same
suppressed cells as their CSV/Markdown/LaTeX. Each item links all its files.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import polars as pl

from pipelines.charts.export import CHART_FORMATS
from pipelines.charts.families import render_chart
from pipelines.charts.provenance import SYNTHETIC_MARK, Provenance
from pipelines.charts.theme import Width
from pipelines.tables.export import export_table, to_html
from pipelines.tables.layouts import TableSpec
from pipelines.tables.suppression import DEFAULT_THRESHOLD, suppress


@dataclass(frozen=True)
class ReportItem:
    kind: Literal["chart", "table"]
    stem: str
    title: str
    definition: str
    paths: dict[str, Path]
    provenance: Provenance
    # For tables: the HTML <table> (pipelines.tables.export.to_html) shown inline.
    table_html: str | None = None
    notes: Sequence[str] = field(default_factory=tuple)


_CSS = """
body { font-family: 'DejaVu Serif', Georgia, serif; max-width: 60em; margin: 2em auto;
       color: #222; line-height: 1.4; padding: 0 1em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2.2em; }
.synthetic { border: 3px solid #000; padding: .4em .8em; font-weight: bold;
             letter-spacing: .05em; display: inline-block; }
.prov { font-size: .85em; color: #444; }
.files a { margin-right: .8em; font-size: .9em; }
figure { margin: 1em 0; } figure img { width: 100%; max-width: 46em; border: 1px solid #eee; }
table { border-collapse: collapse; font-size: .9em; margin: .5em 0; }
th, td { padding: .2em .6em; } thead th { border-top: 2px solid #222; border-bottom: 1px solid #222; }
tbody tr:last-child td { border-bottom: 2px solid #222; }
"""


def _rel(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_uri()


def write_report_index(
    out_dir: str | Path,
    items: Sequence[ReportItem],
    provenance: Provenance,
    title: str = "PD closures: charts and tables",
) -> Path:
    """Write ``out_dir/index.html`` and return its path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    esc = html.escape
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
    ]
    if provenance.synthetic:
        parts.append(f'<p class="synthetic">{esc(SYNTHETIC_MARK)}</p>')
    parts.append(f'<p class="prov">{esc(provenance.footnote())}</p>')
    parts.append("<ul>")
    parts += [f'<li><a href="#{esc(i.stem)}">{esc(i.title)}</a> ({i.kind})</li>' for i in items]
    parts.append("</ul>")
    for item in items:
        parts.append(f'<section id="{esc(item.stem)}"><h2>{esc(item.title)}</h2>')
        if item.provenance.synthetic:
            parts.append(f'<p class="synthetic">{esc(SYNTHETIC_MARK)}</p>')
        parts.append(f"<p>{esc(item.definition)}</p>")
        if item.kind == "chart":
            img = item.paths.get("svg") or item.paths.get("png")
            if img is not None:
                parts.append(
                    f'<figure><img src="{esc(_rel(img, out))}" alt="{esc(item.title)}"></figure>'
                )
        elif item.table_html:
            parts.append(item.table_html)
        parts += [f"<p>{esc(n)}</p>" for n in item.notes]
        parts.append(f'<p class="prov">{esc(item.provenance.footnote())}</p>')
        links = " ".join(
            f'<a href="{esc(_rel(p, out))}">{esc(fmt.upper())}</a>'
            for fmt, p in sorted(item.paths.items())
        )
        parts.append(f'<p class="files">Files: {links}</p></section>')
    parts.append("</body></html>")
    path = out / "index.html"
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return path


def build_report(
    out_dir: str | Path,
    provenance: Provenance,
    chart_frames: Mapping[str, pl.DataFrame],
    tables: Sequence[TableSpec] = (),
    width: Width = "column",
    formats: Sequence[str] = CHART_FORMATS,
    threshold: int = DEFAULT_THRESHOLD,
    progress: Callable[[str], None] | None = None,
    chart_notes: Mapping[str, str] | None = None,
) -> Path:
    """Export every chart (family name -> input frame) and table, then write index.html.

    `chart_notes` adds a note to one chart's footnote (e.g. categories a model could not estimate).

    `progress` is called with each item's stem before it is exported (e.g. a tqdm update).
    Returns the index path.
    """
    out = Path(out_dir)
    items: list[ReportItem] = []
    for family, frame in chart_frames.items():
        if progress:
            progress(family)
        note = (chart_notes or {}).get(family)
        prov = replace(provenance, note=f"{provenance.note} {note}".strip()) if note else provenance
        r = render_chart(family, frame, out, prov, width, formats, threshold)
        items.append(ReportItem("chart", r.stem, r.title, r.definition, r.paths, provenance))
    for spec in tables:
        if progress:
            progress(spec.stem)
        kwargs = dict(spec.export_kwargs)
        paths = export_table(
            spec.frame, out, spec.stem, provenance, spec.title, threshold=threshold, **kwargs
        )
        shown = spec.frame
        if kwargs.get("suppress_cols"):
            shown = suppress(
                spec.frame,
                kwargs["suppress_cols"],
                threshold,
                kwargs.get("derived_cols"),
                secondary=kwargs.get("secondary", True),
                secondary_by=kwargs.get("secondary_by"),
                total_col=kwargs.get("total_col"),
            )
        table_html = to_html(
            shown,
            threshold,
            kwargs.get("column_labels"),
            kwargs.get("float_formats"),
            hidden=[kwargs["total_col"]] if kwargs.get("total_col") else (),
        )
        items.append(
            ReportItem(
                "table", spec.stem, spec.title, spec.definition, paths, provenance, table_html
            )
        )
    return write_report_index(out, items, provenance)
