/* heap_walk.c: the regions of every arena, the mmapped chunks, and the walk
 * over every chunk header in them.
 *
 * Regions:
 *   - main arena: the brk heap, [mp_.sbrk_base, top + size(top)); without mp_
 *     its start is top_end - main_arena.system_mem (a contiguous main arena
 *     holds exactly system_mem bytes from sbrk_base to the end of top).
 *   - thread arena: the heap holding top is top & ~(HEAP_MAX_SIZE-1); older
 *     heaps follow heap_info.prev.  Chunks start after heap_info (and after
 *     the malloc_state, 16-aligned, in the first heap: glibc _int_new_arena)
 *     and end at heap + heap_info.size; a heap that is not the last ends in a
 *     fencepost (a size-0 header after a 16-byte chunk or the 16/32-byte
 *     rest of the old top: glibc sysmalloc), counted as overhead.
 *   - mmapped chunks (chap's method): page-aligned prev_size 0 / size with
 *     flags exactly IS_MMAPPED in writable anonymous memory that no arena
 *     claims; a memalign'ed one has its real header further in, with
 *     prev_size = the lead (glibc _int_memalign), found by looking for it.
 *
 * Corruption: a header whose size is zero, unaligned or runs past the region
 * is recorded with its address, and the walk resyncs: it looks, 16 bytes at a
 * time, for the next address from which a chain of 16 plausible headers (or
 * fewer that end exactly at top or the region end) starts, and carries on
 * there; the bytes skipped count as overhead.  A region that cannot be
 * resynced is abandoned from that point, with a record.
 */
#include "heap_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum { RESYNC_CHAIN = 16, MEMALIGN_SCAN = 1 << 20, RELEASE_STEP = 16 << 20 };

struct chunk_walk {
	struct heap *h;
	struct heap_rd *rd;
	uint64_t top;      /* the arena's top chunk (0: not in this region) */
	bool main;
};

/* ---- regions ---- */

static int main_region(struct heap *h, struct heap_rd *rd, struct heap_region *r, bool *have)
{
	const struct heap_ms *m = &h->ms[0];
	uint64_t hdr, size, end, start;

	*have = false;
	if (m->top == m->addr + h->msl->bins - GL_FD)
		return 0; /* initial_top: the main arena never got memory */
	if (!heap_rd_u64(rd, m->top + 8, &hdr)) {
		/* A filtered core without top's page (the read faults, never
		 * zeros): the heap still ends where mp_.sbrk_base + system_mem
		 * says, and the chunk walk stops at the first header missing. */
		uint64_t sbrk_end = h->mp_sbrk_base + m->system_mem;
		if (!h->have_mp || !image_missing(h->img, m->top + 8, 8) || sbrk_end <= m->top + GL_CHUNK_HDR)
			return heap_add_corruption(h, m->top, "main arena top chunk is not in the core");
		int rc = heap_add_corruption(h, m->top, "main arena top chunk not saved in the core: heap end "
					     "from mp_.sbrk_base + system_mem");
		if (rc)
			return rc;
		hdr = sbrk_end - m->top;
	}
	size = hdr & ~(uint64_t)GL_SIZE_BITS;
	end = m->top + size;
	if (end < m->top || (size & (GL_ALIGN - 1)))
		return heap_add_corruption(h, m->top, "main arena top chunk has a bad size 0x%llx",
					   (unsigned long long)hdr);
	/* the top chunk lies in the core's segment that holds it: a hostile size
	 * must not size the census (1 TiB of claimed heap was 1 GB of index) */
	const struct image_segment *sg = image_segment_at(h->img, m->top);
	if (sg && end > sg->end) {
		int rc = heap_add_corruption(h, m->top, "main arena top chunk size 0x%llx runs past its segment's end "
					     "0x%llx: clipped", (unsigned long long)size, (unsigned long long)sg->end);
		if (rc)
			return rc;
		end = sg->end;
	}
	if (m->flags & GL_NONCONTIGUOUS)
		heap_add_corruption(h, m->addr, "main arena is non-contiguous: only the part holding top is walked");
	start = end - m->system_mem;
	if (h->have_mp && h->mp_sbrk_base != start) {
		heap_add_corruption(h, h->mp_sbrk_base, "mp_.sbrk_base 0x%llx but top end - system_mem is 0x%llx",
				    (unsigned long long)h->mp_sbrk_base, (unsigned long long)start);
		start = h->mp_sbrk_base;
	}
	if (start > m->top || end - start > ((uint64_t)1 << 46) || (start & (GL_ALIGN - 1)) ||
	    !image_mapped(h->img, start, GL_CHUNK_HDR))
		return heap_add_corruption(h, start, "main heap start 0x%llx is not usable",
					   (unsigned long long)start);
	memset(r, 0, sizeof *r);
	r->start = r->map_start = start;
	r->end = end;
	r->arena = 0;
	r->has_top = true;
	h->arenas[0].system_bytes = end - start;
	*have = true;
	return 0;
}

