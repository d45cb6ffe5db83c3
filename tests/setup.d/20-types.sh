#!/usr/bin/env bash
# 20-types.sh: builds the types-layer fixtures into $FIXDIR/types:
#   rust-debug      fixtures/rust-enums/probe.rs, -g (DWARF 4, opt-level 0)
#   rust-release    -O -g, 16 codegen units (per-CGU copies, DW_FORM_ref_addr)
#   rust-v5         -g -C dwarf-version=5 (v5 user CUs next to std's v4 ones)
#   rust-zlib       rust-debug with SHF_COMPRESSED (zlib) debug sections
#   rust-stripped   rust-debug without debug sections, and rust.debug its
#                   --only-keep-debug file, also under debugroot/.build-id/
#   cprobe          fixtures/c-dwarf5/cprobe.c with gcc -gdwarf-5
#   *.out           what each program printed about itself (the truth)
# Work already done (same sources, same script) is skipped; anything that
# cannot be built fails loudly.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${FIXDIR:?FIXDIR must be set (tests/setup.sh sets it)}"
out="$FIXDIR/types"
die() { echo "20-types: $*" >&2; exit 1; }

[ -d "$HOME/.cargo/bin" ] && PATH="$PATH:$HOME/.cargo/bin"
for tool in gcc rustc objcopy strip readelf; do
	command -v "$tool" >/dev/null || die "$tool not found (gcc and binutils from scripts/deps.sh; rustc must be on PATH)"
done

stamp=$(cat fixtures/rust-enums/probe.rs fixtures/c-dwarf5/cprobe.c "$0" | sha256sum | cut -d' ' -f1)
[ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$stamp" ] && exit 0
rm -rf "$out" && mkdir -p "$out"

rs=fixtures/rust-enums/probe.rs
rustc --edition 2021 -g -C opt-level=0 -o "$out/rust-debug" "$rs" || die "rustc (debug) failed"
rustc --edition 2021 -g -C opt-level=3 -C codegen-units=16 -o "$out/rust-release" "$rs" \
	|| die "rustc (release) failed"
rustc --edition 2021 -g -C opt-level=0 -C dwarf-version=5 -o "$out/rust-v5" "$rs" \
	|| die "rustc (dwarf-version=5) failed"
gcc -std=c11 -gdwarf-5 -O0 -o "$out/cprobe" fixtures/c-dwarf5/cprobe.c || die "gcc failed"

objcopy --compress-debug-sections=zlib "$out/rust-debug" "$out/rust-zlib"
readelf -S "$out/rust-zlib" | grep -A1 '\.debug_info' | grep -q ' C ' \
	|| die "objcopy did not compress .debug_info"
objcopy --only-keep-debug "$out/rust-debug" "$out/rust.debug"
strip -g -o "$out/rust-stripped" "$out/rust-debug"
readelf -S "$out/rust-stripped" | grep -q '\.debug_info' && die "strip -g left .debug_info"
id=$(readelf -n "$out/rust-debug" | awk '/Build ID:/ {print $3}')
[ -n "$id" ] || die "rust-debug has no build-id"
mkdir -p "$out/debugroot/.build-id/${id:0:2}"
cp "$out/rust.debug" "$out/debugroot/.build-id/${id:0:2}/${id:2}.debug"
echo "$id" > "$out/buildid.txt"

for p in rust-debug rust-release rust-v5 cprobe; do
	"$out/$p" > "$out/$p.out" || [ "$p" = cprobe ] || die "$p exited with $?"
	[ -s "$out/$p.out" ] || die "$p printed nothing"
done
cp "$out/rust-debug.out" "$out/rust-zlib.out"   # the same program, compressed sections
grep -q '^variant probe::AggOp' "$out/rust-debug.out" || die "the Rust probe printed no AggOp variants"
echo "$stamp" > "$out/stamp"
