/* synth.c: builds the synthetic minimal core of the heap and walk harnesses
 * and mutates it structurally (see synth.h).
 *
 * The typed description is ENTITIES below: the entries of TABLE's HashMap,
 * each a Vec<Shape> of ops given by variant name and a parameter.  glibc's
 * structures follow the 2.35-2.41 row of src/heap_glibc.c (malloc_state,
 * malloc_par with thp/hp fields, 0x290-byte tcache, safe-linking, random
 * tcache key); Rust's follow the fixture's DWARF. */
#include "synth.h"
#include "fuzz.h"

#include <elf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- the description */

struct op {
	const char *variant;   /* a variant of shapes::Shape */
	uint64_t n;            /* Small: the value; List/Slice/Queue/Map/Shared: the length;
				* Boxed: the fill; Nested: 1 Some, 0 None; Dyn: 0 Listy, 1 Fixed */
	const char *text;      /* Name: the string; List: "mmap" puts the buffer in the mmapped chunk */
};

static const struct op OPS_A[] = {
	{"Empty", 0, NULL}, {"Small", 7, NULL}, {"Boxed", 3, NULL}, {"List", 3, NULL},
	{"Name", 0, "name-1-2-xx"}, {"Nested", 1, NULL}, {"Map", 3, NULL}, {"Queue", 3, NULL},
};
static const struct op OPS_B[] = {
	{"Slice", 5, NULL}, {"Shared", 12, NULL}, {"Shared", 12, NULL}, {"Dyn", 0, NULL},
	{"Dyn", 1, NULL}, {"Nested", 0, NULL}, {"List", 2, "mmap"}, {"Map", 0, NULL},
};
static const struct entity {
	uint64_t key;
	const struct op *ops;
	size_t n, cap;
} ENTITIES[] = {
	{17, OPS_A, sizeof OPS_A / sizeof OPS_A[0], 9},
	{1017, OPS_B, sizeof OPS_B / sizeof OPS_B[0], 8},
};

/* ---------------------------------------------------------------- where things are */

enum {
	LIBC = 0x7ffff7e1a000ull,       /* libc's data: mp_ and main_arena */
	MP_OFF = 0x40, ARENA_OFF = 0x100, LIBC_SIZE = 0xa00,
	HEAP = 0x555555559000ull,       /* sbrk_base */
	HEAP_CAP = 0x2000,
	MMAP = 0x7ffff7ff0000ull,       /* one mmapped chunk */
	MMAP_SIZE = 0x1000,
	TOP_SIZE = 0x100,
	/* malloc_state (>= 2.27) and malloc_par (>= 2.35) offsets */
	MS_FLAGS = 4, MS_HAVE_FAST = 8, MS_FASTBINS = 16, MS_TOP = 96, MS_BINS = 112, MS_NEXT = 2160,
	MS_ATTACHED = 2176, MS_SYSTEM_MEM = 2184, MS_MAX_SYSTEM_MEM = 2192,
	MP_N_MMAPS = 60, MP_N_MMAPS_MAX = 64, MP_MAX_N_MMAPS = 68, MP_MMAPPED = 80, MP_MAX_MMAPPED = 88,
	MP_SBRK_BASE = 96, MP_TCACHE_BINS = 104, MP_TCACHE_MAX = 112, MP_TCACHE_COUNT = 120,
	TCACHE_CHUNK = 0x290, TCACHE_ENTRIES = 128,
};
#define TCACHE_KEY 0x6b8b4567327b23c6ull

#define MAXSEG 16

struct seg {
	uint64_t addr, size;
	uint32_t flags;    /* PF_* */
	uint8_t *b;
};

struct sb {
	const struct types *t;
	struct err *e;
	int failed;
	struct seg seg[MAXSEG];
	size_t nseg;
	uint64_t cur;            /* next chunk header in the heap */
	bool prev_free;          /* the chunk before cur is free (unsorted) */
	uint64_t prev_size;
	struct synth_field *f;
	size_t nf, capf;
	uint64_t *addrs;
	size_t na, capa;
	uint64_t arc_last;       /* the last Shared's ArcInner, for the one owned twice */
	uint64_t arc_strong;     /* its strong count's address */
	type_id shape;
};

static int fail(struct sb *s, const char *what, const char *name)
{
	if (!s->failed)
		err_set(s->e, ERR_NOTFOUND, "synth: %s%s%s", what, name ? " " : "", name ? name : "");
	s->failed = 1;
	return -1;
}

static struct seg *seg_add(struct sb *s, uint64_t addr, uint64_t size, uint32_t flags)
{
	for (size_t i = 0; i < s->nseg; i++) {
		struct seg *g = &s->seg[i];
		if (addr < g->addr + g->size && g->addr < addr + size) {
			/* overlapping: grow the segment to the union */
			uint64_t lo = addr < g->addr ? addr : g->addr;
			uint64_t hi = addr + size > g->addr + g->size ? addr + size : g->addr + g->size;
			uint8_t *nb = calloc(1, hi - lo);
			if (!nb)
				return NULL;
			memcpy(nb + (g->addr - lo), g->b, g->size);
			free(g->b);
			g->b = nb;
			g->addr = lo;
			g->size = hi - lo;
			g->flags |= flags;
			return g;
		}
	}
	if (s->nseg == MAXSEG)
		return NULL;
	struct seg *g = &s->seg[s->nseg];
	g->b = calloc(1, size);
	if (!g->b)
		return NULL;
	g->addr = addr;
	g->size = size;
	g->flags = flags;
	s->nseg++;
	return g;
}

static uint8_t *at(struct sb *s, uint64_t addr, size_t n)
{
	for (size_t i = 0; i < s->nseg; i++)
		if (addr >= s->seg[i].addr && addr + n <= s->seg[i].addr + s->seg[i].size)
			return s->seg[i].b + (addr - s->seg[i].addr);
	fail(s, "write outside every segment", NULL);
	return NULL;
}

