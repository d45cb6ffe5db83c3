#!/usr/bin/env bash
# e2e_wholeheap.sh: the whole-heap accounting on fixtures/wholeheap (gcore and
# kernel core), checked against the program's own ledger (its counting
# allocator's sums per owner, truth.txt):
#   - the table (the generic root) is charged exactly its ledger; each static
#     owner (REGISTRY behind OnceLock, RING an mmapped Vec, LAZY behind
#     LazyLock) exactly its own; the Arc SHARED_A and SHARED_B hold is charged
#     once (the two statics' rows sum to its ledger) and counted as shared;
#   - the leaked buffer is a leak candidate and the stack-only buffer is
#     "referenced from a thread stack", each at its address with its chunk size;
#   - accounted + remainder = the census's in-use chunk bytes, and the
#     remainder's classes and rows sum to the remainder;
#   - the section "Where the whole heap goes" follows the summary, and two
#     runs on one core write the same JSON heap object;
#   - the exports nest ownership and their chunk lines weigh the heap in use;
#   - an Arc two holders share: per-holder percentiles from the ledger, equal in
#     two runs that meet the holders in opposite orders, the Arc shared once;
#   - on the server-mode beava-sim (gcore and kernel core): accounted >= 95% of
#     the heap in use, accounted + remainder = in use, the tables, the WAL ring
#     (mmapped), the config, the registry, the state's counters, the root's
#     own allocations, the tables' key names and the values on thread stacks
#     beside the root's Arc (Server, ApplyShard, the workers' closures: the
#     connection buffers, the churn, "frames") each equal to the "owners"
#     ledger; the remainder class by class against the ledger's "remainder".
# Prints "ok ..." / "not ok ..." lines.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${FIXDIR:?}" "${BIN:?}"
dir="$FIXDIR/wholeheap"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
n=0
for kind in gcore kcore; do
	for run in 1 2; do
		"$BIN" -q --root TABLE --enum Op -o "$tmp/$kind.$run.md" --json "$tmp/$kind.$run.json" "$dir/$kind" "$dir/exe" \
			|| { echo "not ok $((++n)) - wholeheap $kind: the profile run failed"; fails=$((fails + 1)); continue 2; }
	done
	out=$(python3 - "$tmp/$kind.1.json" "$tmp/$kind.2.json" "$tmp/$kind.1.md" "$dir/truth.txt" "$kind" "$n" <<'PY'
import json, sys
j1, j2, md, truth, kind, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6])
led, addr = {}, {}
for line in open(truth):
    w = line.split()
    if w[0] == "owner":
        led[int(w[1])] = dict(zip(("requested", "usable", "chunk", "count"), map(int, w[2:6])))
    elif w[0] in ("leak", "stackbuf"):
        addr[w[0]] = int(w[1])
d = json.load(open(j1))
h = d["heap"]
out = []
def check(cond, what):
    global n
    n += 1
    out.append(("ok" if cond else "not ok") + " %d - wholeheap %s: %s" % (n, kind, what))
def owners(prefix):
    rows = [o for o in h.get("owners", []) if o["path"].startswith(prefix + " ") or o["path"] == prefix]
    return rows, {k: sum(o[key] for o in rows) for k, key in (("requested", "heap_requested_bytes"),
        ("usable", "heap_usable_bytes"), ("chunk", "heap_chunk_bytes"), ("count", "allocations"))}
need = ("in_use_chunk_bytes", "attributed_chunk_bytes", "accounted_chunk_bytes", "unaccounted_chunk_bytes", "owners", "unaccounted")
check(all(k in h for k in need), "JSON heap has %s" % ", ".join(need))
if not all(k in h for k in need):
    print("\n".join(out)); sys.exit(0)
t = led[1]
got = {"requested": d["totals"]["heap_requested_bytes"] + d["overhead"]["heap_requested_bytes"],
       "chunk": h["attributed_chunk_bytes"], "count": d["totals"].get("heap_allocations", None)}
check(h["attributed_chunk_bytes"] == t["chunk"] and got["requested"] == t["requested"],
      "the table: chunk %d requested %d, ledger %d %d" % (got["chunk"], got["requested"], t["chunk"], t["requested"]))
