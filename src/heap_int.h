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

/* glibc 2.36 x86-64 layouts (malloc/malloc.c, malloc/arena.c; offsets
 * confirmed with gdb `ptype /o` against Debian's libc6-dbg 2.36-9). */
enum {
	GL_SIZE_SZ = 8,
	GL_CHUNK_HDR = 16,           /* CHUNK_HDR_SZ = 2 * SIZE_SZ */
	GL_MINSIZE = 32,             /* MINSIZE on 64-bit */
	GL_ALIGN = 16,               /* MALLOC_ALIGNMENT */
	GL_NFASTBINS = 10,           /* fastbin_index(request2size(MAX_FAST_SIZE)) + 1 */
	GL_NBINS = 128,              /* NBINS; bins[] holds NBINS*2-2 pointers */
	GL_MS_FASTBINS = 16,         /* offsetof(struct malloc_state, fastbinsY) */
	GL_MS_TOP = 96,
	GL_MS_BINS = 112,
	GL_MS_NEXT = 2160,
	GL_MS_NEXT_FREE = 2168,
	GL_MS_ATTACHED = 2176,
	GL_MS_SYSTEM_MEM = 2184,
	GL_MS_MAX_SYSTEM_MEM = 2192,
	GL_MS_SIZE = 2200,           /* sizeof(struct malloc_state) */
	GL_MS_FLAGS = 4,
	GL_NONCONTIGUOUS = 2,        /* NONCONTIGUOUS_BIT in malloc_state.flags */
	GL_HI_SIZE_NEW = 48,         /* sizeof(heap_info) with pagesize (glibc >= 2.35) */
	GL_HI_SIZE_OLD = 32,         /* sizeof(heap_info) before 2.35 */
	GL_MP_N_MMAPS = 60,          /* struct malloc_par offsets (2.35+) */
	GL_MP_MAX_N_MMAPS = 68,
	GL_MP_MMAPPED_MEM = 80,
	GL_MP_MAX_MMAPPED_MEM = 88,
	GL_MP_SBRK_BASE = 96,
	GL_MP_TCACHE_BINS = 104,
	GL_MP_TCACHE_MAX_BYTES = 112,
	GL_MP_TCACHE_COUNT = 120,
	GL_MP_SIZE = 136,
	GL_TCACHE_BINS = 64,         /* TCACHE_MAX_BINS */
	GL_TCACHE_STRUCT = 640,      /* uint16 counts[64] + entries[64] (glibc >= 2.30) */
	GL_TCACHE_CHUNK = 656,       /* request2size(640) = 0x290 */
	GL_PAGE = 4096
};

/* heap_find's index granule: a page holds at most 128 chunks of the 32-byte
 * minimum, so a lookup is one index slot and a binary search of a few
 * words; the index costs 1/1024 of the heap's size (the walk's hot path
 * sizes chunks from its own mark map, not through heap_find). */
enum { HEAP_GRANULE_SHIFT = 12 };
#define GL_HEAP_MAX ((uint64_t)64 << 20) /* HEAP_MAX_SIZE = 2 * DEFAULT_MMAP_THRESHOLD_MAX (64-bit) */

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
};
enum { HEAP_RD_WINDOW = 1 << 16 };

/* True when the tcache_perthread_struct-sized bytes at mem hold together as
 * one (every bin's count is zero exactly when its entry is). */
bool heap_tcache_plausible(struct heap_rd *rd, uint64_t mem);
/* Remembers chunk index ci as a tcache candidate. */
int heap_push_tcache_candidate(struct heap *h, size_t ci, struct err *e);

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
	uint64_t *cw;                /* chunk words, see above */
	size_t nchunks, capchunks;
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
	uint64_t hinfo_size;         /* sizeof(heap_info) detected (48 or 32) */
	uint64_t main_arena;         /* 0 when not found */
	bool have_mp;
	uint64_t mp_addr, mp_mmapped_mem, mp_sbrk_base;
	int32_t mp_n_mmaps;
	size_t ntcache;
	size_t *tc_cand;             /* chunks that could be a tcache (census order) */
	size_t ntc_cand, captc_cand;
	uint64_t mmapped_bytes;      /* sum of mapping lengths (prev_size + size) */
	size_t mmapped_chunks;
	uint64_t tcache_key;         /* e->key shared by every tcache entry (2.34+) */
};

/* heap.c */
int heap_add_corruption(struct heap *h, uint64_t addr, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int heap_push_chunk(struct heap *h, const struct heap_chunk *c, struct err *e);
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
