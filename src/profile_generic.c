/* profile_generic.c: generic mode (include/profile.h), --root without a
 * target description: which enum to profile, where its values live when no
 * static is named (a typed heap scan for Arc/Rc-held structs of the
 * program's own that can hold it), and how the root is queued: one table per
 * element of a container of table-like values, else one table named by the
 * root.  Which types can hold which is worked out from the DWARF alone
 * (generic_reaches), never by reading the core.
 */
#include "profile_int.h"
#include "container.h"
#include "roots.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------- generic mode */

/* A type of the standard library or of a container crate. */
bool generic_std_type(const char *name)
{
	static const char *const prefixes[] = {"core::", "alloc::", "std::", "hashbrown::", "parking_lot",
					       "lock_api::", "smallvec::", "compact_str::"};
	for (size_t i = 0; name && i < sizeof prefixes / sizeof prefixes[0]; i++)
		if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

bool generic_reaches(const struct types *t, type_id ty, type_id want, struct reach_memo *m, unsigned depth)
{
	ty = types_resolve(t, ty);
	if (ty == want)
		return true;
	if (!ty || depth > 12)
		return false;
	struct reach *r = reach_memo_find(m, ty);
	if (r)
		return r->state == REACH_YES;
	if (!(r = reach_memo_insert(m, ty, NULL)))
		return false;
	r->id = ty;
	r->state = REACH_BUSY;
	const struct types_type *tt = types_get(t, ty);
	bool yes = false;
	if (tt) {
		if (tt->kind == TYPES_POINTER || tt->kind == TYPES_ARRAY || tt->kind == TYPES_TYPEDEF)
			yes = generic_reaches(t, tt->target, want, m, depth + 1);
		for (uint32_t i = 0; !yes && i < tt->nmembers; i++)
			yes = generic_reaches(t, tt->members[i].type, want, m, depth + 1);
		for (uint32_t i = 0; !yes && i < tt->ntparams; i++)
			yes = generic_reaches(t, tt->tparams[i].type, want, m, depth + 1);
		for (uint32_t i = 0; !yes && tt->vpart && i < tt->vpart->nvariants; i++)
			yes = generic_reaches(t, tt->vpart->variants[i].type, want, m, depth + 1);
	}
	/* the insertions below may have moved r */
	r = reach_memo_find(m, ty);
	if (r)
		r->state = yes ? REACH_YES : REACH_NO;
	return yes;
}

/* Generic --root 0xADDR: the chunk's value holds together and can hold
 * the enum. */
int generic_validate(void *ctx, uint64_t addr, type_id ty, uint64_t *key, struct err *e)
{
	struct vctx *v = ctx;
	struct reach_memo memo;
	reach_memo_init(&memo);
	bool yes = generic_reaches(v->t, ty, v->enum_id, &memo, 0);
	reach_memo_deinit(&memo);
	*key = addr;
	if (!yes) {
		const struct types_type *tt = types_get(v->t, ty);
		return err_set(e, ERR_NOTFOUND, "%s cannot hold the enum", tt ? tt->name : "?");
	}
	return walk_check(v->w, addr, ty, e) ? ERR_CORRUPT : 0;
}

/* ----------------------------------------- root discovery (no static) */

struct want_ctx {
	const struct types *t;
	type_id enum_id, exact;
};

/* A struct of the program's own that can hold the enum (or exactly the
 * type --root named). */
static bool want_type(void *ctx, type_id ty)
{
	struct want_ctx *w = ctx;
	ty = types_resolve(w->t, ty);
	if (w->exact)
		return ty == w->exact;
	const struct types_type *tt = types_get(w->t, ty);
	if (!tt || tt->kind != TYPES_STRUCT || tt->vpart || !tt->name || tt->name[0] == '(' || generic_std_type(tt->name))
		return false;
	struct reach_memo memo;
	reach_memo_init(&memo);
	bool yes = generic_reaches(w->t, ty, w->enum_id, &memo, 0);
	reach_memo_deinit(&memo);
	return yes;
}

static bool holds_type(void *ctx, type_id outer, type_id inner)
{
	struct want_ctx *w = ctx;
	struct reach_memo memo;
	reach_memo_init(&memo);
	bool yes = generic_reaches(w->t, outer, types_resolve(w->t, inner), &memo, 0);
	reach_memo_deinit(&memo);
	return yes;
}

/* The statics that can hold the enum: how many, and the first one. */
static size_t statics_reaching(const struct types *t, type_id enum_id, const char **first)
{
	size_t n = 0;
	struct reach_memo memo;
	reach_memo_init(&memo);
	*first = NULL;
	for (size_t i = 0; i < types_static_count(t); i++) {
		const struct types_static *st = types_static_at(t, i);
		if (generic_reaches(t, st->type, enum_id, &memo, 0) && n++ == 0)
			*first = st->name;
	}
	reach_memo_deinit(&memo);
	return n;
}

/* Generic mode without a static named: where the enum's values live.  The
 * statics that can hold them, and a typed heap scan for Arc/Rc-held structs
 * of the program's own that can (or, with exact, for that type): one
 * candidate is the root, named in name; several or none are an error that
 * lists them with the flag to pick one. */
int generic_discover_root(struct run *r, const struct image *img, const struct heap *h, struct vctx *v,
			 type_id exact, struct roots_result *root, char *name, size_t namesize)
{
	const struct types *t = r->t;
	const char *en = types_get(t, v->enum_id) ? types_get(t, v->enum_id)->name : "?";
	const char *first = NULL;
	size_t nst = exact ? 0 : statics_reaching(t, v->enum_id, &first);
	struct want_ctx wc = {t, v->enum_id, exact};
	const struct roots_typefilter f = {want_type, holds_type, &wc};
	struct err he = {0};
	int rc = roots_heap_scan_types(img, t, h, &f, generic_validate, v, root, &he);
	if (rc == 0 && nst == 0) {
		snprintf(name, namesize, "%s", types_get(t, root->type)->name);
		walk_mark_seen(r->w, root->alloc);
		return 0;
	}
	if (rc == ERR_NOTFOUND && nst == 1) {
		snprintf(name, namesize, "%s", first);
		rc = roots_symbol(walk_dec(r->w), first, root, r->e);
		if (rc == 0) {
			size_t l = strlen(root->how);
			snprintf(root->how + l, sizeof root->how - l, " (found by itself: the one static that can hold %.100s"
				 " values; no Arc/Rc-held struct on the heap can)", en);
		}
		return rc;
	}
	char holders[300];
	diag_statics_holding(t, en, holders, sizeof holders);
	if (rc == ERR_NOTFOUND && nst == 0)
		return err_set(r->e, ERR_INPUT, "--enum %s without --root: no static can hold %s values and %.300s; name "
			       "the root: --root STATIC, --root TYPE or --root 0xADDR", en, en, he.msg);
	if (rc != 0 && rc != ERR_NOTFOUND && rc != ERR_AMBIGUOUS)
		return err_set(r->e, rc, "%s", he.msg);
	return err_set(r->e, ERR_INPUT, "--enum %s without --root: more than one place holds %s values: %s%s%s%s%s; pick "
		       "one with --root STATIC or --root 0xADDR", en, en, nst ? "statics " : "", holders,
		       nst && rc != ERR_NOTFOUND ? "; on the heap: " : "", rc == ERR_AMBIGUOUS ? he.msg :
		       rc == 0 ? root->how : "", "");
}

/* The Rust enums with data a value of type ty can hold, outside the
 * standard library and the containers' crates: candidates for --enum. */
static void enums_under(const struct types *t, type_id ty, char *buf, size_t size, size_t *len, size_t *n,
			struct reach_memo *seen, unsigned depth)
{
	ty = types_resolve(t, ty);
	if (!ty || depth > 10 || reach_memo_find(seen, ty))
		return;
	struct reach *r = reach_memo_insert(seen, ty, NULL);
	if (!r)
		return;
	r->id = ty;
	const struct types_type *tt = types_get(t, ty);
	if (!tt)
		return;
	if (tt->vpart && !generic_std_type(tt->name) && tt->vpart->nvariants > 1 && *len < size) {
		*len += (size_t)snprintf(buf + *len, size - *len, "%s%s", (*n)++ ? ", " : "", tt->name);
		if (*len >= size)
			*len = size;
	}
	if (tt->kind == TYPES_POINTER || tt->kind == TYPES_ARRAY || tt->kind == TYPES_TYPEDEF)
		enums_under(t, tt->target, buf, size, len, n, seen, depth + 1);
	for (uint32_t i = 0; i < tt->nmembers; i++)
		enums_under(t, tt->members[i].type, buf, size, len, n, seen, depth + 1);
	for (uint32_t i = 0; i < tt->ntparams; i++)
		enums_under(t, tt->tparams[i].type, buf, size, len, n, seen, depth + 1);
	for (uint32_t i = 0; tt->vpart && i < tt->vpart->nvariants; i++)
		enums_under(t, tt->vpart->variants[i].type, buf, size, len, n, seen, depth + 1);
}

/* The enum to profile in generic mode: --enum, or the target's when this
 * executable has it; else a usage error naming the root. */
int generic_enum(const struct types *t, const struct target *tg, const struct profile_options *opt,
			const char **out, struct err *e)
{
	type_id id;
	*out = opt->enum_name;
	if (*out)
		return 0;
	*out = tg->enum_name ? tg->enum_name : "AggOp";
	if (types_lookup(t, *out, &id, NULL) == 0)
		return 0;
	char cands[300] = "";
	size_t len = 0, n = 0;
	const struct types_static *st;
	if (strncmp(opt->root, "0x", 2) != 0 && types_static_lookup(t, opt->root, &st, NULL) == 0) {
		struct reach_memo seen;
		reach_memo_init(&seen);
		enums_under(t, st->type, cands, sizeof cands, &len, &n, &seen, 0);
		reach_memo_deinit(&seen);
	}
	return err_set(e, ERR_USAGE, "--root %s: which enum should be profiled? This executable has no %s (the "
		       "built-in %s target's); name it: --root %s --enum ENUM%s%s%s", opt->root, *out, tg->name, opt->root,
		       n ? " (enums a value of it can hold: " : "", cands, n ? ")" : "");
}

/* The element type of a container type, from its type parameters (V of a
 * map, T of a Vec, VecDeque, set, ...) or an array's; 0 when unknown.  Found
 * from the types alone: iterating the container to look would visit (and
 * mark seen) what the walk must meet first. */
static type_id element_type(const struct types *t, type_id ty)
{
	ty = types_resolve(t, ty);
	const struct types_type *tt = types_get(t, ty);
	if (!tt)
		return 0;
	if (tt->kind == TYPES_ARRAY)
		return types_resolve(t, tt->target);
	type_id el = types_tparam(t, ty, "V");
	return types_resolve(t, el ? el : types_tparam(t, ty, "T"));
}

/* A table-like type: a struct of the program's own (not an enum, a tuple
 * or a library type) with a member that can hold the enum, e.g. beava's
 * AggStateTable. */
static bool table_like(const struct types *t, type_id ty, type_id enum_id)
{
	ty = types_resolve(t, ty);
	const struct types_type *tt = types_get(t, ty);
	if (!ty || !tt || tt->kind != TYPES_STRUCT || tt->vpart || ty == enum_id || !tt->name || tt->name[0] == '(' ||
	    generic_std_type(tt->name))
		return false;
	struct reach_memo memo;
	bool yes = false;
	reach_memo_init(&memo);
	for (uint32_t i = 0; i < tt->nmembers && !yes; i++)
		yes = generic_reaches(t, tt->members[i].type, enum_id, &memo, 0);
	reach_memo_deinit(&memo);
	return yes;
}

struct split {
	struct run *r;
	const char *root;
	uint64_t index;
};

/* One element of a root holding several tables: its own table, named by
 * its `name` member, else by its map key, else by its index. */
static int split_one(void *ctx, uint64_t ka, type_id kt, uint64_t va, type_id vt)
{
	struct split *sp = ctx;
	struct run *r = sp->r;
	struct profile *p = r->p;
	char name[160], key[96] = "";
	uint64_t na, idx = sp->index++;
	type_id nt;
	if (p->tables.len >= MAX_TABLES) {
		r->failed = ERR_CORRUPT;
		return 1;
	}
	if (target_path(r->w, r->t, va, vt, "name", &na, &nt, NULL) == 0 &&
	    walk_read_string(r->w, na, nt, key, sizeof key, NULL) == 0 && key[0])
		snprintf(name, sizeof name, "%s", key);
	else if (ka && (attr_read_key(r, ka, kt, key, sizeof key), key[0]))
		snprintf(name, sizeof name, "%s[%s]", sp->root, key);
	else
		snprintf(name, sizeof name, "%s[%" PRIu64 "]", sp->root, idx);
	if (attr_add_table(p, name, "", "", (uint32_t)idx)) {
		r->failed = ERR_NOMEM;
		return 1;
	}
	walk_set_tag(r->w, (uint32_t)(p->tables.len - 1));
	walk_queue(r->w, va, vt);
	return r->failed ? 1 : 0;
}

/* A generic root that is split into one table per element: a container
 * (or array) of table-like values. */
bool generic_splits(const struct types *t, const struct roots_result *root, type_id enum_id)
{
	const struct types_type *rt = types_get(t, types_resolve(t, root->type));
	return rt && (rt->kind == TYPES_ARRAY || generic_std_type(rt->name)) &&
	       table_like(t, element_type(t, root->type), enum_id);
}

/* Queues the generic root: several tables when it holds table-like
 * values, else one table named by the root. */
int generic_queue(struct run *r, const struct profile_options *opt, const struct roots_result *root,
			 type_id enum_id, struct err *e)
{
	struct profile *p = r->p;
	if (generic_splits(r->t, root, enum_id)) {
		struct split sp = {.r = r, .root = opt->root};
		p->split_tables = true;
		int rc = walk_elements(r->w, root->addr, root->type, split_one, &sp, e);
		if (rc && !r->failed)
			return rc;
		return 0;
	}
	if (attr_add_table(p, opt->root, "", "", 0))
		return err_set(e, ERR_NOMEM, "out of memory");
	walk_set_tag(r->w, 0);
	walk_queue(r->w, root->addr, root->type);
	return 0;
}
