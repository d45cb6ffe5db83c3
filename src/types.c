/* types.c: builds the type index of an executable from its DWARF.
 *
 * One pass over every CU with libdwarf (Debian's 20210528 API) records each
 * type DIE as a "raw" type whose references are still DIE offsets (global
 * .debug_info offsets, so DW_FORM_ref_addr across CUs needs nothing special).
 * A second step merges the copies: rustc emits a type once per codegen unit
 * (layouts.md §0), and its qualified names carry every generic argument, so
 * two named types of the same kind and qualified name are one type.  The
 * first definition wins over declaration stubs, and a reference to any copy
 * (a stub included) lands on the winner.  Anonymous types (C) are never
 * merged.  Then offsets become type_ids (dense, 1..n, an array lookup),
 * sizes and alignments are derived where DWARF leaves them out, and members
 * are sorted into memory order.
 *
 * Not indexed: anything inside DW_TAG_subprogram (locals, nested fn types:
 * the walker starts from statics; layouts.md §8 also measured it as 3x fewer
 * DIEs), .debug_types units, and split DWARF (.dwo).
 */
#include "types_priv.h"
#include "arr.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libdwarf/dwarf.h>
#include <libdwarf/libdwarf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Deeper nesting than this is treated as corrupt input rather than recursed. */
#define TYPES_MAX_DEPTH 64
/* Pointer size when a pointer DIE has no DW_AT_byte_size (rustc never emits
 * one, layouts.md §1): the x86-64 address size. */
#define TYPES_PTR_SIZE 8

/* ---------------------------------------------------------------- arena */

struct types_arena_block {
	struct types_arena_block *next;
	size_t cap;
	_Alignas(16) unsigned char data[];
};

void *types_arena_alloc(struct types_arena *a, size_t size)
{
	size = (size + 15) & ~(size_t)15;
	if (!a->head || a->cap - a->used < size) {
		size_t cap = size > (1u << 20) ? size : (1u << 20);
		struct types_arena_block *b = malloc(sizeof *b + cap);
		if (!b)
			return NULL;
		b->next = a->head;
		b->cap = cap;
		a->head = b;
		a->used = 0;
		a->cap = cap;
	}
	void *p = a->head->data + a->used;
	a->used += size;
	return p;
}

char *types_arena_strdup(struct types_arena *a, const char *s, size_t len)
{
	char *p = types_arena_alloc(a, len + 1);
	if (p) {
		memcpy(p, s, len);
		p[len] = 0;
	}
	return p;
}

void types_arena_free(struct types_arena *a)
{
	struct types_arena_block *b = a->head;
	while (b) {
		struct types_arena_block *n = b->next;
		free(b);
		b = n;
	}
	a->head = NULL;
}

/* ----------------------------------------------------- growable vectors */

static int vec_reserve(void **items, size_t *cap, size_t need, size_t elem)
{
	return arr_grow(items, cap, need, elem, 64) ? 0 : -1;
}

#define VEC(T) struct { T *v; size_t n, cap; }
#define VEC_PUSH(vec, x) \
	(vec_reserve((void **)&(vec).v, &(vec).cap, (vec).n + 1, sizeof *(vec).v) ? -1 \
	 : ((vec).v[(vec).n++] = (x), 0))

/* ------------------------------------------------------------- raw DIEs */

struct rmember {
	const char *name;
	uint64_t type_off;
	uint64_t offset;
	bool artificial;
};

struct rtparam {
	const char *name;
	uint64_t type_off;
};

struct rvariant {
	const char *name;
	uint64_t type_off;
	uint64_t offset;
	bool has_discr;
	uint64_t discr;
};

struct raw {
	struct types_type t;          /* name, kind, size, encoding, count, ... */
	uint64_t target_off, containing_off, tag_type_off, tag_offset;
	bool has_size, has_align, has_vpart, vpart_has_tag;
	uint32_t nmembers, ntparams, nvariants;
	struct rmember *members;
	struct rtparam *tparams;
	struct rvariant *variants;
};

struct rstatic {
	const char *name, *linkage_name;
	uint64_t addr, type_off;
};

/* Attributes of one DIE, read in one dwarf_attrlist pass. */
struct attrs {
	const char *name, *linkage_name;
	uint64_t type_off, containing_off, discr_off, spec_off;
	uint64_t byte_size, align, member_loc, bit_offset, discr_value;
	uint64_t count, upper, lower, encoding;
	int64_t const_value;
	uint64_t addr;
	bool has_name, has_type, has_size, has_align, has_member_loc, has_bit_offset;
	bool has_discr, has_discr_value, has_count, has_upper, has_const, has_addr;
	bool has_containing, has_spec, artificial, declaration, has_location;
};

struct ctx {
	Dwarf_Debug dbg;
	struct types *t;
	struct err *e;
	VEC(struct raw) raws;
	VEC(struct rstatic) statics;
	VEC(struct rmember) smembers;   /* scratch stacks for the type being read */
	VEC(struct rtparam) stparams;
	VEC(struct rvariant) svariants;
	VEC(struct types_enumerator) senums;
	size_t dies, cus, unresolved;
};

static int ctx_nomem(struct ctx *c)
{
	return err_set(c->e, ERR_NOMEM, "out of memory while indexing DWARF types");
}

static int dwarf_fail(struct ctx *c, Dwarf_Error derr, const char *what)
{
	err_set(c->e, ERR_INPUT, "DWARF could not be read (%s): %s", what,
		derr ? dwarf_errmsg(derr) : "unknown error");
	if (derr)
		dwarf_dealloc_error(c->dbg, derr);
	return ERR_INPUT;
}

/* A constant of any form: udata fails on DW_FORM_implicit_const (layouts.md
 * §0 gotcha 1) and on negative sdata, so fall back to formsdata. */
static bool attr_u64(Dwarf_Debug dbg, Dwarf_Attribute a, uint64_t *v)
{
	Dwarf_Error derr = NULL;
	Dwarf_Unsigned u;
	Dwarf_Signed s;
	if (dwarf_formudata(a, &u, &derr) == DW_DLV_OK) {
		*v = u;
		return true;
	}
	if (derr)
		dwarf_dealloc_error(dbg, derr);
	derr = NULL;
	if (dwarf_formsdata(a, &s, &derr) == DW_DLV_OK) {
		*v = (uint64_t)s;
		return true;
	}
	if (derr)
		dwarf_dealloc_error(dbg, derr);
	return false;
}

