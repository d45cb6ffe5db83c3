/* profile_target.c: the target description (which type is the root, where
 * the entity tables and the registry are, which fields name tables and
 * features), the built-in beava one, reading labels out of the core, and
 * the target's walk: a root candidate validated (its tables vector and every
 * table's entity maps hold together), then each table's maps queued under
 * the table's tag and walked in one pass (target_walk), charged by
 * profile_attr.c.
 *
 * The engine knows Rust; this file knows nothing of beava beyond the JSON
 * below, which --profile FILE replaces.  Paths are dotted member names; at
 * every step wrappers (Arc, Box, Mutex, RwLock, UnsafeCell, OnceLock, ...)
 * are seen through, so a path never names them.
 */
#include "profile_int.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* beava-dev/beava: Arc<AppState>{dev_agg: DevAggState{state_tables:
 * Arc<parking_lot::Mutex<Vec<AggStateTable>>>, registry: Arc<Registry>}},
 * Registry{inner: RwLock<RegistryInner{compiled_aggregations:
 * BTreeMap<String, Arc<AggregationDescriptor>>}}} (target-model.md s3). */
static const char BEAVA_TARGET[] =
	"{\n"
	"  \"name\": \"beava\",\n"
	"  \"enum\": \"AggOp\",\n"
	"  \"root_type\": \"AppState\",\n"
	"  \"tables\": \"dev_agg.state_tables\",\n"
	"  \"entity_maps\": [\"single_u64\", \"single_str\", \"multi\"],\n"
	"  \"registry\": \"dev_agg.registry.inner.compiled_aggregations\",\n"
	"  \"descriptor\": {\n"
	"    \"agg_id\": \"agg_id\", \"name\": \"node_name\", \"source\": \"source_node_name\",\n"
	"    \"key\": \"group_keys\", \"features\": \"features\", \"feature_name\": \"feature_name\",\n"
	"    \"feature_op\": \"descriptor.kind\", \"feature_window\": \"descriptor.window_ms\"\n"
	"  },\n"
	"  \"entity_count_static\": \"ENTITY_COUNT_RESIDENT_SNAPSHOT\"\n"
	"}\n";

static char *dup_str(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_string(v) ? strdup(json_string_value(v)) : NULL;
}

int target_load(struct target *tg, const char *file, struct err *e)
{
	json_error_t je;
	json_t *root = file ? json_load_file(file, 0, &je) : json_loads(BEAVA_TARGET, 0, &je);
	memset(tg, 0, sizeof *tg);
	if (!root)
		return err_set(e, ERR_INPUT, "%s: line %d: %s", file ? file : "built-in target", je.line, je.text);
	tg->name = dup_str(root, "name");
	tg->enum_name = dup_str(root, "enum");
	tg->root_type = dup_str(root, "root_type");
	tg->tables = dup_str(root, "tables");
	tg->registry = dup_str(root, "registry");
	tg->entity_count_static = dup_str(root, "entity_count_static");
	json_t *maps = json_object_get(root, "entity_maps");
	for (size_t i = 0; json_is_array(maps) && i < json_array_size(maps) && tg->nmaps < TARGET_MAX_MAPS; i++)
		if (json_is_string(json_array_get(maps, i)))
			tg->maps[tg->nmaps++] = strdup(json_string_value(json_array_get(maps, i)));
	json_t *d = json_object_get(root, "descriptor");
	if (json_is_object(d)) {
		tg->d_agg_id = dup_str(d, "agg_id");
		tg->d_name = dup_str(d, "name");
		tg->d_source = dup_str(d, "source");
		tg->d_key = dup_str(d, "key");
		tg->d_features = dup_str(d, "features");
		tg->d_feature_name = dup_str(d, "feature_name");
		tg->d_feature_op = dup_str(d, "feature_op");
		tg->d_feature_window = dup_str(d, "feature_window");
	}
	json_decref(root);
	if (!tg->name || !tg->root_type || !tg->tables)
		return err_set(e, ERR_INPUT, "%s: a target needs \"name\", \"root_type\" and \"tables\"",
			       file ? file : "built-in target");
	return 0;
}

void target_free(struct target *tg)
{
	char **s[] = {&tg->name, &tg->enum_name, &tg->root_type, &tg->tables, &tg->registry,
		      &tg->entity_count_static, &tg->d_agg_id, &tg->d_name, &tg->d_source, &tg->d_key,
		      &tg->d_features, &tg->d_feature_name, &tg->d_feature_op, &tg->d_feature_window};
	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
		free(*s[i]);
		*s[i] = NULL;
	}
	for (size_t i = 0; i < tg->nmaps; i++)
		free(tg->maps[i]);
	tg->nmaps = 0;
}

