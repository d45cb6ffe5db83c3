/* types_query.c: answers questions about an index built by types.c: lookups
 * by qualified name or last path segment, prefix searches, member paths,
 * template parameters, the active variant of a Rust enum, statics and
 * vtables.
 *
 * Name lookups go through the multimaps of types_index.c: the exact
 * qualified name, and the last path segment without its generic arguments
 * ("Vec" for "alloc::vec::Vec<f64, alloc::alloc::Global>"), so a short name
 * costs one probe, not a pass over every type.
 */
#include "types_priv.h"
#include "sorted.h"

#include <stddef.h>

#include <stdio.h>
#include <stdlib.h>
#include <ctype.h>
#include <string.h>

/* Candidates examined for an ambiguous lookup before giving up listing them. */
#define TYPES_MAX_CANDIDATES 64

/* Pointer, reference, tuple, slice, array, fn and trait-object names are not
 * paths ("&probe::Neg" must not answer to "Neg"): their segment is all of them. */
static bool is_path(const char *name)
{
	static const char *const not_paths[] = { "dyn ", "fn(", "unsafe ", "extern ", "impl " };
	if (*name == '&' || *name == '*' || *name == '(' || *name == '[')
		return false;
	if (!strchr("dfuei", *name))
		return true; /* no keyword below starts with it */
	for (size_t i = 0; i < sizeof not_paths / sizeof *not_paths; i++)
		if (!strncmp(name, not_paths[i], strlen(not_paths[i])))
			return false;
	return true;
}

const char *types_last_segment(const char *name, size_t *base_len)
{
	const char *seg = name;
	int depth = 0;
	if (!is_path(name)) {
		*base_len = strlen(name);
		return name;
	}
	/* strcspn skips the plain characters (most of a name) a vector at a time */
	for (const char *p = name + strcspn(name, "<>()[]:"); *p; p++, p += strcspn(p, "<>()[]:")) {
		if (*p == '<' || *p == '(' || *p == '[')
			depth++;
		else if ((*p == '>' && (p == name || p[-1] != '-')) || *p == ')' || *p == ']')
			depth--;
		else if (depth == 0 && p[0] == ':' && p[1] == ':')
			seg = p + 2;
	}
	size_t n = strlen(seg);
	const char *lt = seg[0] == '<' ? NULL : strchr(seg, '<');
	*base_len = lt ? (size_t)(lt - seg) : n;
	return seg;
}

static const char *type_name_at(const struct types *t, size_t id)
{
	return t->types[id].name;
}

static const char *static_name_at(const struct types *t, size_t i)
{
	return t->statics[i - 1].name;
}

size_t types_count(const struct types *t)
{
	return t->ntypes;
}

const struct types_type *types_get(const struct types *t, type_id id)
{
	return id <= t->ntypes ? &t->types[id] : &t->types[0];
}

void types_get_stats(const struct types *t, struct types_stats *s)
{
	*s = t->stats;
}

const char *types_build_id(const struct types *t)
{
	return t->build_id;
}

int types_rustc_version(const struct types *t, unsigned *major, unsigned *minor, unsigned *patch)
{
	if (!t->rustc.found)
		return ERR_NOTFOUND;
	if (major)
		*major = t->rustc.major;
	if (minor)
		*minor = t->rustc.minor;
	if (patch)
		*patch = t->rustc.patch;
	return 0;
}

const struct version_facts *types_versions(const struct types *t)
{
	return &t->versions;
}

type_id types_resolve(const struct types *t, type_id id)
{
	/* bounded: a typedef cycle in hostile DWARF ends as "unknown" */
	for (int i = 0; i < 64 && id && id <= t->ntypes; i++) {
		if (t->types[id].kind != TYPES_TYPEDEF)
			return id;
		id = t->types[id].target;
	}
	return 0;
}

/* True when name matches query q as a path suffix: name is q, ends with
 * "::q", or does so once its last segment's generic arguments are dropped. */
static bool suffix_match(const char *name, const char *q, size_t ql)
{
	size_t nl = strlen(name), bl;
	const char *seg = types_last_segment(name, &bl);
	size_t stripped = (size_t)(seg - name) + bl;
	for (int pass = 0; pass < 2; pass++) {
		size_t len = pass ? stripped : nl;
		if (len == ql && !memcmp(name, q, ql))
			return true;
		if (len > ql + 1 && !memcmp(name + len - ql, q, ql) && name[len - ql - 1] == ':' &&
		    name[len - ql - 2] == ':')
			return true;
	}
	return false;
}

