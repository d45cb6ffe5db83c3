#!/usr/bin/env bash
# bench/gdb-walk.sh [SNAPSHOT_DIR]: the comparison point for the walk-speed
# target (at least 100 times what a gdb-Python walk of the same structures
# manages on this machine).  Runs bench/gdb-walk.py inside gdb on the largest
# snapshot available and prints its allocations/s next to the tool's own
# walk.allocations / walk.seconds from --json, and the ratio.
#
# Snapshot: the directory given, else the largest core among the beava-sim
# snapshots (build/fixtures/sim-fresh, build/fixtures/snapshots/*,
# build/bench/*), else the generic fixture (build/fixtures/generic, root
# shapes::TABLE, enum Shape).  A beava-sim core is walked by gdb from the
# tool's own root (JSON root.address and root.type).  GDB_SECONDS (default 60)
# bounds gdb's walk; its rate is then over the part it walked.
# BIN overrides the tool binary (default ./aggop-inspect, else build/normal/aggop-inspect).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-./aggop-inspect}
[ -x "$bin" ] || bin=build/normal/aggop-inspect
[ -x "$bin" ] || { echo "bench/gdb-walk.sh: no tool binary (run make)" >&2; exit 2; }
command -v gdb >/dev/null || { echo "bench/gdb-walk.sh: gdb is not installed" >&2; exit 2; }

dir=${1:-}
if [ -z "$dir" ]; then
	dir=$(ls -S build/fixtures/sim-fresh/core build/fixtures/snapshots/*/core build/bench/*/core 2>/dev/null |
		head -n 1 | xargs -r dirname) || true
fi
[ -n "$dir" ] || dir=build/fixtures/generic
core="$dir/core"
[ -f "$core" ] || { echo "bench/gdb-walk.sh: no core in $dir" >&2; exit 2; }
if [ -f "$dir/beava-sim" ]; then
	exe="$dir/beava-sim"
	toolargs=()
elif [ -f "$dir/shapes" ]; then
	exe="$dir/shapes"
	toolargs=(--root TABLE --enum Shape)
else
	echo "bench/gdb-walk.sh: $dir holds neither beava-sim nor shapes" >&2
	exit 2
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$bin" "$core" "$exe" "${toolargs[@]}" -q -o "$out/r.md" --json "$out/r.json"

if [ "$(basename "$exe")" = shapes ]; then
	root=shapes::TABLE
else
	root=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["root"]; print("0x%x:%s" % (r["address"], r["type"]))' "$out/r.json")
fi

t0=$(date +%s.%N)
GDBWALK_ROOT="$root" GDBWALK_SECONDS="${GDB_SECONDS:-60}" \
	gdb -nx -batch -iex 'set auto-load no' -ex "core-file $core" -x bench/gdb-walk.py "$exe" \
	> "$out/gdb.txt" 2>&1 || true
t1=$(date +%s.%N)
line=$(grep '^gdb-walk:' "$out/gdb.txt" || true)
[ -n "$line" ] || { echo "bench/gdb-walk.sh: gdb walk failed:" >&2; tail -n 20 "$out/gdb.txt" >&2; exit 1; }

python3 - "$out/r.json" "$line" "$core" "$root" "$(echo "$t1 - $t0" | bc -l)" <<'PY'
import json, os, re, sys
j = json.load(open(sys.argv[1]))
line, core, root, gdb_wall = sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
m = re.match(r"gdb-walk: (\d+) allocations in ([0-9.]+) s", line)
g_alloc, g_secs = int(m.group(1)), float(m.group(2))
g_rate = g_alloc / g_secs if g_secs else 0
w = j["walk"]
t_alloc, t_secs = w["allocations"], w["seconds"]
t_rate = t_alloc / t_secs if t_secs else 0
print(f"core            {core} ({os.path.getsize(core)/2**20:.1f} MiB), root {root[:100]}")
print(f"gdb-Python walk {g_alloc} allocations in {g_secs:.3f} s = {g_rate:,.0f} allocations/s"
      f" (gdb process {gdb_wall:.1f} s wall){'; stopped at the time budget' if 'budget' in line else ''}")
print(f"aggop-inspect   {t_alloc} allocations in {t_secs:.4f} s = {t_rate:,.0f} allocations/s (walk.seconds)")
print(f"ratio           {t_rate / g_rate if g_rate else 0:,.1f}x (target >= 100x)")
PY
