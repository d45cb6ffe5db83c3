#!/usr/bin/env bash
# e2e_prod.sh: postmortem as production takes it, on the generic fixture
# (fixtures/generic/shapes.rs: its core and its unstripped executable give
# the reference figures; every other way in must give the same ones):
#   - cores compressed by the real zstd, xz, lz4 and gzip (also under a
#     systemd-coredump storage name, and with no suffix at all: magic, not
#     name); a truncated or corrupt stream is one line, exit 2;
#   - a stripped executable whose debug info is found through
#     .gnu_debuglink (beside it, in .debug/), the build-id directory of
#     --debug-dir, or a debuginfod server (Debian's debuginfod, started here
#     on a loopback port, serving a directory); the report names the step;
#   - zstd-compressed debug sections, in the executable and in --debug-file;
#   - a stripped executable with its debug info nowhere: one line saying it
#     is stripped and where it looked, exit 2;
#   - the executable omitted: the one the core names (same build-id);
#   - --pid on the running fixture process: figures equal to a gcore taken
#     of the same idle process (profile, heap census, diff); the process is
#     running (S/R) and untraced (TracerPid 0) afterwards: on success, on a
#     refused root, and when the tool is sent SIGTERM at any point of its
#     run; refusals (no such process, another tracer, not root) one line each.
# Prints "ok ..." / "not ok ..." lines.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${FIXDIR:?}" "${BIN:?}"
dir="$FIXDIR/generic"
core="$dir/core" exe="$dir/shapes"
fails=0 n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); echo "not ok $n - $*"; fails=$((fails + 1)); }
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
args=(--root TABLE --enum Shape -q)

# The figures of a profile JSON that must not depend on how memory was read.
figures() {
	python3 - "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
keep = {k: d.get(k) for k in ("totals", "variants", "tables", "per_entity_bytes", "overhead", "heap", "enum", "root")}
print(json.dumps(keep, sort_keys=True))
PY
}
"$BIN" "${args[@]}" -o /dev/null --json "$tmp/ref.json" "$core" "$exe" 2> "$tmp/err" \
	|| { echo "not ok 1 - reference profile failed: $(cat "$tmp/err")"; exit 1; }
figures "$tmp/ref.json" > "$tmp/ref.fig"

# same NAME CORE [EXE] [OPTIONS...]: the profile's figures equal the reference's
same() {
	local name=$1; shift
	if "$BIN" "${args[@]}" -o "$tmp/out.md" --json "$tmp/out.json" "$@" 2> "$tmp/err" && figures "$tmp/out.json" > "$tmp/out.fig" \
		&& cmp -s "$tmp/ref.fig" "$tmp/out.fig"; then
		ok "$name: figures equal the plain core's"
		return 0
	fi
	nok "$name: $(head -c 400 "$tmp/err")"
	return 1
}
found_via() {   # name, pattern expected in the report's "debug info" row
	local row
	row=$(grep '^| debug info |' "$tmp/out.md")
	if grep -q -- "$2" <<< "$row"; then ok "$1: $row"; else nok "$1: report says '$row', want '$2'"; fi
}
one_line_exit2() {   # name, pattern, command...
	local name=$1 pat=$2; shift 2
	"$@" > /dev/null 2> "$tmp/err"
	local rc=$?
	if [ $rc -eq 2 ] && [ "$(wc -l < "$tmp/err")" -eq 1 ] && grep -q -- "$pat" "$tmp/err"; then
		ok "$name: exit 2, $(cat "$tmp/err")"
	else
		nok "$name: exit $rc, $(head -c 400 "$tmp/err")"
	fi
}

# ---- compressed cores
zstd -q -c "$core" > "$tmp/core.zst"
xz -1 -T1 -c "$core" > "$tmp/core.xz"
lz4 -q -c "$core" > "$tmp/core.lz4"
gzip -1 -c "$core" > "$tmp/core.gz"
for z in zst xz lz4 gz; do
	same "core.$z" "$tmp/core.$z" "$exe"
done
grep -q '^| core | `'"$tmp"'/core.gz`' "$tmp/out.md" && ok "the report names the compressed core" \
	|| nok "the report's core row: $(grep '^| core |' "$tmp/out.md")"