struct matches {
	uint32_t ids[TYPES_MAX_CANDIDATES];
	size_t n, total;
};

static void matches_add(struct matches *m, uint32_t id)
{
	if (m->n < TYPES_MAX_CANDIDATES)
		m->ids[m->n++] = id;
	m->total++;
}

/* Exact-name matches first; only when there are none, path-suffix matches.
 * Both end in the query's last segment, so one chain of the segment index
 * holds them all. */
static void find_matches(const struct types_multimap *seg, const struct types_u64_vec *hashes,
			 const char *(*name_at)(const struct types *, size_t),
			 const struct types *t, const char *q, struct matches *m)
{
	size_t ql = strlen(q), bl;
	uint64_t qh = types_hash_bytes(q, ql);
	memset(m, 0, sizeof *m);
	const char *s = types_last_segment(q, &bl);
	uint32_t first = types_multimap_first(seg, (struct types_strkey){ s, bl ? bl : strlen(s) });
	for (uint32_t id = first; id; id = types_multimap_next(seg, id))
		if (hashes->data[id] == qh && !strcmp(name_at(t, id), q))
			matches_add(m, id);
	if (m->total)
		return;
	for (uint32_t id = first; id; id = types_multimap_next(seg, id))
		if (suffix_match(name_at(t, id), q, ql))
			matches_add(m, id);
}

static int ambiguous(struct err *e, const char *what, const char *q, const struct matches *m,
		     const char *(*name_at)(const struct types *, size_t), const struct types *t)
{
	char list[400] = "";
	size_t used = 0;
	for (size_t i = 0; i < m->n && i < 4 && used < sizeof list; i++)
		used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
					 name_at(t, m->ids[i]));
	return err_set(e, ERR_AMBIGUOUS, "%s '%s' is ambiguous: %zu matches (%s%s); give more of its path",
		       what, q, m->total, list, m->total > 4 ? ", ..." : "");
}

/* Several types of one qualified name: layouts that did not merge (two
 * versions of one crate).  A longer path cannot tell them apart, so the
 * message names their sizes instead (or says that only the types they refer
 * to differ: Vec<dep::Thing> of two versions of `dep`). */
static int ambiguous_layouts(struct err *e, const char *q, const struct matches *m,
			     const struct types *t)
{
	char sizes[200] = "";
	size_t used = 0;
	bool same = true;
	uint64_t first = t->types[types_resolve(t, m->ids[0])].size;
	for (size_t i = 0; i < m->n && i < 8 && used < sizeof sizes; i++) {
		uint64_t sz = t->types[types_resolve(t, m->ids[i])].size;
		same = same && sz == first;
		used += (size_t)snprintf(sizes + used, sizeof sizes - used, "%s%llu", i ? ", " : "",
					 (unsigned long long)sz);
	}
	if (same)
		return err_set(e, ERR_AMBIGUOUS,
			       "type '%s' is ambiguous: %zu different types share the name %s (all %llu bytes, "
			       "differing in the types they refer to; two versions of one crate?)",
			       q, m->total, t->types[m->ids[0]].name, (unsigned long long)first);
	return err_set(e, ERR_AMBIGUOUS,
		       "type '%s' is ambiguous: %zu different layouts share the name %s (sizes %s%s bytes; "
		       "two versions of one crate?)",
		       q, m->total, t->types[m->ids[0]].name, sizes, m->total > 8 ? ", ..." : "");
}

static bool same_names(const struct types *t, const struct matches *m)
{
	for (size_t i = 1; i < m->n; i++)
		if (strcmp(t->types[m->ids[i]].name, t->types[m->ids[0]].name))
			return false;
	return true;
}

/* Edit distance of two short names, case-insensitive (longer ones: far). */
static size_t distance(const char *a, size_t al, const char *b, size_t bl)
{
	size_t row[65];
	if (al > 64 || bl > 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= bl; j++)
		row[j] = j;
	for (size_t i = 1; i <= al; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= bl; j++) {
			size_t up = row[j];
			size_t sub = diag + (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
			row[j] = sub < up + 1 ? sub : up + 1;
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			diag = up;
		}
	}
	return row[bl];
}

#define NEAREST 5

/* The type names nearest to q by their last segment (generic arguments
 * dropped), closest first, as ", did you mean A, B?" in buf; "" when none is
 * close (an edit distance over 1 for up to 3 letters, else over
 * max(2, a third of the name)). */
