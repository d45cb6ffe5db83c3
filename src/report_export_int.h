/* report_export_int.h: the stacks every export draws (folded stacks, pprof,
 * flame graph), made once from a profile document by report_export.c.  Not
 * part of the public interface.
 *
 * A stack is table; feature; variant; field path segments...; container for
 * each field of each feature (its heap families), and table; feature;
 * [inline] for each feature's slots (its inline bytes).  The variant is the
 * field path's first segment when it names one of the enum's variants (a
 * feature can hold several), the segment's rest ("[*]" of "Map[*]") then
 * being a path frame of its own.
 *
 * Ownership nests: where a field path's prefix is itself the path of an
 * allocation of the same feature (or owner), that allocation's container
 * frame follows the prefix, so what lives inside an Arc or a Vec's buffer
 * is drawn inside it (Model;Arc;w;Vec, names;Vec;[*];String), not beside it.
 *
 * When the profile carries the whole heap (heap.owners), the stacks cover
 * all of it: the tables as one subtree ([tables];table;...; and each
 * table's [containers holding the ops]), then [other owners];OWNER;field
 * path...;container for every other typed owner, and [no typed
 * owner];CLASS for the remainder's classes (chunk bytes and chunks only).
 */
#ifndef AGGOP_REPORT_EXPORT_INT_H
#define AGGOP_REPORT_EXPORT_INT_H

#include "container.h"
#include "report.h"

enum export_frame_kind { EF_TABLE, EF_FEATURE, EF_VARIANT, EF_FIELD, EF_CONTAINER, EF_INLINE, EF_GROUP, EF_OWNER,
			 EF_REST, EF_COUNT };

struct export_frame {
	char *name;
	enum export_frame_kind kind;
};

struct export_stack {
	struct export_frame *frames;   /* root first */
	size_t nframes;
	uint64_t v[REPORT_FAM_COUNT];
};
DEFINE_VECTOR(export_stacks, struct export_stack)

int export_stacks_make(struct export_stacks *out, const struct report_doc *d, struct err *e);
void export_stacks_free(struct export_stacks *s);
const char *export_frame_kind_name(enum export_frame_kind k);

#endif
