#!/usr/bin/env bash
# Builds every test fixture once into build/fixtures: each tests/setup.d/*.sh
# script is run in name order with FIXDIR set; a script skips work already done.
set -euo pipefail
cd "$(dirname "$0")/.."
export FIXDIR="$PWD/build/fixtures"
mkdir -p "$FIXDIR"
# The debootstrap chroots (35-glibc-matrix.sh, 65-toolchains.sh) are built
# in the background meanwhile: the network and dpkg while the CPU compiles
# (tests/chroot-lib.sh; each script waits for its chroot's lock).
# In a session of its own, so that a setup that ends first stops it whole.
setsid bash tests/chroot-lib.sh prefetch > "$FIXDIR/chroot-prefetch.log" 2>&1 &
prefetch=$!
trap 'kill -- -$prefetch 2>/dev/null || true; wait $prefetch 2>/dev/null || true' EXIT
for s in tests/setup.d/*.sh; do
	[ -e "$s" ] || continue
	echo "setup: $s" >&2
	bash "$s"
done
