#!/usr/bin/env bash
# e2e_heap.sh: `aggop-inspect heap` on the heapprobe snapshots
# ($FIXDIR/heap, tests/setup.d/30-heap.sh): the JSON mallinfo2 figures and the
# arena count equal what the probe printed about itself (glibc's own mallinfo2
# and malloc_info), the text report has its sections, and bad invocations get
# the documented exit statuses.  Prints "ok ..." / "not ok ..." lines.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${FIXDIR:?}" "${BIN:?}"
dir="$FIXDIR/heap"
fails=0
ok() { echo "ok $*"; }
nok() { echo "not ok $*"; fails=$((fails + 1)); }

# key value pairs of the probe's mallinfo2 line, plus its arena count.
truth=$(awk '$1 == "mallinfo2" { for (i = 2; i < NF; i += 2) if ($i != "usmblks") print $i, $(i + 1) }
	$1 == "arenas" { print "narenas", $2 }' "$dir/truth.txt" | sort)

for core in gcore kcore; do
	out=$("$BIN" heap --json "$dir/$core" "$dir/exe" 2>"$dir/e2e.err")
	rc=$?
	if [ $rc -ne 0 ]; then nok "heap --json $core exits 0 (got $rc: $(cat "$dir/e2e.err"))"; continue; fi
	ok "heap --json $core exits 0"
	# The JSON is indented one key per line: read the mallinfo2 object and
	# count the arena objects (each has an "index").
	got=$(awk '/"mallinfo2": \{/ { m = 1; next } m && /\}/ { m = 0 }
		m { gsub(/[",:]/, ""); print $1, $2 }
		/"index":/ { n++ } END { print "narenas", n }' <<<"$out" | sort)
	[ -n "$truth" ] && [ "$got" = "$truth" ] && ok "heap --json $core: mallinfo2 and arena count equal the probe's" \
		|| nok "heap --json $core differs from the probe's truth: got [$got] want [$truth]"
	grep -q '"corruptions": \[\]' <<<"$out" && ok "heap --json $core: no corruption" \
		|| nok "heap --json $core reports corruption on an intact core"
done
rm -f "$dir/e2e.err"

text=$("$BIN" heap "$dir/kcore" "$dir/exe")
rc=$?
if [ $rc -eq 0 ] && grep -q '^## Arenas' <<<"$text" && grep -q '^## Largest chunks' <<<"$text" &&
	grep -q '^## In-use chunk sizes' <<<"$text" && grep -q '^## Corruption' <<<"$text"; then
	ok "heap text report has its sections"
else
	nok "heap text report (rc $rc) lacks a section"
fi

"$BIN" heap "$dir/kcore" >/dev/null 2>&1; rc=$?
[ $rc -eq 1 ] && ok "heap with one argument exits 1" || nok "heap with one argument exits $rc, not 1"
"$BIN" heap "$dir/does-not-exist" "$dir/exe" >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && ok "heap on a missing core exits 2" || nok "heap on a missing core exits $rc, not 2"
[ $fails -eq 0 ]
