/* profile.c: the driver of profile_run (include/profile.h): the target
 * description, the enum, the root (found, or validated where named), the
 * root's own allocations, then the walk of the tables (the target's,
 * profile_target.c, or generic mode's, profile_generic.c) charged by
 * attribution (profile_attr.c), the rest of the heap (profile_heap.c) and
 * the version facts.  The errors that say what to name instead are
 * profile_diag.c's.
 *
 * The caller's image, types and heap are read, never changed (the heap's
 * chunk index is used as the census left it), and must outlive the
 * profile.
 */
#include "profile_int.h"
#include "container.h"
#include "roots.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ setup */

static int setup_enum(struct profile *p, const struct types *t, const char *name, type_id *out, struct err *e)
{
	type_id id;
	int rc = types_lookup(t, name, &id, e);
	if (rc)
		return err_wrap(e, rc, "--enum %s", name);
	id = types_resolve(t, id);
	const struct types_type *et = types_get(t, id);
	if (!et->vpart)
		return err_set(e, ERR_INPUT, "%s is not a Rust enum with data (no variant part)", et->name);
	rc = types_layout_enum(t, id, &p->layout, e);
	if (rc)
		return rc;
	p->enum_name = et->name;
	p->enum_size = et->size;
	p->enum_align = et->align;
	p->nvariants = p->layout.nvariants;
	p->variants = calloc(p->nvariants ? p->nvariants : 1, sizeof *p->variants);
	if (!p->variants)
		return err_set(e, ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < p->nvariants; i++) {
		p->variants[i].name = p->layout.variants[i].name;
		p->variants[i].payload_size = p->layout.variants[i].payload_size;
	}
	*out = id;
	return 0;
}

/* The root's own allocations (counted once, on their own line; the walk
 * then treats them as seen). */
struct root_count {
	struct profile *p;
	struct walk *w;
	const struct heap *h;
};

static void root_alloc(void *ctx, uint64_t mem, uint64_t requested)
{
	struct root_count *c = ctx;
	size_t i = c->h ? heap_find(c->h, mem) : SIZE_MAX;
	c->p->root_alloc_count++;
	c->p->root_alloc_requested += requested;
	if (i != SIZE_MAX)
		c->p->root_alloc_chunk += heap_chunk_get(c->h, i).size;
	walk_mark_seen(c->w, mem);
}

static int find_root(struct run *r, const struct image *img, const struct heap *h, const struct target *tg,
		     const struct profile_options *opt, bool generic, struct roots_result *root, struct vctx *v)
{
	int rc;
	memset(root, 0, sizeof *root);
	if (opt->root && strncmp(opt->root, "0x", 2) == 0) {
		/* an address: in target mode the target's ArcInner<root type>
		 * that holds it (so the report is auto mode's, ArcInner counted);
		 * in generic mode 0xADDR:TYPE as said, 0xADDR the one Arc/Rc-held
		 * type there that reaches the enum */
		uint64_t addr = strtoull(opt->root, NULL, 16);
		struct err ie = {0};
		if (generic && strchr(opt->root, ':'))
			return roots_addr_type(walk_dec(r->w), opt->root, root, r->e);
		rc = generic ? roots_addr_infer(img, r->t, h, addr, NULL, generic_validate, v, root, &ie) :
			       roots_addr_infer(img, r->t, h, addr, tg->root_type, target_validate_root, v, root, &ie);
		if (rc && strchr(opt->root, ':'))
			return roots_addr_type(walk_dec(r->w), opt->root, root, r->e);
		if (rc)
			*r->e = ie;
		else
			walk_mark_seen(r->w, root->alloc);
		return rc;
	}
	if (opt->root && strcmp(opt->root, "auto") != 0)
		return roots_symbol(walk_dec(r->w), opt->root, root, r->e);
	rc = roots_heap_scan(img, r->t, h, tg->root_type, target_validate_root, v, root, r->e);
	if (rc == 0)
		walk_mark_seen(r->w, root->alloc);   /* a cycle back to the root is not owned */
	if (rc == ERR_NOTFOUND || rc == ERR_AMBIGUOUS) {
		char why[sizeof r->e->msg];
		memcpy(why, r->e->msg, sizeof why);   /* the message is rewritten in place */
		return err_set(r->e, ERR_INPUT, "root not found: %.480s", why);
	}
	return rc;
}

