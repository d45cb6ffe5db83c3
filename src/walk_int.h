/* walk_int.h: the walker's private state, shared by walk*.c only.
 *
 * The walk keeps only the traversal: the queue, the mark map, the cursor
 * (where the visit stands), field paths and stats.  What a type is (its
 * classification, the family's layout, struct plans) and the version facts
 * live in the decode context it runs on (dec_int.h).
 */
#ifndef AGGOP_WALK_INT_H
#define AGGOP_WALK_INT_H

#include "container.h"
#include "version.h"
#include "walk.h"
#include "dec_int.h"

#define WALK_MAX_DEPTH 192
#define WALK_MAX_ELEMS (1ull << 32)   /* the walk_elements iteration over a fixed array */

/* The set of allocations reported outside the mark map (mmapped chunks,
 * chunks the census did not list). */
#define WALK_U64_KEY(e) (*(e))
DEFINE_HASH_TABLE(walk_mem_set, uint64_t, uint64_t, WALK_U64_KEY, container_hash_u64, container_eq_u64)

/* Interned segment sequences, by the pointers of their segments. */
struct walk_seq_key {
	const char *const *segs;
	uint32_t n;
	uint64_t hash;
};
struct walk_seq_ent {
	struct walk_seq_key key;
	uint32_t seq;
};
static inline uint64_t walk_seq_hash(struct walk_seq_key k) { return k.hash; }
static inline bool walk_seq_eq(struct walk_seq_key a, struct walk_seq_key b)
{
	return a.hash == b.hash && a.n == b.n && memcmp(a.segs, b.segs, sizeof(char *) * a.n) == 0;
}
#define WALK_SEQ_KEY(e) ((e)->key)
DEFINE_HASH_TABLE(walk_seq_index, struct walk_seq_ent, struct walk_seq_key, WALK_SEQ_KEY, walk_seq_hash,
		  walk_seq_eq)

/* Display names, by their text. */
struct walk_name_ent {
	const char *name;
	uint32_t id;
};
#define WALK_NAME_KEY(e) ((e)->name)
DEFINE_HASH_TABLE(walk_name_index, struct walk_name_ent, const char *, WALK_NAME_KEY, container_hash_str,
		  container_eq_str)

/* One interned sequence of path segments (walk_path.c). */
struct walk_seq {
	const char **segs;
	uint32_t n;
	uint32_t name;       /* its display name's id */
	uint32_t node;       /* its prefix node (UINT32_MAX: none) */
};

/* One prefix of a segment stack, as a trie node: its parent prefix and last
 * segment, and the seq of the stack it spells once one was asked for
 * (UINT32_MAX: not yet).  The walk keeps the node of each prefix of its
 * stack, so that the seq of the stack after a push is one look-up of (node,
 * segment), not a hash and compare of the whole stack. */
struct walk_pnode {
	const char *seg;
	uint32_t parent, seq;
};
#define WALK_PCACHE 1024u
struct walk_pcache {
	const char *seg;          /* NULL: empty */
	uint32_t parent, child;
};
#define WALK_SEQ_MAX (1u << 29)

/* The profile's walk reads the core in address order: a container's header
 * is read where it lies (inside its owner), but what its buffer holds is
 * queued as an item and read when the sweep reaches the buffer's address.
 * Sweeps repeat until nothing is queued; the core is read a bucket at a time
 * into a window (pread), and mapped pages behind the sweep are given back,
 * so the walk's resident set stays a window, not the heap. */
enum {
	WI_ELEMS = 0,   /* n elements of type from index b: holder mem, at mem + index * size */
	WI_ELEMS_AT,    /* n elements of type at mem + b (byte offset), indices from 0 */
	WI_POINTEE,     /* one value of type at mem + b; holder and index inherited */
	WI_TABLE,       /* hashbrown table (type = the table type), n buckets, b items */
	WI_BTREE,       /* BTree node at mem (type = the map type), n = height, b = tree record */
	WI_LIST         /* LinkedList node at mem (type = the list type), n = nodes left, b = list record */
};
#define WI_KIND_SHIFT 29
#define WI_IN_OP 0x80000000u
struct witem {
	uint64_t mem;        /* the allocation whose bytes are read: the sort key */
	uint64_t n;
	uint32_t b;
	type_id type;
	uint32_t seq;        /* path seq | kind << WI_KIND_SHIFT */
	uint32_t ctx;        /* WI_IN_OP | op token, or an index into ctxs */
};