/* Follows a dotted member path from (addr, ty), seeing through wrappers at
 * every step; with fn, every allocation owned on the way (and by the value at
 * its end) is handed to it.  The value reached is left in *oa, *ot. */
static int follow_path(struct walk *w, const struct types *t, uint64_t addr, type_id ty, const char *path,
		       target_alloc_fn fn, void *ctx, uint64_t *oa, type_id *ot, struct err *e)
{
	char seg[128];
	uint64_t mem, req;
	int rc = walk_unwrap(w, addr, ty, &addr, &ty, e);
	while (!rc && path && *path) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);
		if (n >= sizeof seg)
			return err_set(e, ERR_INPUT, "path segment too long: %s", path);
		memcpy(seg, path, n);
		seg[n] = 0;
		uint64_t off;
		if (types_member_path(t, ty, seg, &off, &ty, NULL) != 0) {
			const struct types_type *tt = types_get(t, ty);
			return err_set(e, ERR_NOTFOUND, "%s has no member '%s'", tt ? tt->name : "?", seg);
		}
		if (fn) {
			rc = walk_owned(w, addr + off, ty, &mem, &req, e);
			if (!rc && mem)
				fn(ctx, mem, req);
		}
		if (!rc)
			rc = walk_unwrap(w, addr + off, ty, &addr, &ty, e);
		path = dot ? dot + 1 : NULL;
	}
	if (!rc && fn && (rc = walk_owned(w, addr, ty, &mem, &req, e)) == 0 && mem)
		fn(ctx, mem, req);
	if (!rc) {
		*oa = addr;
		*ot = ty;
	}
	return rc;
}

int target_path(struct walk *w, const struct types *t, uint64_t addr, type_id ty, const char *path,
		uint64_t *oa, type_id *ot, struct err *e)
{
	return follow_path(w, t, addr, ty, path, NULL, NULL, oa, ot, e);
}

int target_path_allocs(struct walk *w, const struct types *t, uint64_t addr, type_id ty, const char *path,
		       target_alloc_fn fn, void *ctx, struct err *e)
{
	uint64_t oa;
	type_id ot;
	return follow_path(w, t, addr, ty, path, fn, ctx, &oa, &ot, e);
}

/* ---------------------------------------------------------------- labels */

struct label_ctx {
	struct walk *w;
	const struct types *t;
	const struct target *tg;
	struct label_tables *out;
	struct err *e;
};

static char *read_str_path(struct label_ctx *c, uint64_t a, type_id ty, const char *path)
{
	char buf[256];
	uint64_t fa;
	type_id ft;
	if (!path || target_path(c->w, c->t, a, ty, path, &fa, &ft, NULL) != 0)
		return NULL;
	if (walk_read_string(c->w, fa, ft, buf, sizeof buf, NULL) != 0)
		return NULL;
	return strdup(buf);
}

/* Stops at the first element, remembering its address. */
static int first_elem(void *ctx, uint64_t ka, type_id kt, uint64_t va, type_id vt)
{
	uint64_t *out = ctx;
	(void)ka;
	(void)kt;
	(void)vt;
	*out = va;
	return 1;
}

static char *read_key_name(struct label_ctx *c, uint64_t a, type_id ty, const char *path)
{
	char *s = read_str_path(c, a, ty, path);
	if (s || !path)
		return s;
	/* a Vec<String> of group keys: the first one */
	uint64_t fa, first = 0;
	type_id ft;
	if (target_path(c->w, c->t, a, ty, path, &fa, &ft, NULL) != 0)
		return NULL;
	type_id el = types_resolve(c->t, types_tparam(c->t, ft, "T"));
	char buf[256];
	if (!el || walk_elements(c->w, fa, ft, first_elem, &first, NULL) != 1 ||
	    walk_read_string(c->w, first, el, buf, sizeof buf, NULL) != 0)
		return NULL;
	return strdup(buf);
}

/* The op kind of a feature: a fieldless enum's enumerator name, or a Rust
 * enum's active variant name. */
