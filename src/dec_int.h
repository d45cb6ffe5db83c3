/* dec_int.h: the decode layer's private state (shared by dec*.c, and read
 * by the walk layer, which runs on a decode context): the classification of
 * a type, the container families' named layouts, the view a family's
 * decoder returns, the struct plans, and the version tables of Rust std and
 * crates.
 *
 * A family's layout is found once per type, by its setup function, from
 * DWARF member names (dec_family.c), in the form the version tables say
 * the std or crate release in the binary uses (dec_std.c).  Offsets are
 * relative to the container value.  Nothing here is an offset baked in: the
 * only constants are encodings that DWARF does not carry (a Once's complete
 * state, compact_str's marker bytes, hashbrown's group width), and each of
 * those is a version-table entry with its detector.
 */
#ifndef AGGOP_DEC_INT_H
#define AGGOP_DEC_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "container.h"
#include "dec.h"
#include "types.h"
#include "version.h"

#define DEC_MAX_OWNS_DEPTH 2048        /* member-type nesting followed when deciding ownership */

/* What a type is to the decoder (the walk dispatches on it). */
enum dec_cls {
	CLS_UNSET = 0, CLS_PLAIN, CLS_STRUCT, CLS_ENUM, CLS_ARRAY,
	CLS_BOX, CLS_VEC, CLS_STRING, CLS_VECDEQUE, CLS_RAWTABLE,
	CLS_BTREEMAP, CLS_ARC, CLS_RC, CLS_SMALLVEC, CLS_COMPACT_STR, CLS_ONCE, CLS_LIST,
	CLS_RAWPTR,   /* *mut T, *const T, NonNull<T> outside every container: not owned, but watched */
	CLS_WEAK,     /* Weak<T>: owns its RcInner/ArcInner only once no strong reference is left */
	CLS_ARRAYVEC,
	CLS_BYTES, CLS_BYTES_MUT, CLS_BYTES_SHARED,
	CLS_BAD   /* a known container whose fields could not be found */
};

/* How a pointer to a value carries its size (Box, Rc, Arc). */
enum wfat { FAT_THIN = 0, FAT_SLICE, FAT_DYN };

struct vec_layout {          /* Vec<T>, String */
	uint64_t cap, ptr, len;
};

struct deque_layout {        /* VecDeque<T> */
	uint64_t cap, ptr, len;  /* len: `len` (head+len form) or `head` (tail+head form) */
	uint64_t head;           /* `head` (head+len form) or `tail` (tail+head form) */
	bool tail_head;          /* the pre-1.67 form: elements are [tail, head) mod cap */
};

struct rawtable_layout {     /* hashbrown RawTable<T> (the crate's and std's) */
	uint64_t ctrl, bucket_mask, items;
	bool pair;               /* T is a (K, V) tuple */
	uint64_t key_off, val_off;
	type_id key, val;
	uint32_t group_width;    /* hashbrown Group::WIDTH (version table) */
};

struct btree_layout {        /* BTreeMap<K, V> */
	uint64_t root_node, root_height, length;  /* in the map */
	uint64_t keys, vals, len, edges;          /* in the nodes */
	type_id leaf, internal;                   /* node types (internal: 0 if absent) */
	uint64_t leaf_size, internal_size;
	type_id val;                              /* V (the key is the view's element) */
	uint64_t val_size;
	uint32_t capacity;                        /* node CAPACITY (version table) */
};

struct rc_layout {           /* Rc<T>, Arc<T>, and their Weak<T> */
	uint64_t ptr, meta;      /* the pointer and, when fat, its length or vtable */
	enum wfat fat;
	uint64_t data;           /* offset of the value inside RcInner/ArcInner */
	uint64_t strong;         /* offset of the strong count inside it */
	type_id inner;           /* RcInner<T> / ArcInner<T> */
	uint64_t inner_size;
};

struct box_layout {          /* Box<T> */
	uint64_t ptr, meta;
	enum wfat fat;
};

struct smallvec_layout {     /* smallvec::SmallVec<A> */
	uint64_t capacity, heap_ptr, heap_len, inline_data;
	uint64_t inline_cap;     /* A's length */
};

