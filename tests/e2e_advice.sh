#!/usr/bin/env bash
# e2e_advice.sh: the report's advice never contradicts itself (issue 20, item 3 and 5), on the
# committed beava-sim snapshot (the demo's) and on the generic tables fixture:
#   - no offender's recommendation saves 0 on the snapshot (or it names the offender that
#     already counts the same saving), and no slot (table, slot, variant) is in two offenders;
#   - rule R3 ("box smaller") is the layout advisor: an R3 offender's saving is the advisor's
#     "This row adds" for its variant, never "nothing more", and every "box smaller (R3)" in
#     the feature tables is for such a variant;
#   - every figure in an offender's recommendation is its own table's: R1's "USED of REQUESTED
#     requested bytes" is the path's row in the offender's field table, R2's "WASTE of CHUNK"
#     its instance line's;
#   - the chart's orange bands are exactly those holding a variant the advisor says boxing
#     shrinks, the dashed line at their left; rendered by headless Chromium (when installed),
#     no two text labels overlap.
# Prints "ok ..." / "not ok ..." lines.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${FIXDIR:?}" "${BIN:?}"
fails=0
ok() { echo "ok $*"; }
nok() { echo "not ok $*"; fails=$((fails + 1)); }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
snap="$FIXDIR/snapshots/sim-gcore-s11"
[ -s "$snap/core" ] || { nok "advice: $snap/core is missing (make fixtures)"; exit 1; }
"$BIN" -q -o "$tmp/beava.md" --json "$tmp/beava.json" "$snap/core" "$snap/beava-sim" 2> "$tmp/err" \
	|| nok "advice: profiling the demo snapshot failed: $(cat "$tmp/err")"
"$BIN" -q -o "$tmp/tables.md" --json "$tmp/tables.json" --root TABLES --enum Op "$FIXDIR/tables/core" \
	"$FIXDIR/tables/tables" 2> "$tmp/err" || nok "advice: profiling tables failed: $(cat "$tmp/err")"

for r in beava tables; do
python3 - "$tmp/$r.md" "$tmp/$r.json" "$tmp/$r.svg" "$r" <<'PY'
import json, re, sys
md, js = open(sys.argv[1]).read(), json.load(open(sys.argv[2]))
svg, name = open(sys.argv[3]).read(), sys.argv[4]
num = lambda s: int(s.replace(",", ""))
fails = []
def check(cond, what):
    print(("ok" if cond else "not ok") + " advice(%s): %s" % (name, what))
# the layout advisor's rows: variant -> what its row adds (0: nothing more)
adv = md.split("## Layout advisor", 1)[1].split("\n## ", 1)[0]
adds = {}
for row in re.findall(r"^\| \d+ \| (\S+) \| [\d,]+ \| [\d,]+ \| (\+[\d,]+|nothing more) \|$", adv, re.M):
    adds[row[0]] = 0 if row[1] == "nothing more" else num(row[1][1:])
offs = [o for o in js["offenders"] if o["recommendation"]["rule"] != "R5"]
zero = [o["label"] for o in offs if o["saving"]["bytes"] == 0 and o["saving"].get("counted_in_offender") is None]
check(not zero, "no offender's recommendation saves 0 (%d offenders)%s" % (len(offs), " " + str(zero) if zero else ""))
seen, dup = set(), []
for o in offs:
    for m in o["members"]:
        k = (m["table"], m["slot"], o["variant"])
        dup += [k] if k in seen else []
        seen.add(k)
check(not dup, "no slot is in two offenders (their savings are disjoint)%s" % (" " + str(dup[:3]) if dup else ""))
r3 = [o for o in offs if o["recommendation"]["rule"] == "R3"]
bad = [(o["variant"], o["saving"]["bytes"], adds.get(o["variant"])) for o in r3
       if o["saving"].get("counted_in_offender") is None and o["saving"]["bytes"] != adds.get(o["variant"])]
