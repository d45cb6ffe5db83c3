/* report_export.c: the stacks of a profile (src/report_export_int.h) and
 * their first export, folded stacks (include/report.h).
 *
 * Folded stacks are Brendan Gregg's format (flamegraph.pl, inferno,
 * speedscope): "frame;frame;...;frame COUNT" a line.  A frame may hold
 * spaces (the reader splits at the last one) but not ';' or a line break,
 * which are replaced.  Lines of weight 0 are left out (the readers drop them
 * anyway), so every family's lines still sum to its total.
 */
#include "report_export_int.h"

#include <string.h>

static const char *const fam_names[REPORT_FAM_COUNT] = {"requested", "used", "usable", "chunk", "allocations",
							"inline"};

int report_family_parse(const char *s, enum report_family *out, struct err *e)
{
	for (int i = 0; i < REPORT_FAM_COUNT; i++)
		if (strcmp(s, fam_names[i]) == 0) {
			*out = (enum report_family)i;
			return 0;
		}
	if (strcmp(s, "objects") == 0) {
		*out = REPORT_FAM_ALLOCATIONS;
		return 0;
	}
	return err_set(e, ERR_USAGE, "unknown byte family '%s' (requested, used, usable, chunk, allocations, inline)",
		       s);
}

const char *report_family_name(enum report_family f)
{
	return (unsigned)f < REPORT_FAM_COUNT ? fam_names[f] : "?";
}

const char *export_frame_kind_name(enum export_frame_kind k)
{
	static const char *const n[EF_COUNT] = {"table", "feature", "variant", "field", "container", "inline",
						"group", "owner", "remainder"};
	return (unsigned)k < EF_COUNT ? n[k] : "?";
}

DEFINE_VECTOR(frame_vec, struct export_frame)

static bool frame_push(struct frame_vec *v, const char *s, size_t n, enum export_frame_kind k)
{
	char *c = strndup(s, n);
	if (!c || !frame_vec_append(v, (struct export_frame){c, k})) {
		free(c);
		return false;
	}
	for (char *p = c; *p; p++)
		if (*p == ';' || *p == '\n' || *p == '\r')
			*p = *p == ';' ? ':' : ' ';
	return true;
}

/* The enum's variant names, for finding the one a field path starts with. */
struct vname {
	const char *name;
	size_t len;
};
struct vkey {
	const char *s;
	size_t n;
};
static inline struct vkey vname_key(const struct vname *v) { return (struct vkey){v->name, v->len}; }
static inline uint64_t vkey_hash(struct vkey k) { return container_hash_bytes(k.s, k.n); }
static inline bool vkey_eq(struct vkey a, struct vkey b) { return a.n == b.n && memcmp(a.s, b.s, a.n) == 0; }
DEFINE_HASH_TABLE(vnames, struct vname, struct vkey, vname_key, vkey_hash, vkey_eq)

/* The length of the variant name a path's first segment (seg, n bytes)
 * starts with: the longest that is the whole segment or is followed there by
 * '['; 0 if none. */
static size_t path_variant(const struct vnames *vn, const char *seg, size_t n)
{
	if (vnames_find(vn, (struct vkey){seg, n}))
		return n;
	for (size_t l = n; l-- > 0;)
		if (seg[l] == '[' && vnames_find(vn, (struct vkey){seg, l}))
			return l;
	return 0;
}

/* The allocations a path's prefixes may be: (path, container) pairs of
 * one feature or one owner. */
struct nest {
	const struct report_doc_field *fields;   /* a feature's, or NULL */
	const struct report_doc_owner *owners;   /* the owners' rows, or NULL */
	const char *owner;                       /* ... of this owner only */
	size_t n;
};

/* A container that holds its contents at its own field path (an Rc/Arc's
 * or a Box's pointee has no segment of its own). */
static bool pointer_like(const char *c)
{
	return !strcmp(c, "Arc") || !strcmp(c, "Rc") || !strcmp(c, "Box") || !strcmp(c, "Box<dyn>");
}

/* The container of an allocation whose path is path[0..len): the first
 * pointer-like one when outer, else the first other one; NULL if none. */
static const char *nest_find(const struct nest *ns, const char *path, size_t len, bool outer)
{
	for (size_t i = 0; i < ns->n; i++) {
		const char *p = ns->fields ? ns->fields[i].path : ns->owners[i].path;
		const char *c = ns->fields ? ns->fields[i].container : ns->owners[i].container;
		if (!ns->fields && strcmp(ns->owners[i].owner, ns->owner) != 0)
			continue;
		if (strlen(p) == len && strncmp(p, path, len) == 0 && pointer_like(c) == outer)
			return c;
	}
	return NULL;
}

/* The container frames of the allocations at path[0..len), outermost
 * first (an Arc, then the Vec inside it), own (the stack's own container,
 * or NULL) left out. */
static bool nest_push(struct frame_vec *v, const struct nest *ns, const char *path, size_t len, const char *own)
{
	const char *o = nest_find(ns, path, len, true), *i = own ? NULL : nest_find(ns, path, len, false);
	if (o && own && !strcmp(o, own))
		o = NULL;
	return (!o || frame_push(v, o, strlen(o), EF_CONTAINER)) && (!i || frame_push(v, i, strlen(i), EF_CONTAINER));
}

