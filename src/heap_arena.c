/* heap_arena.c: finding glibc's arenas and mp_ in a core without libc symbols.
 *
 * Production libcs carry no debug symbols, so main_arena and mp_ (both static
 * in malloc.c) have no names.  The methods follow chap's InfrastructureFinder
 * (layouts.md section 9):
 *   1. Thread arenas: every thread arena's first heap is a 64 MiB-aligned
 *      heap_info whose ar_ptr points just past itself (ar_ptr == heap +
 *      sizeof(heap_info); 48 bytes since glibc 2.35, 32 before).  Scanning
 *      each 64 MiB boundary inside the core's segments finds them.
 *   2. All arenas, main_arena included, form a ring through
 *      malloc_state.next; the member that does not sit behind a heap_info is
 *      &main_arena (in libc's .data).
 *   3. With no thread arena, main_arena is found in libc's writable data by
 *      its bins[]: an empty bin is a list head pointing at itself
 *      (fd == bk == &bins[2i] - 16), and the candidate must pass the same
 *      plausibility checks as every arena (all 127 bin heads aligned, a ring
 *      through next that comes back).
 *   4. mp_ (malloc_par) sits in the same .data; it is recognised by its
 *      shape (sbrk_base inside the brk heap, sane mmap counters and tcache
 *      tunables) and only used to cross-check the mmapped-chunk census.
 * Nothing found is trusted further than these checks; a ring that does not
 * close is reported as corruption and the arenas found so far are kept.
 *
 * Version detectors (the layouts are rows of heap_glibc.c's table):
 *   - heap_info: the size whose ar_ptr points just past the header (and,
 *     for the layout with pagesize, a power-of-two pagesize there);
 *   - malloc_state: each layout of the table is tried on the ring; the one
 *     under which the ring closes with the most bins[] heads pointing at
 *     themselves (empty bins) is taken: under a wrong one no head lines up;
 *   - malloc_par: each layout is tried on libc's data; exactly one address
 *     under one layout must fit, else mp_ is left unused.
 */
#include "heap_int.h"

#include "arr.h"

#include <stdlib.h>
#include <string.h>

/* The searches below read libc's data word by word, every candidate under
 * every layout: through heap_rd each read of a segment smaller than its
 * 64 KiB window (a synthetic or trimmed core, a small libc .data) went to
 * image_read and its segment search.  This reader keeps the dumped bytes of
 * the last segment read (image_ptr: the core's mapping, which the census
 * does not move) and falls back to heap_rd for anything else: the same
 * bytes, the same answers. */
struct arena_rd {
	struct heap_rd *rd;
	uint64_t lo, end;   /* the segment last looked up, [lo, end); end 0: none */
	const uint8_t *p;   /* its dumped bytes [lo, hi) in the core, or NULL */
	uint64_t hi;
};

static bool ar_get(struct arena_rd *r, uint64_t addr, void *out, size_t len)
{
	if (!(r->end && addr >= r->lo && addr < r->end)) {
		const struct image_segment *sg = image_segment_at(r->rd->img, addr);
		r->end = 0;
		r->p = NULL;
		if (sg && sg->end > sg->start) {
			uint64_t n = sg->filesz < sg->end - sg->start ? sg->filesz : sg->end - sg->start;
			r->lo = sg->start;
			r->end = sg->end;
			r->hi = sg->start + n;
			if (n && n <= SIZE_MAX)
				r->p = image_ptr(r->rd->img, sg->start, (size_t)n);
		}
	}
	if (r->p && addr >= r->lo && addr <= r->hi && len <= r->hi - addr) {
		memcpy(out, r->p + (addr - r->lo), len);
		return true;
	}
	return heap_rd_get(r->rd, addr, out, len);
}

static inline bool ar_u64(struct arena_rd *r, uint64_t addr, uint64_t *v)
{
	return ar_get(r, addr, v, 8);
}

static uint64_t rd64(const uint8_t *b, size_t off)
{
	uint64_t v;
	memcpy(&v, b + off, sizeof v);
	return v;
}

/* Reads the malloc_state of layout l at addr and checks that it looks like
 * one: bin heads that are self-referential or point at 8-aligned chunks, a
 * 16-aligned top, an 8-aligned next. */
