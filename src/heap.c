/* heap.c: the census object (include/heap.h): building it in stages, the
 * page index behind heap_find, single-pointer validation and mallinfo2-style
 * totals.
 *
 * Lookup: chunks are kept sorted by address in one array.  Every region (one
 * heap of an arena, or one mmapped chunk) owns a contiguous slice of it; an
 * arena region also owns one slot per 256-byte granule in pidx (4 bytes per
 * 256 of heap: 16 MiB for a 1 GiB heap), holding the index of the first chunk
 * whose user pointer is at or past that granule.  heap_find is then a binary
 * search over the few regions plus a search among the at most 8 chunks that
 * start in one granule, instead of a binary search over millions of chunks
 * (measured in bench/heap.sh).
 */
#include "heap_int.h"
#include "arr.h"
#include "sorted.h"

#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* ---- window reader ---- */

int heap_rd_init(struct heap_rd *r, const struct image *img)
{
	memset(r, 0, sizeof *r);
	r->img = img;
	r->buf = malloc(HEAP_RD_WINDOW);
	return r->buf ? 0 : ERR_NOMEM;
}

void heap_rd_fini(struct heap_rd *r)
{
	free(r->buf);
	r->buf = NULL;
}

static bool rd_fill(struct heap_rd *r, uint64_t addr)
{
	uint64_t base = addr & ~(uint64_t)(HEAP_RD_WINDOW - 1);

	/* pread, not the mmap: the census reads every heap page once, and a
	 * copy costs a fraction of the page faults (and no resident set) */
	r->len = 0;
	if (image_pread(r->img, base, r->buf, HEAP_RD_WINDOW) == HEAP_RD_WINDOW) {
		r->p = r->buf;
	} else if (!r->pread_only && image_read(r->img, base, r->buf, HEAP_RD_WINDOW, NULL) == 0) {
		r->p = r->buf;
	} else {
		return false;
	}
	r->base = base;
	r->len = HEAP_RD_WINDOW;
	return true;
}

bool heap_rd_get(struct heap_rd *r, uint64_t addr, void *out, size_t len)
{
	if (len > 4096 || addr + len < addr)
		return false;
	if (!(r->len && addr >= r->base && addr + len <= r->base + r->len)) {
		/* A read straddling two windows, or in a window that is not
		 * wholly mapped, goes to the image directly. */
		if ((addr & ~(uint64_t)(HEAP_RD_WINDOW - 1)) !=
			    ((addr + len - 1) & ~(uint64_t)(HEAP_RD_WINDOW - 1)) ||
		    !rd_fill(r, addr))
			return r->pread_only ? image_pread(r->img, addr, out, len) == len
					     : image_read(r->img, addr, out, len, NULL) == 0;
	}
	memcpy(out, r->p + (addr - r->base), len);
	return true;
}

/* ---- growing arrays ---- */

static int grow(void **arr, size_t *cap, size_t need, size_t elem, struct err *e)
{
	return arr_grow(arr, cap, need, elem, 64) ? 0 :
		err_set(e, ERR_NOMEM, "heap: out of memory growing to %zu entries", need);
}

int heap_add_corruption(struct heap *h, uint64_t addr, const char *fmt, ...)
{
	struct heap_corruption *c;
	va_list ap;

	h->ncorr_total++;
	if (h->ncorr >= HEAP_MAX_CORRUPTIONS ||
	    grow((void **)&h->corr, &h->capcorr, h->ncorr + 1, sizeof *h->corr, NULL))
		return 0; /* the record is best effort; the count is kept */
	c = &h->corr[h->ncorr++];
	c->addr = addr;
	va_start(ap, fmt);
	vsnprintf(c->what, sizeof c->what, fmt, ap);
	va_end(ap);
	return 0;
}

int heap_push_sizex(struct heap *h, size_t idx, uint64_t size, struct err *e)
{
	int rc = grow((void **)&h->sx, &h->capsx, h->nsx + 1, sizeof *h->sx, e);
	if (rc)
		return rc;
	h->sx[h->nsx++] = (struct heap_sizex){idx, size};
	h->cw[idx] |= HW_SIZEX;
	return 0;
}

