#!/usr/bin/env bash
# 60-sim-pair.sh: two small beava-sim snapshots of one seed at two event counts, for the
# diff's test against the sim's own accounting (tests/test_diff.c): the diff of their two
# profiles must equal the difference of their two truths, family by family.
#   $FIXDIR/sim-pair/e2000/ and $FIXDIR/sim-pair/e4000/ (make-snapshot's files each)
# --events 2000 and 4000, --keys 300, --seed 5, gcore.  Small (a few seconds each once the
# sim is built by 50-beava-sim.sh, whose cargo target directory this reuses).
# Work already done (same sources, same script) is skipped; a failure fails loudly.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${FIXDIR:?FIXDIR must be set (tests/setup.sh sets it)}"
sim=fixtures/beava-sim
dir="$FIXDIR/sim-pair"
die() { echo "60-sim-pair: $*" >&2; exit 1; }
command -v cargo >/dev/null || die "cargo not found: install a Rust toolchain (rustup, or apt-get install cargo)"

stamp=$( (find "$sim" -name target -prune -o -type f -print | LC_ALL=C sort | xargs cat; cat fixtures/make-snapshot "$0") | sha256sum | cut -d' ' -f1)
[ -f "$dir/stamp" ] && [ "$(cat "$dir/stamp")" = "$stamp" ] && [ -s "$dir/e2000/core" ] && [ -s "$dir/e4000/core" ] && exit 0

export CARGO_TARGET_DIR="$FIXDIR/beava-sim-target"
rm -rf "$dir"
mkdir -p "$dir"
for n in 2000 4000; do
	fixtures/make-snapshot --out "$dir/e$n" --events "$n" --keys 300 --seed 5 >&2 || die "make-snapshot --events $n failed"
	for f in beava-sim core truth.json made-by.txt; do
		[ -s "$dir/e$n/$f" ] || die "make-snapshot left no $dir/e$n/$f"
	done
done
echo "$stamp" >"$dir/stamp"
