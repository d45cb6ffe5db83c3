/* report_doc.c: a profile as the JSON document --json writes, read back into
 * plain structs for the diff and the exports (include/report.h).
 *
 * A saved profile is a file anyone can hand us, so it is read like the core:
 * every member used later is checked here (present, of its type, integers
 * non-negative), names are unique where the diff matches by name, and one
 * line names the file and the member that is wrong.  After loading, the diff
 * and the exports read the structs and never see jansson.
 *
 * The document of a profile in hand is built by report_build.c from the
 * profile itself (the same members, the same name checks: see
 * report_doc_check_names), so a diff of two cores and a diff of their two
 * saved files cannot disagree.
 */
#include "report.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct ld {
	const char *file;
	struct err *e;
};

/* Names already seen (variants, tables, a table's features): the diff
 * matches by name, so a repeated one is refused. */
struct seen_name {
	const char *name;
	size_t index;
};
static inline const char *seen_key(const struct seen_name *s) { return s->name; }
DEFINE_HASH_TABLE(seen_names, struct seen_name, const char *, seen_key, container_hash_str, container_eq_str)

/* 0 when name is new (and now seen, with its index), 1 when repeated, -1 out of memory. */
static int seen(struct seen_names *set, const char *name, size_t index)
{
	bool ins;
	struct seen_name *s = seen_names_insert(set, name, &ins);
	if (!s)
		return -1;
	if (ins) {
		s->name = name;
		s->index = index;
	}
	return ins ? 0 : 1;
}

/* "where.key", or "key" at the top. */
static const char *at(char *buf, size_t size, const char *where, const char *key)
{
	snprintf(buf, size, "%s%s%s", where, *where ? "." : "", key);
	return buf;
}

static int bad(struct ld *l, const char *where, const char *what)
{
	return err_set(l->e, ERR_INPUT, "%s: not a profile this version of aggop-inspect reads: %s %s", l->file,
		       where, what);
}

static const json_t *member(struct ld *l, const json_t *o, const char *where, const char *key, int *rc)
{
	const json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
	char w[300];
	if (!v)
		*rc = bad(l, at(w, sizeof w, where, key), "is missing");
	return v;
}

/* The member key of o when it has JSON type t; else NULL, *rc set, the
 * message saying it is missing or "is not <what>". */
static const json_t *typed(struct ld *l, const json_t *o, const char *where, const char *key, json_type t,
			   const char *what, int *rc)
{
	char w[300];
	const json_t *v = member(l, o, where, key, rc);
	if (v && json_typeof(v) != t) {
		*rc = bad(l, at(w, sizeof w, where, key), what);
		return NULL;
	}
	return v;
}

static int u64_of(struct ld *l, const json_t *o, const char *where, const char *key, uint64_t *out)
{
	int rc = 0;
	char w[300];
	const json_t *v = typed(l, o, where, key, JSON_INTEGER, "is not a non-negative integer", &rc);
	if (rc)
		return rc;
	if (json_integer_value(v) < 0)
		return bad(l, at(w, sizeof w, where, key), "is not a non-negative integer");
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int str_of(struct ld *l, const json_t *o, const char *where, const char *key, char **out)
{
	int rc = 0;
	const json_t *v = typed(l, o, where, key, JSON_STRING, "is not a string", &rc);
	if (rc)
		return rc;
	if (!(*out = strdup(json_string_value(v))))
		return err_set(l->e, ERR_NOMEM, "out of memory reading %s", l->file);
	return 0;
}

static int arr_of(struct ld *l, const json_t *o, const char *where, const char *key, const json_t **out)
{
	int rc = 0;
	*out = typed(l, o, where, key, JSON_ARRAY, "is not an array", &rc);
	return rc;
}

static int bytes_of(struct ld *l, const json_t *o, const char *where, struct report_doc_bytes *b)
{
	return u64_of(l, o, where, "heap_requested_bytes", &b->requested) ||
	       u64_of(l, o, where, "heap_used_bytes", &b->used) ||
	       u64_of(l, o, where, "heap_usable_bytes", &b->usable) ||
	       u64_of(l, o, where, "heap_chunk_bytes", &b->chunk) ||
	       u64_of(l, o, where, "allocations", &b->allocations) ? l->e->code : 0;
}

static int pct_of(struct ld *l, const json_t *o, const char *where, const char *key, struct profile_pct *p)
{
	int rc = 0;
	const json_t *v = member(l, o, where, key, &rc);
	char w[300];
	if (rc)
		return rc;
	at(w, sizeof w, where, key);
	return u64_of(l, v, w, "p50", &p->p50) || u64_of(l, v, w, "p99", &p->p99) || u64_of(l, v, w, "max", &p->max)
		       ? l->e->code : 0;
}

/* calloc of n elements; n comes from the file, so the product is checked. */
static void *alloc_n(struct ld *l, size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p)
		err_set(l->e, ERR_NOMEM, "out of memory reading %s", l->file);
	return p;
}

