#!/usr/bin/env bash
# 51-beava-server.sh: beava-sim in server mode, shaped like production (issue 16): 3 ingest
# worker threads each with its own glibc arena (6 arenas with main, the flusher and the apply
# thread), the fraud-team load over HTTP on loopback, a 1 MiB WAL ring (an mmapped chunk),
# per-connection buffers, a leaked buffer, a buffer referenced only from a thread's stack,
# and the state allocated after start-up churn. Three snapshots, each with the truth's
# "owners" ledger (truth.json):
#   $FIXDIR/sim-server/gcore/    gcore, state allocated after churn (wherever glibc puts it)
#   $FIXDIR/sim-server/kernel/   the same run taken as a kernel core
#   $FIXDIR/sim-server/unsplit/  gcore, --unsplit: the state's ArcInner forced into a chunk
#                                one 16-byte granule larger than its request (remainder < MINSIZE)
# Needs 50-beava-sim.sh's build (same CARGO_TARGET_DIR). Stamped on the sources and scripts.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${FIXDIR:?FIXDIR must be set (tests/setup.sh sets it)}"
sim=fixtures/beava-sim
top="$FIXDIR/sim-server"
die() { echo "51-beava-server: $*" >&2; exit 1; }
command -v cargo >/dev/null || die "cargo not found"

stamp=$( (find "$sim" -name target -prune -o -type f -print | LC_ALL=C sort | xargs cat; cat fixtures/make-snapshot "$0") | sha256sum | cut -d' ' -f1)
[ -f "$top/stamp" ] && [ "$(cat "$top/stamp")" = "$stamp" ] && exit 0

export CARGO_TARGET_DIR="$FIXDIR/beava-sim-target"
rm -rf "$top"
mkdir -p "$top"
common=(--events 3000 --keys 300 --seed 5 --workers 3)
fixtures/make-snapshot --out "$top/gcore" "${common[@]}" >&2 || die "make-snapshot (gcore) failed"
kpat=$(cat /proc/sys/kernel/core_pattern)
case "$kpat" in
\|*|/*) die "kernel cores go to '$kpat' here; set core_pattern to 'core' (the kernel-core snapshot needs it)" ;;
esac
fixtures/make-snapshot --out "$top/kernel" "${common[@]}" --kernel >&2 || die "make-snapshot (kernel) failed"
fixtures/make-snapshot --out "$top/unsplit" "${common[@]}" --unsplit >&2 || die "make-snapshot (unsplit) failed"
for d in gcore kernel unsplit; do
	for f in beava-sim core truth.json metrics.prom made-by.txt; do
		[ -s "$top/$d/$f" ] || die "make-snapshot left no $top/$d/$f"
	done
done
echo "$stamp" >"$top/stamp"
