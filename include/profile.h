/* profile.h: attribution of every byte the ops own, and the result model.
 *
 * profile_run finds the root (roots.h), walks the entity tables with the
 * walker, and charges each allocation to (table, entity, feature slot,
 * top-level variant, field path) in the byte families of design.md: inline
 * (size_of the enum, from DWARF), payload (the active variant's fields), slot
 * slack, heap requested / used / usable / chunk.  Containers that hold the ops
 * (the Vec<AggOp> buffers, the maps' tables, the keys' heap) are entity
 * overhead, per table, never mixed into the op figures.  Per-entity bytes are
 * inline + heap requested (beava's definition) and, allocator-level, inline +
 * heap chunk; percentiles are nearest-rank.
 *
 * The target description (which type is the root, where the tables and the
 * registry are, which fields name tables and features) is JSON: the built-in
 * beava one, or --profile FILE.  Without one (--root SYMBOL --enum NAME) every
 * instance of the enum reachable from the root is profiled, an entity being
 * the allocation (or root object) that holds the ops.
 */
#ifndef AGGOP_PROFILE_H
#define AGGOP_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "container.h"
#include "err.h"
#include "heap.h"
#include "image.h"
#include "types_layout.h"
#include "types.h"
#include "version.h"
#include "walk.h"

struct profile_options {
	const char *root;          /* NULL or "auto", SYMBOL, or 0xADDR:TYPE */
	const char *enum_name;     /* default "AggOp" */
	const char *target_file;   /* --profile: target description JSON; NULL = built-in */
	const char *config_file;   /* --config: workload config used for labels */
	bool progress;             /* progress lines on stderr */
	/* The caller's leave to free the census's per-chunk index once the walker
	 * holds its own map (heap_drop_chunks: 8-12 bytes a chunk, ~80 MB on a
	 * core of 9 M chunks): the same heap as profile_run's h, or NULL (the
	 * heap is left whole).  Afterwards the heap still answers its totals and
	 * arenas, not per-chunk queries. */
	struct heap *release_chunks;
};

/* One byte family set. */
struct profile_bytes {
	uint64_t requested, used, usable, chunk, allocations;
};

struct profile_pct {
	uint64_t p50, p99, max;
};

struct profile_field {        /* per (owner, path): owner = variant, slot or (slot, variant) */
	uint32_t path;            /* walk path id */
	uint8_t kind;             /* container kind of the allocations (enum walk_kind): a path
				   * holding several kinds has one field per kind */
	struct profile_bytes b;
};

/* An owner's fields, in the order the report lists them: heap chunk bytes
 * descending, then path name, then container kind (profile_field_cmp). */
DEFINE_VECTOR(profile_fields, struct profile_field)
DEFINE_VECTOR(profile_u64s, uint64_t)

struct profile_variant {
	const char *name;
	uint64_t payload_size;    /* DWARF span of the variant's fields */
	uint64_t count;
	uint64_t inline_bytes, payload_bytes;
	struct profile_bytes heap;
	struct profile_fields fields;
};

/* One variant in one slot (feature) of one table: what recommendations are
 * made for, since a slot may hold several variants across its entities. */
struct profile_cell {
	uint32_t variant;
	uint64_t count;
	uint64_t inline_bytes, payload_bytes;
	struct profile_bytes heap;
	struct profile_pct heap_req_pct;   /* per instance heap requested */
	struct profile_fields fields;
	struct profile_u64s inst_req;      /* per instance heap requested (for percentiles) */
};

DEFINE_VECTOR(profile_cells, struct profile_cell)

struct profile_feature {
	char *name;
	char *op;                 /* op kind from the registry/config, or "" */
	uint64_t window_ms;       /* 0: lifetime */
	uint32_t variant;         /* the variant most instances hold (ties: the lower index) */
	struct profile_cells cells;   /* per variant held, most instances first */
	uint64_t count;
	uint64_t inline_bytes, payload_bytes;
	struct profile_bytes heap;
	struct profile_pct heap_req_pct;   /* per instance heap requested */
	struct profile_pct total_pct;      /* per instance inline + heap requested */
	struct profile_fields fields;
};

DEFINE_VECTOR(profile_features, struct profile_feature)

struct profile_entity_row {   /* the largest entities */
	uint32_t table;
	char key[64];
	uint64_t ops, bytes, chunk_bytes;
	uint64_t shared_refs;     /* references to allocations shared with other entities (kept out of bytes) */
};

/* Allocations (Rc/Arc) shared between entities (holders): reached from ops
 * of more than one entity.  They and everything they own are counted once in
 * the totals (the variant, slot and field of the op that reached them
 * first) and left out of every per-entity figure (percentiles, the largest
 * entities, per-instance percentiles), which therefore do not depend on the
 * order the walk met the holders in. */