/* compact_str's 24-byte Repr: the last byte's markers (dec_std.c). */
struct compact_repr {
	const char *name;
	uint64_t size;
	uint8_t heap_mask, static_mask, len_mask;
	bool has_static;          /* a &'static str form exists (0.8+) */
	uint32_t cap_bytes;       /* the heap form's capacity width, little-endian */
};

struct compact_layout {      /* compact_str's CompactString / Repr */
	struct compact_repr repr;
};

struct once_impl;
struct once_layout {         /* OnceLock<T>, LazyLock<T> */
	uint64_t state, value;
	const struct once_impl *impl;
};

struct rawptr_layout {       /* *mut T, *const T, NonNull<T> */
	uint64_t ptr;
};

struct arrayvec_layout {     /* arrayvec::ArrayVec<T, CAP>: elements inline */
	uint64_t xs, len;
	uint32_t len_size;       /* the length's width in bytes (u32 in arrayvec 0.7) */
	uint64_t cap;
};

struct bytes_layout {        /* bytes::Bytes, bytes::BytesMut, bytes::bytes::Shared */
	uint64_t ptr, len, data, vtable, cap;   /* cap: BytesMut's, or Shared's */
	uint64_t vt_even, vt_odd, vt_shared, vt_static;  /* the vtables' link addresses (0: absent) */
	type_id shared;          /* the Shared a KIND_ARC data pointer points at */
	uint64_t shared_size;
	uint32_t vec_pos_shift;  /* BytesMut: the vec form's offset is data >> this */
};

struct list_layout {         /* LinkedList<T> */
	uint64_t head, len;      /* in the list */
	uint64_t next, element;  /* in the node */
	type_id node;
	uint64_t node_size;
};

/* Decoder details for one type (dec_type_info caches one per type_id). */
struct dec_type {
	uint8_t cls;             /* enum dec_cls */
	uint8_t owns;            /* 0 unknown, 1 computing, 2 no, 3 yes */
	uint8_t dec;             /* its entry in the decoder table + 1 (0: none) */
	const struct types_type *ty;   /* types_get of its id (the type graph outlives the context) */
	type_id elem;            /* element / pointee (0: raw bytes) */
	uint64_t elem_size, elem_align;
	union {
		struct vec_layout vec;
		struct deque_layout deque;
		struct rawtable_layout table;
		struct btree_layout btree;
		struct rc_layout rc;
		struct box_layout box;
		struct smallvec_layout sv;
		struct compact_layout cs;
		struct once_layout once;
		struct list_layout list;
		struct rawptr_layout raw;
		struct arrayvec_layout av;
		struct bytes_layout bytes;
		struct {         /* CLS_ENUM */
			uint16_t *lut;   /* tag value (< 256) -> variant index; [256]: any larger tag */
			type_id *vty;    /* variant index -> its payload struct, resolved */
		} en;
	} l;
};

#define ENUM_LUT_NONE 0xffff

/* What a container value holds, as its family's decoder read it from the
 * core and validated it: the allocation it owns directly (if any) and how its
 * live elements are reached. */
enum dec_view_elems {
	VIEW_NONE = 0,
	VIEW_RUNS,     /* up to two runs of elements in one buffer */
	VIEW_POINTEE,  /* one value at `at` */
	VIEW_TABLE,    /* hashbrown buckets: .hash */
	VIEW_BTREE,    /* BTree nodes from the root: .btree */
	VIEW_LIST      /* linked nodes from the head: .list */
};

struct dec_run {
	uint64_t off;    /* bytes from the buffer (mem) to element 0 of the run */
	uint64_t index;  /* the index the run's first element has in its holder */
	uint64_t n;
};

