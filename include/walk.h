/* walk.h: typed traversal of owned memory in a core.
 *
 * Given a value (address + type) the walker finds every heap allocation the
 * value owns, transitively, and reports each one once: Box (sized, slice, str,
 * dyn through the vtable's size), Vec, String, VecDeque, hashbrown tables (std
 * and the crate), BTreeMap nodes, Rc/Arc (shared: counted once, on first
 * visit), SmallVec 1.x, compact_str's 24-byte CompactString, Option and every
 * other Rust enum through its DWARF variant part, arrays, and any other struct
 * member by member.  Containers are recognised by qualified name; their fields
 * are found by name in DWARF (no offsets baked in).  Raw pointers, references
 * and NonNull outside a known container are not owned and not followed.
 *
 * Only live elements are walked (a Vec to len, a map's full buckets, a BTree
 * node to its len).  Every pointer is checked against the heap census (it must
 * be the start of an in-use chunk big enough for what the container says it
 * holds) before anything behind it is read; what fails is counted as
 * unreadable and reported, never guessed.  The walker's own map of the
 * heap, built from the census (2 bits per 16 bytes: in-use chunk starts,
 * chunk boundaries, visited), sizes chunks and makes cycles and double
 * ownership harmless.
 *
 * walk_value reads the core in address order: a container's header is read
 * where it lies, its buffer's contents when a sweep over the heap reaches the
 * buffer, and pages behind the sweep are given back (see walk_int.h), so the
 * resident set stays far below the core's size.
 *
 * The caller (the profile layer) sees the walk through callbacks: one per
 * allocation, and, for the enum under study, one when an instance is met
 * outside another instance (an "op"); every allocation the op owns carries
 * the op's token, so that it is charged to it.
 */
#ifndef AGGOP_WALK_H
#define AGGOP_WALK_H

#include <stdbool.h>
#include <stdint.h>

#include "dec.h"
#include "err.h"
#include "heap.h"
#include "image.h"
#include "types.h"
#include "version.h"

struct walk;

/* enum walk_kind (what kind of container an allocation backs) is decided
 * by the decode layer: see dec.h. */
const char *walk_kind_name(enum walk_kind k);

struct walk_alloc {
	uint64_t mem;        /* user pointer */
	uint64_t requested;  /* layout size Rust asked for */
	uint64_t used;       /* the part holding live elements */
	uint64_t usable;     /* glibc usable size */
	uint64_t chunk;      /* glibc chunk size */
	uint32_t path;       /* interned field path (walk_path_name) */
	uint8_t kind;        /* enum walk_kind */
	bool shared;         /* Rc/Arc allocation */
	bool in_census;      /* false: header validated directly, chunk not in census */
	uint32_t tag;        /* walk_set_tag's value for the root it was reached from
			      * (allocations outside ops only; 0 inside) */
};

/* Where an op was found. */
struct walk_op_site {
	uint64_t addr;        /* the op's address */
	uint64_t holder;      /* the allocation holding it (its user pointer), 0 = root object */
	uint64_t index;       /* element index inside the holder (slot), or 0 */
	uint64_t key_addr;    /* the map key of the bucket being walked, 0 if none */
	type_id key_type;
	uint32_t variant;     /* active variant index of the op */
	uint32_t tag;         /* walk_set_tag's value for the root it was reached from */
};

/* No op: an allocation outside every op (entity overhead). */
#define WALK_NO_OP UINT32_MAX