for name, id_ in (("static wholeheap::REGISTRY", 2), ("static wholeheap::RING", 3), ("static wholeheap::LAZY", 4)):
    rows, s = owners(name)
    check(s == led[id_], "%s: %s, ledger %s" % (name, s, led[id_]))
ra, sa = owners("static wholeheap::SHARED_A")
rb, sb = owners("static wholeheap::SHARED_B")
both = {k: sa[k] + sb[k] for k in sa}
check(both == led[5] and (not ra or not rb), "the shared Arc charged once: A %s + B %s, ledger %s" % (sa, sb, led[5]))
arc = [o for o in ra + rb if o["path"].endswith("(Arc)")]
check(h["shared"]["revisits"] == 1 and len(arc) == 1 and h["shared"]["chunk_bytes"] == arc[0]["heap_chunk_bytes"],
      "the shared Arc reached again once, its %s chunk bytes counted as shared" % (arc[0]["heap_chunk_bytes"] if arc else "?"))
acc = h["tables_chunk_bytes"] + sum(o["heap_chunk_bytes"] for o in h["owners"])
check(acc == h["accounted_chunk_bytes"], "accounted %d = tables + owner rows %d" % (h["accounted_chunk_bytes"], acc))
u = h["unaccounted"]
check(sum(c["chunk_bytes"] for c in u.values()) == h["unaccounted_chunk_bytes"] and
      all(sum(r["chunk_bytes"] for r in c["by_arena_and_size"]) == c["chunk_bytes"] and
          sum(r["chunks"] for r in c["by_arena_and_size"]) == c["chunks"] for c in u.values()),
      "the remainder's classes and their arena/size rows sum to it")
check(h["accounted_chunk_bytes"] + h["unaccounted_chunk_bytes"] == h["in_use_chunk_bytes"],
      "accounted %d + remainder %d = in use %d" % (h["accounted_chunk_bytes"], h["unaccounted_chunk_bytes"], h["in_use_chunk_bytes"]))
def where(a):
    return [k for k, c in u.items() for x in c["largest"] if x["address"] == a]
leak = [x for x in u["nowhere"]["largest"] if x["address"] == addr["leak"]]
check(leak and leak[0]["chunk_bytes"] == led[6]["chunk"] and where(addr["leak"]) == ["nowhere"],
      "the leaked buffer is a leak candidate at 0x%x with %d chunk bytes (found in %s)" % (addr["leak"], led[6]["chunk"], where(addr["leak"])))
st = [x for x in u["stack"]["largest"] if x["address"] == addr["stackbuf"]]
check(st and st[0]["chunk_bytes"] == led[7]["chunk"] and where(addr["stackbuf"]) == ["stack"],
      "the stack-only buffer is referenced from a thread stack at 0x%x with %d chunk bytes (found in %s)" % (addr["stackbuf"], led[7]["chunk"], where(addr["stackbuf"])))
check(u["allocator_internal"]["chunks"] >= 1, "a tcache_perthread_struct is allocator-internal")
text = open(md).read()
i, s = text.find("## Where the whole heap goes"), text.find("## Summary")
nxt = text.find("\n## ", s + 1)
check(s >= 0 and i == nxt + 1 and "The whole heap:** the roots hold" in text[s:i],
      "the section follows the summary, whose line gives the tables' share")
check(json.load(open(j2))["heap"] == h, "two runs on one core give the same heap object")
print("\n".join(out))
PY
)
	[ $? -eq 0 ] || out="${out:+$out
}not ok - the checker failed (a key missing from the JSON?)"
	echo "$out"
	fails=$((fails + $(grep -c '^not ok' <<<"$out")))
	n=$((n + $(grep -c '' <<<"$out")))
