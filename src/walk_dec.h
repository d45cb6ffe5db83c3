/* walk_dec.h: the container decoders' entry points (private to the walker). */
#ifndef AGGOP_WALK_DEC_H
#define AGGOP_WALK_DEC_H

#include "walk_int.h"

/* How a decoder's findings are consumed: reported and walked (the profile's
 * walk), or handed element by element to a caller (walk_elements). */
struct walk_visit {
	bool report;
	walk_elem_fn fn;
	void *ctx;
	int rc;          /* non-zero: the caller's fn asked to stop */
	uint64_t nested; /* unreadable counts that arose inside fn, not in the container */
};

/* Recognises a container by its qualified name and fills wt; false when the
 * type is not a known container. */
bool walk_dec_classify(struct walk *w, type_id id, const struct types_type *ty, struct wtype *wt);

/* Reads and validates the header of the container value at addr (a family
 * with a decoder) into v: NULL, or why it is not plausible (v->bad: where). */
const char *walk_dec_decode(struct walk *w, uint64_t addr, const struct wtype *wt, struct wview *v);

/* Bytes from a hashbrown table's allocation to its control bytes (buckets
 * buckets): the one formula, for decode, the walk and root validation. */
uint64_t walk_dec_table_ctrl_off(const struct wtype *wt, uint64_t buckets);

/* Walks a container value: reports its allocations and walks live elements. */
void walk_dec_walk(struct walk *w, uint64_t addr, type_id id, const struct wtype *wt);

/* Runs a queued visit (kind WI_*), the walker's state restored from it. */
void walk_dec_item(struct walk *w, const struct witem *it, unsigned kind);

/* Visits the live elements of a container value (no reporting). */
int walk_dec_visit(struct walk *w, uint64_t addr, type_id id, const struct wtype *wt,
		   struct walk_visit *v);

#endif