static void wr(struct sb *s, uint64_t addr, uint64_t v, size_t n)
{
	uint8_t *p = at(s, addr, n);
	if (p)
		memcpy(p, &v, n); /* little-endian */
}

static void field(struct sb *s, uint64_t addr, unsigned width, enum synth_kind kind, uint64_t alt, uint32_t nalt)
{
	if (s->nf == s->capf) {
		size_t cap = s->capf ? 2 * s->capf : 256;
		struct synth_field *nf = realloc(s->f, cap * sizeof *nf);
		if (!nf) {
			fail(s, "out of memory", NULL);
			return;
		}
		s->f = nf;
		s->capf = cap;
	}
	s->f[s->nf++] = (struct synth_field){.addr = addr, .width = (uint8_t)width, .kind = (uint8_t)kind,
					     .alt = alt, .nalt = nalt};
}

/* Writes v and lists it as a field. */
static void wf(struct sb *s, uint64_t addr, uint64_t v, unsigned width, enum synth_kind kind)
{
	wr(s, addr, v, width);
	field(s, addr, width, kind, 0, 0);
}

static void pool(struct sb *s, uint64_t a)
{
	if (s->na == s->capa) {
		size_t cap = s->capa ? 2 * s->capa : 64;
		uint64_t *na = realloc(s->addrs, cap * sizeof *na);
		if (!na) {
			fail(s, "out of memory", NULL);
			return;
		}
		s->addrs = na;
		s->capa = cap;
	}
	s->addrs[s->na++] = a;
}

/* ---------------------------------------------------------------- glibc */

static uint64_t chunk_size(uint64_t req)
{
	uint64_t c = (req + 8 + 15) & ~(uint64_t)15;
	return c < 32 ? 32 : c;
}

/* A chunk of the brk heap for req bytes: its user pointer. */
static uint64_t halloc(struct sb *s, uint64_t req)
{
	uint64_t c = chunk_size(req), hdr = s->cur;
	if (hdr + c + TOP_SIZE > HEAP + HEAP_CAP) {
		fail(s, "the heap is full", NULL);
		return 0;
	}
	if (s->prev_free) {
		wf(s, hdr, s->prev_size, 8, SF_PREVSIZE);
		wf(s, hdr + 8, c, 8, SF_CHUNK);
	} else {
		wf(s, hdr + 8, c | 1, 8, SF_CHUNK);
	}
	s->prev_free = false;
	s->cur += c;
	pool(s, hdr + 16);
	return hdr + 16;
}

static void glibc_start(struct sb *s)
{
	uint64_t a = LIBC + ARENA_OFF;
	/* tcache_perthread_struct: the first chunk of the heap */
	s->cur = HEAP;
	uint64_t tc = halloc(s, TCACHE_CHUNK - 16);
	/* one chunk in tcache bin 0 (0x20): safe-linked next NULL, the key */
	uint64_t t0 = halloc(s, 24);
	wf(s, tc, 1, 2, SF_COUNT);
	wf(s, tc + TCACHE_ENTRIES, t0, 8, SF_LINK);
	wf(s, t0, t0 >> 12, 8, SF_LINK);
	wr(s, t0 + 8, TCACHE_KEY, 8);
	/* one in fastbin 0 */
	uint64_t f0 = halloc(s, 24);
	wf(s, a + MS_FASTBINS, f0 - 16, 8, SF_LINK);
	wf(s, f0, f0 >> 12, 8, SF_LINK);
	wr(s, a + MS_HAVE_FAST, 1, 4);
	/* one in the unsorted bin (bin 1): its fd and bk at the bin head */
	uint64_t u0 = halloc(s, 0x98), head = a + MS_BINS - 16;
	wf(s, u0, head, 8, SF_LINK);
	wf(s, u0 + 8, head, 8, SF_LINK);
	s->prev_free = true;
	s->prev_size = chunk_size(0x98);
	wr(s, u0 - 16 + s->prev_size - 8, 0, 8); /* the free chunk's footer is the next prev_size */
	/* bins: every head at itself, but the unsorted one */
	for (uint64_t i = 0; i < 127; i++) {
		uint64_t self = a + MS_BINS + 16 * i - 16;
		wr(s, a + MS_BINS + 16 * i, i ? self : u0 - 16, 8);
		wr(s, a + MS_BINS + 16 * i + 8, i ? self : u0 - 16, 8);
	}
	field(s, a + MS_BINS, 8, SF_LINK, 0, 0);
	field(s, a + MS_BINS + 8, 8, SF_LINK, 0, 0);
	field(s, a + MS_BINS + 16, 8, SF_LINK, 0, 0);
	wf(s, a + MS_NEXT, a, 8, SF_LINK);
	wr(s, a + MS_ATTACHED, 1, 8);
}

