#!/usr/bin/env bash
# 60-shapes.sh: the programs of fixtures/shapes/ (std_shapes.rs: one std
# container shape per variant; opaque.rs: heap behind raw and private
# pointers; crates/: indexmap, bytes, arrayvec, dashmap, parking_lot and
# smallvec from Debian's packaged crates, cargo offline), built by the
# toolchain on PATH (rustup's rustc), run, and snapshotted with gcore once
# each has printed its own ledger:
#   $FIXDIR/shapes/host/{std,opaque,crates}/{exe, core, truth.json, rustc.txt}
# Other toolchains: 65-toolchains.sh.  Work already done (same sources, same
# scripts, same rustc) is skipped; a failure fails loudly.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${FIXDIR:?FIXDIR must be set (tests/setup.sh sets it)}"
die() { echo "60-shapes: $*" >&2; exit 1; }
. tests/shapes-lib.sh

for tool in rustc cargo gdb; do
	command -v "$tool" >/dev/null || die "$tool not found"
done
[ -d /usr/share/cargo/registry/dashmap-5.4.0 ] || scripts/deps.sh check
out="$FIXDIR/shapes/host"
stamp=$( (shapes_sources; cat "$0"; rustc --version; cargo --version) | sha256sum | cut -d' ' -f1)
shapes_fresh "$out" "$stamp" && exit 0
t0=$SECONDS
rm -rf "$out" && mkdir -p "$out"/{std,opaque,crates}
flags=(-C debuginfo=2 -C opt-level=1)
rustc "${flags[@]}" -o "$out/std/exe" "$SHAPES_SRC/std_shapes.rs" || die "rustc std_shapes.rs failed"
rustc "${flags[@]}" -o "$out/opaque/exe" "$SHAPES_SRC/opaque.rs" || die "rustc opaque.rs failed"
export CARGO_TARGET_DIR="$FIXDIR/shapes-target/host"
(cd "$SHAPES_SRC/crates" && cargo build --quiet --locked) >"$out/crates/build.log" 2>&1 ||
	{ cat "$out/crates/build.log" >&2; die "cargo build of $SHAPES_SRC/crates failed"; }
cp "$CARGO_TARGET_DIR/debug/crate-shapes" "$out/crates/exe"
for p in std opaque crates; do
	rustc --version > "$out/$p/rustc.txt"
	shapes_snap "$out/$p" "" "$out/$p/exe"
done
echo "$stamp" > "$out/stamp"
echo "60-shapes: host ($(rustc --version)) in $((SECONDS - t0)) s" >&2