struct walk_callbacks {
	/* Every allocation, once, with the token of the op it is charged to
	 * (WALK_NO_OP when none). */
	void (*on_alloc)(void *ctx, const struct walk_alloc *a, uint32_t op);
	/* An instance of the enum under study met outside another instance.
	 * Returns a token (below 2^31) that later allocations it owns carry:
	 * they arrive in address order, not right after their op. */
	uint32_t (*on_op)(void *ctx, const struct walk_op_site *site);
	/* Optional, a hint only: a queued visit charged to op is about to run
	 * (the caller may start loading its record for that op). */
	void (*on_op_soon)(void *ctx, uint32_t op);
	void *ctx;
	/* Optional: a shared (Rc/Arc) allocation just reported inside op.
	 * Returns the token (below 2^31) that what it owns carries instead of
	 * op (op itself to change nothing). */
	uint32_t (*on_shared)(void *ctx, const struct walk_alloc *a, uint32_t op);
	/* Optional: a shared allocation reached again (counted once, not
	 * reported again), from op (WALK_NO_OP outside every op). */
	void (*on_shared_again)(void *ctx, uint64_t mem, uint64_t chunk, uint32_t op);
};

struct walk_stats {
	uint64_t allocations;       /* allocations reported */
	uint64_t values;            /* typed values visited */
	uint64_t unreadable;        /* pointers/lengths that failed validation */
	uint64_t revisits;          /* non-shared allocations reached twice (skipped) */
	uint64_t shared_revisits;   /* Rc/Arc reached again (counted once) */
	uint64_t depth_limited;     /* values not walked: nesting limit */
	uint64_t not_in_census;     /* allocations whose chunk the census did not list */
	uint64_t sweeps;            /* address-ordered passes over the heap */
	uint64_t queued;            /* buffer visits queued */
	uint64_t queue_peak;        /* most visits queued at once */
	uint64_t first_unreadable;  /* the first bad address seen, for messages */
	char first_unreadable_what[96];
	/* reachable but not attributed exactly, by reason (unreadable above) */
	uint64_t missing;           /* visits whose bytes are in pages missing from the core */
	uint64_t missing_bytes;     /* their bytes (read as zeros: what they owned is unknown) */
	uint64_t first_missing;
	uint64_t nodecoder;         /* heap chunks reached only through a raw pointer (no decoder owns them) */
	uint64_t nodecoder_bytes;   /* their chunk bytes */
	uint64_t shared_bytes;      /* chunk bytes of Rc/Arc reached again (charged once, on first visit) */
};

/* Heap reached through raw pointers (*mut T, *const T, NonNull<T>) of one
 * type and field path that no container decoder owns: an FFI buffer, a
 * private container.  Counted, by chunk, once each, and only when no decoder
 * reported the chunk by the end of the walk. */
struct walk_nodecoder {
	const char *type;           /* the struct holding the pointer */
	uint32_t path;              /* the pointer's field path (walk_path_name) */
	uint64_t bytes, allocations;
};

/* A walker over the decode context d (one per profile run: its
 * classification cache, struct plans and version facts), which it takes
 * over: walk_destroy destroys d, and so does walk_create when it fails.  d's
 * heap is the census the walk checks allocations against (NULL: none). */
int walk_create(struct walk **out, struct dec *d, struct err *e);
void walk_destroy(struct walk *w);
/* The walk's decode context (for roots and the typed readers). */
struct dec *walk_dec(struct walk *w);

/* The enum whose instances are ops (0: none): dec_set_op_type on the walk's
 * context. */
void walk_set_op_type(struct walk *w, type_id op_type);
void walk_set_callbacks(struct walk *w, const struct walk_callbacks *cb);

/* Walks the value at addr (type ty) and everything it owns, its field paths
 * starting empty (an op's start with its variant's name); every callback has
 * run when it returns.  Returns 0 (ERR_NOMEM when the queue could not grow);
 * unreadable parts are counted in the stats, not returned as errors. */
#define WALK_PATH_ROOT 0u
int walk_value(struct walk *w, uint64_t addr, type_id ty);

/* The same in two steps, for several roots in one pass over the heap:
 * walk_queue visits the value at addr now and queues what its buffers hold;
 * walk_drain runs everything queued (all callbacks) and returns as
 * walk_value does.  walk_set_tag labels what later walk_queue calls reach
 * (op sites, allocations outside ops) with a number of the caller's. */
void walk_set_tag(struct walk *w, uint32_t tag);
void walk_queue(struct walk *w, uint64_t addr, type_id ty);
int walk_drain(struct walk *w);