static void glibc_finish(struct sb *s)
{
	uint64_t a = LIBC + ARENA_OFF, mp = LIBC + MP_OFF;
	uint64_t top = halloc(s, TOP_SIZE - 16) - 16;
	uint64_t end = top + TOP_SIZE;
	wf(s, a + MS_TOP, top, 8, SF_LINK);
	wf(s, a + MS_SYSTEM_MEM, end - HEAP, 8, SF_COUNT);
	wf(s, a + MS_MAX_SYSTEM_MEM, end - HEAP, 8, SF_COUNT);
	/* malloc_par: the tunables' defaults, one mmapped chunk */
	wr(s, mp + 0, 128 << 10, 8);
	wr(s, mp + 8, 128 << 10, 8);
	wr(s, mp + 16, 128 << 10, 8);
	wr(s, mp + 24, 8, 8);
	wf(s, mp + MP_N_MMAPS, 1, 4, SF_COUNT);
	wr(s, mp + MP_N_MMAPS_MAX, 65536, 4);
	wr(s, mp + MP_MAX_N_MMAPS, 1, 4);
	wf(s, mp + MP_MMAPPED, MMAP_SIZE, 8, SF_COUNT);
	wr(s, mp + MP_MAX_MMAPPED, MMAP_SIZE, 8);
	wf(s, mp + MP_SBRK_BASE, HEAP, 8, SF_LINK);
	wr(s, mp + MP_TCACHE_BINS, 64, 8);
	wr(s, mp + MP_TCACHE_MAX, 1032, 8);
	wr(s, mp + MP_TCACHE_COUNT, 7, 8);
	/* the heap segment ends with top */
	for (size_t i = 0; i < s->nseg; i++)
		if (s->seg[i].addr == HEAP)
			s->seg[i].size = end - HEAP;
	pool(s, HEAP);
	pool(s, end);
	pool(s, LIBC);
	pool(s, a);
	pool(s, MMAP + 16);
}

/* ---------------------------------------------------------------- DWARF */

static type_id member(struct sb *s, type_id id, const char *path, uint64_t *off)
{
	type_id ty = 0;
	if (types_member_path(s->t, id, path, off, &ty, NULL) != 0)
		return 0;
	return types_resolve(s->t, ty);
}

/* The first of the spellings that exists, its offset in off. */
static type_id member_any(struct sb *s, type_id id, const char *prefix, const char *const *forms, uint64_t *off)
{
	char path[160];
	for (size_t i = 0; forms[i]; i++) {
		snprintf(path, sizeof path, "%s%s", prefix, forms[i]);
		type_id ty = member(s, id, path, off);
		if (ty)
			return ty;
	}
	const struct types_type *tt = types_get(s->t, id);
	fail(s, "no such member in", tt && tt->name ? tt->name : "?");
	return 0;
}

static uint64_t tsize(struct sb *s, type_id id)
{
	const struct types_type *tt = types_get(s->t, id);
	return tt ? tt->size : 0;
}

static type_id tparam(struct sb *s, type_id id, const char *name)
{
	type_id r = types_resolve(s->t, types_tparam(s->t, id, name));
	if (!r)
		fail(s, "no template parameter", name);
	return r;
}

/* The pointee of a pointer type (through typedefs). */
static type_id pointee(struct sb *s, type_id id)
{
	const struct types_type *tt = types_get(s->t, types_resolve(s->t, id));
	return tt && tt->kind == TYPES_POINTER ? types_resolve(s->t, tt->target) : 0;
}

/* A member somewhere inside id whose type's name starts with prefix
 * (depth-first through structs and unions). */
static type_id find_inside(struct sb *s, type_id id, const char *prefix, int depth, uint64_t *off)
{
	const struct types_type *tt = types_get(s->t, types_resolve(s->t, id));
	if (!tt || depth > 16)
		return 0;
	if (tt->name && strncmp(tt->name, prefix, strlen(prefix)) == 0) {
		*off = 0;
		return types_resolve(s->t, id);
	}
	if (tt->kind != TYPES_STRUCT && tt->kind != TYPES_UNION)
		return 0;
	for (uint32_t i = 0; i < tt->nmembers; i++) {
		uint64_t o;
		type_id r = find_inside(s, tt->members[i].type, prefix, depth + 1, &o);
		if (r) {
			*off = tt->members[i].offset + o;
			return r;
		}
	}
	return 0;
}

/* Writes the tag of variant name of enum id at addr (when it has one) and
 * lists it; the variant's payload struct, its offset in *off. */
static const struct types_variant *variant(struct sb *s, type_id id, uint64_t addr, const char *name)
{
	const struct types_type *tt = types_get(s->t, id);
	if (!tt || !tt->vpart)
		return fail(s, "not an enum:", tt && tt->name ? tt->name : "?"), NULL;
	const struct types_variant_part *vp = tt->vpart;
	const struct types_variant *va = NULL;
	uint64_t lo = UINT64_MAX;
	uint32_t ndiscr = 0;
	for (uint32_t i = 0; i < vp->nvariants; i++) {
		if (strcmp(vp->variants[i].name, name) == 0)
			va = &vp->variants[i];
		if (vp->variants[i].has_discr) {
			ndiscr++;
			if (vp->variants[i].discr < lo)
				lo = vp->variants[i].discr;
		}
	}
	if (!va)
		return fail(s, "no variant", name), NULL;
	if (vp->has_tag && va->has_discr && vp->tag_size <= 8) {
		wr(s, addr + vp->tag_offset, va->discr, vp->tag_size);
		field(s, addr + vp->tag_offset, vp->tag_size, SF_TAG, lo, ndiscr);
	}
	return va;
}

/* The payload member (path, "__0" for tuple variants) of a variant. */
static type_id payload(struct sb *s, const struct types_variant *va, const char *path, uint64_t *off)
{
	uint64_t o;
	type_id ty = member(s, types_resolve(s->t, va->type), path, &o);
	if (!ty)
		return fail(s, "no payload in variant", va->name), 0;
	*off = va->offset + o;
	return ty;
}

static const char *const CAP_FORMS[] = {"inner.cap.__0", "inner.cap", "cap.__0", "cap", NULL};
static const char *const PTR_FORMS[] = {"inner.ptr.pointer.pointer", "inner.ptr.pointer", "ptr.pointer.pointer",
					"ptr.pointer", "ptr", NULL};

/* A Vec (prefix "") or String (prefix "vec.") at addr of type id with a
 * buffer of cap elements of esize bytes at buf (allocated when 0). */
