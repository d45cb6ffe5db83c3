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
# shellcheck source=../snapshot-lib.sh
. tests/snapshot-lib.sh
require_plain_core_pattern

stamp=$(cat "$src" "$0" tests/snapshot-lib.sh | sha256sum | cut -d' ' -f1)
[ -f "$dir/stamp" ] && [ "$(cat "$dir/stamp")" = "$stamp" ] && exit 0

rm -rf "$dir" && mkdir -p "$dir"
gcc -std=c11 -O1 -g -Wall -Wextra -Werror -pthread -o "$dir/exe" "$src" || die "cannot build $src"

# Runs the probe (arguments: the output dir, then the probe's own) and
# snapshots it: a gcore unless it runs "small", always a kernel core;
# $arena_max, when set, becomes MALLOC_ARENA_MAX.
snapshot() {
	local out="$1"; shift
	local kinds=gcore
	[ "$*" = small ] && kinds=kernel-only
	mkdir -p "$out"
	SNAP_ENV=${arena_max:+MALLOC_ARENA_MAX=$arena_max} snapshot_probe "$out" "$dir/exe" "$kinds" "$@"
}

snapshot "$dir"
snapshot "$dir/small" small
# One arena for all threads: main_arena must then be found by its bins[],
# with no thread arena's heap_info to lead to it.
arena_max=1 snapshot "$dir/onearena" small
echo "$stamp" > "$dir/stamp"
