/* profile_int.h: the profile layer's private pieces, shared by profile*.c
 * only: the target description and the labels read from the core
 * (profile_target.c), the whole-heap pass (profile_heap.c), the state of one
 * run and the functions each file offers the driver (profile.c):
 * attribution (profile_attr.c), the target's walk (profile_target.c),
 * generic mode (profile_generic.c), diagnostics (profile_diag.c). */
#ifndef AGGOP_PROFILE_INT_H
#define AGGOP_PROFILE_INT_H

#include "profile.h"

#include <time.h>

#define TARGET_MAX_MAPS 8
#define LABEL_MAX_FEATURES 256   /* per table; more are named "slot N" */

struct target {
	char *name, *enum_name, *root_type, *tables, *registry, *entity_count_static;
	char *maps[TARGET_MAX_MAPS];
	size_t nmaps;
	char *d_agg_id, *d_name, *d_source, *d_key, *d_features, *d_feature_name, *d_feature_op,
		*d_feature_window;
};

struct label_feature {
	char *name, *op;
	uint64_t window_ms;
};

struct label_table {
	uint64_t agg_id;
	char *name, *source, *key;
	struct label_feature features[LABEL_MAX_FEATURES];
	size_t nfeatures;
};

DEFINE_VECTOR(label_tables, struct label_table)

int target_load(struct target *tg, const char *file, struct err *e);
void target_free(struct target *tg);

/* Follows a dotted member path from a value, seeing through wrappers. */
int target_path(struct walk *w, const struct types *t, uint64_t addr, type_id ty, const char *path,
		uint64_t *oa, type_id *ot, struct err *e);

/* Table and feature names from the registry in the core, appended to *out
 * (initialised by the caller, freed with target_labels_free). */
/* The allocations on the way along path from (addr, ty): at each step the
 * owning pointer (Arc, Box) the member is, and the container the path ends
 * at (its buffer).  fn is called once per allocation (mem, requested). */
typedef void (*target_alloc_fn)(void *ctx, uint64_t mem, uint64_t requested);
int target_path_allocs(struct walk *w, const struct types *t, uint64_t addr, type_id ty, const char *path,
		       target_alloc_fn fn, void *ctx, struct err *e);

int target_labels(struct walk *w, const struct types *t, const struct target *tg, uint64_t root,
		  type_id root_type, struct label_tables *out, struct err *e);
/* Frees every label and empties l. */
void target_labels_free(struct label_tables *l);

/* Labels from a workload config file (fraud-team.json shape), in table
 * order, appended to *out. */
int target_config_labels(const char *file, struct label_tables *out, struct err *e);
/* --config FILE read and checked up front: a file that is not JSON, or holds
 * no derivation node, is refused (ERR_INPUT) rather than ignored. */
int target_config_check(const char *file, struct err *e);

/* ------------------------------------------------ the whole heap
 * (profile_heap.c): the state of the pass over the other owners.  What the
 * pass reaches is walked with tags PROFILE_OWNER_TAG | owner (0 the root
 * state, 1 + i the static i), so that on_alloc hands it here. */
#define PROFILE_OWNER_TAG 0x40000000u

struct wh_arena {            /* a span of the heap and its arena, from the census */
	uint64_t start, end;
	uint16_t arena;
};
DEFINE_VECTOR(wh_arenas, struct wh_arena)

struct wh_acc {
	uint64_t key;            /* owner << 32 | path */
	uint32_t kind;
	struct profile_bytes b;
};
struct wh_key {
	uint64_t key;
	uint32_t kind;
};
static inline struct wh_key wh_acc_key(const struct wh_acc *a) { return (struct wh_key){a->key, a->kind}; }
static inline uint64_t wh_hash(struct wh_key k) { return container_hash_u64(k.key ^ ((uint64_t)k.kind << 59)); }
static inline bool wh_eq(struct wh_key a, struct wh_key b) { return a.key == b.key && a.kind == b.kind; }
DEFINE_HASH_TABLE(wh_acc_table, struct wh_acc, struct wh_key, wh_acc_key, wh_hash, wh_eq)