static uint64_t vec(struct sb *s, uint64_t addr, type_id id, const char *prefix, uint64_t esize, uint64_t len,
		    uint64_t cap, uint64_t buf)
{
	char p[64];
	uint64_t o_cap, o_ptr, o_len;
	snprintf(p, sizeof p, "%sbuf.", prefix);
	member_any(s, id, p, CAP_FORMS, &o_cap);
	member_any(s, id, p, PTR_FORMS, &o_ptr);
	snprintf(p, sizeof p, "%slen", prefix);
	if (!member(s, id, p, &o_len))
		return fail(s, "no len in", p), 0;
	if (!buf)
		buf = cap && esize ? halloc(s, cap * esize) : 8;
	wf(s, addr + o_ptr, buf, 8, SF_PTR);
	wf(s, addr + o_cap, cap, 8, SF_CAP);
	wf(s, addr + o_len, len, 8, SF_LEN);
	return buf;
}

/* A String holding text. */
static void string(struct sb *s, uint64_t addr, type_id id, const char *text)
{
	size_t n = strlen(text);
	uint64_t buf = vec(s, addr, id, "vec.", 1, n, n, 0);
	uint8_t *p = n ? at(s, buf, n) : NULL;
	if (p)
		memcpy(p, text, n);
}

/* A fat pointer's two words: (data_ptr, length) or (pointer, vtable). */
static void fat(struct sb *s, uint64_t addr, type_id id, uint64_t ptr, uint64_t meta, enum synth_kind meta_kind)
{
	uint64_t o0, o1;
	if (!((member(s, id, "data_ptr", &o0) && member(s, id, "length", &o1)) ||
	      (member(s, id, "pointer", &o0) && member(s, id, "vtable", &o1)))) {
		const struct types_type *tt = types_get(s->t, id);
		fail(s, "not a fat pointer:", tt && tt->name ? tt->name : "?");
		return;
	}
	wf(s, addr + o0, ptr, 8, SF_PTR);
	wf(s, addr + o1, meta, 8, meta_kind);
}

static void shape(struct sb *s, uint64_t addr, const struct op *o);

/* Option<Box<Shape>>: Some(Box(List [1, 2, 3])) or None. */
static void nested(struct sb *s, uint64_t addr, type_id opt, bool some)
{
	const struct types_variant *va = variant(s, opt, addr, some ? "Some" : "None");
	if (!va || !some)
		return;
	uint64_t off;
	payload(s, va, "__0", &off);
	uint64_t box = halloc(s, tsize(s, s->shape));
	wf(s, addr + off, box, 8, SF_PTR);
	static const struct op inner = {"List", 3, NULL};
	shape(s, box, &inner);
}

/* BTreeMap<u32, String> with n entries in one leaf (height 0). */
static void btree(struct sb *s, uint64_t addr, type_id id, uint64_t n)
{
	uint64_t o_len, o_root, o_node, o_h, o_keys, o_vals, o_nlen, o_parent;
	type_id root = member(s, id, "root", &o_root), node_t = 0, keys_t, vals_t;
	if (!member(s, id, "length", &o_len) || !root)
		return (void)fail(s, "no BTreeMap root/length", NULL);
	wf(s, addr + o_len, n, 8, SF_LEN);
	if (!n) {
		variant(s, root, addr + o_root, "None");
		return;
	}
	const struct types_variant *va = variant(s, root, addr + o_root, "Some");
	if (!va)
		return;
	type_id vt = types_resolve(s->t, va->type);
	if (!(node_t = member(s, vt, "__0.node.pointer", &o_node)) || !member(s, vt, "__0.height", &o_h))
		return (void)fail(s, "no BTree root node/height", NULL);
	type_id leaf = pointee(s, node_t);
	if (!leaf || !(keys_t = member(s, leaf, "keys", &o_keys)) || !(vals_t = member(s, leaf, "vals", &o_vals)) ||
	    !member(s, leaf, "len", &o_nlen) || !member(s, leaf, "parent", &o_parent))
		return (void)fail(s, "no BTree leaf layout", NULL);
	const struct types_type *kt = types_get(s->t, keys_t), *vt2 = types_get(s->t, vals_t);
	if (!kt || kt->kind != TYPES_ARRAY || !vt2 || vt2->kind != TYPES_ARRAY || n > kt->count)
		return (void)fail(s, "BTree keys/vals are not arrays", NULL);
	uint64_t ks = tsize(s, kt->target), vs = tsize(s, vt2->target);
	type_id str = 0;
	uint64_t so;
	if (!(str = find_inside(s, vt2->target, "alloc::string::String", 0, &so)))
		return (void)fail(s, "no String in the BTree values", NULL);
	uint64_t nd = halloc(s, tsize(s, leaf));
	wf(s, addr + o_root + va->offset + o_node, nd, 8, SF_PTR);
	wf(s, addr + o_root + va->offset + o_h, 0, 8, SF_LEN);
	wf(s, nd + o_parent, 0, 8, SF_PTR);
	wf(s, nd + o_nlen, n, 2, SF_LEN);
	for (uint64_t i = 0; i < n; i++) {
		char text[32];
		wr(s, nd + o_keys + i * ks, i * 5, ks < 8 ? ks : 8);
		snprintf(text, sizeof text, "v%llu", (unsigned long long)(i * 7));
		string(s, nd + o_vals + i * vs + so, str, text);
	}
}

/* VecDeque<u64> of n, wrapped round its end (cap n + 1, head cap - 1). */
static void deque(struct sb *s, uint64_t addr, type_id id, uint64_t n)
{
	uint64_t o_head, o_len, o_cap, o_ptr, cap = n + 1;
	type_id el = tparam(s, id, "T");
	if (!member(s, id, "head", &o_head) || !member(s, id, "len", &o_len))
		return (void)fail(s, "no VecDeque head/len (rustc 1.67+ layout)", NULL);
	member_any(s, id, "buf.", CAP_FORMS, &o_cap);
	member_any(s, id, "buf.", PTR_FORMS, &o_ptr);
	uint64_t es = tsize(s, el), buf = halloc(s, cap * es);
	wf(s, addr + o_ptr, buf, 8, SF_PTR);
	wf(s, addr + o_cap, cap, 8, SF_CAP);
	wf(s, addr + o_head, cap - 1, 8, SF_LEN);
	wf(s, addr + o_len, n, 8, SF_LEN);
	for (uint64_t i = 0; i < cap && es == 8; i++)
		wr(s, buf + 8 * i, i, 8);
}