struct dec_view {
	uint64_t mem;             /* the allocation (user pointer); 0: none */
	uint64_t requested, used;
	uint8_t kind;             /* enum walk_kind */
	bool shared;
	uint8_t elems;            /* enum dec_view_elems */
	uint8_t nruns;
	type_id elem;             /* the elements' / pointee's type */
	uint64_t at;              /* VIEW_POINTEE: its address; VIEW_RUNS: base of the runs */
	uint64_t data_off;        /* VIEW_POINTEE: bytes from mem to the value (queued visits) */
	bool inline_elems;        /* the runs lie in the value itself, not in mem */
	struct dec_run run[2];
	bool walk_always;         /* VIEW_POINTEE: visit even a pointee that owns nothing */
	bool is_str;              /* a string family: its bytes are at `at`, `.str.len` long */
	/* what a family's elements or state are, by family (the one set by its
	 * decoder; the others are not meaningful) */
	union {
		struct { uint64_t len; } str;                   /* is_str, and Vec: the length */
		struct { uint64_t buckets, items; } hash;       /* VIEW_TABLE */
		struct { uint64_t root, height, len; } btree;   /* VIEW_BTREE */
		struct { uint64_t head, len; } list;            /* VIEW_LIST */
		struct { uint64_t state; bool init; } once;     /* a Once's state word; init: complete */
	};
	uint64_t bad;             /* where the header went wrong, when decode fails */
};

/* ---------------------------------------------------------------- version tables (dec_std.c) */

/* std's Once (behind OnceLock/LazyLock): where the state lies and which
 * value means complete. */
struct once_impl {
	const char *name;         /* e.g. "futex, COMPLETE = 0" */
	const char *state_path;   /* the state's member path inside Once */
	uint32_t state_size;      /* 4 (futex) or 8 (queue: a pointer) */
	uint64_t complete;
	uint64_t state_mask;      /* bits of the state that encode it */
};

/* The first of a list of alternative member paths (a version table of one
 * field's spellings across releases) that exists in type id: its index, or
 * -1.  *off and *ty (if given) describe it. */
struct dec_field_form {
	const char *path;
	const char *release;      /* the releases that spell it so */
};
int dec_std_field(struct dec *d, type_id id, const char *prefix, const struct dec_field_form *forms,
		   const char *fact, uint64_t *off, type_id *ty);

/* The tables themselves, each with its detector. */
extern const struct dec_field_form DEC_RAWVEC_CAP[], DEC_RAWVEC_PTR[];
const struct once_impl *dec_std_once(struct dec *d, type_id once_type, uint64_t *state_off);
bool dec_std_compact(struct dec *d, type_id id, struct compact_repr *out);
uint32_t dec_std_group_width(struct dec *d);
bool dec_std_bytes(struct dec *d, struct bytes_layout *l);
uint32_t dec_std_btree_capacity(struct dec *d, type_id leaf, uint64_t keys_count);
bool dec_std_deque_form(struct dec *d, type_id id, bool *tail_head);
/* Names by prefix, a table of the spellings releases use: the index of the
 * first prefix name starts with, or -1. */
struct dec_name_form {
	const char *prefix;
	const char *release;      /* the releases (or crates) that spell it so */
};
int dec_std_name(const char *name, const struct dec_name_form *forms);
extern const struct dec_name_form DEC_PTR_NEWTYPES[], DEC_OPTION[];
/* A wrapper (a cell, a lock, a lazy cell) of type ty named name: where the
 * value it holds lies (*off) and its type; false when ty is none. */
bool dec_std_wrapper(struct dec *d, type_id ty, const char *name, uint64_t *off, type_id *inner);
void dec_std_note(struct dec *d, const char *dep, const char *what, const char *value, const char *evidence);

/* ---------------------------------------------------------------- the context */

/* A struct's members that can own heap, in order (recorded by the walk's
 * first visit of the struct, walk.c walk_members; kept here because it is a
 * fact of the type, like its classification). */
struct dec_plan_member {
	uint64_t offset;
	type_id type;             /* resolved */
	const char *seg;          /* its path segment (NULL: none) */
	const struct dec_type *wt;   /* type's classification (entries never move) */
};
enum { DEC_PLAN_NONE = 0, DEC_PLAN_BUILDING, DEC_PLAN_READY };
#define DEC_PLAN_MAX_MEMBERS 65536u
struct dec_plan {
	struct dec_plan_member *m;
	uint32_t n;
	uint8_t state;            /* DEC_PLAN_* */
	type_id op_type;          /* the op type it holds for */
};

DEFINE_VECTOR(dec_id_vec, type_id)

/* The caches are paged by type_id: a directory of pages of DEC_PAGE entries,
 * each page allocated when a type in it is first met, so a run that meets a
 * few types costs a few pages, however long the type graph.  An absent
 * classification page is the context's `none` page (every entry unset, never
 * written), so a lookup is two loads and no test; absent plan pages are NULL.
 * The entries that hold memory (an enum's tag table, a plan's members) are
 * listed, and only they are visited when the context is freed. */
