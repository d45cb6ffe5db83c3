#!/usr/bin/env bash
# 47-gate-load.sh: two more snapshots of the tables program (46-tables.sh
# built it) for the memory gate's test (tests/e2e_gate_load.sh):
#   $FIXDIR/gate-load/x2/{core, truth.json}      twice the rows, the same ops per row
#   $FIXDIR/gate-load/pre150/{core, truth.json}  the same rows, List/Name capacities x1.5
# The baseline is $FIXDIR/tables itself (load 1, prealloc 100).
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${FIXDIR:?FIXDIR must be set (tests/setup.sh sets it)}"
out="$FIXDIR/gate-load"
exe="$FIXDIR/tables/tables"
[ -x "$exe" ] || { echo "47-gate-load: $exe missing (46-tables.sh makes it)" >&2; exit 1; }
stamp=$( (cat "$exe" "$0") | sha256sum | cut -c1-16)
[ "$(cat "$out/stamp" 2>/dev/null)" = "$stamp" ] && [ -s "$out/x2/core" ] && [ -s "$out/pre150/core" ] && exit 0
rm -rf "$out"
snap() {   # DIR LOAD PREALLOC
	mkdir -p "$out/$1"
	"$exe" "$2" "$3" > "$out/$1/truth.json.tmp" &
	local pid=$!
	for _ in $(seq 1 100); do [ -s "$out/$1/truth.json.tmp" ] && break; sleep 0.1; done
	[ -s "$out/$1/truth.json.tmp" ] || { kill "$pid"; echo "47-gate-load: no truth for $1" >&2; exit 1; }
	gcore -o "$out/$1/core" "$pid" >/dev/null 2>&1 || { kill "$pid"; echo "47-gate-load: gcore failed" >&2; exit 1; }
	kill "$pid"; wait "$pid" 2>/dev/null || true
	mv "$out/$1/core.$pid" "$out/$1/core"
	mv "$out/$1/truth.json.tmp" "$out/$1/truth.json"
}
snap x2 2 100
snap pre150 1 150
echo "$stamp" > "$out/stamp"
