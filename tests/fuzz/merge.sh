#!/usr/bin/env bash
# merge.sh: a fuzzing run's corpus into the committed one (tests/fuzz/run.sh
# calls it after make fuzz; a campaign run by hand uses it the same way).
#   tests/fuzz/merge.sh NAME DIR...
# The committed corpus tests/fuzz/corpus/NAME and the DIRs are merged by
# build/fuzz/fuzz_NAME -merge=1 (FUZZ_BIN overrides it): a minimal set with
# the coverage of all of them.  The set is capped at FUZZ_CORPUS_KB KiB
# (default 512) by dropping its largest inputs, and replaces the committed
# corpus's files named by their SHA-1 (libFuzzer's); the named seeds of
# mkseeds.sh stay.  Commit the result.
set -uo pipefail
cd "$(dirname "$0")/../.."
name=$1
shift
export FIXDIR=${FIXDIR:-$PWD/build/fixtures} AGGOP_FUZZ_DATA=$PWD/tests/fuzz/data
bin=${FUZZ_BIN:-build/fuzz/fuzz_$name}
cap=$((${FUZZ_CORPUS_KB:-512} * 1024))
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/new"
if ! nice -n 10 "$bin" -merge=1 -timeout=10 -rss_limit_mb=2048 "$tmp/new" "tests/fuzz/corpus/$name" "$@" \
	> "$tmp/log" 2>&1; then
	echo "merge.sh: $bin -merge=1 failed:" >&2
	tail -5 "$tmp/log" >&2
	exit 1
fi
total=0
while read -r size file; do
	total=$((total + size))
	[ "$total" -le "$cap" ] || rm -f "$file"
done < <(find "$tmp/new" -type f -printf '%s %p\n' | sort -n)
find "tests/fuzz/corpus/$name" -type f -regextype egrep -regex '.*/[0-9a-f]{40}' -delete
find "$tmp/new" -type f -exec cp -n {} "tests/fuzz/corpus/$name/" \;
echo "corpus $name: $(ls "tests/fuzz/corpus/$name" | wc -l) files, $(du -sk --apparent-size "tests/fuzz/corpus/$name" | cut -f1) KiB" \
	"($(grep -aoE 'MERGE-OUTER: [0-9]+ new files with [0-9]+ new features' "$tmp/log" | tail -1))"