static bool ms_read(struct arena_rd *rd, uint64_t addr, struct heap_ms *ms, const struct glibc_ms_layout *l)
{
	uint8_t b[GL_MS_READ_MAX];

	if (!addr || (addr & (GL_SIZE_SZ - 1)) || l->size > sizeof b || !ar_get(rd, addr, b, l->size))
		return false;
	memset(ms, 0, sizeof *ms);
	ms->addr = addr;
	memcpy(&ms->flags, b + GL_MS_FLAGS, sizeof ms->flags);
	ms->top = rd64(b, l->top);
	ms->next = rd64(b, l->next);
	ms->system_mem = rd64(b, l->system_mem);
	for (int i = 0; i < GL_NFASTBINS; i++)
		ms->fastbins[i] = rd64(b, l->fastbins + 8 * (size_t)i);
	if (!ms->next || (ms->next & (GL_SIZE_SZ - 1)) || (ms->top & (GL_ALIGN - 1)) || !ms->top)
		return false;
	if (ms->system_mem > ((uint64_t)1 << 47) || rd64(b, l->max_system_mem) < ms->system_mem)
		return false;
	for (int i = 0; i < GL_NBINS - 1; i++) {
		uint64_t fd = rd64(b, l->bins + GL_BIN_SZ * (size_t)i);
		uint64_t bk = rd64(b, l->bins + GL_BIN_SZ * (size_t)i + GL_SIZE_SZ);
		uint64_t self = addr + l->bins + GL_BIN_SZ * (uint64_t)i - GL_FD;
		if (fd == self && bk == self) {
			ms->nself++;
			continue;
		}
		if (!fd || !bk || ((fd | bk) & (GL_SIZE_SZ - 1)))
			return false;
	}
	for (int i = 0; i < GL_NFASTBINS; i++)
		if (ms->fastbins[i] & (GL_SIZE_SZ - 1))
			return false;
	return true;
}

/* The arenas of a ring as it is followed: the array grows with the ring
 * (a core has a handful of arenas; HEAP_MAX_ARENAS bounds it), so that a
 * census does not allocate room for the bound every time. */
struct ring {
	struct heap_ms *v;
	size_t cap;
};

/* Follows the ring from start; fills r (up to HEAP_MAX_ARENAS) and sets
 * *count to its length, 0 when the ring does not close.  ERR_NOMEM (in e)
 * when r cannot grow. */
static int ring_collect(struct heap *h, struct arena_rd *rd, uint64_t start, struct ring *r, bool report,
			const struct glibc_ms_layout *l, size_t *count, struct err *e)
{
	size_t n = 0;
	uint64_t a = start;

	*count = 0;

	do {
		if (n >= HEAP_MAX_ARENAS) {
			if (report)
				heap_add_corruption(h, start, "arena ring longer than %d", HEAP_MAX_ARENAS);
			return 0;
		}
		for (size_t i = 0; i < n; i++)
			if (r->v[i].addr == a) {
				if (report)
					heap_add_corruption(h, a, "arena ring loops back to 0x%llx, not to 0x%llx",
							    (unsigned long long)a, (unsigned long long)start);
				return 0;
			}
		if (!arr_grow((void **)&r->v, &r->cap, n + 1, sizeof *r->v, 16))
			return err_set(e, ERR_NOMEM, "heap: out of memory following the arena ring");
		if (!ms_read(rd, a, &r->v[n], l)) {
			if (report)
				heap_add_corruption(h, a, "arena ring reaches 0x%llx, which is not a malloc_state",
						    (unsigned long long)a);
			return 0;
		}
		a = r->v[n++].next;
	} while (a != start);
	*count = n;
	return 0;
}

/* The size of the heap_info the arena sits right behind: hsize, or when
 * hsize is 0 any size in the table; 0 when it is behind none. */
static uint64_t behind_heap_info(struct arena_rd *rd, uint64_t a, uint64_t hsize)
{
	uint64_t hi = a & ~(GL_HEAP_MAX - 1), ar;

	if (!ar_u64(rd, hi, &ar) || ar != a)
		return 0;
	if (hsize)
		return a - hi == hsize ? hsize : 0;
	for (size_t k = 0; k < glibc_n_hinfo_layouts; k++)
		if (a - hi == glibc_hinfo_layouts[k]->size)
			return a - hi;
	return 0;
}

/* A glibc fact recorded, or ERR_NOMEM in e. */
static int noted(int rc, struct err *e)
{
	return rc ? err_set(e, rc, "heap: out of memory recording what the census detected about glibc") : 0;
}

/* Step 1: the first arena found behind a 64 MiB-aligned heap_info (*arena,
 * 0 when none); the heap_info layout it shows is recorded. */
