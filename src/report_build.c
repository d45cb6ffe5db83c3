/* report_build.c: the report document's builder (include/report.h): the one
 * result model every renderer reads, made once from a profile in hand.
 *
 * Two parts are filled here.  The run (d->run) is the profile's results
 * copied: every string the profile borrowed from the types (the enum's and
 * variants' names, the layout's) interned in the run, every string it owned
 * duplicated, the field paths resolved to their names, the container kinds
 * named, the heap no decoder owned listed by type and path; nothing points
 * into the walker, the types, the heap or the image, so the document
 * outlives them all.  The saved figures (what --json writes and
 * report_doc_load reads back: totals, the enum, variants, tables, features,
 * fields, the whole heap) are filled from the same profile directly, never
 * through JSON text, checked the way a loaded file is (names unique where
 * the diff matches by name).
 *
 * This is the only report file that reads the walker (walk.h).
 */
#include "report.h"
#include "walk.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ the run */

static char *pool_dup(struct report_run *r, const char *s)
{
	if (!s)
		return NULL;
	if (r->nstrs == r->capstrs) {
		size_t cap = r->capstrs ? 2 * r->capstrs : 16;
		char **n = realloc(r->strs, cap * sizeof *n);
		if (!n)
			return NULL;
		r->strs = n;
		r->capstrs = cap;
	}
	char *d = strdup(s);
	if (d)
		r->strs[r->nstrs++] = d;
	return d;
}

/* n elements of size bytes copied (NULL when n is 0); *ok false when memory
 * runs out. */
static void *dup_n(const void *src, size_t n, size_t size, bool *ok)
{
	if (!n || !src)
		return NULL;
	void *d = malloc(n * size);
	if (!d)
		*ok = false;
	else
		memcpy(d, src, n * size);
	return d;
}

#define COPY_VEC(dst, src, ok)                                                          \
	do {                                                                            \
		(dst).data = dup_n((src).data, (src).len, sizeof *(src).data, &(ok));   \
		(dst).len = (dst).cap = (dst).data ? (src).len : 0;                     \
	} while (0)

static char *dup_str(const char *s, bool *ok)
{
	char *d = strdup(s ? s : "");
	if (!d)
		*ok = false;
	return d;
}

/* The tables with their features and cells; the per-entity and
 * per-instance arrays (percentile inputs, already reduced) are left out. */
static bool copy_tables(struct profile *q, const struct profile *p)
{
	bool ok = true;
	if (p->tables.len && !profile_tables_reserve(&q->tables, p->tables.len))
		return false;
	for (size_t i = 0; i < p->tables.len && ok; i++) {
		const struct profile_table *s = &p->tables.data[i];
		struct profile_table *t = profile_tables_push(&q->tables);
		*t = *s;
		profile_features_init(&t->features);
		profile_u64s_init(&t->ent_bytes);
		profile_u64s_init(&t->ent_chunk);
		t->name = dup_str(s->name, &ok);
		t->source = dup_str(s->source, &ok);
		t->key = dup_str(s->key, &ok);
		if (s->features.len && !profile_features_reserve(&t->features, s->features.len))
			return false;
		for (size_t k = 0; k < s->features.len && ok; k++) {
			const struct profile_feature *sf = &s->features.data[k];
			struct profile_feature *f = profile_features_push(&t->features);
			*f = *sf;
			profile_cells_init(&f->cells);
			f->name = dup_str(sf->name, &ok);
			f->op = dup_str(sf->op, &ok);
			COPY_VEC(f->fields, sf->fields, ok);
			if (sf->cells.len && !profile_cells_reserve(&f->cells, sf->cells.len))
				return false;
			for (size_t c = 0; c < sf->cells.len && ok; c++) {
				struct profile_cell *pc = profile_cells_push(&f->cells);
				*pc = sf->cells.data[c];
				profile_u64s_init(&pc->inst_req);
				COPY_VEC(pc->fields, sf->cells.data[c].fields, ok);
			}
		}
	}
	return ok;
}

