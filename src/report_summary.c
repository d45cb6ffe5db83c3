/* report_summary.c: what the report says first, shared by the markdown and
 * the JSON: offenders grouped by pattern (one offender listing its slots,
 * not one copy per slot), what following each group's recommendation saves
 * on this snapshot, and the summary (the variant that costs most, the group
 * inside it that costs most, its field path and its saving).  Also the
 * small wording helpers both renderings use (numbers with thousands
 * separators, "Windowed<Percentile>" labels).
 */
#include "report.h"
#include "fmt.h"

#include <stdlib.h>
#include <string.h>

const char *report_num(char *buf, size_t size, uint64_t v)
{
	return fmt_num(buf, size, v);
}

const char *report_variant_label(const struct report_doc *d, uint32_t variant, const char *op, char *buf, size_t size)
{
	const struct profile *p = d->run->p;
	const char *name = variant < p->nvariants ? p->variants[variant].name : "-";
	if (op && *op && strcmp(op, name) != 0)
		snprintf(buf, size, "%s<%s>", name, op);
	else
		snprintf(buf, size, "%s", name);
	return buf;
}

const char *report_path_tail(const char *path)
{
	const char *last = NULL, *prev = NULL;
	for (const char *s = strstr(path, " > "); s; s = strstr(s + 3, " > ")) {
		prev = last;
		last = s;
	}
	return prev ? prev + 3 : path;
}

struct keyed {
	struct report_member m;
	struct report_advice adv;
	const char *op;
	uint32_t variant;
};

static int cmp_keyed(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int c;
	if (x->variant != y->variant)
		return x->variant < y->variant ? -1 : 1;
	if ((c = strcmp(x->op, y->op)) || (c = strcmp(x->adv.rule, y->adv.rule)))
		return c;
	if (x->adv.path != y->adv.path)
		return x->adv.path < y->adv.path ? -1 : 1;
	if (x->m.total != y->m.total)
		return x->m.total < y->m.total ? 1 : -1;
	if (x->m.table != y->m.table)
		return x->m.table < y->m.table ? -1 : 1;
	return x->m.slot < y->m.slot ? -1 : x->m.slot > y->m.slot;
}

static int cmp_group(const void *a, const void *b)
{
	const struct report_group *x = a, *y = b;
	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	if (x->members[0].table != y->members[0].table)
		return x->members[0].table < y->members[0].table ? -1 : 1;
	return x->members[0].slot < y->members[0].slot ? -1 : x->members[0].slot > y->members[0].slot;
}

static int cmp_field_path(const void *a, const void *b)
{
	const struct profile_field *x = a, *y = b;
	if (x->path != y->path)
		return x->path < y->path ? -1 : 1;
	return (int)x->kind - (int)y->kind;
}

static void add_b(struct profile_bytes *d, const struct profile_bytes *s)
{
	d->requested += s->requested;
	d->used += s->used;
	d->usable += s->usable;
	d->chunk += s->chunk;
	d->allocations += s->allocations;
}

/* The order of an owner's fields (profile_field_cmp's, the paths named by
 * the document). */
static int field_cmp(const void *a, const void *b, void *ctx)
{
	const struct report_doc *d = ctx;
	const struct profile_field *p = a, *q = b;
	uint64_t x = p->b.chunk, y = q->b.chunk;
	if (x != y)
		return x < y ? 1 : -1;
	int c = strcmp(report_path(d, p->path), report_path(d, q->path));
	return c ? c : (int)p->kind - (int)q->kind;
}

