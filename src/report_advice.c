/* report_advice.c: the recommendation rules and the metrics coherence check.
 *
 * Rules are checked in order; the first that fires gives the verdict.  They
 * look only at what the snapshot shows for one feature across its entities.
 */
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N(x) report_num((char[32]){0}, 32, (uint64_t)(x))

const char *const report_rules[] = {
	"R1 allocate lazily: the field path holding the most chunk bytes has under 10% of its requested bytes "
	"live (preallocated capacity that is never used)",
	"R2 shrink or restructure: capacity slack plus allocator overhead is over half of the chunk bytes",
	"R3 box smaller: the inline payload fills at least 60% of the enum slot and the feature is present in "
	"most entities, so every other variant pays for it",
	"R4 restructure: the feature owns more than 4 heap allocations per instance on average "
	"(per-bucket or per-element boxing; fan-out dominates)",
	"R5 keep: none of the above",
	NULL,
};

struct report_owner report_owner_cell(const struct profile_cell *c)
{
	return (struct report_owner){c->count, c->payload_bytes, c->heap, &c->fields};
}

struct report_owner report_owner_feature(const struct profile_feature *f)
{
	return (struct report_owner){f->count, f->payload_bytes, f->heap, &f->fields};
}

void report_advise(const struct profile *p, const struct profile_table *tb,
		   const struct report_owner *ow, struct report_advice *out)
{
	const struct profile_bytes *h = &ow->heap;
	uint64_t payload = ow->count ? ow->payload_bytes / ow->count : 0;
	const struct profile_field *top = NULL;
	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < ow->fields->len; i++)
		if (!top || ow->fields->data[i].b.chunk > top->b.chunk)
			top = &ow->fields->data[i];
	out->path = top ? top->path : UINT32_MAX;
	if (top && top->b.requested > 0 && top->b.used * 10 < top->b.requested) {
		out->verdict = "allocate lazily";
		out->rule = "R1";
		out->pattern = "preallocated capacity";
		snprintf(out->why, sizeof out->why, "%.100s: %s of %s requested bytes hold live elements",
			 p->walker ? walk_path_name(p->walker, top->path) : "?", N(top->b.used), N(top->b.requested));
		return;
	}
	uint64_t waste = (h->requested - h->used) + (h->chunk - h->requested);
	if (h->chunk > 0 && h->requested >= h->used && h->chunk >= h->requested && waste * 2 > h->chunk) {
		out->verdict = "shrink or restructure";
		out->rule = "R2";
		out->pattern = "capacity slack and allocator overhead";
		snprintf(out->why, sizeof out->why, "%s of %s chunk bytes are capacity slack or allocator overhead",
			 N(waste), N(h->chunk));
		return;
	}
	if (p->enum_size && payload * 10 >= p->enum_size * 6 && tb->entities && ow->count * 2 >= tb->entities) {
		out->verdict = "box smaller";
		out->rule = "R3";
		out->pattern = "a large inline payload";
		out->path = UINT32_MAX;
		snprintf(out->why, sizeof out->why, "payload %s of a %s-byte slot, in %s of %s entities",
			 N(payload), N(p->enum_size), N(ow->count), N(tb->entities));
		return;
	}
	if (ow->count && h->allocations > 4 * ow->count) {
		out->verdict = "restructure";
		out->rule = "R4";
		out->pattern = "per-element boxing";
		snprintf(out->why, sizeof out->why, "%.1f allocations per instance",
			 (double)h->allocations / (double)ow->count);
		return;
	}
	out->verdict = "keep";
	out->rule = "R5";
	out->pattern = "nothing to change";
	out->path = UINT32_MAX;
	snprintf(out->why, sizeof out->why, "used %s of %s requested bytes; payload %s bytes", N(h->used),
		 N(h->requested), N(payload));
}

int report_metrics_check(const char *file, const char *name, const struct profile *p, double tolerance,
			 struct report_metrics *out, struct err *e)
{
	const char *suffix = name && *name ? name : REPORT_METRIC_DEFAULT;
	FILE *f = fopen(file, "r");
	char line[1024];
	bool found = false;
	memset(out, 0, sizeof *out);
	if (!f)
		return err_set(e, ERR_INPUT, "--metrics %s: cannot open it", file);
	while (fgets(line, sizeof line, f)) {
		if (line[0] == '#')
			continue;
		char *name_end = line + strcspn(line, "{ \t");
		size_t sl = strlen(suffix), nl = (size_t)(name_end - line);
		if (nl < sl || strncmp(name_end - sl, suffix, sl) != 0)
			continue;
		char *v = name_end;
		if (*v == '{')
			v = strchr(v, '}') ? strchr(v, '}') + 1 : v;
		char *end;
		double d = strtod(v, &end);
		if (end == v || !isfinite(d))
			continue;
		out->metric = d;
		found = true;
		break;
	}
	fclose(f);
	if (!found)
		return err_set(e, ERR_INPUT, "--metrics %s: no %s sample in it (a metric named so or ending so; "
			       "--metrics-name NAME picks another)", file, suffix);
	out->have = true;
	out->name = suffix;
	out->file = file;
	out->measured = p->per_entity.p99;
	out->tolerance = tolerance;
	double m = (double)out->measured;
	out->relative = m > 0 ? fabs(out->metric - m) / m : (out->metric != 0 ? INFINITY : 0);
	out->diverged = out->relative > tolerance;
	return 0;
}