done
# Ownership nests in the exports: what lives inside an allocation is drawn
# inside its container frame.  For every stack ending in a container C after
# frames F, every other stack starting with F continues with a container
# frame (C, or the pointer holding it), never with a field beside it; and
# the chunk lines sum to the census's in-use chunk bytes.
kinds='["Box", "Box<[T]>", "Box<dyn>", "Vec", "String", "VecDeque", "hashbrown table", "BTree leaf", "BTree internal", "Arc", "Rc", "SmallVec", "CompactString", "LinkedList node", "[containers holding the ops]"]'
nest_check() {   # name, profile args...
	local name=$1; shift
	"$BIN" -q -o /dev/null --json "$tmp/n.json" --folded "$tmp/n.folded" --folded-bytes chunk "$@" \
		|| { echo "not ok $((++n)) - exports $name: the run failed"; fails=$((fails + 1)); return; }
	if python3 - "$tmp/n.folded" "$tmp/n.json" "$kinds" <<'PY'
import json, sys
lines = [l.rstrip("\n").rsplit(" ", 1) for l in open(sys.argv[1])]
kinds = set(json.loads(sys.argv[3]))
stacks = [s.split(";") for s, _ in lines]
bad = []
for a in stacks:
    if a[-1] not in kinds or a[-1] == "[containers holding the ops]":   # the tables' containers: a sibling of the features
        continue
    f = a[:-1]
    for b in stacks:
        if len(b) > len(f) + 1 and b[:len(f)] == f and b[len(f)] not in kinds:
            bad.append((";".join(a), ";".join(b)))
total = sum(int(w) for _, w in lines)
h = json.load(open(sys.argv[2]))["heap"]
ok = not bad and total == h["in_use_chunk_bytes"]
print("# " + (("%d siblings that should nest, e.g. %s" % (len(bad), bad[:2])) if bad else "chunk lines %d, in use %d" % (total, h["in_use_chunk_bytes"])))
sys.exit(0 if ok else 1)
PY
	then echo "ok $((++n)) - exports $name: ownership nests and the chunk lines weigh the whole heap"
	else echo "not ok $((++n)) - exports $name: ownership nests and the chunk lines weigh the whole heap"; fails=$((fails + 1))
	fi
}
nest_check wholeheap --root TABLE --enum Op "$dir/gcore" "$dir/exe"
snap="$FIXDIR/snapshots/sim-gcore-s11"
nest_check sim "$snap/core" "$snap/beava-sim"
# Shared between holders (issue 20): holders 2 and 5 of the table share one
# Arc; the "rev" run stores and builds the holders in the other order, so the
# walk meets them the other way round.  The per-holder figures leave the
# shared model out, so both runs give the percentiles the ledger gives
# (inline = ops x size_of Op, + each holder's own heap requested), and report
# the model as shared once, with its bytes.
sh_out=$(for c in gcore rev/kcore; do
	"$BIN" -q --root TABLE --enum Op -o "$tmp/sh.md" --json "$tmp/sh.json" "$dir/$c" "$dir/exe" || { echo "run failed"; continue; }
	truth="$dir/truth.txt"; [ "$c" = rev/kcore ] && truth="$dir/rev/truth.txt"
	python3 - "$tmp/sh.json" "$truth" "$tmp/sh.md" "$c" <<'PY'
import json, math, sys
j = json.load(open(sys.argv[1]))
hold, opsize, model = [], 0, None
for line in open(sys.argv[2]):
    w = line.split()
    if w[0] == "holder": hold.append((int(w[2]), int(w[3])))
    if w[0] == "opsize": opsize = int(w[1])
    if w[0] == "model": model = list(map(int, w[1:4]))
per = sorted(n * opsize + r for n, r in hold)
rank = lambda p: per[max(1, math.ceil(p / 100 * len(per))) - 1]
want = {"p50": rank(50), "p99": rank(99), "max": per[-1]}
s = j["shared_between_holders"]
md = open(sys.argv[3]).read()
ok = (j["per_entity_bytes"] == want and s["allocations"] == 1 and s["holders"] == 2 and s["references"] == 1 and
      s["heap_requested_bytes"] == model[0] and s["heap_chunk_bytes"] == model[1] and
      md.count("(shares allocations with other holders: left out)") == 2)
print("%s %s per-holder %s ledger %s shared %s model %s" % ("OK" if ok else "BAD", sys.argv[4], j["per_entity_bytes"], want, s, model))
PY
done)
echo "$sh_out" | sed 's/^/# /'
if [ "$(grep -c '^OK' <<<"$sh_out")" = 2 ]; then
	echo "ok $((++n)) - shared Arc: per-holder percentiles equal to the ledger's and the same whichever holder the walk meets first; the model reported shared once"
else
	echo "not ok $((++n)) - shared Arc: per-holder percentiles equal to the ledger's and the same whichever holder the walk meets first; the model reported shared once"
	fails=$((fails + 1))
fi

