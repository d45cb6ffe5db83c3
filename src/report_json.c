/* report_json.c: the profile as JSON (the keys design.md promises, and more). */
#include "report.h"

#include <jansson.h>

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

static json_t *fields(const struct profile *p, const struct profile_fields *fl)
{
	json_t *a = json_array();
	const struct profile_field *f = fl->data;
	for (size_t i = 0; i < fl->len; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "path", json_string(walk_path_name(p->walker, f[i].path)));
		json_object_set_new(o, "container", json_string(walk_kind_name((enum walk_kind)f[i].kind)));
		json_object_set_new(o, "bytes", J(f[i].b.requested));
		put_bytes(o, &f[i].b);
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *versions_json(const struct profile *p)
{
	json_t *a = json_array();
	for (size_t i = 0; i < p->versions.len; i++) {
		const struct version_fact *v = &p->versions.data[i];
		json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s}", "dependency", v->dep, "fact", v->what,
						   "assumed", v->value, "evidence", v->evidence));
	}
	return a;
}

static json_t *enum_json(const struct profile *p)
{
	json_t *vs = json_array();
	for (uint32_t i = 0; i < p->layout.nvariants; i++) {
		const struct types_layout_variant *v = &p->layout.variants[i];
		json_array_append_new(vs, json_pack("{s:s,s:o,s:o,s:o}", "name", v->name, "discriminant",
						    v->has_discr ? J(v->discr) : json_null(), "payload_size",
						    J(v->payload_size), "slot_slack", J(v->slot_slack)));
	}
	json_t *boxed = json_array();
	for (uint32_t k = 0; k < p->layout.nboxed; k++)
		json_array_append_new(boxed, J(p->layout.boxed_size[k]));
	return json_pack("{s:s,s:o,s:o,s:{s:o,s:o},s:o,s:o}", "name", p->enum_name, "size", J(p->enum_size),
			 "align", J(p->enum_align), "tag", "offset", J(p->layout.tag_offset), "size",
			 J(p->layout.tag_size), "variants", vs, "boxed_sizes_model", boxed);
}

