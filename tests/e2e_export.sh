#!/usr/bin/env bash
# e2e_export.sh: the exports (--folded, --pprof, --flamegraph) of the committed snapshot
# sim-gcore-s11 and of the generic fixture, checked against the profile's JSON and the sim's
# own truth, and read back by readers that share no code with the writer:
#   - folded stacks: the whole heap ([tables] one subtree, [other owners], [no typed owner]):
#     for every family all lines sum to the whole heap's figure (the chunk lines to the census's
#     in-use chunk bytes) and the [tables] lines other than the tables' containers to the
#     JSON's totals (requested, used, usable, chunk, allocations, inline), the heap families to
#     the truth's too; each such line is [tables];table;feature;variant;path...;container and
#     its table and feature exist in the JSON;
#   - pprof: gunzipped and decoded by a protobuf wire-format decoder written here from the
#     encoding spec (varints, length-delimited fields, packed repeats): sample types objects
#     and the byte families, each type's values summing to the JSON's totals, every location a
#     known function, the string table starting with ""; and by `go tool pprof -raw` when Go
#     is installed (Debian's golang-go), whose totals must agree;
#   - flame graph: well-formed XML, nothing it would fetch (no href, no url(), no http(s)
#     except the SVG namespace), a script with the zoom and search handlers, the root frame's
#     weight the whole heap's figure, and each table frame's weight its table's bytes (ops and
#     containers);
#   - the same exports from the saved JSON (aggop-inspect export) are byte for byte those of
#     the run.
# Prints "ok ..." / "not ok ..." lines.  Headless Chromium is not run here: bench/flamegraph.sh.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${FIXDIR:?}" "${BIN:?}"
fails=0
ok() { echo "ok $*"; }
nok() { echo "not ok $*"; fails=$((fails + 1)); }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
snap="$FIXDIR/snapshots/sim-gcore-s11"

run_exports() {   # name, profile args...
	local n=$1; shift
	"$BIN" -q -o /dev/null --json "$tmp/$n.json" --folded "$tmp/$n.requested.folded" --pprof "$tmp/$n.pb.gz" \
		--flamegraph "$tmp/$n.svg" "$@" || { nok "export: $n: the profile run failed"; return 1; }
	for fam in used usable chunk allocations inline; do
		"$BIN" -q -o /dev/null --folded "$tmp/$n.$fam.folded" --folded-bytes "$fam" "$@" \
			|| { nok "export: $n: --folded-bytes $fam failed"; return 1; }
	done
}

# What the whole heap weighs per family: the ops, the tables' containers, every
# other typed owner and (chunk bytes and chunks only) the remainder.
cat > "$tmp/whole.py" <<'PY'
def whole_of(j):
    T, O, h = j["totals"], j["overhead"], j["heap"]
    fams = {"requested": "heap_requested_bytes", "used": "heap_used_bytes", "usable": "heap_usable_bytes",
            "chunk": "heap_chunk_bytes", "allocations": "allocations"}
    w = {f: T[k] + O[k] + sum(o[k] for o in h["owners"]) for f, k in fams.items()}
    w["chunk"] += sum(c["chunk_bytes"] for c in h["unaccounted"].values())
    w["allocations"] += sum(c["chunks"] for c in h["unaccounted"].values())
    w["inline"] = T["inline_bytes"]
    assert w["chunk"] == h["in_use_chunk_bytes"], (w["chunk"], h["in_use_chunk_bytes"])
    return w
PY