static int fields_of(struct ld *l, const json_t *o, const char *where, struct report_doc_field **out, size_t *n)
{
	const json_t *a;
	if (arr_of(l, o, where, "fields", &a))
		return l->e->code;
	*n = json_array_size(a);
	if (!(*out = alloc_n(l, *n, sizeof **out)))
		return l->e->code;
	for (size_t i = 0; i < *n; i++) {
		char w[300];
		const json_t *f = json_array_get(a, i);
		snprintf(w, sizeof w, "%s.fields[%zu]", where, i);
		if (str_of(l, f, w, "path", &(*out)[i].path) || str_of(l, f, w, "container", &(*out)[i].container) ||
		    bytes_of(l, f, w, &(*out)[i].b))
			return l->e->code;
	}
	return 0;
}

/* The enum's layout (enum.variants) joined with the profiled variants
 * (variants[], only those with ops) by name. */
static int variants_of(struct ld *l, const json_t *root, struct report_doc *d, struct seen_names *names)
{
	int rc = 0;
	const json_t *en = member(l, root, "", "enum", &rc), *lv, *pv;
	if (rc || arr_of(l, en, "enum", "variants", &lv) || arr_of(l, root, "", "variants", &pv))
		return l->e->code;
	d->nvariants = json_array_size(lv);
	if (!(d->variants = alloc_n(l, d->nvariants, sizeof *d->variants)))
		return l->e->code;
	for (size_t i = 0; i < d->nvariants; i++) {
		char w[64];
		struct report_doc_variant *v = &d->variants[i];
		const json_t *o = json_array_get(lv, i), *dis;
		snprintf(w, sizeof w, "enum.variants[%zu]", i);
		if (str_of(l, o, w, "name", &v->name) || u64_of(l, o, w, "payload_size", &v->payload_size) ||
		    u64_of(l, o, w, "slot_slack", &v->slot_slack) || !(dis = member(l, o, w, "discriminant", &rc)))
			return l->e->code;
		if (!json_is_null(dis) && !json_is_integer(dis))
			return bad(l, w, "has a discriminant neither null nor an integer");
		v->has_discr = json_is_integer(dis);
		v->discr = v->has_discr ? (int64_t)json_integer_value(dis) : 0;
		if ((rc = seen(names, v->name, i)))
			return rc < 0 ? err_set(l->e, ERR_NOMEM, "out of memory reading %s", l->file)
				      : bad(l, w, "repeats a variant name");
	}
	for (size_t i = 0; i < json_array_size(pv); i++) {
		char w[64];
		char *name = NULL;
		const json_t *o = json_array_get(pv, i);
		snprintf(w, sizeof w, "variants[%zu]", i);
		if (str_of(l, o, w, "variant", &name))
			return l->e->code;
		struct seen_name *sn = seen_names_find(names, name);
		free(name);
		if (!sn)
			return bad(l, w, "names a variant the enum does not have");
		struct report_doc_variant *v = &d->variants[sn->index];
		if (v->profiled)
			return bad(l, w, "repeats a variant");
		v->profiled = true;
		if (u64_of(l, o, w, "count", &v->count) || u64_of(l, o, w, "inline_bytes", &v->inline_bytes) ||
		    u64_of(l, o, w, "payload_bytes", &v->payload_bytes) || bytes_of(l, o, w, &v->heap) ||
		    fields_of(l, o, w, &v->fields, &v->nfields))
			return l->e->code;
	}
	return 0;
}

