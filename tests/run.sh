#!/usr/bin/env bash
# Runs every test binary of one build (tests/test_*.c -> BUILD/tests/test_*)
# and every end-to-end script tests/e2e_*.sh with BIN set to that build's tool.
# Writes BUILD/results.txt with one "name passed failed" line each.
set -uo pipefail
cd "$(dirname "$0")/.."
build="$1"
export FIXDIR="$PWD/build/fixtures"
export BIN="$PWD/$build/aggop-inspect"
res="$build/results.txt"
: > "$res"
status=0
for t in "$build"/tests/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
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
