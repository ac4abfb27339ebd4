"""Compile LaTeX tables and the data appendix with a real TeX engine, and read its warnings.

An 11 pt article with 1 in margins is the journal page the tables must fit
(``\\textwidth`` = 6.5 in). :func:`compile_document` runs ``pdflatex`` (Debian
texlive-latex-recommended + texlive-latex-extra, installed by scripts/ci_system_deps.sh) and
returns the overfull boxes its log reports, so a test or a caller can refuse a table that runs
into the margin.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[margin=1in]{geometry}
\usepackage[T1]{fontenc}
\usepackage{lmodern}
\usepackage{booktabs,threeparttable,array,longtable}
\usepackage[hidelinks]{hyperref}
"""

_OVERFULL = re.compile(r"^Overfull \\[hv]box \(([\d.]+)pt too (wide|high)\)(.*)$", re.M)


class LatexError(Exception):
    """pdflatex is missing or failed; the message names the file and the first error."""


@dataclass(frozen=True)
class Compiled:
    pdf: Path | None
    overfull: list[str]
    log: str


def engine() -> str | None:
    return shutil.which("pdflatex")


def article(body: str, preamble: str = PREAMBLE) -> str:
    return preamble + "\\begin{document}\n" + body + "\n\\end{document}\n"


def compile_document(tex: str, out_pdf: Path | None = None, name: str = "document") -> Compiled:
    """Compile `tex` (a whole document) twice; return the PDF (copied to `out_pdf`) and the
    overfull boxes. Raises LatexError if there is no engine or the document does not compile."""
    exe = engine()
    if exe is None:
        raise LatexError(
            "pdflatex is not installed: run scripts/ci_system_deps.sh (Debian "
            "texlive-latex-recommended and texlive-latex-extra)"
        )
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / f"{name}.tex"
        src.write_text(tex, encoding="utf-8")
        log = ""
        for _ in range(2):
            proc = subprocess.run(
                [exe, "-interaction=nonstopmode", "-halt-on-error", src.name],
                cwd=tmp,
                capture_output=True,
                text=True,
                timeout=180,
                check=False,
            )
            log_path = src.with_suffix(".log")
            log = (
                log_path.read_text(encoding="utf-8", errors="replace")
                if log_path.exists()
                else proc.stdout
            )
            if proc.returncode != 0:
                first = next((ln for ln in log.splitlines() if ln.startswith("!")), "unknown error")
                raise LatexError(f"{name}.tex does not compile: {first}")
        overfull = [m.group(0) for m in _OVERFULL.finditer(log)]
        pdf = None
        if out_pdf is not None:
            out_pdf.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src.with_suffix(".pdf"), out_pdf)
            pdf = out_pdf
        return Compiled(pdf, overfull, log)


def tables_article(tables: Sequence[Path]) -> str:
    """An article that inputs every table file (read inline, so it compiles anywhere)."""
    parts = []
    for t in tables:
        parts.append(f"% {t.name}\n" + t.read_text(encoding="utf-8") + "\n\\clearpage\n")
    return article("\n".join(parts))