static const char *nest_at(const struct nest *ns, const char *path, size_t len)
{
	const char *c = nest_find(ns, path, len, false);
	return c ? c : nest_find(ns, path, len, true);
}

/* The frames of path from offset `from` on, segment by segment, each
 * followed by the container of the allocation its prefix is (if any): a
 * segment "X[*]" whose "X" is an allocation becomes X;container;[*]. */
static bool path_frames(struct frame_vec *v, const struct nest *ns, const char *path, size_t from)
{
	static const char sep[] = " > ";
	size_t len = strlen(path);
	for (size_t at = from; at < len;) {
		const char *end = strstr(path + at, sep);
		size_t segend = end ? (size_t)(end - path) : len;
		const char *br = memchr(path + at, '[', segend - at);
		const char *c = br && br > path + at ? nest_at(ns, path, (size_t)(br - path)) : NULL;
		if (c) {
			size_t b = (size_t)(br - path);
			if (!frame_push(v, path + at, b - at, EF_FIELD) || !nest_push(v, ns, path, b, NULL) ||
			    !frame_push(v, path + b, segend - b, EF_FIELD))
				return false;
		} else if (segend > at && !frame_push(v, path + at, segend - at, EF_FIELD))
			return false;
		if (segend < len && !nest_push(v, ns, path, segend, NULL))
			return false;
		at = end ? segend + strlen(sep) : len;
	}
	return true;
}

static bool field_frames(struct frame_vec *v, const struct vnames *vn, const struct report_doc_feature *f,
			 const struct report_doc_field *fl)
{
	static const char sep[] = " > ";
	const struct nest ns = {f->fields, NULL, NULL, f->nfields};
	const char *p = fl->path, *end = strstr(p, sep);
	size_t n = end ? (size_t)(end - p) : strlen(p);
	size_t l = path_variant(vn, p, n);
	size_t from = 0;
	if (l) {
		if (!frame_push(v, p, l, EF_VARIANT) || (l < n && !nest_push(v, &ns, p, l, NULL)) ||
		    (l < n && !frame_push(v, p + l, n - l, EF_FIELD)))
			return false;
		if (end && !nest_push(v, &ns, p, n, NULL))
			return false;
		from = end ? n + strlen(sep) : n;
	} else if (!frame_push(v, f->variant, strlen(f->variant), EF_VARIANT))
		return false;
	return path_frames(v, &ns, p, from) && (from > strlen(p) || nest_push(v, &ns, p, strlen(p), fl->container)) &&
	       frame_push(v, fl->container, strlen(fl->container), EF_CONTAINER);
}

static int stack_push(struct export_stacks *out, struct frame_vec *v, const uint64_t *val, struct err *e)
{
	struct export_stack *s = export_stacks_push(out);
	if (!s) {
		for (size_t i = 0; i < v->len; i++)
			free(v->data[i].name);
		frame_vec_deinit(v);
		return err_set(e, ERR_NOMEM, "out of memory exporting the profile");
	}
	s->frames = v->data;
	s->nframes = v->len;
	memcpy(s->v, val, sizeof s->v);
	frame_vec_init(v);
	return 0;
}

static void frames_free(struct frame_vec *v)
{
	for (size_t i = 0; i < v->len; i++)
		free(v->data[i].name);
	frame_vec_deinit(v);
}

static int stacks_of(struct export_stacks *out, const struct report_doc *d, const struct vnames *vn,
		     struct err *e);

int export_stacks_make(struct export_stacks *out, const struct report_doc *d, struct err *e)
{
	struct vnames vn;
	vnames_init(&vn);
	export_stacks_init(out);
	for (size_t i = 0; i < d->nvariants; i++) {
		const char *name = d->variants[i].name;
		struct vname *x = vnames_insert(&vn, (struct vkey){name, strlen(name)}, NULL);
		if (!x) {
			vnames_deinit(&vn);
			return err_set(e, ERR_NOMEM, "out of memory exporting the profile");
		}
		*x = (struct vname){name, strlen(name)};
	}
	int rc = stacks_of(out, d, &vn, e);
	vnames_deinit(&vn);
	return rc;
}

static void bytes_val(uint64_t *val, const struct report_doc_bytes *b)
{
	val[REPORT_FAM_REQUESTED] = b->requested;
	val[REPORT_FAM_USED] = b->used;
	val[REPORT_FAM_USABLE] = b->usable;
	val[REPORT_FAM_CHUNK] = b->chunk;
	val[REPORT_FAM_ALLOCATIONS] = b->allocations;
}

/* Pushes the stack built in v (ok: every frame made) with weights val. */
static int stack_done(struct export_stacks *out, struct frame_vec *v, bool ok, const uint64_t *val, struct err *e)
{
	if (!ok) {
		frames_free(v);
		export_stacks_free(out);
		return err_set(e, ERR_NOMEM, "out of memory exporting the profile");
	}
	if (stack_push(out, v, val, e)) {
		export_stacks_free(out);
		return e->code;
	}
	return 0;
}

