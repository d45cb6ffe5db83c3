/* heap_glibc.h: the heap layer's version table for glibc malloc (x86-64).
 *
 * Every fact about glibc malloc the census relies on is here: the constants
 * that no release from 2.26 (the first with tcache) to 2.41 changed on
 * x86-64, and, in heap_glibc.c, one row per release family for what did
 * change (malloc_state, heap_info, malloc_par and tcache_perthread_struct
 * layouts, safe-linking, the tcache entry key).  No other file of the layer
 * holds a glibc offset or size.  Each fact is decided from the core by a
 * detector next to the code that reads the structure (heap_arena.c for
 * malloc_state, heap_info and malloc_par, heap_cache.c for tcache and
 * safe-linking) and recorded with heap_glibc_note(), which also narrows the
 * set of rows the core agrees with.
 */
#ifndef AGGOP_HEAP_GLIBC_H
#define AGGOP_HEAP_GLIBC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Shared by every row of the table (malloc/malloc.c, malloc/arena.c,
 * sysdeps/generic/malloc-alignment.h on x86-64, 2.26 .. 2.41). */
enum {
	GL_SIZE_SZ = 8,
	GL_CHUNK_HDR = 16,           /* CHUNK_HDR_SZ = 2 * SIZE_SZ */
	GL_MINSIZE = 32,             /* MINSIZE on 64-bit */
	GL_ALIGN = 16,               /* MALLOC_ALIGNMENT */
	GL_SIZE_BITS = 7,            /* SIZE_BITS: PREV_INUSE | IS_MMAPPED | NON_MAIN_ARENA, the low bits
				      * of a chunk's size field (heap.h HEAP_F_*); chunksize() masks them */
	GL_NFASTBINS = 10,           /* fastbin_index(request2size(MAX_FAST_SIZE)) + 1 */
	GL_NBINS = 128,              /* NBINS; bins[] holds NBINS*2-2 pointers */
	GL_BIN_SZ = 16,              /* one bin of bins[]: its fd and bk pointers (2 * SIZE_SZ) */
	GL_FD = 16,                  /* offsetof(struct malloc_chunk, fd): bin_at() subtracts it */
	GL_MS_FLAGS = 4,             /* malloc_state.flags follows the int mutex */
	GL_NONCONTIGUOUS = 2,        /* NONCONTIGUOUS_BIT in malloc_state.flags */
	GL_TCACHE_BINS = 64,         /* TCACHE_MAX_BINS (2.42 adds large bins: not in the table) */
	GL_PAGE = 4096,
	/* malloc_par's first members: trim_threshold, top_pad, mmap_threshold,
	 * arena_test (the same in every row) */
	GL_MP_TRIM_THRESHOLD = 0,
	GL_MP_MMAP_THRESHOLD = 16,
	GL_MP_ARENA_TEST = 24,
	GL_MMAP_THRESHOLD_MAX = 32 << 20, /* DEFAULT_MMAP_THRESHOLD_MAX (64-bit) */
	/* Room for the largest structure of any row (read into stack buffers). */
	GL_MS_READ_MAX = 2304,
	GL_MP_READ_MAX = 160,
	GL_TC_READ_MAX = 640
};
#define GL_HEAP_MAX ((uint64_t)64 << 20) /* HEAP_MAX_SIZE = 2 * DEFAULT_MMAP_THRESHOLD_MAX (64-bit) */

/* struct malloc_state: offsets of the members the census reads. */
struct glibc_ms_layout {
	const char *name;
	uint16_t fastbins, top, bins, next, system_mem, max_system_mem, size;
};

/* struct malloc_par (mp_): the members that describe it. */
struct glibc_mp_layout {
	const char *name;
	uint16_t n_mmaps, max_n_mmaps, mmapped_mem, max_mmapped_mem, sbrk_base;
	uint16_t tcache_bins, tcache_max_bytes, tcache_count, size;
};

/* struct tcache_perthread_struct { counts[64]; tcache_entry *entries[64]; }. */
struct glibc_tc_layout {
	const char *name;
	uint8_t count_size;          /* sizeof counts[0]: char or uint16_t */
	uint16_t struct_size;        /* sizeof the struct */
	uint16_t chunk_size;         /* request2size(struct_size): the chunk it is */
};

/* struct heap_info { ar_ptr; prev; size; mprotect_size; [pagesize;] pad }. */
struct glibc_hinfo_layout {
	const char *name;
	uint16_t size;               /* sizeof(heap_info): where the first chunk or malloc_state starts */
	int16_t pagesize;            /* offset of pagesize, -1 when there is none */
};

/* What tcache_entry.key holds in a free entry. */
enum glibc_key {
	GLIBC_KEY_NONE,              /* no key member (< 2.29): stale user data */
	GLIBC_KEY_TCACHE,            /* the owning tcache_perthread_struct (2.29 .. 2.33) */
	GLIBC_KEY_RANDOM             /* one random tcache_key per process (>= 2.34) */
};

struct glibc_family {
	const char *name;            /* "2.30-2.31" */
	const struct glibc_ms_layout *ms;
	const struct glibc_hinfo_layout *hinfo;
	const struct glibc_mp_layout *mp;
	const struct glibc_tc_layout *tc;
	bool safe_linking;           /* PROTECT_PTR on tcache and fastbin links */
	enum glibc_key key;
};

/* The rows, oldest first; a set of rows is a bit mask (bit i: row i). */
extern const struct glibc_family glibc_families[];
extern const size_t glibc_nfamilies;
#define GLIBC_ALL ((1u << glibc_nfamilies) - 1)

/* The distinct layouts of the table (each row points at one of each). */
extern const struct glibc_ms_layout *const glibc_ms_layouts[];
extern const size_t glibc_n_ms_layouts;
extern const struct glibc_mp_layout *const glibc_mp_layouts[];
extern const size_t glibc_n_mp_layouts;
extern const struct glibc_tc_layout *const glibc_tc_layouts[];
extern const size_t glibc_n_tc_layouts;
extern const struct glibc_hinfo_layout *const glibc_hinfo_layouts[];
extern const size_t glibc_n_hinfo_layouts;

/* The rows using a layout / having a property. */
uint32_t glibc_rows_ms(const struct glibc_ms_layout *l);
uint32_t glibc_rows_mp(const struct glibc_mp_layout *l);
uint32_t glibc_rows_tc(const struct glibc_tc_layout *l);
uint32_t glibc_rows_hinfo(const struct glibc_hinfo_layout *l);
uint32_t glibc_rows_safe_linking(bool on);
uint32_t glibc_rows_key(enum glibc_key k);

/* The values the safe-linking and tcache key facts are recorded with. */
const char *glibc_safe_linking_name(bool on);
const char *glibc_key_name(enum glibc_key k);

/* "2.30-2.31", "2.27-2.41" (first to last row of the mask), "none". */
void glibc_rows_name(uint32_t rows, char *buf, size_t n);

/* Safe-linking (glibc >= 2.32, malloc.c PROTECT_PTR / REVEAL_PTR): the
 * pointer stored at pos, revealed. */
static inline uint64_t glibc_reveal(bool safe, uint64_t pos, uint64_t stored)
{
	return safe ? (pos >> 12) ^ stored : stored;
}

#endif
