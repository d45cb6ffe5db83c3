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

#endif
