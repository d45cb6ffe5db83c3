#!/usr/bin/env bash
# bench/pid.sh: how long `--pid` holds a process stopped, against the wall
# time of gcore on the same process (which also stops it throughout), and
# what a zstd-compressed core costs to open against `zstd -d` of it.
#
# Builds a C program that fills PID_BENCH_MB MiB (default 1024) of glibc heap
# in 4 threads (small chunks, every 5th freed), waits, and then measures, on
# the same idle process:
#   aggop-inspect heap --pid PID   the "stopped for" line (first thread
#                                  stopped -> last thread resumed), and wall
#   gcore PID                      wall time (the process is stopped for all
#                                  of it); the census of that core must equal
#                                  the --pid census
#   zstd -d of the gcore, compressed once with zstd -1
#   aggop-inspect heap CORE.zst    wall, against heap of the plain core
# Not part of `make check`.  Work files go to build/bench/pid (the core is
# deleted at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
mb="${PID_BENCH_MB:-1024}"
out=build/bench/pid
bin=${BIN:-$PWD/aggop-inspect}
mkdir -p "$out"
[ -x "$bin" ] || { echo "bench/pid.sh: build first (make)" >&2; exit 1; }
for c in gcore zstd cc; do command -v $c > /dev/null || { echo "bench/pid.sh: $c missing" >&2; exit 1; }; done

cat > "$out/fill.c" <<'C'
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static size_t share;
static pthread_barrier_t done;
static void *fill(void *arg)
{
	size_t n = share / 120, i;
	void **v = malloc(n * sizeof *v);
	(void)arg;
	for (i = 0; i < n; i++) {
		v[i] = malloc(16 + (i * 37) % 200);
		memset(v[i], 1, 16);
	}
	for (i = 0; i < n; i += 5)
		free(v[i]);
	pthread_barrier_wait(&done);
	for (;;)
		pause();
	return v;
}
int main(int argc, char **argv)
{
	pthread_t t[4];
	share = (size_t)atol(argv[1]) * 1024 * 1024 / 4;
	(void)argc;
	pthread_barrier_init(&done, NULL, 5);
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, fill, NULL);
	pthread_barrier_wait(&done);
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
C
cc -O2 -g -pthread -o "$out/fill" "$out/fill.c"
"$out/fill" "$mb" > "$out/ready" &
pid=$!
trap 'kill $pid 2> /dev/null; rm -f "$out"/core*' EXIT
for _ in $(seq 1 600); do [ -s "$out/ready" ] && break; sleep 0.1; done
rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
echo "process $pid: VmRSS $((rss / 1024)) MiB"

now() { date +%s.%N; }
t0=$(now)
"$bin" heap --json --pid "$pid" > "$out/live.json" 2> "$out/live.err"
t1=$(now)
stop=$(grep -o 'stopped for [0-9.]* s' "$out/live.err" | awk '{print $3}')
echo "--pid: stopped for $stop s; whole heap --pid run $(echo "$t1 - $t0" | bc) s"
t0=$(now)
gcore -o "$out/core" "$pid" > /dev/null 2>&1
t1=$(now)
gc=$(echo "$t1 - $t0" | bc)
echo "gcore: $gc s wall (stopped throughout), core $(($(stat -c %s "$out/core.$pid") >> 20)) MiB"
echo "ratio: gcore / --pid stop = $(echo "scale=1; $gc / $stop" | bc)x"
"$bin" heap --json "$out/core.$pid" "$out/fill" > "$out/core.json"
strip_core() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); [d.pop(k,None) for k in ("core","core_kind","core_path")]; print(json.dumps(d,sort_keys=True))' "$1"; }
[ "$(strip_core "$out/live.json")" = "$(strip_core "$out/core.json")" ] && echo "census: --pid equals the gcore's" \
	|| echo "census: --pid DIFFERS from the gcore's"

zstd -q -1 -T0 -f "$out/core.$pid" -o "$out/core.zst"
echo "core.zst: $(($(stat -c %s "$out/core.zst") >> 20)) MiB"
t0=$(now); zstd -q -d -f "$out/core.zst" -o "$out/core.unz"; t1=$(now)
echo "zstd -d to a file: $(echo "$t1 - $t0" | bc) s"
rm -f "$out/core.unz"
t0=$(now); "$bin" heap --json "$out/core.$pid" "$out/fill" > /dev/null; t1=$(now)
plain=$(echo "$t1 - $t0" | bc)
t0=$(now); "$bin" heap --json "$out/core.zst" "$out/fill" > /dev/null; t1=$(now)
z=$(echo "$t1 - $t0" | bc)
echo "heap on the plain core: $plain s; on core.zst: $z s (decompression in memory: $(echo "$z - $plain" | bc) s)"
