/* profile_int.h: the profile layer's private pieces (target description,
 * labels read from the core), shared by profile*.c only. */
#ifndef AGGOP_PROFILE_INT_H
#define AGGOP_PROFILE_INT_H

#include "profile.h"

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

#endif