/* Where a queued visit outside any op stands (restored when it runs). */
struct wctx {
	uint64_t holder, index, key_addr;
	type_id key_type;
	uint32_t tag;
};

/* A BTreeMap or LinkedList whose nodes are queued: its entries are counted
 * as the nodes are visited and checked against its length when the walk ends. */
struct wtree {
	uint64_t addr, length, count;
	bool list;           /* a LinkedList's nodes, not a BTreeMap's */
};

#define WBLOCK_ITEMS 127
struct wblock {
	struct wblock *next;
	uint64_t n;
	struct witem it[WBLOCK_ITEMS];
};

/* A span of heap address space with 2 bits per 16-byte granule: bit 0 = an
 * in-use chunk's user pointer is here (from the census), bit 1 = the walk
 * has reported it.  One cache line of bits covers 4 KiB of heap, so the
 * check and the mark cost one memory access where a census lookup cost two. */
struct wregion {
	uint64_t start, end;
	uint64_t *bits;
	size_t bucket0;      /* its first queue bucket (one per WQ_SHIFT bytes) */
};
#define WQ_SHIFT 20

DEFINE_VECTOR(wregion_vec, struct wregion)
DEFINE_VECTOR(wchunk_vec, struct heap_chunk)
DEFINE_VECTOR(wctx_vec, struct wctx)
DEFINE_VECTOR(wtree_vec, struct wtree)
DEFINE_VECTOR(walk_seq_vec, struct walk_seq)
DEFINE_VECTOR(walk_name_vec, char *)
DEFINE_VECTOR(walk_pnode_vec, struct walk_pnode)

/* A heap chunk a raw pointer points at, seen during the walk; kept if no
 * decoder has reported it by the end. */
struct wnodec {
	uint64_t mem, chunk;
	const char *type;
	uint32_t path;
};
DEFINE_VECTOR(wnodec_vec, struct wnodec)
DEFINE_VECTOR(walk_nodecoder_vec, struct walk_nodecoder)

/* Reads the next dense bucket of a sweep on a thread of its own while the
 * current one is drained (walk.c, with two jobs or more). */
struct wahead;

struct walk {
	struct dec *d;            /* the decode context (owned) */
	const struct image *img;  /* d's, for the traversal's own reads */
	const struct types *t;
	const struct heap *h;
	struct wahead *ahead;     /* NULL: every window is read in line */
	struct walk_callbacks cb;

	struct wregion_vec regions;   /* dense mark map over the heap, by address */
	struct wchunk_vec big;        /* in-use chunks the map does not hold (mmapped), by mem */
	size_t rlast;
	struct walk_mem_set extra_seen;   /* reported mems outside the mark map */
	struct wnodec_vec nodec;          /* raw-pointer targets seen (walk_members) */
	struct walk_nodecoder_vec nodec_sum;  /* ... kept and summed when the walk drains */

	/* the address-ordered queue of the profile's walk (every visit that
	 * reports, walk_queue's and the drain's, queues what buffers hold) */
	bool oom;                 /* the queue could not grow: the walk is cut short */
	bool bucket_whole;        /* the drain's cursor: the bucket being drained lies wholly in the core */
	uint64_t iw_lo, iw_hi, iw_gen;   /* a sparse bucket's last visit window (walk.c, item_window) */
	double ns_visit, ns_read;         /* mean visit and window read times (walk.c, read_bound) */
	struct wblock **q;        /* buckets by address; the last holds the rest */
	size_t nq;
	struct wblock *free_blocks;
	uint64_t qlen;
	struct wctx_vec ctxs;
	struct wtree_vec trees;

	/* current position (state of the visit under way, not a mode: set and
	 * restored as the visit enters and leaves values) */
	int depth;
	uint32_t iterating;       /* walk_elements calls under way (their callbacks may queue, not drain) */
	bool in_op;
	uint32_t op_tok;          /* the op's token (from on_op) while in_op */
	uint32_t tag;             /* the caller's tag for what is reached outside ops */
	const char *owner;        /* the struct whose members are being walked (raw pointers' owner) */
	uint64_t holder, index, key_addr;
	type_id key_type;

