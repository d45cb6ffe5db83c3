/* heap_cache.c: chunks that are free but parked in tcache or a fastbin, and
 * the detectors of the glibc facts that reading them depends on.
 *
 * Both keep the next chunk's PREV_INUSE bit set, so the walk sees them as in
 * use; only the lists tell.
 *   - fastbins: malloc_state.fastbinsY[i] -> chunk; link at chunk + 16; every
 *     chunk in bin i has size (i + 2) * 16 and belongs to that arena.
 *   - tcache: each thread's tcache_perthread_struct is an in-use chunk
 *     (counts[64], then entries[64] pointing at user pointers), allocated by
 *     the thread's first malloc.  The struct has no address anyone can find
 *     without libc symbols, so every in-use chunk of a tcache size of the
 *     version table is tested: counts[i] == 0 exactly when entries[i] is
 *     NULL, and each list holds exactly counts[i] chunks of size 32 + 16 i
 *     that the walk saw in use, then ends.  An all-empty candidate is taken
 *     only as the first chunk of a heap, where a thread's first malloc puts
 *     it; it changes no byte count either way.
 * Lists are bounded by their counts (tcache) or by the arena's size
 * (fastbins), and by the census (a chunk met twice is a cycle or a double
 * free, reported, and the list stops there).
 *
 * Detectors (heap_glibc.c's table), in this order, each recorded:
 *   - safe-linking: every non-empty fastbin and tcache list is followed
 *     twice, its links read as plain pointers and as PROTECT_PTR'd ones
 *     ((pos >> 12) ^ ptr, glibc >= 2.32); a healthy list holds together
 *     under one reading only.  The reading more lists agree with is taken;
 *     lists that hold together only under the other are corruption.
 *   - tcache_perthread_struct: the layout (char counts in a 0x250-byte
 *     chunk, or uint16_t counts in a 0x290-byte one) whose candidates have
 *     the most lists that match their counts.
 *   - tcache entry key: in the chosen tcaches, whether every entry's key is
 *     its own tcache's address (2.29 .. 2.33), one value shared by most
 *     entries (random tcache_key, >= 2.34), or neither (no key, < 2.29).
 *     With a key, an entry whose key differs is reported (written after
 *     free).
 */
#include "heap_int.h"

#include <stdio.h>
#include <string.h>

struct tcache {
	uint64_t mem;
	const struct glibc_tc_layout *l;
	uint16_t counts[GL_TCACHE_BINS];
	uint64_t entries[GL_TCACHE_BINS];
};

struct tc_key {
	uint64_t key, owner;          /* the entry's key, its tcache's address */
};
DEFINE_VECTOR(tc_keys, struct tc_key)

/* What the detectors found, and what marking uses. */
struct cache_scan {
	bool safe;                    /* links are safe-linked */
	const struct glibc_tc_layout *tcl; /* the tcache layout taken (NULL: none) */
	enum glibc_key key;
	uint64_t shared_key;          /* GLIBC_KEY_RANDOM: the key */
};

/* The key detector's sample: plenty for a majority vote, bounded on a
 * hostile core whose fake tcaches claim 64 x 65535 entries each. */
enum { MAX_KEYS = 1 << 16 };

/* Brent's cycle check for the checking (not marking) walks, which change
 * no chunk state and so cannot tell a loop by a chunk met twice: a list
 * that comes back to a node is found within twice its length. */
struct brent {
	uint64_t saved;
	uint64_t power, steps;
};

static bool brent_loops(struct brent *b, uint64_t node)
{
	if (b->power > 1 && node == b->saved) /* saved is set once power has grown */
		return true;
	if (++b->steps == b->power) {
		b->saved = node;
		b->power *= 2;
		b->steps = 0;
	}
	return false;
}

static bool tc_is_first_in_heap(const struct heap *h, uint64_t mem)
{
	for (size_t i = 0; i < h->nregions; i++)
		if (!h->regions[i].mmapped && h->regions[i].start + GL_CHUNK_HDR == mem)
			return true;
	return false;
}

/* ---- fastbins ---- */

/* Follows fastbin i of arena ai with links read safe-linked or not.  With
 * mark, marks its chunks cached and reports where it breaks; without, only
 * checks.  True when the list holds together and ends. */