struct wh {
	struct wh_arenas arenas;
	struct wh_acc_table accs;
	uint64_t tables_outside_census;   /* the tables' allocations the census did not list */
	uint64_t owners_outside_census;
	bool failed;
};

void wh_init(struct wh *wh);
void wh_deinit(struct wh *wh);
/* The census's spans of each arena, taken before its chunk index is dropped. */
int wh_arenas_take(struct wh *wh, const struct heap *h);
/* An allocation reached by the pass (its tag carries PROFILE_OWNER_TAG). */
void wh_charge(struct wh *wh, const struct walk_alloc *a);
/* The pass: walks the root state's other fields (walk_root), the tables'
 * structs (the elements at tables_path from the root, when not NULL) and the
 * statics (every one that can own heap but the one at skip), charges them,
 * classifies the remainder and fills p->whole.  The walker's callbacks
 * must hand owner-tagged allocations to wh_charge. */
int wh_run(struct wh *wh, struct profile *p, const struct image *img, const struct types *t,
	   uint64_t root_addr, type_id root_type, bool walk_root, const char *tables_path, uint64_t skip,
	   struct err *e);

/* ------------------------------------------------- the run
 * (profile_attr.c): the state of one profile_run, shared by the files that
 * make it up: attribution (profile_attr.c), the target's walk
 * (profile_target.c), generic mode (profile_generic.c), diagnostics
 * (profile_diag.c) and the driver (profile.c).  Only profile_attr.c reads
 * or writes the accumulators; the others use r->p, r->w, r->t, r->failed and
 * the attr_ functions below. */

/* Tables and slots share one key word in the field accumulator. */
#define MAX_TABLES 32767u


/* One (owner, field path, container kind) sum.  During the walk the owner
 * is a cell (table, slot, variant: its index in run.cells); when the walk is
 * over, the sums are merged into per-variant and per-slot sums keyed by
 * OWNER_VARIANT and OWNER_FEATURE.  The kind is part of the key: one path
 * can hold several kinds (a BTreeMap's leaf and internal nodes). */
struct facc_key {
	uint64_t op;        /* owner << 32 | path */
	uint32_t kind;
};
struct facc {
	struct facc_key key;
	struct profile_bytes b;
};

static inline struct facc_key facc_key_of(const struct facc *a) { return a->key; }
static inline uint64_t facc_hash(struct facc_key k) { return container_hash_u64(k.op ^ ((uint64_t)k.kind << 59)); }
static inline bool facc_eq(struct facc_key a, struct facc_key b) { return a.op == b.op && a.kind == b.kind; }
DEFINE_HASH_TABLE(facc_table, struct facc, struct facc_key, facc_key_of, facc_hash, facc_eq)

/* A direct-mapped cache of accumulators by (cell, path, kind), in front of
 * the hash table: the cells and paths a walk meets are few, so on_alloc
 * usually skips the hash lookup.  An entry is valid while gen equals the
 * table's rehashes + 1: a rehash moves every accumulator (the pointer goes
 * stale), and a new entry, zero-filled, is never valid. */
#define FCACHE_SIZE 4096u
struct fcache {
	uint64_t gen;
	uint32_t cell, kind, path;
	struct facc *f;
};
DEFINE_VECTOR(fcache_vec, struct fcache)

/* A cell: one variant in one slot of one table (struct profile_cell), by
 * the run's own index; where its sums live. */
struct cellref {
	uint32_t table, slot, variant, index;   /* index in the feature's cells */
	/* the heap charged since the last flush (attr_flush): added then to the
	 * cell and to its feature, table, variant and the totals, so that an
	 * allocation costs one sum, not five */
	struct profile_bytes pend;
};
DEFINE_VECTOR(cellrefs, struct cellref)
struct cellid {
	uint64_t key;       /* table << 48 | slot << 32 | variant */
	uint32_t id;        /* index in run.cells */
};
static inline uint64_t cellid_key(const struct cellid *c) { return c->key; }
DEFINE_HASH_TABLE(cellid_table, struct cellid, uint64_t, cellid_key, container_hash_u64, container_eq_u64)

