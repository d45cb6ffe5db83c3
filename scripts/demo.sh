#!/usr/bin/env bash
# make demo: writes memory-profile.md (and the chart memory-profile.svg, and
# memory-profile.json) for CORE/EXE when given, else for the first committed
# beava-sim snapshot (unpacked by the snapshots setup script).
#   make demo CORE=app.core EXE=app                       beava's built-in target
#   make demo CORE=app.core EXE=app ROOT=TABLE ENUM=Shape  generic mode: any enum behind any static
# When chromium is installed, the chart is also rendered headless into
# build/demo-svg.png (a check that a real browser draws it).
#
# The committed snapshot's /metrics scrape carries beava's placeholder
# bytes_per_entity_p99 (7000), so the coherence check reports a divergence
# and the tool exits 3 on purpose: that is the finding the demo shows.
set -euo pipefail
cd "$(dirname "$0")/.."
export FIXDIR="$PWD/build/fixtures"
if [ -z "${CORE:-}" ]; then
	bash tests/setup.d/55-snapshots.sh
	dir=$(ls -d "$FIXDIR"/snapshots/*/ 2>/dev/null | head -n 1); dir=${dir%/}
	[ -n "$dir" ] || { echo "demo: no committed snapshot found under fixtures/snapshots" >&2; exit 2; }
	CORE="$dir/core"; EXE="$dir/beava-sim"
	METRICS=${METRICS:-$dir/metrics.prom}
fi
[ -n "${EXE:-}" ] || { echo "demo: CORE=$CORE needs EXE=the executable that made it" >&2; exit 1; }
args=()
[ -n "${METRICS:-}" ] && [ -f "$METRICS" ] && args+=(--metrics "$METRICS")
[ -n "${ROOT:-}" ] && args+=(--root "$ROOT")
[ -n "${ENUM:-}" ] && args+=(--enum "$ENUM")
set +e
./aggop-inspect "${args[@]}" --json memory-profile.json "$CORE" "$EXE"
rc=$?
set -e
# 3 = the metrics check diverged: the report is written, which is the demo's point
[ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || exit "$rc"
[ "$rc" -eq 3 ] && echo "demo: the metrics check diverged on purpose: the snapshot's /metrics carries beava's placeholder bytes_per_entity_p99 (7000), the report says what it should carry"
chrome=$(command -v chromium || command -v chromium-browser || true)
if [ -n "$chrome" ] && [ -f memory-profile.svg ]; then
	mkdir -p build
	ud=$(mktemp -d)
	rm -f build/demo-svg.png
	timeout 60 "$chrome" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync --user-data-dir="$ud" \
		--screenshot=build/demo-svg.png --window-size=1200,900 "file://$PWD/memory-profile.svg" >/dev/null 2>&1 || true
	rm -rf "$ud"
	if [ -s build/demo-svg.png ]; then
		echo "demo: chromium rendered the chart into build/demo-svg.png"
	else
		echo "demo: chromium could not render memory-profile.svg" >&2; exit 2
	fi
fi
echo "demo: wrote memory-profile.md, memory-profile.svg and memory-profile.json from $CORE"
