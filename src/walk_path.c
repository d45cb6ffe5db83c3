/* walk_path.c: interned field paths ("Windowed > buckets[*] > Percentile > inner").
 *
 * While walking, the current path is a stack of segment pointers (member and
 * variant names owned by the type graph, or literals such as "[*]").  Only
 * when an allocation is reported is the stack interned: first by the pointer
 * sequence (cheap, no string work on the hot path), then by its display
 * string, so that two spellings of the same path share one id.  A pointer
 * sequence also has an id of its own (a "seq"), so that a visit queued for
 * later can save the stack in four bytes and restore it when it runs.
 *
 * The seq of the stack is found through a trie of its prefixes (struct
 * walk_pnode): the walker keeps the node of each prefix of its stack, so a
 * push costs nothing and asking for the seq after one costs a look-up of
 * (parent node, segment), through a small direct-mapped cache, instead of a
 * hash and compare of the whole stack.  A node gets its seq from
 * seq_of_stack the first time its stack is asked for, so seqs and display
 * names are numbered in the order they always were.
 */
#include "walk_int.h"
#include "arr.h"

#include <stdlib.h>
#include <string.h>

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdull;
}

/* The canonical id of a display string (takes ownership of s). */
static uint32_t intern_name(struct walk *w, char *s)
{
	if (!s)
		return WALK_PATH_ROOT;
	struct walk_name_ent *e = walk_name_index_find(&w->name_ht, s);
	if (e) {
		free(s);
		return e->id;
	}
	if (!walk_name_index_reserve(&w->name_ht, w->name_ht.len + 1) ||
	    !walk_name_vec_reserve(&w->names, w->names.len + 1)) {
		free(s);
		return WALK_PATH_ROOT;
	}
	uint32_t id = (uint32_t)w->names.len++;
	w->names.data[id] = s;
	e = walk_name_index_insert(&w->name_ht, s, NULL);
	e->name = s;
	e->id = id;
	return id;
}

static char *join(const char *const *segs, int n)
{
	size_t len = 1;
	for (int i = 0; i < n; i++)
		len += strlen(segs[i]) + 3;
	char *s = malloc(len), *p = s;
	if (!s)
		return NULL;
	*p = 0;
	for (int i = 0; i < n; i++) {
		if (i > 0 && segs[i][0] != '[') {
			memcpy(p, " > ", 3);
			p += 3;
		}
		size_t l = strlen(segs[i]);
		memcpy(p, segs[i], l);
		p += l;
		*p = 0;
	}
	return s;
}

__attribute__((noinline)) static uint32_t seq_of_stack(struct walk *w);

/* The node of prefix parent extended by seg, made when absent
 * (UINT32_MAX: out of memory, or too many). */
__attribute__((noinline)) static uint32_t pnode_child(struct walk *w, uint32_t parent, const char *seg)
{
	uint64_t h = mix(parent, (uint64_t)(uintptr_t)seg);
	size_t mask = w->pcap - 1, i;
	if (w->pcap) {
		for (i = (size_t)(h >> 32) & mask; w->pslot[i]; i = (i + 1) & mask) {
			const struct walk_pnode *n = &w->pnodes.data[w->pslot[i] - 1];
			if (n->parent == parent && n->seg == seg)
				return w->pslot[i] - 1;
		}
	}
	if (w->pnodes.len >= WALK_SEQ_MAX)
		return UINT32_MAX;
	if ((w->pnodes.len + 1) * 4 > w->pcap * 3) {
		size_t nc = w->pcap ? w->pcap * 2 : 256;
		uint32_t *ns = calloc(nc, sizeof *ns);
		if (!ns)
			return UINT32_MAX;
		for (size_t k = 0; k < w->pnodes.len; k++) {
			const struct walk_pnode *n = &w->pnodes.data[k];
			size_t j = (size_t)(mix(n->parent, (uint64_t)(uintptr_t)n->seg) >> 32) & (nc - 1);
			while (ns[j])
				j = (j + 1) & (nc - 1);
			ns[j] = (uint32_t)k + 1;
		}
		free(w->pslot);
		w->pslot = ns;
		w->pcap = nc;
		mask = nc - 1;
	}
	if (!walk_pnode_vec_append(&w->pnodes, (struct walk_pnode){seg, parent, UINT32_MAX}))
		return UINT32_MAX;
	for (i = (size_t)(h >> 32) & mask; w->pslot[i]; i = (i + 1) & mask)
		;
	w->pslot[i] = (uint32_t)w->pnodes.len;
	return (uint32_t)w->pnodes.len - 1;
}

/* The seq of the segment stack: the prefix nodes brought up to the top of
 * the stack (from the deepest one still valid), then the top node's seq,
 * interned by seq_of_stack the first time that stack is asked for (so seqs
 * and display names get their ids in the order they always did). */
