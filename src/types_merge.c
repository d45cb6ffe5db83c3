/* types_merge.c: merges the per-CGU copies of each type into one type_id.
 *
 * rustc emits a type once per codegen unit (layouts.md §0), and its
 * qualified names carry every generic argument, so copies of one kind and
 * qualified name are normally one type.  Normally: two versions of one crate
 * in one binary (cargo allows it across semver-incompatible releases, and
 * std carries its own hashbrown) give same-named types different layouts.
 * So copies merge only when their layouts agree too, all the way down: size,
 * members' names, offsets and types, template parameters, variant parts,
 * enumerators, and the same of every type they refer to (partition
 * refinement, below), so that Vec<dep::Thing> of two versions of `dep` is
 * two types, each with its own T.  Each name with more than one layout is
 * counted in types_stats.conflicts; lookups by it answer ERR_AMBIGUOUS.
 *
 * Declaration stubs stand for the first definition of their kind and name:
 * they join its type, and a reference to a stub lands there.  Anonymous
 * types (C) are never merged (but are compared by shape when the types
 * referring to them are).  Then DIE offsets
 * become type_ids (dense, 1..n, in order of first appearance), sizes and
 * alignments are derived where DWARF leaves them out, members are sorted
 * into memory order, statics repeated across CGUs are kept once per (name,
 * address), and vtable statics are collected by address.
 *
 * Every lookup here is a hash table (include/container.h), so merging is
 * linear in the number of DIEs read.
 */
#include "types_priv.h"

#include <stdlib.h>
#include <string.h>

/* Pointer size when a pointer DIE has no DW_AT_byte_size (rustc never emits
 * one, layouts.md §1): the x86-64 address size. */
#define TYPES_PTR_SIZE 8

/* DIE offset -> index of the raw read from it. */
struct off_slot {
	uint64_t off;
	uint32_t raw;
};
#define OFF_SLOT_KEY(e) ((e)->off)
DEFINE_HASH_TABLE(off_table, struct off_slot, uint64_t, OFF_SLOT_KEY, container_hash_u64,
		  container_eq_u64)

/* (name, address) of a static already kept. */
struct static_key {
	const char *name;
	uint64_t addr, hash;
};

static inline uint64_t static_key_hash(struct static_key k)
{
	return k.hash;
}

static inline bool static_key_eq(struct static_key a, struct static_key b)
{
	return a.hash == b.hash && a.addr == b.addr && !strcmp(a.name, b.name);
}

struct static_slot {
	struct static_key key;
};
#define STATIC_SLOT_KEY(e) ((e)->key)
DEFINE_HASH_TABLE(static_table, struct static_slot, struct static_key, STATIC_SLOT_KEY,
		  static_key_hash, static_key_eq)

DEFINE_VECTOR(types_size_vec, size_t)

struct fin {
	struct types_build *b;
	struct types *t;
	struct off_table raw_of;       /* die offset -> raw index */
	/* per raw */
	struct types_u32_vec name_cls; /* class of (kind, name): round 0 of refinement */
	struct types_u32_vec alias;    /* a stub's first definition, else itself */
	struct types_size_vec ref_at;  /* [n + 1]: where its references start in refs */
	struct types_u32_vec refs;     /* raw index, REF_NONE or REF_UNRESOLVED */
	struct types_u32_vec cls;      /* class in the current refinement round */
	struct types_u32_vec cls_size; /* per class of the current round: its raws */
	unsigned round;
	size_t nnames, nclasses;
	struct types_u32_vec group_of; /* raw index -> group (type_id - 1) */
	/* per group */
	struct types_u32_vec best;     /* raw index chosen */
	size_t conflicts;              /* names with more than one layout */
	uint8_t *state;                /* per id: size/align computation in progress / done */
};

static type_id fin_id(struct fin *f, uint64_t off)
{
	if (!off)
		return 0;
	const struct off_slot *s = off_table_find(&f->raw_of, off);
	if (!s) {
		f->b->unresolved++;
		return 0;
	}
	return f->group_of.data[s->raw] + 1;
}

#define REF_NONE UINT32_MAX             /* no reference (offset 0) */
#define REF_UNRESOLVED (UINT32_MAX - 1) /* a DIE that was not read */

/* The type_id of raw r's k-th reference (in ref_off's order), from the
 * references find_refs resolved once. */
