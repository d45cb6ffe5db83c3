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
#     -o - writes no chart.
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
exit $((fails > 0))