/* The heaps of thread arena ai, newest first, appended to h->regions. */
static int thread_regions(struct heap *h, struct heap_rd *rd, size_t ai, struct err *e)
{
	const struct heap_ms *m = &h->ms[ai];
	uint64_t hi = m->top & ~(GL_HEAP_MAX - 1);
	int rc;

	while (hi) {
		uint64_t w[4];
		struct heap_region r = { 0 };
		/* One budget for all arenas: a heap_info chain that loops is
		 * cut here, and its repeats dropped as overlapping regions. */
		if (h->nregions >= HEAP_MAX_HEAPS)
			return heap_add_corruption(h, m->addr, "more than %d heaps in all arenas", HEAP_MAX_HEAPS);
		if ((hi & (GL_HEAP_MAX - 1)) || !heap_rd_get(rd, hi, w, sizeof w))
			return heap_add_corruption(h, hi, "heap_info of arena 0x%llx is not in the core",
						   (unsigned long long)m->addr);
		if (w[0] != m->addr || !w[2] || w[2] > GL_HEAP_MAX || (w[2] & (GL_PAGE - 1)))
			return heap_add_corruption(h, hi, "heap_info does not belong to arena 0x%llx (ar_ptr 0x%llx, size 0x%llx)",
						   (unsigned long long)m->addr, (unsigned long long)w[0],
						   (unsigned long long)w[2]);
		r.map_start = hi;
		r.start = hi + h->hinfo_size;
		if (w[1] == 0) {
			/* First heap: the malloc_state follows heap_info, and the
			 * first chunk is placed so its user pointer is aligned. */
			uint64_t p = m->addr + h->msl->size;
			uint64_t mis = (p + GL_CHUNK_HDR) & (GL_ALIGN - 1);
			r.start = mis ? p + GL_ALIGN - mis : p;
		}
		r.end = hi + w[2];
		r.arena = (uint16_t)ai;
		r.has_top = m->top >= r.start && m->top < r.end;
		if (r.start >= r.end)
			return heap_add_corruption(h, hi, "heap_info size 0x%llx leaves no room for chunks",
						   (unsigned long long)w[2]);
		if ((rc = heap_push_region(h, &r, e)))
			return rc;
		h->arenas[ai].system_bytes += w[2];
		h->arenas[ai].nheaps++;
		hi = w[1];
	}
	return 0;
}

/* ---- mmapped chunks ---- */

static int cmp_region(const void *a, const void *b)
{
	const struct heap_region *x = a, *y = b;
	return x->map_start < y->map_start ? -1 : x->map_start > y->map_start;
}

/* End of the arena region (64 MiB reservation for thread heaps) holding
 * addr, or 0.  regions[0..n) are the arena regions sorted by map_start. */
static uint64_t claimed_end(const struct heap *h, size_t n, uint64_t addr)
{
	for (size_t i = 0; i < n; i++) {
		const struct heap_region *r = &h->regions[i];
		uint64_t end = r->arena == 0 ? r->end : r->map_start + GL_HEAP_MAX;
		if (addr >= r->map_start && addr < end)
			return end;
	}
	return 0;
}

