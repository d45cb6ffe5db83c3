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
cache=/var/cache/aggop-inspect/chroots
# bullseye: glibc 2.31 (uint16 tcache counts, no safe-linking, mallinfo);
# trixie: glibc 2.41.  The host (bookworm, 2.36) is $FIXDIR/heap.
suites=(bullseye trixie)
pkgs=gcc,libc6-dev

die() { echo "35-glibc-matrix: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap and chroot)"
command -v gdb >/dev/null || die "gdb not found (scripts/deps.sh installs it)"
if ! command -v debootstrap >/dev/null; then
	echo "35-glibc-matrix: installing debootstrap" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq debootstrap >/dev/null 2>&1 ||
		{ apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; } ||
		die "cannot install debootstrap"
fi
# shellcheck source=../snapshot-lib.sh
. tests/snapshot-lib.sh
require_plain_core_pattern

stamp=$(cat "$src" "$0" tests/snapshot-lib.sh | sha256sum | cut -d' ' -f1)
[ -f "$dir/stamp" ] && [ "$(cat "$dir/stamp")" = "$stamp" ] && exit 0

# The Debian archive apt uses: the first URI of a deb stanza (deb822
# .sources) or deb line (.list) that serves a plain suite, not -security,
# -updates or -backports.
mirror() {
	local m=""
	if compgen -G '/etc/apt/sources.list.d/*.sources' >/dev/null; then
		m=$(awk 'BEGIN { RS = ""; FS = "\n" }
			{ uri = ""; plain = 0; deb = 0
			  for (i = 1; i <= NF; i++) {
				split($i, w, /[ \t]+/)
				if (w[1] == "Types:" && $i ~ /[ \t]deb([ \t]|$)/) deb = 1
				if (w[1] == "URIs:") uri = w[2]
				if (w[1] == "Suites:") for (k = 2; k in w; k++) if (w[k] != "" && w[k] !~ /-(security|updates|backports)$/) plain = 1
			  }
			  if (deb && plain && uri != "") { print uri; exit } }' /etc/apt/sources.list.d/*.sources)
	fi
	if [ -z "$m" ]; then
		m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
			awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z+]+:\/\//) { u = $i; s = $(i + 1); break }
				if (s !~ /-(security|updates|backports)$/) { print u; exit } }')
	fi
	[ -n "$m" ] || die "no Debian mirror in /etc/apt/sources.list*"
	echo "$m"
}

arch=$(dpkg --print-architecture)
[ "$arch" = amd64 ] || die "the heap layer reads x86-64 glibc; this machine is $arch"

# chroot SUITE: prints the cached chroot's path, building it when missing.
chroot_for() {
	local suite=$1 key root tmp url
	key=$(printf '%s %s %s minbase v1' "$suite" "$arch" "$pkgs" | sha256sum | cut -c1-12)
	root="$cache/$suite-$arch-$key"
	mkdir -p "$cache"
	(
		flock 9
		[ -f "$root/.aggop-complete" ] && exit 0
		url=$(mirror)
		tmp="$root.tmp.$$"
		rm -rf "$tmp" "$root"
		echo "35-glibc-matrix: debootstrap $suite ($arch, minbase + $pkgs) from $url" >&2
		local t0=$SECONDS
		if ! debootstrap --variant=minbase --arch="$arch" --include="$pkgs" "$suite" "$tmp" "$url" \
			> "$cache/$suite.log" 2>&1; then
			tail -5 "$cache/$suite.log" >&2
			rm -rf "$tmp"
			die "debootstrap $suite failed (log: $cache/$suite.log)"
		fi
		echo "35-glibc-matrix: $suite chroot built in $((SECONDS - t0)) s" >&2
		touch "$tmp/.aggop-complete"
		mv -T "$tmp" "$root"
	) 9> "$cache/.lock" || exit 1
	echo "$root"
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
