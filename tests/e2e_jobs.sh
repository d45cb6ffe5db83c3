#!/usr/bin/env bash
# e2e_jobs.sh: the report does not depend on --jobs.  On every committed
# snapshot and every fixture core ($FIXDIR), the profile (markdown and JSON)
# and the heap census (`heap` and `heap --json`) written with --jobs 1 and
# with --jobs 2 are the same byte for byte, wall-clock figures aside (the
# "walk ... s" line and the JSON's "*seconds" fields); the exit status too.
# A fixture that is missing is a failure, not a skip.  Prints "ok ..." /
# "not ok ..." lines.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${FIXDIR:?}" "${BIN:?}"
fails=0
ok() { echo "ok $*"; }
nok() { echo "not ok $*"; fails=$((fails + 1)); }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# What changes from run to run whatever the threads: the timings.
norm() {
	sed -E -e 's/[0-9]+\.[0-9]+ s\b/T s/g' -e 's/"([a-z_]*seconds)": [0-9.e+-]+/"\1": "T"/g' "$1"
}

# same NAME ARGS...: the profile with --jobs 1 and --jobs 2, each in a
# directory of its own under the same file names (the markdown names its chart).
same() {
	local name=$1; shift
	for j in 1 2; do
		mkdir -p "$out/j$j"
		(cd "$out/j$j" && "$BIN" --jobs $j "$@" -q -o "$name.md" --json "$name.json" > /dev/null 2> "$name.err"
		 echo "exit $?" >> "$name.err")
	done
	local bad=""
	for ext in md json err svg; do
		[ -f "$out/j1/$name.$ext" ] || { [ $ext = svg ] || bad="$bad no-$ext"; continue; }
		cmp -s <(norm "$out/j1/$name.$ext") <(norm "$out/j2/$name.$ext") || bad="$bad $ext"
	done
	if [ -n "$bad" ]; then
		nok "$name: --jobs 1 and --jobs 2 differ in:$bad"
		diff <(norm "$out/j1/$name.md") <(norm "$out/j2/$name.md") | head -5
	else
		ok "$name: --jobs 1 and --jobs 2 write the same report ($(tail -n 1 "$out/j1/$name.err"))"
	fi
}

# heap_same NAME CORE EXE: the census, text and JSON.
heap_same() {
	local name=$1 core=$2 exe=$3 bad=""
	for fmt in "" --json; do
		"$BIN" heap --jobs 1 $fmt "$core" "$exe" > "$out/h1" 2>&1; echo "exit $?" >> "$out/h1"
		"$BIN" heap --jobs 2 $fmt "$core" "$exe" > "$out/h2" 2>&1; echo "exit $?" >> "$out/h2"
		cmp -s "$out/h1" "$out/h2" || bad="$bad heap${fmt}"
		grep -q "^exit 0$" "$out/h1" || bad="$bad heap${fmt}-failed($(tail -n 2 "$out/h1" | head -n 1))"
	done
	[ -z "$bad" ] && ok "heap $name: --jobs 1 and --jobs 2 take the same census" || nok "heap $name:$bad"
}

need() { [ -f "$1" ] || { nok "$1 is missing (make fixtures)"; return 1; }; }

# The beava-sim snapshots: the committed ones, the fresh one, the pair.
n=0
for d in "$FIXDIR"/snapshots/*/ "$FIXDIR"/sim-fresh/ "$FIXDIR"/sim-pair/*/ "$FIXDIR"/sim-server/*/; do
	[ -f "$d/core" ] || continue
	name=$(basename "$d")
	args=()
	[ -f "$d/metrics.prom" ] && args+=(--metrics "$d/metrics.prom")
	same "sim-$name" "${args[@]}" "$d/core" "$d/beava-sim"
	heap_same "sim-$name" "$d/core" "$d/beava-sim"
	n=$((n + 1))
done
[ "$n" -ge 3 ] || nok "only $n beava-sim snapshots under $FIXDIR (want the two committed ones and sim-fresh)"

# Generic mode on the fixture programs.
need "$FIXDIR/generic/core" && same generic --root TABLE --enum Shape "$FIXDIR/generic/core" "$FIXDIR/generic/shapes"
need "$FIXDIR/first-op/core" && same first-op --root ROWS --enum Op "$FIXDIR/first-op/core" "$FIXDIR/first-op/ops"
need "$FIXDIR/tables/core" && same tables --root TABLES --enum Op "$FIXDIR/tables/core" "$FIXDIR/tables/tables"
for g in x2 pre150; do
	need "$FIXDIR/gate-load/$g/core" && same "gate-load-$g" --root TABLES --enum Op "$FIXDIR/gate-load/$g/core" "$FIXDIR/tables/tables"
done
need "$FIXDIR/arc-server/core" && same arc-server --enum Agg "$FIXDIR/arc-server/core" "$FIXDIR/arc-server/srv_arc"
for kind in gcore kcore; do
	need "$FIXDIR/wholeheap/$kind" && same "wholeheap-$kind" --root TABLE --enum Op "$FIXDIR/wholeheap/$kind" "$FIXDIR/wholeheap/exe"
done
for d in "$FIXDIR"/shapes/*/*/; do
	[ -f "$d/core" ] || continue
	same "shapes-$(basename "$(dirname "$d")")-$(basename "$d")" --root TABLE --enum Op "$d/core" "$d/exe"
