/* fuzz_walk.c: the walk and the profile (src/walk*.c, roots.c,
 * profile*.c, report_md.c, report_json.c) on hostile heap contents.
 *
 * Input: a whole core, derived from the synthetic minimal core (synth.h:
 * built once per process from the generic fixture's DWARF, a few KiB: one
 * arena, a handful of chunks, TABLE's HashMap with two entities whose ops
 * cover every container family of shapes.rs).  The type index is opened
 * once per process; each input is written to a memfd, opened without the
 * executable (the synthetic process is loaded at bias 0), censused,
 * profiled with --root TABLE --enum Shape, and one input in eight has its
 * markdown report rendered to /dev/null, another its JSON report.  The mutator (fuzz_mutate, synth_mutate) changes the
 * fields the builder listed, container headers mostly (pointers, lengths,
 * capacities, enum tags, hash control bytes, the Once state) and chunk
 * headers and free-list links now and then.  Seed: the synthetic core
 * (tests/fuzz/corpus/walk, written by fuzz-replay-walk --base). */
#include "fuzz.h"
#include "heap.h"
#include "profile.h"
#include "report.h"
#include "synth.h"

static struct types *types;
static struct synth_core base;
static struct fuzz_file core;
static char exe[4096];

int fuzz_init(void)
{
	if (synth_fixture(&base, &types, exe, sizeof exe) != 0)
		return -1;
	return fuzz_file_init(&core, "fuzz-walk");
}

int fuzz_base(const uint8_t **data, size_t *size)
{
	*data = base.bytes;
	*size = base.size;
	return 0;
}

size_t fuzz_mutate(uint8_t *data, size_t size, size_t max, unsigned seed, fuzz_bytes_fn bytes)
{
	static const unsigned w[SF_NKINDS] = {
		[SF_CHUNK] = 2, [SF_PREVSIZE] = 1, [SF_LINK] = 2, [SF_COUNT] = 1, [SF_PTR] = 10,
		[SF_LEN] = 8, [SF_CAP] = 6, [SF_TAG] = 6, [SF_CTRL] = 3, [SF_STATE] = 1,
	};
	return synth_mutate(&base, w, data, size, max, seed, bytes);
}

void fuzz_one(const uint8_t *data, size_t size)
{
	struct image *img = NULL;
	struct heap *h = NULL;
	struct profile *p = NULL;
	struct err e;
	struct profile_options po = {.root = "TABLE", .enum_name = "Shape"};
	FILE *out = fuzz_devnull();

	if (!out || fuzz_file_set(&core, data, size))
		return;
	if (image_open(&img, core.path, NULL, &e) == 0 && heap_open(&h, img, &e) == 0 &&
	    profile_run(&p, img, types, h, &po, &e) == 0) {
		struct report_meta m = {.core = core.path, .exe = exe, .core_kind = image_core_kind(img),
					.core_size = image_core_size(img), .build_id = image_exe_build_id(img)};
		struct report_metrics mx = {0};
		/* the renderers cost 60% of a run on the synthetic core: each
		 * renders one input in eight, chosen by the input's bytes (the
		 * same input always takes the same path) */
		uint32_t hsh = 2166136261u;
		for (size_t i = 0; i < size; i += 61)
			hsh = (hsh ^ data[i]) * 16777619u;
		struct report_doc *d = NULL;
		if (hsh % 8 < 2 && report_doc_build(&d, p, &m, &e) == 0) {
			if (hsh % 8 == 0)
				report_doc_markdown(out, d, &m, &mx, &e);
			else
				report_doc_json(out, d, &m, &mx, &e);
		}
		report_doc_free(d);
	}
	profile_free(p);
	heap_close(h);
	image_close(img);
}

int fuzz_materialize(const uint8_t *data, size_t size, const char *dir, FILE *args)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/core", dir);
	if (fuzz_write(path, data, size))
		return -1;
	fprintf(args, "-q\n-o\n/dev/null\n--json\n/dev/null\n--root\nTABLE\n--enum\nShape\n%s\n%s\n", path, exe);
	return 0;
}