static bool attr_ref(Dwarf_Debug dbg, Dwarf_Attribute a, uint64_t *off)
{
	Dwarf_Error derr = NULL;
	Dwarf_Off o;
	if (dwarf_global_formref(a, &o, &derr) == DW_DLV_OK) {
		*off = o;
		return true;
	}
	if (derr)
		dwarf_dealloc_error(dbg, derr);
	return false;
}

static bool attr_flag(Dwarf_Debug dbg, Dwarf_Attribute a)
{
	Dwarf_Error derr = NULL;
	Dwarf_Bool b = 0;
	if (dwarf_formflag(a, &b, &derr) != DW_DLV_OK && derr)
		dwarf_dealloc_error(dbg, derr);
	return b != 0;
}

static const char *attr_string(Dwarf_Debug dbg, Dwarf_Attribute a)
{
	Dwarf_Error derr = NULL;
	char *s = NULL;
	if (dwarf_formstring(a, &s, &derr) != DW_DLV_OK) {
		if (derr)
			dwarf_dealloc_error(dbg, derr);
		return NULL;
	}
	return s;
}

static uint64_t uleb(const unsigned char **p, const unsigned char *end, bool *ok)
{
	uint64_t v = 0;
	unsigned shift = 0;
	while (*p < end) {
		unsigned char b = *(*p)++;
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80))
			return v;
	}
	*ok = false;
	return 0;
}

/* A location that is exactly one address: DW_OP_addr a, or DW_OP_addrx i /
 * DW_OP_GNU_addr_index i (whose operand is an index into .debug_addr,
 * layouts.md §0 gotcha 2).  TLS and register locations are not statics. */
static bool expr_addr(Dwarf_Debug dbg, Dwarf_Die die, const unsigned char *p,
		      uint64_t len, uint64_t *addr)
{
	const unsigned char *end = p + len;
	if (len == 9 && p[0] == DW_OP_addr) {
		uint64_t a = 0;
		for (int i = 0; i < 8; i++)
			a |= (uint64_t)p[1 + i] << (8 * i);
		*addr = a;
		return true;
	}
	if (len >= 2 && (p[0] == DW_OP_addrx || p[0] == DW_OP_GNU_addr_index)) {
		bool ok = true;
		p++;
		uint64_t idx = uleb(&p, end, &ok);
		if (!ok || p != end)
			return false;
		Dwarf_Error derr = NULL;
		Dwarf_Addr a;
		if (dwarf_debug_addr_index_to_addr(die, idx, &a, &derr) != DW_DLV_OK) {
			if (derr)
				dwarf_dealloc_error(dbg, derr);
			return false;
		}
		*addr = a;
		return true;
	}
	return false;
}

static bool attr_location(Dwarf_Debug dbg, Dwarf_Die die, Dwarf_Attribute a,
			  Dwarf_Half form, uint64_t *addr)
{
	Dwarf_Error derr = NULL;
	if (form == DW_FORM_exprloc) {
		Dwarf_Unsigned len;
		Dwarf_Ptr ptr;
		if (dwarf_formexprloc(a, &len, &ptr, &derr) != DW_DLV_OK) {
			if (derr)
				dwarf_dealloc_error(dbg, derr);
			return false;
		}
		return expr_addr(dbg, die, ptr, len, addr);
	}
	if (form == DW_FORM_block1 || form == DW_FORM_block2 || form == DW_FORM_block4 ||
	    form == DW_FORM_block) {
		Dwarf_Block *b;
		if (dwarf_formblock(a, &b, &derr) != DW_DLV_OK) {
			if (derr)
				dwarf_dealloc_error(dbg, derr);
			return false;
		}
		bool ok = expr_addr(dbg, die, b->bl_data, b->bl_len, addr);
		dwarf_dealloc(dbg, b, DW_DLA_BLOCK);
		return ok;
	}
	return false; /* a location list: not a static */
}

/* DW_AT_data_member_location as a constant, or as DWARF 2's
 * DW_OP_plus_uconst expression. */
static bool attr_member_loc(Dwarf_Debug dbg, Dwarf_Attribute a, Dwarf_Half form, uint64_t *v)
{
	if (form != DW_FORM_exprloc && form != DW_FORM_block1)
		return attr_u64(dbg, a, v);
	Dwarf_Error derr = NULL;
	Dwarf_Unsigned len = 0;
	Dwarf_Ptr ptr = NULL;
	Dwarf_Block *b = NULL;
	int rc = form == DW_FORM_exprloc ? dwarf_formexprloc(a, &len, &ptr, &derr)
					 : dwarf_formblock(a, &b, &derr);
	if (rc != DW_DLV_OK) {
		if (derr)
			dwarf_dealloc_error(dbg, derr);
		return false;
	}
	if (b) {
		ptr = b->bl_data;
		len = b->bl_len;
	}
	const unsigned char *p = ptr, *end = p + len;
	bool ok = len >= 2 && p[0] == DW_OP_plus_uconst;
	if (ok) {
		p++;
		*v = uleb(&p, end, &ok);
	}
	if (b)
		dwarf_dealloc(dbg, b, DW_DLA_BLOCK);
	return ok;
}

