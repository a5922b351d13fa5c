#!/usr/bin/env bash
# Page images of the demo's annual awards report for the README (docs/images/).
#
# Seeds the demo into a temporary SQLite database, writes the 2026 report in English and
# French with `bounty report awards`, and turns a few pages into PNGs at about 100 dpi with
# pdftoppm (poppler-utils, installed with apt-get when missing):
#   awards-report-en-cover.png, -en-figures.png (the fund with its chart), -en-bounties.png,
#   -en-awards.png, awards-report-fr-cover.png, -fr-awards.png
# The section pages are found from the PDF's text, so the images follow the report's layout.
#
#   scripts/report_images.sh [YEAR]
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
year="${1:-2026}"
venv="$here/.venv/bin"
out="$here/docs/images"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if ! command -v pdftoppm >/dev/null; then
    apt-get install -y poppler-utils >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y poppler-utils >/dev/null; }
fi

export BOUNTY_DATABASE_URL="sqlite:///$work/demo.db"
cd "$here"
"$venv/bounty" db upgrade >/dev/null
"$venv/bounty" seed --demo >/dev/null
mkdir -p "$out"

# The page (1-based) whose text starts a section, from the PDF's own text.
page_of() {
    "$venv/python" - "$1" "$2" <<'PY'
import sys
from pypdf import PdfReader
pdf, heading = sys.argv[1], sys.argv[2]
pages = [page.extract_text() for page in PdfReader(pdf).pages]
for number, text in enumerate(pages[2:], start=3):  # after the cover and the contents
    if heading in text.splitlines()[:3]:
        print(number)
        break
else:
    sys.exit(f"{heading!r} is not a heading of {pdf}")
PY
}

shot() {  # PDF, page, image name
    pdftoppm -r 100 -png -singlefile -f "$2" -l "$2" "$1" "$work/page"
    "$venv/python" - "$work/page.png" "$out/$3.png" <<'PY'
import sys
from PIL import Image
image = Image.open(sys.argv[1])
image.convert("P", palette=Image.Palette.ADAPTIVE, colors=64).save(sys.argv[2], optimize=True)
PY
    echo "wrote docs/images/$3.png"
}

for lang in en fr; do
    pdf="$work/awards-$year-$lang.pdf"
    "$venv/bounty" report awards --year "$year" --output "$pdf" --lang "$lang"
    if [ "$lang" = en ]; then
        shot "$pdf" 1 "awards-report-en-cover"
        shot "$pdf" "$(page_of "$pdf" "The fund by jurisdiction")" "awards-report-en-fund"
        shot "$pdf" "$(page_of "$pdf" "Bounties by category and working group")" "awards-report-en-bounties"
        shot "$pdf" "$(page_of "$pdf" "The awards")" "awards-report-en-awards"
    else
        shot "$pdf" 1 "awards-report-fr-cover"
        shot "$pdf" "$(page_of "$pdf" "Les prix")" "awards-report-fr-awards"
    fi
done
