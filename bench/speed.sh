#!/usr/bin/env bash
# bench/speed.sh [SNAPSHOT_DIR]: issue 21's figures in one interleaved run.
#
# On the benchmark core (build/bench/big, made here when missing: the
# fixture server with 400,000 events, 40,000 keys, seed 5, a kernel core of
# about 2.3 GB, ~30 s of fixture time and its disk), RUNS times (default 3)
# in turn: `cat core > /dev/null`, the whole report with --jobs 1, the whole
# report with the default jobs (the CPUs the process may use); then, between
# the tool's runs, the gdb-Python walk of the same structures
# (bench/gdb-walk.py, GDB_SECONDS of it, default 40).  Prints the medians:
#   whole report / cat            (target <= 5x)
#   cores used = (user+sys)/wall  (target >= 1.5)
#   walk rate / gdb-Python rate   (target >= 100x)
#   peak RSS / core size          (target <= 10%)
# then instructions per allocation of the walk (perf stat's instructions
# when the machine counts them, else callgrind on a sample: the walk alone,
# walk_drain, on build/fixtures/sim-fresh; target <= 400), and the small
# binary's start-up (the generic fixture: 5 MB executable, 1.7 MB core):
# the whole profile next to drgn-Python opening the same core and reading the
# same static (python3-drgn, when it is installed).
#
# BIN: the tool (default ./aggop-inspect, else build/normal/aggop-inspect).
# A machine shared with other work makes wall times (and so cores used)
# swing: the load average is printed with the figures.
set -uo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-./aggop-inspect}
[ -x "$bin" ] || bin=build/normal/aggop-inspect
[ -x "$bin" ] || { echo "bench/speed.sh: no tool binary (run make)" >&2; exit 2; }
bin=$(realpath "$bin")
runs=${RUNS:-3}
dir=${1:-build/bench/big}
if [ ! -f "$dir/core" ]; then
	[ "$dir" = build/bench/big ] || { echo "bench/speed.sh: no core in $dir" >&2; exit 2; }
	echo "making the benchmark core in $dir (about a minute, 2.3 GB)"
	mkdir -p build/bench
	nice fixtures/make-snapshot --out "$dir" --events 400000 --keys 40000 --seed 5 --no-track --no-allocations \
		--kernel > build/bench/make-snapshot.log 2>&1 ||
		{ echo "bench/speed.sh: make-snapshot failed (build/bench/make-snapshot.log)" >&2; exit 1; }