#define DEC_PAGE_SHIFT 4
#define DEC_PAGE (1u << DEC_PAGE_SHIFT)

struct dec {
	const struct image *img;
	const struct types *t;
	const struct heap *h;
	type_id op_type;
	size_t ntypes;                 /* types_count + 1: ids are below it */
	size_t npages;
	struct dec_type **types;       /* classification pages, by id >> DEC_PAGE_SHIFT */
	struct dec_type *none;         /* the page every absent one points at */
	struct dec_plan **plans;       /* plan pages (NULL until the first plan; absent pages NULL) */
	struct dec_id_vec luts;        /* ids whose classification holds a tag table or variant types */
	struct dec_id_vec planned;     /* ids whose plan holds members */
	int owns_depth;                /* dec_owns_compute's recursion */
	bool oom;                      /* a version fact could not be recorded */
	struct version_facts versions; /* what the version tables detected */
};

/* The classification of a type (computed on first use), and whether it can
 * own heap; the fast paths are inline: the walk asks both for every value it
 * meets. */
const struct dec_type *dec_type_classify(struct dec *d, type_id id);
bool dec_owns_compute(struct dec *d, type_id id);
static inline const struct dec_type *dec_type_info(struct dec *d, type_id id)
{
	if (id && id < d->ntypes) {
		const struct dec_type *wt = &d->types[id >> DEC_PAGE_SHIFT][id & (DEC_PAGE - 1)];
		if (wt->cls != CLS_UNSET)
			return wt;
	}
	return dec_type_classify(d, id);
}
static inline bool dec_owns(struct dec *d, type_id id)
{
	if (id == d->op_type && id)
		return true;   /* the op type's own answer is never cached: not a call each time */
	if (id && id < d->ntypes) {
		const struct dec_type *wt = &d->types[id >> DEC_PAGE_SHIFT][id & (DEC_PAGE - 1)];
		if (wt->owns >= 2)
			return wt->owns == 3 || id == d->op_type;
	}
	return dec_owns_compute(d, id);
}
/* dec_owns of a type whose classification wt is at hand (the walk's
 * dispatch: one lookup, not two). */
static inline bool dec_owns_wt(struct dec *d, type_id id, const struct dec_type *wt)
{
	if (id == d->op_type && id)
		return true;
	if (wt->owns >= 2)
		return wt->owns == 3 || id == d->op_type;
	return dec_owns_compute(d, id);
}
/* Whether id's ownership is a final, cached answer (not being computed, not
 * cut by the depth bound): a plan is recorded only from final answers. */
static inline bool dec_owns_final(const struct dec *d, type_id id)
{
	return id && id < d->ntypes && d->types[id >> DEC_PAGE_SHIFT][id & (DEC_PAGE - 1)].owns >= 2;
}
/* The plan slot of struct type id (NULL: out of range or out of memory). */
struct dec_plan *dec_plan_alloc(struct dec *d, type_id id);
static inline struct dec_plan *dec_plan_slot(struct dec *d, type_id id)
{
	if (id && id < d->ntypes && d->plans && d->plans[id >> DEC_PAGE_SHIFT])
		return &d->plans[id >> DEC_PAGE_SHIFT][id & (DEC_PAGE - 1)];
	return dec_plan_alloc(d, id);
}
/* Makes the plan of id ready: its members m[0..n) (taken over: freed with
 * the context), for op_type.  False when out of memory (m is then not taken). */
bool dec_plan_record(struct dec *d, type_id id, struct dec_plan_member *m, uint32_t n, type_id op_type);

/* Recognises a container by its qualified name and fills wt; false when the
 * type is not a known container (dec_family.c). */
bool dec_family_classify(struct dec *d, type_id id, const struct types_type *ty, struct dec_type *wt);

/* A Vec-like header's capacity and length hold together: len <= cap, and
 * no buffer larger than the core that holds it. */
static inline bool dec_elems_ok(struct dec *d, const struct dec_type *wt, uint64_t cap, uint64_t len)
{
	uint64_t max = wt->elem_size ? image_core_size(d->img) / wt->elem_size + 1 : 0;
	return len <= cap && cap <= max && cap <= UINT64_MAX / wt->elem_size / 2;
}