static void read_attrs(struct ctx *c, Dwarf_Die die, struct attrs *at)
{
	Dwarf_Attribute *list = NULL;
	Dwarf_Signed n = 0;
	Dwarf_Error derr = NULL;

	memset(at, 0, sizeof *at);
	if (dwarf_attrlist(die, &list, &n, &derr) != DW_DLV_OK) {
		if (derr)
			dwarf_dealloc_error(c->dbg, derr);
		return;
	}
	for (Dwarf_Signed i = 0; i < n; i++) {
		Dwarf_Attribute a = list[i];
		Dwarf_Half num = 0, form = 0;
		if (dwarf_whatattr(a, &num, &derr) != DW_DLV_OK ||
		    dwarf_whatform(a, &form, &derr) != DW_DLV_OK) {
			if (derr)
				dwarf_dealloc_error(c->dbg, derr);
			derr = NULL;
			dwarf_dealloc_attribute(a);
			continue;
		}
		switch (num) {
		case DW_AT_name:
			at->name = attr_string(c->dbg, a);
			at->has_name = at->name != NULL;
			break;
		case DW_AT_linkage_name:
		case DW_AT_MIPS_linkage_name:
			at->linkage_name = attr_string(c->dbg, a);
			break;
		case DW_AT_type:
			at->has_type = attr_ref(c->dbg, a, &at->type_off);
			break;
		case DW_AT_containing_type:
			at->has_containing = attr_ref(c->dbg, a, &at->containing_off);
			break;
		case DW_AT_specification:
			at->has_spec = attr_ref(c->dbg, a, &at->spec_off);
			break;
		case DW_AT_discr:
			at->has_discr = attr_ref(c->dbg, a, &at->discr_off);
			break;
		case DW_AT_byte_size:
			at->has_size = attr_u64(c->dbg, a, &at->byte_size);
			break;
		case DW_AT_alignment:
			at->has_align = attr_u64(c->dbg, a, &at->align);
			break;
		case DW_AT_data_member_location:
			at->has_member_loc = attr_member_loc(c->dbg, a, form, &at->member_loc);
			break;
		case DW_AT_data_bit_offset:
			at->has_bit_offset = attr_u64(c->dbg, a, &at->bit_offset);
			break;
		case DW_AT_discr_value:
			at->has_discr_value = attr_u64(c->dbg, a, &at->discr_value);
			break;
		case DW_AT_count:
			at->has_count = attr_u64(c->dbg, a, &at->count);
			break;
		case DW_AT_upper_bound:
			at->has_upper = attr_u64(c->dbg, a, &at->upper);
			break;
		case DW_AT_lower_bound:
			attr_u64(c->dbg, a, &at->lower);
			break;
		case DW_AT_const_value: {
			uint64_t v;
			if ((at->has_const = attr_u64(c->dbg, a, &v)))
				at->const_value = (int64_t)v;
			break;
		}
		case DW_AT_encoding:
			attr_u64(c->dbg, a, &at->encoding);
			break;
		case DW_AT_artificial:
			at->artificial = attr_flag(c->dbg, a);
			break;
		case DW_AT_declaration:
			at->declaration = attr_flag(c->dbg, a);
			break;
		case DW_AT_location:
			at->has_location = true;
			at->has_addr = attr_location(c->dbg, die, a, form, &at->addr);
			break;
		default:
			break;
		}
		dwarf_dealloc_attribute(a);
	}
	dwarf_dealloc(c->dbg, list, DW_DLA_LIST);
}

static int die_offset(struct ctx *c, Dwarf_Die die, uint64_t *off)
{
	Dwarf_Error derr = NULL;
	Dwarf_Off o;
	if (dwarf_dieoffset(die, &o, &derr) != DW_DLV_OK)
		return dwarf_fail(c, derr, "DIE offset");
	*off = o;
	return 0;
}

static const char *qualify(struct ctx *c, const char *scope, const char *name)
{
	if (!name)
		return "";
	size_t sl = scope ? strlen(scope) : 0, nl = strlen(name);
	if (!sl)
		return types_arena_strdup(&c->t->arena, name, nl);
	char *q = types_arena_alloc(&c->t->arena, sl + 2 + nl + 1);
	if (!q)
		return NULL;
	memcpy(q, scope, sl);
	memcpy(q + sl, "::", 2);
	memcpy(q + sl + 2, name, nl + 1);
	return q;
}

static enum types_kind kind_of(Dwarf_Half tag)
{
	switch (tag) {
	case DW_TAG_base_type:
	case DW_TAG_unspecified_type:
		return TYPES_BASE;
	case DW_TAG_pointer_type:
	case DW_TAG_reference_type:
	case DW_TAG_rvalue_reference_type:
	case DW_TAG_ptr_to_member_type:
		return TYPES_POINTER;
	case DW_TAG_structure_type:
	case DW_TAG_class_type:
		return TYPES_STRUCT;
	case DW_TAG_union_type:
		return TYPES_UNION;
	case DW_TAG_enumeration_type:
		return TYPES_ENUMERATION;
	case DW_TAG_array_type:
		return TYPES_ARRAY;
	case DW_TAG_typedef:
	case DW_TAG_const_type:
	case DW_TAG_volatile_type:
	case DW_TAG_restrict_type:
	case DW_TAG_atomic_type:
	case DW_TAG_immutable_type:
		return TYPES_TYPEDEF;
	case DW_TAG_subroutine_type:
		return TYPES_SUBROUTINE;
	default:
		return TYPES_VOID;
	}
}

/* Iterates the children of die, calling fn on each; stops at the first error. */
typedef int (*child_fn)(struct ctx *c, Dwarf_Die child, Dwarf_Half tag, void *arg, int depth);

static int each_child(struct ctx *c, Dwarf_Die die, child_fn fn, void *arg, int depth)
{
	Dwarf_Error derr = NULL;
	Dwarf_Die child = NULL;
	if (depth > TYPES_MAX_DEPTH)
		return err_set(c->e, ERR_INPUT, "DWARF nests DIEs deeper than %d levels",
			       TYPES_MAX_DEPTH);
	int res = dwarf_child(die, &child, &derr);
	while (res == DW_DLV_OK) {
		Dwarf_Half tag = 0;
		c->dies++;
		if (dwarf_tag(child, &tag, &derr) != DW_DLV_OK) {
			dwarf_dealloc_die(child);
			return dwarf_fail(c, derr, "DIE tag");
		}
		int rc = fn(c, child, tag, arg, depth);
		if (rc) {
			dwarf_dealloc_die(child);
			return rc;
		}
		Dwarf_Die sib = NULL;
		res = dwarf_siblingof_b(c->dbg, child, 1, &sib, &derr);
		dwarf_dealloc_die(child);
		child = sib;
	}
	if (res == DW_DLV_ERROR)
		return dwarf_fail(c, derr, "DIE tree");
	return 0;
}

static int scope_child(struct ctx *c, Dwarf_Die die, Dwarf_Half tag, void *arg, int depth);

/* ------------------------------------------------------- variant parts */