/* The memalign'ed chunk inside the mapping at base of total bytes: the
 * offset k of a header (prev_size k, size (total-k)|IS_MMAPPED), or 0. */
static uint64_t memalign_lead(struct heap_rd *rd, uint64_t base, uint64_t total)
{
	uint64_t lim = total - GL_PAGE < MEMALIGN_SCAN ? total - GL_PAGE : MEMALIGN_SCAN;
	uint64_t blk[GL_PAGE / 8];

	for (uint64_t off = 0; off < lim; off += GL_PAGE) {
		if (!heap_rd_get(rd, base + off, blk, sizeof blk))
			return 0;
		for (size_t i = off ? 0 : 2; i + 1 < GL_PAGE / 8; i += 2) {
			uint64_t k = off + i * 8;
			if (blk[i] == k && blk[i + 1] == ((total - k) | HEAP_F_MMAPPED) && k >= GL_MINSIZE)
				return k;
		}
	}
	return 0;
}

static int scan_mmapped(struct heap *h, struct heap_rd *rd, size_t narena_regions, struct err *e)
{
	size_t nseg = image_segment_count(h->img);
	int rc;

	for (size_t s = 0; s < nseg; s++) {
		const struct image_segment *sg = image_segment(h->img, s);
		uint64_t a = (sg->start + GL_PAGE - 1) & ~(uint64_t)(GL_PAGE - 1);
		/* Headers can only be in the dumped part (the rest reads as
		 * zeros), which also bounds the scan by the core's size. */
		uint64_t dumped = sg->start + (sg->filesz < sg->end - sg->start ? sg->filesz : sg->end - sg->start);
		if (!(sg->flags & IMAGE_W) || sg->file)
			continue;
		while (a >= sg->start && a + GL_PAGE <= dumped) {
			uint64_t w[2], size, c, k;
			struct heap_region r = { 0 };
			if ((c = claimed_end(h, narena_regions, a))) {
				a = (c + GL_PAGE - 1) & ~(uint64_t)(GL_PAGE - 1);
				continue;
			}
			size = 0;
			if (heap_rd_get(rd, a, w, sizeof w) && w[0] == 0 && (w[1] & (GL_PAGE - 1)) == HEAP_F_MMAPPED)
				size = w[1] & ~(uint64_t)GL_SIZE_BITS;
			if (size < GL_PAGE || size > sg->end - a) {
				a += GL_PAGE;
				continue;
			}
			k = memalign_lead(rd, a, size);
			r.map_start = a;
			r.start = a + k;
			r.end = a + size;
			r.arena = HEAP_NO_ARENA;
			r.mmapped = true;
			if ((rc = heap_push_region(h, &r, e)))
				return rc;
			h->mmapped_chunks++;
			h->mmapped_bytes += size;
			a += size;
		}
	}
	return 0;
}

/* ---- the walk ---- */

static bool hdr_size(struct chunk_walk *w, uint64_t p, uint64_t *hdr)
{
	return heap_rd_u64(w->rd, p + 8, hdr);
}

/* True when a chain of plausible headers starts at p (resync test). */
static bool chain_ok(struct chunk_walk *w, const struct heap_region *r, uint64_t p)
{
	for (int n = 0; n < RESYNC_CHAIN; n++) {
		uint64_t hdr, size;
		if (p == w->top || p == r->end)
			return true;
		if (!hdr_size(w, p, &hdr))
			return false;
		size = hdr & ~(uint64_t)GL_SIZE_BITS;
		if ((hdr & HEAP_F_MMAPPED) || size < GL_MINSIZE || (size & (GL_ALIGN - 1)) ||
		    size > r->end - p || (w->top > p && p + size > w->top))
			return false;
		p += size;
	}
	return true;
}

static uint64_t resync(struct chunk_walk *w, const struct heap_region *r, uint64_t p)
{
	for (uint64_t q = p + GL_ALIGN; q + GL_CHUNK_HDR <= r->end; q += GL_ALIGN)
		if (chain_ok(w, r, q))
			return q;
	return r->end;
}

