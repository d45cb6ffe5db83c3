#!/usr/bin/env bash
# e2e_cli.sh: command-line hygiene, on the generic fixture.
#   - two outputs on stdout (-o - --json -) are refused: exit 1, one line;
#   - a bad option or a missing argument: exit 1, one line ending in
#     "see --help" (not the whole help), for the profile, layout and heap
#     commands;
#   - a write error says why (the OS's reason: /dev/full -> "No space left
#     on device", a missing directory -> "No such file or directory");
#   - every text output ends with a newline (markdown on stdout, layout,
#     heap, --version);
#   - NAME.md gets its chart as NAME.svg beside it, linked from the markdown;
#     -o - writes no chart;
#   - the error lines of issue 20: an unwritable -o names the .md path given, `layout CORE`
#     says it is a core, an enum typo gets the nearest names, stderr says "holders" in
#     generic mode as the report does, --metrics-name picks the metric;
#   - `heap` and `diff` print thousands separators and a Definitions block defining every
#     column they print; heap's arenas table has no two columns of one name, and its
#     figures are the --json census's and add up (system = in use + cached + free + top + overhead).
# Prints "ok ..." / "not ok ..." lines.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${FIXDIR:?}" "${BIN:?}"
dir="$FIXDIR/generic"
fails=0
ok() { echo "ok $*"; }
nok() { echo "not ok $*"; fails=$((fails + 1)); }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
args=(--root TABLE --enum Shape -q)
core="$dir/core" exe="$dir/shapes"

one_line() {   # name, expected exit, command...
	local name=$1 want=$2; shift 2
	"$@" > "$tmp/out" 2> "$tmp/err"
	local rc=$? lines
	lines=$(wc -l < "$tmp/err")
	if [ "$rc" -eq "$want" ] && [ "$lines" -eq 1 ] && grep -q "see --help" "$tmp/err" && [ ! -s "$tmp/out" ]; then
		ok "$name: exit $want, one line: $(cat "$tmp/err")"
	else
		nok "$name: exit $rc (want $want), $lines line(s): $(head -c 300 "$tmp/err")"
	fi
}
one_line "two stdout outputs" 1 "$BIN" "${args[@]}" -o - --json - "$core" "$exe"
grep -q "stdout" "$tmp/err" && ok "two stdout outputs: says stdout" || nok "two stdout outputs: $(cat "$tmp/err")"
one_line "unknown long option" 1 "$BIN" --bogus "$core" "$exe"
grep -q -- "--bogus" "$tmp/err" && ok "unknown option named" || nok "unknown option not named: $(cat "$tmp/err")"
one_line "unknown short option" 1 "$BIN" -x "$core" "$exe"
one_line "missing argument" 1 "$BIN" "$core" "$exe" -o
grep -q -- "-o needs an argument" "$tmp/err" && ok "missing argument named" || nok "missing argument: $(cat "$tmp/err")"
one_line "layout bad option" 1 "$BIN" layout --bogus "$exe" Shape
one_line "heap bad option" 1 "$BIN" heap --bogus "$core" "$exe"
one_line "missing operands" 1 "$BIN" -q

# write errors carry the reason
if [ -w /dev/full ]; then
	"$BIN" "${args[@]}" -o - --json /dev/full "$core" "$exe" > /dev/null 2> "$tmp/err"
	rc=$?
	[ $rc -eq 2 ] && grep -q "writing /dev/full failed: No space left on device" "$tmp/err" \
		&& ok "a full device: $(cat "$tmp/err")" || nok "a full device: exit $rc: $(cat "$tmp/err")"
fi
"$BIN" "${args[@]}" -o "$tmp/no/such/dir/r.md" "$core" "$exe" 2> "$tmp/err"
rc=$?
[ $rc -eq 2 ] && grep -q "No such file or directory" "$tmp/err" && [ "$(wc -l < "$tmp/err")" -eq 1 ] \
	&& ok "a missing directory: $(cat "$tmp/err")" || nok "a missing directory: exit $rc: $(cat "$tmp/err")"
grep -qF "$tmp/no/such/dir/r.md:" "$tmp/err" && ok "a missing directory: names the .md path given" \
	|| nok "a missing directory: does not name r.md: $(cat "$tmp/err")"

# issue 20's error lines (outputs in e/: the checks below look for charts in $tmp)
mkdir -p "$tmp/e"
"$BIN" layout "$core" Shape > /dev/null 2> "$tmp/err"
rc=$?
[ $rc -eq 2 ] && grep -q "is a core dump, not an executable" "$tmp/err" && ! grep -q "DWARF" "$tmp/err" \
	&& ok "layout CORE: says it is a core: $(cat "$tmp/err")" || nok "layout CORE: exit $rc: $(cat "$tmp/err")"
