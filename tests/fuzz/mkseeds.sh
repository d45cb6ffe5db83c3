#!/usr/bin/env bash
# mkseeds.sh: (re)makes the committed seed corpus and data of the fuzz
# harnesses from the fixtures (tests/setup.sh builds them).  Run from the
# repository root with FIXDIR set (default build/fixtures) and BIN naming a
# built aggop-inspect (default build/normal/aggop-inspect); needs rustc, cc,
# python3.  The outputs are committed: the harnesses and their regressions
# must not change meaning when the fixtures are rebuilt.
#   tests/fuzz/data/dwarfprog.gz       DWARF template (src/dwarfprog.rs)
#   tests/fuzz/data/heapbase.core.gz   trimmed C probe kernel core (heap harness)
#   tests/fuzz/data/cprobe-exe.gz      the C probe's executable the image seeds
#                                      match (make fuzz-build installs it as
#                                      FIXDIR/probes/c/exe when that is missing)
#   tests/fuzz/corpus/image/*          trimmed kernel and gdb cores
#   tests/fuzz/corpus/heap/heapbase    the heap segment of heapbase (issue 11's input form)
#   tests/fuzz/corpus/{heap,walk}/synth-base  the synthetic core (synth.c)
#   tests/fuzz/corpus/{types,layout}/* dwarfprog's debug sections as records
set -euo pipefail
cd "$(dirname "$0")/../.."
FIXDIR=${FIXDIR:-build/fixtures}
BIN=${BIN:-build/normal/aggop-inspect}
fz=tests/fuzz
trim=$fz/trim-core.py
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p $fz/data $fz/corpus/{image,heap,types,layout,walk}
gzip -9nc "$FIXDIR/probes/c/exe" > $fz/data/cprobe-exe.gz

for src in probes/c/kcore:c-kcore probes/c/gcore:c-gcore probes/rust/kcore:rust-kcore probes/rust/gcore:rust-gcore; do
	core=$FIXDIR/${src%%:*}
	$trim "$core" $fz/corpus/image/${src#*:} --keep first:1024 --keep rw:256
done

# The heap base: the C probe's kernel core with the heap, libc's data (the
# arena, mp_) and the mmapped chunk's first page kept, zero tails dropped.
core=$FIXDIR/probes/c/kcore
read -r arena heap mmapped < <("$BIN" heap --json "$core" "$FIXDIR/probes/c/exe" | python3 -c '
import json, sys
j = json.load(sys.stdin)
a = int(j["arenas"][0]["address"], 16)
heap = [int(c["mem"], 16) for c in j["largest"] if not c["mmapped"]][0]
mm = [int(c["mem"], 16) for c in j["largest"] if c["mmapped"]][0]
print("%x %x %x" % (a, heap, mm))')
# and the segment after the arena's (libc .bss, the anonymous rest of its data)
$trim "$core" "$tmp/heapbase" --zeros --keep first --keep "$heap" --keep "$arena" \
	--keep "after-$arena" --keep "$mmapped:4096"
gzip -9 -n -c "$tmp/heapbase" > $fz/data/heapbase.core.gz
# the heap seed: the heap segment's bytes as the base holds them
python3 - "$tmp/heapbase" "$heap" $fz/corpus/heap/heapbase <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
addr = int(sys.argv[2], 16)
phoff, = struct.unpack_from("<Q", data, 32)
phnum, = struct.unpack_from("<H", data, 56)
for k in range(phnum):
    t, f, off, va, pa, fs, ms, al = struct.unpack_from("<IIQQQQQQ", data, phoff + 56 * k)
    if t == 1 and va <= addr < va + ms:
        open(sys.argv[3], "wb").write(data[off:off + fs])
PY

# The DWARF template: one no_std CU, linked without core's objects.
rustc -C debuginfo=2 -C opt-level=0 -C overflow-checks=off -C debug-assertions=off -C panic=abort \
	--emit=obj -o "$tmp/dwarfprog.o" $fz/src/dwarfprog.rs
cc -nostdlib -nostartfiles -Wl,-e,main -Wl,--build-id -o "$tmp/dwarfprog" "$tmp/dwarfprog.o"
gzip -9 -n -c "$tmp/dwarfprog" > $fz/data/dwarfprog.gz
python3 - "$tmp/dwarfprog" $fz/corpus/types/dwarfprog $fz/corpus/layout/dwarfprog <<'PY'
import struct, sys
names = [".debug_info", ".debug_abbrev", ".debug_str", ".debug_line"]
data = open(sys.argv[1], "rb").read()
shoff, = struct.unpack_from("<Q", data, 40)
shnum, shstrndx = struct.unpack_from("<HH", data, 60)
sh = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + 64 * k) for k in range(shnum)]
stro = sh[shstrndx][4]
def name(s):
    return data[stro + s[0]:data.index(b"\0", stro + s[0])].decode()
out = b""
for i, n in enumerate(names):
    s = [s for s in sh if name(s) == n][0]
    body = data[s[4]:s[4] + s[5]]
    out += struct.pack("<BI", i, len(body)) + body
for p in sys.argv[2:]:
    open(p, "wb").write(out)
PY
# The heap and walk seeds: the synthetic minimal core (tests/fuzz/synth.c,
# built from the generic fixture's DWARF; the harnesses build it again at
# start and mutate inputs derived from it).
for name in heap walk; do
	"$(dirname "$BIN")/tests/fuzz-replay-$name" --base $fz/corpus/$name/synth-base
done
echo "mkseeds: done"