static type_id ref_id(struct fin *f, const struct types_raw *r, size_t k)
{
	uint32_t x = f->refs.data[f->ref_at.data[r - f->b->raws.data] + k];
	if (x == REF_UNRESOLVED) {
		f->b->unresolved++;
		return 0;
	}
	return x == REF_NONE ? 0 : f->group_of.data[x] + 1;
}

/* -------------------------------------------------------------- classes */

/* Raws of one class describe one type.  Partition refinement finds them:
 * round 0 puts raws of one kind and qualified name in one class; round 1
 * splits each by shallow layout (every field but the types referred to) and
 * by the round-0 classes of the types referred to; each later round splits
 * a class whose raws refer, at the same place, to types of different
 * classes; it stops when a round splits nothing.  So two copies merge
 * exactly when nothing reachable from them tells them apart.  A class of
 * one raw cannot split and is not hashed again. */

/* Refinement rounds before settling for the classes found (hostile input;
 * real binaries settle in two or three). */
#define TYPES_MAX_ROUNDS 64

/* A raw's entry in one round's table: the key is the raw (its signature
 * compared through f), cls the class given to the first raw of it; hash
 * and eq ignore cls.  24 bytes: the table has a slot per raw. */
struct sig_entry {
	const struct fin *f;
	uint64_t hash;
	uint32_t raw, cls;
};

static bool sig_eq(const struct fin *f, uint32_t a, uint32_t b);

static inline uint64_t sig_entry_hash(struct sig_entry k)
{
	return k.hash;
}

static inline bool sig_entry_eq(struct sig_entry a, struct sig_entry b)
{
	return a.hash == b.hash && sig_eq(a.f, a.raw, b.raw);
}

#define SIG_ENTRY_KEY(e) (*(e))
DEFINE_HASH_TABLE(sig_table, struct sig_entry, struct sig_entry, SIG_ENTRY_KEY, sig_entry_hash,
		  sig_entry_eq)

static inline uint64_t mix(uint64_t h, uint64_t v)
{
	return container_hash_u64(h + v);
}

/* Every field of two raws of one kind and name but their references. */
static bool shallow_eq(const struct types_raw *a, const struct types_raw *b)
{
	if (a->t.is_declaration != b->t.is_declaration || a->has_size != b->has_size ||
	    a->t.size != b->t.size || a->t.encoding != b->t.encoding || a->t.count != b->t.count ||
	    a->nmembers != b->nmembers || a->ntparams != b->ntparams ||
	    a->nvariants != b->nvariants || a->t.nenumerators != b->t.nenumerators ||
	    a->has_vpart != b->has_vpart || a->vpart_has_tag != b->vpart_has_tag ||
	    a->tag_offset != b->tag_offset)
		return false;
	for (uint32_t i = 0; i < a->nmembers; i++) {
		const struct types_rmember *x = &a->members[i], *y = &b->members[i];
		if (x->offset != y->offset || x->artificial != y->artificial || strcmp(x->name, y->name))
			return false;
	}
	for (uint32_t i = 0; i < a->ntparams; i++)
		if (strcmp(a->tparams[i].name, b->tparams[i].name))
			return false;
	for (uint32_t i = 0; i < a->nvariants; i++) {
		const struct types_rvariant *x = &a->variants[i], *y = &b->variants[i];
		if (x->offset != y->offset || x->has_discr != y->has_discr || x->discr != y->discr ||
		    strcmp(x->name, y->name))
			return false;
	}
	for (uint32_t i = 0; i < a->t.nenumerators; i++)
		if (a->t.enumerators[i].value != b->t.enumerators[i].value ||
		    strcmp(a->t.enumerators[i].name, b->t.enumerators[i].name))
			return false;
	return true;
}

static uint64_t shallow_hash(const struct types_raw *r)
{
	uint64_t h = mix(r->t.size + ((uint64_t)r->has_size << 63),
			 r->t.count ^ ((uint64_t)r->t.encoding << 32) ^ r->t.is_declaration);
	h = mix(h, r->nmembers ^ ((uint64_t)r->nvariants << 32));
	for (uint32_t k = 0; k < r->nmembers; k++)
		h = mix(h, r->members[k].offset);
	return h;
}

/* A raw's references, in a fixed order: target, tag type, members' types,
 * template parameters' types, variants' types. */
static size_t nrefs(const struct types_raw *r)
{
	return (size_t)2 + r->nmembers + r->ntparams + r->nvariants;
}