static bool fast_list(struct heap *h, struct heap_rd *rd, size_t ai, int i, bool safe, bool mark)
{
	uint64_t p = h->ms[ai].fastbins[i], want = GL_MINSIZE + GL_ALIGN * (uint64_t)i; /* fastbin_index inverted */
	/* no list is longer than its arena has chunks of its size */
	uint64_t bound = h->arenas[ai].system_bytes / want + 1;
	struct brent cyc = { 0, 1, 0 };

	for (uint64_t n = 0; p; n++) {
		if (!mark && brent_loops(&cyc, p))
			return false;
		size_t idx = heap_find(h, p + GL_CHUNK_HDR);
		struct heap_chunk c0, *c = &c0;
		uint64_t fd;
		if (idx == SIZE_MAX || n > h->nchunks || n > bound) {
			if (mark)
				heap_add_corruption(h, p, "fastbin %d of arena %zu points at 0x%llx, not a chunk",
						    i, ai, (unsigned long long)p);
			return false;
		}
		c0 = heap_chunk_get(h, idx);
		if (c->size != want || c->arena != ai || c->state != HEAP_INUSE) {
			if (mark)
				heap_add_corruption(h, p, "fastbin %d of arena %zu holds a chunk of size 0x%llx in state %d%s",
						    i, ai, (unsigned long long)c->size, c->state,
						    c->state == HEAP_CACHED ? " (list loops or is shared)" : "");
			return false;
		}
		if (mark) {
			heap_set_state(h, idx, HEAP_CACHED);
			h->arenas[ai].fastbin_bytes += c->size;
			h->arenas[ai].fastbin_chunks++;
		}
		if (!heap_rd_u64(rd, p + GL_CHUNK_HDR, &fd)) {
			if (mark)
				heap_add_corruption(h, p, "fastbin link is not in the core");
			return false;
		}
		p = glibc_reveal(safe, p + GL_CHUNK_HDR, fd);
	}
	return true;
}

/* ---- tcache ---- */

/* Walks list i of tc with links read safe-linked or not.  With mark, marks
 * its chunks cached (checking keys as cs says); without, only checks, and
 * appends each entry's key to keys when keys is given.  Returns true when
 * the list is exactly what counts[i] says. */
