#!/usr/bin/env bash
# same-output.sh OLD_BIN NEW_BIN: runs both binaries on every fixture snapshot
# (the committed ones, the fresh one, the generic program) and on the layout
# and heap commands, and diffs what they write, timings and the lines naming
# detected dependency versions aside.  For refactors that must not change a
# byte of output.  Needs `make fixtures` first.
set -uo pipefail
cd "$(dirname "$0")/.."
old=$(realpath "$1") new=$(realpath "$2")
fx=build/fixtures
out=$(mktemp -d)
norm() {   # drop wall-clock figures and the detected-versions lines
	sed -E -e '/^Chart: /s/(old|new)-/X-/g' -e 's/[0-9]+\.[0-9]+ s\b/T s/g' -e 's/"([a-z_]*seconds)": [0-9.e+-]+/"\1": "T"/g' \
		-e '/^## Detected versions/,/^## /{/^## Detected versions/d;/^## /!d}' "$1" |
		python3 -c 'import json,sys
t=sys.stdin.read()
try:
    j=json.loads(t); j.pop("versions",None); j.pop("format_version",None)   # format_version: new in issue 13
    u=j.get("unattributed")   # new: compared only when it has something to say
    if u is not None and not any(v.get("count") or v.get("bytes") or v.get("allocations") for k,v in u.items() if k!="shared"):
        j.pop("unattributed")
    def fields_sorted(o):   # field lists were in hash order before: compare them as sets
        if isinstance(o,dict):
            return {k:(sorted(map(fields_sorted,v),key=lambda f:json.dumps(f,sort_keys=True)) if k=="fields" and isinstance(v,list) else fields_sorted(v)) for k,v in o.items()}
        if isinstance(o,list): return [fields_sorted(x) for x in o]
        return o
    print(json.dumps(fields_sorted(j),indent=1,sort_keys=True))
except Exception: print(t,end="")'
}
fail=0
run() {   # name, args...
	local name=$1; shift
	for b in old new; do
		bin=$old; [ $b = new ] && bin=$new
		(cd "$out" && "$bin" "$@" -q -o $b-$name.md --json $b-$name.json >/dev/null 2>$b-$name.err; echo "exit $?" >> $b-$name.err)
	done
	for ext in md json err; do
		if ! diff <(norm "$out/old-$name.$ext") <(norm "$out/new-$name.$ext") > "$out/$name.$ext.diff"; then
			echo "DIFF $name.$ext"; head -20 "$out/$name.$ext.diff"; fail=1
		fi
	done
}
for d in $fx/snapshots/*/ $fx/sim-fresh/; do
	[ -f "$d/core" ] || continue
	n=$(basename "$d")
	args=(); [ -f "$d/metrics.prom" ] && args+=(--metrics "$PWD/$d/metrics.prom")
	run "$n" "${args[@]}" "$PWD/$d/core" "$PWD/$d/beava-sim"
done
run generic --root TABLE --enum Shape "$PWD/$fx/generic/core" "$PWD/$fx/generic/shapes"
for cmd in "layout $fx/sim-fresh/beava-sim AggOp" "layout --json $fx/sim-fresh/beava-sim AggOp" \
	   "heap $fx/sim-fresh/core $fx/sim-fresh/beava-sim" "heap --json $fx/sim-fresh/core $fx/sim-fresh/beava-sim"; do
	n=$(echo "$cmd" | tr ' /' '__' | cut -c1-60)
	$old $cmd > "$out/old-$n" 2>&1; $new $cmd > "$out/new-$n" 2>&1
	diff <(norm "$out/old-$n") <(norm "$out/new-$n") > /dev/null || { echo "DIFF $cmd"; diff <(norm "$out/old-$n") <(norm "$out/new-$n") | head; fail=1; }
done
[ $fail -eq 0 ] && echo "same output: every snapshot, layout and heap" && rm -rf "$out"
[ $fail -eq 0 ] || echo "outputs kept in $out"
exit $fail