static int push(struct chunk_walk *w, const struct heap_region *r, uint64_t p, uint64_t size,
		uint64_t hdr, int state, struct err *e)
{
	struct heap_chunk c = {
		.mem = p + GL_CHUNK_HDR, .size = size, .flags = (uint32_t)(hdr & GL_SIZE_BITS),
		.arena = r->arena, .state = (uint8_t)state,
	};
	/* A tcache is looked for among chunks of its size under each layout
	 * of the version table; whether one could be is decided here, while
	 * its bytes are in the census's window, so that the search does not
	 * read the whole heap a second time. */
	if (state == HEAP_INUSE && r->arena != HEAP_NO_ARENA)
		for (size_t k = 0; k < glibc_n_tc_layouts; k++) {
			const struct glibc_tc_layout *l = glibc_tc_layouts[k];
			if (size == l->chunk_size && heap_tcache_plausible(w->rd, c.mem, l)) {
				int rc = heap_push_tcache_candidate(w->h, w->h->nchunks, l, e);
				if (rc)
					return rc;
			}
		}
	return heap_push_chunk(w->h, &c, e);
}

/* Checks on a well-sized chunk that do not stop the walk. */
static void soft_checks(struct chunk_walk *w, uint64_t p, uint64_t size, uint64_t hdr, uint64_t next_prev, bool inuse)
{
	if (hdr & HEAP_F_MMAPPED)
		heap_add_corruption(w->h, p, "heap chunk has IS_MMAPPED set (size field 0x%llx)",
				    (unsigned long long)hdr);
	else if (w->main && (hdr & HEAP_F_NON_MAIN))
		heap_add_corruption(w->h, p, "main-arena chunk has NON_MAIN_ARENA set");
	else if (!w->main && inuse && !(hdr & HEAP_F_NON_MAIN))
		heap_add_corruption(w->h, p, "thread-arena chunk in use without NON_MAIN_ARENA");
	if (!inuse && next_prev != size)
		heap_add_corruption(w->h, p, "free chunk of size 0x%llx but next prev_size is 0x%llx",
				    (unsigned long long)size, (unsigned long long)next_prev);
}

/* A heap that is not the arena's last ends where sysmalloc closed it (glibc
 * sysmalloc, non-main branch, the same from 2.26 to 2.41): a header of size
 * 0 in the last 16 bytes of the heap (the old top reached the heap's
 * page-aligned end),
 * preceded by a 16-byte chunk (the old top was big enough to be freed) or by
 * what was left of the old top (16 or 32 bytes, PREV_INUSE only).  Anywhere
 * else a size of 0 is corruption.  size is the size field of the chunk at p. */
static bool fencepost(struct chunk_walk *w, const struct heap_region *r, uint64_t p, uint64_t size)
{
	uint64_t nx[2];

	if (size == 0)
		return p == r->end - GL_CHUNK_HDR;
	if (size > GL_MINSIZE || p + size != r->end - GL_CHUNK_HDR || !heap_rd_2u64(w->rd, p + size, nx))
		return false;
	return (nx[1] & ~(uint64_t)GL_SIZE_BITS) == 0;
}

