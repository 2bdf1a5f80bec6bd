#!/usr/bin/env bash
# The HTML report in a real headless browser (Debian's chromium): it loads with no console errors,
# its script runs, every chart is in the DOM, it needs no network, and the screenshot is a
# rendered page (many colours, not blank).
# Usage: DRIFTREC=path/to/driftrec report_test.sh WORKDIR
set -euo pipefail
bin=${DRIFTREC:?set DRIFTREC to the driftrec binary}
work=${1:?work directory}
here=$(cd "$(dirname "$0")" && pwd)
browser=$(command -v chromium || true)
[[ -n $browser ]] || { echo "FAIL chromium is not installed (scripts/install-deps.sh installs it)"; exit 1; }
rm -rf "$work" && mkdir -p "$work" && cd "$work"
fails=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; fails=$((fails + 1)); }
check() { local name=$1; shift; if "$@"; then pass "$name"; else fail "$name"; fi; }

"$bin" --log-level warn synth --preset ecommerce --users 300 --items 200 --seed 5 --out synth > /dev/null
"$bin" --log-level warn train --data synth --dedup --model pop --out m_pop > /dev/null
"$bin" --log-level warn train --data synth --dedup --model ials --set factors=16 --set iterations=4 --out m_ials > /dev/null
"$bin" --log-level warn train --data synth --dedup --model sasrec --set dim=16 --set layers=1 --set epochs=6 --set eval_every=2 --out m_sas > /dev/null
"$bin" --log-level warn report --data synth --model m_pop --model m_ials --model m_sas --sample-users 2 --out report.html > report.txt
check "report written" test -s report.html

timeout 120 "$browser" --headless --no-sandbox --disable-gpu --enable-logging=stderr --v=0 --window-size=1300,3600 \
  --screenshot="$work/shot.png" "file://$work/report.html" 2> console.txt > /dev/null || true
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --dump-dom "file://$work/report.html" 2> /dev/null > dom.html || true
check "the page script ran (console says ready with 13+ charts)" \
  bash -c "grep -o 'driftrec-report-ready [0-9]* charts' console.txt | awk '{exit !(\$2 >= 13)}'"
check "no JavaScript errors on the console" bash -c "! grep -E 'CONSOLE.*(Uncaught|Error)|:ERROR:CONSOLE' console.txt"
for id in comparison chart-loss chart-valid chart-hr-k chart-ndcg-k chart-deciles chart-coverage chart-tracking-tv chart-tracking-kl timeline-real-1 timeline-pred-1 heatmap-1 heatmap-2; do
  check "rendered DOM has #$id" grep -q "id=\"$id\"" dom.html
done
check "heat map has cells" test "$(grep -o 'class="cell"' dom.html | wc -l)" -ge 20
check "significance marks in the table" grep -q ' \*</td>' dom.html
check "no network references" bash -c "! grep -oE '(src|href)=\"https?://' report.html"
read -r w h colours nonwhite < <(/usr/bin/python3 "$here/png_stats.py" shot.png)
check "screenshot has the page's size" test "$w" -eq 1300 -a "$h" -eq 3600
check "screenshot is a rendered page ($colours colours, $nonwhite non-white)" \
  bash -c "test $colours -ge 50 && python3 -c 'import sys; sys.exit(not $nonwhite > 0.2)'"
# Asked at a time, the per-user timelines and heat maps are asked at it too (interest_timeline.h).
"$bin" --log-level warn report --data synth --model m_pop --model m_sas --sample-users 1 --request-at arrival \
  --out timed.html > /dev/null
check "a timed report says when its lists were asked" grep -q "asked for at each case&#39;s first target\|asked for at each case's first target" timed.html
check "a timed report draws the timeline" grep -q 'id="timeline-pred-1"' timed.html
set +e
"$bin" report --data synth --model m_pop --users nobody --out x.html > /dev/null 2> err.txt; rc=$?
set -e
check "unknown user: exit 2 naming it" bash -c "test $rc -eq 2 && grep -q \"'nobody'\" err.txt"

if [[ $fails -gt 0 ]]; then echo "$fails check(s) failed"; exit 1; fi
echo "all report checks passed"