#define GROUP_TABLES "[tables]"
#define GROUP_OWNERS "[other owners]"
#define GROUP_REST "[no typed owner]"
#define OVERHEAD_FRAME "[containers holding the ops]"

/* The stacks of the typed owners besides the tables, and of the remainder. */
static int whole_stacks(struct export_stacks *out, const struct report_doc *d, struct err *e)
{
	for (size_t i = 0; i < d->nowners; i++) {
		const struct report_doc_owner *o = &d->owners[i];
		struct nest ns = {NULL, d->owners, o->owner, d->nowners};
		struct frame_vec v;
		uint64_t val[REPORT_FAM_COUNT] = {0};
		frame_vec_init(&v);
		bytes_val(val, &o->b);
		bool ok = frame_push(&v, GROUP_OWNERS, strlen(GROUP_OWNERS), EF_GROUP) &&
			  frame_push(&v, o->owner, strlen(o->owner), EF_OWNER) &&
			  (!o->path[0] || nest_push(&v, &ns, o->path, 0, NULL)) && path_frames(&v, &ns, o->path, 0) &&
			  nest_push(&v, &ns, o->path, strlen(o->path), o->container) &&
			  frame_push(&v, o->container, strlen(o->container), EF_CONTAINER);
		if (stack_done(out, &v, ok, val, e))
			return e->code;
	}
	for (size_t i = 0; i < d->nrest; i++) {
		struct frame_vec v;
		uint64_t val[REPORT_FAM_COUNT] = {0};
		frame_vec_init(&v);
		val[REPORT_FAM_CHUNK] = d->rest[i].chunk_bytes;
		val[REPORT_FAM_ALLOCATIONS] = d->rest[i].chunks;
		bool ok = frame_push(&v, GROUP_REST, strlen(GROUP_REST), EF_GROUP) &&
			  frame_push(&v, d->rest[i].what, strlen(d->rest[i].what), EF_REST);
		if (stack_done(out, &v, ok, val, e))
			return e->code;
	}
	return 0;
}

static int stacks_of(struct export_stacks *out, const struct report_doc *d, const struct vnames *vn,
		     struct err *e)
{
	for (size_t t = 0; t < d->ntables; t++) {
		const struct report_doc_table *tb = &d->tables[t];
		for (size_t k = 0; k < tb->nfeatures; k++) {
			const struct report_doc_feature *f = &tb->features[k];
			for (size_t i = 0; i <= f->nfields; i++) {
				struct frame_vec v;
				uint64_t val[REPORT_FAM_COUNT] = {0};
				frame_vec_init(&v);
				bool ok = (!d->whole || frame_push(&v, GROUP_TABLES, strlen(GROUP_TABLES), EF_GROUP)) &&
					  frame_push(&v, tb->name, strlen(tb->name), EF_TABLE) &&
					  frame_push(&v, f->name, strlen(f->name), EF_FEATURE);
				if (i < f->nfields) {
					ok = ok && field_frames(&v, vn, f, &f->fields[i]);
					bytes_val(val, &f->fields[i].b);
				} else {
					ok = ok && frame_push(&v, "[inline]", 8, EF_INLINE);
					val[REPORT_FAM_INLINE] = f->inline_bytes;
				}
				if (stack_done(out, &v, ok, val, e))
					return e->code;
			}
		}
		if (d->whole) {   /* the whole heap: the table's containers too */
			struct frame_vec v;
			uint64_t val[REPORT_FAM_COUNT] = {0};
			frame_vec_init(&v);
			bytes_val(val, &tb->overhead);
			bool ok = frame_push(&v, GROUP_TABLES, strlen(GROUP_TABLES), EF_GROUP) &&
				  frame_push(&v, tb->name, strlen(tb->name), EF_TABLE) &&
				  frame_push(&v, OVERHEAD_FRAME, strlen(OVERHEAD_FRAME), EF_CONTAINER);
			if (stack_done(out, &v, ok, val, e))
				return e->code;
		}
	}
	return d->whole ? whole_stacks(out, d, e) : 0;
}

void export_stacks_free(struct export_stacks *s)
{
	for (size_t i = 0; i < s->len; i++) {
		for (size_t k = 0; k < s->data[i].nframes; k++)
			free(s->data[i].frames[k].name);
		free(s->data[i].frames);
	}
	export_stacks_deinit(s);
}

int report_folded(FILE *out, const struct report_doc *d, enum report_family fam, struct err *e)
{
	struct export_stacks st;
	if (export_stacks_make(&st, d, e))
		return e->code;
	for (size_t i = 0; i < st.len; i++) {
		const struct export_stack *s = &st.data[i];
		if (!s->v[fam])
			continue;
		for (size_t k = 0; k < s->nframes; k++)
			fprintf(out, "%s%s", k ? ";" : "", s->frames[k].name);
		fprintf(out, " %llu\n", (unsigned long long)s->v[fam]);
	}
	export_stacks_free(&st);
	if (ferror(out))
		return err_set(e, ERR_IO, "writing the folded stacks failed");
	return 0;
}
