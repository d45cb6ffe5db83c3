/* walk_visit.h: walking a container value the decode layer decoded: its
 * allocations reported, its live elements visited or queued (private to the
 * walker). */
#ifndef AGGOP_WALK_VISIT_H
#define AGGOP_WALK_VISIT_H

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

/* Walks a container value: reports its allocations and walks live elements. */
void walk_container(struct walk *w, uint64_t addr, type_id id, const struct dec_type *wt);

/* Runs a queued visit (kind WI_*), the walker's state restored from it. */
void walk_container_item(struct walk *w, const struct witem *it, unsigned kind);

/* Visits the live elements of a container value (no reporting). */
int walk_container_visit(struct walk *w, uint64_t addr, type_id id, const struct dec_type *wt,
		   struct walk_visit *v);

#endif