int profile_run(struct profile **out, const struct image *img, const struct types *t,
		const struct heap *h, const struct profile_options *opt, struct err *e)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct profile *p = calloc(1, sizeof *p);
	struct target tg;
	struct run r = {.p = p, .t = t, .e = e, .progress = opt->progress && isatty(2)};
	struct label_tables labels;
	type_id enum_id = 0;
	int rc;

	label_tables_init(&labels);
	wh_init(&r.wh);
	shadows_init(&r.shadows);
	shadow_index_init(&r.shadow_idx);
	if (!p)
		return err_set(e, ERR_NOMEM, "out of memory");
	p->entity_count_static = UINT64_MAX;
	rc = target_load(&tg, opt->target_file, e);
	if (rc)
		goto fail;
	if (opt->config_file && (rc = target_config_check(opt->config_file, e)))
		goto fail;
	/* --root 0xADDR keeps the target mode when the executable has the
	 * target's root type (and no other enum was asked for) */
	bool generic = opt->root && strcmp(opt->root, "auto") != 0 && !opt->target_file &&
		       !(strncmp(opt->root, "0x", 2) == 0 && target_mode_fits(t, &tg, opt));
	/* --enum E alone on an executable without the target's root type:
	 * generic mode, the root discovered (issue 20); --root TYPE (a type,
	 * not a static): a typed heap scan for it */
	const struct types_static *tmp_st;
	bool no_target = !target_in_exe(t, &tg, opt);
	bool discover = !opt->target_file && opt->enum_name && no_target && (!opt->root || strcmp(opt->root, "auto") == 0);
	type_id root_type_named = 0;
	if (generic && strncmp(opt->root, "0x", 2) != 0 && types_static_lookup(t, opt->root, &tmp_st, NULL) != 0 &&
	    types_lookup(t, opt->root, &root_type_named, NULL) == 0 &&
	    types_get(t, types_resolve(t, root_type_named))->kind == TYPES_STRUCT)
		discover = true;
	else
		root_type_named = 0;
	generic = generic || discover;
	struct profile_options lopt = *opt;   /* a discovered root's name for the report */
	char found[256] = "";
	snprintf(p->target_name, sizeof p->target_name, "%s", generic ? "generic" : tg.name);
	p->generic = generic;
	struct dec *dc;
	if ((rc = dec_create(&dc, img, t, h, e)) || (rc = walk_create(&r.w, dc, e)))
		goto fail;
	p->walker = r.w;
	const char *enum_name = opt->enum_name ? opt->enum_name : (tg.enum_name ? tg.enum_name : "AggOp");
	if (generic && (rc = generic_enum(t, &tg, opt, &enum_name, e)))
		goto fail;
	rc = setup_enum(p, t, enum_name, &enum_id, e);
	if (rc) {
		if (!generic && !opt->target_file && !opt->enum_name && !opt->root)
			rc = diag_target_root_missing(t, &tg, p, opt, e) ? ERR_USAGE : rc;
		goto fail;
	}
	if (!generic && !opt->target_file && (!opt->root || strcmp(opt->root, "auto") == 0) &&
	    (rc = diag_target_root_missing(t, &tg, p, opt, e)))
		goto fail;

	struct roots_result root;
	struct vctx v = {r.w, t, &tg, enum_id};
	if (discover) {
		rc = generic_discover_root(&r, img, h, &v, types_resolve(t, root_type_named), &root, found, sizeof found);
		if (rc)
			goto fail;
		lopt.root = found;
		opt = &lopt;
	} else
		rc = find_root(&r, img, h, &tg, opt, generic, &root, &v);
	if (rc) {
		if (generic)
			rc = diag_no_such_static(t, p, opt, enum_name, rc, e);
		goto fail;
	}
	p->root_addr = root.addr;
	snprintf(p->root_how, sizeof p->root_how, "%s", root.how);
	snprintf(p->root_type, sizeof p->root_type, "%s", types_get(t, root.type)->name);
	{
		/* the root's own allocations: its ArcInner, the owning pointers
		 * on the way to the tables and the tables container's buffer
		 * (a split generic root: the root container's buffer) */
		struct root_count rcnt = {p, r.w, h};
		if (root.alloc)
			root_alloc(&rcnt, root.alloc, root.alloc_size);
		if (!generic)
			target_path_allocs(r.w, t, root.addr, root.type, tg.tables, root_alloc, &rcnt, NULL);
		else if (generic_splits(t, &root, enum_id)) {
			uint64_t mem, req;
			if (walk_owned(r.w, root.addr, root.type, &mem, &req, NULL) == 0 && mem)
				root_alloc(&rcnt, mem, req);
		}
	}

	struct walk_callbacks cb = attr_callbacks(&r);
	walk_set_op_type(r.w, enum_id);
	walk_set_callbacks(r.w, &cb);
	/* what rejected root candidates could not read is not part of the walk */
	walk_reset_stats(r.w);
	struct timespec w0, w1;
	clock_gettime(CLOCK_MONOTONIC, &w0);
	/* what finding the root read is not needed again: the walk starts
	 * with none of the core mapped and keeps only a window of it */
	image_release(img, 0, UINT64_MAX);
	for (size_t i = 0; h && i < heap_chunk_count(h); i++) {
		struct heap_chunk c = heap_chunk_get(h, i);
		if (c.state == HEAP_INUSE)
			p->heap_in_use_chunk_bytes += c.size;
	}
	if (h && wh_arenas_take(&r.wh, h) != 0) {
		rc = err_set(e, ERR_NOMEM, "out of memory");
		goto fail;
	}
	if (h && opt->release_chunks == h)
		heap_drop_chunks(opt->release_chunks);   /* the caller's leave: the walker has its map */
	if (generic) {
		if (opt->config_file)
			target_config_labels(opt->config_file, &labels, NULL);
		rc = generic_queue(&r, opt, &root, enum_id, e);
		if (rc)
			goto fail;
		if (!r.failed)
			attr_drain_and_close(&r);
	} else if ((rc = target_walk(&r, &tg, root.addr, root.type, &labels, opt, e))) {
		goto fail;
	}
	clock_gettime(CLOCK_MONOTONIC, &w1);
	p->walk_seconds = (double)(w1.tv_sec - w0.tv_sec) + (double)(w1.tv_nsec - w0.tv_nsec) / 1e9;
	if (tg.entity_count_static) {
		const struct types_static *s;
		uint64_t val;
		if (types_static_lookup(t, tg.entity_count_static, &s, NULL) == 0 &&
		    walk_read_uint(r.w, s->addr + image_bias(img), s->type, &val, NULL) == 0)
			p->entity_count_static = val;
	}
	if (r.failed) {
		rc = r.failed == ERR_CORRUPT ?
			err_set(e, ERR_INPUT, "more than %u entity tables: not a table vector", MAX_TABLES) :
			err_set(e, r.failed, "out of memory while profiling");
		goto fail;
	}
	attr_finish(&r);
	if (r.failed) {
		rc = err_set(e, ERR_NOMEM, "out of memory while profiling");
		goto fail;
	}
	walk_get_stats(r.w, &p->walk);
	if (generic && p->ops == 0) {
		rc = diag_reached_nothing(&r, opt, e);
		goto fail;
	}
	/* the rest of the heap: the root state's other fields, the statics,
	 * the classified remainder */
	rc = wh_run(&r.wh, p, img, t, root.addr, root.type, !generic, generic ? NULL : tg.tables, generic ? root.addr : 0, e);
	if (rc)
		goto fail;
	/* which releases of rustc, std and the crates the walk assumed, and why */
	if ((rc = profile_add_versions(p, types_versions(t), e)) != 0 ||
	    (h && (rc = profile_add_versions(p, heap_versions(h), e)) != 0) ||
	    (rc = profile_add_versions(p, walk_versions(r.w), e)) != 0)
		goto fail;
	if (r.progress)
		fprintf(stderr, "\r%60s\r", "");
	target_labels_free(&labels);
	target_free(&tg);
	attr_run_deinit(&r);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	p->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	*out = p;
	return 0;
