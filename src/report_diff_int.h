/* report_diff_int.h: the diff's rows, shared by the files of the report
 * layer that build (report_diff.c), gate (report_gate.c) and render
 * (report_diff_out.c) it.  Not part of the public interface.
 *
 * A row is one thing both profiles may have: the totals, the per-entity
 * percentiles, the enum, one variant, table, feature, variant field path or
 * container kind.  Its kind fixes which metrics it has; the figure a gate
 * names is "kind[.name].metric".
 */
#ifndef AGGOP_REPORT_DIFF_INT_H
#define AGGOP_REPORT_DIFF_INT_H

#include "container.h"
#include "report.h"

#define DIFF_MAX_METRICS 32

enum diff_kind_id {
	DK_TOTALS, DK_PER_ENTITY, DK_PER_ENTITY_CHUNK, DK_OVERHEAD, DK_HEAP, DK_ENUM,
	DK_ENUM_VARIANT, DK_VARIANT, DK_TABLE, DK_FEATURE, DK_FIELD, DK_CONTAINER, DK_COUNT
};

struct diff_kind {
	const char *prefix;           /* of the figure names: "variant" */
	const char *title;            /* of the markdown section and JSON member */
	const char *const *metrics;
	size_t nmetrics;
	int main_a, main_b;           /* metrics summed into the row's "bytes" (-1: none) */
};
extern const struct diff_kind diff_kinds[DK_COUNT];

enum diff_state { DIFF_SAME, DIFF_CHANGED, DIFF_APPEARED, DIFF_VANISHED };

struct diff_row {
	enum diff_kind_id kind;
	char *key;                    /* kind, '\x1f', name: the row's identity */
	const char *name;             /* inside key; "" for the singleton kinds */
	char *fig;                    /* the figures' stem: "kind[.name]" as dotted tokens (figure_stem) */
	char *sub[2];                 /* feature: table, feature; field: path, container; else NULL */
	bool in[2];                   /* 0 old, 1 new */
	uint64_t v[2][DIFF_MAX_METRICS];
	enum diff_state state;
};
DEFINE_VECTOR(diff_rows, struct diff_row)

struct diff_index_entry {
	const char *key;
	size_t row;
};
static inline const char *diff_index_key(const struct diff_index_entry *e) { return e->key; }
DEFINE_HASH_TABLE(diff_index, struct diff_index_entry, const char *, diff_index_key, container_hash_str,
		  container_eq_str)

struct diff_breach {
	size_t expr;                  /* index into the gate's expressions */
	char *figure;
	char *limit;                  /* the limit as written, with its operator */
	uint64_t old, new_;
};
DEFINE_VECTOR(diff_breaches, struct diff_breach)
DEFINE_VECTOR(diff_strs, char *)

struct report_diff {
	const struct report_doc *doc[2];
	struct diff_rows rows;
	struct diff_index index;
	size_t *order;                /* row indexes: by kind, then |change of bytes| desc, then name */
	bool gated;
	struct diff_strs exprs;       /* the gate's expressions, as written */
	struct diff_breaches breaches;
};

/* The row's "bytes" (its kind's main metrics summed) on side s. */
uint64_t diff_row_bytes(const struct diff_row *r, int s);
/* The figure name of metric m of row r. */
void diff_figure_name(const struct diff_row *r, size_t m, char *buf, size_t size);
/* The change, and the change relative to old (INFINITY when old is 0 and
 * new is not, 0 when both are 0). */
int64_t diff_change(uint64_t old, uint64_t new_);
double diff_relative(uint64_t old, uint64_t new_);
const char *diff_state_name(enum diff_state s);

#endif