check_folded() {   # name, truth.json or ""
	PYTHONPATH="$tmp" python3 - "$tmp/$1" "$2" <<'PY'
import json, sys
from whole import whole_of
base, truth = sys.argv[1], sys.argv[2]
j = json.load(open(base + ".json"))
tables = {t["name"]: {f["name"] for f in t["features"]} for t in j["tables"]}
variants = {v["name"] for v in j["enum"]["variants"]}
want = {"requested": j["totals"]["heap_requested_bytes"], "used": j["totals"]["heap_used_bytes"],
        "usable": j["totals"]["heap_usable_bytes"], "chunk": j["totals"]["heap_chunk_bytes"],
        "allocations": j["totals"]["allocations"], "inline": j["totals"]["inline_bytes"]}
if truth:
    t = json.load(open(truth))["totals"]
    for fam in ("requested", "used", "usable", "chunk"):
        assert want[fam] == t["heap_%s_bytes" % fam], (fam, want[fam], t["heap_%s_bytes" % fam])
    assert want["inline"] == t["inline_bytes"]
# the whole heap: the tables as one subtree, the other owners and the remainder beside it
whole = whole_of(j)
for fam, total in want.items():
    s = s_all = 0
    for line in open("%s.%s.folded" % (base, fam)):
        stack, n = line.rstrip("\n").rsplit(" ", 1)
        fr = stack.split(";")
        s_all += int(n)
        if fr[0] != "[tables]":
            assert fr[0] in ("[other owners]", "[no typed owner]") and len(fr) >= 2, line
            continue
        fr = fr[1:]
        if fr[1] == "[containers holding the ops]":
            assert len(fr) == 2 and fr[0] in tables, line
            continue
        assert fr[0] in tables and fr[1] in tables[fr[0]], line
        if fam == "inline":
            assert len(fr) == 3 and fr[2] == "[inline]", line
        else:
            assert len(fr) >= 4 and fr[2] in variants, line
        s += int(n)
    assert s == total, (fam, s, total)
    assert s_all == whole[fam], (fam, s_all, whole[fam])
print(len(want))
PY
}

# An independent reader of profile.proto: only the wire format (varint, 64-bit, length-delimited,
# 32-bit) and the field numbers of github.com/google/pprof/proto/profile.proto.
cat > "$tmp/pprof_read.py" <<'PY'
import gzip, json, sys
def fields(buf):
    i = 0
    while i < len(buf):
        key, i = varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(buf, i)
        elif wt == 2:
            n, i = varint(buf, i)
            v, i = buf[i:i + n], i + n
            assert i <= len(buf), "truncated"
        elif wt == 1:
            v, i = buf[i:i + 8], i + 8
        elif wt == 5:
            v, i = buf[i:i + 4], i + 4
        else:
            raise ValueError("wire type %d" % wt)
        yield num, wt, v
def varint(buf, i):
    r = s = 0
    while True:
        b = buf[i]; i += 1
        r |= (b & 0x7f) << s; s += 7
        if not b & 0x80:
            return r, i
def packed(wt, v):
    if wt == 0:
        return [v]
    out, i = [], 0
    while i < len(v):
        x, i = varint(v, i); out.append(x)
    return out
raw = gzip.open(sys.argv[1]).read()
strings, types, samples, locs, funcs = [], [], [], {}, {}
for num, wt, v in fields(raw):
    if num == 6: strings.append(v.decode())
    elif num == 1: types.append({n: x for n, _, x in fields(v)})
    elif num == 2:
        s = {"loc": [], "val": []}
        for n, w, x in fields(v):
            if n == 1: s["loc"] += packed(w, x)
            if n == 2: s["val"] += packed(w, x)
        samples.append(s)
    elif num == 4:
        d = {n: x for n, _, x in fields(v)}
        lines = [dict((n, x) for n, _, x in fields(l)) for n2, _, l in fields(v) if n2 == 4]
        locs[d[1]] = lines
    elif num == 5:
        d = {n: x for n, _, x in fields(v)}
        funcs[d[1]] = d
assert strings and strings[0] == "", "string_table[0] must be empty"
names = ["%s/%s" % (strings[t.get(1, 0)], strings[t.get(2, 0)]) for t in types]
tot = [0] * len(types)
for s in samples:
    assert len(s["val"]) == len(types)
    for l in s["loc"]:
        assert l in locs and all(x[1] in funcs for x in locs[l]), "unknown location %d" % l
    tot = [a + b for a, b in zip(tot, s["val"])]
