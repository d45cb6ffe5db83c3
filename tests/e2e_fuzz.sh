#!/usr/bin/env bash
# e2e_fuzz.sh: the fuzz harnesses' inputs in make check (tests/fuzz/fuzz.h).
# For every input that ever failed (tests/fuzz/regressions/NAME), the named
# seeds of tests/fuzz/corpus/NAME and a fixed sample of its merged inputs
# (the first FUZZ_REPLAY_SAMPLE, default 24, by name: libFuzzer names them by
# their SHA-1, so the sample is stable and spread over sizes and features;
# FUZZ_REPLAY_SAMPLE=all replays the whole corpus, ~850 inputs that cost
# minutes in the ASan build):
#   1. the harness body, without libFuzzer (BUILD/tests/fuzz-replay-NAME,
#      built with this build's compiler and sanitizers), must finish on each;
#   2. the shipped binary ($BIN) on the input written out as its files
#      (fuzz-replay-NAME --materialize) must exit 0, 2 or 3, print at most
#      three lines on stderr, within 10 s and (outside ASan) 2 GiB of address
#      space: for every regression and named seed, and a fixed sample of
#      the merged inputs (FUZZ_CHECK_SAMPLE per harness).
# Then, in the build without ASan and when clang can build libFuzzer
# binaries, a smoke: each libFuzzer harness fuzzes for FUZZ_SMOKE_SECONDS
# (default 10) from the seeds, in a scratch corpus; an out-of-memory or a
# timeout there (the libFuzzer build's limits are ASan's, stricter than the
# contract) passes when the shipped binary meets check 2 on that input.
# One "ok"/"not ok" line per check.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${BIN:?BIN must be set}" "${FIXDIR:?FIXDIR must be set}"
export AGGOP_FUZZ_DATA=$PWD/tests/fuzz/data
build=$(dirname "$BIN")
names="image types heap walk layout"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
asan=0
case "$(nm -D "$BIN" 2> /dev/null)" in *__asan_init*) asan=1 ;; esac

limit() { # runs "$@" with the time and, outside ASan, the memory bound
	if [ "$asan" = 1 ]; then
		timeout "$tsecs" "$@"
	else
		(ulimit -v 2097152; exec timeout "$tsecs" "$@")
	fi
}

# The input written out as the shipped binary's files (in $tmp/mat) and
# arguments (in $tmp/args).
materialize() { # name input
	rm -rf "$tmp/mat" && mkdir "$tmp/mat" &&
		"$build/tests/fuzz-replay-$1" --materialize "$2" "$tmp/mat" > "$tmp/args" 2> "$tmp/out"
}

