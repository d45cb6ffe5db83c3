/* types_dwarf.c: reads the type DIEs of every CU with libdwarf.
 *
 * One pass over every CU (Debian's libdwarf 20210528 API; DWARF 4 and 5
 * mixed) records each type DIE as a raw type whose references are still
 * global .debug_info offsets, so DW_FORM_ref_addr across CUs needs nothing
 * special, and each variable with a one-address location as a raw static.
 * Qualified names are built here from the namespace chain plus DW_AT_name.
 * Each CU's DW_AT_producer is tallied for types_producer.c.  Merging the
 * per-CGU copies is types_merge.c's job.
 *
 * Not read: anything inside DW_TAG_subprogram (locals, nested fn types: the
 * walker starts from statics; layouts.md §8 also measured it as 3x fewer
 * DIEs), .debug_types units, and split DWARF (.dwo).
 */
#include "types_priv.h"

#include <libdwarf/dwarf.h>
#include <stdlib.h>
#include <string.h>

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

DEFINE_VECTOR(rmember_vec, struct types_rmember)
DEFINE_VECTOR(rtparam_vec, struct types_rtparam)
DEFINE_VECTOR(rvariant_vec, struct types_rvariant)
DEFINE_VECTOR(enumerator_vec, struct types_enumerator)

struct ctx {
	Dwarf_Debug dbg;
	struct types_build *b;
	struct types *t;
	struct err *e;
	/* scratch stacks for the type being read (nested types push on top) */
	struct rmember_vec smembers;
	struct rtparam_vec stparams;
	struct rvariant_vec svariants;
	struct enumerator_vec senums;
};

static int ctx_nomem(struct ctx *c)
{
	return types_build_nomem(c->b);
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
		c->b->dies++;
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
	struct types_rvariant *v = arg;
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
		struct types_raw *r = &c->b->raws.data[va->raw];
		r->vpart_has_tag = true;
		r->tag_offset = at.has_member_loc ? at.member_loc : 0;
		r->tag_type_off = at.type_off;
		return 0;
	}
	if (tag != DW_TAG_variant)
		return 0;
	read_attrs(c, die, &at);
	struct types_rvariant v = { .has_discr = at.has_discr_value, .discr = at.discr_value };
	int rc = each_child(c, die, variant_child, &v, depth + 1);
	if (rc)
		return rc;
	if (!v.name)
		return 0; /* a variant with no member names nothing */
	return rvariant_vec_append(&c->svariants, v) ? 0 : ctx_nomem(c);
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
		struct types_rmember m = {
			.name = types_arena_strdup(&c->t->arena, at.name ? at.name : "",
						   at.name ? strlen(at.name) : 0),
			.type_off = at.has_type ? at.type_off : 0,
			.offset = at.has_member_loc ? at.member_loc
				  : at.has_bit_offset ? at.bit_offset / 8 : 0,
			.artificial = at.artificial,
		};
		if (!m.name)
			return ctx_nomem(c);
		return rmember_vec_append(&c->smembers, m) ? 0 : ctx_nomem(c);
	}
	case DW_TAG_template_type_parameter: {
		read_attrs(c, die, &at);
		struct types_rtparam p = {
			.name = types_arena_strdup(&c->t->arena, at.name ? at.name : "",
						   at.name ? strlen(at.name) : 0),
			.type_off = at.has_type ? at.type_off : 0,
		};
		if (!p.name)
			return ctx_nomem(c);
		return rtparam_vec_append(&c->stparams, p) ? 0 : ctx_nomem(c);
	}
	case DW_TAG_variant_part: {
		struct types_raw *r = &c->b->raws.data[ca->raw];
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
		return enumerator_vec_append(&c->senums, en) ? 0 : ctx_nomem(c);
	}
	case DW_TAG_subrange_type: {
		read_attrs(c, die, &at);
		struct types_raw *r = &c->b->raws.data[ca->raw];
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

/* Moves the scratch entries pushed since `from` into arena arrays of r; a
 * count that does not fit the public uint32_t is corrupt input. */
#define TAKE(c, vec, from, dst, cnt) do { \
	size_t n_ = (vec).len - (from); \
	if (n_ > UINT32_MAX) \
		return err_set((c)->e, ERR_INPUT, "a DWARF type has %zu children", n_); \
	if (n_) { \
		(dst) = types_arena_alloc(&(c)->t->arena, n_ * sizeof *(vec).data); \
		if (!(dst)) \
			return ctx_nomem(c); \
		memcpy((void *)(dst), (vec).data + (from), n_ * sizeof *(vec).data); \
	} \
	(cnt) = (uint32_t)n_; \
	(vec).len = (from); \
} while (0)