struct vpart_arg {
	size_t raw;
	uint64_t discr_off;
};

static int variant_child(struct ctx *c, Dwarf_Die die, Dwarf_Half tag, void *arg, int depth)
{
	struct rvariant *v = arg;
	(void)depth;
	if (tag != DW_TAG_member || v->name)
		return 0;
	struct attrs at;
	read_attrs(c, die, &at);
	v->name = types_arena_strdup(&c->t->arena, at.name ? at.name : "", at.name ? strlen(at.name) : 0);
	if (!v->name)
		return ctx_nomem(c);
	v->type_off = at.type_off;
	v->offset = at.has_member_loc ? at.member_loc : 0;
	return 0;
}

static int vpart_child(struct ctx *c, Dwarf_Die die, Dwarf_Half tag, void *arg, int depth)
{
	struct vpart_arg *va = arg;
	struct attrs at;
	if (tag == DW_TAG_member) {
		uint64_t off;
		if (die_offset(c, die, &off))
			return c->e->code;
		if (off != va->discr_off)
			return 0;
		read_attrs(c, die, &at);
		struct raw *r = &c->raws.v[va->raw];
		r->vpart_has_tag = true;
		r->tag_offset = at.has_member_loc ? at.member_loc : 0;
		r->tag_type_off = at.type_off;
		return 0;
	}
	if (tag != DW_TAG_variant)
		return 0;
	read_attrs(c, die, &at);
	struct rvariant v = { .has_discr = at.has_discr_value, .discr = at.discr_value };
	int rc = each_child(c, die, variant_child, &v, depth + 1);
	if (rc)
		return rc;
	if (!v.name)
		return 0; /* a variant with no member names nothing */
	return VEC_PUSH(c->svariants, v) ? ctx_nomem(c) : 0;
}

/* ------------------------------------------------------ composite types */

struct comp_arg {
	size_t raw;
	const char *scope;   /* the type's qualified name, scope of nested types */
};

static int comp_child(struct ctx *c, Dwarf_Die die, Dwarf_Half tag, void *arg, int depth)
{
	struct comp_arg *ca = arg;
	struct attrs at;

	switch (tag) {
	case DW_TAG_member: {
		read_attrs(c, die, &at);
		if (at.declaration)
			return 0; /* a static member (C++) */
		struct rmember m = {
			.name = types_arena_strdup(&c->t->arena, at.name ? at.name : "",
						   at.name ? strlen(at.name) : 0),
			.type_off = at.has_type ? at.type_off : 0,
			.offset = at.has_member_loc ? at.member_loc
				  : at.has_bit_offset ? at.bit_offset / 8 : 0,
			.artificial = at.artificial,
		};
		if (!m.name)
			return ctx_nomem(c);
		return VEC_PUSH(c->smembers, m) ? ctx_nomem(c) : 0;
	}
	case DW_TAG_template_type_parameter: {
		read_attrs(c, die, &at);
		struct rtparam p = {
			.name = types_arena_strdup(&c->t->arena, at.name ? at.name : "",
						   at.name ? strlen(at.name) : 0),
			.type_off = at.has_type ? at.type_off : 0,
		};
		if (!p.name)
			return ctx_nomem(c);
		return VEC_PUSH(c->stparams, p) ? ctx_nomem(c) : 0;
	}
	case DW_TAG_variant_part: {
		struct raw *r = &c->raws.v[ca->raw];
		if (r->has_vpart)
			return 0; /* rustc emits one; a second one is not modelled */
		r->has_vpart = true;
		read_attrs(c, die, &at);
		struct vpart_arg va = { .raw = ca->raw, .discr_off = at.has_discr ? at.discr_off : UINT64_MAX };
		return each_child(c, die, vpart_child, &va, depth + 1);
	}
	case DW_TAG_enumerator: {
		read_attrs(c, die, &at);
		struct types_enumerator en = {
			.name = types_arena_strdup(&c->t->arena, at.name ? at.name : "",
						   at.name ? strlen(at.name) : 0),
			.value = at.const_value,
		};
		if (!en.name)
			return ctx_nomem(c);
		return VEC_PUSH(c->senums, en) ? ctx_nomem(c) : 0;
	}
	case DW_TAG_subrange_type: {
		read_attrs(c, die, &at);
		struct raw *r = &c->raws.v[ca->raw];
		uint64_t n = 0;
		if (at.has_count)
			n = at.count;
		else if (at.has_upper && at.upper >= at.lower && at.upper != UINT64_MAX)
			n = at.upper - at.lower + 1;
		/* dimensions multiply; an overflow is nonsense, count it as unknown */
		if (r->t.count == UINT64_MAX)
			r->t.count = n;
		else if (n && r->t.count > UINT64_MAX / n)
			r->t.count = 0;
		else
			r->t.count *= n;
		return 0;
	}
	default:
		return scope_child(c, die, tag, (void *)ca->scope, depth);
	}
}

/* Moves the scratch entries pushed since `from` into arena arrays of r. */
#define TAKE(c, vec, from, dst, cnt) do { \
	size_t n_ = (vec).n - (from); \
	if (n_) { \
		(dst) = types_arena_alloc(&(c)->t->arena, n_ * sizeof *(vec).v); \
		if (!(dst)) \
			return ctx_nomem(c); \
		memcpy((void *)(dst), (vec).v + (from), n_ * sizeof *(vec).v); \
	} \
	(cnt) = (uint32_t)n_; \
	(vec).n = (from); \
} while (0)