/* The entities and ops met so far: an op's heap arrives after the op, in
 * address order, and is charged through the op's token (its index in ops). */
struct oprec {
	uint32_t ent;
	uint32_t cell;
	uint64_t requested;
};
DEFINE_VECTOR(oprecs, struct oprec)

struct entrec {
	uint64_t holder, key_addr, bytes, chunk, ops;
	uint64_t shared_refs;     /* references to allocations shared with other entities */
	type_id key_type;
	uint32_t table;
};
DEFINE_VECTOR(entrecs, struct entrec)

/* A shared (Rc/Arc) allocation met inside an op, and what it owns: its
 * contents carry the token SHADOW_BASE + its index (walk_callbacks'
 * on_shared), so that once the walk is over the bytes of one reached from
 * several entities can be left out of the per-entity figures. */
#define SHADOW_BASE (1u << 30)
struct shadow {
	uint64_t mem;
	uint64_t requested, chunk;   /* its own bytes and its direct contents' (not nested shadows') */
	uint32_t op;                 /* the op (a real one) it was reached from first */
	uint32_t parent;             /* the shadow it lies in, or UINT32_MAX */
	uint32_t ent;
	bool multi;                  /* reached again from another entity */
};
DEFINE_VECTOR(shadows, struct shadow)
struct shadow_at {
	uint64_t mem;
	uint32_t index;
};
static inline uint64_t shadow_at_key(const struct shadow_at *s) { return s->mem; }
DEFINE_HASH_TABLE(shadow_index, struct shadow_at, uint64_t, shadow_at_key, container_hash_u64, container_eq_u64)

struct run {
	struct profile *p;
	struct walk *w;
	const struct types *t;
	struct err *e;
	int failed;
	struct facc_table accs;
	struct fcache_vec fc;
	struct cellrefs cells;
	struct cellid_table cellids;
	uint64_t outside_kinds[WALK_KIND_COUNT];   /* allocations reached outside every op, by kind */
	uint64_t outside_requested;
	uint32_t table;           /* the table whose roots are being queued */
	struct oprecs ops;
	struct entrecs ents;
	bool progress;
	time_t last_progress;
	uint64_t pend_allocs;     /* allocations charged to cells since the flush (for progress) */
	struct wh wh;             /* the whole-heap pass (profile_heap.c) */
	struct shadows shadows;
	struct shadow_index shadow_idx;
};

#define OWNER_VARIANT(v) ((uint64_t)(v))
#define OWNER_FEATURE(t, s) ((1ull << 31) | ((uint64_t)(t) << 16) | (uint64_t)(s))

/* The walker's callbacks that charge what the walk reports to r. */
struct walk_callbacks attr_callbacks(struct run *r);
/* The table a walk tag names (tags are table indices; 0 if out of range). */
struct profile_table *attr_table_at(struct run *r, uint32_t tag);
/* A new table of p; ERR_NOMEM when memory runs out. */
int attr_add_table(struct profile *p, const char *name, const char *source, const char *key, uint32_t agg_id);
/* The feature columns a label names, in slot order. */
int attr_label_features(struct profile_table *tb, const struct label_table *lt);
/* A map key as text: a string, a number, or its address. */
void attr_read_key(struct run *r, uint64_t key_addr, type_id key_type, char *buf, size_t size);
/* Runs everything queued and charges it (r->failed on running out of memory). */
void attr_drain_and_close(struct run *r);
/* The walk is over: percentiles, the field sums merged per variant and
 * slot, every owner's fields in report order. */
void attr_finish(struct run *r);
void attr_run_deinit(struct run *r);

/* ------------------------------------------------- root validation */

struct vctx {
	struct walk *w;
	const struct types *t;
	const struct target *tg;
	type_id enum_id;          /* generic --root 0xADDR: the type must reach it */
};