# True when the shipped binary, on the materialized input, exits 0, 2 or 3
# with at most three lines on stderr within the bounds; sets brc, blines.
bounded() { # name input [materialized-already]
	[ $# -ge 3 ] || materialize "$1" "$2" || return 1
	local args
	mapfile -t args < "$tmp/args"
	tsecs=10 limit "$BIN" "${args[@]}" > /dev/null 2> "$tmp/err"
	brc=$?
	blines=$(wc -l < "$tmp/err")
	{ [ $brc = 0 ] || [ $brc = 2 ] || [ $brc = 3 ]; } && [ "$blines" -le 3 ]
}

# The shipped binary runs on every regression, every named seed and the
# first FUZZ_CHECK_SAMPLE (default 8) of libFuzzer's corpus files (named by
# their SHA-1, so the sample is stable and spread); the harness body runs
# on all of them, in one process per harness (one per input only to name
# the input that failed).
for name in $names; do
	replay=$build/tests/fuzz-replay-$name
	if [ ! -x "$replay" ]; then
		echo "not ok fuzz $name: $replay not built (make tests-bin)"
		continue
	fi
	inputs=() checked=() merged=0 sampled=0
	for input in tests/fuzz/corpus/$name/* tests/fuzz/regressions/$name/*; do
		[ -f "$input" ] || continue
		case "$input" in
		tests/fuzz/corpus/*/????????????????????????????????????????)
			merged=$((merged + 1))
			[ "${FUZZ_REPLAY_SAMPLE:-24}" = all ] || [ "$merged" -le "${FUZZ_REPLAY_SAMPLE:-24}" ] || continue
			sampled=$((sampled + 1)) ;;
		esac
		inputs+=("$input")
	done
	[ ${#inputs[@]} -gt 0 ] || continue
	tsecs=300 limit "$replay" "${inputs[@]}" > "$tmp/out" 2>&1
	rc=$?
	if [ $rc = 77 ]; then
		echo "ok fuzz $name # skip: $(head -1 "$tmp/out")"
		continue
	elif [ $rc = 0 ]; then
		echo "ok fuzz $name: the harness body finishes on ${#inputs[@]} inputs (seeds, regressions and $sampled of the corpus's $merged merged inputs)"
	else
		for input in "${inputs[@]}"; do
			tsecs=60 limit "$replay" "$input" > "$tmp/out" 2>&1 && continue
			echo "not ok fuzz $name $input: the harness body ended with status $?"
			sed -n '1,20p' "$tmp/out" | sed 's/^/# /'
		done
	fi
	sample=0
	for input in "${inputs[@]}"; do
		case "$input" in
		tests/fuzz/corpus/*/????????????????????????????????????????)
			sample=$((sample + 1))
			[ "$sample" -le "${FUZZ_CHECK_SAMPLE:-8}" ] || continue ;;
		esac
		if ! materialize "$name" "$input"; then
			echo "not ok fuzz $name $input: cannot write it out for $BIN: $(head -1 "$tmp/out")"
			continue
		fi
		if bounded "$name" "$input" "$tmp/args"; then
			echo "ok fuzz $name $input: aggop-inspect $(head -1 "$tmp/args") exits $brc, $blines stderr lines"
		else
			echo "not ok fuzz $name $input: aggop-inspect $(tr '\n' ' ' < "$tmp/args")exits $brc with $blines stderr lines"
			sed -n '1,12p' "$tmp/err" | sed 's/^/# /'
		fi
	done
done

# The synthetic core of the heap and walk harnesses (tests/fuzz/synth.c),
# built now from the fixture's DWARF, must read as the builder meant it: a
# census without corruption (tcache, fastbin, unsorted and mmapped chunks as
# placed), and a walk of its two entities' 16 ops over all 11 variants with
# nothing unreadable or unowned.  Otherwise the fuzzers would mutate an input
# the tool already rejects.
synth_check() {
	local exe=$FIXDIR/generic/shapes
	if ! "$build/tests/fuzz-replay-walk" --base "$tmp/synth.core" > "$tmp/out" 2>&1; then
		echo "not ok fuzz synth: cannot build the synthetic core: $(head -1 "$tmp/out")"
		return
	fi
	"$BIN" heap --json "$tmp/synth.core" "$exe" > "$tmp/heap.json" 2> "$tmp/err" &&
		"$BIN" -q -o /dev/null --json "$tmp/walk.json" --root TABLE --enum Shape "$tmp/synth.core" "$exe" 2>> "$tmp/err"
	local rc=$?
	if [ $rc != 0 ]; then
		echo "not ok fuzz synth: aggop-inspect exits $rc on the synthetic core"
		sed -n '1,5p' "$tmp/err" | sed 's/^/# /'
		return
	fi
	if python3 - "$tmp/heap.json" "$tmp/walk.json" > "$tmp/out" 2>&1 <<'PY'
import json, sys
h = json.load(open(sys.argv[1]))
w = json.load(open(sys.argv[2]))
u = w["unattributed"]
want = {
    "corruptions": (h["corruptions_total"], 0), "tcaches": (h["tcaches"], 1),
    "cached chunks (tcache, fastbin)": (h["cached_chunks"], 2), "free chunks (unsorted, top)": (h["free_chunks"], 2),
    "mmapped chunks": (h["mallinfo2"]["hblks"], 1), "entities": (w["totals"]["entities"], 2),
    "ops": (w["totals"]["ops"], 16), "variants": (len(w["variants"]), 11),
    "unreadable": (u["unreadable"]["count"], 0), "pages missing": (u["page_missing"]["count"], 0),
    "allocations without a decoder": (u["no_decoder"]["allocations"], 0),
}
bad = ["%s %s, expected %s" % (k, v[0], v[1]) for k, v in want.items() if v[0] != v[1]]
print("; ".join(bad))
sys.exit(1 if bad else 0)
PY
	then
		echo "ok fuzz synth: the synthetic core ($(wc -c < "$tmp/synth.core") bytes) reads as built: 2 entities, 16 ops, 11 variants, no corruption"
	else
		echo "not ok fuzz synth: the synthetic core does not read as built: $(tail -1 "$tmp/out")"
	fi
	cmp -s "$tmp/synth.core" tests/fuzz/corpus/walk/synth-base ||
		echo "# note: tests/fuzz/corpus/{heap,walk}/synth-base differ from the core built now (fixture rebuilt?): tests/fuzz/mkseeds.sh remakes them"
}
[ -x "$build/tests/fuzz-replay-walk" ] && synth_check

# The libFuzzer smoke: once per make check (the build without ASan);
# FUZZ_SMOKE_SECONDS=0 turns it off.
secs=${FUZZ_SMOKE_SECONDS:-10}
[ "$asan" = 1 ] && exit 0
if [ "$secs" -le 0 ] 2> /dev/null || ! [ "$secs" -ge 0 ] 2> /dev/null; then
	echo "ok fuzz smoke # skip: FUZZ_SMOKE_SECONDS=$secs"
	exit 0
fi
if ! command -v "${FUZZ_CC:-clang}" > /dev/null ||
   ! echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }' |
	"${FUZZ_CC:-clang}" -fsanitize=fuzzer -x c -o "$tmp/probe" - 2> /dev/null; then
	echo "ok fuzz smoke # skip: ${FUZZ_CC:-clang} cannot build libFuzzer binaries (apt-get install clang)"
	exit 0
fi
if ! nice make -s --no-print-directory fuzz-build > "$tmp/build.log" 2>&1; then
	echo "not ok fuzz smoke: make fuzz-build failed"
	tail -20 "$tmp/build.log" | sed 's/^/# /'
	exit 0
fi
for name in $names; do
	fz=build/fuzz/fuzz_$name
	mkdir -p "$tmp/corpus-$name" "$tmp/crash-$name"
	# -seed and -runs make the smoke the same sequence of inputs every time
	# (a slower machine stops earlier in it): a finding is never a CI coin toss
	nice -n 19 "$fz" -seed=1 -runs="${FUZZ_SMOKE_RUNS:-3000}" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-entropic=0 -reload=0 -dict="tests/fuzz/$name.dict" \
		-artifact_prefix="$tmp/crash-$name/" "$tmp/corpus-$name" "tests/fuzz/corpus/$name" > "$tmp/log" 2>&1
	rc=$?
	art=$(ls "$tmp/crash-$name"/* 2> /dev/null | head -1)
	if [ $rc = 1 ] && grep -q 'fuzz: ' "$tmp/log" && ! grep -q 'ERROR' "$tmp/log"; then
		echo "ok fuzz smoke $name # skip: $(grep 'fuzz: ' "$tmp/log" | head -1)"
	elif [ $rc = 0 ]; then
		echo "ok fuzz smoke $name: ${secs}s, $(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$tmp/log" | tail -1), no crash"
	elif [ -n "$art" ] && grep -qE 'ERROR: libFuzzer: (out-of-memory|timeout)' "$tmp/log" &&
		bounded "$name" "$art"; then
		# The libFuzzer build's 2 GiB RSS and 10 s (with ASan's overhead)
		# are stricter than the tool's contract, which the shipped binary met.
		mkdir -p build/fuzz/crashes/$name && cp "$art" build/fuzz/crashes/$name/
		echo "ok fuzz smoke $name: a resource finding under ASan ($(basename "$art"), kept in build/fuzz/crashes/$name) the shipped binary handles within bounds"
	else
		mkdir -p build/fuzz/crashes/$name
		cp "$tmp/crash-$name"/* build/fuzz/crashes/$name/ 2> /dev/null
		echo "not ok fuzz smoke $name: crashed (inputs in build/fuzz/crashes/$name; keep each in tests/fuzz/regressions/$name once understood)"
		grep -E 'ERROR|runtime error|#[0-9]+ 0x' "$tmp/log" | head -12 | sed 's/^/# /'
	fi
done
