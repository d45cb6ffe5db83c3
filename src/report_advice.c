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
	"R3 box smaller: boxing the variant's payload (after every larger one, as the layout advisor models it) "
	"shrinks the enum, and the feature is present in most entities",
	"R4 restructure: the feature owns more than 4 heap allocations per instance on average "
	"(per-bucket or per-element boxing; fan-out dominates)",
	"R5 keep: none of the above, or what a rule would change saves nothing on this snapshot",
	NULL,
};

struct report_owner report_owner_cell(const struct profile_cell *c)
{
	return (struct report_owner){c->count, c->payload_bytes, c->heap, &c->fields, c->variant};
}

struct report_owner report_owner_feature(const struct profile_feature *f)
{
	return (struct report_owner){f->count, f->payload_bytes, f->heap, &f->fields,
				     f->cells.len == 1 ? f->cells.data[0].variant : UINT32_MAX};
}

bool report_boxing_step(const struct report_doc *d, uint32_t k, struct report_boxing *out)
{
	const struct profile *p = d->run->p;
	const struct types_layout_enum *le = &p->layout;
	uint64_t before = 0;
	memset(out, 0, sizeof *out);
	if (k >= le->nboxed)
		return false;
	for (uint32_t i = 0; i <= k; i++) {
		uint64_t saved = le->size > le->boxed_size[i] ? (le->size - le->boxed_size[i]) * p->ops : 0;
		out->step = i;
		out->variant = le->boxed_variant[i];
		out->size = le->boxed_size[i];
		out->saved = saved;
		out->adds = saved > before ? saved - before : 0;
		before = saved > before ? saved : before;
	}
	return true;
}

bool report_boxing_of(const struct report_doc *d, uint32_t variant, struct report_boxing *out)
{
	const struct profile *p = d->run->p;
	for (uint32_t k = 0; k < p->layout.nboxed; k++)
		if (p->layout.boxed_variant[k] == variant)
			return report_boxing_step(d, k, out);
	memset(out, 0, sizeof *out);
	return false;
}

static bool is_box(uint8_t kind) { return kind == WALK_BOX || kind == WALK_BOX_SLICE || kind == WALK_BOX_DYN; }

/* The field of the owner at path holding the most chunk bytes (any kind: the
 * path's bytes are summed over kinds by the callers that need it). */
static void path_bytes(const struct report_owner *ow, uint32_t path, struct profile_bytes *b)
{
	memset(b, 0, sizeof *b);
	for (size_t i = 0; i < ow->fields->len; i++)
		if (ow->fields->data[i].path == path) {
			b->requested += ow->fields->data[i].b.requested;
			b->used += ow->fields->data[i].b.used;
			b->chunk += ow->fields->data[i].b.chunk;
			b->allocations += ow->fields->data[i].b.allocations;
		}
}

uint64_t report_rule_saving(const struct report_doc *d, const struct report_owner *ow, const char *rule, uint32_t path,
			    const char **unit)
{
	const struct profile_bytes *h = &ow->heap;
	struct profile_bytes b;
	struct report_boxing bx;
	uint64_t s = 0;
	*unit = "heap requested bytes";
	switch (rule[1]) {
	case '1':
		path_bytes(ow, path, &b);
		return b.requested > b.used ? b.requested - b.used : 0;
	case '2':
		return h->requested > h->used ? h->requested - h->used : 0;
	case '3':
		*unit = "inline bytes";
		return ow->variant != UINT32_MAX && report_boxing_of(d, ow->variant, &bx) ? bx.adds : 0;
	case '4':
		*unit = "heap chunk bytes";
		for (size_t i = 0; i < ow->fields->len; i++)
			if (is_box(ow->fields->data[i].kind) && ow->fields->data[i].b.chunk > ow->fields->data[i].b.requested)
				s += ow->fields->data[i].b.chunk - ow->fields->data[i].b.requested;
		return s;
	default:
		return 0;
	}
}

void report_advice_explain(const struct report_doc *d, const struct report_owner *ow, struct report_advice *a)
{
	const struct profile *p = d->run->p;
	const struct profile_bytes *h = &ow->heap;
	uint64_t payload = ow->count ? ow->payload_bytes / ow->count : 0;
	struct profile_bytes b;
	struct report_boxing bx;
	switch (a->rule[1]) {
	case '1':
		path_bytes(ow, a->path, &b);
		snprintf(a->why, sizeof a->why, "%.100s: %s of %s requested bytes hold live elements",
			 report_path(d, a->path), N(b.used), N(b.requested));
		break;
	case '2':
		snprintf(a->why, sizeof a->why, "%s of %s chunk bytes are capacity slack or allocator overhead",
			 N((h->requested - h->used) + (h->chunk - h->requested)), N(h->chunk));
		break;
	case '3':
		report_boxing_of(d, ow->variant, &bx);
		snprintf(a->why, sizeof a->why, "payload %s of a %s-byte slot; boxing it after every larger one shrinks "
			 "the enum to %s bytes (layout advisor, row %u)", N(payload), N(p->enum_size), N(bx.size),
			 bx.step + 1);
		break;
	case '4':
		snprintf(a->why, sizeof a->why, "%.1f allocations per instance",
			 ow->count ? (double)h->allocations / (double)ow->count : 0.0);
		break;
	default:
		snprintf(a->why, sizeof a->why, "used %s of %s requested bytes; payload %s bytes", N(h->used),
			 N(h->requested), N(payload));
	}
}

/* Rule r fired: it stands when following it saves something on this
 * snapshot (no recommendation that changes nothing). */
static bool stands(const struct report_doc *d, const struct report_owner *ow, struct report_advice *out,
		   const char *verdict, const char *rule, const char *pattern, uint32_t path)
{
	const char *unit;
	if (!report_rule_saving(d, ow, rule, path, &unit))
		return false;
	out->verdict = verdict;
	out->rule = rule;
	out->pattern = pattern;
	out->path = path;
	report_advice_explain(d, ow, out);
	return true;
}

void report_advise(const struct report_doc *d, const struct profile_table *tb,
		   const struct report_owner *ow, struct report_advice *out)
{
	const struct profile_bytes *h = &ow->heap;
	const struct profile_field *top = NULL;
	struct report_boxing bx;
	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < ow->fields->len; i++)
		if (!top || ow->fields->data[i].b.chunk > top->b.chunk)
			top = &ow->fields->data[i];
	uint32_t path = top ? top->path : UINT32_MAX;
	if (top && top->b.requested > 0 && top->b.used * 10 < top->b.requested &&
	    stands(d, ow, out, "allocate lazily", "R1", "preallocated capacity", path))
		return;
	uint64_t waste = (h->requested - h->used) + (h->chunk - h->requested);
	if (h->chunk > 0 && h->requested >= h->used && h->chunk >= h->requested && waste * 2 > h->chunk &&
	    stands(d, ow, out, "shrink or restructure", "R2", "capacity slack and allocator overhead", path))
		return;
	if (ow->variant != UINT32_MAX && report_boxing_of(d, ow->variant, &bx) && bx.adds && tb->entities &&
	    ow->count * 2 >= tb->entities &&
	    stands(d, ow, out, "box smaller", "R3", "a large inline payload", UINT32_MAX))
		return;
	if (ow->count && h->allocations > 4 * ow->count &&
	    stands(d, ow, out, "restructure", "R4", "per-element boxing", path))
		return;
	out->verdict = "keep";
	out->rule = "R5";
	out->pattern = "nothing to change";
	out->path = UINT32_MAX;
	report_advice_explain(d, ow, out);
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
