#!/usr/bin/env bash
# Runs every test binary of one build (tests/test_*.c -> BUILD/tests/test_*)
# and every end-to-end script tests/e2e_*.sh with BIN set to that build's tool.
# Writes BUILD/results.txt with one "name passed failed" line each.
# T=NAME runs only tests/NAME.c or tests/NAME.sh; T=NAME:PATTERN also only
# the cmocka cases matching PATTERN (tests/cmocka_filter.c).
set -uo pipefail
cd "$(dirname "$0")/.."
build="$1"
only=${T:-}
only_name=${only%%:*}
[ "$only_name" != "$only" ] && export CMOCKA_FILTER=${only#*:}
if [ -n "$only_name" ] && [ ! -e "tests/$only_name.c" ] && [ ! -e "tests/$only_name.sh" ]; then
	echo "run.sh: T=$only_name: no tests/$only_name.c or tests/$only_name.sh" >&2
	exit 1
fi
export FIXDIR="$PWD/build/fixtures"
export BIN="$PWD/$build/aggop-inspect"
res="$build/results.txt"
: > "$res"
status=0
for t in "$build"/tests/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	[ -n "$only_name" ] && [ "$name" != "$only_name" ] && continue
	out="$build/tests/$name.log"
	"$t" > "$out" 2>&1
	rc=$?
	cat "$out"
	p=$(grep -oE '^\[  PASSED  \] [0-9]+' "$out" | awk '{s+=$4} END{print s+0}')
	f=$(grep -oE '^\[  FAILED  \] [0-9]+ test' "$out" | awk '{s+=$4} END{print s+0}')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	echo "$name $p $f" >> "$res"
	[ "$rc" -ne 0 ] && status=1
done
for t in tests/e2e_*.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .sh)
	[ -n "$only_name" ] && [ "$name" != "$only_name" ] && continue
	out="$build/tests/$name.log"
	bash "$t" > "$out" 2>&1
	rc=$?
	cat "$out"
	p=$(grep -cE '^ok ' "$out"); f=$(grep -cE '^not ok ' "$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	echo "$name $p $f" >> "$res"
	[ "$rc" -ne 0 ] && status=1
done
exit $status
