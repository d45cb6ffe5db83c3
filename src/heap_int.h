/* heap_int.h: what the heap layer's files share (not a public contract).
 *
 * The census is built in stages, each in its own file:
 *   heap_arena.c  finds the arenas (malloc_state) and mp_ without symbols,
 *   heap_walk.c   turns arenas into regions (brk heap, heap_info heaps, mmapped
 *                 chunks) and walks every chunk header in them,
 *   heap_cache.c  marks the chunks parked in tcache and fastbins,
 *   heap.c        owns struct heap, the lookup index and the totals.
 * Every read of target memory goes through struct heap_rd, a small window
 * cache over image_ptr/image_read, so a walk of millions of chunks does not
 * binary-search the segment table twice per chunk.
 */
#ifndef AGGOP_HEAP_INT_H
#define AGGOP_HEAP_INT_H

#include "heap.h"

/* Every glibc fact (constants and the per-release layouts) is in
 * heap_glibc.h / heap_glibc.c, the layer's version table. */
#include "heap_glibc.h"
#include "version.h"

/* heap_find's index granule: a page holds at most 128 chunks of the 32-byte
 * minimum, so a lookup is one index slot and a binary search of a few
 * words; the index costs 1/1024 of the heap's size (the walk's hot path
 * sizes chunks from its own mark map, not through heap_find). */
enum { HEAP_GRANULE_SHIFT = 12 };

/* Bounds that keep hostile cores from making loops unbounded. */
enum {
	HEAP_MAX_ARENAS = 4096,      /* arena ring length */
	HEAP_MAX_HEAPS = 65536,      /* heap_info chain length per arena */
	HEAP_MAX_CORRUPTIONS = 10000 /* records kept; the count keeps going */
};

/* A window cache over the image for one pass of sequential reads. */
struct heap_rd {
	const struct image *img;
	uint64_t base, len;          /* current window [base, base+len) */
	const uint8_t *p;            /* its bytes (into the core or into buf) */
	uint8_t *buf;                /* owned copy buffer, HEAP_RD_WINDOW bytes */
	bool pread_only;             /* the core file alone (image_pread), never image_read:
				      * for a thread of the parallel census, whose regions
				      * lie wholly in the core's file-backed part */
};
enum { HEAP_RD_WINDOW = 1 << 16 };

/* True when the bytes at mem hold together as a tcache_perthread_struct of
 * layout l (every bin's count is zero exactly when its entry is). */
bool heap_tcache_plausible(struct heap_rd *rd, uint64_t mem, const struct glibc_tc_layout *l);
/* Remembers chunk index ci as a tcache candidate of layout l. */
int heap_push_tcache_candidate(struct heap *h, size_t ci, const struct glibc_tc_layout *l, struct err *e);

int heap_rd_init(struct heap_rd *r, const struct image *img);
void heap_rd_fini(struct heap_rd *r);
/* Reads len (<= 4096) bytes at addr; false when not every byte is mapped. */
bool heap_rd_get(struct heap_rd *r, uint64_t addr, void *out, size_t len);

/* The walk's hot path: one or two words inside the current window. */
static inline bool heap_rd_u64(struct heap_rd *r, uint64_t addr, uint64_t *v)
{
	if (r->len && addr >= r->base && addr - r->base <= r->len - 8) {
		__builtin_memcpy(v, r->p + (addr - r->base), 8);
		return true;
	}
	return heap_rd_get(r, addr, v, 8);
}

static inline bool heap_rd_2u64(struct heap_rd *r, uint64_t addr, uint64_t v[2])
{
	if (r->len && addr >= r->base && addr - r->base <= r->len - 16) {
		__builtin_memcpy(v, r->p + (addr - r->base), 16);
		return true;
	}
	return heap_rd_get(r, addr, v, 16);
}

/* One arena as found: its malloc_state fields that the census needs. */
struct heap_ms {
	uint64_t addr;
	uint64_t top, next, system_mem;
	uint32_t flags;
	uint32_t nself;              /* bins[] heads that point at themselves (empty bins) */
	uint64_t fastbins[GL_NFASTBINS];
};

/* A contiguous range of chunks: one heap of an arena, or one mmapped chunk. */
struct heap_region {
	uint64_t start, end;         /* first chunk header .. end of the region */
	uint64_t map_start;          /* mmapped: start of the mapping (start - prev_size) */
	uint16_t arena;              /* HEAP_NO_ARENA for mmapped */
	bool mmapped;
	bool has_top;                /* the arena's top chunk lies in this region */
	bool damaged;                /* the walk recorded corruption in it */
	size_t first, count;         /* its chunks in heap.chunks */
	size_t page0;                /* first granule-index slot (SIZE_MAX: none) */
	size_t npages;               /* granules (HEAP_GRANULE bytes each) */
};