static bool copy_profile(struct report_run *r, const struct profile *p)
{
	struct profile *q = r->p;
	bool ok = true;
	/* nothing of p's is shared: every owned member starts empty */
	profile_copy_plain(q, p);

	q->enum_name = pool_dup(r, p->enum_name);
	q->layout.name = pool_dup(r, p->layout.name);
	if ((p->enum_name && !q->enum_name) || (p->layout.name && !q->layout.name))
		return false;
	q->layout.variants = dup_n(p->layout.variants, p->layout.nvariants, sizeof *p->layout.variants, &ok);
	if (!ok)
		return false;
	q->layout.nvariants = p->layout.nvariants;
	for (uint32_t i = 0; i < q->layout.nvariants; i++)
		if (p->layout.variants[i].name && !(q->layout.variants[i].name = pool_dup(r, p->layout.variants[i].name)))
			return false;
	if (!(q->variants = calloc(p->nvariants ? p->nvariants : 1, sizeof *q->variants)))
		return false;
	q->nvariants = p->nvariants;
	for (size_t i = 0; i < p->nvariants && ok; i++) {
		q->variants[i] = p->variants[i];
		profile_fields_init(&q->variants[i].fields);
		if (p->variants[i].name && !(q->variants[i].name = pool_dup(r, p->variants[i].name)))
			return false;
		COPY_VEC(q->variants[i].fields, p->variants[i].fields, ok);
	}
	if (!ok || !copy_tables(q, p))
		return false;
	COPY_VEC(q->largest_ops, p->largest_ops, ok);
	COPY_VEC(q->versions, p->versions, ok);
	COPY_VEC(q->whole.rows, p->whole.rows, ok);
	if (!ok)
		return false;
	if (p->whole.owners.len && !profile_owners_reserve(&q->whole.owners, p->whole.owners.len))
		return false;
	for (size_t i = 0; i < p->whole.owners.len && ok; i++) {
		struct profile_owner *o = profile_owners_push(&q->whole.owners);
		*o = p->whole.owners.data[i];
		o->name = dup_str(p->whole.owners.data[i].name, &ok);
		o->owner = dup_str(p->whole.owners.data[i].owner, &ok);
	}
	return ok;
}

/* The field path ids the run uses, each named once. */
static bool name_path(struct report_run *r, const struct walk *w, uint32_t path)
{
	if (path >= r->npaths) {
		size_t n = (size_t)path + 1;
		if (n < 2 * r->npaths)
			n = 2 * r->npaths;
		char **np = realloc(r->paths, n * sizeof *np);
		if (!np)
			return false;
		memset(np + r->npaths, 0, (n - r->npaths) * sizeof *np);
		r->paths = np;
		r->npaths = n;
	}
	if (!r->paths[path] && !(r->paths[path] = strdup(walk_path_name(w, path))))
		return false;
	return true;
}

static bool name_fields(struct report_run *r, const struct walk *w, const struct profile_fields *f)
{
	for (size_t i = 0; i < f->len; i++)
		if (!name_path(r, w, f->data[i].path))
			return false;
	return true;
}

static bool name_paths(struct report_run *r, const struct walk *w)
{
	const struct profile *p = r->p;
	for (size_t i = 0; i < p->nvariants; i++)
		if (!name_fields(r, w, &p->variants[i].fields))
			return false;
	for (size_t i = 0; i < p->tables.len; i++)
		for (size_t k = 0; k < p->tables.data[i].features.len; k++) {
			const struct profile_feature *f = &p->tables.data[i].features.data[k];
			if (!name_fields(r, w, &f->fields))
				return false;
			for (size_t c = 0; c < f->cells.len; c++)
				if (!name_fields(r, w, &f->cells.data[c].fields))
					return false;
		}
	for (size_t i = 0; i < p->whole.owners.len; i++)
		if (!name_path(r, w, p->whole.owners.data[i].path))
			return false;
	return true;
}

static bool take_walker(struct report_run *r, const struct walk *w)
{
	if (!(r->kinds = calloc(WALK_KIND_COUNT, sizeof *r->kinds)))
		return false;
	for (r->nkinds = 0; r->nkinds < WALK_KIND_COUNT; r->nkinds++)
		if (!(r->kinds[r->nkinds] = strdup(walk_kind_name((enum walk_kind)r->nkinds))))
			return false;
	if (!w)
		return true;
	if (!name_paths(r, w))
		return false;
	size_t n = walk_nodecoder_count(w);
	if (n && !(r->nodecoders = calloc(n, sizeof *r->nodecoders)))
		return false;
	for (size_t i = 0; i < n; i++) {
		const struct walk_nodecoder *s = walk_nodecoder_at(w, i);
		struct report_nodecoder *o = &r->nodecoders[i];
		r->nnodecoders = i + 1;
		o->bytes = s->bytes;
		o->allocations = s->allocations;
		if (!(o->type = strdup(s->type ? s->type : "")) || !(o->path = strdup(walk_path_name(w, s->path))))
			return false;
	}
	return true;
}