/* ------------------------------------------------- the target
 * (profile_target.c) */

/* A root candidate of the target holds together: the candidate, its tables
 * vector, every table's entity maps and the registry (roots_validate_fn). */
int target_validate_root(void *ctx, uint64_t addr, type_id ty, uint64_t *key, struct err *e);
/* The executable is the target's (root type, first member of the path to
 * the tables, --enum if any names the target's enum). */
bool target_in_exe(const struct types *t, const struct target *tg, const struct profile_options *opt);
/* An address root keeps the built-in target's mode. */
bool target_mode_fits(const struct types *t, const struct target *tg, const struct profile_options *opt);
/* The target's walk from its root: labels (the registry, else --config),
 * every table's entity maps queued under the table's tag, one pass over the
 * heap for all.  A failure recorded in r->failed is the caller's to report. */
int target_walk(struct run *r, const struct target *tg, uint64_t root_addr, type_id root_type,
		struct label_tables *labels, const struct profile_options *opt, struct err *e);

/* ------------------------------------------------- generic mode
 * (profile_generic.c) */

/* Which types can hold a value of a type (through members, variants,
 * template parameters, pointers, arrays), by type id: REACH_YES / REACH_NO,
 * REACH_BUSY while being looked at (a cycle counts as no). */
enum { REACH_BUSY = 1, REACH_YES, REACH_NO };
struct reach {
	uint64_t id;
	int state;
};
static inline uint64_t reach_key(const struct reach *r) { return r->id; }
DEFINE_HASH_TABLE(reach_memo, struct reach, uint64_t, reach_key, container_hash_u64, container_eq_u64)


/* A type of the standard library or of a container crate. */
bool generic_std_type(const char *name);
bool generic_reaches(const struct types *t, type_id ty, type_id want, struct reach_memo *m, unsigned depth);
/* Generic --root 0xADDR: the chunk's value holds together and can hold the
 * enum (roots_validate_fn). */
int generic_validate(void *ctx, uint64_t addr, type_id ty, uint64_t *key, struct err *e);
/* Generic mode without a static named: the one place the enum's values
 * live (its name in name), or an error listing the candidates. */
struct roots_result;
int generic_discover_root(struct run *r, const struct image *img, const struct heap *h, struct vctx *v,
			  type_id exact, struct roots_result *root, char *name, size_t namesize);
/* The enum to profile in generic mode: --enum, or the target's when the
 * executable has it; else a usage error naming candidates. */
int generic_enum(const struct types *t, const struct target *tg, const struct profile_options *opt,
		 const char **out, struct err *e);
/* A generic root split into one table per element (a container or array
 * of table-like values). */
bool generic_splits(const struct types *t, const struct roots_result *root, type_id enum_id);
/* Queues the generic root: one table per element when it splits, else one
 * table named by the root. */
int generic_queue(struct run *r, const struct profile_options *opt, const struct roots_result *root,
		  type_id enum_id, struct err *e);

/* ------------------------------------------------- diagnostics
 * (profile_diag.c): the errors that tell the user what to name instead */

/* "A, B and 3 more": the statics whose type can hold the enum; "" when none. */
void diag_statics_holding(const struct types *t, const char *enum_name, char *buf, size_t size);
/* Without --root on an executable without the target's root type: a usage
 * error saying how to name a generic root; 0 when the root type is there. */
int diag_target_root_missing(const struct types *t, const struct target *tg, const struct profile *p,
			     const struct profile_options *opt, struct err *e);
/* A generic root that reached no value of the enum: what it did reach. */
int diag_reached_nothing(const struct run *r, const struct profile_options *opt, struct err *e);
/* A generic --root naming no static: the statics that could be meant
 * (rewrites e); rc unchanged otherwise. */
int diag_no_such_static(const struct types *t, const struct profile *p, const struct profile_options *opt,
			const char *enum_name, int rc, struct err *e);

#endif
