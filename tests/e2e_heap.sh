#!/usr/bin/env bash
# e2e_heap.sh: `aggop-inspect heap` on the heapprobe snapshots of every glibc
# the fixtures hold ($FIXDIR/heap, the host's, from tests/setup.d/30-heap.sh;
# $FIXDIR/heap-matrix/SUITE from 35-glibc-matrix.sh): the JSON mallinfo2
# figures and the arena count equal what the probe printed about itself
# (glibc's own mallinfo2, or mallinfo before 2.33, and malloc_info), no
# corruption is reported, the "versions" facts name a glibc release family
# holding the version the probe ran, the text report has its sections, and
# bad invocations get the documented exit statuses.  Prints "ok ..." /
# "not ok ..." lines.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${FIXDIR:?}" "${BIN:?}"
dir="$FIXDIR/heap"
fails=0
ok() { echo "ok $*"; }
nok() { echo "not ok $*"; fails=$((fails + 1)); }

# "a.b" inside "c.d-e.f" (or equal to "c.d")?
in_family() {
	python3 -c 'import sys
v = tuple(map(int, sys.argv[1].split(".")))
lo, _, hi = sys.argv[2].partition("-")
lo = tuple(map(int, lo.split("."))); hi = tuple(map(int, (hi or sys.argv[2]).split(".")))
sys.exit(0 if lo <= v <= hi else 1)' "$1" "$2" 2>/dev/null
}

dirs=("$dir")
for s in bullseye trixie; do
	[ -f "$FIXDIR/heap-matrix/$s/truth.txt" ] && dirs+=("$FIXDIR/heap-matrix/$s") ||
		nok "$FIXDIR/heap-matrix/$s is missing (tests/setup.d/35-glibc-matrix.sh)"
done

for d in "${dirs[@]}"; do
	# key value pairs of the probe's mallinfo2/mallinfo line, plus its arena count.
	truth=$(awk '$1 == "mallinfo2" || $1 == "mallinfo" { for (i = 2; i < NF; i += 2) if ($i != "usmblks") print $i, $(i + 1) }
		$1 == "arenas" { print "narenas", $2 }' "$d/truth.txt" | sort)
	glibc=$(awk '$1 == "glibc" { print $2 }' "$d/truth.txt")
	for core in gcore kcore; do
		name="${d#"$FIXDIR"/} $core (glibc ${glibc:-?})"
		out=$("$BIN" heap --json "$d/$core" "$d/exe" 2>"$d/e2e.err.$$")
		rc=$?
		if [ $rc -ne 0 ]; then nok "heap --json $name exits 0 (got $rc: $(cat "$d/e2e.err.$$"))"; continue; fi
		ok "heap --json $name exits 0"
		# The JSON is indented one key per line: read the mallinfo2 object and
		# count the arena objects (each has an "index").
		got=$(awk '/"mallinfo2": \{/ { m = 1; next } m && /\}/ { m = 0 }
			m { gsub(/[",:]/, ""); print $1, $2 }
			/"index":/ { n++ } END { print "narenas", n }' <<<"$out" | sort)
		[ -n "$truth" ] && [ "$got" = "$truth" ] && ok "heap --json $name: mallinfo2 and arena count equal the probe's" \
			|| nok "heap --json $name differs from the probe's truth: got [$got] want [$truth]"
		grep -q '"corruptions": \[\]' <<<"$out" && ok "heap --json $name: no corruption" \
			|| nok "heap --json $name reports corruption on an intact core"
		rel=$(python3 -c 'import json,sys
vs = json.load(sys.stdin)["versions"]
assert all(set(f) == {"dependency", "fact", "assumed", "evidence"} for f in vs)
v = [f for f in vs if f["dependency"] == "glibc" and f["fact"] == "malloc release"]
print(v[0]["assumed"] if v else "")' <<<"$out" 2>/dev/null)
		[ -n "$glibc" ] && in_family "$glibc" "$rel" && ok "heap --json $name: versions name release family $rel" \
			|| nok "heap --json $name: versions say release family '$rel', the probe ran glibc '$glibc'"
	done
	rm -f "$d/e2e.err.$$"
done

text=$("$BIN" heap "$dir/kcore" "$dir/exe")
rc=$?
if [ $rc -eq 0 ] && grep -q '^## Arenas' <<<"$text" && grep -q '^## Largest chunks' <<<"$text" &&
	grep -q '^## In-use chunk sizes' <<<"$text" && grep -q '^## Corruption' <<<"$text" &&
	grep -q '^## Detected versions' <<<"$text" && grep -q '^| glibc | safe-linking | on' <<<"$text"; then
	ok "heap text report has its sections"
else
	nok "heap text report (rc $rc) lacks a section"
fi

"$BIN" heap >/dev/null 2>&1; rc=$?   # heap CORE alone is valid: the executable comes from the core
[ $rc -eq 1 ] && ok "heap with no operand exits 1" || nok "heap with no operand exits $rc, not 1"
"$BIN" heap "$dir/does-not-exist" "$dir/exe" >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && ok "heap on a missing core exits 2" || nok "heap on a missing core exits $rc, not 2"
[ $fails -eq 0 ]
