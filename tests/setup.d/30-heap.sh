#!/usr/bin/env bash
# 30-heap.sh: builds the heap-layer probe (fixtures/heap/heapprobe.c), runs it
# until it has printed the truth about its own heap (live pointers with
# malloc_usable_size and header, expected tcache/fastbin counts, arena count
# from malloc_info, mallinfo2), snapshots it with gcore and then with a kernel
# core (SIGABRT), and leaves
#   $FIXDIR/heap/{exe, gcore, kcore, truth.txt}
#   $FIXDIR/heap/small/{kcore, truth.txt}   (no 72 MB thread heap: a small
#                                            core the corruption test copies)
#   $FIXDIR/heap/onearena/{kcore, truth.txt} (small, MALLOC_ARENA_MAX=1)
# Work already done (same source, same script) is skipped; anything that
# cannot be built fails loudly.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${FIXDIR:?FIXDIR must be set (tests/setup.sh sets it)}"
src=fixtures/heap/heapprobe.c
dir="$FIXDIR/heap"

die() { echo "30-heap: $*" >&2; exit 1; }

for tool in gcc gcore; do
	command -v "$tool" >/dev/null || die "$tool not found (scripts/deps.sh installs gcc and gdb)"
done
pattern=$(cat /proc/sys/kernel/core_pattern)
case "$pattern" in
	'|'*|*/*) die "kernel.core_pattern is '$pattern'; the kernel-core fixture needs a plain name in the cwd: echo core > /proc/sys/kernel/core_pattern (as root), then rerun" ;;
esac

stamp=$(cat "$src" "$0" | sha256sum | cut -d' ' -f1)
[ -f "$dir/stamp" ] && [ "$(cat "$dir/stamp")" = "$stamp" ] && exit 0

rm -rf "$dir" && mkdir -p "$dir"
gcc -std=c11 -O1 -g -Wall -Wextra -Werror -pthread -o "$dir/exe" "$src" || die "cannot build $src"

# Runs the probe (arguments: the output dir, then the probe's own), waits for
# its truth, takes a gcore (unless the probe runs "small") and a kernel core;
# $arena_max, when set, becomes MALLOC_ARENA_MAX.
snapshot() {
	local out="$1"; shift
	local run="$out/run" pid core
	mkdir -p "$run"
	(cd "$run" && ulimit -c unlimited && exec env ${arena_max:+MALLOC_ARENA_MAX=$arena_max} "$dir/exe" "$@" > "$out/truth.tmp") &
	pid=$!
	for _ in $(seq 1 600); do
		grep -qx end "$out/truth.tmp" 2>/dev/null && break
		kill -0 "$pid" 2>/dev/null || die "heapprobe exited before printing its truth"
		sleep 0.1
	done
	grep -qx end "$out/truth.tmp" || { kill -KILL "$pid"; die "heapprobe printed no truth in 60 s"; }
	grep -qx "pid $pid" "$out/truth.tmp" || { kill -KILL "$pid"; die "heapprobe pid is not $pid"; }
	if [ "$*" != small ]; then
		if ! gcore -o "$run/g" "$pid" > "$out/gcore.log" 2>&1 || [ ! -s "$run/g.$pid" ]; then
			kill -KILL "$pid"; die "gcore failed on pid $pid (see $out/gcore.log; ptrace must be allowed)"
		fi
		mv "$run/g.$pid" "$out/gcore"
	fi
	kill -ABRT "$pid"
	wait "$pid" 2>/dev/null || true
	core=$(ls "$run"/core* 2>/dev/null | head -n1 || true)
	[ -n "$core" ] && [ -s "$core" ] || die "no kernel core in $run after SIGABRT (ulimit -c? core_pattern '$pattern'?)"
	mv "$core" "$out/kcore"
	mv "$out/truth.tmp" "$out/truth.txt"
	rmdir "$run" 2>/dev/null || true
}

snapshot "$dir"
snapshot "$dir/small" small
# One arena for all threads: main_arena must then be found by its bins[],
# with no thread arena's heap_info to lead to it.
arena_max=1 snapshot "$dir/onearena" small
echo "$stamp" > "$dir/stamp"