static uint64_t ref_off(const struct types_raw *r, size_t k)
{
	if (k == 0)
		return r->target_off;
	if (k == 1)
		return r->vpart_has_tag ? r->tag_type_off : 0;
	k -= 2;
	if (k < r->nmembers)
		return r->members[k].type_off;
	k -= r->nmembers;
	if (k < r->ntparams)
		return r->tparams[k].type_off;
	return r->variants[k - r->ntparams].type_off;
}

static inline uint32_t ref_class(const struct fin *f, uint32_t ref)
{
	return ref >= REF_UNRESOLVED ? ref : f->cls.data[ref];
}

static bool sig_eq(const struct fin *f, uint32_t a, uint32_t b)
{
	const struct types_raw *x = &f->b->raws.data[a], *y = &f->b->raws.data[b];
	if (!f->round)
		return x->t.kind == y->t.kind && !strcmp(x->t.name, y->t.name);
	if (f->cls.data[a] != f->cls.data[b] || (f->round == 1 && !shallow_eq(x, y)))
		return false;
	/* one shallow layout means as many references */
	const uint32_t *ra = &f->refs.data[f->ref_at.data[a]], *rb = &f->refs.data[f->ref_at.data[b]];
	size_t n = f->ref_at.data[a + 1] - f->ref_at.data[a];
	for (size_t k = 0; k < n; k++)
		if (ref_class(f, ra[k]) != ref_class(f, rb[k]))
			return false;
	return true;
}

static uint64_t sig_hash(const struct fin *f, uint32_t i)
{
	const struct types_raw *r = &f->b->raws.data[i];
	if (!f->round)
		return r->name_hash;
	uint64_t h = container_hash_u64(f->cls.data[i]);
	if (f->round == 1)
		h = mix(h, shallow_hash(r));
	for (size_t k = f->ref_at.data[i]; k < f->ref_at.data[i + 1]; k++)
		h = mix(h, ref_class(f, f->refs.data[k]));
	return h;
}

/* One round: next[i] is raw i's new class, numbered in order of first
 * appearance; returns how many. */
static uint32_t refine_round(struct fin *f, struct sig_table *sigs, uint32_t *next)
{
	uint32_t count = 0;
	sig_table_clear(sigs);
	for (uint32_t i = 0; i < f->b->raws.len; i++) {
		if (f->round && f->cls_size.data[f->cls.data[i]] == 1) {
			next[i] = count++;
			continue;
		}
		struct sig_entry k = { f, sig_hash(f, i), i, 0 };
		bool inserted = false;
		struct sig_entry *s = sig_table_insert(sigs, k, &inserted); /* reserved: never NULL */
		if (inserted) {
			*s = k;
			s->cls = count++;
		}
		next[i] = s->cls;
	}
	return count;
}

/* Each declaration stub stands for the first definition of its kind and
 * name (its alias), found through the round-0 classes. */
static int find_aliases(struct fin *f)
{
	size_t n = f->b->raws.len;
	struct types_u32_vec first_def; /* per name class: raw + 1 */
	types_u32_vec_init(&first_def);
	if (!types_u32_vec_reserve(&f->alias, n) || !types_u32_vec_reserve(&first_def, f->nnames)) {
		types_u32_vec_deinit(&first_def);
		return types_build_nomem(f->b);
	}
	memset(first_def.data, 0, f->nnames * sizeof *first_def.data);
	f->alias.len = n;
	for (uint32_t i = 0; i < n; i++) {
		const struct types_raw *r = &f->b->raws.data[i];
		uint32_t *fd = &first_def.data[f->name_cls.data[i]];
		if (!*fd && !r->t.is_declaration && r->t.name[0])
			*fd = i + 1;
	}
	for (uint32_t i = 0; i < n; i++) {
		uint32_t fd = first_def.data[f->name_cls.data[i]];
		f->alias.data[i] = f->b->raws.data[i].t.is_declaration && fd ? fd - 1 : i;
	}
	types_u32_vec_deinit(&first_def);
	return 0;
}

/* The references of every raw as raw indexes (a stub's replaced by its
 * alias), flattened: raw i's are refs[ref_at[i] .. ref_at[i + 1]). */