/* Arc<Vec<u8>> with a Vec of n bytes; the second Shared of the same n
 * shares the first's ArcInner (strong 2). */
static void arc(struct sb *s, uint64_t addr, type_id id, uint64_t n)
{
	uint64_t o_p, o_strong, o_weak, o_data;
	type_id pt = member(s, id, "ptr.pointer", &o_p), inner = pt ? pointee(s, pt) : 0;
	if (!inner || !member(s, inner, "strong", &o_strong) || !member(s, inner, "weak", &o_weak))
		return (void)fail(s, "no ArcInner layout", NULL);
	type_id dt = member(s, inner, "data", &o_data);
	if (!dt)
		return (void)fail(s, "no ArcInner data", NULL);
	if (s->arc_last) {
		wf(s, addr + o_p, s->arc_last, 8, SF_PTR);
		wr(s, s->arc_strong, 2, 8);
		s->arc_last = 0;
		return;
	}
	uint64_t ai = halloc(s, tsize(s, inner));
	wf(s, addr + o_p, ai, 8, SF_PTR);
	wf(s, ai + o_strong, 1, 8, SF_LEN);
	wf(s, ai + o_weak, 1, 8, SF_LEN);
	uint64_t buf = vec(s, ai + o_data, dt, "", 1, n, n, 0);
	uint8_t *p = at(s, buf, n);
	if (p)
		memset(p, 1, n);
	s->arc_last = ai;
	s->arc_strong = ai + o_strong;
}

/* The vtable of <shapes::NAME as shapes::Describe>, written at its link
 * address (drop, size, align, describe); its address. */
static uint64_t vtable(struct sb *s, const char *name, type_id *conc)
{
	const struct types_static *st = NULL;
	for (size_t i = 0; i < types_static_count(s->t) && !st; i++) {
		const struct types_static *x = types_static_at(s->t, i);
		if (x->name && strstr(x->name, "{vtable}") && strstr(x->name, name) && strstr(x->name, "Describe"))
			st = x;
	}
	if (!st || !(*conc = types_vtable_type(s->t, st->addr)))
		return fail(s, "no vtable for", name), 0;
	*conc = types_resolve(s->t, *conc);
	const struct types_type *ct = types_get(s->t, *conc);
	if (!seg_add(s, st->addr, 32, PF_R))
		return fail(s, "too many segments", NULL), 0;
	wr(s, st->addr + 8, ct->size, 8);
	wr(s, st->addr + 16, ct->align ? ct->align : 8, 8);
	pool(s, st->addr);
	return st->addr;
}

static void dyn(struct sb *s, uint64_t addr, type_id id, uint64_t which)
{
	type_id conc;
	uint64_t vt = vtable(s, which ? "Fixed" : "Listy", &conc), o;
	if (!vt)
		return;
	uint64_t obj = halloc(s, tsize(s, conc));
	fat(s, addr, id, obj, vt, SF_PTR);
	if (which) {
		for (uint64_t i = 0; i < 5; i++)
			wr(s, obj + 8 * i, i, 8);
		return;
	}
	type_id items = member(s, conc, "items", &o);
	if (!items)
		return (void)fail(s, "no Listy::items", NULL);
	uint64_t buf = vec(s, obj + o, items, "", 4, 3, 3, 0);
	for (uint64_t i = 0; i < 3; i++)
		wr(s, buf + 4 * i, 3, 4);
}

static void shape(struct sb *s, uint64_t addr, const struct op *o)
{
	const struct types_variant *va = variant(s, s->shape, addr, o->variant);
	uint64_t off;
	if (!va || strcmp(o->variant, "Empty") == 0)
		return;
	type_id ty = payload(s, va, "__0", &off);
	if (!ty)
		return;
	uint64_t p = addr + off;
	const char *v = o->variant;
	if (strcmp(v, "Small") == 0) {
		wr(s, p, o->n, 4);
	} else if (strcmp(v, "Boxed") == 0) {
		type_id el = pointee(s, ty);
		uint64_t n = tsize(s, el), b = halloc(s, n);
		wf(s, p, b, 8, SF_PTR);
		for (uint64_t i = 0; i + 8 <= n; i += 8)
			wr(s, b + i, o->n, 8);
	} else if (strcmp(v, "List") == 0) {
		bool mm = o->text && strcmp(o->text, "mmap") == 0;
		uint64_t cap = mm ? (MMAP_SIZE - 16) / 4 : o->n + 2;
		uint64_t buf = vec(s, p, ty, "", 4, o->n, cap, mm ? MMAP + 16 : 0);
		for (uint64_t i = 0; i < o->n; i++)
			wr(s, buf + 4 * i, i + 1, 4);
	} else if (strcmp(v, "Name") == 0) {
		string(s, p, ty, o->text ? o->text : "");
	} else if (strcmp(v, "Nested") == 0) {
		nested(s, p, ty, o->n != 0);
	} else if (strcmp(v, "Map") == 0) {
		btree(s, p, ty, o->n);
	} else if (strcmp(v, "Queue") == 0) {
		deque(s, p, ty, o->n);
	} else if (strcmp(v, "Slice") == 0) {
		uint64_t b = halloc(s, 2 * o->n);
		for (uint64_t i = 0; i < o->n; i++)
			wr(s, b + 2 * i, 7, 2);
		fat(s, p, ty, b, o->n, SF_LEN);
	} else if (strcmp(v, "Shared") == 0) {
		arc(s, p, ty, o->n);
	} else if (strcmp(v, "Dyn") == 0) {
		dyn(s, p, ty, o->n);
	} else {
		fail(s, "no writer for variant", v);
	}
}

