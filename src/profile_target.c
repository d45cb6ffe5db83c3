/* profile_target.c: the target description (which type is the root, where
 * the entity tables and the registry are, which fields name tables and
 * features), the built-in beava one, and reading labels out of the core.
 *
 * The engine knows Rust; this file knows nothing of beava beyond the JSON
 * below, which --profile FILE replaces.  Paths are dotted member names; at
 * every step wrappers (Arc, Box, Mutex, RwLock, UnsafeCell, OnceLock, ...)
 * are seen through, so a path never names them.
 */
#include "profile_int.h"

#include <jansson.h>
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
