#!/usr/bin/env bash
# Prints the runner summary over the builds given: "N passed, N failed".
# A build without a results file (it did not compile) counts as one failure.
set -uo pipefail
cd "$(dirname "$0")/.."
p=0; f=0
for b in "$@"; do
	if [ ! -f "$b/results.txt" ]; then echo "summary: $b produced no results (build failed?)"; f=$((f+1)); continue; fi
	while read -r name pp ff; do p=$((p+pp)); f=$((f+ff)); done < "$b/results.txt"
done
echo "$p passed, $f failed"
[ "$f" -eq 0 ]
