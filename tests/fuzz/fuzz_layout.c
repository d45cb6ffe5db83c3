/* fuzz_layout.c: the `layout` command's code (types_layout.c and
 * report_layout.c) on hostile DWARF.
 *
 * Input: as for fuzz_types.c (debug sections spliced into
 * tests/fuzz/data/dwarfprog.gz).  Every struct, union and Rust enum the
 * index holds gets its layout computed (types_layout_struct,
 * types_layout_enum: holes, payload spans, the boxing model) and printed as
 * text and JSON (report_layout_print); cmd_layout_run, the command
 * itself, runs by name for one input in four.  Output goes to /dev/null.  Seed:
 * tests/fuzz/corpus/layout. */
#include "fuzz.h"
#include "cmd.h"
#include "report.h"
#include "types_layout.h"

int fuzz_init(void)
{
	return fuzz_dwarf_init();
}

#define MAX_TYPES 2000   /* types laid out per input (see fuzz_types.c) */
#define MAX_PRINTED 300  /* of which printed */

void fuzz_one(const uint8_t *data, size_t size)
{
	const char *path = fuzz_dwarf_elf(data, size);
	struct types *t;
	struct err e;
	FILE *out = fuzz_devnull();

	if (!path || !out || types_open(&t, path, NULL, &e) != 0)
		return;
	size_t n = types_count(t);
	for (size_t id = 1; id <= n && id <= MAX_TYPES; id++) {
		const struct types_type *ty = types_get(t, (type_id)id);
		if (ty->kind == TYPES_STRUCT || ty->kind == TYPES_UNION) {
			struct types_layout_struct ls;
			if (types_layout_struct(t, (type_id)id, &ls, &e) == 0)
				types_layout_struct_free(&ls);
		}
		if (ty->vpart) {
			struct types_layout_enum le;
			if (types_layout_enum(t, (type_id)id, &le, &e) == 0)
				types_layout_enum_free(&le);
		}
		if (id <= MAX_PRINTED) {
			report_layout_print(out, t, (type_id)id, false, &e);
			report_layout_print(out, t, (type_id)id, true, &e);
		}
	}
	types_close(t);
	/* the command opens and indexes the file again (half a run): one input
	 * in four, chosen by its bytes (the same input always takes the same
	 * path) */
	uint32_t hsh = 2166136261u;
	for (size_t i = 0; i < size; i += 61)
		hsh = (hsh ^ data[i]) * 16777619u;
	if (hsh % 4 == 0)
		cmd_layout_run(out, path, NULL, "AggOp", false, &e);
}

int fuzz_base(const uint8_t **data, size_t *size)
{
	(void)data;
	(void)size;
	return -1;
}

size_t fuzz_mutate(uint8_t *data, size_t size, size_t max, unsigned seed, fuzz_bytes_fn bytes)
{
	return fuzz_dwarf_mutate(data, size, max, seed, bytes);
}

int fuzz_materialize(const uint8_t *data, size_t size, const char *dir, FILE *args)
{
	char path[4096];
	if (fuzz_dwarf_write(data, size, dir, path, sizeof path))
		return -1;
	fprintf(args, "layout\n%s\nAggOp\n", path);
	return 0;
}