static int feature_of(struct ld *l, const json_t *o, const char *w, struct report_doc_feature *f)
{
	return str_of(l, o, w, "name", &f->name) || str_of(l, o, w, "variant", &f->variant) ||
	       u64_of(l, o, w, "count", &f->count) || u64_of(l, o, w, "inline_bytes", &f->inline_bytes) ||
	       bytes_of(l, o, w, &f->heap) || pct_of(l, o, w, "heap_requested_per_instance", &f->per_instance) ||
	       fields_of(l, o, w, &f->fields, &f->nfields) ? l->e->code : 0;
}

static int tables_of(struct ld *l, const json_t *root, struct report_doc *d, struct seen_names *names,
		     struct seen_names *fnames)
{
	const json_t *ta;
	if (arr_of(l, root, "", "tables", &ta))
		return l->e->code;
	d->ntables = json_array_size(ta);
	if (!(d->tables = alloc_n(l, d->ntables, sizeof *d->tables)))
		return l->e->code;
	for (size_t i = 0; i < d->ntables; i++) {
		char w[64];
		int rc = 0;
		struct report_doc_table *t = &d->tables[i];
		const json_t *o = json_array_get(ta, i), *fa, *ov;
		snprintf(w, sizeof w, "tables[%zu]", i);
		if (str_of(l, o, w, "name", &t->name) || u64_of(l, o, w, "entities", &t->entities) ||
		    u64_of(l, o, w, "ops", &t->ops) || u64_of(l, o, w, "inline_bytes", &t->inline_bytes) ||
		    bytes_of(l, o, w, &t->heap) || pct_of(l, o, w, "per_entity_bytes", &t->per_entity) ||
		    pct_of(l, o, w, "per_entity_chunk_bytes", &t->per_entity_chunk) ||
		    !(ov = member(l, o, w, "overhead", &rc)) || bytes_of(l, ov, w, &t->overhead) ||
		    arr_of(l, o, w, "features", &fa))
			return l->e->code;
		if ((rc = seen(names, t->name, i)))
			return rc < 0 ? err_set(l->e, ERR_NOMEM, "out of memory reading %s", l->file)
				      : bad(l, w, "repeats a table name");
		seen_names_clear(fnames);
		t->nfeatures = json_array_size(fa);
		if (!(t->features = alloc_n(l, t->nfeatures, sizeof *t->features)))
			return l->e->code;
		for (size_t k = 0; k < t->nfeatures; k++) {
			char fw[96];
			snprintf(fw, sizeof fw, "%s.features[%zu]", w, k);
			if (feature_of(l, json_array_get(fa, k), fw, &t->features[k]))
				return l->e->code;
			if ((rc = seen(fnames, t->features[k].name, k)))
				return rc < 0 ? err_set(l->e, ERR_NOMEM, "out of memory reading %s", l->file)
					      : bad(l, fw, "repeats a feature name of its table");
		}
	}
	return 0;
}

/* The whole heap, when the profile has it (heap.owners, heap.unaccounted). */
static int whole_of(struct ld *l, const json_t *hp, struct report_doc *d)
{
	const json_t *a = json_object_get(hp, "owners"), *u = json_object_get(hp, "unaccounted");
	if (!a && !u)
		return 0;
	if (arr_of(l, hp, "heap", "owners", &a) || !json_is_object(u))
		return l->e->code ? l->e->code : bad(l, "heap.unaccounted", "is not an object");
	d->whole = true;
	d->nowners = json_array_size(a);
	if (!(d->owners = alloc_n(l, d->nowners, sizeof *d->owners)))
		return l->e->code;
	for (size_t i = 0; i < d->nowners; i++) {
		char w[300];
		const json_t *o = json_array_get(a, i);
		struct report_doc_owner *ow = &d->owners[i];
		snprintf(w, sizeof w, "heap.owners[%zu]", i);
		if (str_of(l, o, w, "owner", &ow->owner) || str_of(l, o, w, "field_path", &ow->path) ||
		    str_of(l, o, w, "container", &ow->container) || bytes_of(l, o, w, &ow->b))
			return l->e->code;
	}
	size_t n = json_object_size(u), k = 0;
	if (!(d->rest = alloc_n(l, n, sizeof *d->rest)))
		return l->e->code;
	const char *key;
	const json_t *c;
	json_object_foreach((json_t *)u, key, c) {
		char w[300];
		snprintf(w, sizeof w, "heap.unaccounted.%.200s", key);
		if (str_of(l, c, w, "what", &d->rest[k].what) || u64_of(l, c, w, "chunks", &d->rest[k].chunks) ||
		    u64_of(l, c, w, "chunk_bytes", &d->rest[k].chunk_bytes))
			return l->e->code;
		d->nrest = ++k;
	}
	return 0;
}

