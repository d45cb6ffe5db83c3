#!/usr/bin/env bash
# 25-bigbin.sh: builds the types layer's scale fixtures into $FIXDIR/bigbin:
#   bigbin             fixtures/bigbin/gen.sh $STRUCTS $STATICS: that many distinct
#                      alloc::sync::ArcInner<bigbin::Si> types and statics, one
#                      Arc<AppState> root (rustc -C debuginfo=2, opt-level 0)
#   twodeps            two versions of one crate `dep` in one binary
#                      (fixtures/bigbin/dep_v1.rs, dep_v2.rs, twodeps.rs)
#   *.out              what each program printed about itself (the truth)
#   rustc-version.txt  `rustc --version` of the compiler that built them
#   build-seconds.txt  wall seconds the bigbin build took
# Work already done (same sources, same script) is skipped; anything that
# cannot be built fails loudly.  Measured: about 20 s of CPU for bigbin.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${FIXDIR:?FIXDIR must be set (tests/setup.sh sets it)}"
out="$FIXDIR/bigbin"
STRUCTS=3000 STATICS=100000
die() { echo "25-bigbin: $*" >&2; exit 1; }

[ -d "$HOME/.cargo/bin" ] && PATH="$PATH:$HOME/.cargo/bin"
command -v rustc >/dev/null || die "rustc not found (it must be on PATH)"

stamp=$(cat fixtures/bigbin/* "$0" | sha256sum | cut -d' ' -f1)
[ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$stamp" ] && exit 0
rm -rf "$out" && mkdir -p "$out"

rustc --version > "$out/rustc-version.txt"
fixtures/bigbin/gen.sh "$STRUCTS" "$STATICS" > "$out/bigbin.rs"
start=$(date +%s.%N)
rustc --edition 2021 -C debuginfo=2 -C opt-level=0 -o "$out/bigbin" "$out/bigbin.rs" \
	|| die "rustc (bigbin) failed"
echo "$(date +%s.%N) $start" | awk '{printf "%.1f\n", $1 - $2}' > "$out/build-seconds.txt"
rm -f "$out/bigbin.rs"   # 2 MB of generated source, made again from gen.sh when needed
"$out/bigbin" > "$out/bigbin.out" || die "bigbin exited with $?"
grep -q "^structs $STRUCTS\$" "$out/bigbin.out" || die "bigbin did not report $STRUCTS structs"
# a snapshot of it holding still, for the roots layer's heap scan among
# thousands of ArcInner<...> types (bigbin.out says where AppState is)
HOLD=1 "$out/bigbin" > "$out/hold.out" &
pid=$!
for _ in $(seq 1 200); do grep -q '^holding' "$out/hold.out" 2>/dev/null && break; sleep 0.1; done
grep -q '^holding' "$out/hold.out" || { kill "$pid"; die "bigbin did not hold still"; }
gcore -o "$out/core" "$pid" >/dev/null 2>&1 || { kill "$pid"; die "gcore of bigbin failed"; }
kill "$pid"; wait "$pid" 2>/dev/null || true
mv "$out/core.$pid" "$out/core"

# two versions of one crate, linked as cargo links renamed dependencies
for v in 1 2; do
	rustc --edition 2021 --crate-type rlib --crate-name dep -C metadata="v$v" \
		-C extra-filename="-v$v" -C debuginfo=2 --out-dir "$out" "fixtures/bigbin/dep_v$v.rs" \
		|| die "rustc (dep v$v) failed"
done
rustc --edition 2021 -C debuginfo=2 -C opt-level=0 --extern dep_v1="$out/libdep-v1.rlib" \
	--extern dep_v2="$out/libdep-v2.rlib" -o "$out/twodeps" fixtures/bigbin/twodeps.rs \
	|| die "rustc (twodeps) failed"
"$out/twodeps" > "$out/twodeps.out" || die "twodeps exited with $?"
grep -q '^size dep_v2::Thing' "$out/twodeps.out" || die "twodeps printed no sizes"
echo "$stamp" > "$out/stamp"
