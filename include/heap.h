/* heap.h: glibc malloc as seen from a core, without libc debug symbols.
 *
 * heap_open takes a census of every chunk: the main arena's brk heap, each
 * thread arena's heaps (64 MiB-aligned heap_info regions, chained through
 * heap_info.prev and found from the arenas' malloc_state ring), and mmapped
 * chunks.  Chunks are told free / in use from the next chunk's PREV_INUSE bit,
 * then chunks cached in tcache (per thread) and fastbins (safe-linked
 * pointers decoded when the core's lists show safe-linking, glibc >= 2.32)
 * are marked CACHED: glibc counts them as in use (mallinfo2 uordblks), the
 * program does not.  Which glibc layouts apply is detected from the core
 * (src/heap_glibc.c holds the table) and told by heap_versions.  A header
 * that does not hold together is recorded as a corruption (with its
 * address) and the walk of that heap resumes past it where it can; it is
 * never trusted.
 *
 * Sizes follow glibc (malloc.c): chunk = hdr & ~7; usable = chunk - 8, or
 * chunk - 16 when IS_MMAPPED.
 */
#ifndef AGGOP_HEAP_H
#define AGGOP_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "image.h"
#include "version.h"

struct heap;

enum heap_state {
	HEAP_INUSE = 0,  /* allocated by the program */
	HEAP_FREE,       /* in a bin / unsorted / top */
	HEAP_CACHED      /* free but parked in tcache or a fastbin (glibc counts it in use) */
};

enum { HEAP_F_PREV_INUSE = 1, HEAP_F_MMAPPED = 2, HEAP_F_NON_MAIN = 4 };

struct heap_chunk {
	uint64_t mem;         /* user pointer (chunk address + 16) */
	uint64_t size;        /* chunk size (hdr & ~7) */
	uint32_t flags;       /* HEAP_F_* bits of the header */
	uint16_t arena;       /* index into the arena list; mmapped chunks: HEAP_NO_ARENA */
	uint8_t state;        /* enum heap_state */
};
#define HEAP_NO_ARENA 0xffff

struct heap_arena {
	uint64_t addr;                   /* malloc_state address */
	bool main;
	size_t nheaps;                   /* heap_info regions (0 for main) */
	uint64_t system_bytes;           /* bytes of heap memory (like malloc_info "current") */
	uint64_t inuse_bytes, free_bytes, cached_bytes, top_bytes;
	size_t inuse_chunks, free_chunks, cached_chunks;
	/* Added by the heap layer (additive): the cached split, glibc's own
	 * figure and what is neither a chunk nor top (heap_info, malloc_state,
	 * alignment, fenceposts, bytes skipped after a corruption). */
	uint64_t tcache_bytes, fastbin_bytes;
	size_t tcache_chunks, fastbin_chunks;
	uint64_t system_mem;             /* malloc_state.system_mem as read */
	uint64_t overhead_bytes;
};

struct heap_corruption {
	uint64_t addr;        /* chunk address (header), or the pointer involved */
	char what[96];
};

/* mallinfo2-style totals, counted the way glibc counts them. */
struct heap_totals {
	uint64_t arena;     /* non-mmapped bytes obtained from the system */
	uint64_t ordblks;   /* free chunks (not fastbin) */
	uint64_t smblks;    /* fastbin chunks */
	uint64_t hblks;     /* mmapped chunks */
	uint64_t hblkhd;    /* mmapped bytes */
	uint64_t fsmblks;   /* fastbin bytes */
	uint64_t uordblks;  /* in use (includes tcache-cached) */
	uint64_t fordblks;  /* free (includes top) */
	uint64_t keepcost;  /* top chunk of main arena */
};

int heap_open(struct heap **out, const struct image *img, struct err *e);
/* The same with the threads the census may use (jobs >= 1; heap_open is
 * jobs 1).  The census is the same, chunk for chunk and record for record,
 * whatever jobs is; the walk over it (walk_create) uses as many threads
 * (heap_jobs). */
int heap_open_jobs(struct heap **out, const struct image *img, unsigned jobs, struct err *e);
unsigned heap_jobs(const struct heap *h);
void heap_close(struct heap *h);

/* All chunks, sorted by mem (a chunk is kept in 8 bytes: this unpacks one;
 * all zero when i is out of range). */
size_t heap_chunk_count(const struct heap *h);
struct heap_chunk heap_chunk_get(const struct heap *h, size_t i);

/* The index of the chunk whose user pointer is exactly mem, or SIZE_MAX.
 * Must be fast (called once per allocation on the walk): a page-granular
 * index into the sorted array, not a plain binary search over all chunks. */
size_t heap_find(const struct heap *h, uint64_t mem);

/* The chunk containing addr anywhere inside it (interior pointer), or SIZE_MAX. */
size_t heap_find_containing(const struct heap *h, uint64_t addr);

/* Usable size of a chunk (glibc memsize). */
uint64_t heap_usable(const struct heap_chunk *c);

/* glibc's request2size: the chunk size an arena serves `request` bytes with
 * when it has an exact fit (the constants come from the version table,
 * src/heap_glibc.h). */
uint64_t heap_request_chunk(uint64_t request);

/* Whether glibc can have handed out chunk c for a malloc of `request` bytes:
 * the exact chunk, a larger free chunk left unsplit because the remainder
 * would be below MINSIZE (*unsplit set), or an mmapped chunk whose usable
 * size is the request rounded up to a page.  Any arena. */
bool heap_chunk_fits(const struct heap_chunk *c, uint64_t request, bool *unsplit);

/* For any user pointer, even one the census did not reach: its header read
 * and validated against neighbours.  ERR_CORRUPT (with e->addr) when the
 * header is not plausible. */
int heap_chunk_at(const struct heap *h, uint64_t mem, struct heap_chunk *out,
		  struct err *e);

/* Frees the per-chunk index (a word a chunk) once a caller has taken what
 * it needs from it, e.g. the walker its mark map: afterwards the heap has no
 * chunks (count 0, heap_find and heap_find_containing fail) but keeps its
 * totals, arenas, regions and corruption records.  heap_chunk_at still sizes
 * mmapped chunks and pointers in damaged heaps from their headers; inside an
 * intact heap it answers "no chunk starts here", as it does for any pointer
 * the census did not list, so the caller must keep the census's answer for
 * the chunks it did list. */
void heap_drop_chunks(struct heap *h);

size_t heap_arena_count(const struct heap *h);
const struct heap_arena *heap_arena_get(const struct heap *h, size_t i);

size_t heap_corruption_count(const struct heap *h);
const struct heap_corruption *heap_corruption_get(const struct heap *h, size_t i);

void heap_get_totals(const struct heap *h, struct heap_totals *t);

/* Added by the heap layer (additive): */
/* Number of tcache_perthread_struct chunks found (live threads' caches). */
size_t heap_tcache_count(const struct heap *h);
/* Corruptions found in total (heap_corruption_count keeps at most 10000). */
size_t heap_corruption_total(const struct heap *h);
/* What the census detected about the core's glibc malloc (dep "glibc"):
 * the malloc_state, heap_info, malloc_par and tcache layouts, safe-linking,
 * the tcache key and the release family they agree with, each with its
 * evidence.  Valid until heap_close. */
const struct version_facts *heap_versions(const struct heap *h);

#endif