/* TABLE: OnceLock (complete) < Mutex < HashMap<u64, Vec<Shape>> > > with
 * ENTITIES in a 4-bucket table. */
static void table(struct sb *s)
{
	const struct types_static *st;
	if (types_static_lookup(s->t, "TABLE", &st, NULL) != 0)
		return (void)fail(s, "no static TABLE", NULL);
	type_id tt = types_resolve(s->t, st->type);
	uint64_t size = tsize(s, tt), base = st->addr;
	if (!seg_add(s, base & ~(uint64_t)15, ((base & 15) + size + 15) & ~(uint64_t)15, PF_R | PF_W))
		return (void)fail(s, "too many segments", NULL);
	pool(s, base);
	/* the Once state that means complete, by implementation and rustc */
	unsigned maj = 0, min = 0, patch = 0;
	types_rustc_version(s->t, &maj, &min, &patch);
	uint64_t o;
	if (member(s, tt, "once.inner.state_and_queued", &o))
		wf(s, base + o, maj * 1000 + min >= 1091 ? 0 : 3, 4, SF_STATE);
	else if (member(s, tt, "once.inner.state", &o))
		wf(s, base + o, 4, 4, SF_STATE);
	else if (member(s, tt, "once.inner.state_and_queue", &o))
		wf(s, base + o, 3, 8, SF_STATE);
	else
		return (void)fail(s, "no Once state in TABLE's type", NULL);
	uint64_t o_rt, o_ctrl, o_mask, o_items, o_growth, o_k, o_v;
	type_id rt = find_inside(s, tt, "hashbrown::raw::RawTable<", 0, &o_rt);
	if (!rt)
		rt = find_inside(s, tt, "hashbrown::raw::inner::RawTable<", 0, &o_rt);
	if (!rt)
		return (void)fail(s, "no RawTable inside TABLE", NULL);
	static const char *const ctrl_forms[] = {"table.ctrl.pointer", "table.ctrl", NULL};
	member_any(s, rt, "", ctrl_forms, &o_ctrl);
	if (!member(s, rt, "table.bucket_mask", &o_mask) || !member(s, rt, "table.items", &o_items) ||
	    !member(s, rt, "table.growth_left", &o_growth))
		return (void)fail(s, "no RawTableInner layout", NULL);
	type_id pair = tparam(s, rt, "T"), vec_t;
	if (!pair || !member(s, pair, "__0", &o_k) || !(vec_t = member(s, pair, "__1", &o_v)))
		return (void)fail(s, "no (K, V) tuple in the table", NULL);
	uint64_t es = tsize(s, pair), buckets = 4, nent = sizeof ENTITIES / sizeof ENTITIES[0];
	uint64_t data = (es * buckets + 15) & ~(uint64_t)15;
	uint64_t mem = halloc(s, data + buckets + 16), ctrl = mem + data;
	uint64_t r = base + o_rt;
	wf(s, r + o_ctrl, ctrl, 8, SF_PTR);
	wf(s, r + o_mask, buckets - 1, 8, SF_CAP);
	wf(s, r + o_items, nent, 8, SF_LEN);
	wf(s, r + o_growth, buckets - 1 - nent, 8, SF_LEN);
	for (uint64_t i = 0; i < buckets + 16; i++)
		wr(s, ctrl + i, 0xff, 1);
	for (uint64_t i = 0; i < buckets; i++)
		field(s, ctrl + i, 1, SF_CTRL, 0, 0);
	if (!s->shape)
		return (void)fail(s, "no shapes::Shape", NULL);
	uint64_t ss = tsize(s, s->shape);
	for (uint64_t k = 0; k < nent; k++) {
		const struct entity *en = &ENTITIES[k];
		uint64_t b = 2 * k;    /* buckets 0 and 2 full */
		uint64_t slot = ctrl - (b + 1) * es;
		wr(s, ctrl + b, 0x10 + k, 1);
		wr(s, ctrl + buckets + b, 0x10 + k, 1);
		wr(s, slot + o_k, en->key, 8);
		uint64_t buf = vec(s, slot + o_v, vec_t, "", ss, en->n, en->cap, 0);
		for (size_t i = 0; i < en->n && !s->failed; i++)
			shape(s, buf + i * ss, &en->ops[i]);
	}
}

/* ---------------------------------------------------------------- the ELF */

struct out {
	uint8_t *b;
	size_t n, cap;
};

static int put(struct out *o, const void *p, size_t n)
{
	if (o->n + n > o->cap) {
		size_t cap = o->cap ? o->cap : 16384;
		while (cap < o->n + n)
			cap *= 2;
		uint8_t *nb = realloc(o->b, cap);
		if (!nb)
			return -1;
		o->b = nb;
		o->cap = cap;
	}
	if (p)
		memcpy(o->b + o->n, p, n);
	else
		memset(o->b + o->n, 0, n);
	o->n += n;
	return 0;
}

static int note(struct out *o, const char *name, uint32_t type, const void *desc, uint32_t descsz)
{
	uint32_t hdr[3] = {(uint32_t)strlen(name) + 1, descsz, type};
	int rc = put(o, hdr, sizeof hdr) | put(o, name, hdr[0]) | put(o, NULL, (4 - hdr[0] % 4) % 4) |
		 put(o, desc, descsz) | put(o, NULL, (4 - descsz % 4) % 4);
	return rc;
}

