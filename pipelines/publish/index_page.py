"""``index.html`` for a report folder: every chart and table with its definition and provenance.

Rendered from an autoescaping jinja2 template (templates/index.html.j2), so text from the data
(lookup labels, court names) can never become markup. Charts are shown as ``<img>`` of their
SVG (relative links, so the folder can be zipped and moved; inline SVGs would collide on
clip-path ids), tables as HTML cells from the same suppressed frame as their CSV, Markdown and
LaTeX. A table scrolls in its own box instead of being cut off. Each item links all its files.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import jinja2
import polars as pl

from pipelines.charts.export import CHART_FORMATS
from pipelines.charts.families import FAMILIES, render_chart
from pipelines.charts.provenance import SYNTHETIC_MARK, Provenance
from pipelines.charts.theme import Width
from pipelines.tables.export import export_table, format_table
from pipelines.tables.layouts import TableSpec
from pipelines.tables.suppression import DEFAULT_THRESHOLD, suppress

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("pipelines.publish", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class HtmlTable:
    head: list[tuple[str, str]]
    rows: list[list[tuple[str, str]]]
    groups: list[tuple[str, int]] = field(default_factory=list)


@dataclass(frozen=True)
class ReportItem:
    kind: Literal["chart", "table", "document"]
    stem: str
    title: str
    definition: str
    paths: dict[str, Path]
    provenance: Provenance
    table: HtmlTable | None = None
    notes: Sequence[str] = field(default_factory=tuple)


def _rel(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_uri()


def html_table(
    df: pl.DataFrame,
    threshold: int = DEFAULT_THRESHOLD,
    column_labels: Mapping[str, str] | None = None,
    float_formats: Mapping[str, str] | None = None,
    hidden: Sequence[str] = (),
    column_groups: Sequence[tuple[str, int]] = (),
) -> HtmlTable:
    labels = dict(column_labels or {})
    cols, rows, aligns = format_table(df, threshold, float_formats, hidden=hidden)
    return HtmlTable(
        head=[(labels.get(c, c), a) for c, a in zip(cols, aligns, strict=True)],
        rows=[list(zip(r, aligns, strict=True)) for r in rows],
        groups=list(column_groups),
    )


def write_report_index(
    out_dir: str | Path,
    items: Sequence[ReportItem],
    provenance: Provenance,
    title: str = "PD closures: charts and tables",
) -> Path:
    """Write ``out_dir/index.html`` and return its path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    view = []
    for item in items:
        img = item.paths.get("svg") or item.paths.get("png")
        view.append(
            {
                "kind": item.kind,
                "stem": item.stem,
                "title": item.title,
                "definition": item.definition,
                "provenance": item.provenance,
                "image": _rel(img, out) if item.kind == "chart" and img is not None else None,
                "table": item.table,
                "notes": list(item.notes),
                "links": [(fmt.upper(), _rel(p, out)) for fmt, p in sorted(item.paths.items())],
            }
        )
    text = _ENV.get_template("index.html.j2").render(
        title=title,
        synthetic=provenance.synthetic,
        synthetic_mark=SYNTHETIC_MARK,
        footnote=provenance.footnote(),
        items=view,
    )
    path = out / "index.html"
    path.write_text(text, encoding="utf-8")
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
    chart_provenance: Mapping[str, Provenance] | None = None,
    documents: Sequence[ReportItem] = (),
) -> Path:
    """Export every chart (family name -> input frame) and table, then write index.html.

    `chart_notes` adds a note to an item (a chart's footnote and its index entry; a table's
    index entry); a note for a family with no frame, or an empty frame, is listed in the
    index as what could not be drawn and why. `chart_provenance` gives a chart its own
    sources. `progress` is called with each item's stem before it is exported. Returns the
    index path.
    """
    out = Path(out_dir)
    notes_for = dict(chart_notes or {})
    items: list[ReportItem] = []
    for family, frame in chart_frames.items():
        if progress:
            progress(family)
        base = (chart_provenance or {}).get(family, provenance)
        note = notes_for.pop(family, "")
        if frame.height == 0:
            fam = FAMILIES[family]
            items.append(
                ReportItem(
                    "chart",
                    family,
                    fam.title,
                    fam.definition,
                    {},
                    base,
                    notes=[note or "No rows to draw."],
                )
            )
            continue
        prov = replace(base, note=f"{base.note} {note}".strip()) if note else base
        r = render_chart(family, frame, out, prov, width, formats, threshold)
        items.append(
            ReportItem(
                "chart", r.stem, r.title, r.definition, r.paths, base, notes=[note] if note else []
            )
        )
    for spec in tables:
        if progress:
            progress(spec.stem)
        kwargs = dict(spec.export_kwargs)
        paths = export_table(
            spec.frame,
            out,
            spec.stem,
            provenance,
            spec.title,
            threshold=threshold,
            note=spec.definition,
            **kwargs,
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
        note = notes_for.pop(spec.stem, "")
        items.append(
            ReportItem(
                "table",
                spec.stem,
                spec.title,
                spec.definition,
                paths,
                provenance,
                html_table(
                    shown,
                    threshold,
                    kwargs.get("column_labels"),
                    kwargs.get("float_formats"),
                    hidden=[kwargs["total_col"]] if kwargs.get("total_col") else (),
                    column_groups=kwargs.get("column_groups", ()),
                ),
                notes=[note] if note else [],
            )
        )
    # Notes for items that have nothing to show (no model, no ICE data): listed, not dropped.
    for stem, note in notes_for.items():
        if note:
            fam = FAMILIES.get(stem)
            title = fam.title if fam else stem.replace("_", " ").capitalize()
            items.append(
                ReportItem(
                    "chart" if fam else "table", stem, title, "", {}, provenance, notes=[note]
                )
            )
    return write_report_index(out, [*items, *documents], provenance)