static int read_type(struct ctx *c, Dwarf_Die die, Dwarf_Half tag, const char *scope, int depth)
{
	struct attrs at;
	struct raw r;
	memset(&r, 0, sizeof r);
	read_attrs(c, die, &at);
	if (die_offset(c, die, &r.t.die_offset))
		return c->e->code;
	r.t.kind = kind_of(tag);
	r.t.name = at.has_name ? qualify(c, scope, at.name) : "";
	if (!r.t.name)
		return ctx_nomem(c);
	r.t.size = at.byte_size;
	r.has_size = at.has_size;
	r.t.align = at.has_align && at.align <= UINT32_MAX ? (uint32_t)at.align : 0;
	r.has_align = at.has_align && at.align <= UINT32_MAX;
	r.t.encoding = (uint32_t)at.encoding;
	r.t.is_declaration = at.declaration;
	r.target_off = at.has_type ? at.type_off : 0;
	r.containing_off = at.has_containing ? at.containing_off : 0;
	if (tag == DW_TAG_unspecified_type)
		r.t.kind = TYPES_UNKNOWN;
	if (r.t.kind == TYPES_ARRAY)
		r.t.count = UINT64_MAX; /* "no dimension yet" until a subrange */

	size_t idx = c->raws.n;
	if (VEC_PUSH(c->raws, r))
		return ctx_nomem(c);
	bool composite = r.t.kind == TYPES_STRUCT || r.t.kind == TYPES_UNION ||
			 r.t.kind == TYPES_ENUMERATION || r.t.kind == TYPES_ARRAY;
	if (!composite)
		return 0;

	size_t m0 = c->smembers.n, p0 = c->stparams.n, v0 = c->svariants.n, e0 = c->senums.n;
	struct comp_arg ca = { .raw = idx, .scope = r.t.name[0] ? r.t.name : scope };
	int rc = each_child(c, die, comp_child, &ca, depth + 1);
	if (rc)
		return rc;
	struct raw *rp = &c->raws.v[idx];
	if (rp->t.kind == TYPES_ARRAY && rp->t.count == UINT64_MAX)
		rp->t.count = 0; /* no subrange: a flexible or unknown-length array */
	TAKE(c, c->smembers, m0, rp->members, rp->nmembers);
	TAKE(c, c->stparams, p0, rp->tparams, rp->ntparams);
	TAKE(c, c->svariants, v0, rp->variants, rp->nvariants);
	const struct types_enumerator *en = NULL;
	uint32_t nen = 0;
	TAKE(c, c->senums, e0, en, nen);
	rp->t.enumerators = en;
	rp->t.nenumerators = nen;
	return 0;
}

/* A variable at CU or namespace level: a static when its location is one address. */
static int read_static(struct ctx *c, Dwarf_Die die, const char *scope)
{
	struct attrs at;
	read_attrs(c, die, &at);
	if (!at.has_addr)
		return 0;
	if (at.has_spec && (!at.has_name || !at.has_type)) {
		/* C: the definition points at the declaration for name and type */
		Dwarf_Die spec = NULL;
		Dwarf_Error derr = NULL;
		if (dwarf_offdie_b(c->dbg, at.spec_off, 1, &spec, &derr) == DW_DLV_OK) {
			struct attrs sa;
			read_attrs(c, spec, &sa);
			if (!at.has_name && sa.has_name) {
				at.name = sa.name;
				at.has_name = true;
			}
			if (!at.has_type && sa.has_type) {
				at.type_off = sa.type_off;
				at.has_type = true;
			}
			if (!at.linkage_name)
				at.linkage_name = sa.linkage_name;
			dwarf_dealloc_die(spec);
		} else if (derr) {
			dwarf_dealloc_error(c->dbg, derr);
		}
	}
	if (!at.has_name)
		return 0;
	struct rstatic s = {
		.name = qualify(c, scope, at.name),
		.linkage_name = at.linkage_name ? types_arena_strdup(&c->t->arena, at.linkage_name,
								     strlen(at.linkage_name)) : NULL,
		.addr = at.addr,
		.type_off = at.has_type ? at.type_off : 0,
	};
	if (!s.name || (at.linkage_name && !s.linkage_name))
		return ctx_nomem(c);
	return VEC_PUSH(c->statics, s) ? ctx_nomem(c) : 0;
}

/* A child of a CU, a namespace or a type: recurse into namespaces, read types
 * and statics, skip functions. */
static int scope_child(struct ctx *c, Dwarf_Die die, Dwarf_Half tag, void *arg, int depth)
{
	const char *scope = arg;
	if (tag == DW_TAG_namespace) {
		struct attrs at;
		read_attrs(c, die, &at);
		const char *ns = qualify(c, scope, at.name ? at.name : "{anon}");
		if (!ns)
			return ctx_nomem(c);
		return each_child(c, die, scope_child, (void *)ns, depth + 1);
	}
	if (tag == DW_TAG_variable)
		return read_static(c, die, scope);
	if (kind_of(tag) != TYPES_VOID || tag == DW_TAG_unspecified_type)
		return read_type(c, die, tag, scope, depth);
	return 0; /* subprograms, lexical blocks, imported units, ... */
}

static int walk_cus(struct ctx *c)
{
	for (;;) {
		Dwarf_Unsigned hdr_len = 0, typeoff = 0, next = 0;
		Dwarf_Half ver = 0, addr_size = 0, len_size = 0, ext_size = 0, cu_type = 0;
		Dwarf_Off abbrev = 0;
		Dwarf_Sig8 sig;
		Dwarf_Error derr = NULL;
		int res = dwarf_next_cu_header_d(c->dbg, 1, &hdr_len, &ver, &abbrev, &addr_size,
						 &len_size, &ext_size, &sig, &typeoff, &next,
						 &cu_type, &derr);
		if (res == DW_DLV_NO_ENTRY)
			return 0;
		if (res == DW_DLV_ERROR)
			return dwarf_fail(c, derr, "CU header");
		Dwarf_Die cu = NULL;
		res = dwarf_siblingof_b(c->dbg, NULL, 1, &cu, &derr);
		if (res == DW_DLV_ERROR)
			return dwarf_fail(c, derr, "CU DIE");
		if (res == DW_DLV_NO_ENTRY)
			continue;
		c->cus++;
		c->dies++;
		int rc = each_child(c, cu, scope_child, (void *)"", 0);
		dwarf_dealloc_die(cu);
		if (rc)
			return rc;
	}
}

/* ------------------------------------------------------------ finalize */

struct offmap {
	uint64_t *keys;   /* die offset + 1; 0 empty */
	uint32_t *vals;
	size_t mask;
};

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

static int offmap_init(struct offmap *m, size_t n)
{
	size_t cap = 16;
	while (cap < n * 2)
		cap *= 2;
	m->keys = calloc(cap, sizeof *m->keys);
	m->vals = calloc(cap, sizeof *m->vals);
	m->mask = cap - 1;
	return m->keys && m->vals ? 0 : -1;
}

