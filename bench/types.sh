#!/usr/bin/env bash
# bench/types.sh: how long indexing an executable's DWARF types takes, and how
# much memory, next to `gdb -batch` loading the same binary.  Not a test: it
# prints figures for a person (and the notes) to read.
#
#   bench/types.sh [BINARY [TYPE]]
#
# Without arguments it also measures the big generated binary of
# tests/setup.d/25-bigbin.sh ($FIXDIR/bigbin/bigbin: 3000 distinct
# ArcInner<bigbin::Si> types, 100k statics), layout of bigbin::AppState.
#
# BINARY defaults to the largest Rust binary the suite has: beava-sim (a
# release build with full debug info) from $FIXDIR/sim-fresh or
# fixtures/beava-sim/target/release, else the types probe's release build.
# The tool's side is `aggop-inspect layout BINARY TYPE`: open + index every CU
# + one lookup + printing one layout (the last two are negligible).  Each
# command runs RUNS times (default 5); the median wall time and the largest
# max-RSS are reported, from /usr/bin/time.
#
# Measured (2-core c machine, idle, RUNS=5), beava-sim release (opt 3,
# debug = 2, 11 MiB, .debug_info 3 MiB, 52 CUs, 78.9k DIEs walked, 7259
# types after merging 6273 per-CGU copies):
#   aggop-inspect layout beava-sim AggOp     0.17 s   16 MiB
#   gdb -batch beava-sim                     0.29 s   46 MiB
#   gdb -batch -readnow beava-sim            0.86 s  100 MiB
# bigbin (opt 0, 52 MiB, .debug_info 14 MiB + .debug_str 18 MiB, 15 CUs,
# 522k DIEs walked, 1.1M in all, 63.3k types after merging 42.1k copies,
# 103k statics), 2-core machine shared with other jobs (load 5-6, so wall
# times are about twice the CPU times):
#   before the types split (quadratic static de-dup)   8.93 s wall  110 MiB
#   after                                              1.37 s wall  124 MiB,
#                                                      0.55 s CPU (0.07 s of it merging,
#                                                      0.03 s the name index; the rest
#                                                      libdwarf reading and skipping DIEs)
set -euo pipefail
cd "$(dirname "$0")/.."
FIXDIR="${FIXDIR:-$PWD/build/fixtures}"
RUNS="${RUNS:-5}"
tool="${BIN:-$PWD/aggop-inspect}"
[ -x "$tool" ] || tool="$PWD/build/normal/aggop-inspect"
[ -x "$tool" ] || { echo "bench/types: build the tool first (make)" >&2; exit 1; }
command -v /usr/bin/time >/dev/null || { echo "bench/types: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }

bin="${1:-}"
big=""
[ -z "$bin" ] && [ -x "$FIXDIR/bigbin/bigbin" ] && big="$FIXDIR/bigbin/bigbin"
if [ -z "$bin" ]; then
	for c in "$FIXDIR/sim-fresh/beava-sim" fixtures/beava-sim/target/release/beava-sim \
		 "$FIXDIR/types/rust-release"; do
		[ -x "$c" ] && { bin="$c"; break; }
	done
fi
[ -n "$bin" ] && [ -x "$bin" ] || { echo "bench/types: no binary (run make fixtures, or pass one)" >&2; exit 1; }
type="${2:-AggOp}"

# median wall seconds and max RSS (KiB) of RUNS runs of "$@"
measure() {
	local walls=() rss=0 i out w r
	out=$(mktemp)
	for i in $(seq 1 "$RUNS"); do
		/usr/bin/time -f '%e %M' -o "$out" "$@" > /dev/null 2>&1 || true
		read -r w r < "$out"
		walls+=("$w")
		[ "$r" -gt "$rss" ] && rss=$r
	done
	rm -f "$out"
	printf '%s %s\n' "$(printf '%s\n' "${walls[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")" "$rss"
}

size=$(stat -c %s "$bin")
dinfo=$(readelf -S -W "$bin" | sed 's/^ *\[ *[0-9]*\]//' | awk '$1 == ".debug_info" {print $5}')
dinfo=$(( 16#${dinfo:-0} ))
echo "binary: $bin ($(( size / 1048576 )) MiB, .debug_info $(( dinfo / 1048576 )) MiB)"
"$tool" layout "$bin" "$type" > /dev/null || { echo "bench/types: layout $type failed" >&2; exit 1; }

read -r w r <<< "$(measure "$tool" layout "$bin" "$type")"
printf '%-44s %8s s %8d MiB\n' "aggop-inspect layout (index all types)" "$w" $(( r / 1024 ))
if command -v gdb > /dev/null; then
	read -r w r <<< "$(measure gdb -nx -batch "$bin")"
	printf '%-44s %8s s %8d MiB\n' "gdb -batch (load symbols)" "$w" $(( r / 1024 ))
	read -r w r <<< "$(measure gdb -nx -batch -readnow "$bin")"
	printf '%-44s %8s s %8d MiB\n' "gdb -batch -readnow (full symtabs)" "$w" $(( r / 1024 ))
fi
if [ -n "$big" ]; then
	size=$(stat -c %s "$big")
	echo "binary: $big ($(( size / 1048576 )) MiB; built in $(cat "$FIXDIR/bigbin/build-seconds.txt" 2>/dev/null || echo '?') s)"
	read -r w r <<< "$(measure "$tool" layout "$big" bigbin::AppState)"
	printf '%-44s %8s s %8d MiB\n' "aggop-inspect layout (index all types)" "$w" $(( r / 1024 ))
fi
echo "target (issue 3): under 0.5 s and 200 MiB for the tool; (issue 10) under 0.5 s on bigbin"
