#!/usr/bin/env bash
# Builds fixtures/generic/shapes.rs (not beava: a static map of another enum),
# runs it, and takes a gcore once it has printed its own truth.
set -euo pipefail
out="$FIXDIR/generic"
stamp=$(sha256sum fixtures/generic/shapes.rs | cut -c1-16)
[ -s "$out/truth.json" ] && [ -s "$out/core" ] && [ "$(cat "$out/stamp" 2>/dev/null)" = "$stamp" ] && exit 0
mkdir -p "$out"
rustc -C debuginfo=2 -C opt-level=1 -o "$out/shapes" fixtures/generic/shapes.rs
rm -f "$out/truth.json" "$out/core"
"$out/shapes" > "$out/truth.json.tmp" &
pid=$!
for _ in $(seq 1 100); do [ -s "$out/truth.json.tmp" ] && break; sleep 0.1; done
[ -s "$out/truth.json.tmp" ] || { kill "$pid"; echo "shapes printed no truth" >&2; exit 1; }
gcore -o "$out/core" "$pid" >/dev/null 2>&1
kill "$pid"; wait "$pid" 2>/dev/null || true
mv "$out/core.$pid" "$out/core"
mv "$out/truth.json.tmp" "$out/truth.json"
echo "$stamp" > "$out/stamp"
