/* types_priv.h: the types layer's private state, shared by src/types.c (which
 * builds the index from DWARF) and src/types_query.c (which answers lookups).
 * Nothing outside src/types*.c includes this.
 *
 * Every string and array the public structs point to lives in one arena that
 * types_close frees in one go, so the index is a handful of big allocations
 * rather than one per DIE.
 */
#ifndef AGGOP_TYPES_PRIV_H
#define AGGOP_TYPES_PRIV_H

#include "types.h"

struct types_arena_block;

struct types_arena {
	struct types_arena_block *head;
	size_t used, cap; /* of head */
};

void *types_arena_alloc(struct types_arena *a, size_t size);
char *types_arena_strdup(struct types_arena *a, const char *s, size_t len);
void types_arena_free(struct types_arena *a);

/* A chained hash index over ids 1..n: head[hash & mask] -> first id,
 * next[id] -> the following id with the same bucket (0 ends a chain). */
struct types_chain {
	uint32_t *head;
	uint32_t *next;
	uint32_t mask;
};

struct types_vtable {
	uint64_t addr;
	type_id type;
};

struct types {
	struct types_arena arena;
	size_t ntypes;                 /* ids are 1..ntypes */
	struct types_type *types;      /* [ntypes + 1], [0] is void */
	type_id *containing;           /* [ntypes + 1]: DW_AT_containing_type */
	struct types_chain by_name;    /* exact qualified name */
	struct types_chain by_segment; /* last segment without generic args */
	size_t nstatics;
	struct types_static *statics;
	struct types_chain statics_by_name;    /* over static index + 1 */
	struct types_chain statics_by_segment;
	size_t nvtables;
	struct types_vtable *vtables;  /* sorted by addr */
	struct types_stats stats;
	char build_id[80];
};

uint32_t types_hash(const char *s, size_t len);

/* The last path segment of a qualified name (after the last "::" that is not
 * inside <...>, (...) or [...]); *base_len is its length without a trailing
 * generic argument list. */
const char *types_last_segment(const char *name, size_t *base_len);

/* Builds the name and segment indexes once types[] and statics[] are final. */
int types_build_indexes(struct types *t, struct err *e);

#endif
