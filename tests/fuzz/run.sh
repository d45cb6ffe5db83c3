#!/usr/bin/env bash
# run.sh: `make fuzz`: runs each named harness (build/fuzz/fuzz_NAME) for
# SECONDS, JOBS at a time, niced, from the committed seeds
# (tests/fuzz/corpus/NAME) plus what earlier runs kept (build/fuzz/corpus/NAME,
# where new inputs go).  Crashes land in build/fuzz/crashes/NAME/; once
# understood, copy each into tests/fuzz/regressions/NAME/ (make check replays
# them).  Prints one line per harness: executions, exec/s, coverage,
# features, corpus size, crashes.  Exit status 1 when a harness crashed.
# FUZZ_FLAGS adds libFuzzer flags.  FUZZ_GO_ON=1 restarts a harness that
# stopped on an out-of-memory or a timeout (kept in crashes/) until its time
# is up: a known resource finding then does not end the run (libFuzzer's
# -fork mode does the same, at a tenth of the speed here).
#   tests/fuzz/run.sh SECONDS JOBS NAME...
set -uo pipefail
cd "$(dirname "$0")/../.."
secs=$1 jobs=$2
shift 2
export FIXDIR=${FIXDIR:-$PWD/build/fixtures} AGGOP_FUZZ_DATA=$PWD/tests/fuzz/data
out=build/fuzz
mkdir -p $out/logs

run_one() {
	local name=$1 end=$((SECONDS + secs)) left
	mkdir -p "$out/corpus/$name" "$out/crashes/$name"
	: > "$out/logs/$name.log"
	while left=$((end - SECONDS)); [ "$left" -gt 0 ]; do
		nice -n 19 "$out/fuzz_$name" -max_total_time="$left" -timeout=10 -rss_limit_mb=2048 \
			-artifact_prefix="$out/crashes/$name/" -print_final_stats=1 ${FUZZ_FLAGS:-} \
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
printf '%-8s %10s %8s %6s %7s %7s %8s\n' harness execs exec/s cov ft corpus crashes
for name in "$@"; do
	log=$out/logs/$name.log
	last=$(grep -aE '^#[0-9]+' "$log" | grep -aE 'cov: ' | tail -1)
	# fork mode prints no stat:: lines: its last status line says it all
	execs=$(awk '/stat::number_of_executed_units/ {s += $2; n++} END {if (n) print s}' "$log")
	rate=$(awk '/stat::average_exec_per_sec/ {s += $2; n++} END {if (n) print int(s / n)}' "$log")
	: "${execs:=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$last")}"
	: "${rate:=$(sed -nE 's/.*exec\/s: ([0-9]+).*/\1/p' <<<"$last")}"
	cov=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$last")
	ft=$(sed -nE 's/.*ft: ([0-9]+).*/\1/p' <<<"$last")
	corp=$(sed -nE 's/.*corp: ([0-9]+)\/.*/\1/p' <<<"$last")
	crashes=$(find "$out/crashes/$name" -type f | wc -l)
	printf '%-8s %10s %8s %6s %7s %7s %8s\n' "$name" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" \
		"${corp:-?}" "$crashes"
	if grep -aqE 'ERROR: (AddressSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|runtime error:' "$log"; then
		# with FUZZ_GO_ON=1 too: the resource findings are in crashes/
		status=1
	fi
done
exit $status
