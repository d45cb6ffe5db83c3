/* walk_layout.h: the container families' named layouts, the common view a
 * family's decoder returns, and the version tables of Rust std and crates
 * (private to the walker).
 *
 * A family's layout is found once per type, by its setup function, from
 * DWARF member names (walk_decoders.c), in the form the version tables say
 * the std or crate release in the binary uses (walk_std.c).  Offsets are
 * relative to the container value.  Nothing here is an offset baked in: the
 * only constants are encodings that DWARF does not carry (a Once's complete
 * state, compact_str's marker bytes, hashbrown's group width), and each of
 * those is a version-table entry with its detector.
 */
#ifndef AGGOP_WALK_LAYOUT_H
#define AGGOP_WALK_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "types.h"

struct walk;

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

/* compact_str's 24-byte Repr: the last byte's markers (walk_std.c). */
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

/* Decoder details for one type (walk_type_info caches one per type_id). */
struct wtype {
	uint8_t cls;             /* enum walk_cls */
	uint8_t owns;            /* 0 unknown, 1 computing, 2 no, 3 yes */
	uint8_t dec;             /* its entry in the decoder table + 1 (0: none) */
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
		uint16_t *lut;   /* CLS_ENUM: tag value (< 256) -> variant index */
	} l;
};

#define ENUM_LUT_NONE 0xffff

/* What a container value holds, as its family's decoder read it from the
 * core and validated it: the allocation it owns directly (if any) and how its
 * live elements are reached. */
enum wview_elems {
	VIEW_NONE = 0,
	VIEW_RUNS,     /* up to two runs of elements in one buffer */
	VIEW_POINTEE,  /* one value at `at` */
	VIEW_TABLE,    /* hashbrown buckets: .hash */
	VIEW_BTREE,    /* BTree nodes from the root: .btree */
	VIEW_LIST      /* linked nodes from the head: .list */
};

struct wrun {
	uint64_t off;    /* bytes from the buffer (mem) to element 0 of the run */
	uint64_t index;  /* the index the run's first element has in its holder */
	uint64_t n;
};

struct wview {
	uint64_t mem;             /* the allocation (user pointer); 0: none */
	uint64_t requested, used;
	uint8_t kind;             /* enum walk_kind */
	bool shared;
	uint8_t elems;            /* enum wview_elems */
	uint8_t nruns;
	type_id elem;             /* the elements' / pointee's type */
	uint64_t at;              /* VIEW_POINTEE: its address; VIEW_RUNS: base of the runs */
	uint64_t data_off;        /* VIEW_POINTEE: bytes from mem to the value (queued visits) */
	bool inline_elems;        /* the runs lie in the value itself, not in mem */
	struct wrun run[2];
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

/* ---------------------------------------------------------------- version tables (walk_std.c) */

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
struct walk_field_form {
	const char *path;
	const char *release;      /* the releases that spell it so */
};
int walk_std_field(struct walk *w, type_id id, const char *prefix, const struct walk_field_form *forms,
		   const char *fact, uint64_t *off, type_id *ty);

/* The tables themselves, each with its detector. */
extern const struct walk_field_form WALK_RAWVEC_CAP[], WALK_RAWVEC_PTR[];
const struct once_impl *walk_std_once(struct walk *w, type_id once_type, uint64_t *state_off);
bool walk_std_compact(struct walk *w, type_id id, struct compact_repr *out);
uint32_t walk_std_group_width(struct walk *w);
bool walk_std_bytes(struct walk *w, struct bytes_layout *l);
uint32_t walk_std_btree_capacity(struct walk *w, type_id leaf, uint64_t keys_count);
bool walk_std_deque_form(struct walk *w, type_id id, bool *tail_head);
void walk_std_note(struct walk *w, const char *dep, const char *what, const char *value, const char *evidence);

#endif