static int read_type(struct ctx *c, Dwarf_Die die, Dwarf_Half tag, const char *scope, int depth)
{
	struct attrs at;
	struct types_raw r;
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
	r.name_hash = types_hash_str(r.t.name) ^ (uint64_t)r.t.kind * TYPES_KIND_SALT;
	if (r.t.kind == TYPES_ARRAY)
		r.t.count = UINT64_MAX; /* "no dimension yet" until a subrange */

	size_t idx = c->b->raws.len;
	if (!types_raw_vec_append(&c->b->raws, r))
		return ctx_nomem(c);
	bool composite = r.t.kind == TYPES_STRUCT || r.t.kind == TYPES_UNION ||
			 r.t.kind == TYPES_ENUMERATION || r.t.kind == TYPES_ARRAY;
	if (!composite)
		return 0;

	size_t m0 = c->smembers.len, p0 = c->stparams.len, v0 = c->svariants.len, e0 = c->senums.len;
	struct comp_arg ca = { .raw = idx, .scope = r.t.name[0] ? r.t.name : scope };
	int rc = each_child(c, die, comp_child, &ca, depth + 1);
	if (rc)
		return rc;
	struct types_raw *rp = &c->b->raws.data[idx];
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
	struct types_rstatic s = {
		.name = qualify(c, scope, at.name),
		.linkage_name = at.linkage_name ? types_arena_strdup(&c->t->arena, at.linkage_name,
								     strlen(at.linkage_name)) : NULL,
		.addr = at.addr,
		.type_off = at.has_type ? at.type_off : 0,
	};
	if (!s.name || (at.linkage_name && !s.linkage_name))
		return ctx_nomem(c);
	s.name_hash = types_hash_str(s.name);
	return types_rstatic_vec_append(&c->b->statics, s) ? 0 : ctx_nomem(c);
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

/* The CU's DW_AT_producer ("clang LLVM (rustc version 1.95.0 (...))"), tallied
 * for types_producer.c; a CU without one is not counted. */
static int cu_producer(struct ctx *c, Dwarf_Die cu)
{
	Dwarf_Attribute a = NULL;
	Dwarf_Error derr = NULL;
	int res = dwarf_attr(cu, DW_AT_producer, &a, &derr);
	if (res != DW_DLV_OK) {
		if (derr)
			dwarf_dealloc_error(c->dbg, derr);
		return 0;
	}
	const char *s = attr_string(c->dbg, a);
	int rc = s ? types_producer_add(c->b, s) : 0;
	dwarf_dealloc_attribute(a);
	return rc;
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
		c->b->cus++;
		c->b->dies++;
		int rc = cu_producer(c, cu);
		if (!rc)
			rc = each_child(c, cu, scope_child, (void *)"", 0);
		dwarf_dealloc_die(cu);
		if (rc)
			return rc;
	}
}

int types_dwarf_read(struct types_build *b, Dwarf_Debug dbg)
{
	struct ctx c = { .dbg = dbg, .b = b, .t = b->t, .e = b->e };
	int rc = walk_cus(&c);
	rmember_vec_deinit(&c.smembers);
	rtparam_vec_deinit(&c.stparams);
	rvariant_vec_deinit(&c.svariants);
	enumerator_vec_deinit(&c.senums);
	return rc;
}

bool types_dwarf_has_types(const struct types_build *b)
{
	for (size_t i = 0; i < b->raws.len; i++)
		if (b->raws.data[i].t.kind == TYPES_STRUCT || b->raws.data[i].t.kind == TYPES_BASE)
			return true;
	return false;
}