static void nearest_types(const struct types *t, const char *q, char *buf, size_t size)
{
	size_t ql, bl;
	const char *qs = types_last_segment(q, &ql);
	ql = ql ? ql : strlen(qs);
	size_t limit = ql <= 3 ? 1 : ql / 3 > 2 ? ql / 3 : 2, n = 0, best_d[NEAREST];
	const char *best[NEAREST];
	for (size_t id = 1; id <= t->ntypes; id++) {
		const char *name = t->types[id].name;
		if (!name || !*name || t->types[id].kind == TYPES_POINTER || t->types[id].kind == TYPES_ARRAY)
			continue;
		const char *seg = types_last_segment(name, &bl);
		size_t d = distance(qs, ql, seg, bl ? bl : strlen(seg));
		if (d > limit)
			continue;
		bool dup = false;
		for (size_t k = 0; k < n && !dup; k++)
			dup = !strcmp(best[k], name);
		if (dup)
			continue;
		size_t k = n < NEAREST ? n++ : NEAREST;
		while (k > 0 && (best_d[k - 1] > d || (best_d[k - 1] == d && strcmp(best[k - 1], name) > 0))) {
			if (k < NEAREST) {
				best[k] = best[k - 1];
				best_d[k] = best_d[k - 1];
			}
			k--;
		}
		if (k < NEAREST) {
			best[k] = name;
			best_d[k] = d;
		}
	}
	size_t used = 0;
	buf[0] = 0;
	for (size_t k = 0; k < n && used < size; k++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s", k ? ", " : "; did you mean ", best[k]);
	if (n && used < size)
		snprintf(buf + used, size - used, "?");
}

int types_lookup(const struct types *t, const char *name, type_id *out, struct err *e)
{
	struct matches m;
	*out = 0;
	find_matches(&t->by_segment, &t->name_hash, type_name_at, t, name, &m);
	if (!m.total) {
		/* the suggestions scan every type: only for a caller that keeps
		 * the message (the walk's probes pass no err) */
		char near[400] = "";
		if (e)
			nearest_types(t, name, near, sizeof near);
		return err_set(e, ERR_NOTFOUND, "type '%s' not found in the DWARF%s", name, near);
	}
	/* several names for one type (C's "struct foo" and "typedef struct foo
	 * foo") are not ambiguous: prefer the one that is not a typedef */
	type_id first = types_resolve(t, m.ids[0]), pick = m.ids[0];
	for (size_t i = 0; i < m.n; i++) {
		if (m.total > m.n || types_resolve(t, m.ids[i]) != first)
			return m.total <= m.n && same_names(t, &m)
				       ? ambiguous_layouts(e, name, &m, t)
				       : ambiguous(e, "type", name, &m, type_name_at, t);
		if (t->types[m.ids[i]].kind != TYPES_TYPEDEF && t->types[pick].kind == TYPES_TYPEDEF)
			pick = m.ids[i];
	}
	*out = pick;
	return 0;
}

size_t types_find_prefix(const struct types *t, const char *prefix, type_id *ids, size_t max)
{
	size_t pl = strlen(prefix), n = 0;
	for (size_t id = 1; id <= t->ntypes; id++) {
		if (strncmp(t->types[id].name, prefix, pl))
			continue;
		if (n < max)
			ids[n] = (type_id)id;
		n++;
	}
	return n;
}

int types_find_prefix_all(const struct types *t, const char *prefix, struct types_id_vec *out,
			  struct err *e)
{
	size_t pl = strlen(prefix), len0 = out->len;
	for (size_t id = 1; id <= t->ntypes; id++) {
		if (strncmp(t->types[id].name, prefix, pl))
			continue;
		if (!types_id_vec_append(out, (type_id)id)) {
			out->len = len0;
			return err_set(e, ERR_NOMEM, "out of memory listing the types named %s...", prefix);
		}
	}
	return 0;
}

/* One step of a member path: a member of a struct/union, or a variant of a
 * Rust enum by name (its payload struct, at the variant's offset). */
static bool member_step(const struct types *t, type_id id, const char *step, size_t len,
			uint64_t *off, type_id *type)
{
	const struct types_type *ty = &t->types[id];
	for (uint32_t i = 0; i < ty->nmembers; i++) {
		const struct types_member *m = &ty->members[i];
		if (strlen(m->name) == len && !memcmp(m->name, step, len)) {
			*off += m->offset;
			*type = m->type;
			return true;
		}
	}
	for (uint32_t i = 0; ty->vpart && i < ty->vpart->nvariants; i++) {
		const struct types_variant *v = &ty->vpart->variants[i];
		if (strlen(v->name) == len && !memcmp(v->name, step, len)) {
			*off += v->offset;
			*type = v->type;
			return true;
		}
	}
	return false;
}

int types_member_path(const struct types *t, type_id id, const char *path, uint64_t *offset,
		      type_id *type, struct err *e)
{
	uint64_t off = 0;
	type_id cur = id;
	const char *p = path;
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		type_id r = types_resolve(t, cur);
		if (!r || !member_step(t, r, p, len, &off, &cur))
			return err_set(e, ERR_NOTFOUND, "%s has no member '%.*s' (path '%s')",
				       r && types_get(t, r)->name[0] ? types_get(t, r)->name : "type",
				       (int)len, p, path);
		if (!dot)
			break;
		p = dot + 1;
	}
	if (offset)
		*offset = off;
	if (type)
		*type = cur;
	return 0;
}

