#!/usr/bin/env bash
# e2e_strict.sh: bytes the walk reaches but cannot attribute are never
# silent.  On the generic fixture (clean: exit 0 with --strict, no warning,
# the JSON's "unattributed" all zero) and on copies of its core with one page
# of the main heap zeroed (independently located: the writable PT_LOAD whose
# size is the main arena's system_mem, from the program headers): the first copy whose
# JSON counts unreadable bytes must also print exactly one warning line
# naming them, and exit 4 with --strict (the report still written).  Then on
# copies whose heap segment is cut short (pages missing from the core): the
# walk's faults and the census's, never zeros.
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

# A filtered core: the same PT_LOAD cut short (p_filesz lowered, as a dump
# that did not write some memory leaves it), from its last page down until
# the walk reaches a value in the pages the core no longer holds.  Those
# pages are a fault, never zeros: the census says the chunk header there is
# not in the core (zeros read as a header made "bad chunk size field 0x0"),
# the walk counts what it could not read, and --strict exits 4.
cut_core() {   # cut bytes kept of the segment -> $tmp/cut
	python3 - "$dir/core" "$1" "$tmp/cut" "$off" <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], 'rb').read())
phoff, = struct.unpack_from('<Q', d, 0x20)
phentsize, phnum = struct.unpack_from('<HH', d, 0x36)
for i in range(phnum):
    at = phoff + i * phentsize
    if struct.unpack_from('<I', d, at)[0] == 1 and struct.unpack_from('<Q', d, at + 8)[0] == int(sys.argv[4]):
        struct.pack_into('<Q', d, at + 32, int(sys.argv[2]))
        print(hex(struct.unpack_from('<Q', d, at + 16)[0] + int(sys.argv[2])))
open(sys.argv[3], 'wb').write(d)
PY
}
found=0
for ((keep = size - 4096; keep > 0 && found == 0; keep -= 4096)); do
	cutaddr=$(cut_core $keep)
	"$BIN" "${args[@]}" --strict -o "$tmp/c.md" --json "$tmp/c.json" "$tmp/cut" "$dir/shapes" 2> "$tmp/cerr"
	rc=$?
	[ $rc -eq 0 ] || [ $rc -eq 4 ] || continue
	n=$(field "$tmp/c.json" 'u["unreadable"]["count"]')
	[ "$n" -gt 0 ] || continue
	found=1
	[ $rc -eq 4 ] && grep -q "## Not attributed exactly" "$tmp/c.md" \
		&& ok "strict: heap cut at $cutaddr: the walk's $n faults are in Not attributed exactly, --strict exits 4" \
		|| nok "strict: heap cut at $cutaddr: exit $rc, unreadable $n"
	"$BIN" heap --json "$tmp/cut" "$dir/shapes" > "$tmp/h.json"
	python3 - "$tmp/h.json" "$cutaddr" <<'PY' && ok "strict: the census says the header past the cut is not in the core" \
		|| nok "strict: census of the cut core: $(cat "$tmp/h.json" | head -c 600)"
import json, sys
j = json.load(open(sys.argv[1])); cut = int(sys.argv[2], 16)
recs = j["corruptions"]
faults = [r for r in recs if "not in the core" in r["what"] and int(r["address"], 16) >= cut]
zeros = [r for r in recs if "size field 0x0" in r["what"]]
sys.exit(0 if faults and not zeros else 1)
PY
done
[ $found -eq 1 ] || nok "strict: no cut of the heap's PT_LOAD made the walk meet a missing page"
exit $((fails > 0))
