#!/usr/bin/env bash
# System packages the test suite needs beyond Python, from Debian's archive:
#   chromium           headless browser for tests/ops/test_ui.py (the asset-graph page and its screenshot)
#   fonts-dejavu-core  the serif font charts are drawn in: vl-convert draws no text at all with a
#                      font it cannot find (pipelines/charts/theme.py)
#   texlive-latex-recommended, texlive-latex-extra
#                      pdflatex, booktabs and threeparttable: tests/publish compiles every .tex
#                      table and the data appendix and fails on an overfull box
#   lmodern            lmodern.sty, the Latin Modern fonts the article and appendix load: a
#                      Recommends of texlive, so --no-install-recommends leaves it out
#   poppler-utils      pdftoppm, to look at the compiled pages as PNG
# Idempotent: installs only what is missing. CI runs as root; elsewhere sudo is used if present.
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing+=(chromium)
dpkg -s fonts-dejavu-core >/dev/null 2>&1 || missing+=(fonts-dejavu-core)
command -v pdflatex >/dev/null 2>&1 || missing+=(texlive-latex-recommended)
kpsewhich threeparttable.sty >/dev/null 2>&1 || missing+=(texlive-latex-extra)
kpsewhich lmodern.sty >/dev/null 2>&1 || missing+=(lmodern)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# fonts-dejavu-core: without recommends, chromium may have no font to draw page text with.
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" fonts-dejavu-core >/dev/null
command -v chromium >/dev/null 2>&1 || { echo "chromium still missing after install" >&2; exit 1; }
command -v pdflatex >/dev/null 2>&1 || { echo "pdflatex still missing after install" >&2; exit 1; }
kpsewhich lmodern.sty >/dev/null 2>&1 || { echo "lmodern.sty still missing after install" >&2; exit 1; }