struct profile_shared {
	uint64_t allocations;     /* shared allocations reached from several entities */
	uint64_t requested, chunk;   /* their bytes and what they own (nested shared ones included) */
	uint64_t references;      /* references to them from entities other than the first */
	uint64_t holders;         /* entities referencing one */
};

/* One op of the largest entity: its slot and variant, and what it costs
 * (inline + heap requested, and inline + heap chunk). */
struct profile_entity_op {
	uint32_t slot, variant;
	uint64_t bytes, chunk_bytes;
};

DEFINE_VECTOR(profile_entity_ops, struct profile_entity_op)

struct profile_table {
	char *name, *source, *key;
	uint32_t agg_id;
	uint64_t entities, ops;
	uint64_t inline_bytes;
	struct profile_bytes heap;            /* the ops' heap */
	struct profile_bytes overhead;        /* row buffers, map tables, keys */
	struct profile_pct per_entity;        /* inline + heap requested */
	struct profile_pct per_entity_chunk;  /* inline + heap chunk */
	struct profile_features features;     /* by slot */
	struct profile_u64s ent_bytes, ent_chunk;   /* per entity, for percentiles */
};

DEFINE_VECTOR(profile_tables, struct profile_table)

/* ------------------------------------------------ the whole heap
 * (profile_heap.c).  After the tables, the walk goes on from the root state
 * (its other fields) and from every static that can own heap, with the same
 * decoders and byte definitions; each allocation is charged once, to the
 * first owner that reaches it in this order: the tables, the root state's
 * other fields, the statics (in the executable's DWARF order).  What no
 * typed owner reaches is the remainder, classified by what still points at
 * it (a conservative scan of words). */
enum profile_rest_class {
	PROFILE_REST_INTERNAL = 0,   /* allocator-internal: a thread's tcache_perthread_struct */
	PROFILE_REST_STACK,          /* referenced from a thread's stack or registers */
	PROFILE_REST_STATIC,         /* referenced from static memory (.data/.bss: a leaked &'static, stdio buffers) */
	PROFILE_REST_CHUNK,          /* referenced only from other unreached chunks */
	PROFILE_REST_NOWHERE,        /* referenced from nowhere scanned: leak candidates */
	PROFILE_REST_COUNT
};
const char *profile_rest_name(enum profile_rest_class c);

#define PROFILE_SIZE_CLASSES 7   /* <= 64, 256, 1 KiB, 4 KiB, 64 KiB, 1 MiB, more */
const char *profile_size_class_name(unsigned k);

/* Which kind of owner a row is (its JSON "group"): the tables are one row of
 * their own in the report, never an owner row. */
enum profile_owner_group {
	PROFILE_OWNER_TABLES = 0,
	PROFILE_OWNER_ROOT = 1,      /* the root state's other fields, the root's own allocations */
	PROFILE_OWNER_STATIC = 2,    /* a static (behind OnceLock, LazyLock, Mutex...) */
	PROFILE_OWNER_STACK = 3,     /* a value on a thread's stack beside the root's Arc */
};
/* "tables", "root", "static", "stack" */
const char *profile_owner_group_name(enum profile_owner_group g);

/* One owner path: "AppState > wal > ring (Vec)", "static REGISTRY > ...". */
struct profile_owner {
	char *name;               /* the whole row's name */
	char *owner;              /* "AppState", "static REGISTRY" */
	uint32_t path;            /* the field path below the owner (walk_path_name) */
	uint8_t kind;             /* the container (enum walk_kind) */
	uint8_t group;            /* enum profile_owner_group */
	struct profile_bytes b;
};
DEFINE_VECTOR(profile_owners, struct profile_owner)

struct profile_rest_row {    /* one (class, arena, size class) of the remainder */
	uint8_t cls, size_class;
	uint16_t arena;          /* HEAP_NO_ARENA: mmapped */
	uint64_t chunks, bytes;
};
DEFINE_VECTOR(profile_rest_rows, struct profile_rest_row)

struct profile_rest_chunk {  /* one of the largest chunks of a class */
	uint64_t mem, size;
};
#define PROFILE_REST_TOP 5