/* Reads and validates the header of the container value at addr (a family
 * with a decoder) into v: NULL, or why it is not plausible (v->bad: where). */
const char *dec_decode(struct dec *d, uint64_t addr, const struct dec_type *wt, struct dec_view *v);

/* Bytes from a hashbrown table's allocation to its control bytes (buckets
 * buckets): the one formula, for decode, the walk and root validation. */
uint64_t dec_table_ctrl_off(const struct dec_type *wt, uint64_t buckets);

/* The active variant of the enum whose bytes are b (decoded through a
 * per-type lookup table when every discriminant is below 256). */
int dec_enum_variant(struct dec *d, type_id id, const void *b, size_t len, uint32_t *vi);
/* The same, for an enum whose classification wt and type ty are at hand
 * (the walk's dispatch): the tag table read inline. */
static inline int dec_enum_variant_wt(struct dec *d, type_id id, const struct dec_type *wt,
				      const struct types_type *ty, const void *b, size_t len, uint32_t *vi)
{
	const struct types_variant_part *vp = ty->vpart;
	if (wt->cls == CLS_ENUM && wt->l.en.lut && vp && vp->tag_offset <= len && vp->tag_size <= len - vp->tag_offset) {
		const unsigned char *p = (const unsigned char *)b + vp->tag_offset;
		uint64_t tag;
		switch (vp->tag_size) {
		case 1: tag = p[0]; break;
		case 2: { uint16_t x; memcpy(&x, p, 2); tag = x; break; }
		case 4: { uint32_t x; memcpy(&x, p, 4); tag = x; break; }
		case 8: memcpy(&tag, p, 8); break;
		default: return dec_enum_variant(d, id, b, len, vi);
		}
		uint16_t v = wt->l.en.lut[tag < 256 ? tag : 256];   /* [256]: no variant has a tag that large */
		if (v == ENUM_LUT_NONE)
			return ERR_CORRUPT;
		*vi = v;
		return 0;
	}
	/* no table (a niche's discriminants are large): a short enum's
	 * variants matched in line, as types_variant_index matches them */
	if (wt->cls == CLS_ENUM && vp && vp->has_tag && vp->nvariants && vp->nvariants <= 8 &&
	    (vp->tag_size == 8 || vp->tag_size == 4) && vp->tag_offset <= len && vp->tag_size <= len - vp->tag_offset) {
		const unsigned char *p = (const unsigned char *)b + vp->tag_offset;
		uint64_t tag;
		if (vp->tag_size == 8) {
			memcpy(&tag, p, 8);
		} else {
			uint32_t x;
			memcpy(&x, p, 4);
			tag = x;
		}
		uint32_t dataful = UINT32_MAX;
		for (uint32_t i = 0; i < vp->nvariants; i++) {
			if (!vp->variants[i].has_discr) {
				if (dataful == UINT32_MAX)
					dataful = i;
			} else if (vp->variants[i].discr == tag) {
				*vi = i;
				return 0;
			}
		}
		if (dataful == UINT32_MAX)
			return ERR_CORRUPT;
		*vi = dataful;
		return 0;
	}
	return dec_enum_variant(d, id, b, len, vi);
}

/* Bytes of target memory: straight from the mmapped core when possible, else
 * copied into tmp.  NULL when unreadable.  Inline: the walk reads every enum
 * through it. */
static inline const void *dec_bytes(struct dec *d, uint64_t addr, uint64_t len, void *tmp, size_t tmpsize)
{
	const void *p = image_ptr(d->img, addr, len);
	if (p)
		return p;
	if (len > tmpsize || image_read(d->img, addr, tmp, len, NULL) != 0)
		return NULL;
	return tmp;
}
bool dec_u64_read(struct dec *d, uint64_t addr, uint64_t *v);
/* Eight bytes of target memory (from the mmapped core when it holds them). */
static inline bool dec_u64(struct dec *d, uint64_t addr, uint64_t *v)
{
	const void *p = image_ptr(d->img, addr, 8);
	if (p) {
		memcpy(v, p, 8);
		return true;
	}
	return dec_u64_read(d, addr, v);
}

#endif