static int region_chunks(struct chunk_walk *w, const struct heap_region *r, struct err *e)
{
	uint64_t p = r->start, hdr = 0, size, nx[2], released = r->start;
	bool have_hdr = false; /* hdr already read as the previous chunk's next */
	int rc;

	while (p < r->end) {
		if (p - released >= RELEASE_STEP) {
			/* the census reads in address order: give the pages behind back */
			image_release(w->h->img, released, p);
			released = p;
		}
		if (p == w->top) {
			if (!have_hdr && !hdr_size(w, p, &hdr))
				return heap_add_corruption(w->h, p, "top chunk header is not in the core");
			size = hdr & ~(uint64_t)GL_SIZE_BITS;
			if (p + size != r->end)
				heap_add_corruption(w->h, p, "top chunk of size 0x%llx does not end at the heap end 0x%llx",
						    (unsigned long long)size, (unsigned long long)r->end);
			if (size > r->end - p)
				size = r->end - p;
			return push(w, r, p, size, hdr, HEAP_FREE, e);
		}
		if (r->end - p < GL_CHUNK_HDR || (!have_hdr && !hdr_size(w, p, &hdr)))
			return heap_add_corruption(w->h, p, "chunk header at the heap end is cut off or missing");
		have_hdr = false;
		size = hdr & ~(uint64_t)GL_SIZE_BITS;
		if (!r->has_top && fencepost(w, r, p, size))
			return 0; /* the rest of this heap is glibc's fencepost */
		if (size < GL_MINSIZE || (size & (GL_ALIGN - 1)) || size > r->end - p ||
		    (w->top > p && p + size > w->top)) {
			uint64_t q = resync(w, r, p);
			heap_add_corruption(w->h, p, "bad chunk size field 0x%llx; %s 0x%llx bytes",
					    (unsigned long long)hdr, q < r->end ? "resynced after" : "abandoned the heap's last",
					    (unsigned long long)(q - p));
			p = q;
			continue;
		}
		if (p + size == r->end) {
			/* Nothing may end a heap but top or a fencepost. */
			heap_add_corruption(w->h, p, "chunk of size 0x%llx runs to the heap end", (unsigned long long)size);
			return push(w, r, p, size, hdr, HEAP_INUSE, e);
		}
		if (!heap_rd_2u64(w->rd, p + size, nx))
			return heap_add_corruption(w->h, p + size, "chunk header is not in the core");
		soft_checks(w, p, size, hdr, nx[0], nx[1] & HEAP_F_PREV_INUSE);
		if ((rc = push(w, r, p, size, hdr, (nx[1] & HEAP_F_PREV_INUSE) ? HEAP_INUSE : HEAP_FREE, e)))
			return rc;
		p += size;
		hdr = nx[1];
		have_hdr = true;
	}
	return 0;
}

static int walk_region(struct chunk_walk *w, const struct heap_region *r, struct err *e)
{
	int rc = region_chunks(w, r, e);
	image_release(w->h->img, r->map_start, r->end);
	return rc;
}

static int walk_mmapped(struct chunk_walk *w, const struct heap_region *r, struct err *e)
{
	uint64_t hdr = HEAP_F_MMAPPED;
	w->top = 0;
	return push(w, r, r->start, r->end - r->start, hdr, HEAP_INUSE, e);
}

/* At most one chunk per 32 bytes (MINSIZE) of arena heap, one per mmapped
 * region: reserving that up front spares the copies of a growing array, and
 * costs nothing for the pages never written (malloc maps big blocks). */
static size_t chunk_bound(const struct heap *h)
{
	uint64_t n = 16;
	for (size_t i = 0; i < h->nregions; i++) {
		const struct heap_region *r = &h->regions[i];
		n += r->mmapped ? 1 : (r->end - r->start) / GL_MINSIZE + 1;
		if (n > ((uint64_t)1 << 32))
			return 0;
	}
	return (size_t)n;
}

/* Drops regions that overlap an earlier one (a heap_info chain that loops,
 * a false mmapped header inside a heap) with a record. */
static void drop_overlaps(struct heap *h)
{
	size_t out = 0;

	for (size_t i = 0; i < h->nregions; i++) {
		struct heap_region *r = &h->regions[i];
		if (out && r->map_start < h->regions[out - 1].end) {
			heap_add_corruption(h, r->map_start, "region 0x%llx-0x%llx overlaps another; ignored",
					    (unsigned long long)r->map_start, (unsigned long long)r->end);
			continue;
		}
		h->regions[out++] = *r;
	}
	h->nregions = out;
}

/* Walks the chunks of regions r[0..n), pushing them (and the corruption
 * and tcache candidates found) into dst; the arenas are info's. */