struct profile_whole {
	bool done;                       /* the whole-heap pass ran */
	uint64_t in_use_chunk_bytes;     /* the census's in-use chunks (mmapped included) */
	uint64_t tables_chunk_bytes;     /* the tables (ops + overhead), census chunks only */
	uint64_t owners_chunk_bytes;     /* every other typed owner */
	uint64_t accounted_chunk_bytes;  /* tables + owners */
	uint64_t unaccounted_chunk_bytes;   /* the remainder: in-use chunks no typed owner reached */
	uint64_t outside_census_bytes;   /* reached allocations the census did not list (not in either) */
	uint64_t shared_revisits, shared_bytes;   /* Rc/Arc reached again by a later owner (charged once) */
	uint64_t statics_walked;
	uint64_t cls_bytes[PROFILE_REST_COUNT], cls_chunks[PROFILE_REST_COUNT];
	struct profile_rest_chunk top[PROFILE_REST_COUNT][PROFILE_REST_TOP];
	struct profile_rest_rows rows;   /* by class, arena, size class */
	struct profile_owners owners;    /* by chunk bytes descending, then name */
	double seconds;                  /* the pass: owners' walk and the remainder's scan */
};

struct profile {
	/* what was profiled */
	const char *enum_name;    /* qualified */
	uint64_t enum_size, enum_align;
	struct profile_variant *variants;     /* every variant of the enum, DWARF order */
	size_t nvariants;
	struct types_layout_enum layout;      /* the enum's layout (the layout advisor) */
	/* root */
	char root_how[1024];
	uint64_t root_addr;
	char root_type[256];
	/* the root's own allocations, counted once on their own line: a heap
	 * root's ArcInner, the owning pointers on the target's path to its
	 * tables and the tables container's buffer (or, for a generic root that
	 * is split into tables, the root container's buffer) */
	uint64_t root_alloc_count, root_alloc_requested, root_alloc_chunk;
	char target_name[64];     /* "beava" or "generic" */
	bool generic;             /* --root without a target: holders and slots, not entities and features */
	bool split_tables;        /* generic: the root held several table-like values, one table each */
	/* results */
	struct profile_tables tables;
	uint64_t entities, ops, inline_bytes, payload_bytes;
	struct profile_bytes heap;            /* ops only */
	struct profile_bytes overhead;        /* all tables */
	struct profile_pct per_entity, per_entity_chunk;
	struct profile_entity_row largest[10];
	size_t nlargest;
	struct profile_entity_ops largest_ops;   /* the ops of largest[0], in slot order */
	uint64_t heap_in_use_chunk_bytes;     /* census, program's view */
	uint64_t entity_count_static;         /* the process's own counter, if found; UINT64_MAX if not */
	struct walk_stats walk;
	struct version_facts versions;        /* what the layers detected (profile_add_versions) */
	struct walk *walker;                  /* for path names */
	double seconds;                       /* the whole profile: root search, labels, walk */
	double walk_seconds;                  /* the walk of the tables alone */
	struct profile_whole whole;           /* the whole heap (profile_heap.c) */
	struct profile_shared shared;         /* shared between entities */
};

/* Finds the root, walks it and fills *out.  img, t and h are read and left
 * as the caller passed them (h may be NULL: no census), unless
 * opt->release_chunks gives the census's chunk index away.
 *
 * Lifetimes: the profile borrows from t (the enum's and variants' names,
 * the layout) and owns a walker that reads img, t and h (path names), so it
 * must be freed (profile_free) before the types, the heap and the image are
 * closed.  A report document (report_doc_build, include/report.h) copies
 * what it needs and outlives all of them. */
int profile_run(struct profile **out, const struct image *img, const struct types *t,
		const struct heap *h, const struct profile_options *opt, struct err *e);
/* Frees p and its walker; call it before closing the types, heap and image
 * p was made from. */
void profile_free(struct profile *p);

/* The walker the profile owns (NULL for a profile made by hand): what names
 * its field paths (walk_path_name) and lists the heap no decoder owned.
 * Read by the report document's builder (report_build.c) only; valid until
 * profile_free. */
const struct walk *profile_walker(const struct profile *p);

/* dst = src's plain members (figures, inline arrays, the root's text);
 * every member src owns or points at is left empty in dst: no walker, no
 * variants, layout variants, tables, largest ops, versions, owners or rest
 * rows.  enum_name and layout.name still point where src's do (into the
 * types): a copy that outlives them replaces both.  Kept beside
 * profile_free, which frees exactly what is emptied here. */
void profile_copy_plain(struct profile *dst, const struct profile *src);

/* Appends the version facts a layer detected (heap_versions, types_versions,
 * walk_versions) to p->versions, a fact already recorded with the same value
 * kept once (as version_note does).  ERR_NOMEM when memory runs out. */
int profile_add_versions(struct profile *p, const struct version_facts *f, struct err *e);

/* Nearest-rank percentile of n values (sorted in place). */
uint64_t profile_percentile(uint64_t *v, size_t n, unsigned pct);

/* The order of an owner's fields (see struct profile_fields); w names the
 * paths.  A qsort_r comparator. */
int profile_field_cmp(const void *a, const void *b, void *w);

#endif