static char *read_kind(struct label_ctx *c, uint64_t a, type_id ty, const char *path)
{
	uint64_t fa;
	type_id ft;
	if (!path || target_path(c->w, c->t, a, ty, path, &fa, &ft, NULL) != 0)
		return NULL;
	const struct types_type *tt = types_get(c->t, ft);
	if (!tt)
		return NULL;
	if (tt->kind == TYPES_ENUMERATION) {
		uint64_t v = 0;
		if (walk_read_uint(c->w, fa, ft, &v, NULL) != 0)
			return NULL;
		for (uint32_t i = 0; i < tt->nenumerators; i++)
			if ((uint64_t)tt->enumerators[i].value == v)
				return strdup(tt->enumerators[i].name);
		return NULL;
	}
	uint32_t vi;
	if (tt->vpart && walk_variant(c->w, fa, ft, &vi, NULL) == 0)
		return strdup(tt->vpart->variants[vi].name);
	return NULL;
}

static uint64_t read_opt_u64(struct label_ctx *c, uint64_t a, type_id ty, const char *path)
{
	uint64_t fa, v = 0;
	type_id ft;
	if (!path || target_path(c->w, c->t, a, ty, path, &fa, &ft, NULL) != 0)
		return 0;
	const struct types_type *tt = types_get(c->t, ft);
	if (tt && tt->vpart) {   /* Option<u64>: the Some payload, 0 for None */
		uint32_t vi;
		if (walk_variant(c->w, fa, ft, &vi, NULL) != 0)
			return 0;
		const struct types_variant *va = &tt->vpart->variants[vi];
		const struct types_type *vt = types_get(c->t, types_resolve(c->t, va->type));
		if (!vt || vt->nmembers == 0)
			return 0;
		fa += va->offset + vt->members[0].offset;
		ft = types_resolve(c->t, vt->members[0].type);
	}
	if (walk_read_uint(c->w, fa, ft, &v, NULL) != 0)
		return 0;
	return v;
}

struct feat_ctx {
	struct label_ctx *c;
	struct label_table *lt;
};

static int each_feature(void *ctx, uint64_t ka, type_id kt, uint64_t va, type_id vt)
{
	struct feat_ctx *f = ctx;
	struct label_ctx *c = f->c;
	(void)ka;
	(void)kt;
	if (f->lt->nfeatures >= sizeof f->lt->features / sizeof f->lt->features[0])
		return 1;
	struct label_feature *lf = &f->lt->features[f->lt->nfeatures++];
	lf->name = read_str_path(c, va, vt, c->tg->d_feature_name);
	lf->op = read_kind(c, va, vt, c->tg->d_feature_op);
	lf->window_ms = read_opt_u64(c, va, vt, c->tg->d_feature_window);
	return 0;
}

static int each_descriptor(void *ctx, uint64_t ka, type_id kt, uint64_t va, type_id vt)
{
	struct label_ctx *c = ctx;
	uint64_t a, id = 0, fa;
	type_id t, ft;
	(void)ka;
	(void)kt;
	if (walk_unwrap(c->w, va, vt, &a, &t, NULL) != 0)
		return 0;
	struct label_table *lt = label_tables_push(c->out);
	if (!lt)
		return ERR_NOMEM;
	if (c->tg->d_agg_id && target_path(c->w, c->t, a, t, c->tg->d_agg_id, &fa, &ft, NULL) == 0)
		walk_read_uint(c->w, fa, ft, &id, NULL);
	lt->agg_id = id;
	lt->name = read_str_path(c, a, t, c->tg->d_name);
	lt->source = read_str_path(c, a, t, c->tg->d_source);
	lt->key = read_key_name(c, a, t, c->tg->d_key);
	if (c->tg->d_features && target_path(c->w, c->t, a, t, c->tg->d_features, &fa, &ft, NULL) == 0) {
		struct feat_ctx f = {c, lt};
		walk_elements(c->w, fa, ft, each_feature, &f, NULL);
	}
	return 0;
}

int target_labels(struct walk *w, const struct types *t, const struct target *tg, uint64_t root,
		  type_id root_type, struct label_tables *out, struct err *e)
{
	uint64_t a;
	type_id ty;
	if (!tg->registry)
		return 0;
	int rc = target_path(w, t, root, root_type, tg->registry, &a, &ty, e);
	if (rc)
		return err_wrap(e, rc, "registry (%s)", tg->registry);
	struct label_ctx c = {.w = w, .t = t, .tg = tg, .out = out, .e = e};
	rc = walk_elements(w, a, ty, each_descriptor, &c, e);
	return rc > 0 && rc != ERR_NOMEM ? 0 : rc;
}

void target_labels_free(struct label_tables *l)
{
	for (size_t i = 0; i < l->len; i++) {
		struct label_table *lt = &l->data[i];
		free(lt->name);
		free(lt->source);
		free(lt->key);
		for (size_t j = 0; j < lt->nfeatures; j++) {
			free(lt->features[j].name);
			free(lt->features[j].op);
		}
	}
	label_tables_deinit(l);
}

