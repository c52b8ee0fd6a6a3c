#!/usr/bin/env bash
# The report pictures the README shows, regenerated from a store `recur demo` fills (plus ETTh1's global
# model, for a group section): docs/report-html.png (the HTML in headless Chromium, 1000 px wide) and
# docs/report-pdf-1.png, docs/report-pdf-2.png (the PDF's first two pages through poppler's pdftoppm), and
# docs/dashboard.png (`recur serve` on the same store, a sample generated from the page).
#     make docs-images        (about five minutes; needs chromium and pdftoppm: make programs)
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
R=(.venv/bin/recur --home "$work/home")
"${R[@]}" demo >/dev/null
"${R[@]}" forecast train ETTh1/OT --model gru --horizon 24 --lookback 48 --units 16 --epochs 3 --windows 3 >/dev/null
"${R[@]}" forecast train ETTh1 --model gru --horizon 24 --lookback 48 --units 16 --epochs 3 --windows 3 >/dev/null
"${R[@]}" forecast predict ETTh1 >/dev/null
"${R[@]}" textgen sample shakespeare --prompt 'JULIET:' --temperature 0.8 --seed 7 --length 400 >/dev/null
subjects=(--series airline --group ETTh1 --corpus shakespeare --since 2026-01-01)
"${R[@]}" report export "${subjects[@]}" --out "$work/report.html" >/dev/null
"${R[@]}" report export "${subjects[@]}" --out "$work/report.pdf" >/dev/null
browser=$(command -v chromium || command -v chromium-browser)
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$work/profile" \
  --window-size=1000,2600 --screenshot="$PWD/docs/report-html.png" "file://$work/report.html" 2>/dev/null
pdftoppm -r 60 -png -f 1 -l 2 "$work/report.pdf" docs/report-pdf
.venv/bin/python tools/dashboard_image.py "$work/home" docs/dashboard.png
ls -l docs/report-html.png docs/report-pdf-*.png docs/dashboard.png