static bool tc_list(struct heap *h, struct heap_rd *rd, const struct tcache *tc, int i, bool safe,
		    const struct cache_scan *cs, struct tc_keys *keys)
{
	uint64_t e = tc->entries[i], want = GL_MINSIZE + GL_ALIGN * (uint64_t)i; /* csize2tidx inverted */
	bool mark = cs != NULL;
	struct brent cyc = { 0, 1, 0 };

	for (unsigned n = 0; n < tc->counts[i]; n++) {
		if (!mark && brent_loops(&cyc, e))
			return false;
		size_t idx = heap_find(h, e);
		uint64_t w[2];
		struct heap_chunk c0, *c = &c0;
		if (idx == SIZE_MAX || !heap_rd_get(rd, e, w, sizeof w))
			goto bad;
		c0 = heap_chunk_get(h, idx);
		if (c->size != want || c->state != HEAP_INUSE)
			goto bad;
		if (keys && (keys->len >= MAX_KEYS || !tc_keys_append(keys, (struct tc_key){ w[1], tc->mem })))
			keys = NULL; /* enough for the vote (or no memory): the detector sees fewer keys */
		if (mark) {
			struct heap_arena *a = c->arena < h->narenas ? &h->arenas[c->arena] : NULL;
			if (cs->key == GLIBC_KEY_RANDOM && w[1] != cs->shared_key)
				heap_add_corruption(h, e - GL_CHUNK_HDR,
						    "tcache entry's key differs from the others (written after free?)");
			else if (cs->key == GLIBC_KEY_TCACHE && w[1] != tc->mem)
				heap_add_corruption(h, e - GL_CHUNK_HDR,
						    "tcache entry's key is not its tcache 0x%llx (written after free?)",
						    (unsigned long long)tc->mem);
			heap_set_state(h, idx, HEAP_CACHED);
			if (a) {
				a->tcache_bytes += c->size;
				a->tcache_chunks++;
			}
		}
		e = glibc_reveal(safe, e, w[0]);
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

static bool tc_read(struct heap_rd *rd, uint64_t mem, const struct glibc_tc_layout *l, struct tcache *tc)
{
	uint8_t b[GL_TC_READ_MAX];
	size_t nc = (size_t)l->count_size * GL_TCACHE_BINS;

	if (l->struct_size > sizeof b || nc + sizeof tc->entries > l->struct_size ||
	    (l->count_size != 1 && l->count_size != 2) || !heap_rd_get(rd, mem, b, l->struct_size))
		return false;
	tc->mem = mem;
	tc->l = l;
	for (int i = 0; i < GL_TCACHE_BINS; i++) {
		if (l->count_size == 1) {
			tc->counts[i] = b[i];
		} else {
			uint16_t v;
			memcpy(&v, b + 2 * i, sizeof v);
			tc->counts[i] = v;
		}
	}
	memcpy(tc->entries, b + nc, sizeof tc->entries);
	for (int i = 0; i < GL_TCACHE_BINS; i++)
		if ((tc->counts[i] == 0) != (tc->entries[i] == 0))
			return false;
	return true;
}

bool heap_tcache_plausible(struct heap_rd *rd, uint64_t mem, const struct glibc_tc_layout *l)
{
	struct tcache tc;
	return tc_read(rd, mem, l, &tc);
}

/* ---- the detectors ---- */

struct sl_tally {
	size_t safe_only, plain_only;         /* lists that hold together under one reading */
	size_t fast, tcache;                  /* non-empty lists looked at */
};

static void tally(struct sl_tally *t, bool ok_safe, bool ok_plain)
{
	if (ok_safe && !ok_plain)
		t->safe_only++;
	else if (ok_plain && !ok_safe)
		t->plain_only++;
}

/* Safe-linking: every non-empty list under both readings. */
static int detect_safe_linking(struct heap *h, struct heap_rd *rd, struct cache_scan *cs)
{
	struct sl_tally t = { 0 };

	for (size_t ai = 0; ai < h->narenas; ai++)
		for (int i = 0; i < GL_NFASTBINS; i++)
			if (h->ms[ai].fastbins[i]) {
				t.fast++;
				tally(&t, fast_list(h, rd, ai, i, true, false), fast_list(h, rd, ai, i, false, false));
			}
	for (size_t k = 0; k < h->ntc_cand; k++) {
		struct tcache tc;
		if (h->tc_cand[k].ci >= h->nchunks ||
		    !tc_read(rd, heap_mem_at(h, h->tc_cand[k].ci), h->tc_cand[k].l, &tc))
			continue;
		for (int i = 0; i < GL_TCACHE_BINS; i++)
			if (tc.counts[i]) {
				t.tcache++;
				tally(&t, tc_list(h, rd, &tc, i, true, NULL, NULL),
				      tc_list(h, rd, &tc, i, false, NULL, NULL));
			}
	}
	if (t.safe_only || t.plain_only) {
		cs->safe = t.safe_only >= t.plain_only;
		return heap_glibc_note(h, glibc_rows_safe_linking(cs->safe), "safe-linking",
				       glibc_safe_linking_name(cs->safe),
				       "%zu of %zu non-empty lists (%zu fastbins, %zu tcache bins) hold together only "
				       "as PROTECT_PTR'd links, %zu only as plain pointers", t.safe_only,
				       t.fast + t.tcache, t.fast, t.tcache, t.plain_only);
	}
	/* Nothing to tell by: follow the rows left (it changes no figure:
	 * no list holds together either way). */
	cs->safe = (h->glibc_rows & glibc_rows_safe_linking(true)) != 0;
	return heap_glibc_note(h, 0, "safe-linking", "undetermined",
			       "none of %zu non-empty fastbin and tcache lists holds together under either reading",
			       t.fast + t.tcache);
}

/* Whether candidate k is a tcache: some list matches its count, or, all
 * empty, it is the first chunk of a heap.  *good counts matching lists. */
static bool tc_accept(struct heap *h, struct heap_rd *rd, size_t k, bool safe, struct tcache *tc, size_t *good)
{
	int nonempty = 0, ok = 0;

	if (h->tc_cand[k].ci >= h->nchunks || !tc_read(rd, heap_mem_at(h, h->tc_cand[k].ci), h->tc_cand[k].l, tc))
		return false;
	for (int i = 0; i < GL_TCACHE_BINS; i++)
		if (tc->counts[i]) {
			nonempty++;
			ok += tc_list(h, rd, tc, i, safe, NULL, NULL);
		}
	*good += (size_t)ok;
	return nonempty ? ok > 0 : tc_is_first_in_heap(h, tc->mem);
}

/* The tcache layout: the one whose candidates have the most matching
 * lists, then the most tcaches. */
static int detect_tcache_layout(struct heap *h, struct heap_rd *rd, struct cache_scan *cs)
{
	size_t best = SIZE_MAX, nt[8] = { 0 }, good[8] = { 0 };
	uint64_t first[8] = { 0 };

	for (size_t k = 0; k < h->ntc_cand; k++) {
		struct tcache tc;
		size_t li = 0;
		while (li < glibc_n_tc_layouts && li < 8 && glibc_tc_layouts[li] != h->tc_cand[k].l)
			li++;
		if (li >= glibc_n_tc_layouts || li >= 8 || !tc_accept(h, rd, k, cs->safe, &tc, &good[li]))
			continue;
		if (!nt[li]++)
			first[li] = tc.mem;
	}
	for (size_t li = 0; li < glibc_n_tc_layouts && li < 8; li++)
		if (nt[li] && (best == SIZE_MAX || good[li] > good[best] ||
			       (good[li] == good[best] && nt[li] > nt[best])))
			best = li;
	if (best == SIZE_MAX) {
		cs->tcl = NULL;
		return heap_glibc_note(h, 0, "tcache_perthread_struct", "not found",
				       "no in-use chunk of a tcache size in the table holds together as one");
	}
	cs->tcl = glibc_tc_layouts[best];
	size_t other_nt = 0, other_good = 0;
	for (size_t li = 0; li < glibc_n_tc_layouts && li < 8; li++)
		if (li != best) {
			other_nt += nt[li];
			other_good += good[li];
		}
	return heap_glibc_note(h, glibc_rows_tc(cs->tcl), "tcache_perthread_struct", cs->tcl->name,
			       "%zu chunks of 0x%x bytes (first at 0x%llx) hold together as one, %zu of their lists "
			       "match counts[]; under the other layout %zu chunks, %zu lists",
			       nt[best], cs->tcl->chunk_size, (unsigned long long)(first[best] - GL_CHUNK_HDR),
			       good[best], other_nt, other_good);
}

/* The tcache entry key, from every entry of the tcaches taken. */
static int detect_key(struct heap *h, struct heap_rd *rd, struct cache_scan *cs)
{
	struct tc_keys keys;
	size_t own = 0, shared = 0, votes = 0;
	uint64_t cand = 0;
	int rc;

	tc_keys_init(&keys);
	for (size_t k = 0; cs->tcl && k < h->ntc_cand; k++) {
		struct tcache tc;
		size_t good = 0;
		if (h->tc_cand[k].l != cs->tcl || !tc_accept(h, rd, k, cs->safe, &tc, &good))
			continue;
		for (int i = 0; i < GL_TCACHE_BINS; i++)
			if (tc.counts[i])
				tc_list(h, rd, &tc, i, cs->safe, NULL, &keys);
	}
	/* the most common key (majority vote, then a count) */
	for (size_t i = 0; i < keys.len; i++) {
		if (!votes)
			cand = keys.data[i].key;
		votes += keys.data[i].key == cand ? 1 : (size_t)-1;
		own += keys.data[i].key == keys.data[i].owner;
	}
	for (size_t i = 0; i < keys.len; i++)
		shared += keys.data[i].key == cand;
	size_t n = keys.len;
	tc_keys_deinit(&keys);

	uint32_t rows = h->glibc_rows;
	bool can_own = rows & glibc_rows_key(GLIBC_KEY_TCACHE), can_rand = rows & glibc_rows_key(GLIBC_KEY_RANDOM),
	     can_none = rows & glibc_rows_key(GLIBC_KEY_NONE);
	if (!n) {
		cs->key = GLIBC_KEY_NONE;
		return heap_glibc_note(h, 0, "tcache entry key", "undetermined", "no tcache entry in the core");
	}
	if (own * 2 > n && (can_own || !(can_rand || can_none))) {
		cs->key = GLIBC_KEY_TCACHE;
		rc = heap_glibc_note(h, glibc_rows_key(cs->key), "tcache entry key", glibc_key_name(cs->key),
				     "%zu of %zu cached entries hold their own tcache_perthread_struct's address",
				     own, n);
	} else if (shared * 2 > n && own * 2 <= n && (can_rand || !can_none)) {
		cs->key = GLIBC_KEY_RANDOM;
		cs->shared_key = cand;
		rc = heap_glibc_note(h, glibc_rows_key(cs->key), "tcache entry key", glibc_key_name(cs->key),
				     "%zu of %zu cached entries hold one key 0x%llx, no tcache's address", shared, n,
				     (unsigned long long)cand);
	} else {
		cs->key = GLIBC_KEY_NONE;
		rc = heap_glibc_note(h, glibc_rows_key(cs->key), "tcache entry key", glibc_key_name(cs->key),
				     "of %zu cached entries %zu hold their tcache's address and at most %zu share a value",
				     n, own, shared);
	}
	return rc;
}

/* ---- marking ---- */

int heap_mark_cached(struct heap *h, struct heap_rd *rd, struct err *e)
{
	struct cache_scan cs = { 0 };

	if (detect_safe_linking(h, rd, &cs) || detect_tcache_layout(h, rd, &cs) || detect_key(h, rd, &cs))
		return err_set(e, ERR_NOMEM, "heap: out of memory recording glibc facts");
	for (size_t ai = 0; ai < h->narenas; ai++)
		for (int i = 0; i < GL_NFASTBINS; i++)
			fast_list(h, rd, ai, i, cs.safe, true);
	for (size_t k = 0; cs.tcl && k < h->ntc_cand; k++) {
		struct tcache tc;
		size_t good = 0;
		if (h->tc_cand[k].l != cs.tcl || !tc_accept(h, rd, k, cs.safe, &tc, &good))
			continue;
		h->ntcache++;
		for (int i = 0; i < GL_TCACHE_BINS; i++)
			if (tc.counts[i])
				tc_list(h, rd, &tc, i, cs.safe, &cs, NULL);
	}
	return 0;
}