int target_config_labels(const char *file, struct label_tables *out, struct err *e)
{
	json_error_t je;
	json_t *root = json_load_file(file, 0, &je);
	if (!root)
		return err_set(e, ERR_INPUT, "--config %s: line %d: %s", file, je.line, je.text);
	json_t *nodes = json_object_get(json_object_get(root, "register"), "nodes");
	size_t count = json_is_array(nodes) ? json_array_size(nodes) : 0;
	uint64_t k = 0;
	for (size_t i = 0; i < count; i++) {
		json_t *nd = json_array_get(nodes, i);
		json_t *ops = json_object_get(nd, "ops");
		if (!json_is_string(json_object_get(nd, "kind")) ||
		    strcmp(json_string_value(json_object_get(nd, "kind")), "derivation") != 0)
			continue;
		struct label_table *lt = label_tables_push(out);
		if (!lt) {
			json_decref(root);
			return err_set(e, ERR_NOMEM, "out of memory reading %s", file);
		}
		lt->agg_id = k++;
		lt->name = dup_str(nd, "name");
		json_t *up = json_object_get(nd, "upstreams");
		if (json_is_array(up) && json_is_string(json_array_get(up, 0)))
			lt->source = strdup(json_string_value(json_array_get(up, 0)));
		json_t *op0 = json_array_get(ops, 0);
		json_t *keys = json_object_get(op0, "keys");
		if (json_is_array(keys) && json_is_string(json_array_get(keys, 0)))
			lt->key = strdup(json_string_value(json_array_get(keys, 0)));
		const char *fname;
		json_t *fv;
		json_object_foreach(json_object_get(op0, "agg"), fname, fv) {
			if (lt->nfeatures >= sizeof lt->features / sizeof lt->features[0])
				break;
			struct label_feature *f = &lt->features[lt->nfeatures++];
			f->name = strdup(fname);
			f->op = dup_str(fv, "op");
		}
	}
	json_decref(root);
	return 0;
}

int target_config_check(const char *file, struct err *e)
{
	struct label_tables l;
	label_tables_init(&l);
	int rc = target_config_labels(file, &l, e);
	size_t n = l.len;
	target_labels_free(&l);
	if (rc)
		return rc;
	if (!n)
		return err_set(e, ERR_INPUT, "--config %s: no derivation under register.nodes: not a workload config "
			       "(like fraud-team.json)", file);
	return 0;
}

/* ------------------------------------------------- root validation */

struct tables_check {
	struct vctx *v;
	struct err *e;
	int rc;
};

/* A table holds together when each entity map's header does (its buffer is a
 * live chunk of the right size, its control bytes agree with its item
 * count); the entities themselves are not visited, so damage deep inside one
 * is reported by the walk rather than costing the whole root. */
static int check_table(void *ctx, uint64_t ka, type_id kt, uint64_t va, type_id vt)
{
	struct tables_check *c = ctx;
	(void)ka; (void)kt;
	for (size_t m = 0; m < c->v->tg->nmaps; m++) {
		uint64_t a;
		type_id ty;
		if (target_path(c->v->w, c->v->t, va, vt, c->v->tg->maps[m], &a, &ty, c->e) != 0 ||
		    walk_check(c->v->w, a, ty, c->e) != 0) {
			c->rc = ERR_CORRUPT;
			return 1;
		}
	}
	return 0;
}

int target_validate_root(void *ctx, uint64_t addr, type_id ty, uint64_t *key, struct err *e)
{
	struct vctx *v = ctx;
	uint64_t a;
	type_id t;
	/* every container and owning pointer in the candidate itself must hold */
	if (walk_check(v->w, addr, ty, e) != 0 ||
	    target_path(v->w, v->t, addr, ty, v->tg->tables, &a, &t, e) != 0)
		return ERR_CORRUPT;
	*key = a;   /* candidates leading to the same tables agree */
	struct tables_check c = {v, e, 0};
	if (walk_check(v->w, a, t, e) != 0 || walk_elements(v->w, a, t, check_table, &c, e) != 0 || c.rc)
		return ERR_CORRUPT;
	if (v->tg->registry && (target_path(v->w, v->t, addr, ty, v->tg->registry, &a, &t, e) != 0 ||
				walk_check(v->w, a, t, e) != 0))
		return ERR_CORRUPT;
	return 0;
}

