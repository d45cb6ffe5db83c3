/* types.c: opening and closing the type index of an executable.
 *
 * Picks the file whose DWARF to index (the executable; when it has none
 * with types, --debug-file, then the build-id path under /usr/lib/debug),
 * has types_dwarf.c read every CU of it and types_merge.c merge the per-CGU
 * copies, and owns the arena every string and array of the index lives in.
 * The files themselves are types_file.c's business.
 */
#include "types_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- arena */

struct types_arena_block {
	struct types_arena_block *next;
	size_t cap;
	_Alignas(16) unsigned char data[];
};

void *types_arena_alloc(struct types_arena *a, size_t size)
{
	if (size > SIZE_MAX - 15 - sizeof(struct types_arena_block))
		return NULL;
	size = (size + 15) & ~(size_t)15;
	if (!a->head || a->cap - a->used < size) {
		size_t cap = size > (1u << 20) ? size : (1u << 20);
		struct types_arena_block *b = malloc(sizeof *b + cap);
		if (!b)
			return NULL;
		b->next = a->head;
		b->cap = cap;
		a->head = b;
		a->used = 0;
		a->cap = cap;
	}
	void *p = a->head->data + a->used;
	a->used += size;
	return p;
}

char *types_arena_strdup(struct types_arena *a, const char *s, size_t len)
{
	char *p = len < SIZE_MAX ? types_arena_alloc(a, len + 1) : NULL;
	if (p) {
		memcpy(p, s, len);
		p[len] = 0;
	}
	return p;
}

void types_arena_free(struct types_arena *a)
{
	struct types_arena_block *b = a->head;
	while (b) {
		struct types_arena_block *n = b->next;
		free(b);
		b = n;
	}
	a->head = NULL;
}

/* ---------------------------------------------------- building and open */

int types_build_nomem(struct types_build *b)
{
	return err_set(b->e, ERR_NOMEM, "out of memory while indexing DWARF types");
}

void types_build_deinit(struct types_build *b)
{
	types_raw_vec_deinit(&b->raws);
	types_rstatic_vec_deinit(&b->statics);
	types_producer_vec_deinit(&b->producers);
}

/* Indexes path into t.  ERR_NOTFOUND when the file has no usable debug info
 * (the caller then tries the next candidate), other codes on real failure. */
static int index_file(struct types *t, const char *path, struct err *e)
{
	struct types_file f;
	int rc = types_file_open(&f, path, e);
	memcpy(t->build_id, f.build_id, sizeof t->build_id);
	if (rc)
		return rc;
	struct types_build b = { .t = t, .e = e };
	rc = types_dwarf_read(&b, f.dbg);
	if (!rc && !types_dwarf_has_types(&b))
		rc = err_set(e, ERR_NOTFOUND, "%s has no DWARF types: stripped, or built with debug = 0 or 1", path);
	if (!rc)
		rc = types_producer_settle(&b);
	if (!rc)
		rc = types_merge(&b);
	if (rc && rc != ERR_NOTFOUND)
		err_wrap(e, "%s", path);
	types_file_close(&f);
	types_build_deinit(&b);
	return rc;
}

static void types_reset(struct types *t)
{
	types_arena_free(&t->arena);
	free(t->types);
	free(t->containing);
	types_free_indexes(t);
	version_facts_deinit(&t->versions);
	memset(t, 0, sizeof *t);
}

int types_open(struct types **out, const char *exe, const char *debug_file, struct err *e)
{
	*out = NULL;
	struct types *t = calloc(1, sizeof *t);
	if (!t)
		return err_set(e, ERR_NOMEM, "out of memory opening %s", exe);
	int rc = index_file(t, exe, e);
	if (rc == ERR_NOTFOUND) {
		char exe_id[sizeof t->build_id], path[4096];
		memcpy(exe_id, t->build_id, sizeof exe_id);
		struct err first = *e;
		rc = ERR_NOTFOUND;
		if (debug_file) {
			types_reset(t);
			rc = index_file(t, debug_file, e);
			if (!rc && exe_id[0] && t->build_id[0] && strcmp(exe_id, t->build_id))
				rc = err_set(e, ERR_INPUT,
					     "debug file %s (build-id %s) does not belong to %s (build-id %s)",
					     debug_file, t->build_id, exe, exe_id);
		}
		if (rc == ERR_NOTFOUND && types_file_debug_path(exe_id, path, sizeof path)) {
			types_reset(t);
			rc = index_file(t, path, e);
		}
		if (rc == ERR_NOTFOUND)
			rc = err_set(e, ERR_INPUT,
				     "no DWARF type information for %s (%s); build it with debug = 2 "
				     "(\"full\", not \"limited\"), or pass --debug-file", exe, first.msg);
	}
	if (rc) {
		types_close(t);
		return rc;
	}
	*out = t;
	return 0;
}

void types_close(struct types *t)
{
	if (!t)
		return;
	types_reset(t);
	free(t);
}
