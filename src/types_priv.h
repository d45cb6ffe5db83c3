/* types_priv.h: the types layer's private state, shared by its files:
 *
 *   types.c          open/close: which file to index, then read and merge
 *   types_file.c     the ELF file: opening it for libdwarf, its build-id,
 *                    where separate debug info lives
 *   types_dwarf.c    reading DIEs into raw types and statics (libdwarf)
 *   types_merge.c    merging per-CGU copies into one type per layout,
 *                    resolving stubs, sizes, alignments, static de-dup
 *   types_producer.c the rustc version from DW_AT_producer
 *   types_index.c    the name indexes (a string -> ids multimap)
 *   types_query.c    answering lookups
 *
 * Nothing outside src/types*.c includes this.
 *
 * Every string and array the public structs point to lives in one arena that
 * types_close frees in one go, so the index is a handful of big allocations
 * rather than one per DIE.
 */
#ifndef AGGOP_TYPES_PRIV_H
#define AGGOP_TYPES_PRIV_H

#include <libdwarf/libdwarf.h>

#include "container.h"
#include "types.h"
#include "version.h"

/* Deeper nesting than this is treated as corrupt input rather than recursed. */
#define TYPES_MAX_DEPTH 64

/* ---------------------------------------------------------------- arena */

struct types_arena_block;

struct types_arena {
	struct types_arena_block *head;
	size_t used, cap; /* of head */
};

void *types_arena_alloc(struct types_arena *a, size_t size);
char *types_arena_strdup(struct types_arena *a, const char *s, size_t len);
void types_arena_free(struct types_arena *a);

/* -------------------------------------------------------- name indexes */

/* A string key that need not be NUL-terminated where it ends (a name's last
 * segment without its generic arguments). */
struct types_strkey {
	const char *s;
	size_t len;
};

/* Names are hashed for every type DIE (13k in beava-sim, 10^5 and more in a
 * big binary), and container_hash_bytes's byte-at-a-time FNV-1a showed up in
 * the profile: this takes 8 bytes per multiply, then finalises. */
static inline uint64_t types_hash_bytes(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n, w;
	for (; n >= 8; s += 8, n -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 29;
	}
	w = 0;
	memcpy(&w, s, n);
	return container_hash_u64(h ^ w);
}

/* Mixed into a type's name hash for its kind (the merge keys on both). */
#define TYPES_KIND_SALT 0x9e3779b97f4a7c15ull

static inline uint64_t types_hash_str(const char *s)
{
	return types_hash_bytes(s, strlen(s));
}

static inline uint64_t types_strkey_hash(struct types_strkey k)
{
	return types_hash_bytes(k.s, k.len);
}

static inline bool types_strkey_eq(struct types_strkey a, struct types_strkey b)
{
	return a.len == b.len && !memcmp(a.s, b.s, a.len);
}

/* One key of a multimap: its ids form a chain first -> next[first] -> ... -> last. */
struct types_mm_slot {
	struct types_strkey key;
	uint32_t first, last;
};
#define TYPES_MM_SLOT_KEY(e) ((e)->key)
DEFINE_HASH_TABLE(types_mm_table, struct types_mm_slot, struct types_strkey, TYPES_MM_SLOT_KEY,
		  types_strkey_hash, types_strkey_eq)
DEFINE_VECTOR(types_u32_vec, uint32_t)
DEFINE_VECTOR(types_u64_vec, uint64_t)

/* A multimap from strings to ids 1..n, each id under at most one key, listed
 * in the order they were added. */
struct types_multimap {
	struct types_mm_table keys;
	struct types_u32_vec next; /* [n + 1]: the id after this one under its key, 0 ends */
};

bool types_multimap_init(struct types_multimap *m, size_t n);
void types_multimap_deinit(struct types_multimap *m);
bool types_multimap_add(struct types_multimap *m, struct types_strkey key, uint32_t id);
/* The first id under key (0 if none); then types_multimap_next(m, id). */
uint32_t types_multimap_first(const struct types_multimap *m, struct types_strkey key);
static inline uint32_t types_multimap_next(const struct types_multimap *m, uint32_t id)
{
	return m->next.data[id];
}

/* ------------------------------------------------------ the index itself */

struct types_vtable {
	uint64_t addr;
	type_id type;
};

/* What DW_AT_producer said about rustc: the release most CUs came from. */
struct types_rustc {
	bool found;
	unsigned major, minor, patch;
};

struct types {
	struct types_arena arena;
	size_t ntypes;                 /* ids are 1..ntypes */
	struct types_type *types;      /* [ntypes + 1], [0] is void */
	type_id *containing;           /* [ntypes + 1]: DW_AT_containing_type */
	struct types_multimap by_segment; /* last segment without generic args */
	struct types_u64_vec name_hash;   /* [ntypes + 1]: types_hash_str(name) */
	size_t nstatics;
	struct types_static *statics;
	struct types_multimap statics_by_segment; /* over static index + 1 */
	struct types_u64_vec static_hash;         /* [nstatics + 1] */
	size_t nvtables;
	struct types_vtable *vtables;  /* sorted by addr */
	struct types_stats stats;
	struct types_rustc rustc;
	struct version_facts versions;
	char build_id[80];
	char debug_source[640];        /* where the DWARF came from (types_debug_source) */
};

