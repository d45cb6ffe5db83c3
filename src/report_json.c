/* report_json.c: the profile as JSON (the keys design.md promises, and
 * more): the summary first (what dominates, why, what to change, what it
 * saves), offenders grouped by pattern, per slot the variants it holds with
 * a recommendation each.  Numbers are exact bytes.  Rendered from the
 * report document (include/report.h), never from the walker. */
#include "report.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define J(x) json_integer((json_int_t)(x))

static json_t *pct(const struct profile_pct *p)
{
	return json_pack("{s:o,s:o,s:o}", "p50", J(p->p50), "p99", J(p->p99), "max", J(p->max));
}

static void put_bytes(json_t *o, const struct profile_bytes *b)
{
	json_object_set_new(o, "heap_requested_bytes", J(b->requested));
	json_object_set_new(o, "heap_used_bytes", J(b->used));
	json_object_set_new(o, "heap_usable_bytes", J(b->usable));
	json_object_set_new(o, "heap_chunk_bytes", J(b->chunk));
	json_object_set_new(o, "allocations", J(b->allocations));
}

static json_t *fields(const struct report_doc *d, const struct profile_fields *fl)
{
	json_t *a = json_array();
	const struct profile_field *f = fl->data;
	for (size_t i = 0; i < fl->len; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "path", json_string(report_path(d, f[i].path)));
		json_object_set_new(o, "container", json_string(report_kind(d, f[i].kind)));
		json_object_set_new(o, "bytes", J(f[i].b.requested));
		put_bytes(o, &f[i].b);
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *advice_json(const struct report_advice *adv)
{
	return json_pack("{s:s,s:s,s:s,s:s}", "verdict", adv->verdict, "rule", adv->rule, "pattern", adv->pattern,
			 "why", adv->why);
}

static const char *vname(const struct profile *p, uint32_t v)
{
	return v < p->nvariants ? p->variants[v].name : "";
}

static void member_name(const struct profile *p, const struct report_member *m, char *buf, size_t size)
{
	if (p->generic && !p->split_tables)
		snprintf(buf, size, "%s", m->f->name);
	else
		snprintf(buf, size, "%s.%s", p->tables.data[m->table].name, m->f->name);
}

static json_t *group_json(const struct report_doc *d, const struct report_group *g)
{
	const struct profile *p = d->run->p;
	char label[160], name[200];
	json_t *ms = json_array();
	for (size_t i = 0; i < g->nmembers; i++) {
		member_name(p, &g->members[i], name, sizeof name);
		json_array_append_new(ms, json_pack("{s:s,s:s,s:o,s:s,s:o,s:o}", "name", name, "table",
						    p->tables.data[g->members[i].table].name, "slot",
						    J(g->members[i].slot), "feature", g->members[i].f->name, "count",
						    J(g->members[i].c->count), "total_bytes", J(g->members[i].total)));
	}
	json_t *o = json_pack("{s:s,s:s,s:s,s:o,s:o,s:o,s:o}", "variant", vname(p, g->variant), "label",
			      report_variant_label(d, g->variant, g->op, label, sizeof label), "op", g->op, "count",
			      J(g->count), "inline_bytes", J(g->inline_bytes), "payload_bytes", J(g->payload_bytes),
			      "total_bytes", J(g->total));
	put_bytes(o, &g->heap);
	json_object_set_new(o, "recommendation", advice_json(&g->adv));
	json_object_set_new(o, "field_path", g->adv.path != UINT32_MAX ?
			    json_string(report_path(d, g->adv.path)) : json_null());
	json_object_set_new(o, "change", json_string(g->change));
	json_object_set_new(o, "saving", json_pack("{s:o,s:s,s:o,s:o,s:o}", "bytes", J(g->saving), "unit",
						   g->saving_unit, "entities", J(g->saving_entities), "per_entity",
						   J(g->saving_entities ? g->saving / g->saving_entities : 0),
						   "counted_in_offender", g->shared_with >= 0 ? J(g->shared_with) :
						   json_null()));
	json_object_set_new(o, "members", ms);
	json_object_set_new(o, "fields", fields(d, &g->fields));
	return o;
}

/* The answer first: the same figures the markdown's Summary states. */
static json_t *summary_json(const struct report_doc *d, const struct report_summary *s)
{
	const struct profile *p = d->run->p;
	if (!s->have)
		return json_null();
	const struct report_group *g = s->group;
	char label[160], name[200];
	member_name(p, &g->members[0], name, sizeof name);
	json_t *feats = json_array();
	for (size_t i = 0; i < g->nmembers; i++) {
		char n[200];
		member_name(p, &g->members[i], n, sizeof n);
		json_array_append_new(feats, json_string(n));
	}
	json_t *path = json_null();
	for (size_t i = 0; g->adv.path != UINT32_MAX && i < g->fields.len; i++)
		if (g->fields.data[i].path == g->adv.path) {
			const struct profile_bytes *b = &g->fields.data[i].b;
			path = json_pack("{s:s,s:o,s:o,s:o}", "path", report_path(d, g->adv.path),
					 "heap_requested_bytes", J(b->requested), "heap_used_bytes", J(b->used),
					 "heap_chunk_bytes", J(b->chunk));
			break;   /* the path's first row: its most expensive container kind */
		}
	return json_pack("{s:{s:s,s:o,s:o,s:o},s:{s:s,s:s,s:s,s:o,s:o},s:o,s:o,s:{s:s,s:s,s:s,s:s},s:s,"
			 "s:{s:o,s:s,s:o,s:o}}",
			 "variant", "name", vname(p, s->variant), "bytes", J(s->variant_bytes), "ops", J(s->variant_ops),
			 "ops_bytes", J(s->ops_bytes),
			 "feature", "name", name, "table", p->tables.data[g->members[0].table].name, "label",
			 report_variant_label(d, g->variant, g->op, label, sizeof label), "slot", J(g->members[0].slot),
			 "bytes", J(g->members[0].total),
			 "field_path", path, "features_with_pattern", feats,
			 "why", "pattern", g->adv.pattern, "rule", g->adv.rule, "verdict", g->adv.verdict, "detail", g->adv.why,
			 "change", g->change,
			 "saving", "bytes", J(g->saving), "unit", g->saving_unit, "per_entity", J(s->per_entity),
			 "entities", J(g->saving_entities));
}

static json_t *versions_json(const struct report_doc *d)
{
	const struct profile *p = d->run->p;
	json_t *a = json_array();
	for (size_t i = 0; i < p->versions.len; i++) {
		const struct version_fact *v = &p->versions.data[i];
		json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s}", "dependency", v->dep, "fact", v->what,
						   "assumed", v->value, "evidence", v->evidence));
	}
	return a;
}