"$BIN" --root TABLE --enum Shap -q -o /dev/null "$core" "$exe" 2> "$tmp/err"
rc=$?
[ $rc -eq 2 ] && grep -q "did you mean [^ ]*Shape" "$tmp/err" && [ "$(wc -l < "$tmp/err")" -eq 1 ] \
	&& ok "an enum typo gets the nearest names: $(cat "$tmp/err")" || nok "enum typo: exit $rc: $(cat "$tmp/err")"
"$BIN" layout "$exe" Shpae > /dev/null 2> "$tmp/err"
grep -q "did you mean [^ ]*Shape" "$tmp/err" && ok "a layout type typo gets the nearest names" || nok "layout typo: $(cat "$tmp/err")"
"$BIN" --root TABLE --enum Shape -o "$tmp/e/w.md" "$core" "$exe" 2> "$tmp/err"
h=$(grep -c "holder" "$tmp/e/w.md")
grep -q " holders, .* ops, per-holder " "$tmp/err" && ! grep -q "entities" "$tmp/err" && [ "$h" -gt 0 ] \
	&& ok "generic mode: stderr says holders, as the report does" || nok "generic stderr: $(cat "$tmp/err")"
p99=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["per_entity_bytes"]["p99"])' "$tmp/r0.json" 2>/dev/null \
	|| { "$BIN" "${args[@]}" -o /dev/null --json "$tmp/r0.json" "$core" "$exe"; python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["per_entity_bytes"]["p99"])' "$tmp/r0.json"; })
printf 'app_bytes_per_entity_p99 7\nshapes_holder_bytes_p99{x="1"} %s\n' "$p99" > "$tmp/m.prom"
"$BIN" "${args[@]}" -o "$tmp/e/m.md" --metrics "$tmp/m.prom" --metrics-name holder_bytes_p99 "$core" "$exe" 2> "$tmp/err"
rc=$?
[ $rc -eq 0 ] && grep -q '`holder_bytes_p99`' "$tmp/e/m.md" && grep -q "^Coherent" "$tmp/e/m.md" \
	&& ok "--metrics-name picks the metric (coherent at the measured p99 $p99)" || nok "--metrics-name: exit $rc $(cat "$tmp/err")"
"$BIN" "${args[@]}" -o /dev/null --metrics "$tmp/m.prom" "$core" "$exe" 2> "$tmp/err"
rc=$?
[ $rc -eq 3 ] && grep -q "bytes_per_entity_p99 7 diverged" "$tmp/err" \
	&& ok "--metrics without --metrics-name checks bytes_per_entity_p99 (exit 3)" || nok "default metric: exit $rc $(cat "$tmp/err")"