/* The members' fields summed by (path, kind), in report order. */
static int group_fields(const struct report_doc *d, struct report_group *g)
{
	struct profile_fields all;
	profile_fields_init(&all);
	for (size_t i = 0; i < g->nmembers; i++) {
		const struct profile_fields *fl = &g->members[i].c->fields;
		for (size_t k = 0; k < fl->len; k++)
			if (!profile_fields_append(&all, fl->data[k])) {
				profile_fields_deinit(&all);
				return ERR_NOMEM;
			}
	}
	if (all.len > 1)
		qsort(all.data, all.len, sizeof *all.data, cmp_field_path);
	size_t o = 0;
	for (size_t i = 0; i < all.len; i++) {
		if (o && all.data[o - 1].path == all.data[i].path && all.data[o - 1].kind == all.data[i].kind) {
			add_b(&all.data[o - 1].b, &all.data[i].b);
		} else {
			all.data[o++] = all.data[i];
		}
	}
	all.len = o;
	if (all.len > 1)
		qsort_r(all.data, all.len, sizeof *all.data, field_cmp, (void *)d);
	g->fields = all;
	return 0;
}

/* The group as one owner: its members summed. */
static struct report_owner group_owner(const struct report_group *g)
{
	return (struct report_owner){g->count, g->payload_bytes, g->heap, &g->fields, g->variant};
}

/* What following the group's recommendation saves (report_rule_saving, the
 * one computation the rules use), the change in words, and the rule's
 * detail recomputed from the group's own figures. */
static void group_saving(const struct report_doc *d, struct report_group *g)
{
	const struct profile *p = d->run->p;
	const char *path = g->adv.path != UINT32_MAX ? report_path(d, g->adv.path) : "";
	const char *vn = g->variant < p->nvariants ? p->variants[g->variant].name : "?";
	struct report_owner ow = group_owner(g);
	g->saving = report_rule_saving(d, &ow, g->adv.rule, g->adv.path, &g->saving_unit);
	g->saving_entities = g->adv.rule[1] == '3' ? p->entities : g->holders;
	g->shared_with = -1;
	report_advice_explain(d, &ow, &g->adv);
	switch (g->adv.rule[1]) {
	case '1':
		snprintf(g->change, sizeof g->change, "allocate `%.120s` lazily: start empty and grow with what arrives, "
			 "or reserve only what is live", report_path_tail(path));
		break;
	case '2':
		snprintf(g->change, sizeof g->change, "shrink `%.120s` to what it holds (a smaller initial capacity, or "
			 "shrink_to_fit once filled), or restructure it", report_path_tail(path));
		break;
	case '3':
		snprintf(g->change, sizeof g->change, "box `%s`'s payload (after every larger one: see the layout advisor), "
			 "so that the other variants' slots shrink", vn);
		break;
	case '4':
		snprintf(g->change, sizeof g->change, "store the elements under `%.120s` inline instead of one Box each "
			 "(saves the allocator overhead of every boxed element)", report_path_tail(path));
		break;
	default:
		snprintf(g->change, sizeof g->change, "nothing: no rule found waste to remove");
		break;
	}
}

/* R3 saves inline bytes of every op, whichever slot holds the variant: a
 * variant recommended in several groups has its saving counted once, in
 * the first (costliest) group; the others point at it. */
static void share_boxing(struct report_groups *gs)
{
	for (size_t i = 0; i < gs->n; i++) {
		struct report_group *g = &gs->g[i];
		if (g->adv.rule[1] != '3')
			continue;
		for (size_t k = 0; k < i; k++)
			if (gs->g[k].adv.rule[1] == '3' && gs->g[k].variant == g->variant) {
				g->shared_with = (int)k;
				g->saving = 0;
				break;
			}
	}
}

void report_groups_free(struct report_groups *g)
{
	for (size_t i = 0; i < g->n; i++)
		profile_fields_deinit(&g->g[i].fields);
	free(g->g);
	free(g->members);
	memset(g, 0, sizeof *g);
}