static json_t *opt_str(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* What the user named the target with: a diff profiling a core reuses it. */
static json_t *options_json(const struct profile_options *o)
{
	static const struct profile_options none = {0};
	if (!o)
		o = &none;
	return json_pack("{s:o,s:o,s:o,s:o}", "root", opt_str(o->root), "enum", opt_str(o->enum_name), "profile",
			 opt_str(o->target_file), "config", opt_str(o->config_file));
}

static json_t *enum_json(const struct report_doc *d)
{
	const struct profile *p = d->run->p;
	json_t *vs = json_array();
	for (uint32_t i = 0; i < p->layout.nvariants; i++) {
		const struct types_layout_variant *v = &p->layout.variants[i];
		char hex[24];
		snprintf(hex, sizeof hex, "%#" PRIx64, v->discr);
		/* the discriminant in the enum's own terms: a direct tag's value,
		 * else (niche) the variant's index; the stored tag value apart */
		json_array_append_new(vs, json_pack("{s:s,s:o,s:o,s:o,s:o}", "name", v->name, "discriminant",
						    !v->has_discr ? json_null() : p->layout.niche ? J(i) : J(v->discr),
						    "tag_value_hex", v->has_discr ? json_string(hex) : json_null(),
						    "payload_size", J(v->payload_size), "slot_slack", J(v->slot_slack)));
	}
	json_t *boxed = json_array();
	for (uint32_t k = 0; k < p->layout.nboxed; k++)
		json_array_append_new(boxed, J(p->layout.boxed_size[k]));
	return json_pack("{s:s,s:o,s:o,s:{s:o,s:o},s:o,s:o}", "name", p->enum_name, "size", J(p->enum_size),
			 "align", J(p->enum_align), "tag", "offset", J(p->layout.tag_offset), "size",
			 J(p->layout.tag_size), "variants", vs, "boxed_sizes_model", boxed);
}

static json_t *variants_json(const struct report_doc *d)
{
	const struct profile *p = d->run->p;
	json_t *a = json_array();
	for (size_t i = 0; i < p->nvariants; i++) {
		const struct profile_variant *v = &p->variants[i];
		if (!v->count)
			continue;
		json_t *o = json_pack("{s:s,s:o,s:o,s:o}", "variant", v->name, "count", J(v->count), "inline_bytes",
				      J(v->inline_bytes), "payload_bytes", J(v->payload_bytes));
		put_bytes(o, &v->heap);
		json_object_set_new(o, "fields", fields(d, &v->fields));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *unseen_json(const struct report_doc *d)
{
	const struct profile *p = d->run->p;
	json_t *a = json_array();
	for (size_t i = 0; i < p->nvariants; i++)
		if (!p->variants[i].count)
			json_array_append_new(a, json_string(p->variants[i].name));
	return a;
}

static json_t *cells_json(const struct report_doc *d, const struct profile_table *tb, const struct profile_feature *f)
{
	const struct profile *p = d->run->p;
	json_t *a = json_array();
	for (size_t c = 0; c < f->cells.len; c++) {
		const struct profile_cell *pc = &f->cells.data[c];
		struct report_advice adv;
		struct report_owner ow = report_owner_cell(pc);
		char label[160];
		report_advise(d, tb, &ow, &adv);
		json_t *o = json_pack("{s:s,s:s,s:o,s:o,s:o}", "variant", vname(p, pc->variant), "label",
				      report_variant_label(d, pc->variant, f->op, label, sizeof label), "count",
				      J(pc->count), "inline_bytes", J(pc->inline_bytes), "payload_bytes", J(pc->payload_bytes));
		put_bytes(o, &pc->heap);
		json_object_set_new(o, "heap_requested_per_instance", pct(&pc->heap_req_pct));
		json_object_set_new(o, "recommendation", advice_json(&adv));
		json_object_set_new(o, "fields", fields(d, &pc->fields));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *largest_ops_json(const struct report_doc *d)
{
	const struct profile *p = d->run->p;
	json_t *a = json_array();
	if (!p->nlargest)
		return a;
	const struct profile_table *tb = &p->tables.data[p->largest[0].table];
	for (size_t i = 0; i < p->largest_ops.len; i++) {
		const struct profile_entity_op *op = &p->largest_ops.data[i];
		const struct profile_feature *f = op->slot < tb->features.len ? &tb->features.data[op->slot] : NULL;
		json_array_append_new(a, json_pack("{s:o,s:s,s:s,s:o}", "slot", J(op->slot), "feature", f ? f->name : "",
						   "variant", vname(p, op->variant), "bytes", J(op->bytes)));
	}
	return a;
}

static json_t *tables_json(const struct report_doc *d)
{
	const struct profile *p = d->run->p;
	json_t *a = json_array();
	for (size_t i = 0; i < p->tables.len; i++) {
		const struct profile_table *tb = &p->tables.data[i];
		json_t *fs = json_array();
		for (size_t k = 0; k < tb->features.len; k++) {
			const struct profile_feature *f = &tb->features.data[k];
			struct report_advice adv;
			struct report_owner ow = report_owner_feature(f);
			report_advise(d, tb, &ow, &adv);
			json_t *o = json_pack("{s:s,s:o,s:s,s:s,s:b,s:o,s:o,s:o}", "name", f->name, "slot", J(k), "op", f->op,
					      "variant", f->cells.len > 1 ? "mixed" : vname(p, f->variant), "mixed",
					      f->cells.len > 1, "window_ms", f->window_ms ? J(f->window_ms) : json_null(),
					      "count", J(f->count), "inline_bytes", J(f->inline_bytes));
			put_bytes(o, &f->heap);
			json_object_set_new(o, "heap_requested_per_instance", pct(&f->heap_req_pct));
			json_object_set_new(o, "recommendation", advice_json(&adv));
			json_object_set_new(o, "variants", cells_json(d, tb, f));
			json_object_set_new(o, "fields", fields(d, &f->fields));
			json_array_append_new(fs, o);
		}
		json_t *ov = json_object();
		put_bytes(ov, &tb->overhead);
		json_t *o = json_pack("{s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "name", tb->name, "source",
				      tb->source, "key", tb->key, "agg_id", J(tb->agg_id), "entities", J(tb->entities),
				      "ops", J(tb->ops), "inline_bytes", J(tb->inline_bytes), "overhead", ov,
				      "per_entity_bytes", pct(&tb->per_entity), "per_entity_chunk_bytes",
				      pct(&tb->per_entity_chunk), "features", fs);
		put_bytes(o, &tb->heap);
		json_array_append_new(a, o);
	}
	return a;
}

/* Reached but not attributed exactly, by reason (all zero on a healthy walk). */
static json_t *unattributed_json(const struct report_doc *d)
{
	const struct profile *p = d->run->p;
	const struct walk_stats *w = &p->walk;
	json_t *rows = json_array();
	for (size_t i = 0; i < d->run->nnodecoders; i++) {
		const struct report_nodecoder *r = &d->run->nodecoders[i];
		json_array_append_new(rows, json_pack("{s:s,s:s,s:o,s:o}", "type", r->type, "path", r->path,
						      "allocations", J(r->allocations), "bytes", J(r->bytes)));
	}
	return json_pack("{s:{s:o,s:o,s:s},s:{s:o,s:o,s:o},s:{s:o,s:o,s:o},s:{s:o,s:o}}",
			 "unreadable", "count", J(w->unreadable), "first_address", J(w->first_unreadable),
			 "first_reason", w->unreadable ? w->first_unreadable_what : "",
			 "page_missing", "count", J(w->missing), "bytes", J(w->missing_bytes), "first_address",
			 J(w->first_missing),
			 "no_decoder", "allocations", J(w->nodecoder), "bytes", J(w->nodecoder_bytes), "by_type", rows,
			 "shared", "revisits", J(w->shared_revisits), "bytes", J(w->shared_bytes));
}

/* The whole heap: the census's in-use chunks, the tables' share (as
 * before), every typed owner's, and the classified remainder. */
static json_t *heap_json(const struct report_doc *d)
{
	const struct profile *p = d->run->p;
	const struct profile_whole *pw = &p->whole;
	json_t *h = json_pack("{s:o,s:o}", "in_use_chunk_bytes", J(p->heap_in_use_chunk_bytes),
			      "attributed_chunk_bytes", J(p->heap.chunk + p->overhead.chunk));
	if (!pw->done)
		return h;
	json_object_set_new(h, "accounted_chunk_bytes", J(pw->accounted_chunk_bytes));
	json_object_set_new(h, "unaccounted_chunk_bytes", J(pw->unaccounted_chunk_bytes));
	json_object_set_new(h, "tables_chunk_bytes", J(pw->tables_chunk_bytes));
	json_object_set_new(h, "owners_chunk_bytes", J(pw->owners_chunk_bytes));
	json_object_set_new(h, "outside_census_chunk_bytes", J(pw->outside_census_bytes));
	json_object_set_new(h, "shared", json_pack("{s:o,s:o}", "revisits", J(pw->shared_revisits), "chunk_bytes",
						   J(pw->shared_bytes)));
	json_object_set_new(h, "statics_walked", J(pw->statics_walked));
	json_t *owners = json_array();
	for (size_t i = 0; i < pw->owners.len; i++) {
		const struct profile_owner *o = &pw->owners.data[i];
		json_t *jo = json_pack("{s:s,s:s,s:s,s:s,s:s}", "path", o->name, "group",
				       profile_owner_group_name((enum profile_owner_group)o->group), "owner", o->owner,
				       "field_path", report_path(d, o->path), "container", report_kind(d, o->kind));
		put_bytes(jo, &o->b);
		json_object_set_new(jo, "allocations", J(o->b.allocations));
		json_array_append_new(owners, jo);
	}
	json_object_set_new(h, "owners", owners);
	static const char *const keys[PROFILE_REST_COUNT] = {"allocator_internal", "stack", "static",
								"chunk_only", "nowhere"};
	json_t *cls = json_object();
	for (int k = 0; k < PROFILE_REST_COUNT; k++) {
		json_t *c = json_pack("{s:s,s:o,s:o}", "what", profile_rest_name((enum profile_rest_class)k), "chunks",
				      J(pw->cls_chunks[k]), "chunk_bytes", J(pw->cls_bytes[k]));
		json_t *rows = json_array(), *top = json_array();
		for (size_t i = 0; i < pw->rows.len; i++) {
			const struct profile_rest_row *r = &pw->rows.data[i];
			if (r->cls != k)
				continue;
			json_t *jr = json_pack("{s:s,s:o,s:o}", "size_class", profile_size_class_name(r->size_class),
					       "chunks", J(r->chunks), "chunk_bytes", J(r->bytes));
			if (r->arena == HEAP_NO_ARENA)
				json_object_set_new(jr, "arena", json_string("mmapped"));
			else if (r->arena == HEAP_NO_ARENA - 1)
				json_object_set_new(jr, "arena", json_null());
			else
				json_object_set_new(jr, "arena", J(r->arena));
			json_array_append_new(rows, jr);
		}
		for (int i = 0; i < PROFILE_REST_TOP && pw->top[k][i].size; i++)
			json_array_append_new(top, json_pack("{s:o,s:o}", "address", J(pw->top[k][i].mem), "chunk_bytes",
							     J(pw->top[k][i].size)));
		json_object_set_new(c, "by_arena_and_size", rows);
		json_object_set_new(c, "largest", top);
		json_object_set_new(cls, keys[k], c);
	}
	json_object_set_new(h, "unaccounted", cls);
	return h;
}

int report_doc_json(FILE *out, const struct report_doc *d, const struct report_meta *m,
		    const struct report_metrics *mx, struct err *e)
{
	if (!d->run)
		return err_set(e, ERR_USAGE, "%s: a saved profile is not rendered again", d->source);
	const struct profile *p = d->run->p;
	struct report_groups groups;
	struct report_summary sum;
	int grc = report_groups_build(d, &groups, e);
	if (grc)
		return grc;
	report_summarize(d, &groups, &sum);
	json_t *root = json_object();
	json_object_set_new(root, "format_version", J(REPORT_FORMAT_VERSION));
	json_object_set_new(root, "summary", summary_json(d, &sum));
	json_t *totals = json_pack("{s:o,s:o,s:o,s:o}", "entities", J(p->entities), "ops", J(p->ops), "inline_bytes",
				   J(p->inline_bytes), "payload_bytes", J(p->payload_bytes));
	put_bytes(totals, &p->heap);
	json_t *ov = json_object();
	put_bytes(ov, &p->overhead);
	json_t *snap = json_pack("{s:s,s:s,s:s,s:o,s:s}", "core", m->core, "executable", m->exe, "kind", m->core_kind,
				 "core_bytes", J(m->core_size), "build_id", m->build_id ? m->build_id : "");
	if (snap && m->debug_info)
		json_object_set_new(snap, "debug_info", json_string(m->debug_info));
	json_object_set_new(root, "snapshot", snap);
	json_object_set_new(root, "versions", versions_json(d));
	json_object_set_new(root, "target", json_string(p->target_name));
	json_object_set_new(root, "options", options_json(m->opts));
	json_object_set_new(root, "words", json_pack("{s:s,s:s,s:s}", "table", !p->generic || p->split_tables ? "table" :
						     "root", "entity", p->generic ? "holder" : "entity", "feature",
						     p->generic ? "slot" : "feature"));
	json_object_set_new(root, "root", json_pack("{s:s,s:o,s:s,s:{s:o,s:o,s:o}}", "how", p->root_how, "address",
						    J(p->root_addr), "type", p->root_type, "own_allocations", "count",
						    J(p->root_alloc_count), "heap_requested_bytes", J(p->root_alloc_requested),
						    "heap_chunk_bytes", J(p->root_alloc_chunk)));
	json_object_set_new(root, "enum", enum_json(d));
	json_object_set_new(root, "totals", totals);
	json_object_set_new(root, "variants", variants_json(d));
	json_object_set_new(root, "unseen_variants", unseen_json(d));
	json_t *offs = json_array();
	for (size_t i = 0; i < groups.n; i++)
		json_array_append_new(offs, group_json(d, &groups.g[i]));
	json_object_set_new(root, "offenders", offs);
	json_object_set_new(root, "tables", tables_json(d));
	json_object_set_new(root, "largest_entity_ops", largest_ops_json(d));
	json_object_set_new(root, "per_entity_bytes", pct(&p->per_entity));
	json_object_set_new(root, "per_entity_chunk_bytes", pct(&p->per_entity_chunk));
	json_object_set_new(root, "overhead", ov);
	json_object_set_new(root, "unattributed", unattributed_json(d));
	json_object_set_new(root, "heap", heap_json(d));
	json_object_set_new(root, "shared_between_holders",
			    json_pack("{s:o,s:o,s:o,s:o,s:o}", "allocations", J(p->shared.allocations), "heap_requested_bytes",
				      J(p->shared.requested), "heap_chunk_bytes", J(p->shared.chunk), "references",
				      J(p->shared.references), "holders", J(p->shared.holders)));
	json_object_set_new(root, "walk", json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:f,s:f}", "allocations",
						    J(p->walk.allocations), "values", J(p->walk.values), "unreadable",
						    J(p->walk.unreadable), "revisits", J(p->walk.revisits),
						    "shared_revisits", J(p->walk.shared_revisits), "not_in_census",
						    J(p->walk.not_in_census), "sweeps", J(p->walk.sweeps),
						    "queued", J(p->walk.queued), "queue_peak", J(p->walk.queue_peak),
						    "seconds", p->walk_seconds, "profile_seconds", p->seconds));
	if (p->whole.done)
		json_object_set_new(json_object_get(root, "walk"), "whole_heap_seconds", json_real(p->whole.seconds));
	if (p->entity_count_static != UINT64_MAX)
		json_object_set_new(root, "entity_count_static", J(p->entity_count_static));
	if (mx && mx->have)
		json_object_set_new(root, "metrics", json_pack("{s:s,s:s,s:f,s:o,s:f,s:b}", "file", mx->file, "name", mx->name, "metric",
							       mx->metric, "measured", J(mx->measured), "tolerance",
							       mx->tolerance, "diverged", mx->diverged));
	int rc = json_dumpf(root, out, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(root);
	report_groups_free(&groups);
	fputc('\n', out);
	if (rc != 0 || ferror(out))
		return err_set(e, ERR_IO, "writing the JSON failed");
	return 0;
}