done

# The census on every heap probe core (every glibc of the matrix).
for c in "$FIXDIR"/heap/gcore "$FIXDIR"/heap/kcore "$FIXDIR"/heap/*/kcore "$FIXDIR"/heap-matrix/*/gcore \
	 "$FIXDIR"/heap-matrix/*/kcore "$FIXDIR"/heap-matrix/*/*/kcore "$FIXDIR"/probes/*/gcore "$FIXDIR"/probes/*/kcore; do
	[ -f "$c" ] || continue
	d=$(dirname "$c")
	exe="$d/exe"
	[ -f "$exe" ] || exe="$(dirname "$d")/exe"
	need "$exe" && heap_same "${c#"$FIXDIR"/}" "$c" "$exe"
done

# Hostile inputs: the heap and walk fuzz harnesses' seeds and regressions,
# written out as the tool's files (as e2e_fuzz.sh does), with the reports
# they write (to /dev/null there) kept.
# Every regression, and a bounded sample of the corpus (it grows with every
# campaign): at most JOBS_FUZZ_SAMPLE inputs per harness, spread evenly over
# the corpus in name order, so that the suite's time does not grow with it.
fz=$(dirname "$BIN")/tests
sample() {   # DIR MAX: every file, or MAX of them spread over the name order
	local -a all=("$1"/*)
	[ -f "${all[0]}" ] || return 0
	local n=${#all[@]} max=$2 i
	[ "$n" -le "$max" ] && { printf '%s\n' "${all[@]}"; return; }
	for ((i = 0; i < max; i++)); do printf '%s\n' "${all[i * n / max]}"; done
}
for name in heap walk; do
	mapfile -t inputs < <(sample tests/fuzz/corpus/$name "${JOBS_FUZZ_SAMPLE:-24}"; sample tests/fuzz/regressions/$name 100000)
	for input in "${inputs[@]}"; do
		[ -f "$input" ] || continue
		[ -x "$fz/fuzz-replay-$name" ] || { nok "$fz/fuzz-replay-$name is missing (make tests-bin)"; break; }
		rm -rf "$out/mat" && mkdir "$out/mat"
		if ! AGGOP_FUZZ_DATA=$PWD/tests/fuzz/data "$fz/fuzz-replay-$name" --materialize "$input" "$out/mat" \
			> "$out/args" 2> /dev/null; then
			nok "fuzz $input: cannot write it out"
			continue
		fi
		mapfile -t args < "$out/args"
		for j in 1 2; do
			mkdir -p "$out/f$j" && rm -f "$out/f$j"/*
			a=() prev=""
			for x in "${args[@]}"; do
				y=$x
				[ "$x" = /dev/null ] && [ "$prev" = -o ] && y="$out/f$j/r.md"
				[ "$x" = /dev/null ] && [ "$prev" = --json ] && y="$out/f$j/r.json"
				a+=("$y")
				prev=$x
			done
			(cd "$out/f$j" && timeout 60 "$BIN" "${a[@]}" --jobs $j > out 2> err; echo "exit $?" >> err)
		done
		bad=""
		for f in out err r.md r.json; do
			[ -f "$out/f1/$f" ] || [ -f "$out/f2/$f" ] || continue
			cmp -s <(norm "$out/f1/$f") <(norm "$out/f2/$f") || bad="$bad $f"
		done
		[ -z "$bad" ] && ok "fuzz $input: --jobs 1 and --jobs 2 agree ($(tail -n 1 "$out/f1/err"))" ||
			nok "fuzz $input: --jobs 1 and --jobs 2 differ in:$bad"
	done
done

# --jobs is checked.
for bad in 0 -1 x 257 ""; do
	"$BIN" --jobs "$bad" "$FIXDIR/generic/core" "$FIXDIR/generic/shapes" -q -o /dev/null > /dev/null 2>&1
	rc=$?
	[ $rc -eq 1 ] && ok "--jobs '$bad' is a usage error" || nok "--jobs '$bad': exit $rc, want 1"
done

[ $fails -eq 0 ]
