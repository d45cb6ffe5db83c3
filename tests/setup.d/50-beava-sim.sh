#!/usr/bin/env bash
# 50-beava-sim.sh: builds fixtures/beava-sim (cargo, offline against Debian's packaged
# crates), runs its Rust tests (size_of::<AggOp>() == 80, size_of::<Value>() == 32, the
# compact_str layout, the workload's 111 features), and makes a fresh small snapshot with
# fixtures/make-snapshot:
#   $FIXDIR/sim-fresh/{beava-sim, core, truth.json, metrics.prom, variants.txt, made-by.txt}
# The size (6000 events, 600 keys, one 600-event card-testing burst: 60 s, so at least 300 of
# its Txns share one 22.5-minute bucket of merchant_amount_p99_24h and the Percentile
# leaves its 256-sample exact mode) is chosen so that
# windows hold many buckets, a CountDistinct reaches its hash set, a Percentile its sketch,
# and all 9 tables have entities, in a few seconds after the build.
# Work already done (same sources, same script) is skipped; a failure fails loudly.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${FIXDIR:?FIXDIR must be set (tests/setup.sh sets it)}"
sim=fixtures/beava-sim
dir="$FIXDIR/sim-fresh"
die() { echo "50-beava-sim: $*" >&2; exit 1; }

command -v cargo >/dev/null || die "cargo not found: install a Rust toolchain (rustup, or apt-get install cargo)"
scripts/deps.sh check
for c in smallvec-1 hashbrown-0.12 parking_lot-0.12 rustc-hash-1 libc-0 ahash-0.7; do
	ls -d /usr/share/cargo/registry/$c* >/dev/null 2>&1 || die "crate $c missing from /usr/share/cargo/registry (scripts/deps.sh installs librust-*-dev)"
done

stamp=$( (find "$sim" -name target -prune -o -type f -print | LC_ALL=C sort | xargs cat; cat fixtures/make-snapshot "$0") | sha256sum | cut -d' ' -f1)
[ -f "$dir/stamp" ] && [ "$(cat "$dir/stamp")" = "$stamp" ] && [ -s "$dir/core" ] && exit 0

export CARGO_TARGET_DIR="$FIXDIR/beava-sim-target"
(cd "$sim" && cargo test --release --quiet 2>&1 && cargo test --release --quiet -p compact_str 2>&1) >"$FIXDIR/beava-sim-test.log" \
	|| { cat "$FIXDIR/beava-sim-test.log" >&2; die "cargo test failed (log above)"; }
rm -rf "$dir"
fixtures/make-snapshot --out "$dir" --events 6000 --keys 600 --seed 3 >&2 || die "make-snapshot failed"
for f in beava-sim core truth.json metrics.prom variants.txt made-by.txt; do
	[ -s "$dir/$f" ] || die "make-snapshot left no $dir/$f"
done
echo "$stamp" >"$dir/stamp"
