/* types_index.c: the name indexes of the type index.
 *
 * A multimap from a string to ids 1..n, built from include/container.h: a
 * hash table holds each distinct key once with the first and last id filed
 * under it, and a vector chains each id to the next one under the same key,
 * so the ids of one key come back in the order they were added (ascending,
 * as they are added) and an id costs 4 bytes.  Keys point into names that
 * live in the index's arena; a segment key is a prefix of its name.
 *
 * The type index keeps two: types and statics by last path segment without
 * generic arguments ("Vec" for "alloc::vec::Vec<f64, alloc::alloc::Global>"),
 * so a name, short or qualified, costs one probe and a walk over the names
 * that end in that segment (an exact one compares each name's hash first,
 * kept beside the index).  A second map by exact name cost as much to build
 * as this one, for lookups that are a handful per run.
 */
#include "types_priv.h"

bool types_multimap_init(struct types_multimap *m, size_t n)
{
	types_mm_table_init(&m->keys);
	types_u32_vec_init(&m->next);
	if (n >= UINT32_MAX || !types_u32_vec_reserve(&m->next, n + 1) ||
	    !types_mm_table_reserve(&m->keys, n)) {
		types_multimap_deinit(m);
		return false;
	}
	memset(m->next.data, 0, (n + 1) * sizeof *m->next.data);
	m->next.len = n + 1;
	return true;
}

void types_multimap_deinit(struct types_multimap *m)
{
	types_mm_table_deinit(&m->keys);
	types_u32_vec_deinit(&m->next);
}

bool types_multimap_add(struct types_multimap *m, struct types_strkey key, uint32_t id)
{
	if (!id || id >= m->next.len)
		return false;
	bool inserted;
	struct types_mm_slot *s = types_mm_table_insert(&m->keys, key, &inserted);
	if (!s)
		return false;
	if (inserted) {
		s->key = key;
		s->first = id;
	} else {
		m->next.data[s->last] = id;
	}
	s->last = id;
	return true;
}

uint32_t types_multimap_first(const struct types_multimap *m, struct types_strkey key)
{
	const struct types_mm_slot *s = types_mm_table_find(&m->keys, key);
	return s ? s->first : 0;
}

static bool index_segments(struct types_multimap *seg, size_t n,
			   const char *(*name_at)(const struct types *, size_t), const struct types *t)
{
	if (!types_multimap_init(seg, n))
		return false;
	for (size_t id = 1; id <= n; id++) {
		const char *name = name_at(t, id);
		if (!name[0])
			continue;
		size_t bl;
		const char *s = types_last_segment(name, &bl);
		if (!types_multimap_add(seg, (struct types_strkey){ s, bl ? bl : strlen(s) }, (uint32_t)id))
			return false;
	}
	return true;
}

static const char *type_name_at(const struct types *t, size_t id)
{
	return t->types[id].name;
}

static const char *static_name_at(const struct types *t, size_t i)
{
	return t->statics[i - 1].name;
}

int types_build_indexes(struct types *t, struct err *e)
{
	if (!index_segments(&t->by_segment, t->ntypes, type_name_at, t) ||
	    !index_segments(&t->statics_by_segment, t->nstatics, static_name_at, t))
		return err_set(e, ERR_NOMEM, "out of memory indexing type names");
	return 0;
}

void types_free_indexes(struct types *t)
{
	types_multimap_deinit(&t->by_segment);
	types_multimap_deinit(&t->statics_by_segment);
	types_u64_vec_deinit(&t->name_hash);
	types_u64_vec_deinit(&t->static_hash);
}