static void run_free(struct report_run *r)
{
	if (!r)
		return;
	profile_free(r->p);   /* the copy: its walker is NULL */
	for (size_t i = 0; i < r->nstrs; i++)
		free(r->strs[i]);
	free(r->strs);
	for (size_t i = 0; i < r->npaths; i++)
		free(r->paths[i]);
	free(r->paths);
	for (size_t i = 0; r->kinds && i < r->nkinds; i++)
		free(r->kinds[i]);
	free(r->kinds);
	for (size_t i = 0; i < r->nnodecoders; i++) {
		free(r->nodecoders[i].type);
		free(r->nodecoders[i].path);
	}
	free(r->nodecoders);
	free(r);
}

const char *report_path(const struct report_doc *d, uint32_t path)
{
	const struct report_run *r = d->run;
	return r && path < r->npaths && r->paths[path] ? r->paths[path] : "?";
}

const char *report_kind(const struct report_doc *d, uint8_t kind)
{
	const struct report_run *r = d->run;
	return r && kind < r->nkinds ? r->kinds[kind] : "?";
}

/* ------------------------------------------------- the saved figures */

static struct report_doc_bytes doc_bytes(const struct profile_bytes *b)
{
	return (struct report_doc_bytes){b->requested, b->used, b->usable, b->chunk, b->allocations};
}

static bool doc_fields(const struct report_doc *d, const struct profile_fields *fl, struct report_doc_field **out,
		       size_t *n)
{
	*n = 0;
	if (!(*out = calloc(fl->len ? fl->len : 1, sizeof **out)))
		return false;
	for (size_t i = 0; i < fl->len; i++) {
		struct report_doc_field *f = &(*out)[i];
		*n = i + 1;
		f->b = doc_bytes(&fl->data[i].b);
		if (!(f->path = strdup(report_path(d, fl->data[i].path))) ||
		    !(f->container = strdup(report_kind(d, fl->data[i].kind))))
			return false;
	}
	return true;
}

static char *opt_dup(const char *s, bool *ok)
{
	char *d = s ? strdup(s) : NULL;
	if (s && !d)
		*ok = false;
	return d;
}