# text outputs end with a newline
ends_nl() {   # name, file
	if [ -s "$2" ] && [ "$(tail -c 1 "$2" | od -An -c | tr -d ' ')" = '\n' ]; then ok "$1 ends with a newline"
	else nok "$1 does not end with a newline"; fi
}
"$BIN" "${args[@]}" -o - "$core" "$exe" > "$tmp/stdout.md" 2>/dev/null; ends_nl "markdown on stdout" "$tmp/stdout.md"
"$BIN" layout "$exe" Shape > "$tmp/layout.txt"; ends_nl "layout" "$tmp/layout.txt"
"$BIN" layout --json "$exe" Shape > "$tmp/layout.json"; ends_nl "layout --json" "$tmp/layout.json"
"$BIN" heap "$core" "$exe" > "$tmp/heap.txt"; ends_nl "heap" "$tmp/heap.txt"
"$BIN" --version > "$tmp/version.txt"; ends_nl "--version" "$tmp/version.txt"
ls "$tmp"/*.svg >/dev/null 2>&1 && nok "-o - wrote a chart" || ok "-o - writes no chart"

# the chart beside NAME.md, linked
"$BIN" "${args[@]}" -o "$tmp/r.md" --json "$tmp/r.json" "$core" "$exe" 2>/dev/null
ends_nl "markdown file" "$tmp/r.md"; ends_nl "JSON file" "$tmp/r.json"
if [ -s "$tmp/r.svg" ] && grep -q "](r.svg)" "$tmp/r.md" && python3 -c 'import sys,xml.dom.minidom as m; m.parse(sys.argv[1])' "$tmp/r.svg"; then
	ok "r.md links r.svg, well-formed XML"
else
	nok "no chart r.svg beside r.md, not linked or not well-formed"
fi
python3 - "$tmp/r.md" <<'PY' && ok "the report's first screen links each term to its definition" || nok "first screen: term links"
import re, sys
md = open(sys.argv[1]).read()
first = "\n".join(md.splitlines()[:12])
links = re.findall(r"\]\(#(def-[\w-]+)\)", first)
ids = set(re.findall(r'<a id="(def-[\w-]+)"></a>', md.split("\n## Definitions\n", 1)[1]))
assert len(links) >= 8 and set(links) <= ids, (links, ids)
assert "def-holder-overhead" in links and "[Definitions](#definitions)" in first   # generic mode's words
PY
if command -v strip > /dev/null; then
	cp "$exe" "$tmp/e/stripped" && strip "$tmp/e/stripped"
	"$BIN" layout "$tmp/e/stripped" Shape > /dev/null 2> "$tmp/err"
	rc=$?
	[ $rc -eq 2 ] && grep -q "stripped" "$tmp/err" && ! grep -q "has DWARF but" "$tmp/err" \
		&& ok "a stripped executable is called stripped" || nok "stripped: exit $rc: $(cat "$tmp/err")"
fi

# heap and diff: separators, definitions, one name per column, the JSON's figures
"$BIN" heap "$core" "$exe" > "$tmp/e/heap.md" && "$BIN" heap --json "$core" "$exe" > "$tmp/e/heap.json" \
	&& "$BIN" diff -o "$tmp/e/diff.md" "$tmp/r0.json" "$core" "$exe" 2>/dev/null
python3 - "$tmp/e/heap.md" "$tmp/e/heap.json" "$tmp/e/diff.md" <<'PY' && ok "heap and diff: separators, definitions of every column, figures as in --json" \
	|| nok "heap/diff text (above)"
import json, re, sys
heap, hj, diff = open(sys.argv[1]).read(), json.load(open(sys.argv[2])), open(sys.argv[3]).read()
def table(text, heading):
    sec = text.split("## " + heading + "\n", 1)[1].split("\n## ", 1)[0]
    rows = [l for l in sec.splitlines() if l.startswith("|")]
    cells = lambda l: [c.strip() for c in l.strip().strip("|").split("|")]
    return cells(rows[0]), [cells(r) for r in rows[2:]]
def defined(text, word):
    defs = text.split("## Definitions\n", 1)[1]
    return any(word in re.findall(r"^- \*\*(.*?)\*\*", defs, re.M)[i].split(", ") or
               word == re.findall(r"^- \*\*(.*?)\*\*", defs, re.M)[i] for i in range(len(re.findall(r"^- \*\*(.*?)\*\*", defs, re.M))))
num = lambda c: int(c.replace(",", ""))
sep = re.compile(r"^\d{1,3}(,\d{3})*$")
head, rows = table(heap, "Arenas")
assert len(head) == len(set(head)), ("duplicate columns", head)
for col in ("overhead bytes", "system bytes", "top bytes"):
    assert col in head and defined(heap, col), ("undefined", col)
a, aj = dict(zip(head, rows[0])), hj["arenas"][0]
for col, key in (("system bytes", "system_bytes"), ("in-use bytes", "inuse_bytes"), ("free bytes", "free_bytes"),
                 ("top bytes", "top_bytes"), ("overhead bytes", "overhead_bytes"), ("tcache bytes", "tcache_bytes"),
                 ("fastbin bytes", "fastbin_bytes"), ("in-use chunks", "inuse_chunks"), ("free chunks", "free_chunks")):
    assert sep.match(a[col]) and num(a[col]) == aj[key], (col, a[col], aj[key])
assert num(a["system bytes"]) == sum(num(a[c]) for c in ("in-use bytes", "tcache bytes", "fastbin bytes", "free bytes",
                                                         "top bytes", "overhead bytes")), a
assert aj["system_bytes"] >= 1000 and "," in a["system bytes"]
assert "[Definitions](#definitions)" in heap.split("## ", 1)[0]
head, rows = table(diff, "Totals")
for col in head:
    assert defined(diff, col), ("diff column undefined", col)
big = [r for r in rows if num(r[1]) >= 1000]
assert big and all(sep.match(r[1]) and sep.match(r[2]) for r in big), big[:2]
assert "[Definitions](#definitions)" in diff.split("## Summary", 1)[0]
PY

exit $((fails > 0))
