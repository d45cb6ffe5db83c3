#!/usr/bin/env bash
# run.sh: `make fuzz`: runs each named harness (build/fuzz/fuzz_NAME) for
# SECONDS, JOBS at a time, niced (nice -n 10), from the committed corpus
# (tests/fuzz/corpus/NAME) plus what earlier runs kept (build/fuzz/corpus/NAME,
# where new inputs go), with the harness's dictionary (tests/fuzz/NAME.dict).
# Every run stops by itself (-max_total_time).  Crashes land in
# build/fuzz/crashes/NAME/; once understood and fixed, copy each into
# tests/fuzz/regressions/NAME/ (make check replays them).  Then:
#   - one row per harness is appended to tests/fuzz/CAMPAIGN.md and its
#     totals rebuilt (tests/fuzz/record.sh), and printed;
#   - unless FUZZ_MERGE=0, the committed corpus and the run's are merged
#     (tests/fuzz/merge.sh: -merge=1, capped at FUZZ_CORPUS_KB KiB per
#     harness, the named seeds kept): commit it.
# Exit status 1 when a harness crashed.  FUZZ_FLAGS adds libFuzzer flags.
# FUZZ_GO_ON=1 restarts a harness that stopped on an out-of-memory or a
# timeout (kept in crashes/) until its time is up.
#   tests/fuzz/run.sh SECONDS JOBS NAME...
#
# libFuzzer flags and why: -entropic=0 (the entropic schedule spent half of
# the walk harness's time in UpdateFeatureFrequency: 3x fewer executions),
# -reload=0 (one process per harness: nothing to reload), -timeout=10 and
# -rss_limit_mb=2048 (the tool's contract is 10 s and 2 GiB; see
# tests/e2e_fuzz.sh).
set -uo pipefail
cd "$(dirname "$0")/../.."
secs=$1 jobs=$2
shift 2
export FIXDIR=${FIXDIR:-$PWD/build/fixtures} AGGOP_FUZZ_DATA=$PWD/tests/fuzz/data
out=build/fuzz
mkdir -p $out/logs

run_one() {
	local name=$1 end=$((SECONDS + secs)) left dict=()
	mkdir -p "$out/corpus/$name" "$out/crashes/$name"
	[ -f "tests/fuzz/$name.dict" ] && dict=(-dict="tests/fuzz/$name.dict")
	: > "$out/logs/$name.log"
	while left=$((end - SECONDS)); [ "$left" -gt 0 ]; do
		nice -n 10 "$out/fuzz_$name" -max_total_time="$left" -timeout=10 -rss_limit_mb=2048 -entropic=0 \
			-reload=0 "${dict[@]}" -artifact_prefix="$out/crashes/$name/" -print_final_stats=1 ${FUZZ_FLAGS:-} \
			"$out/corpus/$name" "tests/fuzz/corpus/$name" > "$out/logs/$name.last" 2>&1
		cat "$out/logs/$name.last" >> "$out/logs/$name.log"
		[ "${FUZZ_GO_ON:-0}" = 1 ] && grep -qE 'ERROR: libFuzzer: (out-of-memory|timeout)' "$out/logs/$name.last" ||
			break
	done
	rm -f "$out/logs/$name.last"
}

running=0
for name in "$@"; do
	run_one "$name" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait

status=0
tests/fuzz/record.sh "$secs" "$jobs" "$out/logs" "$out/crashes" "$@" || status=1
for name in "$@"; do
	if grep -aqE 'ERROR: (AddressSanitizer|UndefinedBehaviorSanitizer|LeakSanitizer|libFuzzer)|runtime error:' \
		"$out/logs/$name.log"; then
		# with FUZZ_GO_ON=1 too: the resource findings are in crashes/
		echo "$name: a finding, see $out/logs/$name.log and $out/crashes/$name/"
		status=1
	fi
	[ "${FUZZ_MERGE:-1}" = 1 ] && tests/fuzz/merge.sh "$name" "$out/corpus/$name"
done
exit $status
