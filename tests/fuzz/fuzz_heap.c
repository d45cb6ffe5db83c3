/* fuzz_heap.c: the glibc heap census (src/heap*.c) on hostile heaps.
 *
 * Input: a whole core (it starts with the ELF magic), derived from the
 * synthetic minimal core (synth.h: built once per process, a few KiB: one
 * arena and mp_ in libc's data, tcache, a fastbin, the unsorted bin, a
 * handful of in-use chunks, top, one mmapped chunk).  The mutator
 * (fuzz_mutate, synth_mutate) changes chunk headers (size, flags,
 * prev_size), free-list links (tcache and fastbin next, safe-linked or
 * not, bin heads, fd/bk, top, the arena ring), glibc's counters and, less
 * often, the containers' words; now and then a short run of heap bytes.
 *
 * Older input (issue 11's, kept for its regressions): anything else is the
 * bytes of the brk heap of a valid core, spliced over that
 * PT_LOAD's bytes in tests/fuzz/data/heapbase.core.gz (the C probe's kernel
 * core, trimmed: ELF and program headers, notes, libc's data with
 * main_arena and mp_, and the mmapped chunk's first page stay valid), so
 * the arena search succeeds and the chunk walk, the free lists, tcache and
 * fastbin decoding meet the hostile bytes.
 *
 * Either way every query of heap.h runs on the census, and cmd_heap_run renders
 * it for one input in eight (text or JSON by the input's length).  Seeds:
 * tests/fuzz/corpus/heap (synth-base, the synthetic core; heapbase, the
 * probe's heap in the older form). */
#include "cmd.h"
#include "fuzz.h"
#include "heap.h"
#include "synth.h"

#include <stdlib.h>
#include <string.h>

static uint8_t *base, *work;
static size_t base_size;
static uint64_t heap_off, heap_len; /* the heap PT_LOAD's bytes in the core */
static struct fuzz_file core;
static struct synth_core syn;
static struct types *types;
static char syn_exe[4096];

int fuzz_init(void)
{
	if (synth_fixture(&syn, &types, syn_exe, sizeof syn_exe) != 0)
		return -1;
	const char *path = fuzz_data("heapbase.core.gz");
	struct image *img;
	struct heap *h;
	struct err e;

	base = fuzz_slurp(path, &base_size);
	if (!base || fuzz_file_init(&core, "fuzz-heap") || fuzz_file_set(&core, base, base_size)) {
		fprintf(stderr, "fuzz: cannot read the heap base core %s\n", path);
		return -1;
	}
	/* the heap segment: the one holding the first chunk of an arena */
	if (image_open(&img, core.path, NULL, &e) || heap_open(&h, img, &e)) {
		fprintf(stderr, "fuzz: the heap base core does not open: %s\n", e.msg);
		return -1;
	}
	uint64_t addr = 0;
	for (size_t i = 0; i < heap_chunk_count(h) && !addr; i++) {
		struct heap_chunk c = heap_chunk_get(h, i);
		if (!(c.flags & HEAP_F_MMAPPED))
			addr = c.mem;
	}
	heap_close(h);
	image_close(img);
	work = malloc(base_size);
	uint64_t vaddr;
	if (!addr || !work || fuzz_core_load(base, addr, &vaddr, &heap_off, &heap_len)) {
		fprintf(stderr, "fuzz: no heap segment in the heap base core\n");
		return -1;
	}
	return 0;
}

int fuzz_base(const uint8_t **data, size_t *size)
{
	*data = syn.bytes;
	*size = syn.size;
	return 0;
}

size_t fuzz_mutate(uint8_t *data, size_t size, size_t max, unsigned seed, fuzz_bytes_fn bytes)
{
	static const unsigned w[SF_NKINDS] = {
		[SF_CHUNK] = 10, [SF_PREVSIZE] = 4, [SF_LINK] = 10, [SF_COUNT] = 5, [SF_PTR] = 2,
		[SF_LEN] = 1, [SF_CAP] = 1, [SF_TAG] = 0, [SF_CTRL] = 0, [SF_STATE] = 0,
	};
	return synth_mutate(&syn, w, data, size, max, seed, bytes);
}