static json_t *variants_json(const struct profile *p)
{
	json_t *a = json_array();
	for (size_t i = 0; i < p->nvariants; i++) {
		const struct profile_variant *v = &p->variants[i];
		if (!v->count)
			continue;
		json_t *o = json_pack("{s:s,s:o,s:o,s:o}", "variant", v->name, "count", J(v->count), "inline_bytes",
				      J(v->inline_bytes), "payload_bytes", J(v->payload_bytes));
		put_bytes(o, &v->heap);
		json_object_set_new(o, "fields", fields(p, &v->fields));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *tables_json(const struct profile *p)
{
	json_t *a = json_array();
	for (size_t i = 0; i < p->tables.len; i++) {
		const struct profile_table *tb = &p->tables.data[i];
		json_t *fs = json_array();
		for (size_t k = 0; k < tb->features.len; k++) {
			const struct profile_feature *f = &tb->features.data[k];
			struct report_advice adv;
			report_advise(p, tb, f, &adv);
			json_t *o = json_pack("{s:s,s:o,s:s,s:s,s:o,s:o,s:o}", "name", f->name, "slot", J(k), "op", f->op,
					      "variant", f->variant < p->nvariants ? p->variants[f->variant].name : "",
					      "window_ms", f->window_ms ? J(f->window_ms) : json_null(), "count",
					      J(f->count), "inline_bytes", J(f->inline_bytes));
			put_bytes(o, &f->heap);
			json_object_set_new(o, "heap_requested_per_instance", pct(&f->heap_req_pct));
			json_object_set_new(o, "recommendation", json_pack("{s:s,s:s,s:s}", "verdict", adv.verdict,
									   "rule", adv.rule, "why", adv.why));
			json_object_set_new(o, "fields", fields(p, &f->fields));
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
static json_t *unattributed_json(const struct profile *p)
{
	const struct walk_stats *w = &p->walk;
	json_t *rows = json_array();
	for (size_t i = 0; p->walker && i < walk_nodecoder_count(p->walker); i++) {
		const struct walk_nodecoder *r = walk_nodecoder_at(p->walker, i);
		json_array_append_new(rows, json_pack("{s:s,s:s,s:o,s:o}", "type", r->type, "path",
						      walk_path_name(p->walker, r->path), "allocations",
						      J(r->allocations), "bytes", J(r->bytes)));
	}
	return json_pack("{s:{s:o,s:o,s:s},s:{s:o,s:o,s:o},s:{s:o,s:o,s:o},s:{s:o,s:o}}",
			 "unreadable", "count", J(w->unreadable), "first_address", J(w->first_unreadable),
			 "first_reason", w->unreadable ? w->first_unreadable_what : "",
			 "page_missing", "count", J(w->missing), "bytes", J(w->missing_bytes), "first_address",
			 J(w->first_missing),
			 "no_decoder", "allocations", J(w->nodecoder), "bytes", J(w->nodecoder_bytes), "by_type", rows,
			 "shared", "revisits", J(w->shared_revisits), "bytes", J(w->shared_bytes));
}

int report_json(FILE *out, const struct profile *p, const struct report_meta *m,
		const struct report_metrics *mx, struct err *e)
{
	json_t *root = json_object();
	json_object_set_new(root, "format_version", J(REPORT_FORMAT_VERSION));
	json_t *totals = json_pack("{s:o,s:o,s:o,s:o}", "entities", J(p->entities), "ops", J(p->ops), "inline_bytes",
				   J(p->inline_bytes), "payload_bytes", J(p->payload_bytes));
	put_bytes(totals, &p->heap);
	json_t *ov = json_object();
	put_bytes(ov, &p->overhead);
	json_object_set_new(root, "snapshot", json_pack("{s:s,s:s,s:s,s:o,s:s}", "core", m->core, "executable", m->exe,
							"kind", m->core_kind, "core_bytes", J(m->core_size), "build_id",
							m->build_id ? m->build_id : ""));
	json_object_set_new(root, "versions", versions_json(p));
	json_object_set_new(root, "target", json_string(p->target_name));
	json_object_set_new(root, "root", json_pack("{s:s,s:o,s:s}", "how", p->root_how, "address", J(p->root_addr),
						    "type", p->root_type));
	json_object_set_new(root, "enum", enum_json(p));
	json_object_set_new(root, "totals", totals);
	json_object_set_new(root, "variants", variants_json(p));
	json_object_set_new(root, "tables", tables_json(p));
	json_object_set_new(root, "per_entity_bytes", pct(&p->per_entity));
	json_object_set_new(root, "per_entity_chunk_bytes", pct(&p->per_entity_chunk));
	json_object_set_new(root, "overhead", ov);
	json_object_set_new(root, "unattributed", unattributed_json(p));
	json_object_set_new(root, "heap", json_pack("{s:o,s:o}", "in_use_chunk_bytes", J(p->heap_in_use_chunk_bytes),
						    "attributed_chunk_bytes", J(p->heap.chunk + p->overhead.chunk)));
	json_object_set_new(root, "walk", json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:f,s:f}", "allocations",
						    J(p->walk.allocations), "values", J(p->walk.values), "unreadable",
						    J(p->walk.unreadable), "revisits", J(p->walk.revisits),
						    "shared_revisits", J(p->walk.shared_revisits), "not_in_census",
						    J(p->walk.not_in_census), "sweeps", J(p->walk.sweeps),
						    "queued", J(p->walk.queued), "queue_peak", J(p->walk.queue_peak),
						    "seconds", p->walk_seconds, "profile_seconds", p->seconds));
	if (p->entity_count_static != UINT64_MAX)
		json_object_set_new(root, "entity_count_static", J(p->entity_count_static));
	if (mx && mx->have)
		json_object_set_new(root, "metrics", json_pack("{s:s,s:f,s:o,s:f,s:b}", "file", mx->file, "metric",
							       mx->metric, "measured", J(mx->measured), "tolerance",
							       mx->tolerance, "diverged", mx->diverged));
	int rc = json_dumpf(root, out, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(root);
	fputc('\n', out);
	if (rc != 0 || ferror(out))
		return err_set(e, ERR_IO, "writing the JSON failed");
	return 0;
}
