#!/usr/bin/env bash
# bench/compare.sh OLD_BIN NEW_BIN [SNAPSHOT_DIR] [RUNS]: the walk rate of two
# binaries on one snapshot, alternated run by run (old, new, old, new, ...) so
# that the machine's drift hits both alike.  Prints each run's walk seconds and
# allocations/s (from the tool's own JSON) and the median per binary.
# Default snapshot: the largest under build/ (see README for the benchmark one).
set -euo pipefail
cd "$(dirname "$0")/.."
old=$(realpath "$1") new=$(realpath "$2")
dir=${3:-}
runs=${4:-5}
if [ -z "$dir" ]; then
	dir=$(ls -S build/bench/*/core build/fixtures/*/core 2>/dev/null | head -n 1 | xargs -r dirname)
fi
[ -f "$dir/core" ] || { echo "bench/compare.sh: no snapshot" >&2; exit 2; }
exe="$dir/beava-sim"
out=$(mktemp -d)
for st in /sys/kernel/mm/damon/admin/kdamonds/*/state; do
	[ -r "$st" ] && [ "$(cat "$st")" = on ] && echo "note: DAMON is on ($st); timings include its page-outs"
done
cat "$dir/core" > /dev/null
for i in $(seq 1 "$runs"); do
	for b in old new; do
		bin=$old; [ $b = new ] && bin=$new
		/usr/bin/time -f '%e %M' -o "$out/time" "$bin" -q -o "$out/r.md" --json "$out/$b-$i.json" "$dir/core" "$exe" >/dev/null 2>&1 || true
		read -r wall rss < "$out/time"
		echo "$b $i $wall $rss" >> "$out/runs"
	done
done
python3 - "$out" <<'PY'
import json, sys, statistics
d = sys.argv[1]
rates = {"old": [], "new": []}
for line in open(d + "/runs"):
    b, i, wall, rss = line.split()
    w = json.load(open(f"{d}/{b}-{i}.json"))["walk"]
    r = w["allocations"] / w["seconds"]
    rates[b].append(r)
    print(f"{b} run {i}: walk {w['seconds']:.3f} s, {r:,.0f} allocations/s; whole {float(wall):.2f} s, peak RSS {int(rss)/1024:.1f} MiB")
for b in ("old", "new"):
    print(f"{b} median {statistics.median(rates[b]):,.0f} allocations/s (min {min(rates[b]):,.0f}, max {max(rates[b]):,.0f})")
PY
rm -rf "$out"