static int doc_parse(struct ld *l, const json_t *root, struct report_doc *d)
{
	int rc = 0;
	const json_t *fv, *x;
	if (!json_is_object(root))
		return bad(l, "the document", "is not a JSON object");
	if (!(fv = json_object_get(root, "format_version")))
		return err_set(l->e, ERR_INPUT, "%s: has no format_version: not a profile of format %d (written by "
			       "aggop-inspect --json before profiles carried a version, or not a profile); profile the "
			       "snapshot again", l->file, REPORT_FORMAT_VERSION);
	if (!json_is_integer(fv) || json_integer_value(fv) != REPORT_FORMAT_VERSION)
		return err_set(l->e, ERR_INPUT, "%s: profile format version %s%lld, this aggop-inspect reads version %d; "
			       "profile the snapshot again with this version", l->file,
			       json_is_integer(fv) ? "" : "(not an integer) ",
			       json_is_integer(fv) ? (long long)json_integer_value(fv) : 0LL, REPORT_FORMAT_VERSION);
	const json_t *en = member(l, root, "", "enum", &rc), *tot, *ov, *hp, *tag, *snap;
	if (rc || str_of(l, root, "", "target", &d->target) || str_of(l, en, "enum", "name", &d->enum_name) ||
	    u64_of(l, en, "enum", "size", &d->enum_size) || u64_of(l, en, "enum", "align", &d->enum_align) ||
	    !(tag = member(l, en, "enum", "tag", &rc)) || u64_of(l, tag, "enum.tag", "offset", &d->tag_offset) ||
	    u64_of(l, tag, "enum.tag", "size", &d->tag_size))
		return l->e->code;
	if (!(tot = member(l, root, "", "totals", &rc)) || u64_of(l, tot, "totals", "entities", &d->entities) ||
	    u64_of(l, tot, "totals", "ops", &d->ops) || u64_of(l, tot, "totals", "inline_bytes", &d->inline_bytes) ||
	    u64_of(l, tot, "totals", "payload_bytes", &d->payload_bytes) || bytes_of(l, tot, "totals", &d->heap) ||
	    !(ov = member(l, root, "", "overhead", &rc)) || bytes_of(l, ov, "overhead", &d->overhead) ||
	    pct_of(l, root, "", "per_entity_bytes", &d->per_entity) ||
	    pct_of(l, root, "", "per_entity_chunk_bytes", &d->per_entity_chunk) ||
	    !(hp = member(l, root, "", "heap", &rc)) ||
	    u64_of(l, hp, "heap", "in_use_chunk_bytes", &d->heap_in_use_chunk) ||
	    u64_of(l, hp, "heap", "attributed_chunk_bytes", &d->heap_attributed_chunk) || whole_of(l, hp, d))
		return l->e->code;
	/* the options it was made with (optional: older profiles lack them) */
	const json_t *op = json_object_get(root, "options");
	char **dst[] = {&d->opts.root, &d->opts.enum_name, &d->opts.profile, &d->opts.config};
	static const char *const keys[] = {"root", "enum", "profile", "config"};
	for (size_t i = 0; i < 4; i++) {
		x = json_object_get(op, keys[i]);
		if (x && !json_is_string(x) && !json_is_null(x))
			return bad(l, at((char[64]){0}, 64, "options", keys[i]), "is not a string or null");
		if (json_is_string(x) && !(*dst[i] = strdup(json_string_value(x))))
			return err_set(l->e, ERR_NOMEM, "out of memory reading %s", l->file);
	}
	/* where the snapshot came from: shown, never compared */
	snap = json_object_get(root, "snapshot");
	x = json_object_get(snap, "core");
	d->core = strdup(json_is_string(x) ? json_string_value(x) : "");
	x = json_object_get(snap, "executable");
	d->exe = strdup(json_is_string(x) ? json_string_value(x) : "");
	if (!d->core || !d->exe)
		return err_set(l->e, ERR_NOMEM, "out of memory reading %s", l->file);
	struct seen_names a, b, c;
	seen_names_init(&a);
	seen_names_init(&b);
	seen_names_init(&c);
	rc = variants_of(l, root, d, &a) || tables_of(l, root, d, &b, &c) ? l->e->code : 0;
	seen_names_deinit(&a);
	seen_names_deinit(&b);
	seen_names_deinit(&c);
	return rc;
}