static int walk_regions(struct heap *dst, const struct heap *info, struct heap_rd *rd, struct heap_region *r,
			size_t n, struct err *e)
{
	for (size_t i = 0; i < n; i++, r++) {
		struct chunk_walk w = { .h = dst, .rd = rd };
		size_t before = dst->ncorr_total;
		int rc;
		r->first = dst->nchunks;
		if (r->mmapped) {
			rc = walk_mmapped(&w, r, e);
		} else {
			w.main = info->arenas[r->arena].main;
			w.top = r->has_top ? info->ms[r->arena].top : 0;
			rc = walk_region(&w, r, e);
		}
		if (rc)
			return rc;
		r->count = dst->nchunks - r->first;
		r->damaged = dst->ncorr_total != before;
	}
	return 0;
}

/* ---- the census on several threads ----
 *
 * The regions are cut into runs of about equal bytes, one a thread.  Each
 * thread walks its run into a heap of its own whose chunk words are a slice
 * of the census's array (at the bound chunk_bound reserved for the regions
 * before it), with its own corruption records, size exceptions and tcache
 * candidates; the slices are then moved together and the records appended
 * in region order, so that the census is the one a single thread takes,
 * word for word.  Only when every region lies in the core's file-backed
 * part (the threads read with image_pread alone) and the reserve is there;
 * otherwise, or when a slice fills up, the census is taken on one thread. */
enum { CENSUS_MAX_PARTS = 16 };

struct census_part {
	struct heap sub;
	const struct heap *h;
	struct heap_region *r;
	size_t n;
	int rc;
	struct err e;
	pthread_t th;
	bool started;
};

static void *part_run(void *arg)
{
	struct census_part *p = arg;
	struct heap_rd rd;
	if ((p->rc = heap_rd_init(&rd, p->h->img))) {
		err_set(&p->e, p->rc, "heap: out of memory");
		return NULL;
	}
	rd.pread_only = true;
	p->rc = walk_regions(&p->sub, p->h, &rd, p->r, p->n, &p->e);
	heap_rd_fini(&rd);
	return NULL;
}

static void part_free(struct census_part *p)
{
	free(p->sub.sx);
	free(p->sub.corr);
	free(p->sub.tc_cand);
}

/* Appends part p's results to h (whose chunks so far end where p's slice
 * is moved to). */
static int part_merge(struct heap *h, struct census_part *p, struct err *e)
{
	size_t base = h->nchunks, n = p->sub.nchunks;
	int rc;
	if (n) {
		uint64_t first = (p->sub.cw[0] & HW_MEM_MASK) << 4;
		if (base && heap_mem_at(h, base - 1) + h->last_size != first &&
		    (rc = heap_push_sizex(h, base - 1, h->last_size, e)))
			return rc;
		if (p->sub.cw != h->cw + base)
			memmove(h->cw + base, p->sub.cw, n * sizeof *h->cw);
		h->nchunks += n;
		h->last_size = p->sub.last_size;
	}
	for (size_t i = 0; i < p->sub.nsx; i++)
		if ((rc = heap_push_sizex(h, base + p->sub.sx[i].idx, p->sub.sx[i].size, e)))
			return rc;
	for (size_t i = 0; i < p->sub.ntc_cand; i++)
		if ((rc = heap_push_tcache_candidate(h, base + p->sub.tc_cand[i].ci, p->sub.tc_cand[i].l, e)))
			return rc;
	for (size_t i = 0; i < p->sub.ncorr; i++) {
		size_t total = h->ncorr_total;
		heap_add_corruption(h, p->sub.corr[i].addr, "%s", p->sub.corr[i].what);
		h->ncorr_total = total;
	}
	h->ncorr_total += p->sub.ncorr_total;
	for (size_t i = 0; i < p->n; i++)
		p->r[i].first += base;
	return 0;
}

