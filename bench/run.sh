#!/usr/bin/env bash
# make bench-all: every bench/*.sh except this one, in name order.
set -uo pipefail
cd "$(dirname "$0")/.."
for b in bench/*.sh; do
	[ "$(basename "$b")" = run.sh ] && continue
	echo "== $b"
	bash "$b" || echo "$b failed"
done
