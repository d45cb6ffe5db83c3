/* fuzz_walk.c: the walk and the profile (src/walk*.c, roots.c,
 * profile*.c, report_md.c, report_json.c) on hostile heap contents.
 *
 * Base: the generic fixture ($FIXDIR/generic: a gcore of shapes.rs and its
 * executable, profiled with --root TABLE --enum Shape).  Input: patches to
 * the user bytes of the in-use chunks the base's census lists, as records
 * [u16 chunk][u16 offset][u8 length][bytes] (chunk and offset taken modulo
 * the chunk count and the chunk's usable size, the length cut at the
 * chunk's end).  Chunk headers are never touched, so the census stays
 * valid while Vec lengths, Box and map pointers, enum tags and string
 * lengths turn hostile.  Each input: the core with its patches is opened,
 * censused, profiled, and both reports are rendered to /dev/null.
 * Regressions depend on the fixture (a rebuilt fixture has other
 * addresses): the replay still runs them, as other hostile heaps. */
#include "fuzz.h"
#include "heap.h"
#include "profile.h"
#include "report.h"

#include <stdlib.h>
#include <string.h>

struct chunk {
	uint64_t off;     /* file offset of its user bytes in the core */
	uint64_t usable;  /* bytes the core holds of them */
};

static struct types *types;
static uint8_t *base, *work;
static size_t base_size, nchunks;
static struct chunk *chunks;
static struct fuzz_file core;
static char exe[4096];

/* The file offset of [addr, addr+len) in the base core, if it is there
 * (len is cut to what the core holds). */
static bool file_off(uint64_t addr, uint64_t *off, uint64_t *len)
{
	uint64_t vaddr, offset, filesz;
	if (fuzz_core_load(base, addr, &vaddr, &offset, &filesz) || addr - vaddr >= filesz)
		return false;
	*off = offset + (addr - vaddr);
	if (*len > filesz - (addr - vaddr))
		*len = filesz - (addr - vaddr);
	return true;
}

int fuzz_init(void)
{
	char cpath[4096];
	struct image *img;
	struct heap *h;
	struct err e;

	snprintf(cpath, sizeof cpath, "%s", fuzz_fixture("generic/core"));
	snprintf(exe, sizeof exe, "%s", fuzz_fixture("generic/shapes"));
	base = fuzz_slurp(cpath, &base_size);
	if (!base || types_open(&types, exe, NULL, &e)) {
		fprintf(stderr, "fuzz: no generic fixture (%s, %s): run tests/setup.sh\n", cpath, exe);
		return -1;
	}
	if (fuzz_file_init(&core, "fuzz-walk") || fuzz_file_set(&core, base, base_size) ||
	    image_open(&img, core.path, exe, &e) || heap_open(&h, img, &e)) {
		fprintf(stderr, "fuzz: the generic fixture does not open: %s\n", e.msg);
		return -1;
	}
	size_t n = heap_chunk_count(h);
	chunks = calloc(n ? n : 1, sizeof *chunks);
	work = malloc(base_size);
	if (!chunks || !work)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct heap_chunk c = heap_chunk_get(h, i);
		uint64_t len = heap_usable(&c);
		if (c.state == HEAP_INUSE && len && file_off(c.mem, &chunks[nchunks].off, &len)) {
			chunks[nchunks].usable = len;
			nchunks++;
		}
	}
	heap_close(h);
	image_close(img);
	if (!nchunks) {
		fprintf(stderr, "fuzz: the generic fixture's census lists no chunk\n");
		return -1;
	}
	return 0;
}

/* The base core with the input's patches, in work. */
static void splice(const uint8_t *data, size_t size)
{
	memcpy(work, base, base_size);
	for (size_t o = 0; size - o >= 5;) {
		const struct chunk *c = &chunks[(data[o] | data[o + 1] << 8) % nchunks];
		uint64_t at = (uint64_t)(data[o + 2] | data[o + 3] << 8) % c->usable;
		size_t len = data[o + 4];
		o += 5;
		if (len > size - o)
			len = size - o;
		size_t n = len < c->usable - at ? len : (size_t)(c->usable - at);
		memcpy(work + c->off + at, data + o, n);
		o += len;
	}
}

void fuzz_one(const uint8_t *data, size_t size)
{
	struct image *img = NULL;
	struct heap *h = NULL;
	struct profile *p = NULL;
	struct err e;
	struct profile_options po = {.root = "TABLE", .enum_name = "Shape"};
	FILE *out = fuzz_devnull();

	splice(data, size);
	if (!out || fuzz_file_set(&core, work, base_size))
		return;
	if (image_open(&img, core.path, exe, &e) == 0 && heap_open(&h, img, &e) == 0 &&
	    profile_run(&p, img, types, h, &po, &e) == 0) {
		struct report_meta m = {.core = core.path, .exe = exe, .core_kind = image_core_kind(img),
					.core_size = image_core_size(img), .build_id = image_exe_build_id(img)};
		struct report_metrics mx = {0};
		report_markdown(out, p, &m, &mx, &e);
		report_json(out, p, &m, &mx, &e);
	}
	profile_free(p);
	heap_close(h);
	image_close(img);
}

int fuzz_materialize(const uint8_t *data, size_t size, const char *dir, FILE *args)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/core", dir);
	splice(data, size);
	if (fuzz_write(path, work, base_size))
		return -1;
	fprintf(args, "-q\n-o\n/dev/null\n--json\n/dev/null\n--root\nTABLE\n--enum\nShape\n%s\n%s\n", path, exe);
	return 0;
}