static int find_refs(struct fin *f)
{
	size_t n = f->b->raws.len, total = 0;
	for (size_t i = 0; i < n && total <= SIZE_MAX / 8; i++)
		total += nrefs(&f->b->raws.data[i]); /* each < 2^34 */
	if (total > SIZE_MAX / 8 || !types_size_vec_reserve(&f->ref_at, n + 1) ||
	    !types_u32_vec_reserve(&f->refs, total))
		return types_build_nomem(f->b);
	for (size_t i = 0; i < n; i++) {
		const struct types_raw *r = &f->b->raws.data[i];
		f->ref_at.data[i] = f->refs.len;
		for (size_t k = 0, nr = nrefs(r); k < nr; k++) {
			uint64_t off = ref_off(r, k);
			const struct off_slot *s = off ? off_table_find(&f->raw_of, off) : NULL;
			f->refs.data[f->refs.len++] = !off ? REF_NONE
						      : !s ? REF_UNRESOLVED
							   : f->alias.data[s->raw];
		}
	}
	f->ref_at.data[n] = f->refs.len;
	f->ref_at.len = n + 1;
	return 0;
}

static bool count_sizes(struct fin *f, uint32_t ncls)
{
	if (!types_u32_vec_reserve(&f->cls_size, ncls))
		return false;
	memset(f->cls_size.data, 0, ncls * sizeof *f->cls_size.data);
	for (size_t i = 0; i < f->b->raws.len; i++)
		f->cls_size.data[f->cls.data[i]]++;
	return true;
}

static int refine(struct fin *f)
{
	size_t n = f->b->raws.len;
	struct sig_table sigs;
	struct types_u32_vec next;
	sig_table_init(&sigs);
	types_u32_vec_init(&next);
	int rc = 0;
	if (!types_u32_vec_reserve(&f->cls, n) || !types_u32_vec_reserve(&next, n) ||
	    !types_u32_vec_reserve(&f->name_cls, n) || !sig_table_reserve(&sigs, n))
		goto nomem;
	f->cls.len = next.len = f->name_cls.len = n;
	f->round = 0;
	f->nnames = f->nclasses = refine_round(f, &sigs, f->name_cls.data);
	memcpy(f->cls.data, f->name_cls.data, n * sizeof *f->cls.data);
	if ((rc = find_aliases(f)) || (rc = find_refs(f)))
		goto out;
	for (f->round = 1; f->round < TYPES_MAX_ROUNDS; f->round++) {
		if (!count_sizes(f, (uint32_t)f->nclasses))
			goto nomem;
		uint32_t count = refine_round(f, &sigs, next.data);
		struct types_u32_vec tmp = f->cls;
		f->cls = next;
		next = tmp;
		bool settled = count == f->nclasses;
		f->nclasses = count;
		if (settled)
			break;
	}
	goto out;
nomem:
	rc = types_build_nomem(f->b);
out:
	sig_table_deinit(&sigs);
	types_u32_vec_deinit(&next);
	return rc;
}

/* ------------------------------------------------------------- grouping */

static uint32_t new_group(struct fin *f, uint32_t raw)
{
	uint32_t g = (uint32_t)f->best.len++;
	f->best.data[g] = raw;
	return g;
}

/* One more layout of raw i's name: the second makes a conflict. */
static void count_layout(struct fin *f, uint32_t *layouts, uint32_t i)
{
	if (++layouts[f->name_cls.data[i]] == 2)
		f->conflicts++;
}

/* One group per class of named raws (stubs in their alias's), numbered in
 * order of first appearance; anonymous raws are groups of one.  A group's
 * best raw is its first definition. */
static int fin_group(struct fin *f)
{
	size_t n = f->b->raws.len;
	if (n >= REF_UNRESOLVED)
		return err_set(f->b->e, ERR_INPUT, "DWARF has %zu type DIEs, more than can be indexed", n);
	struct types_u32_vec group_of_cls, layouts;
	types_u32_vec_init(&group_of_cls);
	types_u32_vec_init(&layouts);
	int rc = refine(f);
	if (rc)
		goto out;
	if (!types_u32_vec_reserve(&f->group_of, n) || !types_u32_vec_reserve(&f->best, n) ||
	    !types_u32_vec_reserve(&group_of_cls, f->nclasses) ||
	    !types_u32_vec_reserve(&layouts, f->nnames)) {
		rc = types_build_nomem(f->b);
		goto out;
	}
	memset(group_of_cls.data, 0xff, f->nclasses * sizeof *group_of_cls.data);
	memset(layouts.data, 0, f->nnames * sizeof *layouts.data);
	f->group_of.len = n;
	for (uint32_t i = 0; i < n; i++) {
		const struct types_raw *r = &f->b->raws.data[i];
		uint32_t g;
		if (!r->t.name[0]) {
			g = new_group(f, i);
		} else {
			uint32_t *slot = &group_of_cls.data[f->cls.data[f->alias.data[i]]];
			g = *slot;
			if (g == UINT32_MAX) {
				g = *slot = new_group(f, i);
				if (!r->t.is_declaration)
					count_layout(f, layouts.data, i);
			} else if (f->b->raws.data[f->best.data[g]].t.is_declaration && !r->t.is_declaration) {
				f->best.data[g] = i;
				count_layout(f, layouts.data, i);
			}
		}
		f->group_of.data[i] = g;
	}
out:
	types_u32_vec_deinit(&group_of_cls);
	types_u32_vec_deinit(&layouts);
	return rc;
}