int heap_push_chunk(struct heap *h, const struct heap_chunk *c, struct err *e)
{
	int rc = h->cw_fixed ? (h->nchunks < h->capchunks ? 0 : err_set(e, ERR_NOMEM, "heap: census slice full"))
			     : grow((void **)&h->cw, &h->capchunks, h->nchunks + 1, sizeof *h->cw, e);
	if (rc)
		return rc;
	if (h->nchunks && heap_mem_at(h, h->nchunks - 1) + h->last_size != c->mem &&
	    (rc = heap_push_sizex(h, h->nchunks - 1, h->last_size, e)))
		return rc;
	uint64_t arena = c->arena < HW_NO_ARENA ? c->arena : HW_NO_ARENA;
	h->cw[h->nchunks++] = ((c->mem >> 4) & HW_MEM_MASK) | (uint64_t)(c->state & 3) << HW_STATE_SHIFT |
			      (uint64_t)(c->flags & GL_SIZE_BITS) << HW_FLAGS_SHIFT | arena << HW_ARENA_SHIFT;
	h->last_size = c->size;
	return 0;
}

int heap_push_done(struct heap *h, struct err *e)
{
	return h->nchunks && !(h->cw[h->nchunks - 1] & HW_SIZEX) ?
		heap_push_sizex(h, h->nchunks - 1, h->last_size, e) : 0;
}

void heap_set_state(struct heap *h, size_t i, enum heap_state st)
{
	if (i < h->nchunks)
		h->cw[i] = (h->cw[i] & ~(3ull << HW_STATE_SHIFT)) | (uint64_t)(st & 3) << HW_STATE_SHIFT;
}

int heap_push_tcache_candidate(struct heap *h, size_t ci, const struct glibc_tc_layout *l, struct err *e)
{
	int rc = grow((void **)&h->tc_cand, &h->captc_cand, h->ntc_cand + 1, sizeof *h->tc_cand, e);
	if (rc)
		return rc;
	h->tc_cand[h->ntc_cand++] = (struct heap_tc_cand){ ci, l };
	return 0;
}

void heap_reserve_chunks(struct heap *h, size_t n)
{
	void *p;

	if (n <= h->capchunks || n > SIZE_MAX / sizeof *h->cw)
		return;
	p = arr_alloc(n * sizeof *h->cw);   /* huge pages where allowed (arr.c) */
	if (p) {
		if (h->nchunks)
			memcpy(p, h->cw, h->nchunks * sizeof *h->cw);
		free(h->cw);
		h->cw = p;
		h->capchunks = n;
	}
}

/* Gives back the reserve the walk did not use. */
static void shrink_chunks(struct heap *h)
{
	void *p;

	if (!h->nchunks || h->capchunks == h->nchunks)
		return;
	p = realloc(h->cw, h->nchunks * sizeof *h->cw);
	if (p) {
		h->cw = p;
		h->capchunks = h->nchunks;
	}
}

int heap_push_region(struct heap *h, const struct heap_region *r, struct err *e)
{
	int rc = grow((void **)&h->regions, &h->capregions, h->nregions + 1, sizeof *r, e);
	if (rc)
		return rc;
	h->regions[h->nregions++] = *r;
	return 0;
}

/* ---- index ---- */

static int build_index(struct heap *h, struct err *e)
{
	size_t total = 0, k;

	if (h->nchunks >= UINT32_MAX)
		return err_set(e, ERR_NOMEM, "heap: %zu chunks are more than the index holds", h->nchunks);
	for (size_t i = 0; i < h->nregions; i++) {
		struct heap_region *r = &h->regions[i];
		r->page0 = SIZE_MAX;
		r->npages = 0;
		if (r->mmapped || r->end <= r->start)
			continue;
		r->page0 = total;
		r->npages = ((r->end - 1) >> HEAP_GRANULE_SHIFT) - (r->start >> HEAP_GRANULE_SHIFT) + 1;
		total += r->npages;
	}
	h->pidx = malloc((total ? total : 1) * sizeof *h->pidx);
	if (!h->pidx)
		return err_set(e, ERR_NOMEM, "heap: out of memory for the index (%zu granules)", total);
	h->npidx = total;
	for (size_t i = 0; i < h->nregions; i++) {
		const struct heap_region *r = &h->regions[i];
		size_t c = r->first, end = r->first + r->count;
		uint64_t gbase = r->start >> HEAP_GRANULE_SHIFT;
		if (r->page0 == SIZE_MAX)
			continue;
		for (k = 0; k < r->npages; k++) {
			uint64_t g = (gbase + k) << HEAP_GRANULE_SHIFT;
			while (c < end && heap_mem_at(h, c) < g)
				c++;
			h->pidx[r->page0 + k] = (uint32_t)c;
		}
	}
	return 0;
}

