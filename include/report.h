/* report.h: renderings of a profile (markdown and JSON), the metrics
 * coherence check, the recommendation rules, and the `layout` command's
 * rendering of one type's layout.
 *
 * The rules are data the report prints, so a reader can see why an offender
 * got its recommendation (report_rules).
 */
#ifndef AGGOP_REPORT_H
#define AGGOP_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "err.h"
#include "profile.h"
#include "types.h"

struct report_meta {
	const char *core, *exe;
	const char *core_kind;      /* "gcore" / "kernel" */
	uint64_t core_size;
	const char *build_id;
	double seconds;             /* whole run */
};

struct report_metrics {
	bool have;
	const char *file;
	double metric;              /* beava_bytes_per_entity_p99 as scraped */
	uint64_t measured;          /* the profile's per-entity p99 */
	double tolerance;
	double relative;            /* |metric - measured| / measured */
	bool diverged;
};

/* Reads a saved Prometheus scrape and compares bytes_per_entity_p99 (any
 * metric whose name ends so) with the profile.  ERR_INPUT when the file or
 * the metric is missing. */
int report_metrics_check(const char *file, const struct profile *p, double tolerance,
			 struct report_metrics *out, struct err *e);

/* A recommendation for one feature: "keep", "box smaller", "shrink",
 * "allocate lazily", "restructure", with the rule that fired. */
struct report_advice {
	const char *verdict;
	const char *rule;
	char why[200];
};
void report_advise(const struct profile *p, const struct profile_table *tb,
		   const struct profile_feature *f, struct report_advice *out);
/* The rules, one per line, as printed in the report. */
extern const char *const report_rules[];

/* Bytes the walk reached but could not attribute exactly (unreadable
 * headers, pages missing from the core, heap behind raw pointers no decoder
 * owns): true when there are any.  The report names them by reason, main
 * warns on stderr, and --strict turns them into exit 4. */
bool report_has_unattributed(const struct profile *p);
/* One line for stderr saying what was not attributed (no newline). */
void report_unattributed_line(const struct profile *p, char *buf, size_t size);

int report_markdown(FILE *out, const struct profile *p, const struct report_meta *m,
		    const struct report_metrics *mx, struct err *e);
int report_json(FILE *out, const struct profile *p, const struct report_meta *m,
		const struct report_metrics *mx, struct err *e);

/* Prints the layout of any type (enum, struct, union, C enumeration, or just
 * size and alignment for the rest) as text or as JSON (types_layout.h has
 * the definitions). */
int report_layout_print(FILE *out, const struct types *t, type_id id, bool json, struct err *e);

/* `aggop-inspect layout EXE TYPE [--json]`: opens exe's types, looks TYPE up
 * (qualified, or by last path segment) and prints its layout. */
int report_layout_run(FILE *out, const char *exe, const char *debug_file, const char *type, bool json,
		      struct err *e);

#endif
