#!/usr/bin/env bash
# run.sh: `make fuzz`: runs each named harness (build/fuzz/fuzz_NAME) for
# SECONDS, JOBS at a time, niced, from the committed seeds
# (tests/fuzz/corpus/NAME) plus what earlier runs kept (build/fuzz/corpus/NAME,
# where new inputs go).  Crashes land in build/fuzz/crashes/NAME/; once
# understood, copy each into tests/fuzz/regressions/NAME/ (make check replays
# them).  Prints one line per harness: executions, exec/s, coverage,
# features, corpus size, crashes.  Exit status 1 when a harness crashed.
#   tests/fuzz/run.sh SECONDS JOBS NAME...
set -uo pipefail
cd "$(dirname "$0")/../.."
secs=$1 jobs=$2
shift 2
export FIXDIR=${FIXDIR:-$PWD/build/fixtures} AGGOP_FUZZ_DATA=$PWD/tests/fuzz/data
out=build/fuzz
mkdir -p $out/logs

run_one() {
	local name=$1
	mkdir -p "$out/corpus/$name" "$out/crashes/$name"
	nice -n 19 "$out/fuzz_$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$out/crashes/$name/" -print_final_stats=1 \
		"$out/corpus/$name" "tests/fuzz/corpus/$name" > "$out/logs/$name.log" 2>&1
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
printf '%-8s %10s %8s %6s %7s %7s %8s\n' harness execs exec/s cov ft corpus crashes
for name in "$@"; do
	log=$out/logs/$name.log
	execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log")
	rate=$(awk '/stat::average_exec_per_sec/ {print $2}' "$log")
	last=$(grep -E '^#[0-9]+' "$log" | grep -E 'cov: ' | tail -1)
	cov=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$last")
	ft=$(sed -nE 's/.*ft: ([0-9]+).*/\1/p' <<<"$last")
	corp=$(sed -nE 's/.*corp: ([0-9]+)\/.*/\1/p' <<<"$last")
	crashes=$(find "$out/crashes/$name" -type f | wc -l)
	printf '%-8s %10s %8s %6s %7s %7s %8s\n' "$name" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" \
		"${corp:-?}" "$crashes"
	if grep -qE 'ERROR: (AddressSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|runtime error:' "$log"; then
		status=1
	fi
done
exit $status
