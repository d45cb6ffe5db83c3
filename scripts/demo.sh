#!/usr/bin/env bash
# make demo: writes memory-profile.md for CORE/EXE when given, else for the
# first committed beava-sim snapshot (unpacked by the snapshots setup script).
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
args=()
[ -n "${METRICS:-}" ] && [ -f "$METRICS" ] && args+=(--metrics "$METRICS")
set +e
./aggop-inspect "${args[@]}" --json memory-profile.json "$CORE" "$EXE"
rc=$?
set -e
# 3 = the metrics check diverged: the report is written, which is the demo's point
[ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || exit "$rc"
echo "demo: wrote memory-profile.md and memory-profile.json from $CORE"
