#!/usr/bin/env bash
# 47-arc-server.sh: builds fixtures/arc-server/srv_arc.rs (generic root discovery: a
# server whose state lives only in an Arc held by 3 worker threads, no static), runs it,
# and takes a gcore once it has printed its own truth (counting-allocator ledger):
#   $FIXDIR/arc-server/{srv_arc, core, truth.json, stamp}
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${FIXDIR:?FIXDIR must be set (tests/setup.sh sets it)}"
out="$FIXDIR/arc-server"
stamp=$( (cat fixtures/arc-server/srv_arc.rs fixtures/common/op_counting.rs "$0"; rustc --version) | sha256sum | cut -c1-16)
[ -s "$out/truth.json" ] && [ -s "$out/core" ] && [ "$(cat "$out/stamp" 2>/dev/null)" = "$stamp" ] && exit 0
for tool in rustc gcore; do
	command -v "$tool" >/dev/null || { echo "47-arc-server: $tool not found" >&2; exit 1; }
done
mkdir -p "$out"
rustc -C debuginfo=2 -C opt-level=1 -o "$out/srv_arc" fixtures/arc-server/srv_arc.rs
rm -f "$out/truth.json" "$out/core" "$out/stamp"
"$out/srv_arc" > "$out/truth.json.tmp" &
pid=$!
for _ in $(seq 1 100); do [ -s "$out/truth.json.tmp" ] && break; sleep 0.1; done
[ -s "$out/truth.json.tmp" ] || { kill "$pid" 2>/dev/null; echo "47-arc-server: srv_arc printed no truth (exited or hung)" >&2; exit 1; }
gcore -o "$out/core" "$pid" >/dev/null 2>&1 || { kill "$pid"; echo "47-arc-server: gcore failed" >&2; exit 1; }
kill "$pid"; wait "$pid" 2>/dev/null || true
mv "$out/core.$pid" "$out/core"
mv "$out/truth.json.tmp" "$out/truth.json"
echo "$stamp" > "$out/stamp"