json.dump({"types": names, "totals": tot, "samples": len(samples),
           "leaf_names": sorted({strings[funcs[locs[s["loc"][0]][0][1]][2]] for s in samples if s["loc"]})}, sys.stdout)
PY

check_pprof() {   # name
	python3 "$tmp/pprof_read.py" "$tmp/$1.pb.gz" > "$tmp/$1.pprof.json" || return 1
	PYTHONPATH="$tmp" python3 - "$tmp/$1.json" "$tmp/$1.pprof.json" <<'PY'
import json, sys
from whole import whole_of
j, p = (json.load(open(x)) for x in sys.argv[1:3])
T = whole_of(j)
want = {"objects/count": T["allocations"], "requested_space/bytes": T["requested"],
        "used_space/bytes": T["used"], "usable_space/bytes": T["usable"],
        "chunk_space/bytes": T["chunk"], "inline_space/bytes": T["inline"]}
got = dict(zip(p["types"], p["totals"]))
assert got == want, (got, want)
conts = {f["container"] for t in j["tables"] for fe in t["features"] for f in fe["fields"]} | {"[inline]"}
conts |= {"[containers holding the ops]"} | {o["container"] for o in j["heap"]["owners"]}
conts |= {c["what"] for c in j["heap"]["unaccounted"].values()}
assert set(p["leaf_names"]) <= conts, p["leaf_names"]
PY
}

check_go_pprof() {   # name: go tool pprof -raw's per-type sums
	go tool pprof -raw "$tmp/$1.pb.gz" > "$tmp/$1.raw" 2> "$tmp/$1.raw.err" || { cat "$tmp/$1.raw.err"; return 1; }
	PYTHONPATH="$tmp" python3 - "$tmp/$1.json" "$tmp/$1.raw" <<'PY'
import json, re, sys
from whole import whole_of
j = json.load(open(sys.argv[1]))
lines = open(sys.argv[2]).read().split("\n")
i = lines.index("Samples:")
types = [t.replace("[dflt]", "") for t in lines[i + 1].split()]
tot = [0] * len(types)
for l in lines[i + 2:]:
    m = re.match(r"^\s+((?:-?\d+\s+)+)-?\d+:", l) or re.match(r"^\s+([\d\s]+):", l)
    if not m:
        if l.startswith("Locations"): break
        continue
    vals = [int(x) for x in l.split(":")[0].split()]
    tot = [a + b for a, b in zip(tot, vals)]
T = whole_of(j)
want = [T["allocations"], T["requested"], T["used"], T["usable"], T["chunk"], T["inline"]]
assert types == ["objects/count", "requested_space/bytes", "used_space/bytes", "usable_space/bytes",
                 "chunk_space/bytes", "inline_space/bytes"], types
assert tot == want, (tot, want)
PY
}

check_svg() {   # name, family
	PYTHONPATH="$tmp" python3 - "$tmp/$1.svg" "$tmp/$1.json" "$2" <<'PY'
import json, re, sys
from whole import whole_of
import xml.etree.ElementTree as ET
svg, j, fam = open(sys.argv[1]).read(), json.load(open(sys.argv[2])), sys.argv[3]
root = ET.fromstring(svg)
ns = "{http://www.w3.org/2000/svg}"
assert root.tag == ns + "svg"
assert not re.search(r"href|url\(|@import", svg), "refers to something outside"
assert set(re.findall(r"https?://[^\"' ]+", svg)) <= {"http://www.w3.org/2000/svg"}, "fetches something"
script = root.find(ns + "script").text
for fn in ("function zoomer", "function search", "function dosearch", "function layout"):
    assert fn in script, fn
key = {"requested": "heap_requested_bytes", "chunk": "heap_chunk_bytes"}[fam]
frames = [g for g in root.iter(ns + "g") if g.get("class") == "f"]
rootf = [g for g in frames if g.get("data-d") == "0"]
W = whole_of(j)[fam]
assert len(rootf) == 1 and int(rootf[0].get("data-w")) == W, (rootf[0].get("data-w"), W)
# the tables are one subtree ([tables], depth 1); each table (depth 2) weighs its ops and its containers
tables = {g.get("data-n"): int(g.get("data-w")) for g in frames if g.get("data-d") == "2" and
          g.get("data-n") in {t["name"] for t in j["tables"]}}
want = {t["name"]: t[key] + t["overhead"][key] for t in j["tables"] if t[key] + t["overhead"][key]}
assert tables == want, (tables, want)
print(len(frames))
PY
}

