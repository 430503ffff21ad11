#!/usr/bin/env bash
# Regenerates libreoffice.xlsx from libreoffice.fods with LibreOffice, so the
# loader is tested on a workbook written by another program than excelize
# (shared strings, styles, date formats, booleans, a formula with its cached
# value). Needs: apt-get install libreoffice-calc. The output is checked in.
set -euo pipefail
cd "$(dirname "$0")"
soffice --headless --convert-to xlsx libreoffice.fods >/dev/null