static void offmap_put(struct offmap *m, uint64_t off, uint32_t v)
{
	size_t i = mix64(off) & m->mask;
	while (m->keys[i] && m->keys[i] != off + 1)
		i = (i + 1) & m->mask;
	m->keys[i] = off + 1;
	m->vals[i] = v;
}

static uint32_t offmap_get(const struct offmap *m, uint64_t off)
{
	size_t i = mix64(off) & m->mask;
	while (m->keys[i]) {
		if (m->keys[i] == off + 1)
			return m->vals[i];
		i = (i + 1) & m->mask;
	}
	return 0;
}

struct fin {
	struct ctx *c;
	struct offmap raw_of;  /* die offset -> raw index + 1 */
	uint32_t *group_of;    /* raw index -> group (type_id - 1) */
	uint32_t *best;        /* group -> raw index chosen */
	size_t ngroups;
	uint8_t *state;        /* per id: size/align computation in progress / done */
};

static type_id fin_id(struct fin *f, uint64_t off)
{
	if (!off)
		return 0;
	uint32_t r = offmap_get(&f->raw_of, off);
	if (!r) {
		f->c->unresolved++;
		return 0;
	}
	return f->group_of[r - 1] + 1;
}

/* Groups raws by (kind, qualified name); anonymous raws are groups of one. */
static int fin_group(struct fin *f)
{
	struct ctx *c = f->c;
	size_t n = c->raws.n, cap = 16;
	while (cap < n * 2)
		cap *= 2;
	uint32_t *head = calloc(cap, sizeof *head);     /* group + 1 */
	uint32_t *next = calloc(n + 1, sizeof *next);   /* per group */
	f->group_of = calloc(n + 1, sizeof *f->group_of);
	f->best = calloc(n + 1, sizeof *f->best);
	if (!head || !next || !f->group_of || !f->best) {
		free(head);
		free(next);
		return ctx_nomem(c);
	}
	for (size_t i = 0; i < n; i++) {
		struct raw *r = &c->raws.v[i];
		uint32_t g = UINT32_MAX;
		size_t b = 0;
		if (r->t.name[0]) {
			b = (types_hash(r->t.name, strlen(r->t.name)) ^ (uint32_t)r->t.kind * 0x9e3779b9u) &
			    (cap - 1);
			for (uint32_t k = head[b]; k; k = next[k - 1]) {
				struct raw *o = &c->raws.v[f->best[k - 1]];
				if (o->t.kind == r->t.kind && !strcmp(o->t.name, r->t.name)) {
					g = k - 1;
					break;
				}
			}
		}
		if (g == UINT32_MAX) {
			g = (uint32_t)f->ngroups++;
			f->best[g] = (uint32_t)i;
			if (r->t.name[0]) {
				next[g] = head[b];
				head[b] = g + 1;
			}
		} else if (c->raws.v[f->best[g]].t.is_declaration && !r->t.is_declaration) {
			f->best[g] = (uint32_t)i;
		}
		f->group_of[i] = g;
	}
	free(head);
	free(next);
	return 0;
}

static int fin_members(struct fin *f, const struct raw *r, struct types_type *t)
{
	struct types_arena *a = &f->c->t->arena;
	if (r->nmembers) {
		struct types_member *m = types_arena_alloc(a, r->nmembers * sizeof *m);
		if (!m)
			return ctx_nomem(f->c);
		for (uint32_t i = 0; i < r->nmembers; i++)
			m[i] = (struct types_member){ r->members[i].name, fin_id(f, r->members[i].type_off),
						      r->members[i].offset, r->members[i].artificial };
		/* memory order; insertion sort keeps declaration order among equal
		 * offsets (union members, ZSTs) and members are few */
		for (uint32_t i = 1; i < r->nmembers; i++) {
			struct types_member x = m[i];
			uint32_t j = i;
			while (j > 0 && m[j - 1].offset > x.offset) {
				m[j] = m[j - 1];
				j--;
			}
			m[j] = x;
		}
		t->members = m;
	}
	t->nmembers = r->nmembers;
	if (r->ntparams) {
		struct types_tparam *p = types_arena_alloc(a, r->ntparams * sizeof *p);
		if (!p)
			return ctx_nomem(f->c);
		for (uint32_t i = 0; i < r->ntparams; i++)
			p[i] = (struct types_tparam){ r->tparams[i].name, fin_id(f, r->tparams[i].type_off) };
		t->tparams = p;
	}
	t->ntparams = r->ntparams;
	return 0;
}

static int fin_vpart(struct fin *f, const struct raw *r, struct types_type *t)
{
	if (!r->has_vpart)
		return 0;
	struct types_arena *a = &f->c->t->arena;
	struct types_variant_part *vp = types_arena_alloc(a, sizeof *vp);
	struct types_variant *v = r->nvariants ? types_arena_alloc(a, r->nvariants * sizeof *v) : NULL;
	if (!vp || (r->nvariants && !v))
		return ctx_nomem(f->c);
	memset(vp, 0, sizeof *vp);
	vp->has_tag = r->vpart_has_tag;
	vp->tag_offset = r->tag_offset;
	vp->tag_type = fin_id(f, r->tag_type_off);
	for (uint32_t i = 0; i < r->nvariants; i++)
		v[i] = (struct types_variant){ r->variants[i].name, fin_id(f, r->variants[i].type_off),
					       r->variants[i].offset, r->variants[i].has_discr,
					       r->variants[i].discr };
	vp->nvariants = r->nvariants;
	vp->variants = v;
	t->vpart = vp;
	return 0;
}

static uint64_t size_of_id(struct fin *f, type_id id, int depth);

static uint64_t size_compute(struct fin *f, struct types_type *t, int depth)
{
	const struct raw *r = &f->c->raws.v[f->best[t - f->c->t->types - 1]];
	if (r->has_size)
		return r->t.size;
	switch (t->kind) {
	case TYPES_POINTER:
		return TYPES_PTR_SIZE;
	case TYPES_TYPEDEF:
		return size_of_id(f, t->target, depth + 1);
	case TYPES_ARRAY: {
		uint64_t es = size_of_id(f, t->target, depth + 1);
		return es && t->count > UINT64_MAX / es ? 0 : es * t->count;
	}
	default:
		return 0;
	}
}

