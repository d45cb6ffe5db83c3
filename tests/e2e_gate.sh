#!/usr/bin/env bash
# e2e_gate.sh: the README's CI recipe ("CI: a memory gate"), run for real.
# The committed snapshot fixtures/snapshots/sim-gcore-s11 keeps its baseline profile
# (baseline-profile.json, written by `aggop-inspect --json`) and its limits (memory-gate.txt)
# beside it.  The CI job profiles the snapshot and diffs it with the baseline under the limits:
#   - the baseline is a profile of that snapshot: its totals are the sim's own truth.json's;
#   - the same snapshot holds the gate: exit 0, no gate line;
#   - a grown workload (the other committed snapshot, sim-kernel-s7: same executable, 5000
#     events and 500 keys instead of 4000 and 400) breaks it: exit 5, and exactly the figures
#     the two truths say exceed the limits (recomputed here from the truths, in Python) get a
#     line each, naming the figure, its old and new values (the truths') and the limit;
#     the markdown and JSON diffs are still written and say so.
# Prints "ok ..." / "not ok ..." lines.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${FIXDIR:?}" "${BIN:?}"
fails=0
ok() { echo "ok $*"; }
nok() { echo "not ok $*"; fails=$((fails + 1)); }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
base=fixtures/snapshots/sim-gcore-s11
old="$FIXDIR/snapshots/sim-gcore-s11" new="$FIXDIR/snapshots/sim-kernel-s7"
for f in "$base/baseline-profile.json" "$base/memory-gate.txt" "$old/core" "$new/core" "$old/truth.json" "$new/truth.json"; do
	[ -s "$f" ] || { nok "gate: $f is missing (make fixtures)"; exit 1; }
done

# The baseline is what it says: a profile of the snapshot whose totals are the sim's truth.
python3 - "$base/baseline-profile.json" "$old/truth.json" <<'PY' && ok "gate: the committed baseline's totals are the snapshot's truth" || nok "gate: baseline vs truth"
import json, sys
b, t = (json.load(open(p)) for p in sys.argv[1:3])
assert b["format_version"] == 1, b.get("format_version")
for k in ("entities", "ops", "inline_bytes", "heap_requested_bytes", "heap_used_bytes", "heap_usable_bytes", "heap_chunk_bytes"):
    assert b["totals"][k] == t["totals"][k], (k, b["totals"][k], t["totals"][k])
assert b["per_entity_bytes"] == t["per_entity_bytes"]
PY

# The recipe, on the same snapshot: the gate holds.
"$BIN" diff --thresholds "$base/memory-gate.txt" -o "$tmp/same.md" --json "$tmp/same.json" \
	"$base/baseline-profile.json" "$old/core" "$old/beava-sim" 2> "$tmp/same.err"
rc=$?
[ $rc -eq 0 ] && ! grep -q "gate:" "$tmp/same.err" && grep -q "^## Gate: passed" "$tmp/same.md" \
	&& ok "gate: the baseline's own snapshot holds the gate (exit 0)" \
	|| nok "gate: same snapshot: exit $rc, stderr [$(cat "$tmp/same.err")]"

# The recipe, on a grown workload: exit 5 and a line for each figure over its limit.
"$BIN" diff --thresholds "$base/memory-gate.txt" -o "$tmp/grown.md" --json "$tmp/grown.json" \
	"$base/baseline-profile.json" "$new/core" "$new/beava-sim" 2> "$tmp/grown.err"
rc=$?
[ $rc -eq 5 ] && ok "gate: a grown workload fails the gate with exit 5" || nok "gate: grown: exit $rc [$(cat "$tmp/grown.err")]"
grep "^aggop-inspect: gate: " "$tmp/grown.err" | sed 's/^aggop-inspect: gate: //' | sort > "$tmp/got"
python3 - "$old/truth.json" "$new/truth.json" <<'PY' | sort > "$tmp/want"
# The limits of memory-gate.txt applied to the two truths (not to the tool's numbers).
import json, sys
t0, t1 = (json.load(open(p)) for p in sys.argv[1:3])
def line(fig, a, b, limit):
    rel = ", %+.1f%%" % ((b - a) / a * 100) if a else ", from 0"
    return "%s: old %d, new %d (%+d%s) breaches the limit %s" % (fig, a, b, b - a, rel, limit)
def over_pct(a, b, pct):
    return b > 0 if a == 0 else (b - a) / a * 100 > pct
a, b = t0["per_entity_bytes"]["p99"], t1["per_entity_bytes"]["p99"]
if over_pct(a, b, 5): print(line("per_entity.p99", a, b, "> +5%"))
a, b = t0["totals"]["heap_chunk_bytes"], t1["totals"]["heap_chunk_bytes"]
if over_pct(a, b, 10): print(line("totals.heap_chunk_bytes", a, b, "> +10%"))
v0 = {v["variant"]: v["heap_chunk_bytes"] for v in t0["variants"]}
v1 = {v["variant"]: v["heap_chunk_bytes"] for v in t1["variants"]}
for name in set(v0) | set(v1):
    a, b = v0.get(name, 0), v1.get(name, 0)
    if over_pct(a, b, 10): print(line("variant.%s.heap_chunk_bytes" % name, a, b, "> +10%"))
if t1["aggop_size"] > 80: print(line("enum.size", t0["aggop_size"], t1["aggop_size"], "> 80"))
PY
n=$(wc -l < "$tmp/want")
if [ "$n" -gt 0 ] && diff "$tmp/want" "$tmp/got" > "$tmp/lines.diff"; then
	ok "gate: the $n breach lines are those the two truths give (e.g. $(grep -m1 '^variant\.' "$tmp/got"))"
else
	nok "gate: breach lines differ from the truths' ($n expected):"; cat "$tmp/lines.diff"
fi
grep -q "^variant\.Windowed\.heap_chunk_bytes: old " "$tmp/got" && ok "gate: the grown variant Windowed is named" \
	|| nok "gate: no line names variant Windowed"
python3 - "$tmp/grown.json" "$n" <<'PY' && grep -q "^## Gate: FAILED" "$tmp/grown.md" \
	&& ok "gate: the diff is still written, its markdown and JSON say the gate failed" || nok "gate: grown diff outputs"
import json, sys
g = json.load(open(sys.argv[1]))["gate"]
assert g["passed"] is False and len(g["breaches"]) == int(sys.argv[2]), g
PY

# Saving the new profile first (a CI job that keeps its artefact) gives the same verdict.
"$BIN" -q -o /dev/null --json "$tmp/new.json" "$new/core" "$new/beava-sim"
"$BIN" diff --thresholds "$base/memory-gate.txt" -o /dev/null "$base/baseline-profile.json" "$tmp/new.json" 2> "$tmp/saved.err"
rc=$?
grep "^aggop-inspect: gate: " "$tmp/saved.err" | sed 's/^aggop-inspect: gate: //' | sort > "$tmp/got2"
[ $rc -eq 5 ] && cmp -s "$tmp/got" "$tmp/got2" && ok "gate: a saved new profile gives the same exit and lines" \
	|| nok "gate: saved profile: exit $rc"
exit $((fails > 0))
