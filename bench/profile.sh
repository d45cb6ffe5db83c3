#!/usr/bin/env bash
# bench/profile.sh [SNAPSHOT_DIR]: the whole report on one snapshot, measured
# in one run: allocations walked per second (the walk alone, from the tool's
# own JSON), wall time of the whole report next to `cat CORE > /dev/null`, and
# peak RSS against the core's size.  Default: the largest snapshot under
# build/fixtures (make the 1 GiB one with fixtures/make-snapshot, see README).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-}
if [ -z "$dir" ]; then
	dir=$(ls -S build/fixtures/*/core build/fixtures/snapshots/*/core build/bench/*/core 2>/dev/null | head -n 1 | xargs -r dirname)
fi
[ -n "$dir" ] && [ -f "$dir/core" ] || { echo "bench/profile.sh: no snapshot (give a directory with core and beava-sim)" >&2; exit 2; }
exe="$dir/beava-sim"; [ -f "$exe" ] || exe=$(ls "$dir"/* | grep -v -E 'core|json|prom|txt' | head -n 1)
core="$dir/core"
size=$(stat -c %s "$core")
# DAMON's proactive pageout (seen on these machines) evicts the core's pages
# while the tool runs and can triple the walk time: say so next to the numbers.
for st in /sys/kernel/mm/damon/admin/kdamonds/*/state; do
	[ -r "$st" ] && [ "$(cat "$st")" = on ] && echo "note: DAMON is on ($st); timings include its page-outs"
done
sync
# cold-ish and warm read of the core: the floor any tool reading it pays
t0=$(date +%s.%N); cat "$core" > /dev/null; t1=$(date +%s.%N)
cat_s=$(echo "$t1 - $t0" | bc -l)
out=$(mktemp -d)
/usr/bin/time -f '%e %M' -o "$out/time" ./aggop-inspect -q -o "$out/r.md" --json "$out/r.json" "$core" "$exe" || true
read -r wall rss_kb < "$out/time"
python3 - "$out/r.json" "$size" "$cat_s" "$wall" "$rss_kb" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
size, cat_s, wall, rss = int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]) * 1024
w = j["walk"]
allocs, secs = w["allocations"], w["seconds"]
print(f"core            {size/2**20:10.1f} MiB")
print(f"ops heap        {j['totals']['heap_requested_bytes']/2**20:10.1f} MiB requested in {j['totals']['allocations']} allocations")
print(f"walk            {allocs} allocations in {secs:.3f} s = {allocs/secs if secs else 0:,.0f} allocations/s")
print(f"                {w.get('sweeps', 0)} sweeps over the heap, {w.get('queued', 0)} buffer visits queued (at most {w.get('queue_peak', 0)} at once)")
print(f"whole report    {wall:.2f} s; cat core > /dev/null {cat_s:.2f} s; ratio {wall/cat_s if cat_s else 0:.2f} (target <= 2)")
print(f"peak RSS        {rss/2**20:.1f} MiB = {100*rss/size:.1f}% of the core (target <= 10%)")
PY
rm -rf "$out"