# The server-mode beava-sim (51-beava-server.sh): its "owners" ledger (truth.json)
# knows each piece of state beside the tables.
for kind in gcore kernel; do
	sd="$FIXDIR/sim-server/$kind"
	[ -f "$sd/core" ] || { echo "not ok $((++n)) - server $kind: no fixture (tests/setup.d/51-beava-server.sh)"; fails=$((fails + 1)); continue; }
	"$BIN" -q -o "$tmp/s.md" --json "$tmp/s.json" "$sd/core" "$sd/beava-sim" \
		|| { echo "not ok $((++n)) - server $kind: the profile run failed"; fails=$((fails + 1)); continue; }
	out=$(python3 - "$tmp/s.json" "$sd/truth.json" "$kind" "$n" <<'PY'
import json, sys
j, t, kind, n = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3], int(sys.argv[4])
h, led = j["heap"], t["owners"]
out = []
def check(cond, what):
    global n
    n += 1
    out.append(("ok" if cond else "not ok") + " %d - server %s: %s" % (n, kind, what))
def fam(rows):
    return {"chunk": sum(o["heap_chunk_bytes"] for o in rows), "count": sum(o["allocations"] for o in rows),
            "requested": sum(o["heap_requested_bytes"] for o in rows)}
def want(*names):
    return {"chunk": sum(led[x]["chunk"] for x in names), "count": sum(led[x]["count"] for x in names),
            "requested": sum(led[x]["requested"] for x in names)}
def rows(pred):
    return [o for o in h["owners"] if pred(o["path"])]
in_use, acc, rest = h["in_use_chunk_bytes"], h["accounted_chunk_bytes"], h["unaccounted_chunk_bytes"]
check(acc * 100 >= 95 * in_use, "accounted %d is %.1f%% of the %d in use (>= 95%%)" % (acc, 100.0 * acc / in_use, in_use))
check(acc + rest == in_use, "accounted %d + remainder %d = in use %d" % (acc, rest, in_use))
tt = t["totals"]["heap_chunk_bytes"] + t["overhead"]["heap_chunk_bytes"]
check(h["tables_chunk_bytes"] == tt, "the tables: %d chunk bytes, ledger (ops + overhead) %d" % (h["tables_chunk_bytes"], tt))
groups = [("AppState > wal", ("wal",), lambda p: p.startswith("AppState > wal ") or p.startswith("AppState > wal (")),
          ("AppState > config", ("config",), lambda p: p.startswith("AppState > config")),
          ("AppState > dev_agg > registry", ("registry",), lambda p: p.startswith("AppState > dev_agg > registry")),
          ("AppState > dev_agg > state_tables > [table]", ("table_keys",),
              lambda p: p.startswith("AppState > dev_agg > state_tables > [table] ")),
          ("AppState > dev_agg's counters", ("state_parts",), lambda p: p.startswith("AppState > dev_agg > next_event_id") or
              p.startswith("AppState > dev_agg > query_time_ms")),
          ("the root's own allocations", ("state_arc", "tables_arc", "tables_vec"), lambda p: p.startswith("AppState (the root's own")),
          ("values on thread stacks beside the root's Arc", ("conn_buffers", "churn", "frames"), lambda p: p.startswith("stack: "))]
for name, keys, pred in groups:
    got, w = fam(rows(pred)), want(*keys)
    check(got == w, "%s: %s, ledger %s %s" % (name, got, "+".join(keys), w))
named = sum((rows(pred) for _, _, pred in groups), [])
check(len(named) == len(h["owners"]), "every owner row is one of those (%d of %d)" % (len(named), len(h["owners"])))
wal = [a for a in led["wal"]["allocations"] if a[3] >= 1 << 20]
check(wal and [o for o in rows(groups[0][2]) if o["heap_chunk_bytes"] == wal[0][3] and o["allocations"] == 1],
      "the WAL ring (%s chunk bytes, an mmapped chunk) is one owner row of its own" % (wal[0][3] if wal else "?"))
u = h["unaccounted"]
def where(a):
    return [k for k, c in u.items() for x in c["largest"] if x["address"] == a]
