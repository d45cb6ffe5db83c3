#!/usr/bin/env bash
# e2e_gate_load.sh: a memory gate that does not move with load (issue 20).
# Three snapshots of fixtures/tables/tables.rs (46-tables.sh, 47-gate-load.sh): the baseline,
# twice the rows with the same ops per row (x2), and the same rows with List and Name
# capacities preallocated x1.5 (pre150).  The gate holds budgets per op and per entity:
#   - at 2x load it stays quiet (exit 0), while the same limits on the raw totals fire;
#   - at 1.5x preallocation it fires (exit 5) on exactly the variants the programs' own
#     ledgers (truth.json) say grew per op, with the old and new values the ledgers give;
#   - `diff BASELINE.json CORE EXE` reuses the baseline's --root and --enum;
#   - every `diff --figures` line is exactly NAME OLD NEW, no name has a space.
# Prints "ok ..." / "not ok ..." lines.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${FIXDIR:?}" "${BIN:?}"
fails=0
ok() { echo "ok $*"; }
nok() { echo "not ok $*"; fails=$((fails + 1)); }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
exe="$FIXDIR/tables/tables" base="$FIXDIR/tables" x2="$FIXDIR/gate-load/x2" pre="$FIXDIR/gate-load/pre150"
for f in "$exe" "$base/core" "$x2/core" "$pre/core" "$base/truth.json" "$x2/truth.json" "$pre/truth.json"; do
	[ -s "$f" ] || { nok "gate-load: $f is missing (make fixtures)"; exit 1; }
done

"$BIN" -q -o /dev/null --json "$tmp/base.json" --root TABLES --enum Op "$base/core" "$exe" 2> "$tmp/base.err" \
	&& ok "gate-load: baseline profiled" || nok "gate-load: baseline [$(cat "$tmp/base.err")]"
cat > "$tmp/gate.txt" <<'G'
variant.*.heap_requested_bytes_per_op > +5%
variant.*.heap_chunk_bytes_per_op > +5%
table.*.heap_chunk_bytes_per_entity > +5%
totals.heap_chunk_bytes_per_op > +5%
G
cat > "$tmp/raw.txt" <<'G'
variant.*.heap_chunk_bytes > +5%
G

# 2x load, no --root/--enum: the baseline's target is reused, the per-op gate holds.
"$BIN" diff -q --thresholds "$tmp/gate.txt" -o "$tmp/x2.md" "$tmp/base.json" "$x2/core" "$exe" 2> "$tmp/x2.err"
rc=$?
[ $rc -eq 0 ] && ! grep -q "gate:" "$tmp/x2.err" && ok "gate-load: 2x load, per-op and per-entity gate quiet (exit 0, no --root/--enum)" \
	|| nok "gate-load: 2x load: exit $rc [$(cat "$tmp/x2.err")]"
grep -q '^- Entities .*-> ' "$tmp/x2.md" && python3 - "$base/truth.json" "$x2/truth.json" <<'PY' \
	&& ok "gate-load: the 2x snapshot really holds twice the ops (ledgers)" || nok "gate-load: 2x ledgers"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert sum(t["ops"] for t in b["tables"]) == 2 * sum(t["ops"] for t in a["tables"])
PY
"$BIN" diff -q --thresholds "$tmp/raw.txt" -o /dev/null "$tmp/base.json" "$x2/core" "$exe" 2> "$tmp/x2raw.err"
rc=$?
[ $rc -eq 5 ] && ok "gate-load: the same limit on raw totals fires at 2x load (exit 5)" || nok "gate-load: raw at 2x: exit $rc"

# A flag replaces the recorded option it names, the others stay: --root NAMES (a static that reaches
# no Op) is used with the recorded --enum Op, and fails saying so.
"$BIN" diff -q -o /dev/null --root NAMES "$tmp/base.json" "$x2/core" "$exe" 2> "$tmp/ov.err"
rc=$?
[ $rc -eq 2 ] && grep -q "NAMES reaches no .*Op value" "$tmp/ov.err" \
	&& ok "gate-load: a --root given to diff overrides the recorded one, the recorded --enum stays" \
	|| nok "gate-load: override: exit $rc [$(cat "$tmp/ov.err")]"

# 1.5x preallocation: exit 5, one line per variant whose per-op bytes grew by more than 5%, the
# old and new values recomputed from the two ledgers.
"$BIN" diff -q --thresholds "$tmp/gate.txt" -o /dev/null "$tmp/base.json" "$pre/core" "$exe" 2> "$tmp/pre.err"
rc=$?
[ $rc -eq 5 ] && ok "gate-load: 1.5x preallocation fires the per-op gate (exit 5)" || nok "gate-load: pre150: exit $rc [$(cat "$tmp/pre.err")]"
grep "^aggop-inspect: gate: variant\." "$tmp/pre.err" | sed 's/^aggop-inspect: gate: //; s/ (.*//' | sort > "$tmp/got"
python3 - "$base/truth.json" "$pre/truth.json" <<'PY' | sort > "$tmp/want"
import json, sys
def per_op(t):
    acc = {}
    for tb in t["tables"]:
        for s in tb["slots"]:
            for v in s["variants"]:
                a = acc.setdefault(v["variant"], [0, 0, 0])
                a[0] += v["count"]; a[1] += v["heap_requested_bytes"]; a[2] += v["heap_chunk_bytes"]
    return acc