/* Sizes depend on other types (typedefs, arrays); a cycle or absurd depth
 * yields 0 instead of recursing forever. */
static uint64_t size_of_id(struct fin *f, type_id id, int depth)
{
	if (!id || id > f->c->t->ntypes || depth > TYPES_MAX_DEPTH)
		return 0;
	struct types_type *t = &f->c->t->types[id];
	if (f->state[id] & 1)
		return t->size;
	if (f->state[id] & 2)
		return 0;
	f->state[id] |= 2;
	t->size = size_compute(f, t, depth);
	f->state[id] = (uint8_t)((f->state[id] & ~2) | 1);
	return t->size;
}

static uint32_t align_of_id(struct fin *f, type_id id, int depth);

static uint32_t align_compute(struct fin *f, struct types_type *t, int depth)
{
	const struct raw *r = &f->c->raws.v[f->best[t - f->c->t->types - 1]];
	if (r->has_align && r->t.align)
		return r->t.align;
	uint32_t a = 1;
	switch (t->kind) {
	case TYPES_BASE:
	case TYPES_ENUMERATION:
		while (a < t->size && a < 16)
			a *= 2;
		return a;
	case TYPES_POINTER:
		return TYPES_PTR_SIZE;
	case TYPES_TYPEDEF:
	case TYPES_ARRAY:
		a = align_of_id(f, t->target, depth + 1);
		return a ? a : 1;
	case TYPES_STRUCT:
	case TYPES_UNION:
		for (uint32_t i = 0; i < t->nmembers; i++) {
			uint32_t m = align_of_id(f, t->members[i].type, depth + 1);
			if (m > a)
				a = m;
		}
		if (t->vpart) {
			for (uint32_t i = 0; i < t->vpart->nvariants; i++) {
				uint32_t m = align_of_id(f, t->vpart->variants[i].type, depth + 1);
				if (m > a)
					a = m;
			}
		}
		return a;
	default:
		return 1;
	}
}

static uint32_t align_of_id(struct fin *f, type_id id, int depth)
{
	if (!id || id > f->c->t->ntypes || depth > TYPES_MAX_DEPTH)
		return 1;
	struct types_type *t = &f->c->t->types[id];
	if (f->state[id] & 4)
		return t->align;
	if (f->state[id] & 8)
		return 1;
	f->state[id] |= 8;
	t->align = align_compute(f, t, depth);
	f->state[id] = (uint8_t)((f->state[id] & ~8) | 4);
	return t->align;
}

static int fin_statics(struct fin *f)
{
	struct ctx *c = f->c;
	struct types *t = c->t;
	if (!c->statics.n)
		return 0;
	t->statics = types_arena_alloc(&t->arena, c->statics.n * sizeof *t->statics);
	t->vtables = types_arena_alloc(&t->arena, c->statics.n * sizeof *t->vtables);
	if (!t->statics || !t->vtables)
		return ctx_nomem(c);
	for (size_t i = 0; i < c->statics.n; i++) {
		const struct rstatic *s = &c->statics.v[i];
		type_id ty = fin_id(f, s->type_off);
		/* rustc repeats a static's DIE in CGUs that use it: keep one per (name, addr) */
		bool dup = false;
		for (size_t j = t->nstatics; j-- > 0 && !dup;)
			dup = t->statics[j].addr == s->addr && !strcmp(t->statics[j].name, s->name);
		if (dup)
			continue;
		t->statics[t->nstatics++] = (struct types_static){ s->name, s->linkage_name, s->addr, ty };
		type_id r = types_resolve(t, ty);
		if (r && t->containing[r])
			t->vtables[t->nvtables++] = (struct types_vtable){ s->addr, t->containing[r] };
	}
	return 0;
}

static int vtable_cmp(const void *a, const void *b)
{
	const struct types_vtable *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int finalize(struct ctx *c)
{
	struct types *t = c->t;
	struct fin f = { .c = c };
	int rc = ERR_NOMEM;

	if (offmap_init(&f.raw_of, c->raws.n + 1))
		goto nomem;
	for (size_t i = 0; i < c->raws.n; i++)
		offmap_put(&f.raw_of, c->raws.v[i].t.die_offset, (uint32_t)i + 1);
	if ((rc = fin_group(&f)))
		goto out;
	rc = ERR_NOMEM;
	t->ntypes = f.ngroups;
	t->types = calloc(f.ngroups + 1, sizeof *t->types);
	t->containing = calloc(f.ngroups + 1, sizeof *t->containing);
	f.state = calloc(f.ngroups + 1, 1);
	if (!t->types || !t->containing || !f.state)
		goto nomem;
	t->types[0].name = "void";
	for (size_t g = 0; g < f.ngroups; g++) {
		const struct raw *r = &c->raws.v[f.best[g]];
		struct types_type *ty = &t->types[g + 1];
		*ty = r->t;
		ty->members = NULL;
		ty->target = fin_id(&f, r->target_off);
		t->containing[g + 1] = fin_id(&f, r->containing_off);
		if ((rc = fin_members(&f, r, ty)) || (rc = fin_vpart(&f, r, ty)))
			goto out;
	}
	for (size_t id = 1; id <= t->ntypes; id++)
		size_of_id(&f, (type_id)id, 0);
	for (size_t id = 1; id <= t->ntypes; id++)
		align_of_id(&f, (type_id)id, 0);
	/* tag widths and masked discriminants need the tag type's size */
	for (size_t id = 1; id <= t->ntypes; id++) {
		struct types_variant_part *vp = (struct types_variant_part *)t->types[id].vpart;
		if (!vp)
			continue;
		uint64_t ts = t->types[types_resolve(t, vp->tag_type)].size;
		vp->tag_size = vp->has_tag && ts <= 16 ? (uint32_t)ts : 0;
		for (uint32_t i = 0; i < vp->nvariants; i++) {
			struct types_variant *v = (struct types_variant *)&vp->variants[i];
			if (v->has_discr && vp->tag_size && vp->tag_size < 8)
				v->discr &= (UINT64_C(1) << (8 * vp->tag_size)) - 1;
		}
	}
	if ((rc = fin_statics(&f)))
		goto out;
	qsort(t->vtables, t->nvtables, sizeof *t->vtables, vtable_cmp);
	t->stats.cus = c->cus;
	t->stats.dies = c->dies;
	t->stats.types = t->ntypes;
	t->stats.merged = c->raws.n - t->ntypes;
	t->stats.statics = t->nstatics;
	rc = types_build_indexes(t, c->e);
	goto out;
nomem:
	rc = ctx_nomem(c);
out:
	free(f.raw_of.keys);
	free(f.raw_of.vals);
	free(f.group_of);
	free(f.best);
	free(f.state);
	return rc;
}

/* ------------------------------------------------------- files and open */

/* The GNU build-id note of an ELF file as lowercase hex ("" if none). */
static void read_build_id(int fd, char *out, size_t outsz)
{
	out[0] = 0;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return;
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf)
		return;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn)) && !out[0]) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		if (!d)
			continue;
		size_t off = 0, noff, doff;
		GElf_Nhdr nh;
		while ((off = gelf_getnote(d, off, &nh, &noff, &doff)) > 0) {
			if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
			    memcmp((char *)d->d_buf + noff, "GNU", 4))
				continue;
			const unsigned char *id = (const unsigned char *)d->d_buf + doff;
			size_t n = nh.n_descsz;
			if (n * 2 + 1 > outsz)
				n = (outsz - 1) / 2;
			for (size_t i = 0; i < n; i++)
				snprintf(out + 2 * i, 3, "%02x", id[i]);
			break;
		}
	}
	elf_end(elf);
}