# systemd-coredump's storage name (core.COMM.UID.BOOTID.PID.USEC.zst) and no suffix at all
sd="$tmp/var/lib/systemd/coredump"
mkdir -p "$sd"
cp "$tmp/core.zst" "$sd/core.shapes.0.5e1c0ffee5e1c0ffee5e1c0ffee5e1c0.4242.1764950000000000.zst"
same "systemd-coredump storage path" "$sd/core.shapes.0.5e1c0ffee5e1c0ffee5e1c0ffee5e1c0.4242.1764950000000000.zst" "$exe"
cp "$tmp/core.xz" "$tmp/core-no-suffix"
same "xz core with no suffix (magic, not name)" "$tmp/core-no-suffix" "$exe"
for z in zst xz lz4 gz; do
	size=$(stat -c %s "$tmp/core.$z")
	head -c $((size / 2)) "$tmp/core.$z" > "$tmp/trunc.$z"
	one_line_exit2 "truncated core.$z" "truncated" "$BIN" "${args[@]}" -o /dev/null "$tmp/trunc.$z" "$exe"
done
python3 - "$tmp/core.zst" "$tmp/corrupt.zst" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
for i in range(len(b) // 3, len(b) // 3 + 64):
    b[i] ^= 0x5a
open(sys.argv[2], "wb").write(b)
PY
one_line_exit2 "corrupt core.zst" "cannot be decompressed" "$BIN" "${args[@]}" -o /dev/null "$tmp/corrupt.zst" "$exe"

# ---- debug info discovery
id=$(readelf -n "$exe" | awk '/Build ID/ {print $3}')
mkdir -p "$tmp/link/.debug" "$tmp/sub" "$tmp/root/.build-id/${id:0:2}" "$tmp/srv" "$tmp/none"
objcopy --only-keep-debug "$exe" "$tmp/shapes.debug"
strip -s -o "$tmp/stripped" "$exe"
objcopy --add-gnu-debuglink="$tmp/shapes.debug" "$tmp/stripped" "$tmp/link/shapes"
cp "$tmp/shapes.debug" "$tmp/link/shapes.debug"
same "stripped, .gnu_debuglink beside it" "$core" "$tmp/link/shapes" && found_via ".gnu_debuglink beside" "gnu_debuglink: $tmp/link/shapes.debug"
mv "$tmp/link/shapes.debug" "$tmp/link/.debug/shapes.debug"
same "stripped, .gnu_debuglink in .debug/" "$core" "$tmp/link/shapes" && found_via ".gnu_debuglink in .debug/" "gnu_debuglink: $tmp/link/.debug/shapes.debug"
cp "$tmp/shapes.debug" "$tmp/root/.build-id/${id:0:2}/${id:2}.debug"
same "stripped, --debug-dir build-id directory" "$core" "$tmp/stripped" --debug-dir "$tmp/root" \
	&& found_via "build-id directory" "build-id directory: $tmp/root/.build-id/${id:0:2}/${id:2}.debug"
# a debug file of another build in the build-id directory is not taken
cp "$tmp/link/.debug/shapes.debug" "$tmp/wrong.debug"
one_line_exit2 "stripped, debug info nowhere" "it is stripped" env AGGOP_DEBUG_ROOT="$tmp/none" DEBUGINFOD_URLS= \
	"$BIN" "${args[@]}" -o /dev/null "$core" "$tmp/stripped"
grep -q "$tmp/none/.build-id/${id:0:2}/${id:2}.debug" "$tmp/err" && grep -q "debuginfod" "$tmp/err" \
	&& ok "the refusal names what it looked for" || nok "the refusal: $(cat "$tmp/err")"
# zstd-compressed debug sections: in the executable, and in a separate debug file
objcopy --compress-debug-sections=zstd "$exe" "$tmp/shapes-zstd"
same "executable with zstd debug sections" "$core" "$tmp/shapes-zstd" && found_via "zstd sections" "the executable itself"
objcopy --compress-debug-sections=zstd "$tmp/shapes.debug" "$tmp/shapes-zstd.debug"
same "--debug-file with zstd debug sections" "$core" "$tmp/stripped" --debug-file "$tmp/shapes-zstd.debug" \
	&& found_via "--debug-file" "debug-file $tmp/shapes-zstd.debug"
# debuginfod: Debian's server on a loopback port, serving a directory
cp "$tmp/shapes-zstd.debug" "$exe" "$tmp/srv/"
if command -v debuginfod > /dev/null; then
	port=$((20000 + RANDOM % 20000))
	debuginfod -F -p "$port" -d "$tmp/dbgd.sqlite" -t 0 -g 0 "$tmp/srv" > "$tmp/dbgd.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 1 100); do grep -q "fts traversed" "$tmp/dbgd.log" && break; sleep 0.1; done
	export DEBUGINFOD_URLS="http://127.0.0.1:$port" DEBUGINFOD_CACHE_PATH="$tmp/dbgd-cache" DEBUGINFOD_TIMEOUT=20
	same "stripped, debuginfod" "$core" "$tmp/stripped" && found_via "debuginfod" "debuginfod: $tmp/dbgd-cache/$id/debuginfo"
	unset DEBUGINFOD_URLS
else
	nok "debuginfod is not installed (scripts/deps.sh check installs it)"
fi

# ---- the executable omitted
same "executable omitted (the core names it)" "$core"
named=$(sed -n 's/^| executable | `\([^`]*\)`.*/\1/p' "$tmp/out.md")
[ -n "$named" ] && [ "$(readelf -n "$named" 2> /dev/null | awk '/Build ID/ {print $3}')" = "$id" ] \
	&& ok "the report names the executable the core named ($named, build-id $id)" \
	|| nok "executable row: $(grep '^| executable |' "$tmp/out.md")"
same "compressed core, executable omitted" "$tmp/core.zst"

# ---- --pid
running() {   # pid: state S or R and TracerPid 0
	local st tr
	st=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null)
	tr=$(awk '/^TracerPid:/ {print $2}' "/proc/$1/status" 2>/dev/null)
	[[ "$st" == S || "$st" == R ]] && [ "$tr" = 0 ]
}
"$exe" > "$tmp/truth.json" &
live=$!
pids+=("$live")
for _ in $(seq 1 100); do [ -s "$tmp/truth.json" ] && break; sleep 0.1; done
if ! [ -s "$tmp/truth.json" ]; then
	nok "the fixture process printed no truth"