uint32_t walk_path_seq_slow(struct walk *w)
{
	int n = w->nseg, i = w->pvalid < n ? w->pvalid : n;
	if (w->pnodes.len == 0) {
		if (!walk_pnode_vec_append(&w->pnodes, (struct walk_pnode){NULL, UINT32_MAX, UINT32_MAX}))
			return seq_of_stack(w);
		i = w->pbase = 0;
	}
	if (i < w->pbase)   /* popped below the known nodes: from the root */
		i = w->pbase = 0;
	if (i == 0)
		w->pnode[0] = 0;
	if (!w->pcache && !(w->pcache = calloc(WALK_PCACHE, sizeof *w->pcache))) {
		w->pvalid = i;
		return seq_of_stack(w);
	}
	for (; i < n; i++) {
		uint32_t c, parent = w->pnode[i];
		const char *seg = w->seg[i];
		struct walk_pcache *pc = walk_pcache_at(w, parent, seg);
		if (pc->seg == seg && pc->parent == parent && seg) {
			c = pc->child;
		} else {
			c = pnode_child(w, parent, seg);
			if (c == UINT32_MAX) {
				w->pvalid = i;
				return seq_of_stack(w);
			}
			*pc = (struct walk_pcache){seg, parent, c};
		}
		w->pnode[i + 1] = c;
	}
	if (w->pvalid < n)
		w->pvalid = n;
	struct walk_pnode *pn = &w->pnodes.data[w->pnode[n]];
	if (pn->seq == UINT32_MAX) {
		uint32_t seq = seq_of_stack(w);
		if (seq >= w->seqs.len || (seq == 0 && n > 0))
			return seq;   /* out of memory: not kept */
		pn->seq = seq;
		w->seqs.data[seq].node = w->pnode[n];
	}
	return pn->seq;
}

__attribute__((noinline)) static uint32_t seq_of_stack(struct walk *w)
{
	uint64_t h = (uint64_t)w->nseg;
	for (int i = 0; i < w->nseg; i++)
		h = mix(h, (uint64_t)(uintptr_t)w->seg[i]);
	struct walk_seq_key key = {w->seg, (uint32_t)w->nseg, h};
	struct walk_seq_ent *e = walk_seq_index_find(&w->paths, key);
	if (e)
		return e->seq;
	if (w->seqs.len >= WALK_SEQ_MAX || !walk_seq_index_reserve(&w->paths, w->paths.len + 1) ||
	    !walk_seq_vec_reserve(&w->seqs, w->seqs.len + 1))
		return 0;
	const char **copy = malloc(sizeof(char *) * (size_t)(w->nseg + 1));
	if (!copy)
		return 0;
	memcpy(copy, w->seg, sizeof(char *) * (size_t)w->nseg);
	uint32_t id = intern_name(w, join(w->seg, w->nseg));
	uint32_t seq = (uint32_t)w->seqs.len++;
	w->seqs.data[seq] = (struct walk_seq){.segs = copy, .n = (uint32_t)w->nseg, .name = id, .node = UINT32_MAX};
	key.segs = copy;
	e = walk_seq_index_insert(&w->paths, key, NULL);
	e->key = key;
	e->seq = seq;
	return seq;
}


void walk_path_restore(struct walk *w, uint32_t seq)
{
	w->nseg = 0;
	w->pbase = w->pvalid = 0;
	if (seq >= w->seqs.len)
		return;
	uint32_t n = w->seqs.data[seq].n;
	if (n > WALK_MAX_DEPTH)
		n = WALK_MAX_DEPTH;
	const char *const *segs = w->seqs.data[seq].segs;
	for (uint32_t i = 0; i < n; i++)   /* a few: a call to memcpy cost more */
		w->seg[i] = segs[i];
	w->nseg = (int)n;
	/* the top prefix's node alone: what is pushed on it needs no other
	 * (walk_path_seq starts from the root again if the stack is popped
	 * below it) */
	uint32_t node = w->seqs.data[seq].node;
	if (node >= w->pnodes.len || n != w->seqs.data[seq].n)
		return;
	w->pnode[n] = node;
	w->pbase = w->pvalid = (int)n;
}

uint32_t walk_path_child(struct walk *w, uint32_t parent, const char *segment)
{
	const char *segs[2];
	int n = 0;
	if (parent != UINT32_MAX && parent < w->names.len && w->names.data[parent][0])
		segs[n++] = w->names.data[parent];
	if (segment && *segment)
		segs[n++] = segment;
	return intern_name(w, join(segs, n));
}

const char *walk_path_name(const struct walk *w, uint32_t path)
{
	return path < w->names.len ? w->names.data[path] : "?";
}


void walk_path_free(struct walk *w)
{
	for (size_t i = 0; i < w->seqs.len; i++)
		free(w->seqs.data[i].segs);
	walk_seq_vec_deinit(&w->seqs);
	walk_seq_index_deinit(&w->paths);
	for (size_t i = 0; i < w->names.len; i++)
		free(w->names.data[i]);
	walk_name_vec_deinit(&w->names);
	walk_name_index_deinit(&w->name_ht);
	walk_pnode_vec_deinit(&w->pnodes);
	free(w->pslot);
	w->pslot = NULL;
	free(w->pcache);
	w->pcache = NULL;
	w->pcap = 0;
}