	/* field path stack and interned paths */
	const char *seg[WALK_MAX_DEPTH + 8];
	int nseg;
	struct walk_seq_index paths;      /* segment sequence -> seq id */
	struct walk_seq_vec seqs;     /* seq id -> segments */
	struct walk_name_vec names;   /* canonical id -> display name */
	struct walk_name_index name_ht;   /* display name -> canonical id */
	struct walk_pnode_vec pnodes; /* prefix trie (walk_path.c) */
	uint32_t *pslot;          /* (parent, segment) -> node + 1, open addressing */
	size_t pcap;
	uint32_t pnode[WALK_MAX_DEPTH + 9];   /* pnode[i]: the node of seg[0..i) ... */
	int pbase, pvalid;        /* ... for pbase <= i <= pvalid (a write to seg[i] lowers pvalid to i) */
	struct walk_pcache *pcache;   /* (parent, seg) -> child, direct-mapped, in front of pslot */

	struct walk_stats st;
};

int walk_val(struct walk *w, uint64_t addr, type_id id);
/* walk_val of a type whose classification wt is at hand. */
void walk_val_wt(struct walk *w, uint64_t addr, type_id id, const struct dec_type *wt);
void walk_unreadable(struct walk *w, uint64_t addr, const char *what);

/* An allocation at mem of `requested` bytes: validated against the census
 * (in-use chunk, usable >= requested); reported once.  Returns 1 when new
 * (walk behind it), 0 when already seen or invalid (do not walk). */
int walk_alloc(struct walk *w, uint64_t mem, uint64_t requested, uint64_t used,
	       enum walk_kind kind, bool shared);

/* The seq id of the current segment stack (0: the empty one), and back. */
uint32_t walk_path_seq_slow(struct walk *w);
/* The cache slot of the trie edge (parent, seg). */
static inline struct walk_pcache *walk_pcache_at(struct walk *w, uint32_t parent, const char *seg)
{
	uint64_t hv = ((uint64_t)(uintptr_t)seg ^ (uint64_t)parent << 20) * 0x9E3779B97F4A7C15ull;
	return &w->pcache[(hv >> 40) & (WALK_PCACHE - 1)];
}
static inline uint32_t walk_path_seq(struct walk *w)
{
	int n = w->nseg;
	if (w->pbase <= n && w->pnodes.len) {
		/* the top prefix's node known and its seq interned: the common case */
		if (w->pvalid >= n) {
			uint32_t seq = w->pnodes.data[w->pnode[n]].seq;
			if (seq != UINT32_MAX)
				return seq;
		} else if (w->pvalid == n - 1 && w->pbase <= n - 1 && w->pcache) {
			/* one segment on a known prefix (a sibling member): its node from the cache */
			uint32_t parent = w->pnode[n - 1];
			const char *seg = w->seg[n - 1];
			const struct walk_pcache *pc = walk_pcache_at(w, parent, seg);
			if (pc->seg == seg && pc->parent == parent && seg) {
				uint32_t seq = w->pnodes.data[pc->child].seq;
				if (seq != UINT32_MAX) {
					w->pnode[n] = pc->child;
					w->pvalid = n;
					return seq;
				}
			}
		}
	}
	return walk_path_seq_slow(w);
}
/* The display path id of the current segment stack. */
static inline uint32_t walk_path_current(struct walk *w)
{
	uint32_t seq = walk_path_seq(w);
	return seq < w->seqs.len ? w->seqs.data[seq].name : WALK_PATH_ROOT;
}
void walk_path_restore(struct walk *w, uint32_t seq);

/* Queues a visit of an allocation's contents (see struct witem). */
void walk_defer(struct walk *w, unsigned kind, uint64_t mem, uint64_t n, uint32_t b, type_id type);
/* A new BTreeMap record for queued nodes; UINT32_MAX when out of memory. */
uint32_t walk_tree_new(struct walk *w, uint64_t addr, uint64_t length, bool list);
/* The id of parent's path extended by segment (UINT32_MAX: no parent). */
uint32_t walk_path_child(struct walk *w, uint32_t parent, const char *segment);
void walk_path_free(struct walk *w);

static inline void walk_push(struct walk *w, const char *s)
{
	if (w->seg[w->nseg] != s) {   /* the same segment again keeps its prefix node */
		if (w->pvalid > w->nseg)
			w->pvalid = w->nseg;
		w->seg[w->nseg] = s;
	}
	w->nseg++;
}
static inline void walk_pop(struct walk *w) { w->nseg--; }

#endif
