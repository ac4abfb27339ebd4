"""Provenance carried by every chart and table: source, release, window, date, code version.

A chart built from a release whose id starts with ``synthetic`` (docs/SCHEMA.md) carries
SYNTHETIC_MARK inside the drawing itself (a bold subtitle plus a diagonal watermark on each
panel), so a PNG cut out of a report can never pass for a finding.
"""

from __future__ import annotations

import subprocess
import textwrap
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import altair as alt

from pipelines.charts.theme import FONT, FONT_SIZE, WIDTHS, Width

SYNTHETIC_MARK = "SYNTHETIC DATA \u2014 NOT A FINDING"
REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGE_NAME = "pd-pipeline"

# DejaVu Serif's mean advance is ~0.55 em for mixed text; used only to wrap footnotes so they
# stay inside the figure width (an overestimate wraps early, which is harmless).
_CHAR_EM = 0.55


@lru_cache(maxsize=1)
def code_version(repo: Path = REPO_ROOT) -> str:
    """``pd-pipeline <version> (git <short commit>)``; the package version alone outside a checkout."""
    try:
        version = metadata.version(PACKAGE_NAME)
    except metadata.PackageNotFoundError:
        version = "unknown"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=10", "HEAD"],
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{PACKAGE_NAME} {version}" + (f" (git {commit})" if commit else "")


@dataclass(frozen=True)
class Provenance:
    source: str  # e.g. "EOIR case data (FOIA)"
    release_id: str
    window_start: date | None = None
    window_end: date | None = None
    generated: date = field(default_factory=date.today)
    code_version: str = field(default_factory=code_version)
    # Free text for what the window means here; optional.
    note: str = ""
    # The date the pending docket is counted on (PD_PENDING_ON), where pending cases are shown.
    pending_on: date | None = None

    @property
    def synthetic(self) -> bool:
        return self.release_id.lower().startswith("synthetic")

    @property
    def window(self) -> str:
        if self.window_start and self.window_end:
            return f"{self.window_start.isoformat()} to {self.window_end.isoformat()}"
        if self.window_start:
            return f"from {self.window_start.isoformat()}"
        if self.window_end:
            return f"through {self.window_end.isoformat()}"
        return "all dates in the release"

    def footnote(self) -> str:
        """One line: ``Source: ...; release ...; window ...; generated ...; code ...``.

        The SYNTHETIC mark is not part of it: every renderer puts the mark where it shows most
        (chart subtitle and watermark, a table's first line).
        """
        parts = [f"Source: {self.source}", f"release {self.release_id}"]
        # A figure with no analysis window (ICE removals by fiscal year) names none.
        if self.window_start or self.window_end:
            parts.append(f"window {self.window}")
        if self.pending_on:
            parts.append(f"pending docket on {self.pending_on.isoformat()}")
        if self.note:
            parts.append(self.note)
        parts += [f"generated {self.generated.isoformat()}", self.code_version]
        return "; ".join(parts) + "."

    def footnote_lines(self, max_px: float, font_size: float = FONT_SIZE["footnote"]) -> list[str]:
        """The footnote wrapped to fit `max_px` at `font_size`."""
        chars = max(20, int(max_px / (font_size * _CHAR_EM)))
        return textwrap.wrap(self.footnote(), chars, break_on_hyphens=False)

    def as_dict(self) -> dict[str, str | bool]:
        d = {
            k: (v.isoformat() if isinstance(v, date) else v)
            for k, v in asdict(self).items()
            if v is not None
        }
        d["synthetic"] = self.synthetic
        return d


def watermark_layer(plot_width: float, plot_height: float) -> alt.Chart:
    """A low-opacity SYNTHETIC mark centred on a panel of the given plot size.

    Diagonal over two lines where the panel is roomy, one horizontal line on short wide
    panels, whichever allows the larger type. Sized to stay inside the plot area (text outside
    it would widen the figure's layout bounds). Positions are pixel values, not scaled fields,
    so layering it over a panel leaves the panel's scales untouched.
    """
    cos, sin = 0.94, 0.34  # 20 degrees
    two = ["SYNTHETIC DATA", "NOT A FINDING"]
    w2, h2 = 14 * 0.66, 2 * 1.25  # text box per unit font size
    rotated = min(plot_width / (w2 * cos + h2 * sin), plot_height / (w2 * sin + h2 * cos))
    flat = min(plot_width / (len(SYNTHETIC_MARK) * 0.78), plot_height / 1.4)
    if rotated >= flat:
        text, angle, size = "\n".join(two), 340, rotated
    else:
        text, angle, size = SYNTHETIC_MARK, 0, flat
    return (
        alt.Chart(alt.Data(values=[{"mark": text}]))
        .mark_text(
            angle=angle,
            font=FONT,
            fontSize=max(6.0, min(size, 28.0)),
            fontWeight="bold",
            color="#000000",
            opacity=0.12,
            align="center",
            baseline="middle",
            lineBreak="\n",
        )
        .encode(text="mark:N", x=alt.value(plot_width / 2), y=alt.value(plot_height / 2))
    )


def with_watermark(panel, plot_width: float, plot_height: float, provenance: Provenance):
    """`panel` layered with the SYNTHETIC watermark when the provenance is synthetic."""
    if not provenance.synthetic:
        return panel
    return alt.layer(panel, watermark_layer(plot_width, plot_height))


def footer_lines(provenance: Provenance, width_px: float, notes: list[str]) -> list[str]:
    """Notes, then the SYNTHETIC mark (when synthetic) and provenance, wrapped to `width_px`."""
    chars = max(20, int(width_px / (FONT_SIZE["footnote"] * _CHAR_EM)))
    footnote = provenance.footnote()
    if provenance.synthetic:
        footnote = f"{SYNTHETIC_MARK}. {footnote}"
    lines: list[str] = []
    for text in [*notes, footnote]:
        lines += textwrap.wrap(text, chars, break_on_hyphens=False)
    return lines


def finish(
    body,
    provenance: Provenance,
    title: str,
    width: Width,
    notes: list[str] | None = None,
) -> alt.VConcatChart:
    """Top-level figure: title (and SYNTHETIC subtitle) above the body, notes and provenance below.

    Both are titles framed on the full bounds (axes included), so they start at the figure's
    left edge; text is wrapped to the nominal `width` (column or page).
    """
    width_px = WIDTHS[width] - 8
    subtitle = [SYNTHETIC_MARK] if provenance.synthetic else []
    title_chars = max(20, int(width_px / (FONT_SIZE["title"] * 0.6)))
    top = alt.Title(
        textwrap.wrap(title, title_chars, break_on_hyphens=False),
        subtitle=subtitle or alt.Undefined,
        subtitleFontWeight="bold" if subtitle else alt.Undefined,
        subtitleFontSize=FONT_SIZE["title"] if subtitle else alt.Undefined,
        frame="bounds",
    )
    bottom = alt.Title(
        footer_lines(provenance, width_px, notes or []),
        orient="bottom",
        anchor="start",
        frame="bounds",
        fontSize=FONT_SIZE["footnote"],
        fontWeight="normal",
        lineHeight=FONT_SIZE["footnote"] * 1.3,
        offset=10,
    )
    return alt.vconcat(alt.vconcat(body, title=bottom), title=top)