else
	# the process's own gcore, taken first (the process is idle: it only sleeps)
	gcore -o "$tmp/gc" "$live" > /dev/null 2>&1
	"$BIN" "${args[@]}" -o /dev/null --json "$tmp/gc.json" "$tmp/gc.$live" "$exe" 2> "$tmp/err" || nok "gcore profile: $(cat "$tmp/err")"
	figures "$tmp/gc.json" > "$tmp/ref.fig"
	"$BIN" --root TABLE --enum Shape -o "$tmp/out.md" --json "$tmp/out.json" --pid "$live" 2> "$tmp/err"
	rc=$?
	figures "$tmp/out.json" > "$tmp/out.fig" 2> /dev/null
	[ $rc -eq 0 ] && cmp -s "$tmp/ref.fig" "$tmp/out.fig" && ok "--pid: figures equal the gcore's" \
		|| nok "--pid: exit $rc $(head -c 300 "$tmp/err")"
	grep -q "stopped for [0-9.]* s" "$tmp/err" && grep -q '^| live process | pid '"$live"' stopped for' "$tmp/out.md" \
		&& ok "--pid says how long the process was stopped: $(grep -o 'stopped for [0-9.]* s' "$tmp/err")" \
		|| nok "--pid stop time: $(cat "$tmp/err")"
	running "$live" && ok "--pid: the process runs untraced afterwards" || nok "--pid: $(grep -E 'State|TracerPid' "/proc/$live/status")"
	# heap census: equal to the gcore's (the core's own fields aside)
	strip_core() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); [d.pop(k,None) for k in ("core","core_kind","core_path")]; print(json.dumps(d,sort_keys=True))' "$1"; }
	"$BIN" heap --json "$tmp/gc.$live" "$exe" > "$tmp/h1.json" 2> "$tmp/err"
	"$BIN" heap --json --pid "$live" > "$tmp/h2.json" 2>> "$tmp/err"
	[ "$(strip_core "$tmp/h1.json")" = "$(strip_core "$tmp/h2.json")" ] && ok "heap --pid equals heap of the gcore" \
		|| nok "heap --pid: $(head -c 300 "$tmp/err")"
	# diff BASELINE --pid: no variant moved
	"$BIN" diff --json "$tmp/diff.json" -o /dev/null -q "$tmp/gc.json" --pid "$live" --root TABLE --enum Shape 2> "$tmp/err"
	rc=$?
	python3 - "$tmp/gc.json" "$tmp/diff.json" > "$tmp/diffchk" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[2]))
