#!/usr/bin/env bash
# bench/heap.sh: census time and peak memory of `aggop-inspect heap` on a big
# synthetic heap, and heap_find lookups per second.
#
# Builds a C program that fills 4 arenas with ~HEAP_BENCH_MB MiB (default
# 1024) of small chunks (16..215 bytes requested, every 5th freed: tcache,
# fastbins and bins all populated), takes a kernel core of it, then times
#   aggop-inspect heap CORE EXE         (/usr/bin/time: wall, max RSS)
#   heap_find over every chunk, in a shuffled order (lookups/s)
# Also runs on $FIXDIR/snapshots/*/ and $FIXDIR/sim-*/ cores when present.
# Not part of `make check`.  Work files go to build/bench/heap.
set -euo pipefail
cd "$(dirname "$0")/.."
mb="${HEAP_BENCH_MB:-1024}"
out=build/bench/heap
bin=${BIN:-./aggop-inspect}
lib=${LIB:-build/normal/libaggop.a}
mkdir -p "$out"
[ -x "$bin" ] && [ -f "$lib" ] || { echo "bench/heap.sh: build first (make; make BUILD=build/normal tests-bin)" >&2; exit 1; }
command -v /usr/bin/time >/dev/null 2>&1 || { echo "bench/heap.sh: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }

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
		memset(v[i], 1, 8);
	}
	for (i = 0; i < n; i += 5)
		free(v[i]);
	pthread_barrier_wait(&done);
	for (;;)
		pause();
}
int main(int argc, char **argv)
{
	pthread_t t[3];
	share = strtoull(argv[1], NULL, 0) << 20 >> 2;
	(void)argc;
	pthread_barrier_init(&done, NULL, 4);
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, fill, NULL);
	fill(NULL);
	return 0;
}
C
cat > "$out/find.c" <<'C'
#include "heap.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
int main(int argc, char **argv)
{
	struct err e = { 0 };
	struct image *img;
	struct heap *h;
	struct timespec a, b;
	(void)argc;
	if (image_open(&img, argv[1], argv[2], &e) || heap_open(&h, img, &e)) {
		fprintf(stderr, "%s\n", e.msg);
		return 2;
	}
	size_t n = heap_chunk_count(h), hit = 0;
	uint64_t *q = malloc(n * sizeof *q);
	for (size_t i = 0; i < n; i++)
		q[i] = heap_chunk_get(h, i)->mem;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (size_t i = 0; i < n; i++)
		hit += heap_find(h, q[i]) != SIZE_MAX;
	clock_gettime(CLOCK_MONOTONIC, &b);
	double s0 = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("heap_find in address order: %.1f M lookups/s\n", n / s0 / 1e6);
	hit = 0;
	srand(1);
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)rand() % i;
		uint64_t t = q[i - 1];
		q[i - 1] = q[j];
		q[j] = t;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (size_t i = 0; i < n; i++)
		hit += heap_find(h, q[i]) != SIZE_MAX;
	clock_gettime(CLOCK_MONOTONIC, &b);
	double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("heap_find in random order: %zu chunks, %zu found, %.3f s, %.1f M lookups/s\n", n, hit, s, n / s / 1e6);
	free(q);
	heap_close(h);
	image_close(img);
	return hit == n ? 0 : 1;
}
C
cc -O2 -pthread -o "$out/fill" "$out/fill.c"
cc -O2 -Iinclude -D_GNU_SOURCE -o "$out/find" "$out/find.c" "$lib" -ldwarf -lelf -ljansson -lz -lm

if [ ! -s "$out/core.$mb" ]; then
	rm -f "$out"/run/core*
	mkdir -p "$out/run"
	(cd "$out/run" && ulimit -c unlimited && exec ../fill "$mb") &
	pid=$!
	# Wait until the heap stops growing (all four threads parked).
	prev=-1
	while :; do
		sleep 1
		rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
		[ "$rss" = "$prev" ] && break
		prev=$rss
	done
	kill -ABRT "$pid"; wait "$pid" 2>/dev/null || true
	mv "$out"/run/core* "$out/core.$mb"
	cp "$out/fill" "$out/fill.$mb"
fi

run() {
	local core="$1" exe="$2"
	echo "== $core ($(du -h --apparent-size "$core" | cut -f1) core)"
	/usr/bin/time -f "census: %e s wall, %M KiB max RSS" "$bin" heap "$core" "$exe" > "$out/report.txt"
	grep -E '^- (arenas|in use|cached|free)' "$out/report.txt"
	"$out/find" "$core" "$exe"
}
run "$out/core.$mb" "$out/fill.$mb"
for d in "${FIXDIR:-build/fixtures}"/snapshots/*/ "${FIXDIR:-build/fixtures}"/sim-*/; do
	[ -f "$d/core" ] && run "$d/core" "$d/beava-sim"
done
exit 0