rnd = lambda a, b: (a + b // 2) // b if b else 0   # round half up, as the tool's quotient
o, n = (per_op(json.load(open(p))) for p in sys.argv[1:3])
for v in sorted(o):
    for k, m in ((1, "heap_requested_bytes_per_op"), (2, "heap_chunk_bytes_per_op")):
        a, b = rnd(o[v][k], o[v][0]), rnd(n[v][k], n[v][0])
        if (a == 0 and b > 0) or (a and (b - a) / a * 100 > 5):
            print("variant.%s.%s: old %d, new %d" % (v, m, a, b))
PY
[ -s "$tmp/want" ] && diff "$tmp/want" "$tmp/got" > "$tmp/d" && ok "gate-load: the per-op breaches are the ledgers' ($(wc -l < "$tmp/want") lines)" \
	|| nok "gate-load: per-op breaches differ from the ledgers: $(cat "$tmp/d")"

# A ratio limit (xF: new over F times old) on the per-op figures: quiet at 2x load, fires at 1.5x
# preallocation on the same variants as the +5% limits.
"$BIN" diff -q -o /dev/null --fail-if 'variant.*.heap_requested_bytes_per_op > x1.05' "$tmp/base.json" "$x2/core" "$exe" \
	2> "$tmp/rx2.err"
rx2=$?
"$BIN" diff -q -o /dev/null --fail-if 'variant.*.heap_requested_bytes_per_op > x1.05' "$tmp/base.json" "$pre/core" "$exe" \
	2> "$tmp/rpre.err"
rpre=$?
grep "heap_requested_bytes_per_op" "$tmp/want" | sed 's/: old.*//' | sort > "$tmp/rwant"
sed 's/^aggop-inspect: gate: //; s/: old.*//' "$tmp/rpre.err" | sort > "$tmp/rgot"
[ $rx2 -eq 0 ] && [ $rpre -eq 5 ] && [ -s "$tmp/rwant" ] && cmp -s "$tmp/rwant" "$tmp/rgot" \
	&& ok "gate-load: a ratio limit (> x1.05) holds at 2x load and fires at 1.5x preallocation" \
	|| nok "gate-load: ratio limit: exit $rx2/$rpre [$(cat "$tmp/rx2.err" "$tmp/rpre.err" | head -3)]"

# --figures: NAME OLD NEW, names are tokens.
"$BIN" diff --figures "$tmp/base.json" "$x2/core" "$exe" > "$tmp/fig" 2> "$tmp/fig.err"
rc=$?
[ $rc -eq 0 ] && [ -s "$tmp/fig" ] && awk 'NF != 3 { bad = 1 } END { exit bad }' "$tmp/fig" \
	&& ok "gate-load: every --figures line is NAME OLD NEW ($(wc -l < "$tmp/fig") lines)" || nok "gate-load: --figures lines: $(awk 'NF != 3' "$tmp/fig" | head -3)"
grep -q '^feature\.alpha\.slot_0\.count 40 80$' "$tmp/fig" && grep -q '^field\.List(Vec)\.heap_requested_bytes ' "$tmp/fig" \
	&& grep -q '^variant\.List\.heap_chunk_bytes_per_op ' "$tmp/fig" \
	&& ok "gate-load: slot, field path and per-op figures are named as dotted tokens" || nok "gate-load: figure names: $(grep -E '^(feature|field)' "$tmp/fig" | head -3)"
# A user's name with a space or a dot: one token, quoted, %-escaped; a gate names it as printed.
python3 - "$tmp/base.json" "$tmp/u0.json" "$tmp/u1.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["target"] = "custom"
d["tables"][0]["features"][0]["name"] = 'my feature.v"2'
json.dump(d, open(sys.argv[2], "w"))
d["tables"][0]["features"][0]["count"] += 1
json.dump(d, open(sys.argv[3], "w"))
PY
"$BIN" diff --figures "$tmp/u0.json" "$tmp/u1.json" > "$tmp/ufig" 2> "$tmp/u.err"
want='feature.alpha."my%20feature.v%222".count'
grep -qxF "$want 40 41" "$tmp/ufig" && awk 'NF != 3 { bad = 1 } END { exit bad }' "$tmp/ufig" \
	&& ok "gate-load: a name with a space, dot and quote is one quoted token ($want)" \
	|| nok "gate-load: quoted name: $(grep 'my' "$tmp/ufig" | head -2) $(cat "$tmp/u.err")"
"$BIN" diff -q -o /dev/null --fail-if "$want > 40" "$tmp/u0.json" "$tmp/u1.json" 2> "$tmp/u.err"
rc=$?
[ $rc -eq 5 ] && grep -qF "gate: $want: old 40, new 41" "$tmp/u.err" && ok "gate-load: a gate names the quoted figure as --figures prints it" \
	|| nok "gate-load: gate on the quoted name: exit $rc $(cat "$tmp/u.err")"
exit $((fails > 0))