bad += [(o["variant"], "advisor: nothing more") for o in r3 if not adds.get(o["variant"])]
check(not bad, "R3 = the layout advisor: each R3 offender saves its advisor row's addition (%d R3)%s" % (len(r3), " " + str(bad) if bad else ""))
cells = re.findall(r"^\| \d+ \| .*? \| (\w+) \| [\d,]+ \| .* box smaller \(R3\) \|$", md, re.M)
cells += re.findall(r"^\| \d+ \| &nbsp;&nbsp;└ as (\w+) \| .* box smaller \(R3\) \|$", md, re.M)
badc = sorted(set(v for v in cells if not adds.get(v)))
check(not badc, "every 'box smaller (R3)' cell is a variant whose boxing the advisor says shrinks the enum%s" % (" " + str(badc) if badc else ""))
# offender text vs its own table
sections = re.split(r"^### \d+\. ", md.split("## Top 5 offenders", 1)[1].split("\n## ", 1)[0], flags=re.M)[1:]
mism = []
for sec in sections:
    rec = re.search(r"\*\*Recommendation: .*?\*\* \((R\d): (.*?)\); change:", sec)
    if not rec:
        mism.append(("no recommendation line", sec[:60])); continue
    rule, why = rec.groups()
    if rule == "R1":
        path, used, req = re.match(r"(.*): ([\d,]+) of ([\d,]+) requested bytes hold live elements", why).groups()
        rows = re.findall(r"^\| `" + re.escape(path) + r"` \| [^|]+ \| [\d,]+ \| ([\d,]+) \| ([\d,]+) \|", sec, re.M)
        if (sum(num(r[0]) for r in rows), sum(num(r[1]) for r in rows)) != (num(req), num(used)):
            mism.append((path, why, rows))
    if rule == "R2":
        waste, chunk = re.match(r"([\d,]+) of ([\d,]+) chunk bytes", why).groups()
        req, used, ch = re.search(r"heap requested ([\d,]+), used ([\d,]+), chunk ([\d,]+)", sec).groups()
        if (num(waste), num(chunk)) != (num(req) - num(used) + num(ch) - num(req), num(ch)):
            mism.append(why)
    saves = re.search(r"^- Saves on this snapshot: (.*)$", sec, re.M).group(1)
    if saves.startswith("0 ") :
        mism.append(("saves 0", saves))
check(sections and not mism, "every figure of an offender's text is its own table's (%d offenders)%s" % (len(sections), " " + str(mism[:2]) if mism else ""))
# the chart: orange bands are the advisor's candidates, the dashed line left of them
payload = {v["name"]: v["payload_size"] for v in js["enum"]["variants"]}
want = sorted(set((payload[v] - 1) // 8 if payload[v] else 0 for v, a in adds.items() if a))
rects = re.findall(r'<rect x="(\d+)" y="\d+" width="\d+" height="\d+" fill="([^"]+)"><title>payload (\d+)-(\d+) bytes', svg)
orange = sorted(int(r[3]) // 8 - 1 for r in rects if r[1] == "#f28e2b")
line = re.search(r'<line x1="([\d.]+)"[^>]*stroke-dasharray', svg)
ox = [int(r[0]) for r in rects if r[1] == "#f28e2b"]
good = orange == want and (not want or (line and all(float(line.group(1)) <= x for x in ox)))
check(good, "chart: orange bands %s are the advisor's candidates %s, the dashed line left of them" % (orange, want))
PY
done 2>&1 | tee "$tmp/py.out"
fails=$((fails + $(grep -c "^not ok" "$tmp/py.out")))
grep -q "^ok advice(beava): R3" "$tmp/py.out" || nok "advice: the checks did not run"

# Headless Chromium: the chart as a browser lays it out, no two labels overlapping.
chrome=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chrome" ]; then
	echo "ok advice: chart in Chromium # SKIP chromium not installed (scripts/deps.sh viewers)"
else
	# one page holding both charts (one browser start), each checked on its own
	{ echo '<!DOCTYPE html><html><body style="margin:0">'
	  for r in beava tables; do echo "<div id=\"$r\">"; sed 1d "$tmp/$r.svg"; echo '</div>'; done
	  cat <<'JS'
<script>
for (const d of document.querySelectorAll("body > div")) {
  const t = [...d.querySelectorAll("svg text")].map(e => [e.textContent, e.getBoundingClientRect()]);
  const hit = [];
  for (let i = 0; i < t.length; i++) for (let j = i + 1; j < t.length; j++) {
    const a = t[i][1], b = t[j][1];
    if (a.width && b.width && a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1)
      hit.push(t[i][0] + " / " + t[j][0]);
  }
  d.setAttribute("data-result", "labels=" + t.length + " overlaps=" + hit.length + (hit.length ? ": " + hit.slice(0, 3).join("; ") : ""));
}
</script></body></html>
JS
	} > "$tmp/charts.html"
	ud=$(mktemp -d)
	flags=(--headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking
	       --disable-component-update --disable-sync --user-data-dir="$ud")
	timeout 60 "$chrome" "${flags[@]}" --dump-dom "file://$tmp/charts.html" > "$tmp/charts.dom" 2>/dev/null
	timeout 60 "$chrome" "${flags[@]}" --screenshot="$tmp/beava.png" --window-size=1200,900 "file://$tmp/beava.svg" \
		> /dev/null 2>&1
	rm -rf "$ud"
	[ -s "$tmp/beava.png" ] && ok "advice: Chromium renders the demo's chart (screenshot)" || nok "advice: no screenshot"
	for r in beava tables; do
		res=$(grep -o "<div id=\"$r\" data-result=\"[^\"]*\"" "$tmp/charts.dom" | sed 's/.*data-result=//')
		grep -q 'overlaps=0"' <<<"$res" && ! grep -q 'labels=0 ' <<<"$res" \
			&& ok "advice($r): in Chromium no two labels of the chart overlap ($res)" \
			|| nok "advice($r): chart in Chromium: ${res:-no result}"
	done
fi
exit $((fails > 0))