static void ctx_free_scratch(struct ctx *c)
{
	free(c->raws.v);
	free(c->statics.v);
	free(c->smembers.v);
	free(c->stparams.v);
	free(c->svariants.v);
	free(c->senums.v);
}

/* True when at least one struct, union or base type was indexed: a build
 * with debuginfo "limited" or line tables only has CUs but no types. */
static bool has_types(const struct ctx *c)
{
	for (size_t i = 0; i < c->raws.n; i++)
		if (c->raws.v[i].t.kind == TYPES_STRUCT || c->raws.v[i].t.kind == TYPES_BASE)
			return true;
	return false;
}

/* Indexes path into t.  ERR_NOTFOUND when the file has no usable debug info
 * (the caller then tries the next candidate), other codes on real failure. */
static int index_file(struct types *t, const char *path, struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, errno == ENOENT ? ERR_NOTFOUND : ERR_IO, "cannot open %s: %s",
			       path, strerror(errno));
	read_build_id(fd, t->build_id, sizeof t->build_id);
	struct ctx c = { .t = t, .e = e };
	Dwarf_Error derr = NULL;
	int res = dwarf_init_b(fd, DW_DLC_READ, DW_GROUPNUMBER_ANY, NULL, NULL, &c.dbg, &derr);
	if (res != DW_DLV_OK) {
		if (res == DW_DLV_ERROR) {
			err_set(e, ERR_NOTFOUND, "%s: DWARF unreadable: %s", path, dwarf_errmsg(derr));
			dwarf_dealloc_error(NULL, derr);
		} else {
			err_set(e, ERR_NOTFOUND, "%s has no DWARF debug info", path);
		}
		close(fd);
		return ERR_NOTFOUND;
	}
	int rc = walk_cus(&c);
	if (!rc && !has_types(&c))
		rc = err_set(e, ERR_NOTFOUND, "%s has DWARF but no type information", path);
	if (!rc)
		rc = finalize(&c);
	if (rc && rc != ERR_NOTFOUND)
		err_wrap(e, "%s", path);
	dwarf_finish(c.dbg, &derr);
	close(fd);
	ctx_free_scratch(&c);
	return rc;
}

static void types_reset(struct types *t)
{
	types_arena_free(&t->arena);
	free(t->types);
	free(t->containing);
	free(t->by_name.head);
	free(t->by_name.next);
	free(t->by_segment.head);
	free(t->by_segment.next);
	free(t->statics_by_name.head);
	free(t->statics_by_name.next);
	free(t->statics_by_segment.head);
	free(t->statics_by_segment.next);
	memset(t, 0, sizeof *t);
}

/* Where separate debug info for a build-id lives.  AGGOP_DEBUG_ROOT replaces
 * /usr/lib/debug (for tests, which cannot write the system directory). */
static void build_id_path(const char *id, char *out, size_t n)
{
	const char *root = getenv("AGGOP_DEBUG_ROOT");
	if (!root || !*root)
		root = "/usr/lib/debug";
	snprintf(out, n, "%s/.build-id/%.2s/%s.debug", root, id, id + 2);
}

int types_open(struct types **out, const char *exe, const char *debug_file, struct err *e)
{
	*out = NULL;
	struct types *t = calloc(1, sizeof *t);
	if (!t)
		return err_set(e, ERR_NOMEM, "out of memory opening %s", exe);
	int rc = index_file(t, exe, e);
	if (rc == ERR_NOTFOUND) {
		char exe_id[sizeof t->build_id], path[4096];
		memcpy(exe_id, t->build_id, sizeof exe_id);
		struct err first = *e;
		rc = ERR_NOTFOUND;
		if (debug_file) {
			types_reset(t);
			rc = index_file(t, debug_file, e);
			if (!rc && exe_id[0] && t->build_id[0] && strcmp(exe_id, t->build_id))
				rc = err_set(e, ERR_INPUT,
					     "debug file %s (build-id %s) does not belong to %s (build-id %s)",
					     debug_file, t->build_id, exe, exe_id);
		}
		if (rc == ERR_NOTFOUND && strlen(exe_id) > 2) {
			build_id_path(exe_id, path, sizeof path);
			types_reset(t);
			rc = index_file(t, path, e);
		}
		if (rc == ERR_NOTFOUND)
			rc = err_set(e, ERR_INPUT,
				     "no DWARF type information for %s (%s); build it with debug = 2 "
				     "(\"full\", not \"limited\"), or pass --debug-file", exe, first.msg);
	}
	if (rc) {
		types_close(t);
		return rc;
	}
	*out = t;
	return 0;
}

void types_close(struct types *t)
{
	if (!t)
		return;
	types_reset(t);
	free(t);
}
