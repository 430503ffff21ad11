#!/usr/bin/env bash
# Regenerates the LibreOffice files of the corpus from libreoffice-users.fods
# (flat OpenDocument, written by hand): the workbook as LibreOffice saves
# .xlsx, and its first sheet as LibreOffice exports CSV. Needs LibreOffice
# (apt-get install libreoffice-calc-nogui); the outputs are checked in, so
# the tests do not need it. Then: go test ./loader -run TestRealWorld -update
set -euo pipefail
cd "$(dirname "$0")"
soffice --headless --convert-to xlsx libreoffice-users.fods >/dev/null
# Filter options: separator 44 (,), text delimiter 34 ("), UTF-8 (76).
soffice --headless --convert-to 'csv:Text - txt - csv (StarCalc):44,34,76' libreoffice-users.fods >/dev/null
mv libreoffice-users.csv libreoffice-export.csv
# A number shown zero-padded by its format (0000000): read as shown, from
# the workbook as from its CSV export (TestPaddedNumberAsShown).
soffice --headless --convert-to xlsx libreoffice-padded.fods >/dev/null
soffice --headless --convert-to 'csv:Text - txt - csv (StarCalc):44,34,76' libreoffice-padded.fods >/dev/null