static int first_thread_arena(struct heap *h, struct arena_rd *rd, uint64_t *arena, struct err *e)
{
	size_t nseg = image_segment_count(h->img);
	int rc;

	*arena = 0;

	for (size_t s = 0; s < nseg; s++) {
		const struct image_segment *sg = image_segment(h->img, s);
		uint64_t hi = (sg->start + GL_HEAP_MAX - 1) & ~(GL_HEAP_MAX - 1);
		uint64_t dumped = sg->start + (sg->filesz < sg->end - sg->start ? sg->filesz : sg->end - sg->start);
		for (; hi >= sg->start && hi + 64 <= dumped; hi += GL_HEAP_MAX) {
			uint64_t w[8];
			if (!ar_get(rd, hi, w, sizeof w))
				continue;
			/* heap_info: ar_ptr, prev (0 for the first heap), size,
			 * mprotect_size (>= size, both page multiples within 64 MiB). */
			if (w[1] != 0 || !w[2] || w[2] > GL_HEAP_MAX || w[3] < w[2] || w[3] > GL_HEAP_MAX ||
			    (w[2] & (GL_PAGE - 1)) || (w[3] & (GL_PAGE - 1)))
				continue;
			for (size_t k = 0; k < glibc_n_hinfo_layouts; k++) {
				const struct glibc_hinfo_layout *l = glibc_hinfo_layouts[k];
				uint64_t ps = l->pagesize >= 0 && (size_t)l->pagesize / 8 < 8 ? w[l->pagesize / 8] : 0;
				if (w[0] != hi + l->size || (l->pagesize >= 0 && (!ps || (ps & (ps - 1)))))
					continue;
				h->hinfo_size = l->size;
				*arena = w[0];
				if (l->pagesize >= 0)
					rc = heap_glibc_note(h, glibc_rows_hinfo(l), "heap_info", l->name,
							"heap_info at 0x%llx: ar_ptr 0x%llx = itself + %u, size 0x%llx, "
							"pagesize %llu", (unsigned long long)hi, (unsigned long long)w[0],
							l->size, (unsigned long long)w[2], (unsigned long long)ps);
				else
					rc = heap_glibc_note(h, glibc_rows_hinfo(l), "heap_info", l->name,
							"heap_info at 0x%llx: ar_ptr 0x%llx = itself + %u, size 0x%llx",
							(unsigned long long)hi, (unsigned long long)w[0], l->size,
							(unsigned long long)w[2]);
				return noted(rc, e);
			}
		}
	}
	return noted(heap_glibc_note(h, 0, "heap_info", "not seen",
				     "no 64 MiB-aligned heap_info in the core (no thread arena)"), e);
}

