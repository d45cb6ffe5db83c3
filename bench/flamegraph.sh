#!/usr/bin/env bash
# flamegraph.sh [BIN] [SNAPSHOT_DIR]: the exports of one snapshot shown in the readers they are
# for, not part of make check (it needs Chromium and Go: scripts/deps.sh viewers installs them).
#   - the flame graph opened in headless Chromium: a screenshot as drawn, one zoomed to a
#     frame (FILE.svg?zoom=NAME) and one searching (?s=REGEX); the search's "Matched: N%"
#     read back from the DOM Chromium ran the script in must equal the share of the
#     folded stacks that have a frame matching the regex (computed here from the folded file);
#   - `go tool pprof -top` of the pprof file, its total the JSON's;
#   - the diff summary of the two committed snapshots (sim-gcore-s11 -> sim-kernel-s7).
# Writes build/bench/export/; defaults: ./aggop-inspect (or build/normal's), build/fixtures/snapshots/sim-gcore-s11.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-}
[ -n "$bin" ] || { [ -x ./aggop-inspect ] && bin=./aggop-inspect || bin=build/normal/aggop-inspect; }
snap=${2:-build/fixtures/snapshots/sim-gcore-s11}
out=build/bench/export
die() { echo "flamegraph: $*" >&2; exit 1; }
[ -x "$bin" ] || die "no tool at $bin (make, or pass its path)"
[ -s "$snap/core" ] || die "no snapshot in $snap (make fixtures)"
scripts/deps.sh viewers
mkdir -p "$out"
bin=$(realpath "$bin")

"$bin" -q -o "$out/profile.md" --json "$out/profile.json" --folded "$out/requested.folded" --pprof "$out/profile.pb.gz" \
	--flamegraph "$out/flame.svg" "$snap/core" "$snap/beava-sim"
"$bin" export --folded "$out/chunk.folded" --folded-bytes chunk --flamegraph "$out/flame-chunk.svg" "$out/profile.json"

shot() {   # png, url
	local u
	u=$(mktemp -d)
	timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync --user-data-dir="$u" \
		--window-size=1200,320 --hide-scrollbars --screenshot="$1" "$2" >/dev/null 2>&1 || true
	rm -rf "$u"
	[ -s "$1" ] || die "Chromium wrote no $1"
}
dom() {   # url -> the DOM after the script ran
	local u
	u=$(mktemp -d)
	timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync --user-data-dir="$u" \
		--dump-dom "$1" 2>/dev/null || true
	rm -rf "$u"
}
svg="file://$(realpath "$out/flame.svg")"
shot "$out/flame.png" "$svg"
shot "$out/flame-zoom.png" "$svg?zoom=Windowed"
shot "$out/flame-search.png" "$svg?s=^Vec$"
shot "$out/flame-chunk.png" "file://$(realpath "$out/flame-chunk.svg")"
got=$(dom "$svg?s=^Vec$" | grep -o 'id="matched"[^>]*>Matched: [0-9.]*%' | sed 's/.*Matched: //')
want=$(python3 - "$out/requested.folded" '^Vec$' <<'PY'
import re, sys
rx, tot, hit = re.compile(sys.argv[2]), 0, 0
for line in open(sys.argv[1]):
    stack, n = line.rstrip("\n").rsplit(" ", 1)
    tot += int(n)
    if any(rx.search(f) for f in stack.split(";")):
        hit += int(n)
print("%.1f%%" % (100.0 * hit / tot))
PY
)
[ "$got" = "$want" ] || die "Chromium's search says '$got' matched, the folded stacks $want"
echo "flamegraph: Chromium ran the flame graph's script: search ^Vec\$ matched $got of the bytes (folded stacks: $want)"
echo "flamegraph: screenshots $out/flame.png $out/flame-zoom.png $out/flame-search.png $out/flame-chunk.png"

echo "== go tool pprof -top -sample_index=requested_space $out/profile.pb.gz"
go tool pprof -top -sample_index=requested_space "$out/profile.pb.gz" 2>/dev/null | tee "$out/pprof-top.txt" | head -30
total=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"]["heap_requested_bytes"])' "$out/profile.json")
echo "(the JSON's totals.heap_requested_bytes: $total)"

other=build/fixtures/snapshots/sim-kernel-s7
if [ -s "$other/core" ]; then
	echo "== aggop-inspect diff $snap $other (summary)"
	"$bin" diff -q -o "$out/diff.md" --json "$out/diff.json" "$out/profile.json" "$other/core" "$other/beava-sim"
	sed -n '/^## Summary/,/^## Totals/p' "$out/diff.md" | sed '$d'
fi