/* ------------------------------------------------------------ walks */

struct tables_walk {
	struct run *r;
	const struct target *tg;
	const struct label_tables *labels;
	uint64_t index;
};

static const struct label_table *label_for(const struct tables_walk *tw, uint64_t agg_id)
{
	for (size_t i = 0; i < tw->labels->len; i++)
		if (tw->labels->data[i].agg_id == agg_id)
			return &tw->labels->data[i];
	return NULL;
}

static int walk_one_table(void *ctx, uint64_t ka, type_id kt, uint64_t va, type_id vt)
{
	struct tables_walk *tw = ctx;
	struct run *r = tw->r;
	struct profile *p = r->p;
	uint64_t idx = tw->index++;
	const struct label_table *lt = label_for(tw, idx);
	char fallback[32];
	(void)ka; (void)kt;
	if (p->tables.len >= MAX_TABLES) {
		r->failed = ERR_CORRUPT;
		return 1;
	}
	snprintf(fallback, sizeof fallback, "table %" PRIu64, idx);
	if (attr_add_table(p, lt && lt->name ? lt->name : fallback, lt ? lt->source : "", lt ? lt->key : "",
		      (uint32_t)idx)) {
		r->failed = ERR_NOMEM;
		return 1;
	}
	r->table = (uint32_t)(p->tables.len - 1);
	if (attr_label_features(attr_table_at(r, r->table), lt)) {
		r->failed = ERR_NOMEM;
		return 1;
	}
	walk_set_tag(r->w, r->table);
	for (size_t m = 0; m < tw->tg->nmaps; m++) {
		uint64_t a;
		type_id ty;
		if (target_path(r->w, r->t, va, vt, tw->tg->maps[m], &a, &ty, NULL) != 0)
			continue;
		walk_queue(r->w, a, ty);
	}
	return r->failed ? 1 : 0;
}

/* The executable is the target's: it has the root type, the root type has
 * the first member of the path to the tables, and --enum (if any) names the
 * target's enum. */
bool target_in_exe(const struct types *t, const struct target *tg, const struct profile_options *opt)
{
	type_id id;
	char seg0[128];
	if (!tg->root_type || !tg->tables || types_lookup(t, tg->root_type, &id, NULL) != 0)
		return false;
	snprintf(seg0, sizeof seg0, "%.*s", (int)strcspn(tg->tables, "."), tg->tables);
	if (types_member_path(t, id, seg0, NULL, NULL, NULL) != 0)
		return false;
	if (opt->enum_name && tg->enum_name) {
		const char *seg = strrchr(opt->enum_name, ':');
		if (strcmp(seg ? seg + 1 : opt->enum_name, tg->enum_name) != 0)
			return false;
	}
	return true;
}

/* Whether an address root keeps the built-in target's mode: the executable
 * is the target's and a :TYPE (if any) names its root type. */
bool target_mode_fits(const struct types *t, const struct target *tg, const struct profile_options *opt)
{
	if (!target_in_exe(t, tg, opt))
		return false;
	const char *colon = strchr(opt->root, ':');
	if (colon && colon[1]) {
		const char *ty = colon + 1, *seg = ty;
		for (const char *q = ty; *q && *q != '<'; q++)
			if (q[0] == ':' && q[1] == ':')
				seg = q + 2;
		size_t n = strlen(tg->root_type);
		if (strncmp(seg, tg->root_type, n) != 0 || (seg[n] && seg[n] != '<'))
			return false;
	}
	return true;
}

int target_walk(struct run *r, const struct target *tg, uint64_t root_addr, type_id root_type,
		struct label_tables *labels, const struct profile_options *opt, struct err *e)
{
	uint64_t ta;
	type_id tt;
	int rc;
	if (target_labels(r->w, r->t, tg, root_addr, root_type, labels, NULL) != 0 || labels->len == 0) {
		target_labels_free(labels);
		if (opt->config_file && (rc = target_config_labels(opt->config_file, labels, e)))
			return rc;
	}
	rc = target_path(r->w, r->t, root_addr, root_type, tg->tables, &ta, &tt, e);
	if (rc) {
		err_wrap(e, rc, "entity tables (%s)", tg->tables);
		return rc;
	}
	struct tables_walk tw = {.r = r, .tg = tg, .labels = labels};
	rc = walk_elements(r->w, ta, tt, walk_one_table, &tw, e);
	if (rc && !r->failed)
		return rc;
	/* every table's maps are queued: one pass over the heap for all */
	if (!r->failed)
		attr_drain_and_close(r);
	return 0;
}