static bool in_list(const uint64_t *v, size_t n, uint64_t x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

/* Sum of the self-linked bins[] heads over a ring of n (the layout score). */
static size_t ring_nself(const struct heap_ms *list, size_t n)
{
	size_t t = 0;
	for (size_t i = 0; i < n; i++)
		t += list[i].nself;
	return t;
}

/* Step 3: main_arena by its bins[] in file-backed writable segments, for
 * malloc_state layout l (*found, 0 when none). */
static int main_by_bins(struct heap *h, struct arena_rd *rd, struct ring *scratch, const struct glibc_ms_layout *l,
			uint64_t *found, struct err *e)
{
	size_t nseg = image_segment_count(h->img);
	uint64_t tried[512];
	size_t ntried = 0;

	for (size_t s = 0; s < nseg; s++) {
		const struct image_segment *sg = image_segment(h->img, s);
		uint64_t dumped = sg->start + (sg->filesz < sg->end - sg->start ? sg->filesz : sg->end - sg->start);
		if (!(sg->flags & IMAGE_W) || !sg->file || sg->end - sg->start > ((uint64_t)64 << 20))
			continue;
		uint64_t prev = 0;   /* the last self-pointing head met */
		for (uint64_t a = sg->start; a + GL_BIN_SZ <= dumped; a += GL_SIZE_SZ) {
			uint64_t w[2];
			if (!ar_get(rd, a, w, sizeof w) || w[0] != a - GL_FD || w[1] != a - GL_FD)
				continue;
			/* a head 16 bytes after another has the same candidates
			 * shifted by one bin, all tried already but the first: a run
			 * of empty bins costs one candidate a head, not 127 (the
			 * order candidates are first tried in is the same) */
			uint64_t nj = prev && a - prev == GL_BIN_SZ ? 1 : GL_NBINS - 1;
			prev = a;
			for (uint64_t j = 0; j < nj; j++) {
				uint64_t m = a - l->bins - GL_BIN_SZ * j;
				uint64_t next;
				if (m < sg->start || m + l->size > sg->end || in_list(tried, ntried, m))
					continue;
				if (ntried < sizeof tried / sizeof tried[0])
					tried[ntried++] = m;
				if (!ar_u64(rd, m + l->next, &next) || !next || (next & (GL_SIZE_SZ - 1)))
					continue;
				size_t n;
				int rc = ring_collect(h, rd, m, scratch, false, l, &n, e);
				if (rc || n) {
					*found = m;
					return rc;
				}
			}
		}
	}
	*found = 0;
	return 0;
}

/* The malloc_state detector: the ring from start (0: main_arena by its
 * bins) under every layout of the table; the layout under which it closes
 * with the most empty bins heads pointing at themselves wins, its ring is
 * left in list and its size in *n (0: no layout closes it). */
static int ring_detect(struct heap *h, struct arena_rd *rd, uint64_t *start, struct ring *list, size_t *n,
		       struct err *e)
{
	size_t self[8] = { 0 }, nring[8] = { 0 }, best = SIZE_MAX, other = 0;
	uint64_t from[8] = { 0 };

	for (size_t k = 0; k < glibc_n_ms_layouts && k < 8; k++) {
		const struct glibc_ms_layout *l = glibc_ms_layouts[k];
		int rc;
		from[k] = *start;
		if (!*start && (rc = main_by_bins(h, rd, list, l, &from[k], e)))
			return rc;
		if (from[k] && (rc = ring_collect(h, rd, from[k], list, false, l, &nring[k], e)))
			return rc;
		self[k] = ring_nself(list->v, nring[k]);
		if (nring[k] && (best == SIZE_MAX || self[k] > self[best]))
			best = k;
	}
	*n = 0;
	if (best == SIZE_MAX)
		return 0;
	for (size_t k = 0; k < glibc_n_ms_layouts && k < 8; k++)
		if (k != best && self[k] > other)
			other = self[k];
	const struct glibc_ms_layout *l = glibc_ms_layouts[best];
	*start = from[best];
	size_t again;
	int rc = ring_collect(h, rd, from[best], list, false, l, &again, e);
	if (rc)
		return rc;
	h->msl = l;
	*n = nring[best];
	return noted(heap_glibc_note(h, glibc_rows_ms(l), "malloc_state", l->name,
			"ring of %zu arenas closes through next at +%u; %zu of %zu bins[] heads at +%u point at "
			"themselves (%zu under any other layout); top at +%u", nring[best], l->next, self[best],
			nring[best] * (GL_NBINS - 1), l->bins, other, l->top), e);
}

/* The malloc_par detector, step 4: mp_ near main_arena under each layout
 * of the table.  sbrk_lo..sbrk_hi bounds sbrk_base.  Exactly one address
 * under one layout must fit. */
static int find_mp(struct heap *h, struct arena_rd *rd, uint64_t sbrk_lo, uint64_t sbrk_hi, struct err *e)
{
	const struct image_segment *sg = image_segment_at(h->img, h->main_arena);
	size_t found = 0;
	uint64_t tbins_found = 0;

	if (!sg)
		return 0;
	for (size_t k = 0; k < glibc_n_mp_layouts; k++) {
		const struct glibc_mp_layout *l = glibc_mp_layouts[k];
		if (l->size > GL_MP_READ_MAX)
			continue;
		for (uint64_t p = sg->start; p + l->size <= sg->end; p += 8) {
			uint8_t b[GL_MP_READ_MAX];
			int32_t n_mmaps, max_n;
			uint64_t sbrk, mm, maxmm, tbins, tmax, tcount;
			if (!ar_u64(rd, p + l->sbrk_base, &sbrk) || sbrk < sbrk_lo || sbrk > sbrk_hi ||
			    (sbrk & (GL_SIZE_SZ - 1)) || !ar_get(rd, p, b, l->size))
				continue;
			memcpy(&n_mmaps, b + l->n_mmaps, 4);
			memcpy(&max_n, b + l->max_n_mmaps, 4);
			mm = rd64(b, l->mmapped_mem);
			maxmm = rd64(b, l->max_mmapped_mem);
			tbins = rd64(b, l->tcache_bins);
			tmax = rd64(b, l->tcache_max_bytes);
			tcount = rd64(b, l->tcache_count);
			/* Tunables: trim_threshold, mmap_threshold (<= 32 MiB,
			 * DEFAULT_MMAP_THRESHOLD_MAX) and arena_test are never 0 by
			 * default; tcache_bins is 64 unless tuned (at most 76 in 2.42). */
			if (n_mmaps < 0 || max_n < n_mmaps || maxmm < mm || (mm & (GL_PAGE - 1)) ||
			    (n_mmaps == 0) != (mm == 0) || tbins == 0 || tbins > 128 || tmax > ((uint64_t)1 << 20) ||
			    tcount > 65535 || !rd64(b, GL_MP_TRIM_THRESHOLD) || !rd64(b, GL_MP_MMAP_THRESHOLD) ||
			    rd64(b, GL_MP_MMAP_THRESHOLD) > GL_MMAP_THRESHOLD_MAX || !rd64(b, GL_MP_ARENA_TEST))
				continue;
			if (found++ == 0) {
				h->mp_addr = p;
				h->mp_n_mmaps = n_mmaps;
				h->mp_mmapped_mem = mm;
				h->mp_sbrk_base = sbrk;
				h->mpl = l;
				tbins_found = tbins;
			}
		}
	}
	h->have_mp = found == 1;
	if (!h->have_mp) {
		h->mpl = NULL;
		return noted(heap_glibc_note(h, 0, "malloc_par (mp_)", "not found",
					     "%zu places in libc's data fit a layout of the table (one is needed): "
					     "mmapped chunks and sbrk_base are not cross-checked", found), e);
	}
	return noted(heap_glibc_note(h, glibc_rows_mp(h->mpl), "malloc_par (mp_)", h->mpl->name,
			"mp_ at 0x%llx, the only fit: sbrk_base 0x%llx at +%u in the brk heap, n_mmaps %d, "
			"mmapped_mem 0x%llx, tcache_bins %llu", (unsigned long long)h->mp_addr,
			(unsigned long long)h->mp_sbrk_base, h->mpl->sbrk_base, h->mp_n_mmaps,
			(unsigned long long)h->mp_mmapped_mem, (unsigned long long)tbins_found), e);
}

/* Puts the ring into h->arenas with main first, in ring order from main
 * (the order malloc_info numbers its <heap nr=...>). */
static int adopt_ring(struct heap *h, struct heap_ms *list, size_t n, size_t main_i, struct err *e)
{
	h->arenas = calloc(n, sizeof *h->arenas);
	h->ms = calloc(n, sizeof *h->ms);
	if (!h->arenas || !h->ms)
		return err_set(e, ERR_NOMEM, "heap: out of memory for %zu arenas", n);
	for (size_t k = 0; k < n; k++) {
		const struct heap_ms *m = &list[(main_i + k) % n];
		h->ms[k] = *m;
		h->arenas[k].addr = m->addr;
		h->arenas[k].main = k == 0;
		h->arenas[k].system_mem = m->system_mem;
	}
	h->narenas = n;
	h->main_arena = list[main_i].addr;
	return 0;
}

int heap_find_arenas(struct heap *h, struct heap_rd *hrd, struct err *e)
{
	struct arena_rd ard = {.rd = hrd}, *rd = &ard;
	struct ring ring = {0};
	struct heap_ms *list;
	uint64_t start;
	size_t n = 0, main_i = SIZE_MAX;
	int rc;

	rc = first_thread_arena(h, rd, &start, e);
	if (!rc && start && !(rc = ring_detect(h, rd, &start, &ring, &n, e)) && !n) {
		size_t broken;   /* records where it breaks */
		rc = ring_collect(h, rd, start, &ring, true, glibc_ms_layouts[0], &broken, e);
	}
	if (!rc && !n) {
		start = 0;
		rc = ring_detect(h, rd, &start, &ring, &n, e);
	}
	list = ring.v;
	if (rc) {
		free(list);
		return rc;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t hs = behind_heap_info(rd, list[i].addr, h->hinfo_size);
		if (hs) {
			h->hinfo_size = hs; /* the first seen, when the scan found none */
			continue;
		}
		if (main_i != SIZE_MAX)
			heap_add_corruption(h, list[i].addr, "a second arena outside any heap_info (main is 0x%llx)",
					    (unsigned long long)list[main_i].addr);
		else
			main_i = i;
	}
	if (!n || main_i == SIZE_MAX) {
		free(list);
		if ((rc = noted(heap_glibc_note(h, 0, "malloc_state", "not found",
						"no ring of malloc_state of any layout in the table"), e)))
			return rc;
		return err_set(e, ERR_NOTFOUND, "heap: no glibc malloc arena found in the core "
			       "(not a glibc program, or malloc was never called)");
	}
	rc = adopt_ring(h, list, n, main_i, e);
	free(list);
	if (rc)
		return rc;
	{
		const struct heap_ms *m = &h->ms[0];
		const struct image_segment *sg = image_segment_at(h->img, m->top);
		if (sg)
			return find_mp(h, rd, sg->start, m->top, e);
	}
	return 0;
}