static bool doc_figures(struct report_doc *d, const struct profile *p, const struct report_meta *m)
{
	bool ok = true;
	const struct profile_options *o = m ? m->opts : NULL;
	char *src = NULL;
	if (asprintf(&src, "%s (%s)", m && m->core ? m->core : "", m && m->exe ? m->exe : "") < 0)
		return false;
	d->source = src;
	d->target = dup_str(p->target_name, &ok);
	d->enum_name = dup_str(p->enum_name, &ok);
	d->core = dup_str(m ? m->core : "", &ok);
	d->exe = dup_str(m ? m->exe : "", &ok);
	d->opts.root = opt_dup(o ? o->root : NULL, &ok);
	d->opts.enum_name = opt_dup(o ? o->enum_name : NULL, &ok);
	d->opts.profile = opt_dup(o ? o->target_file : NULL, &ok);
	d->opts.config = opt_dup(o ? o->config_file : NULL, &ok);
	d->enum_size = p->enum_size;
	d->enum_align = p->enum_align;
	d->tag_offset = p->layout.tag_offset;
	d->tag_size = p->layout.tag_size;
	d->entities = p->entities;
	d->ops = p->ops;
	d->inline_bytes = p->inline_bytes;
	d->payload_bytes = p->payload_bytes;
	d->heap = doc_bytes(&p->heap);
	d->overhead = doc_bytes(&p->overhead);
	d->per_entity = p->per_entity;
	d->per_entity_chunk = p->per_entity_chunk;
	d->heap_in_use_chunk = p->heap_in_use_chunk_bytes;
	d->heap_attributed_chunk = p->heap.chunk + p->overhead.chunk;
	if (!ok)
		return false;
	/* the enum's variants (layout order), the profiled ones' figures
	 * beside (variants[] holds those with ops) */
	if (!(d->variants = calloc(p->layout.nvariants ? p->layout.nvariants : 1, sizeof *d->variants)))
		return false;
	for (uint32_t i = 0; i < p->layout.nvariants; i++) {
		const struct types_layout_variant *lv = &p->layout.variants[i];
		struct report_doc_variant *v = &d->variants[i];
		d->nvariants = i + 1;
		if (!(v->name = strdup(lv->name ? lv->name : "")))
			return false;
		v->has_discr = lv->has_discr;
		v->discr = !lv->has_discr ? 0 : p->layout.niche ? (int64_t)i : (int64_t)lv->discr;
		v->payload_size = lv->payload_size;
		v->slot_slack = lv->slot_slack;
		if (i >= p->nvariants || !p->variants[i].count)
			continue;
		const struct profile_variant *pv = &p->variants[i];
		v->profiled = true;
		v->count = pv->count;
		v->inline_bytes = pv->inline_bytes;
		v->payload_bytes = pv->payload_bytes;
		v->heap = doc_bytes(&pv->heap);
		if (!doc_fields(d, &pv->fields, &v->fields, &v->nfields))
			return false;
	}
	if (!(d->tables = calloc(p->tables.len ? p->tables.len : 1, sizeof *d->tables)))
		return false;
	for (size_t i = 0; i < p->tables.len; i++) {
		const struct profile_table *tb = &p->tables.data[i];
		struct report_doc_table *t = &d->tables[i];
		d->ntables = i + 1;
		if (!(t->name = strdup(tb->name)))
			return false;
		t->entities = tb->entities;
		t->ops = tb->ops;
		t->inline_bytes = tb->inline_bytes;
		t->heap = doc_bytes(&tb->heap);
		t->overhead = doc_bytes(&tb->overhead);
		t->per_entity = tb->per_entity;
		t->per_entity_chunk = tb->per_entity_chunk;
		if (!(t->features = calloc(tb->features.len ? tb->features.len : 1, sizeof *t->features)))
			return false;
		for (size_t k = 0; k < tb->features.len; k++) {
			const struct profile_feature *pf = &tb->features.data[k];
			struct report_doc_feature *f = &t->features[k];
			const char *vn = pf->cells.len > 1 ? "mixed" : pf->variant < p->nvariants ?
				p->variants[pf->variant].name : "";
			t->nfeatures = k + 1;
			if (!(f->name = strdup(pf->name)) || !(f->variant = strdup(vn ? vn : "")))
				return false;
			f->count = pf->count;
			f->inline_bytes = pf->inline_bytes;
			f->heap = doc_bytes(&pf->heap);
			f->per_instance = pf->heap_req_pct;
			if (!doc_fields(d, &pf->fields, &f->fields, &f->nfields))
				return false;
		}
	}
	if (!p->whole.done)
		return true;
	d->whole = true;
	const struct profile_owners *ow = &p->whole.owners;
	if (!(d->owners = calloc(ow->len ? ow->len : 1, sizeof *d->owners)) ||
	    !(d->rest = calloc(PROFILE_REST_COUNT, sizeof *d->rest)))
		return false;
	for (size_t i = 0; i < ow->len; i++) {
		struct report_doc_owner *o = &d->owners[i];
		d->nowners = i + 1;
		o->b = doc_bytes(&ow->data[i].b);
		if (!(o->owner = strdup(ow->data[i].owner)) || !(o->path = strdup(report_path(d, ow->data[i].path))) ||
		    !(o->container = strdup(report_kind(d, ow->data[i].kind))))
			return false;
	}
	for (int k = 0; k < PROFILE_REST_COUNT; k++) {
		d->nrest = (size_t)k + 1;
		d->rest[k].chunks = p->whole.cls_chunks[k];
		d->rest[k].chunk_bytes = p->whole.cls_bytes[k];
		if (!(d->rest[k].what = strdup(profile_rest_name((enum profile_rest_class)k))))
			return false;
	}
	return true;
}

int report_doc_build(struct report_doc **out, const struct profile *p, const struct report_meta *m, struct err *e)
{
	struct report_doc *d = calloc(1, sizeof *d);
	*out = NULL;
	if (!d || !(d->run = calloc(1, sizeof *d->run)) || !(d->run->p = calloc(1, sizeof *d->run->p)) ||
	    !copy_profile(d->run, p) || !take_walker(d->run, profile_walker(p)) || !doc_figures(d, p, m)) {
		report_doc_free(d);
		return err_set(e, ERR_NOMEM, "out of memory building the report");
	}
	*out = d;
	return 0;
}

int report_doc_from_profile(struct report_doc **out, const struct profile *p, const struct report_meta *m,
			    struct err *e)
{
	int rc = report_doc_build(out, p, m, e);
	/* the saved figures are matched by name in a diff: refused as a loaded
	 * file with repeated names would be */
	if (!rc && (rc = report_doc_check_names(*out, e))) {
		report_doc_free(*out);
		*out = NULL;
	}
	return rc;
}

void report_run_free(struct report_run *r)
{
	run_free(r);
}