s = json.dumps(d)
# every numeric delta in the diff is zero
bad = []
def walk(o, path):
    if isinstance(o, dict):
        for k, v in o.items():
            if ("delta" in k or k == "change") and isinstance(v, (int, float)) and v != 0:
                bad.append(path + "." + k)
            walk(v, path + "." + k)
    elif isinstance(o, list):
        for i, v in enumerate(o):
            walk(v, path + "[%d]" % i)
walk(d, "")
print("nonzero deltas:", bad[:5]) if bad else print("all deltas zero")
sys.exit(1 if bad else 0)
PY
	[ $rc -eq 0 ] && [ $? -eq 0 ] && ok "diff BASELINE --pid: $(cat "$tmp/diffchk")" || nok "diff --pid: exit $rc $(cat "$tmp/err" "$tmp/diffchk" | head -c 300)"
	running "$live" && ok "after heap and diff --pid: running, untraced" || nok "after heap/diff: $(grep -E 'State|TracerPid' "/proc/$live/status")"
	# a refused root
	"$BIN" --root NO_SUCH_ROOT --enum Shape -q -o /dev/null --pid "$live" 2> "$tmp/err"
	rc=$?
	[ $rc -eq 2 ] && running "$live" && ok "--pid with a refused root: exit 2, the process runs untraced" \
		|| nok "refused root: exit $rc, $(grep -E 'State|TracerPid' "/proc/$live/status")"
	# SIGTERM to the tool at every point of its run (stopping, copying, walking)
	bad=0
	for delay in 0 0.002 0.005 0.01 0.02 0.03 0.05 0.08 0.12 0.2; do
		"$BIN" "${args[@]}" -o /dev/null --pid "$live" 2> /dev/null &
		tool=$!
		sleep "$delay"
		kill -TERM "$tool" 2> /dev/null
		wait "$tool" 2> /dev/null
		running "$live" || { bad=1; echo "# after SIGTERM at ${delay}s: $(grep -E 'State|TracerPid' "/proc/$live/status" | tr '\n' ' ')"; }
	done
	[ $bad -eq 0 ] && ok "SIGTERM to --pid at 10 points of its run: the process always runs untraced" \
		|| nok "SIGTERM left the process stopped or traced"
	# refusals: another tracer, not root, no such process
	if command -v strace > /dev/null; then
		strace -p "$live" -o /dev/null 2> /dev/null &
		tracer=$!
		pids+=("$tracer")
		for _ in $(seq 1 50); do [ "$(awk '/^TracerPid:/ {print $2}' "/proc/$live/status")" != 0 ] && break; sleep 0.1; done
		one_line_exit2 "--pid on a traced process" "already traced by process" "$BIN" "${args[@]}" -o /dev/null --pid "$live"
		kill "$tracer"; wait "$tracer" 2> /dev/null
		for _ in $(seq 1 50); do running "$live" && break; sleep 0.1; done
	fi
	if [ "$(id -u)" -eq 0 ] && command -v setpriv > /dev/null; then
		one_line_exit2 "--pid as another user" "cannot attach to process $live" \
			setpriv --reuid=65534 --regid=65534 --clear-groups "$BIN" "${args[@]}" -o /dev/null --pid "$live"
	fi
	running "$live" && ok "after the refusals: running, untraced" || nok "after the refusals: $(grep -E 'State|TracerPid' "/proc/$live/status")"
fi
one_line_exit2 "--pid of no process" "no process" "$BIN" "${args[@]}" -o /dev/null --pid 2147483646

echo "# $fails failure(s)"
[ $fails -eq 0 ]
