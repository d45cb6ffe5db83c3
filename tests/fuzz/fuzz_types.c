/* fuzz_types.c: the type index (src/types*.c, over libdwarf) on hostile
 * DWARF.
 *
 * Input: debug sections as records (fuzz.h, fuzz_dwarf_elf) spliced into
 * the template executable tests/fuzz/data/dwarfprog.gz (a no_std Rust
 * program: tagged and niche enums, a C-like enum, structs, a union, a trait
 * object, statics), so the ELF around them stays valid.  Every query of
 * types.h runs on what types_open accepts: each type, its members by path,
 * template parameters, the active variant of each enum over zero, all-ones
 * and input bytes, lookups by name and prefix, statics and vtables, the
 * producer's rustc version.  Seed: tests/fuzz/corpus/types (dwarfprog's own
 * .debug_info, .debug_abbrev, .debug_str, .debug_line). */
#include "fuzz.h"
#include "types.h"

#include <string.h>

int fuzz_init(void)
{
	return fuzz_dwarf_init();
}

/* At most this many types get the per-type queries (a hostile unit can
 * hold millions of DIEs; the index itself is built over all of them). */
#define MAX_TYPES 2000

static void query_type(const struct types *t, type_id id, const uint8_t *data, size_t size)
{
	const struct types_type *ty = types_get(t, id);
	struct err e;
	type_id out;
	uint64_t off;

	types_resolve(t, id);
	if (ty->name && ty->name[0] && id % 4 == 0)
		types_lookup(t, ty->name, &out, &e);
	for (uint32_t i = 0; i < ty->nmembers && i < 32; i++) {
		const char *m = ty->members[i].name;
		if (m && m[0])
			types_member_path(t, id, m, &off, &out, &e);
	}
	for (uint32_t i = 0; i < ty->ntparams && i < 8; i++)
		if (ty->tparams[i].name)
			types_tparam(t, id, ty->tparams[i].name);
	if (ty->vpart && ty->size <= 4096) {
		static uint8_t buf[4096];
		uint32_t idx;
		memset(buf, 0, ty->size);
		types_variant_index(t, id, buf, ty->size, &idx, &e);
		memset(buf, 0xff, ty->size);
		types_variant_index(t, id, buf, ty->size, &idx, &e);
		if (size >= ty->size)
			types_variant_index(t, id, data + size - ty->size, ty->size, &idx, &e);
	}
}

void fuzz_one(const uint8_t *data, size_t size)
{
	const char *path = fuzz_dwarf_elf(data, size);
	struct types *t;
	struct err e;

	if (!path || types_open(&t, path, NULL, &e) != 0)
		return;
	size_t n = types_count(t);
	for (size_t id = 1; id <= n && id <= MAX_TYPES; id++)
		query_type(t, (type_id)id, data, size);
	static const char *const names[] = {"AggOp", "dwarfprog::Holes", "Niche", "Kind", "U", "u64", "&str",
					    "core::option::Option<&u32>", "Sum", "Count", ""};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		type_id id;
		uint64_t off;
		/* a name not found makes types_lookup rank every type's name by
		 * edit distance for its message: the first two names ask for it */
		if (types_lookup(t, names[i], &id, i < 2 ? &e : NULL) == 0)
			types_member_path(t, id, "op.__0.n", &off, NULL, &e);
	}
	type_id ids[16];
	types_find_prefix(t, "dwarfprog::", ids, 16);
	struct types_id_vec all = {0};
	types_find_prefix_all(t, "core::", &all, &e);
	types_id_vec_deinit(&all);
	for (size_t i = 0; i < types_static_count(t) && i < 256; i++) {
		const struct types_static *s = types_static_at(t, i), *found;
		types_vtable_type(t, s->addr);
		if (s->name)
			types_static_lookup(t, s->name, &found, &e);
	}
	unsigned major, minor, patch;
	types_rustc_version(t, &major, &minor, &patch);
	struct types_stats st;
	types_get_stats(t, &st);
	(void)types_versions(t);
	(void)types_build_id(t);
	types_close(t);
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
	fprintf(args, "layout\n--json\n%s\nAggOp\n", path);
	return 0;
}