check_all() {   # name, truth or ""
	local n=$1 truth=$2 k
	k=$(check_folded "$n" "$truth") && ok "export: $n: folded stacks of all $k families sum to the JSON's totals${truth:+ and the sim truth}" \
		|| nok "export: $n: folded stacks"
	check_pprof "$n" && ok "export: $n: pprof read back by an independent decoder: every sample type's total is the JSON's" \
		|| nok "export: $n: pprof (independent decoder)"
	if command -v go >/dev/null; then
		check_go_pprof "$n" && ok "export: $n: go tool pprof -raw reads the same totals" || nok "export: $n: go tool pprof -raw"
	else
		echo "ok export: $n: go tool pprof -raw # SKIP go is not installed (apt-get install golang-go)"
	fi
	k=$(check_svg "$n" requested) && ok "export: $n: flame graph: well-formed, self-contained, $k frames, root and tables weigh the JSON's bytes" \
		|| nok "export: $n: flame graph"
}

if run_exports sim "$snap/core" "$snap/beava-sim"; then
	check_all sim "$snap/truth.json"
fi
if run_exports generic --root TABLE --enum Shape "$FIXDIR/generic/core" "$FIXDIR/generic/shapes"; then
	check_all generic ""
fi

# From the saved JSON: the same bytes (pprof compared uncompressed: gzip headers hold no time here, but be sure).
"$BIN" export --folded "$tmp/x.folded" --folded-bytes chunk --pprof "$tmp/x.pb.gz" --flamegraph "$tmp/x.svg" \
	--folded-bytes requested "$tmp/sim.json" && cmp -s "$tmp/x.folded" "$tmp/sim.requested.folded" \
	&& cmp -s <(gzip -dc "$tmp/x.pb.gz") <(gzip -dc "$tmp/sim.pb.gz") && cmp -s "$tmp/x.svg" "$tmp/sim.svg" \
	&& ok "export: from the saved JSON the folded stacks, pprof and flame graph are the run's, byte for byte" \
	|| nok "export: exports from the saved JSON differ from the run's"
"$BIN" -q -o /dev/null --flamegraph "$tmp/c.svg" --folded-bytes chunk "$snap/core" "$snap/beava-sim" \
	&& cp "$tmp/sim.json" "$tmp/c.json" && k=$(check_svg c chunk) \
	&& ok "export: a chunk-bytes flame graph weighs the JSON's chunk bytes" || nok "export: chunk flame graph"

# Usage errors.
"$BIN" export "$tmp/sim.json" 2>/dev/null; rc1=$?
"$BIN" export --folded-bytes bogus --folded /dev/null "$tmp/sim.json" 2>/dev/null; rc2=$?
"$BIN" export --folded /dev/null "$tmp/nope.json" 2>/dev/null; rc3=$?
[ $rc1 -eq 1 ] && [ $rc2 -eq 1 ] && [ $rc3 -eq 2 ] && ok "export: nothing asked or an unknown family exits 1, a missing file 2" \
	|| nok "export: usage exits $rc1 $rc2 $rc3"
exit $((fails > 0))