static bool is_core(const uint8_t *data, size_t size)
{
	return size >= 4 && data[0] == 0x7f && data[1] == 'E' && data[2] == 'L' && data[3] == 'F';
}

/* The core to open: the input itself, or the base core with the input
 * over its heap bytes (older input); in work, work_size bytes. */
static size_t work_size;

static void splice(const uint8_t *data, size_t size)
{
	if (is_core(data, size)) {
		uint8_t *nb = size > work_size ? realloc(work, size) : work;
		if (!nb) {
			work_size = 0;
			return;
		}
		work = nb;
		memcpy(work, data, size);
		work_size = size;
		return;
	}
	if (work_size < base_size) {
		uint8_t *nb = realloc(work, base_size);
		if (!nb) {
			work_size = 0;
			return;
		}
		work = nb;
	}
	work_size = base_size;
	memcpy(work, base, base_size);
	memcpy(work + heap_off, data, size < heap_len ? size : heap_len);
}

static void query(struct heap *h, const uint8_t *data, size_t size)
{
	struct heap_chunk c;
	struct heap_totals tot;
	struct err e;
	size_t n = heap_chunk_count(h);

	for (size_t i = 0; i < n && i < 20000; i++) {
		struct heap_chunk k = heap_chunk_get(h, i);
		heap_usable(&k);
		heap_find(h, k.mem);
		heap_find_containing(h, k.mem + 8);
		if (i < 64)
			heap_chunk_at(h, k.mem, &c, &e);
	}
	heap_chunk_get(h, n);
	for (size_t i = 0; i < heap_arena_count(h) && i < 64; i++)
		heap_arena_get(h, i);
	for (size_t i = 0; i < heap_corruption_count(h) && i < 64; i++)
		heap_corruption_get(h, i);
	heap_get_totals(h, &tot);
	heap_tcache_count(h);
	heap_corruption_total(h);
	/* pointers from the input: the last 64 bytes, 8 at a time */
	for (size_t o = size > 64 ? size - 64 : 0; o + 8 <= size; o += 8) {
		uint64_t p = fuzz_rd64(data + o);
		heap_find(h, p);
		heap_find_containing(h, p);
		heap_chunk_at(h, p, &c, &e);
	}
	heap_drop_chunks(h);
	if (n)
		heap_chunk_at(h, heap_chunk_get(h, 0).mem, &c, &e);
	heap_find(h, 0);
}

void fuzz_one(const uint8_t *data, size_t size)
{
	struct image *img;
	struct heap *h;
	struct err e;

	splice(data, size);
	if (!work_size || fuzz_file_set(&core, work, work_size) || image_open(&img, core.path, NULL, &e))
		return;
	if (heap_open(&h, img, &e) == 0) {
		query(h, data, size);
		heap_close(h);
	}
	image_close(img);
	/* the renderer opens the core and takes the census again (without an
	 * executable: the census does not need one): for one input in eight,
	 * chosen by its bytes, text or JSON by its length */
	FILE *out = fuzz_devnull();
	uint32_t hsh = 2166136261u;
	for (size_t i = 0; i < size; i += 61)
		hsh = (hsh ^ data[i]) * 16777619u;
	if (out && hsh % 8 == 0 && image_open(&img, core.path, NULL, &e) == 0) {
		cmd_heap_run(out, img, size & 1, 1, &e);
		image_close(img);
	}
}

int fuzz_materialize(const uint8_t *data, size_t size, const char *dir, FILE *args)
{
	char path[4096];
	const char *exe = is_core(data, size) ? syn_exe : fuzz_fixture("probes/c/exe");
	snprintf(path, sizeof path, "%s/core", dir);
	splice(data, size);
	if (!work_size || fuzz_write(path, work, work_size))
		return -1;
	fprintf(args, "heap\n--json\n%s\n%s\n", path, exe);
	return 0;
}
