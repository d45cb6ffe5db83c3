#!/usr/bin/env bash
# 35-glibc-matrix.sh: the heap probe (fixtures/heap/heapprobe.c) under other
# glibc releases than the host's, for the heap layer's version table.
#
# For each Debian suite below it needs a minimal chroot (debootstrap
# --variant=minbase plus gcc and libc6-dev, from the Debian mirror apt uses on
# this machine, read from /etc/apt/sources.list*).  Chroots are cached outside
# the clone, in /var/cache/aggop-inspect/chroots/SUITE-ARCH-KEY (KEY: a hash
# of the suite, the architecture and the package list), so later runs and CI
# reuse them; a missing one is built from nothing (about half a minute each
# on a fast mirror).  Inside the chroot the probe is compiled with the
# suite's own gcc against its own libc6-dev and run with its own dynamic
# loader and libc, so the heap it prints and the cores taken of it are that
# glibc's.  From the host it is snapshotted as the host's probe is
# (tests/snapshot-lib.sh): with gcore (its memory is read through /proc, so
# the core holds the chroot's libc data whatever libraries gdb loads for
# symbols) and then with a kernel core (SIGABRT; the plain core_pattern puts
# it in the probe's cwd inside the chroot).  It leaves, per suite,
#   $FIXDIR/heap-matrix/SUITE/{exe, gcore, kcore, truth.txt}   (the full run:
#        thread arenas, a second 64 MiB heap, tcache, fastbins, bins, mmapped)
#   $FIXDIR/heap-matrix/SUITE/onearena/{kcore, truth.txt}      (small,
#        MALLOC_ARENA_MAX=1: main_arena found by its bins[])
# truth.txt's "glibc X.Y" line names the glibc that ran it.  Needs root
# (debootstrap, chroot).  Work already done (same source, same script) is
# skipped; anything that cannot be built fails loudly.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/sbin:/sbin" # debootstrap, chroot
: "${FIXDIR:?FIXDIR must be set (tests/setup.sh sets it)}"
src=fixtures/heap/heapprobe.c
dir="$FIXDIR/heap-matrix"
# bullseye: glibc 2.31 (uint16 tcache counts, no safe-linking, mallinfo);
# trixie: glibc 2.41.  The host (bookworm, 2.36) is $FIXDIR/heap.
suites=(bullseye trixie)
pkgs=gcc,libc6-dev

die() { echo "35-glibc-matrix: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap and chroot)"
command -v gdb >/dev/null || die "gdb not found (scripts/deps.sh installs it)"
# shellcheck source=../snapshot-lib.sh
. tests/snapshot-lib.sh
require_plain_core_pattern

stamp=$(cat "$src" "$0" tests/snapshot-lib.sh tests/chroot-lib.sh | sha256sum | cut -d' ' -f1)
[ -f "$dir/stamp" ] && [ "$(cat "$dir/stamp")" = "$stamp" ] && exit 0

arch=$(dpkg --print-architecture)
[ "$arch" = amd64 ] || die "the heap layer reads x86-64 glibc; this machine is $arch"

# chroot_for SUITE: prints the cached chroot's path (tests/chroot-lib.sh),
# building it when missing.
# shellcheck source=../chroot-lib.sh
. tests/chroot-lib.sh
chroot_for() {
	chroot_build "" "$1" "$pkgs" || die "no $1 chroot (tests/chroot-lib.sh said why above)"
}

# snap ROOT OUT GCORE ARGS...: snapshot_probe (tests/snapshot-lib.sh) of
# the probe in the chroot: chroot and sh exec in turn, so the pid it waits
# for is the probe's, and its cwd (OUT/run, inside the chroot) is where the
# kernel core lands.  Leaves OUT/{gcore,kcore,truth.txt} with OUT moved out
# of the chroot.
snap() {
	local root=$1 out=$2 want_gcore=$3
	shift 3
	local tmp="$rel/snap"
	rm -rf "${root:?}$tmp"
	snapshot_probe "$root$tmp" /usr/sbin/chroot "$want_gcore" "$root" /bin/sh -c "cd $tmp/run && exec $rel/exe $*"
	mkdir -p "$out"
	mv "$root$tmp"/* "$out"/
	rm -rf "${root:?}$tmp"
}

rm -rf "$dir" && mkdir -p "$dir"
for suite in "${suites[@]}"; do
	root=$(chroot_for "$suite")
	rel=/aggop-probe.$$
	rm -rf "${root:?}$rel" && mkdir -p "$root$rel"
	cp "$src" "$root$rel/heapprobe.c"
	chroot "$root" gcc -std=c11 -O1 -g -Wall -Wextra -Werror -pthread -o "$rel/exe" "$rel/heapprobe.c" ||
		die "cannot build $src in the $suite chroot"
	out="$dir/$suite"
	mkdir -p "$out"
	cp "$root$rel/exe" "$out/exe"
	snap "$root" "$out" gcore
	SNAP_ENV=MALLOC_ARENA_MAX=1 snap "$root" "$out/onearena" kernel-only small
	rm -rf "${root:?}$rel"
	echo "35-glibc-matrix: $suite: $(grep '^glibc ' "$out/truth.txt")" >&2
done
echo "$stamp" > "$dir/stamp"
