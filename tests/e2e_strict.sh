#!/usr/bin/env bash
# e2e_strict.sh: bytes the walk reaches but cannot attribute are never
# silent.  On the generic fixture (clean: exit 0 with --strict, no warning,
# the JSON's "unattributed" all zero) and on copies of its core with one page
# of the main heap zeroed (independently located: the writable PT_LOAD whose
# size is the main arena's system_mem, from the program headers): the first copy whose
# JSON counts unreadable bytes must also print exactly one warning line
# naming them, and exit 4 with --strict (the report still written).
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
field() { python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); u=j["unattributed"]; print(eval(sys.argv[2]))' "$@"; }

"$BIN" "${args[@]}" --strict -o "$tmp/r.md" --json "$tmp/r.json" "$dir/core" "$dir/shapes" 2> "$tmp/err"
rc=$?
[ $rc -eq 0 ] && [ ! -s "$tmp/err" ] && ok "strict: a clean core exits 0 with nothing on stderr" \
	|| nok "strict: clean core exit $rc, stderr [$(cat "$tmp/err")]"
z=$(field "$tmp/r.json" 'u["unreadable"]["count"] + u["page_missing"]["bytes"] + u["no_decoder"]["bytes"]')
[ "$z" = 0 ] && ok "strict: a clean core's unattributed figures are zero" || nok "strict: clean unattributed $z"
grep -q "Not attributed exactly" "$tmp/r.md" && nok "strict: a clean report has a Not attributed section" \
	|| ok "strict: a clean report has no Not attributed section"

sysmem=$("$BIN" heap --json "$dir/core" "$dir/shapes" | python3 -c 'import json,sys; print(json.load(sys.stdin)["arenas"][0]["system_mem"])')
read -r off size < <(python3 - "$dir/core" "$sysmem" <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read()
phoff, = struct.unpack_from('<Q', d, 0x20)
phentsize, phnum = struct.unpack_from('<HH', d, 0x36)
for i in range(phnum):
    typ, flags, off, vaddr, paddr, filesz, memsz, align = struct.unpack_from('<IIQQQQQQ', d, phoff + i * phentsize)
    if typ == 1 and flags & 2 and filesz == memsz == int(sys.argv[2]):
        print(off, filesz)
        break
PY
)
if [ -z "${off:-}" ]; then
	nok "strict: no PT_LOAD of the main heap's size $sysmem in the core"
	exit 1
fi
found=0
for ((page = 1; page < size / 4096 && found == 0; page++)); do
	cp "$dir/core" "$tmp/core"
	dd if=/dev/zero of="$tmp/core" bs=4096 count=1 oflag=seek_bytes conv=notrunc seek=$((off + page * 4096)) 2>/dev/null
	"$BIN" "${args[@]}" -o "$tmp/d.md" --json "$tmp/d.json" "$tmp/core" "$dir/shapes" 2> "$tmp/derr"
	rc=$?
	[ $rc -eq 0 ] || continue
	n=$(field "$tmp/d.json" 'u["unreadable"]["count"]')
	[ "$n" -gt 0 ] || continue
	found=1
	lines=$(grep -c "not attributed exactly\|not everything reached" "$tmp/derr")
	[ "$lines" -eq 1 ] && ok "strict: heap page $page zeroed: one warning line names the $n unreadable" \
		|| nok "strict: page $page: warning lines [$(cat "$tmp/derr")]"
	grep -q "## Not attributed exactly" "$tmp/d.md" && ok "strict: the report has a Not attributed section" \
		|| nok "strict: no Not attributed section"
	"$BIN" "${args[@]}" --strict -o "$tmp/s.md" "$tmp/core" "$dir/shapes" 2>/dev/null
	rc=$?
	[ $rc -eq 4 ] && [ -s "$tmp/s.md" ] && ok "strict: --strict exits 4 and still writes the report" \
		|| nok "strict: --strict exit $rc"
done
[ $found -eq 1 ] || nok "strict: no zeroed heap page made anything unreadable"
exit $((fails > 0))