/* Marks an allocation as already seen (e.g. the root's own ArcInner), so a
 * cycle back to it is not reported as owned. */
void walk_mark_seen(struct walk *w, uint64_t mem);

/* Field paths are interned: id -> "Windowed > buckets[*] > Percentile > ..." */
const char *walk_path_name(const struct walk *w, uint32_t path);

void walk_get_stats(const struct walk *w, struct walk_stats *s);
/* What the decode context's version tables detected about Rust std and the
 * crates (layouts and encodings met so far), with the evidence: dec_versions. */
const struct version_facts *walk_versions(const struct walk *w);
/* The heap reached only through raw pointers, by (type, field path), once
 * the walk has drained; largest first. */
size_t walk_nodecoder_count(const struct walk *w);
const struct walk_nodecoder *walk_nodecoder_at(const struct walk *w, size_t i);
/* Starts the counts afresh (e.g. after probing root candidates). */
void walk_reset_stats(struct walk *w);

/* The decode layer's typed readers (dec.h says what each does) on the
 * walk's context, for callers that hold the walker: each is its dec_
 * counterpart on walk_dec(w). */
int walk_read_string(struct walk *w, uint64_t addr, type_id ty, char *buf, size_t size,
		     struct err *e);
int walk_read_uint(struct walk *w, uint64_t addr, type_id ty, uint64_t *v, struct err *e);
int walk_check(struct walk *w, uint64_t addr, type_id ty, struct err *e);
int walk_variant(struct walk *w, uint64_t addr, type_id ty, uint32_t *index, struct err *e);
int walk_deref(struct walk *w, uint64_t addr, type_id ty, uint64_t *out_addr, type_id *out_type,
	       struct err *e);
int walk_owned(struct walk *w, uint64_t addr, type_id ty, uint64_t *mem, uint64_t *requested, struct err *e);
int walk_unwrap(struct walk *w, uint64_t addr, type_id ty, uint64_t *out_addr, type_id *out_type,
		struct err *e);
bool walk_type_owns(struct walk *w, type_id ty);

/* Iteration over the live elements of a container value (Vec, VecDeque,
 * SmallVec, Box<[T]>, array, hashbrown map/set, BTreeMap): fn is called with
 * each element's address and type (for maps: the key and the value).  The
 * container's own allocations are not reported.  Stops when fn returns
 * non-zero, and returns that.  fn may call walk_set_tag and walk_queue on
 * the same walker (the iteration uses none of the visit's state), never
 * walk_drain or walk_value (asserted). */
typedef int (*walk_elem_fn)(void *ctx, uint64_t key_addr, type_id key_type,
			    uint64_t val_addr, type_id val_type);
int walk_elements(struct walk *w, uint64_t addr, type_id ty, walk_elem_fn fn, void *ctx,
		  struct err *e);

/* Whole-heap accounting (walk_rest.c).  Every in-use chunk of the census the walk has not reported (nor marked
 * seen), in address order: fn(ctx, user pointer, chunk size, mmapped);
 * stops when fn returns non-zero, and returns 1 then, else 0.  A chunk
 * size of 0 means the mark map held no end for it (a damaged census). */
typedef int (*walk_chunk_fn)(void *ctx, uint64_t mem, uint64_t size, bool mmapped);
int walk_unreported(struct walk *w, walk_chunk_fn fn, void *ctx);
/* The chunk size of the in-use census chunk whose user pointer is mem, 0 if
 * there is none. */
uint64_t walk_chunk_size(struct walk *w, uint64_t mem);

/* The raw-pointer rows of the walks so far set aside (a later pass's rows
 * then start empty), and put back: the later rows' totals are returned and
 * the rows dropped.  NULL when memory runs out (restore then does nothing). */
struct walk_nodecoder_saved;
struct walk_nodecoder_saved *walk_nodecoder_save(struct walk *w);
void walk_nodecoder_restore(struct walk *w, struct walk_nodecoder_saved *s, uint64_t *bytes, uint64_t *allocations);

#endif