/* The region whose [start, end) holds addr, or NULL. */
static const struct heap_region *region_at(const struct heap *h, uint64_t addr)
{
	size_t lo = sorted_upper_bound(h->regions, h->nregions, sizeof *h->regions,
				       offsetof(struct heap_region, start), addr);
	if (lo == 0)
		return NULL;
	const struct heap_region *r = &h->regions[lo - 1];
	return addr < r->end ? r : NULL;
}

/* First index in [lo, hi) whose mem >= key. */
static size_t lower_bound(const struct heap *h, size_t lo, size_t hi, uint64_t key)
{
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (heap_mem_at(h, mid) < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t heap_find(const struct heap *h, uint64_t mem)
{
	const struct heap_region *r = region_at(h, mem - GL_CHUNK_HDR);
	size_t lo, hi, i;

	if (!r || mem < GL_CHUNK_HDR)
		return SIZE_MAX;
	if (r->page0 == SIZE_MAX) {
		lo = r->first;
		hi = r->first + r->count;
	} else {
		size_t k = (mem >> HEAP_GRANULE_SHIFT) - (r->start >> HEAP_GRANULE_SHIFT);
		if (k >= r->npages)
			return SIZE_MAX;
		lo = h->pidx[r->page0 + k];
		hi = k + 1 < r->npages ? h->pidx[r->page0 + k + 1] : r->first + r->count;
	}
	i = lower_bound(h, lo, hi, mem);
	return i < hi && heap_mem_at(h, i) == mem ? i : SIZE_MAX;
}

size_t heap_find_containing(const struct heap *h, uint64_t addr)
{
	const struct heap_region *r = region_at(h, addr);
	size_t i;

	if (!r || r->count == 0)
		return SIZE_MAX;
	/* The last chunk whose header starts at or before addr. */
	i = lower_bound(h, r->first, r->first + r->count, addr + GL_CHUNK_HDR + 1);
	if (i == r->first)
		return SIZE_MAX;
	i--;
	struct heap_chunk c0 = heap_chunk_get(h, i);
	const struct heap_chunk *c = &c0;
	return addr < c->mem - GL_CHUNK_HDR + c->size ? i : SIZE_MAX;
}

uint64_t heap_usable(const struct heap_chunk *c)
{
	/* glibc memsize(): mmapped chunks cannot borrow the next chunk's
	 * prev_size field. */
	uint64_t over = (c->flags & HEAP_F_MMAPPED) ? GL_CHUNK_HDR : GL_SIZE_SZ;
	return c->size >= over ? c->size - over : 0;
}

uint64_t heap_request_chunk(uint64_t request)
{
	/* glibc request2size(): max(MINSIZE, (req + SIZE_SZ + MALLOC_ALIGN_MASK) & ~MALLOC_ALIGN_MASK) */
	uint64_t n = (request + GL_SIZE_SZ + GL_ALIGN - 1) & ~(uint64_t)(GL_ALIGN - 1);
	return n < GL_MINSIZE ? GL_MINSIZE : n;
}

bool heap_chunk_fits(const struct heap_chunk *c, uint64_t request, bool *unsplit)
{
	uint64_t exact = heap_request_chunk(request);
	if (unsplit)
		*unsplit = false;
	if (c->flags & HEAP_F_MMAPPED)   /* sysmalloc: request + SIZE_SZ rounded up to a page */
		return heap_usable(c) >= request && heap_usable(c) - request < GL_PAGE + GL_ALIGN;
	if (c->size == exact)
		return true;
	/* _int_malloc hands a free chunk out whole when the remainder of a
	 * split would be smaller than MINSIZE (the "exhaust" paths of the
	 * bin and binmap searches) */
	if (c->size > exact && c->size - exact < GL_MINSIZE) {
		if (unsplit)
			*unsplit = true;
		return true;
	}
	return false;
}

/* ---- single pointers ---- */

static int corrupt(struct err *e, uint64_t addr, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int corrupt(struct err *e, uint64_t addr, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return ERR_CORRUPT;
	e->code = ERR_CORRUPT;
	e->addr = addr;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return ERR_CORRUPT;
}

/* An mmapped chunk has no neighbours: its header must describe a whole,
 * page-aligned mapping (prev_size is the memalign lead, glibc munmap_chunk). */
static int chunk_at_mmapped(const struct heap *h, uint64_t mem, uint64_t prev, uint64_t size,
			    struct heap_chunk *out, struct err *e)
{
	uint64_t chunk = mem - GL_CHUNK_HDR, base = chunk - prev, total = prev + size;

	if (prev > chunk || (base & (GL_PAGE - 1)) || total < size || (total & (GL_PAGE - 1)) ||
	    !image_mapped(h->img, base, GL_PAGE) || !image_mapped(h->img, base + total - GL_PAGE, GL_PAGE))
		return corrupt(e, chunk, "heap: mmapped chunk header at 0x%llx does not describe a mapping "
			       "(prev_size 0x%llx, size 0x%llx)", (unsigned long long)chunk,
			       (unsigned long long)prev, (unsigned long long)size);
	out->mem = mem;
	out->size = size;
	out->flags = HEAP_F_MMAPPED;
	out->arena = HEAP_NO_ARENA;
	out->state = HEAP_INUSE;
	return 0;
}

/* The arena index owning a heap chunk at chunk with header flags, or
 * HEAP_NO_ARENA: the region it lies in, else heap_info.ar_ptr for a
 * NON_MAIN_ARENA chunk (glibc heap_for_ptr). */
static uint16_t arena_of(const struct heap *h, uint64_t chunk, uint64_t hdr)
{
	const struct heap_region *r = region_at(h, chunk);
	uint64_t ar;

	if (r)
		return r->arena;
	if (!(hdr & HEAP_F_NON_MAIN)) {
		for (size_t i = 0; i < h->narenas; i++)
			if (h->arenas[i].main)
				return (uint16_t)i;
		return HEAP_NO_ARENA;
	}
	if (image_read_u64(h->img, chunk & ~(GL_HEAP_MAX - 1), &ar, NULL))
		return HEAP_NO_ARENA;
	for (size_t i = 0; i < h->narenas; i++)
		if (h->arenas[i].addr == ar)
			return (uint16_t)i;
	return HEAP_NO_ARENA;
}

int heap_chunk_at(const struct heap *h, uint64_t mem, struct heap_chunk *out, struct err *e)
{
	size_t i = heap_find(h, mem);
	uint64_t w[2], nx[2], chunk = mem - GL_CHUNK_HDR, size, nsize;
	const struct heap_region *r;

	if (i != SIZE_MAX) {
		*out = heap_chunk_get(h, i);
		return 0;
	}
	if ((mem & (GL_ALIGN - 1)) || mem < GL_CHUNK_HDR)
		return corrupt(e, mem, "heap: 0x%llx is not 16-byte aligned, so not a malloc pointer",
			       (unsigned long long)mem);
	if (image_read(h->img, chunk, w, sizeof w, NULL))
		return err_fault(e, mem, "heap: the header of 0x%llx is not in the core",
				 (unsigned long long)mem);
	size = w[1] & ~(uint64_t)GL_SIZE_BITS;
	if (size < GL_MINSIZE || (size & (GL_ALIGN - 1)) || chunk + size < chunk)
		return corrupt(e, chunk, "heap: chunk header at 0x%llx has an impossible size field 0x%llx",
			       (unsigned long long)chunk, (unsigned long long)w[1]);
	if (w[1] & HEAP_F_MMAPPED)
		return chunk_at_mmapped(h, mem, w[0], size, out, e);
	/* An intact region was walked header by header: no chunk starts
	 * anywhere else in it.  In a damaged one, the neighbours decide. */
	r = region_at(h, chunk);
	if (r && !r->mmapped && !r->damaged)
		return corrupt(e, chunk, "heap: 0x%llx is inside heap 0x%llx-0x%llx but no chunk starts at 0x%llx",
			       (unsigned long long)mem, (unsigned long long)r->start, (unsigned long long)r->end,
			       (unsigned long long)chunk);
	/* A heap chunk is followed by another header: a chunk, the top chunk
	 * or a fencepost (size 16). */
	if (image_read(h->img, chunk + size, nx, sizeof nx, NULL))
		return corrupt(e, chunk, "heap: chunk at 0x%llx (size 0x%llx) runs past mapped memory",
			       (unsigned long long)chunk, (unsigned long long)size);
	nsize = nx[1] & ~(uint64_t)GL_SIZE_BITS;
	if (nsize < GL_CHUNK_HDR || (nsize & (GL_ALIGN - 1)) || (nx[1] & HEAP_F_MMAPPED))
		return corrupt(e, chunk + size, "heap: the chunk after 0x%llx has an impossible header 0x%llx",
			       (unsigned long long)chunk, (unsigned long long)nx[1]);
	if (!(nx[1] & HEAP_F_PREV_INUSE) && nx[0] != size)
		return corrupt(e, chunk, "heap: chunk at 0x%llx looks free but the next prev_size 0x%llx != size 0x%llx",
			       (unsigned long long)chunk, (unsigned long long)nx[0], (unsigned long long)size);
	out->mem = mem;
	out->size = size;
	out->flags = (uint32_t)(w[1] & GL_SIZE_BITS);
	out->arena = arena_of(h, chunk, w[1]);
	out->state = (nx[1] & HEAP_F_PREV_INUSE) ? HEAP_INUSE : HEAP_FREE;
	return 0;
}

/* ---- the census ---- */

/* Per-arena figures from the chunk states; system_bytes, the tcache and
 * fastbin split were filled by the walk and the cache marking. */
static void arena_stats(struct heap *h)
{
	for (size_t i = 0; i < h->nchunks; i++) {
		struct heap_chunk c0 = heap_chunk_get(h, i);
	const struct heap_chunk *c = &c0;
		struct heap_arena *a;
		if (c->arena == HEAP_NO_ARENA || c->arena >= h->narenas)
			continue;
		a = &h->arenas[c->arena];
		switch (c->state) {
		case HEAP_INUSE:
			a->inuse_bytes += c->size;
			a->inuse_chunks++;
			break;
		case HEAP_CACHED:
			a->cached_bytes += c->size;
			a->cached_chunks++;
			break;
		default:
			if (c->mem - GL_CHUNK_HDR == h->ms[c->arena].top) {
				a->top_bytes += c->size;
			} else {
				a->free_bytes += c->size;
				a->free_chunks++;
			}
		}
	}
	for (size_t i = 0; i < h->narenas; i++) {
		struct heap_arena *a = &h->arenas[i];
		uint64_t chunks = a->inuse_bytes + a->cached_bytes + a->free_bytes + a->top_bytes;
		a->overhead_bytes = a->system_bytes > chunks ? a->system_bytes - chunks : 0;
		if (a->system_bytes != a->system_mem)
			heap_add_corruption(h, a->addr, "arena system_mem 0x%llx but its heaps span 0x%llx bytes",
					    (unsigned long long)a->system_mem,
					    (unsigned long long)a->system_bytes);
	}
	if (h->have_mp && ((uint64_t)(int64_t)h->mp_n_mmaps != h->mmapped_chunks ||
			   h->mp_mmapped_mem != h->mmapped_bytes))
		heap_add_corruption(h, h->mp_addr, "mp_ says %d mmapped chunks / %llu bytes, the scan found %zu / %llu",
				    h->mp_n_mmaps, (unsigned long long)h->mp_mmapped_mem, h->mmapped_chunks,
				    (unsigned long long)h->mmapped_bytes);
}

int heap_open(struct heap **out, const struct image *img, struct err *e)
{
	return heap_open_jobs(out, img, 1, e);
}

unsigned heap_jobs(const struct heap *h) { return h->jobs; }

int heap_open_jobs(struct heap **out, const struct image *img, unsigned jobs, struct err *e)
{
	struct heap *h = calloc(1, sizeof *h);
	struct heap_rd rd;
	int rc;

	*out = NULL;
	if (!h)
		return err_set(e, ERR_NOMEM, "heap: out of memory");
	h->img = img;
	h->jobs = jobs ? jobs : 1;
	h->glibc_rows = GLIBC_ALL;
	if ((rc = heap_rd_init(&rd, img))) {
		free(h);
		return err_set(e, rc, "heap: out of memory");
	}
	rc = heap_find_arenas(h, &rd, e);
	if (!rc)
		rc = heap_walk_all(h, &rd, e);
	if (!rc)
		rc = heap_push_done(h, e);
	if (!rc) {
		shrink_chunks(h);
		rc = build_index(h, e);
	}
	if (!rc)
		rc = heap_mark_cached(h, &rd, e);
	if (!rc && heap_glibc_summary(h))
		rc = err_set(e, ERR_NOMEM, "heap: out of memory");
	heap_rd_fini(&rd);
	if (rc) {
		heap_close(h);
		return rc;
	}
	arena_stats(h);
	*out = h;
	return 0;
}

void heap_close(struct heap *h)
{
	if (!h)
		return;
	free(h->cw);
	free(h->sx);
	free(h->tc_cand);
	free(h->arenas);
	free(h->ms);
	free(h->regions);
	free(h->pidx);
	free(h->corr);
	version_facts_deinit(&h->versions);
	free(h);
}

size_t heap_chunk_count(const struct heap *h) { return h->nchunks; }

void heap_drop_chunks(struct heap *h)
{
	free(h->cw);
	free(h->sx);
	free(h->pidx);
	free(h->tc_cand);
	h->cw = NULL;
	h->sx = NULL;
	h->pidx = NULL;
	h->tc_cand = NULL;
	h->nchunks = h->capchunks = h->nsx = h->capsx = h->npidx = h->ntc_cand = h->captc_cand = 0;
	for (size_t i = 0; i < h->nregions; i++) {
		h->regions[i].first = h->regions[i].count = 0;
		h->regions[i].page0 = SIZE_MAX;
		h->regions[i].npages = 0;
	}
}

struct heap_chunk heap_chunk_get(const struct heap *h, size_t i)
{
	struct heap_chunk c = {0};
	if (i >= h->nchunks)
		return c;
	uint64_t w = h->cw[i];
	uint32_t arena = (uint32_t)(w >> HW_ARENA_SHIFT);
	c.mem = (w & HW_MEM_MASK) << 4;
	c.state = (uint8_t)((w >> HW_STATE_SHIFT) & 3);
	c.flags = (uint32_t)((w >> HW_FLAGS_SHIFT) & GL_SIZE_BITS);
	c.arena = arena == HW_NO_ARENA ? HEAP_NO_ARENA : (uint16_t)arena;
	if (w & HW_SIZEX) {
		size_t k = sorted_find(h->sx, h->nsx, sizeof *h->sx, offsetof(struct heap_sizex, idx), i);
		c.size = k != SIZE_MAX ? h->sx[k].size : 0;
	} else {
		c.size = i + 1 < h->nchunks ? heap_mem_at(h, i + 1) - c.mem : 0;
	}
	return c;
}

size_t heap_arena_count(const struct heap *h) { return h->narenas; }

const struct heap_arena *heap_arena_get(const struct heap *h, size_t i)
{
	return i < h->narenas ? &h->arenas[i] : NULL;
}

size_t heap_corruption_count(const struct heap *h) { return h->ncorr; }

const struct heap_corruption *heap_corruption_get(const struct heap *h, size_t i)
{
	return i < h->ncorr ? &h->corr[i] : NULL;
}

size_t heap_corruption_total(const struct heap *h) { return h->ncorr_total; }

size_t heap_tcache_count(const struct heap *h) { return h->ntcache; }

const struct version_facts *heap_versions(const struct heap *h) { return &h->versions; }

/* glibc int_mallinfo, summed over arenas: avail = top + fastbin chunks + bin
 * chunks; uordblks = system_mem - avail (tcache chunks therefore count as in
 * use); hblks/hblkhd are mp_.n_mmaps / mp_.mmapped_mem, which the mmapped
 * scan reproduces; keepcost is the main arena's top. */
void heap_get_totals(const struct heap *h, struct heap_totals *t)
{
	memset(t, 0, sizeof *t);
	for (size_t i = 0; i < h->narenas; i++) {
		const struct heap_arena *a = &h->arenas[i];
		uint64_t avail = a->top_bytes + a->free_bytes + a->fastbin_bytes;
		t->arena += a->system_bytes;
		t->ordblks += a->free_chunks + 1;
		t->smblks += a->fastbin_chunks;
		t->fsmblks += a->fastbin_bytes;
		t->fordblks += avail;
		t->uordblks += a->system_bytes > avail ? a->system_bytes - avail : 0;
		if (a->main)
			t->keepcost = a->top_bytes;
	}
	t->hblks = h->mmapped_chunks;
	t->hblkhd = h->mmapped_bytes;
}