type_id types_tparam(const struct types *t, type_id id, const char *name)
{
	const struct types_type *ty = types_get(t, types_resolve(t, id));
	for (uint32_t i = 0; i < ty->ntparams; i++)
		if (!strcmp(ty->tparams[i].name, name))
			return ty->tparams[i].type;
	return 0;
}

static uint32_t dataful_index(const struct types_variant_part *vp)
{
	for (uint32_t i = 0; i < vp->nvariants; i++)
		if (!vp->variants[i].has_discr)
			return i;
	return UINT32_MAX;
}

int types_variant_index(const struct types *t, type_id id, const void *bytes, size_t len,
			uint32_t *index, struct err *e)
{
	const struct types_type *ty = types_get(t, types_resolve(t, id));
	const struct types_variant_part *vp = ty->vpart;
	if (!vp || !vp->nvariants)
		return err_set(e, ERR_NOTFOUND, "%s is not a Rust enum with variants", ty->name);
	if (!vp->has_tag) {
		/* no DW_AT_discr: a univariant enum, its one variant is active */
		*index = dataful_index(vp) != UINT32_MAX ? dataful_index(vp) : 0;
		return 0;
	}
	uint32_t n = vp->tag_size > 8 ? 8 : vp->tag_size; /* u128 tags: low 8 bytes */
	if (!n || vp->tag_offset > len || len - vp->tag_offset < vp->tag_size)
		return err_set(e, ERR_CORRUPT, "%s: tag at +%llu (%u bytes) outside the %zu bytes given",
			       ty->name, (unsigned long long)vp->tag_offset, vp->tag_size, len);
	const unsigned char *b = (const unsigned char *)bytes + vp->tag_offset;
	uint64_t tag = 0;
	for (uint32_t i = 0; i < n; i++)
		tag |= (uint64_t)b[i] << (8 * i);
	for (uint32_t i = 0; i < vp->nvariants; i++) {
		if (vp->variants[i].has_discr && vp->variants[i].discr == tag) {
			*index = i;
			return 0;
		}
	}
	uint32_t d = dataful_index(vp);
	if (d == UINT32_MAX)
		return err_set(e, ERR_CORRUPT, "%s: tag value %#llx matches no variant", ty->name,
			       (unsigned long long)tag);
	*index = d;
	return 0;
}

int types_static_lookup(const struct types *t, const char *name, const struct types_static **out,
			struct err *e)
{
	struct matches m;
	*out = NULL;
	find_matches(&t->statics_by_segment, &t->static_hash, static_name_at, t, name, &m);
	if (!m.total) {
		for (size_t i = 0; i < t->nstatics; i++) {
			if (t->statics[i].linkage_name && !strcmp(t->statics[i].linkage_name, name)) {
				*out = &t->statics[i];
				return 0;
			}
		}
		return err_set(e, ERR_NOTFOUND, "static '%s' not found in the DWARF", name);
	}
	if (m.total > 1)
		return ambiguous(e, "static", name, &m, static_name_at, t);
	*out = &t->statics[m.ids[0] - 1];
	return 0;
}

size_t types_static_count(const struct types *t)
{
	return t->nstatics;
}

const struct types_static *types_static_at(const struct types *t, size_t i)
{
	return i < t->nstatics ? &t->statics[i] : NULL;
}

type_id types_vtable_type(const struct types *t, uint64_t addr)
{
	size_t k = sorted_find(t->vtables, t->nvtables, sizeof *t->vtables, offsetof(struct types_vtable, addr), addr);
	return k != SIZE_MAX ? t->vtables[k].type : 0;
}