static int doc_from_json(struct report_doc **out, const json_t *root, const char *source, struct err *e)
{
	struct report_doc *d = calloc(1, sizeof *d);
	struct ld l = {source, e};
	*out = NULL;
	if (!d || !(d->source = strdup(source))) {
		free(d);
		return err_set(e, ERR_NOMEM, "out of memory reading %s", source);
	}
	if (doc_parse(&l, root, d)) {
		report_doc_free(d);
		return e->code;
	}
	*out = d;
	return 0;
}

int report_doc_load(struct report_doc **out, const char *path, struct err *e)
{
	json_error_t je;
	*out = NULL;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return err_set(e, ERR_INPUT, "%s: not a JSON profile (line %d: %s)", path, je.line, je.text);
	int rc = doc_from_json(out, root, path, e);
	json_decref(root);
	return rc;
}

/* The loader's name checks, for a document not read from a file. */
int report_doc_check_names(const struct report_doc *d, struct err *e)
{
	struct ld l = {d->source ? d->source : "the profile", e};
	struct seen_names a;
	int rc = 0;
	char w[96];
	seen_names_init(&a);
	for (size_t i = 0; !rc && i < d->nvariants; i++)
		if ((rc = seen(&a, d->variants[i].name, i)))
			rc = rc < 0 ? err_set(e, ERR_NOMEM, "out of memory checking %s", l.file) :
				      bad(&l, (snprintf(w, sizeof w, "enum.variants[%zu]", i), w), "repeats a variant name");
	/* in the loader's order: a table's name, then its features' */
	struct seen_names f;
	seen_names_init(&f);
	seen_names_clear(&a);
	for (size_t i = 0; !rc && i < d->ntables; i++) {
		if ((rc = seen(&a, d->tables[i].name, i))) {
			rc = rc < 0 ? err_set(e, ERR_NOMEM, "out of memory checking %s", l.file) :
				      bad(&l, (snprintf(w, sizeof w, "tables[%zu]", i), w), "repeats a table name");
			break;
		}
		seen_names_clear(&f);
		for (size_t k = 0; !rc && k < d->tables[i].nfeatures; k++)
			if ((rc = seen(&f, d->tables[i].features[k].name, k)))
				rc = rc < 0 ? err_set(e, ERR_NOMEM, "out of memory checking %s", l.file) :
					      bad(&l, (snprintf(w, sizeof w, "tables[%zu].features[%zu]", i, k), w),
						  "repeats a feature name of its table");
	}
	seen_names_deinit(&f);
	seen_names_deinit(&a);
	return rc;
}

static void fields_free(struct report_doc_field *f, size_t n)
{
	for (size_t i = 0; f && i < n; i++) {
		free(f[i].path);
		free(f[i].container);
	}
	free(f);
}

void report_doc_free(struct report_doc *d)
{
	if (!d)
		return;
	report_run_free(d->run);
	for (size_t i = 0; d->variants && i < d->nvariants; i++) {
		free(d->variants[i].name);
		fields_free(d->variants[i].fields, d->variants[i].nfields);
	}
	for (size_t i = 0; d->tables && i < d->ntables; i++) {
		struct report_doc_table *t = &d->tables[i];
		for (size_t k = 0; t->features && k < t->nfeatures; k++) {
			free(t->features[k].name);
			free(t->features[k].variant);
			fields_free(t->features[k].fields, t->features[k].nfields);
		}
		free(t->features);
		free(t->name);
	}
	for (size_t i = 0; d->owners && i < d->nowners; i++) {
		free(d->owners[i].owner);
		free(d->owners[i].path);
		free(d->owners[i].container);
	}
	free(d->owners);
	for (size_t i = 0; d->rest && i < d->nrest; i++)
		free(d->rest[i].what);
	free(d->rest);
	free(d->variants);
	free(d->tables);
	free(d->source);
	free(d->target);
	free(d->enum_name);
	free(d->core);
	free(d->exe);
	free(d->opts.root);
	free(d->opts.enum_name);
	free(d->opts.profile);
	free(d->opts.config);
	free(d);
}