fail:
	target_labels_free(&labels);
	target_free(&tg);
	attr_run_deinit(&r);
	profile_free(p);
	return rc ? rc : e->code ? e->code : ERR_INPUT;
}

const struct walk *profile_walker(const struct profile *p)
{
	return p->walker;
}

int profile_add_versions(struct profile *p, const struct version_facts *f, struct err *e)
{
	for (size_t i = 0; i < f->len; i++) {
		const struct version_fact *v = &f->data[i];
		if (!version_note(&p->versions, v->dep, v->what, v->value, "%s", v->evidence))
			return err_set(e, ERR_NOMEM, "out of memory recording detected versions");
	}
	return 0;
}

void profile_copy_plain(struct profile *dst, const struct profile *src)
{
	*dst = *src;
	dst->walker = NULL;
	dst->variants = NULL;
	dst->nvariants = 0;
	dst->layout.variants = NULL;
	dst->layout.nvariants = 0;
	profile_tables_init(&dst->tables);
	profile_entity_ops_init(&dst->largest_ops);
	version_facts_init(&dst->versions);
	profile_owners_init(&dst->whole.owners);
	profile_rest_rows_init(&dst->whole.rows);
}

void profile_free(struct profile *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nvariants; i++)
		profile_fields_deinit(&p->variants[i].fields);
	free(p->variants);
	types_layout_enum_free(&p->layout);
	for (size_t i = 0; i < p->tables.len; i++) {
		struct profile_table *tb = &p->tables.data[i];
		for (size_t f = 0; f < tb->features.len; f++) {
			struct profile_feature *ft = &tb->features.data[f];
			free(ft->name);
			free(ft->op);
			profile_fields_deinit(&ft->fields);
			for (size_t c = 0; c < ft->cells.len; c++) {
				profile_fields_deinit(&ft->cells.data[c].fields);
				profile_u64s_deinit(&ft->cells.data[c].inst_req);
			}
			profile_cells_deinit(&ft->cells);
		}
		profile_features_deinit(&tb->features);
		free(tb->name);
		free(tb->source);
		free(tb->key);
		profile_u64s_deinit(&tb->ent_bytes);
		profile_u64s_deinit(&tb->ent_chunk);
	}
	profile_tables_deinit(&p->tables);
	profile_entity_ops_deinit(&p->largest_ops);
	for (size_t i = 0; i < p->whole.owners.len; i++) {
		free(p->whole.owners.data[i].name);
		free(p->whole.owners.data[i].owner);
	}
	profile_owners_deinit(&p->whole.owners);
	profile_rest_rows_deinit(&p->whole.rows);
	version_facts_deinit(&p->versions);
	walk_destroy(p->walker);
	free(p);
}
