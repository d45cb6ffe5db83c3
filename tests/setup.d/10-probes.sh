#!/usr/bin/env bash
# 10-probes.sh: builds the image-layer probe programs (fixtures/probes: one C,
# one Rust), runs each until it has printed the truth about its own memory,
# snapshots it with gcore and with a kernel core, and leaves
#   $FIXDIR/probes/<c|rust>/{exe, exe2, gcore, kcore, truth.txt, nm.txt,
#                            buildid.txt, buildid2.txt}
# exe2 is the same program built with a changed constant (a different
# build-id) for the mismatch test.  The C probe also maps present.dat and
# gone.dat; gone.dat is deleted after the snapshots so that a kernel core's
# NT_FILE fallback meets a missing file; it also loads libstale.so, rebuilt
# with another build-id after the snapshots (a library that changed since).  Work already done (same sources,
# same script) is skipped; anything that cannot be built fails loudly.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${FIXDIR:?FIXDIR must be set (tests/setup.sh sets it)}"
src=fixtures/probes
out="$FIXDIR/probes"

die() { echo "10-probes: $*" >&2; exit 1; }

for tool in gcc rustc gcore nm readelf; do
	command -v "$tool" >/dev/null || die "$tool not found (scripts/deps.sh installs gcc, gdb and binutils; rustc must be on PATH)"
done

# shellcheck source=../snapshot-lib.sh
. tests/snapshot-lib.sh
require_plain_core_pattern

# Done when the stamp matches and every output is there.
done_already() {
	local dir="$1" stamp="$2" f
	shift 2
	[ -f "$dir/stamp" ] && [ "$(cat "$dir/stamp")" = "$stamp" ] || return 1
	for f in exe exe2 gcore kcore truth.txt nm.txt buildid.txt buildid2.txt "$@"; do
		[ -s "$dir/$f" ] || return 1
	done
}

stamp_of() { (cd "$src" && cat "$@") | cat - "$0" tests/snapshot-lib.sh | sha256sum | cut -d' ' -f1; }

build_id() {
	local id
	id=$(readelf -n "$1" | awk '/Build ID:/ {print $3}')
	[ -n "$id" ] || die "$1 has no build-id"
	echo "$id"
}

# Runs the probe in DIR with the given arguments and snapshots it both ways.
# One arena: a thread's own arena would reserve 64 MiB (glibc HEAP_MAX_SIZE)
# that gcore writes out in full.
snapshot() {
	local dir="$1"; shift
	SNAP_ENV=MALLOC_ARENA_MAX=1 snapshot_probe "$dir" "$dir/exe" gcore "$@"
}

finish() {
	local dir="$1"
	nm --defined-only "$dir/exe" > "$dir/nm.txt"
	build_id "$dir/exe" > "$dir/buildid.txt"
	build_id "$dir/exe2" > "$dir/buildid2.txt"
	[ "$(cat "$dir/buildid.txt")" != "$(cat "$dir/buildid2.txt")" ] || die "$dir/exe2 has the same build-id as exe"
}

probe_c() {
	local dir="$out/c" stamp
	stamp=$(stamp_of cprobe.c stale.c)
	done_already "$dir" "$stamp" present.dat libstale.so && return 0
	rm -rf "$dir" && mkdir -p "$dir"
	local cflags=(-std=c11 -O2 -g -Wall -Wextra -Werror -pthread -Wl,--build-id=sha1)
	gcc "${cflags[@]}" -o "$dir/exe" "$src/cprobe.c" || die "cannot build the C probe"
	gcc "${cflags[@]}" -DPROBE_VARIANT=2 -o "$dir/exe2" "$src/cprobe.c" || die "cannot build the C probe variant"
	head -c 12288 /dev/urandom > "$dir/present.dat"
	head -c 8192 /dev/urandom > "$dir/gone.dat"
	local lflags=(-std=c11 -O2 -g -shared -fPIC -Wl,--build-id=sha1)
	gcc "${lflags[@]}" -o "$dir/libstale.so" "$src/stale.c" || die "cannot build libstale.so"
	snapshot "$dir" "$dir/present.dat" "$dir/gone.dat" "$dir/libstale.so"
	rm -f "$dir/gone.dat"
	gcc "${lflags[@]}" -DSTALE_VARIANT=2 -o "$dir/libstale.so.new" "$src/stale.c" || die "cannot rebuild libstale.so"
	mv "$dir/libstale.so.new" "$dir/libstale.so"
	finish "$dir"
	echo "$stamp" > "$dir/stamp"
}

probe_rust() {
	local dir="$out/rust" stamp
	stamp=$(stamp_of rprobe.rs)
	done_already "$dir" "$stamp" && return 0
	rm -rf "$dir" && mkdir -p "$dir"
	local rflags=(-C debuginfo=2 -C opt-level=2 -C link-arg=-Wl,--build-id=sha1 --check-cfg 'cfg(variant2)')
	rustc "${rflags[@]}" -o "$dir/exe" "$src/rprobe.rs" || die "cannot build the Rust probe"
	rustc "${rflags[@]}" --cfg variant2 -o "$dir/exe2" "$src/rprobe.rs" || die "cannot build the Rust probe variant"
	snapshot "$dir"
	finish "$dir"
	echo "$stamp" > "$dir/stamp"
}

mkdir -p "$out"
probe_c
probe_rust
