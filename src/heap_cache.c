/* heap_cache.c: chunks that are free but parked in tcache or a fastbin.
 *
 * Both keep the next chunk's PREV_INUSE bit set, so the walk sees them as in
 * use; only the lists tell.  Since glibc 2.32 their links are safe-linked:
 * the stored next is (pos >> 12) ^ ptr, pos being the address of the link
 * itself (PROTECT_PTR / REVEAL_PTR in malloc.c).
 *   - fastbins: malloc_state.fastbinsY[i] -> chunk; link at chunk + 16; every
 *     chunk in bin i has size (i + 2) * 16 and belongs to that arena.
 *   - tcache: each thread's tcache_perthread_struct is an in-use chunk of
 *     request2size(640) = 0x290 bytes (uint16 counts[64], then entries[64]
 *     pointing at user pointers), allocated by the thread's first malloc.
 *     The struct has no address anyone can find without libc symbols, so
 *     every in-use 0x290 chunk is tested: counts[i] == 0 exactly when
 *     entries[i] is NULL, and each list holds exactly counts[i] chunks of
 *     size 32 + 16 i that the walk saw in use, then ends.  Lists of a real
 *     tcache share one e->key (tcache_key, glibc >= 2.34).  An all-empty
 *     candidate is taken only as the first chunk of a heap, where a thread's
 *     first malloc puts it; it changes no byte count either way.
 * Lists are bounded by their counts and by the census (a chunk met twice is
 * a cycle or a double free, reported, and the list stops there).
 */
#include "heap_int.h"

#include <string.h>

static bool tc_is_first_in_heap(const struct heap *h, uint64_t mem)
{
	for (size_t i = 0; i < h->nregions; i++)
		if (!h->regions[i].mmapped && h->regions[i].start + GL_CHUNK_HDR == mem)
			return true;
	return false;
}

static void mark_fastbins(struct heap *h, struct heap_rd *rd, size_t ai)
{
	for (int i = 0; i < GL_NFASTBINS; i++) {
		uint64_t p = h->ms[ai].fastbins[i], want = (uint64_t)(i + 2) * 16;
		for (size_t n = 0; p; n++) {
			size_t idx = heap_find(h, p + GL_CHUNK_HDR);
			struct heap_chunk c0, *c = &c0;
			uint64_t fd;
			if (idx == SIZE_MAX || n > h->nchunks) {
				heap_add_corruption(h, p, "fastbin %d of arena %zu points at 0x%llx, not a chunk",
						    i, ai, (unsigned long long)p);
				break;
			}
			c0 = heap_chunk_get(h, idx);
			if (c->size != want || c->arena != ai || c->state != HEAP_INUSE) {
				heap_add_corruption(h, p, "fastbin %d of arena %zu holds a chunk of size 0x%llx in state %d%s",
						    i, ai, (unsigned long long)c->size, c->state,
						    c->state == HEAP_CACHED ? " (list loops or is shared)" : "");
				break;
			}
			heap_set_state(h, idx, HEAP_CACHED);
			h->arenas[ai].fastbin_bytes += c->size;
			h->arenas[ai].fastbin_chunks++;
			if (!heap_rd_u64(rd, p + GL_CHUNK_HDR, &fd)) {
				heap_add_corruption(h, p, "fastbin link is not in the core");
				break;
			}
			p = ((p + GL_CHUNK_HDR) >> 12) ^ fd;
		}
	}
}

struct tcache {
	uint64_t mem;
	uint16_t counts[GL_TCACHE_BINS];
	uint64_t entries[GL_TCACHE_BINS];
};

/* Walks list i of tc.  With mark, marks its chunks cached; without, only
 * checks.  Returns true when the list is exactly what counts[i] says. */
static bool tc_list(struct heap *h, struct heap_rd *rd, const struct tcache *tc, int i, bool mark)
{
	uint64_t e = tc->entries[i], want = GL_MINSIZE + 16 * (uint64_t)i;

	for (unsigned n = 0; n < tc->counts[i]; n++) {
		size_t idx = heap_find(h, e);
		uint64_t w[2];
		struct heap_chunk c0, *c = &c0;
		if (idx == SIZE_MAX || !heap_rd_get(rd, e, w, sizeof w))
			goto bad;
		c0 = heap_chunk_get(h, idx);
		if (c->size != want || c->state != HEAP_INUSE)
			goto bad;
		if (mark) {
			struct heap_arena *a = c->arena < h->narenas ? &h->arenas[c->arena] : NULL;
			if (!h->tcache_key)
				h->tcache_key = w[1];
			else if (w[1] != h->tcache_key)
				heap_add_corruption(h, e - GL_CHUNK_HDR,
						    "tcache entry's key differs from the others (written after free?)");
			heap_set_state(h, idx, HEAP_CACHED);
			if (a) {
				a->tcache_bytes += c->size;
				a->tcache_chunks++;
			}
		}
		e = (e >> 12) ^ w[0];
	}
	if (e == 0)
		return true;
bad:
	if (mark)
		heap_add_corruption(h, e ? e - GL_CHUNK_HDR : tc->mem - GL_CHUNK_HDR,
				    "tcache 0x%llx bin %d (count %u) breaks at 0x%llx",
				    (unsigned long long)tc->mem, i, tc->counts[i], (unsigned long long)e);
	return false;
}

static bool tc_read(struct heap_rd *rd, uint64_t mem, struct tcache *tc)
{
	uint8_t b[GL_TCACHE_STRUCT];

	if (!heap_rd_get(rd, mem, b, sizeof b))
		return false;
	tc->mem = mem;
	memcpy(tc->counts, b, sizeof tc->counts);
	memcpy(tc->entries, b + sizeof tc->counts, sizeof tc->entries);
	for (int i = 0; i < GL_TCACHE_BINS; i++)
		if ((tc->counts[i] == 0) != (tc->entries[i] == 0))
			return false;
	return true;
}

bool heap_tcache_plausible(struct heap_rd *rd, uint64_t mem)
{
	struct tcache tc;
	return tc_read(rd, mem, &tc);
}

/* Tests the in-use chunk at index ci as a tcache; marks its lists if it is. */
static void try_tcache(struct heap *h, struct heap_rd *rd, size_t ci)
{
	struct tcache tc;
	int nonempty = 0, good = 0;
	bool ok[GL_TCACHE_BINS];

	if (!tc_read(rd, heap_mem_at(h, ci), &tc))
		return;
	for (int i = 0; i < GL_TCACHE_BINS; i++) {
		ok[i] = tc.counts[i] == 0 || tc_list(h, rd, &tc, i, false);
		if (tc.counts[i]) {
			nonempty++;
			good += ok[i];
		}
	}
	if (nonempty ? good == 0 : !tc_is_first_in_heap(h, tc.mem))
		return;
	h->ntcache++;
	for (int i = 0; i < GL_TCACHE_BINS; i++)
		if (tc.counts[i])
			tc_list(h, rd, &tc, i, true);
}

int heap_mark_cached(struct heap *h, struct heap_rd *rd, struct err *e)
{
	(void)e;
	for (size_t ai = 0; ai < h->narenas; ai++)
		mark_fastbins(h, rd, ai);
	for (size_t k = 0; k < h->ntc_cand; k++)
		if (h->tc_cand[k] < h->nchunks)
			try_tcache(h, rd, h->tc_cand[k]);
	return 0;
}