static int seg_cmp(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int emit(struct sb *s, uint64_t entry, struct synth_core *c)
{
	struct out notes = {0}, o = {0};
	uint8_t prstatus[336] = {0};
	uint32_t pid = 4242;
	memcpy(prstatus + 32, &pid, 4);
	uint64_t auxv[] = {AT_PAGESZ, 4096, AT_ENTRY, entry, AT_NULL, 0};
	static const char libc[] = "/usr/lib/x86_64-linux-gnu/libc.so.6";
	uint64_t file[5] = {1, 4096, LIBC, LIBC + 0x1000, 0x1d3};
	uint8_t fdesc[sizeof file + sizeof libc];
	memcpy(fdesc, file, sizeof file);
	memcpy(fdesc + sizeof file, libc, sizeof libc);
	int rc = note(&notes, "CORE", NT_PRSTATUS, prstatus, sizeof prstatus) |
		 note(&notes, "CORE", NT_AUXV, auxv, sizeof auxv) | note(&notes, "CORE", 0x46494c45u, fdesc, sizeof fdesc);
	qsort(s->seg, s->nseg, sizeof s->seg[0], seg_cmp);
	size_t nph = 1 + s->nseg;
	Elf64_Ehdr eh = {.e_type = ET_CORE, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
			 .e_phoff = sizeof eh, .e_ehsize = sizeof eh, .e_phentsize = sizeof(Elf64_Phdr),
			 .e_phnum = (Elf64_Half)nph};
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	Elf64_Phdr ph[1 + MAXSEG];
	uint64_t off = sizeof eh + nph * sizeof ph[0];
	ph[0] = (Elf64_Phdr){.p_type = PT_NOTE, .p_offset = off, .p_filesz = notes.n, .p_align = 4};
	off = (off + notes.n + 15) & ~(uint64_t)15;
	for (size_t i = 0; i < s->nseg; i++) {
		ph[1 + i] = (Elf64_Phdr){.p_type = PT_LOAD, .p_flags = s->seg[i].flags, .p_offset = off,
					 .p_vaddr = s->seg[i].addr, .p_filesz = s->seg[i].size,
					 .p_memsz = s->seg[i].size, .p_align = 16};
		off = (off + s->seg[i].size + 15) & ~(uint64_t)15;
	}
	rc |= put(&o, &eh, sizeof eh) | put(&o, ph, nph * sizeof ph[0]) | put(&o, notes.b, notes.n);
	for (size_t i = 0; i < s->nseg; i++)
		rc |= put(&o, NULL, ph[1 + i].p_offset - o.n) | put(&o, s->seg[i].b, s->seg[i].size);
	free(notes.b);
	if (rc) {
		free(o.b);
		return fail(s, "out of memory", NULL);
	}
	c->bytes = o.b;
	c->size = o.n;
	/* the fields' file offsets and built values */
	for (size_t i = 0; i < s->nf; i++) {
		struct synth_field *f = &s->f[i];
		for (size_t k = 0; k < s->nseg; k++)
			if (f->addr >= s->seg[k].addr && f->addr + f->width <= s->seg[k].addr + s->seg[k].size) {
				f->off = ph[1 + k].p_offset + (f->addr - s->seg[k].addr);
				f->value = 0;
				memcpy(&f->value, c->bytes + f->off, f->width);
			}
	}
	for (size_t k = 0; k < s->nseg; k++)
		if (s->seg[k].addr == HEAP) {
			c->heap_lo = ph[1 + k].p_offset;
			c->heap_hi = c->heap_lo + s->seg[k].size;
		}
	return 0;
}

int synth_build(struct synth_core *c, const struct types *t, uint64_t entry, struct err *e)
{
	struct sb s = {.t = t, .e = e};
	memset(c, 0, sizeof *c);
	if (types_lookup(t, "shapes::Shape", &s.shape, NULL) != 0)
		s.shape = 0;
	else
		s.shape = types_resolve(t, s.shape);
	if (!seg_add(&s, LIBC, LIBC_SIZE, PF_R | PF_W) || !seg_add(&s, HEAP, HEAP_CAP, PF_R | PF_W) ||
	    !seg_add(&s, MMAP, MMAP_SIZE, PF_R | PF_W))
		fail(&s, "out of memory", NULL);
	/* the mmapped chunk */
	wf(&s, MMAP, 0, 8, SF_PREVSIZE);
	wf(&s, MMAP + 8, MMAP_SIZE | 2, 8, SF_CHUNK);
	glibc_start(&s);
	table(&s);
	glibc_finish(&s);
	if (!s.failed)
		emit(&s, entry, c);
	for (size_t i = 0; i < s.nseg; i++)
		free(s.seg[i].b);
	if (s.failed) {
		free(s.f);
		free(s.addrs);
		free(c->bytes);
		memset(c, 0, sizeof *c);
		return -1;
	}
	c->fields = s.f;
	c->nfields = s.nf;
	c->addrs = s.addrs;
	c->naddrs = s.na;
	return 0;
}

void synth_free(struct synth_core *c)
{
	free(c->bytes);
	free(c->fields);
	free(c->addrs);
	memset(c, 0, sizeof *c);
}

/* ---------------------------------------------------------------- the mutator */

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static uint64_t pick_addr(const struct synth_core *c, uint64_t *r)
{
	if (rnd(r) % 4 == 0 && c->nfields)
		return c->fields[rnd(r) % c->nfields].addr;
	return c->naddrs ? c->addrs[rnd(r) % c->naddrs] : 0;
}

static uint64_t new_value(const struct synth_core *c, const struct synth_field *f, uint64_t v, uint64_t *r)
{
	uint64_t k = rnd(r);
	switch (f->kind) {
	case SF_CHUNK:
		switch (k % 10) {
		case 0: return v + 16 * (1 + rnd(r) % 4);
		case 1: return v - 16 * (1 + rnd(r) % 4);
		case 2: return v ^ (1u << (rnd(r) % 3));
		case 3: return v + 8;
		case 4: return rnd(r) % 2 ? 0 : 1;
		case 5: return ((rnd(r) % 0x200) << 4) | (v & 7);
		case 6: return ((uint64_t)1 << (20 + rnd(r) % 40)) | (v & 7);
		case 7: return c->fields[rnd(r) % c->nfields].value;
		case 8: return v & ~(uint64_t)7;
		default: return ~(uint64_t)0;
		}
	case SF_PREVSIZE:
	case SF_COUNT:
	case SF_LEN:
	case SF_CAP:
		switch (k % 12) {
		case 0: return 0;
		case 1: return 1;
		case 2: return v + 1;
		case 3: return v - 1;
		case 4: return f->value * 2;
		case 5: return (uint64_t)1 << (rnd(r) % 64);
		case 6: return ((uint64_t)1 << (rnd(r) % 64)) - 1;
		case 7: return ~(uint64_t)0;
		case 8: return rnd(r) % 256;
		case 9: return f->value + 16 * (rnd(r) % 8);
		case 10: return 0x7fffffff;
		default: return rnd(r);
		}
	case SF_LINK:
	case SF_PTR:
		switch (k % 12) {
		case 0: return 0;
		case 1: case 2: case 3: return pick_addr(c, r);
		case 4: return pick_addr(c, r) + 8;
		case 5: return pick_addr(c, r) - 16;
		case 6: return f->addr;                       /* a self-loop */
		case 7: return f->addr - (f->addr & 0xfff);   /* its page */
		case 8: return pick_addr(c, r) >> 12 ^ pick_addr(c, r); /* safe-linked */
		case 9: return v + 1;
		case 10: return v ^ ((uint64_t)1 << (rnd(r) % 48));
		default: return rnd(r) % 2 ? ~(uint64_t)0 : (uint64_t)1 << 63;
		}
	case SF_TAG:
		switch (k % 6) {
		case 0: return f->alt - 1;
		case 1: return rnd(r);
		default: return f->alt + rnd(r) % (f->nalt + 2);
		}
	case SF_CTRL:
		switch (k % 4) {
		case 0: return 0xff;
		case 1: return 0x80;
		default: return rnd(r);
		}
	default: /* SF_STATE */
		return k % 3 ? rnd(r) % 6 : rnd(r);
	}
}

size_t synth_mutate(const struct synth_core *c, const unsigned w[SF_NKINDS], uint8_t *data, size_t size,
		    size_t max, unsigned seed, synth_byte_mutator mutate_bytes)
{
	uint64_t r = seed * 0x9e3779b97f4a7c15ull + 1;
	unsigned total = 0;
	if (!c->nfields || max < c->size)
		return size;
	if (size != c->size || memcmp(data, c->bytes, 4) != 0) {
		memcpy(data, c->bytes, c->size);
		size = c->size;
	}
	for (int k = 0; k < SF_NKINDS; k++)
		total += w[k];
	unsigned n = 1 + (unsigned)(rnd(&r) % 4);
	for (unsigned m = 0; m < n; m++) {
		uint64_t how = rnd(&r) % 16;
		if (how == 0 && mutate_bytes && c->heap_hi > c->heap_lo + 64) {
			/* bytes: a short window of the heap */
			size_t len = 8 + rnd(&r) % 56;
			size_t o = c->heap_lo + rnd(&r) % (c->heap_hi - c->heap_lo - len);
			uint8_t tmp[64];
			memcpy(tmp, data + o, len);
			size_t got = mutate_bytes(tmp, len, len);
			memcpy(data + o, tmp, got < len ? got : len);
			continue;
		}
		/* a field of a kind chosen by weight */
		unsigned x = total ? (unsigned)(rnd(&r) % total) : 0;
		int kind = 0;
		while (kind < SF_NKINDS - 1 && x >= w[kind])
			x -= w[kind++];
		const struct synth_field *f = NULL;
		for (int tries = 0; tries < 64 && !f; tries++) {
			const struct synth_field *g = &c->fields[rnd(&r) % c->nfields];
			if (g->kind == kind || tries == 63)
				f = g;
		}
		if (!f || f->off + f->width > size)
			continue;
		uint64_t v = 0;
		memcpy(&v, data + f->off, f->width);
		if (how == 1) {
			/* structural: another field's value of the same width */
			const struct synth_field *g = &c->fields[rnd(&r) % c->nfields];
			v = 0;
			memcpy(&v, data + g->off, g->width < f->width ? g->width : f->width);
		} else if (how == 2) {
			v = f->value; /* back to as built */
		} else {
			v = new_value(c, f, v, &r);
		}
		memcpy(data + f->off, &v, f->width);
	}
	return size;
}

int synth_fixture(struct synth_core *c, struct types **t, char *exe, size_t n)
{
	struct err e;
	uint8_t eh[64];
	uint64_t entry = 0;
	snprintf(exe, n, "%s", fuzz_fixture("generic/shapes"));
	FILE *f = fopen(exe, "rb");
	if (!f || fread(eh, 1, sizeof eh, f) != sizeof eh) {
		if (f)
			fclose(f);
		fprintf(stderr, "fuzz: no generic fixture (%s): run tests/setup.sh\n", exe);
		return -1;
	}
	fclose(f);
	memcpy(&entry, eh + 24, 8);
	if (types_open(t, exe, NULL, &e) != 0) {
		fprintf(stderr, "fuzz: the generic fixture's DWARF does not open: %s\n", e.msg);
		return -1;
	}
	if (synth_build(c, *t, entry, &e) != 0) {
		fprintf(stderr, "fuzz: cannot build the synthetic core: %s\n", e.msg);
		return -1;
	}
	return 0;
}