int report_groups_build(const struct report_doc *d, struct report_groups *out, struct err *e)
{
	const struct profile *p = d->run->p;
	size_t n = 0;
	memset(out, 0, sizeof *out);
	for (size_t t = 0; t < p->tables.len; t++)
		for (size_t s = 0; s < p->tables.data[t].features.len; s++)
			n += p->tables.data[t].features.data[s].cells.len;
	struct keyed *k = calloc(n ? n : 1, sizeof *k);
	out->members = calloc(n ? n : 1, sizeof *out->members);
	out->g = calloc(n ? n : 1, sizeof *out->g);
	if (!k || !out->members || !out->g) {
		free(k);
		report_groups_free(out);
		return err_set(e, ERR_NOMEM, "out of memory grouping offenders");
	}
	size_t m = 0;
	for (size_t t = 0; t < p->tables.len; t++) {
		const struct profile_table *tb = &p->tables.data[t];
		for (size_t s = 0; s < tb->features.len; s++) {
			const struct profile_feature *f = &tb->features.data[s];
			for (size_t c = 0; c < f->cells.len; c++) {
				const struct profile_cell *pc = &f->cells.data[c];
				if (!pc->count)
					continue;
				struct report_owner ow = report_owner_cell(pc);
				k[m].m = (struct report_member){(uint32_t)t, (uint32_t)s, f, pc, pc->inline_bytes + pc->heap.chunk};
				report_advise(d, tb, &ow, &k[m].adv);
				k[m].op = f->op ? f->op : "";
				k[m].variant = pc->variant;
				m++;
			}
		}
	}
	if (m > 1)
		qsort(k, m, sizeof *k, cmp_keyed);
	for (size_t i = 0; i < m; i++) {
		out->members[i] = k[i].m;
		bool same = i && k[i].variant == k[i - 1].variant && !strcmp(k[i].op, k[i - 1].op) &&
			    !strcmp(k[i].adv.rule, k[i - 1].adv.rule) && k[i].adv.path == k[i - 1].adv.path;
		if (!same) {
			struct report_group *g = &out->g[out->n++];
			g->variant = k[i].variant;
			g->op = k[i].op;
			g->adv = k[i].adv;
			g->members = &out->members[i];
		}
		struct report_group *g = &out->g[out->n - 1];
		const struct profile_cell *pc = k[i].m.c;
		g->nmembers++;
		g->count += pc->count;
		g->inline_bytes += pc->inline_bytes;
		g->payload_bytes += pc->payload_bytes;
		g->total += k[i].m.total;
		add_b(&g->heap, &pc->heap);
	}
	free(k);
	for (size_t i = 0; i < out->n; i++) {
		struct report_group *g = &out->g[i];
		if (group_fields(d, g)) {
			report_groups_free(out);
			return err_set(e, ERR_NOMEM, "out of memory grouping offenders");
		}
		/* entities holding a member: per table, the most instances of one */
		for (size_t a = 0; a < g->nmembers; a++) {
			bool seen = false;
			uint64_t most = 0;
			for (size_t b = 0; b < g->nmembers; b++) {
				if (g->members[b].table != g->members[a].table)
					continue;
				seen |= b < a;
				if (g->members[b].c->count > most)
					most = g->members[b].c->count;
			}
			if (!seen)
				g->holders += most;
		}
		group_saving(d, g);
	}
	if (out->n > 1)
		qsort(out->g, out->n, sizeof *out->g, cmp_group);
	share_boxing(out);
	return 0;
}

void report_summarize(const struct report_doc *d, const struct report_groups *g, struct report_summary *out)
{
	const struct profile *p = d->run->p;
	memset(out, 0, sizeof *out);
	out->ops_bytes = p->inline_bytes + p->heap.chunk;
	uint32_t best = UINT32_MAX;
	for (uint32_t v = 0; v < p->nvariants; v++) {
		const struct profile_variant *pv = &p->variants[v];
		uint64_t t = pv->inline_bytes + pv->heap.chunk;
		if (pv->count && (best == UINT32_MAX || t > out->variant_bytes ||
				  (t == out->variant_bytes && strcmp(pv->name, p->variants[best].name) < 0))) {
			best = v;
			out->variant_bytes = t;
		}
	}
	if (best == UINT32_MAX || !g->n)
		return;
	out->have = true;
	out->variant = best;
	out->variant_ops = p->variants[best].count;
	out->group = &g->g[0];
	for (size_t i = 0; i < g->n; i++)
		if (g->g[i].variant == best) {
			out->group = &g->g[i];
			break;
		}
	out->per_entity = out->group->saving_entities ? out->group->saving / out->group->saving_entities : 0;
}
