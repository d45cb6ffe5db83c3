#!/usr/bin/env bash
# e2e_layout.sh: `aggop-inspect layout` on the Rust probe (built by
# tests/setup.d/20-types.sh) against what the probe printed about itself:
# every variant of every enum, its payload (size_of of the payload type), its
# discriminant (the tag bytes of a value the program built, read at the tag
# offset and width the JSON reports), the enum's size and alignment.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${BIN:?BIN must be set}" "${FIXDIR:?FIXDIR must be set}"
dir="$FIXDIR/types"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check_enum() { # prog enum-name lookup-name
	local prog="$1" name="$2" query="$3" out="$tmp/out.json"
	if ! "$BIN" layout --json "$dir/$prog" "$query" > "$out" 2> "$tmp/err"; then
		echo "not ok layout --json $prog $query: exit $? $(cat "$tmp/err")"
		return
	fi
	python3 - "$dir/$prog.out" "$name" "$out" <<'PY' && echo "ok layout --json $prog $query matches the program" || echo "not ok layout --json $prog $query"
import json, sys
truth, name, out = sys.argv[1], sys.argv[2], sys.argv[3]
j = json.load(open(out))
size = align = None
variants = []
for line in open(truth):
    line = line.rstrip("\n")
    if line.startswith("enum " + name + " size "):
        w = line[len("enum " + name + " "):].split()
        size, align = int(w[1]), int(w[3])
    elif line.startswith("variant " + name + " "):
        w = line[len("variant " + name + " "):].split()
        variants.append((w[0], int(w[2]), bytes.fromhex(w[4])))
errs = []
if j["name"] != name: errs.append("name %s" % j["name"])
if j["size"] != size or j["align"] != align: errs.append("size/align %s/%s vs %s/%s" % (j["size"], j["align"], size, align))
toff, tsize = j["tag"]["offset"], j["tag"]["size"]
byname = {v["name"]: v for v in j["variants"]}
if len(byname) != len(variants): errs.append("%d variants, program has %d" % (len(byname), len(variants)))
discrs = [v["discriminant"] for v in j["variants"] if v["discriminant"] is not None]
for vname, payload, raw in variants:
    v = byname.get(vname)
    if v is None:
        errs.append("no variant " + vname); continue
    tag = int.from_bytes(raw[toff:toff + tsize], "little")
    if v["payload_size"] != payload: errs.append("%s payload %d != %d" % (vname, v["payload_size"], payload))
    if v["slot_slack"] != size - payload: errs.append("%s slack %d" % (vname, v["slot_slack"]))
    d = v["discriminant"]
    if d is None:
        if tsize and tag in discrs: errs.append("%s dataful but its tag %#x is another variant's" % (vname, tag))
    elif d != tag: errs.append("%s discriminant %d, program's tag bytes say %d" % (vname, d, tag))
for e in errs: print("#", e)
sys.exit(1 if errs or not variants else 0)
PY
}

for prog in rust-debug rust-release; do
	check_enum "$prog" probe::AggOp AggOp
	check_enum "$prog" probe::VecNiche VecNiche
	check_enum "$prog" probe::Neg probe::Neg
	check_enum "$prog" probe::OneVariant OneVariant
	check_enum "$prog" "core::option::Option<alloc::boxed::Box<probe::Inner, alloc::alloc::Global>>" \
		"core::option::Option<alloc::boxed::Box<probe::Inner, alloc::alloc::Global>>"
done

# The text form lists all 55 variants with a discriminant or "dataful".
n=$("$BIN" layout "$dir/rust-debug" AggOp | awk '$1 != "tag:" && $2 ~ /^([0-9]+|dataful)$/' | wc -l)
want=$(grep -c '^variant probe::AggOp ' "$dir/rust-debug.out")
[ "$n" -eq "$want" ] && [ "$want" -ge 50 ] && echo "ok layout text lists all $want AggOp variants" \
	|| echo "not ok layout text lists $n AggOp variants, the program has $want"

"$BIN" layout "$dir/rust-debug" NoSuchType > /dev/null 2>&1; rc=$?
[ "$rc" -eq 2 ] && echo "ok layout of an unknown type exits 2" || echo "not ok layout of an unknown type exits $rc"
"$BIN" layout "$dir/rust-debug.out" AggOp > /dev/null 2> "$tmp/err"; rc=$?
[ "$rc" -eq 2 ] && grep -q . "$tmp/err" && echo "ok layout of a file without DWARF exits 2 with a message" \
	|| echo "not ok layout of a file without DWARF exits $rc"
"$BIN" layout --debug-file "$dir/rust.debug" "$dir/rust-stripped" AggOp > "$tmp/s.txt" 2>&1 \
	&& grep -q dataful "$tmp/s.txt" && echo "ok layout --debug-file on a stripped binary" \
	|| echo "not ok layout --debug-file on a stripped binary: $(head -2 "$tmp/s.txt")"