/* ERR_NOTFOUND: not taken on several threads (nothing changed; take it on one). */
static int walk_parallel(struct heap *h, struct err *e)
{
	struct census_part parts[CENSUS_MAX_PARTS];
	size_t nparts = h->jobs < CENSUS_MAX_PARTS ? h->jobs : CENSUS_MAX_PARTS, np = 0;
	uint64_t total = 0, bound = 0;
	int rc = 0;

	if (h->nregions < 2 || h->nchunks != 0 || !h->cw)
		return ERR_NOTFOUND;
	for (size_t i = 0; i < h->nregions; i++) {
		const struct heap_region *r = &h->regions[i];
		uint64_t lo = r->mmapped ? r->map_start : r->start;
		if (r->end <= lo || !image_ptr(h->img, lo, (size_t)(r->end - lo)))
			return ERR_NOTFOUND;
		total += r->end - lo;
		bound += r->mmapped ? 1 : (r->end - r->start) / GL_MINSIZE + 1;
	}
	if (bound > h->capchunks)
		return ERR_NOTFOUND;
	if (nparts > h->nregions)
		nparts = h->nregions;
	/* runs of regions of about total / nparts bytes each, their slices at
	 * the bound of the regions before them */
	size_t i = 0;
	uint64_t done = 0, at = 0;
	for (size_t k = 0; k < nparts && i < h->nregions; k++) {
		struct census_part *p = &parts[np++];
		memset(p, 0, sizeof *p);
		p->h = h;
		p->r = &h->regions[i];
		p->sub.img = h->img;
		p->sub.cw = h->cw + at;
		p->sub.cw_fixed = true;
		uint64_t goal = total / nparts * (k + 1), cap = 0;
		do {
			const struct heap_region *r = &h->regions[i];
			done += r->end - (r->mmapped ? r->map_start : r->start);
			cap += r->mmapped ? 1 : (r->end - r->start) / GL_MINSIZE + 1;
			p->n++;
			i++;
		} while (i < h->nregions && (k + 1 == nparts || done < goal));
		p->sub.capchunks = (size_t)cap;
		at += cap;
	}
	for (size_t k = 1; k < np; k++)
		parts[k].started = pthread_create(&parts[k].th, NULL, part_run, &parts[k]) == 0;
	part_run(&parts[0]);
	for (size_t k = 1; k < np; k++) {
		if (parts[k].started)
			pthread_join(parts[k].th, NULL);
		else
			part_run(&parts[k]);
	}
	/* a slice that filled up: the bound did not hold (it always should) */
	for (size_t k = 0; k < np; k++)
		if (parts[k].rc && parts[k].sub.nchunks == parts[k].sub.capchunks)
			rc = ERR_NOTFOUND;
	for (size_t k = 0; k < np && !rc; k++) {
		if (parts[k].rc) {
			*e = parts[k].e;
			rc = parts[k].rc;
		} else {
			rc = part_merge(h, &parts[k], e);
		}
	}
	for (size_t k = 0; k < np; k++)
		part_free(&parts[k]);
	if (rc == ERR_NOTFOUND) {
		/* nothing of the parts kept: the one-thread census starts afresh */
		h->nchunks = 0;
		h->nsx = 0;
		h->ntc_cand = 0;
		h->last_size = 0;
	}
	return rc;
}

int heap_walk_all(struct heap *h, struct heap_rd *rd, struct err *e)
{
	struct heap_region mr;
	bool have_main;
	size_t narena_regions;
	int rc;

	if ((rc = main_region(h, rd, &mr, &have_main)))
		return rc;
	if (have_main && (rc = heap_push_region(h, &mr, e)))
		return rc;
	for (size_t ai = 1; ai < h->narenas; ai++)
		if ((rc = thread_regions(h, rd, ai, e)))
			return rc;
	if (h->nregions > 1)   /* qsort must not see a NULL array, even empty */
		qsort(h->regions, h->nregions, sizeof *h->regions, cmp_region);
	narena_regions = h->nregions;
	if ((rc = scan_mmapped(h, rd, narena_regions, e)))
		return rc;
	if (h->nregions > 1)
		qsort(h->regions, h->nregions, sizeof *h->regions, cmp_region);
	drop_overlaps(h);
	heap_reserve_chunks(h, chunk_bound(h));
	if (h->jobs >= 2 && (rc = walk_parallel(h, e)) != ERR_NOTFOUND)
		return rc;
	return walk_regions(h, h, rd, h->regions, h->nregions, e);
}