fi
core="$dir/core" exe="$dir/beava-sim"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for st in /sys/kernel/mm/damon/admin/kdamonds/*/state; do
	[ -r "$st" ] && [ "$(cat "$st")" = on ] && echo "note: DAMON is on ($st); timings include its page-outs"
done
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs"
cat "$core" > /dev/null

tool() { # tag jobs...
	local tag=$1; shift
	/usr/bin/time -f '%e %U %S %M' -o "$out/time" "$bin" "$@" -q -o "$out/r.md" --json "$out/$tag.json" \
		"$core" "$exe" > /dev/null 2>&1
	echo "$tag $(cat "$out/time")" >> "$out/runs"
}
for i in $(seq 1 "$runs"); do
	t0=$(date +%s.%N); cat "$core" > /dev/null; t1=$(date +%s.%N)
	echo "cat$i $(echo "$t1 - $t0" | bc -l) 0 0 0" >> "$out/runs"
	tool "j1-$i" --jobs 1
	tool "jN-$i"
	if [ "$i" = 1 ]; then
		# the gdb-Python walk, from the tool's own root
		root=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["root"]; print("0x%x:%s" % (r["address"], r["type"]))' "$out/j1-1.json")
		GDBWALK_ROOT="$root" GDBWALK_SECONDS="${GDB_SECONDS:-40}" \
			gdb -nx -batch -iex 'set auto-load no' -ex "core-file $core" -x bench/gdb-walk.py "$exe" \
			> "$out/gdb.txt" 2>&1 || true
	fi
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$out" "$(stat -c %s "$core")" "$runs" <<'PY'
import json, re, statistics, sys
d, size, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rows = {}
for line in open(d + "/runs"):
    tag, wall, user, sys_, rss = line.split()
    rows[tag] = (float(wall), float(user), float(sys_), int(rss) * 1024)
med = statistics.median
cat = med(rows[f"cat{i}"][0] for i in range(1, runs + 1))
print(f"core            {size/2**20:,.1f} MiB; cat core > /dev/null {cat:.2f} s (median of {runs})")
rates = {}
for tag, name in (("j1", "--jobs 1"), ("jN", "default jobs")):
    r = [rows[f"{tag}-{i}"] for i in range(1, runs + 1)]
    wall = med(x[0] for x in r)
    cores = med((x[1] + x[2]) / x[0] for x in r if x[0] > 0)
    rss = max(x[3] for x in r)
    walks = [json.load(open(f"{d}/{tag}-{i}.json"))["walk"] for i in range(1, runs + 1)]
    rate = med(w["allocations"] / w["seconds"] for w in walks if w["seconds"])
    rates[tag] = rate
    print(f"{name:15} whole report {wall:.2f} s = {wall/cat:.1f}x cat (target <= 5x); cores used {cores:.2f} (target >= 1.5); "
          f"peak RSS {rss/2**20:.1f} MiB = {100*rss/size:.1f}% of the core (target <= 10%); "
          f"walk {walks[0]['allocations']:,} allocations at {rate:,.0f}/s")
g = open(d + "/gdb.txt").read()
m = re.search(r"gdb-walk: (\d+) allocations in ([0-9.]+) s", g)
if m and float(m.group(2)) > 0:
    grate = int(m.group(1)) / float(m.group(2))
    print(f"gdb-Python walk {int(m.group(1)):,} allocations in {float(m.group(2)):.1f} s = {grate:,.0f}/s; "
          f"tool walk / gdb: --jobs 1 {rates['j1']/grate:,.0f}x, default jobs {rates['jN']/grate:,.0f}x (target >= 100x)")
else:
    print("gdb-Python walk failed: " + g.strip().splitlines()[-1] if g.strip() else "gdb-Python walk printed nothing")
PY

# Instructions per allocation of the walk.
if perf stat -e instructions:u -x, -o "$out/perf.txt" true 2>/dev/null && ! grep -q "not supported" "$out/perf.txt"; then
	perf stat -e instructions:u -x, -o "$out/perf.txt" "$bin" --jobs 1 -q -o "$out/r.md" --json "$out/p.json" "$core" "$exe" > /dev/null 2>&1
	python3 - "$out/perf.txt" "$out/p.json" <<'PY'
import json, sys
ins = next(int(l.split(",")[0]) for l in open(sys.argv[1]) if "instructions" in l)
a = json.load(open(sys.argv[2]))["walk"]["allocations"]
print(f"instructions    {ins:,} for the whole report (perf stat) = {ins/a:,.0f} per allocation walked (whole run; target <= 400 for the walk)")
PY
elif command -v valgrind > /dev/null && [ -f build/fixtures/sim-fresh/core ]; then
	s=build/fixtures/sim-fresh
	nice valgrind --tool=callgrind --toggle-collect=walk_drain --callgrind-out-file="$out/cg" \
		"$bin" --jobs 1 -q -o "$out/r.md" --json "$out/cg.json" "$s/core" "$s/beava-sim" > /dev/null 2> "$out/cg.err"
	python3 - "$out/cg" "$out/cg.json" <<'PY'
import json, re, sys
ins = 0
for line in open(sys.argv[1]):
    if line.startswith("summary:") or line.startswith("totals:"):
        ins = int(line.split()[1]); break
a = json.load(open(sys.argv[2]))["walk"]["allocations"]
print(f"instructions    {ins:,} in the walk (callgrind, walk_drain, sample build/fixtures/sim-fresh: {a:,} allocations)"
      f" = {ins/a:,.0f} per allocation (target <= 400)")
PY
else
	echo "instructions    not measured: no perf counters and no valgrind/sim-fresh"
fi

# Small binary: start-up next to drgn.
g=build/fixtures/generic
if [ -f "$g/core" ]; then
	best() { # runs a command 5 times, prints the fastest wall time
		local b=999
		for _ in 1 2 3 4 5; do
			/usr/bin/time -f '%e' -o "$out/t" "$@" > /dev/null 2>&1
			b=$(python3 -c "print(min($b, $(cat "$out/t")))")
		done
		echo "$b"
	}
	tt=$(best "$bin" --root TABLE --enum Shape -q -o "$out/g.md" "$g/core" "$g/shapes")
	py=""
	for p in python3 /usr/bin/python3; do
		"$p" -c 'import drgn' 2>/dev/null && { py=$p; break; }
	done
	if [ -n "$py" ]; then
		cat > "$out/drgn_startup.py" <<'PY'
import sys, drgn
prog = drgn.Program()
prog.set_core_dump(sys.argv[1])
prog.load_debug_info([sys.argv[2]])
print(prog.object("shapes::TABLE").address_)
PY
		td=$(best "$py" "$out/drgn_startup.py" "$g/core" "$g/shapes")
		python3 -c "print(f'small binary    whole profile {$tt:.3f} s; drgn-Python opening the core and reading the root static {$td:.3f} s; {$td/$tt:.1f}x (target >= 5x)')"
	else
		echo "small binary    whole profile $tt s; drgn-Python not installed (apt-get install python3-drgn)"
	fi
fi