/* ------------------------------------------------ one type per group */

static int fin_members(struct fin *f, const struct types_raw *r, struct types_type *t)
{
	struct types_arena *a = &f->t->arena;
	if (r->nmembers) {
		struct types_member *m = types_arena_alloc(a, r->nmembers * sizeof *m);
		if (!m)
			return types_build_nomem(f->b);
		for (uint32_t i = 0; i < r->nmembers; i++)
			m[i] = (struct types_member){ r->members[i].name, ref_id(f, r, (size_t)2 + i),
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
			return types_build_nomem(f->b);
		for (uint32_t i = 0; i < r->ntparams; i++)
			p[i] = (struct types_tparam){ r->tparams[i].name, ref_id(f, r, (size_t)2 + r->nmembers + i) };
		t->tparams = p;
	}
	t->ntparams = r->ntparams;
	return 0;
}

static int fin_vpart(struct fin *f, const struct types_raw *r, struct types_type *t)
{
	if (!r->has_vpart)
		return 0;
	struct types_arena *a = &f->t->arena;
	struct types_variant_part *vp = types_arena_alloc(a, sizeof *vp);
	struct types_variant *v = r->nvariants ? types_arena_alloc(a, r->nvariants * sizeof *v) : NULL;
	if (!vp || (r->nvariants && !v))
		return types_build_nomem(f->b);
	memset(vp, 0, sizeof *vp);
	vp->has_tag = r->vpart_has_tag;
	vp->tag_offset = r->tag_offset;
	vp->tag_type = ref_id(f, r, 1);
	for (uint32_t i = 0; i < r->nvariants; i++)
		v[i] = (struct types_variant){ r->variants[i].name, ref_id(f, r, (size_t)2 + r->nmembers + r->ntparams + i),
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
	const struct types_raw *r = &f->b->raws.data[f->best.data[t - f->t->types - 1]];
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
	if (!id || id > f->t->ntypes || depth > TYPES_MAX_DEPTH)
		return 0;
	struct types_type *t = &f->t->types[id];
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
	const struct types_raw *r = &f->b->raws.data[f->best.data[t - f->t->types - 1]];
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
	if (!id || id > f->t->ntypes || depth > TYPES_MAX_DEPTH)
		return 1;
	struct types_type *t = &f->t->types[id];
	if (f->state[id] & 4)
		return t->align;
	if (f->state[id] & 8)
		return 1;
	f->state[id] |= 8;
	t->align = align_compute(f, t, depth);
	f->state[id] = (uint8_t)((f->state[id] & ~8) | 4);
	return t->align;
}


/* rustc repeats a static's DIE in CGUs that use it: one per (name, address). */
static int fin_statics(struct fin *f)
{
	struct types *t = f->t;
	size_t n = f->b->statics.len;
	if (!n)
		return 0;
	if (n > SIZE_MAX / sizeof *t->statics)
		return types_build_nomem(f->b);
	t->statics = types_arena_alloc(&t->arena, n * sizeof *t->statics);
	t->vtables = types_arena_alloc(&t->arena, n * sizeof *t->vtables);
	struct static_table seen;
	static_table_init(&seen);
	if (!t->statics || !t->vtables || !static_table_reserve(&seen, n) ||
	    !types_u64_vec_reserve(&t->static_hash, n + 1)) {
		static_table_deinit(&seen);
		return types_build_nomem(f->b);
	}
	for (size_t i = 0; i < n; i++) {
		const struct types_rstatic *s = &f->b->statics.data[i];
		type_id ty = fin_id(f, s->type_off);
		struct static_key k = { s->name, s->addr, s->name_hash ^ container_hash_u64(s->addr) };
		bool inserted;
		struct static_slot *slot = static_table_insert(&seen, k, &inserted);
		if (!slot) {
			static_table_deinit(&seen);
			return types_build_nomem(f->b);
		}
		if (!inserted)
			continue;
		slot->key = k;
		t->static_hash.data[t->nstatics + 1] = s->name_hash;
		t->statics[t->nstatics++] = (struct types_static){ s->name, s->linkage_name, s->addr, ty };
		type_id r = types_resolve(t, ty);
		if (r && t->containing[r])
			t->vtables[t->nvtables++] = (struct types_vtable){ s->addr, t->containing[r] };
	}
	static_table_deinit(&seen);
	t->static_hash.data[0] = 0;
	t->static_hash.len = t->nstatics + 1;
	return 0;
}

static int vtable_cmp(const void *a, const void *b)
{
	const struct types_vtable *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Tag widths and masked discriminants need the tag type's size. */
static void fin_tags(struct types *t)
{
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
}

static int fin_types(struct fin *f)
{
	struct types *t = f->t;
	size_t ngroups = f->best.len;
	t->ntypes = ngroups;
	t->types = calloc(ngroups + 1, sizeof *t->types);
	t->containing = calloc(ngroups + 1, sizeof *t->containing);
	f->state = calloc(ngroups + 1, 1);
	if (!t->types || !t->containing || !f->state || !types_u64_vec_reserve(&t->name_hash, ngroups + 1))
		return types_build_nomem(f->b);
	t->name_hash.len = ngroups + 1;
	t->name_hash.data[0] = 0;
	t->types[0].name = "void";
	for (size_t g = 0; g < ngroups; g++) {
		const struct types_raw *r = &f->b->raws.data[f->best.data[g]];
		struct types_type *ty = &t->types[g + 1];
		int rc;
		*ty = r->t;
		ty->members = NULL;
		/* the plain name's hash, for exact lookups (types_query.c) */
		t->name_hash.data[g + 1] = r->name_hash ^ (uint64_t)r->t.kind * TYPES_KIND_SALT;
		ty->target = ref_id(f, r, 0);
		t->containing[g + 1] = fin_id(f, r->containing_off);
		if ((rc = fin_members(f, r, ty)) || (rc = fin_vpart(f, r, ty)))
			return rc;
	}
	for (size_t id = 1; id <= t->ntypes; id++)
		size_of_id(f, (type_id)id, 0);
	for (size_t id = 1; id <= t->ntypes; id++)
		align_of_id(f, (type_id)id, 0);
	fin_tags(t);
	return 0;
}

int types_merge(struct types_build *b)
{
	struct types *t = b->t;
	struct fin f = { .b = b, .t = t };
	int rc = 0;
	off_table_init(&f.raw_of);
	if (!off_table_reserve(&f.raw_of, b->raws.len)) {
		rc = types_build_nomem(b);
		goto out;
	}
	for (size_t i = 0; i < b->raws.len && i < UINT32_MAX; i++) {
		bool inserted;
		struct off_slot *s = off_table_insert(&f.raw_of, b->raws.data[i].t.die_offset, &inserted);
		if (!s) {
			rc = types_build_nomem(b);
			goto out;
		}
		if (inserted) /* one DIE read twice (hostile sibling links): the first wins */
			*s = (struct off_slot){ b->raws.data[i].t.die_offset, (uint32_t)i };
	}
	if ((rc = fin_group(&f)) || (rc = fin_types(&f)) || (rc = fin_statics(&f)))
		goto out;
	if (t->nvtables > 1)   /* qsort must not see a NULL array, even empty */
		qsort(t->vtables, t->nvtables, sizeof *t->vtables, vtable_cmp);
	t->stats.cus = b->cus;
	t->stats.dies = b->dies;
	t->stats.types = t->ntypes;
	t->stats.merged = b->raws.len - t->ntypes;
	t->stats.statics = t->nstatics;
	t->stats.conflicts = f.conflicts;
	rc = types_build_indexes(t, b->e);
out:
	off_table_deinit(&f.raw_of);
	types_u32_vec_deinit(&f.name_cls);
	types_u32_vec_deinit(&f.alias);
	types_u32_vec_deinit(&f.cls_size);
	types_size_vec_deinit(&f.ref_at);
	types_u32_vec_deinit(&f.refs);
	types_u32_vec_deinit(&f.cls);
	types_u32_vec_deinit(&f.group_of);
	types_u32_vec_deinit(&f.best);
	free(f.state);
	return rc;
}