/* The last path segment of a qualified name (after the last "::" that is not
 * inside <...>, (...) or [...]); *base_len is its length without a trailing
 * generic argument list. */
const char *types_last_segment(const char *name, size_t *base_len);

/* Builds the name and segment indexes once types[] and statics[] are final. */
int types_build_indexes(struct types *t, struct err *e);
void types_free_indexes(struct types *t);

/* ------------------------------------------------ raw DIEs (read, merge) */

/* A type as read from one DIE: references are still global .debug_info
 * offsets (0 = none), so DW_FORM_ref_addr across CUs needs nothing special. */
struct types_rmember {
	const char *name;
	uint64_t type_off;
	uint64_t offset;
	bool artificial;
};

struct types_rtparam {
	const char *name;
	uint64_t type_off;
};

struct types_rvariant {
	const char *name;
	uint64_t type_off;
	uint64_t offset;
	bool has_discr;
	uint64_t discr;
};

struct types_raw {
	struct types_type t;          /* name, kind, size, encoding, count, ... */
	uint64_t name_hash;           /* types_hash_str(name) ^ kind * TYPES_KIND_SALT,
					 hashed while the name is hot */
	uint64_t target_off, containing_off, tag_type_off, tag_offset;
	bool has_size, has_align, has_vpart, vpart_has_tag;
	uint32_t nmembers, ntparams, nvariants;
	struct types_rmember *members;
	struct types_rtparam *tparams;
	struct types_rvariant *variants;
};

struct types_rstatic {
	const char *name, *linkage_name;
	uint64_t addr, type_off;
	uint64_t name_hash;
};

/* One rustc release named by DW_AT_producer, and how many CUs name it. */
struct types_producer {
	unsigned major, minor, patch;
	size_t cus;
	const char *text; /* the first producer string naming it, in the arena */
};

DEFINE_VECTOR(types_raw_vec, struct types_raw)
DEFINE_VECTOR(types_rstatic_vec, struct types_rstatic)
DEFINE_VECTOR(types_producer_vec, struct types_producer)

/* What reading the DWARF hands to merging. */
struct types_build {
	struct types *t;
	struct err *e;
	struct types_raw_vec raws;       /* in DIE order */
	struct types_rstatic_vec statics;
	struct types_producer_vec producers;
	size_t dies, cus, unresolved;
	size_t rustc_cus;                /* CUs whose producer names rustc */
};

void types_build_deinit(struct types_build *b);
int types_build_nomem(struct types_build *b);

/* types_dwarf.c: reads every CU of dbg into b. */
int types_dwarf_read(struct types_build *b, Dwarf_Debug dbg);
/* True when at least one struct, union or base type was read: a build with
 * debuginfo "limited" or line tables only has CUs but no types. */
bool types_dwarf_has_types(const struct types_build *b);

/* types_merge.c: turns b's raws and statics into t's types[], statics[] and
 * vtables[], then builds the name indexes. */
int types_merge(struct types_build *b);

/* types_producer.c: tallies one CU's DW_AT_producer (b->rustc_cus counts
 * those naming rustc); then, once every CU is read, picks the rustc release
 * and records it in t->rustc and t->versions. */
int types_producer_add(struct types_build *b, const char *producer);
int types_producer_settle(struct types_build *b);

/* ------------------------------------------------------------- the file */

/* An ELF file opened for libdwarf. */
struct types_file {
	int fd;
	Dwarf_Debug dbg;
	char build_id[80]; /* lowercase hex, "" if none */
};

/* ERR_NOTFOUND when path is missing or has no DWARF (the caller then tries
 * the next candidate), ERR_IO on other open failures. */
int types_file_open(struct types_file *f, const char *path, struct err *e);
void types_file_close(struct types_file *f);
/* ROOT/.build-id/xx/rest.debug for a build-id; false when id is too short
 * to name one or the path does not fit. */
bool types_file_debug_path(const char *root, const char *id, char *out, size_t n);
/* types_debuginfo.c: the .gnu_debuglink of an ELF file (name and CRC32);
 * whether a file's CRC32 is want; whether an ELF file has a .debug_info
 * section with contents (false: stripped); a debug file by build-id from
 * debuginfod (0 and its cached path, or ERR_NOTFOUND and why in why). */
bool types_debuglink(const char *path, char *name, size_t namesz, uint32_t *crc);
bool types_crc_matches(const char *path, uint32_t want);
bool types_has_debug_info(const char *path);
int types_debuginfod(const char *build_id, bool progress, char *path, size_t pathsz, char *why, size_t whysz);

/* The GNU build-id of an ELF file (hex, "" if none); false when it cannot
 * be opened. */
bool types_file_build_id(const char *path, char *out, size_t outsz);

#endif
