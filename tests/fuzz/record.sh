#!/usr/bin/env bash
# record.sh: appends one fuzzing run to tests/fuzz/CAMPAIGN.md and
# recomputes its totals.  tests/fuzz/run.sh (make fuzz) calls it after every
# run; a run made by hand is recorded the same way.
#   tests/fuzz/record.sh SECONDS JOBS LOGDIR CRASHDIR NAME...
#   tests/fuzz/record.sh --totals     only rebuilds Totals (after a Runs row
#                                     was corrected by hand, e.g. the seconds
#                                     of a run stopped early with SIGUSR1)
# For each NAME: LOGDIR/NAME.log is libFuzzer's output of the run (one or
# more processes one after the other, with -print_final_stats=1), CRASHDIR/
# NAME/ the artifacts it left.  One row per harness goes to the "Runs" table:
# date, commit, harness, seconds, jobs, executions, exec/s, coverage,
# features, corpus (the run's), findings (artifacts).  The "Totals" table
# (one row per harness) is then rebuilt from every row of "Runs":
# executions summed, exec/s = executions / seconds over all runs, coverage
# and features of the harness's latest run, corpus = files committed in
# tests/fuzz/corpus/NAME, findings summed.  Prints the run's rows.
set -uo pipefail
cd "$(dirname "$0")/../.."
totals_only=0
if [ "${1:-}" = --totals ]; then
	totals_only=1
	set -- 0 0 /nonexistent /nonexistent
fi
secs=$1 jobs=$2 logs=$3 crashes=$4
shift 4
md=tests/fuzz/CAMPAIGN.md
[ -f "$md" ] || { echo "record.sh: $md is missing" >&2; exit 1; }
commit=$(git rev-parse --short HEAD 2> /dev/null || echo "?")
date=$(date -u +%Y-%m-%dT%H:%MZ)
rows=
for name in "$@"; do
	log=$logs/$name.log
	[ -f "$log" ] || { echo "record.sh: no log $log" >&2; continue; }
	last=$(grep -aE '^#[0-9]+' "$log" | grep -aE 'cov: ' | tail -1)
	execs=$(awk '/stat::number_of_executed_units/ {s += $2; n++} END {if (n) print s}' "$log")
	: "${execs:=$(sed -nE 's/^#([0-9]+).*/\1/p' <<< "$last")}"
	rate=$(( ${execs:-0} / (secs > 0 ? secs : 1) ))
	cov=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<< "$last")
	ft=$(sed -nE 's/.*ft: ([0-9]+).*/\1/p' <<< "$last")
	corp=$(sed -nE 's/.*corp: ([0-9]+)\/.*/\1/p' <<< "$last")
	found=$(find "$crashes/$name" -type f 2> /dev/null | wc -l)
	rows+="| $date | $commit | $name | $secs | $jobs | ${execs:-0} | $rate | ${cov:-?} | ${ft:-?} | ${corp:-?} | $found |"$'\n'
done
[ -n "$rows" ] || [ "$totals_only" = 1 ] || exit 1
printf '%s' "$rows"
tmp=$(mktemp)
# the new rows go at the end of the Runs table (the last table of the file)
{ cat "$md"; printf '%s' "$rows"; } > "$tmp"
# Totals from every Runs row; the table between the markers is replaced
awk -F'|' -v corpdir=tests/fuzz/corpus '
	function trim(s) { gsub(/^ +| +$/, "", s); return s }
	FNR == NR {
		if (inruns && $0 ~ /^\| [0-9]/ ) {
			h = trim($4); s = trim($5); e = trim($7)
			if (!(h in ex)) order[++n] = h
			ex[h] += e; sec[h] += s; cov[h] = trim($9); ft[h] = trim($10); fnd[h] += trim($12)
		}
		if ($0 ~ /^## Runs/) inruns = 1
		next
	}
	/<!-- totals -->/ {
		print
		print "| harness | executions | exec/s | coverage | features | corpus | findings |"
		print "|---|---:|---:|---:|---:|---:|---|"
		for (i = 1; i <= n; i++) {
			h = order[i]
			cmd = "ls " corpdir "/" h " 2> /dev/null | wc -l"; cmd | getline files; close(cmd)
			printf "| %s | %d | %d | %s | %s | %d | %s |\n", h, ex[h], sec[h] ? ex[h] / sec[h] : 0, cov[h], ft[h], files,
				fnd[h] ? fnd[h] : "none"
		}
		skip = 1
		next
	}
	/<!-- \/totals -->/ { skip = 0 }
	!skip { print }
' "$tmp" "$tmp" > "$md"
rm -f "$tmp"
