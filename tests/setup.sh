#!/usr/bin/env bash
# Builds every test fixture once into build/fixtures: each tests/setup.d/*.sh
# script is run in name order with FIXDIR set; a script skips work already done.
set -euo pipefail
cd "$(dirname "$0")/.."
export FIXDIR="$PWD/build/fixtures"
mkdir -p "$FIXDIR"
for s in tests/setup.d/*.sh; do
	[ -e "$s" ] || continue
	echo "setup: $s" >&2
	bash "$s"
done