# The remainder, class by class, against the ledger's "remainder" (what the program knows of
# how it holds each allocation no typed owner reaches):
#   - "nowhere": exactly the leaked buffer, at its address with its chunk size;
#   - "chunk_only": nothing;
#   - "allocator_internal": one tcache per live thread that has allocated;
#   - "stack": the program's stack-held allocations no typed value holds (the flusher's scratch
#     buffer), its largest chunk, plus std's and libc's own chunks, which the program does
#     not place ("unpredicted": the untagged ones and glibc's, never seen by the counting
#     allocator): those, and only those, are what "stack" and "static" hold beyond the ledger.
rl = t["remainder"]
def where(a):
    return [k for k, c in u.items() for x in c["largest"] if x["address"] == a]
lk = rl["nowhere"]["allocations"]
check(u["nowhere"]["chunks"] == rl["nowhere"]["count"] == 1 and u["nowhere"]["chunk_bytes"] == rl["nowhere"]["chunk"] and
      [(x["address"], x["chunk_bytes"]) for x in u["nowhere"]["largest"]] == [(a[0], a[3]) for a in lk],
      "nowhere (leak candidates): %d chunks %d bytes %s, ledger %d %d (the leaked buffer)" %
      (u["nowhere"]["chunks"], u["nowhere"]["chunk_bytes"], [hex(x["address"]) for x in u["nowhere"]["largest"]],
       rl["nowhere"]["count"], rl["nowhere"]["chunk"]))
check(u["chunk_only"]["chunks"] == rl["chunk_only"]["count"] and u["chunk_only"]["chunk_bytes"] == rl["chunk_only"]["chunk"],
      "chunk_only: %d chunks %d bytes, ledger %d %d" % (u["chunk_only"]["chunks"], u["chunk_only"]["chunk_bytes"],
                                                        rl["chunk_only"]["count"], rl["chunk_only"]["chunk"]))
ai = u["allocator_internal"]
check(ai["chunks"] == rl["threads_allocating"] and all(0x250 <= x["chunk_bytes"] <= 0x310 for x in ai["largest"]) and
      ai["chunk_bytes"] == ai["chunks"] * (ai["largest"][0]["chunk_bytes"] if ai["largest"] else 0),
      "allocator_internal: %d tcaches of %s bytes, ledger: %d live threads have allocated" %
      (ai["chunks"], [x["chunk_bytes"] for x in ai["largest"]][:1], rl["threads_allocating"]))
sl = sorted(rl["stack"]["allocations"], key=lambda a: (-a[3], a[0]))[:5]
check([(x["address"], x["chunk_bytes"]) for x in u["stack"]["largest"]][:len(sl)] == [(a[0], a[3]) for a in sl],
      "stack: its largest chunks are the ledger's stack-held allocations %s" % [a[3] for a in sl])
sv = {(o["owner"], o["group"]) for o in rows(lambda p: p.startswith("stack: "))}
check(sv == {(x, "stack") for x in ("stack: server::Server", "stack: server::ApplyShard", "stack: spawn_worker::{closure_env#0}")},
      "the values on thread stacks (group \"stack\"): %s" % sorted(sv))
sb = led["stack_only"]["allocations"][0]
check(where(sb[0]) == ["stack"] and [x for x in u["stack"]["largest"] if x["address"] == sb[0] and x["chunk_bytes"] == sb[3]],
      "the stack-only buffer: %d chunk bytes at 0x%x, in class stack (found in %s)" % (sb[3], sb[0], where(sb[0])))
c_side = in_use - (tt + sum(led[x]["chunk"] for x in led) + t["untagged"]["chunk"])
beyond = u["stack"]["chunk_bytes"] + u["static"]["chunk_bytes"] - rl["stack"]["chunk"]
check(u["stack"]["chunk_bytes"] >= rl["stack"]["chunk"] and u["stack"]["chunks"] >= rl["stack"]["count"] and
      beyond == rl["unpredicted"]["chunk"] + c_side - ai["chunk_bytes"],
      "stack %d + static %d = the ledger's stack-held %d + std's untagged %d + glibc's own %d (less its tcaches %d)" %
      (u["stack"]["chunk_bytes"], u["static"]["chunk_bytes"], rl["stack"]["chunk"], rl["unpredicted"]["chunk"],
       c_side, ai["chunk_bytes"]))
print("\n".join(out))
PY
)
	[ $? -eq 0 ] || out="${out:+$out
}not ok - the checker failed (a key missing from the JSON?)"
	echo "$out"
	fails=$((fails + $(grep -c '^not ok' <<<"$out")))
	n=$((n + $(grep -c '' <<<"$out")))
done
exit $((fails > 0))