/* The census keeps one word per chunk, sorted by address: the user pointer
 * / 16 (bits 0-43), the state (44-45), the header's flag bits (46-48), "size
 * in the exception table" (49) and the arena index (50-63, HW_NO_ARENA for
 * mmapped chunks).  A chunk's size is the distance to the next chunk, which
 * is what it is for all but the last chunk of a heap, one before a damaged
 * stretch, and mmapped ones: those sizes are kept apart, by index.  That is
 * 8 bytes a chunk where a struct heap_chunk is 24: on a heap of small
 * chunks the difference is a tenth of the core's size. */
#define HW_MEM_MASK ((1ull << 44) - 1)
#define HW_STATE_SHIFT 44
#define HW_FLAGS_SHIFT 46
#define HW_SIZEX (1ull << 49)
#define HW_ARENA_SHIFT 50
#define HW_NO_ARENA 0x3fffu
struct heap_sizex {
	uint64_t idx;         /* the chunk's index */
	uint64_t size;
};

struct heap {
	const struct image *img;
	unsigned jobs;               /* threads the census (and the walk over it) may use */
	uint64_t *cw;                /* chunk words, see above */
	size_t nchunks, capchunks;
	bool cw_fixed;               /* cw is a slice of another heap's array: never grown
				      * (a push past capchunks fails with ERR_NOMEM) */
	struct heap_sizex *sx;       /* sizes that are not the distance to the next chunk */
	size_t nsx, capsx;
	uint64_t last_size;          /* size of the chunk pushed last */
	struct heap_arena *arenas;
	struct heap_ms *ms;          /* parallel to arenas */
	size_t narenas;
	struct heap_region *regions;
	size_t nregions, capregions;
	uint32_t *pidx;              /* granule index, see heap.c */
	size_t npidx;
	struct heap_corruption *corr;
	size_t ncorr, capcorr, ncorr_total;
	uint64_t hinfo_size;         /* sizeof(heap_info) detected (0: not yet) */
	uint64_t main_arena;         /* 0 when not found */
	bool have_mp;
	uint64_t mp_addr, mp_mmapped_mem, mp_sbrk_base;
	int32_t mp_n_mmaps;
	size_t ntcache;
	struct heap_tc_cand *tc_cand; /* chunks that could be a tcache (census order) */
	size_t ntc_cand, captc_cand;
	uint64_t mmapped_bytes;      /* sum of mapping lengths (prev_size + size) */
	size_t mmapped_chunks;
	/* What the core showed about its glibc (heap_glibc.c). */
	const struct glibc_ms_layout *msl;  /* malloc_state layout of the arena ring */
	const struct glibc_mp_layout *mpl;  /* malloc_par layout of mp_ (NULL: not found) */
	struct version_facts versions;
	uint32_t glibc_rows;         /* rows of the table every fact so far agrees with */
	bool glibc_conflict;
	char glibc_conflict_what[160];
};

struct heap_tc_cand {
	size_t ci;                   /* the chunk's index */
	const struct glibc_tc_layout *l;
};

/* heap_glibc.c: records (glibc, what) = value with its evidence and narrows
 * glibc_rows to rows (0: a fact that names no rows); a fact that leaves no
 * row is kept and reported as a conflict. */
int heap_glibc_note(struct heap *h, uint32_t rows, const char *what, const char *value, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* The last fact: the release family every other fact agrees with. */
int heap_glibc_summary(struct heap *h);

/* heap.c */
int heap_add_corruption(struct heap *h, uint64_t addr, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int heap_push_chunk(struct heap *h, const struct heap_chunk *c, struct err *e);
/* Records that chunk idx's size is not the distance to the next chunk. */
int heap_push_sizex(struct heap *h, size_t idx, uint64_t size, struct err *e);
/* Ends the census: the last chunk's size goes to the exception table. */
int heap_push_done(struct heap *h, struct err *e);
/* The user pointer of chunk i (i < nchunks), and a new state for it. */
static inline uint64_t heap_mem_at(const struct heap *h, size_t i) { return (h->cw[i] & HW_MEM_MASK) << 4; }
void heap_set_state(struct heap *h, size_t i, enum heap_state st);
int heap_push_region(struct heap *h, const struct heap_region *r, struct err *e);
/* Best effort: room for n chunks (0: nothing). */
void heap_reserve_chunks(struct heap *h, size_t n);

/* heap_arena.c: fills h->arenas / h->ms, h->main_arena, mp_. */
int heap_find_arenas(struct heap *h, struct heap_rd *rd, struct err *e);

/* heap_walk.c: regions of every arena and the mmapped chunks, then the walk. */
int heap_walk_all(struct heap *h, struct heap_rd *rd, struct err *e);

/* heap_cache.c: tcache and fastbin marking (needs the index). */
int heap_mark_cached(struct heap *h, struct heap_rd *rd, struct err *e);

#endif
