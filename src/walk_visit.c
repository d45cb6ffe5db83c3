/* walk_visit.c: walking a container value once the decode layer has
 * decoded its header (dec_decode): the allocation it owns reported, its live
 * elements visited now or queued for the sweep (runs in a buffer, one
 * pointee, hashbrown buckets, BTree nodes, list nodes), and the queued
 * visits run when the sweep reaches their buffer.  walk_elements hands the
 * same elements to a caller instead of reporting them.
 */
#include "walk_visit.h"

#include <string.h>

/* ---------------------------------------------------------------- visit */

static int visit_alloc(struct walk *w, struct walk_visit *v, uint64_t mem, uint64_t req,
		       uint64_t used, enum walk_kind kind, bool shared)
{
	if (v->report)
		return walk_alloc(w, mem, req, used, kind, shared);
	if (!image_mapped(w->img, mem, req ? req : 1)) {
		walk_unreadable(w, mem, "container buffer not mapped");
		return 0;
	}
	return 1;
}

/* In the profile's walk a buffer's contents are not read now but queued
 * (walk_defer), to be read when the sweep reaches the buffer's address. */
static bool defer(struct walk *w, struct walk_visit *v, unsigned kind, uint64_t mem, uint64_t n,
		  uint32_t b, type_id type)
{
	if (!v->report)
		return false;
	if (n || (kind != WI_ELEMS && kind != WI_ELEMS_AT))
		walk_defer(w, kind, mem, n, b, type);
	return true;
}

/* One element: walked (report mode) or handed to the caller. */
static void visit_elem_seg(struct walk *w, struct walk_visit *v, uint64_t holder, uint64_t index,
			   uint64_t kaddr, type_id kt, uint64_t vaddr, type_id vt, const char *seg)
{
	if (!v->report) {
		uint64_t before = w->st.unreadable;
		if (!v->rc && v->fn)
			v->rc = v->fn(v->ctx, kaddr, kt, vaddr, vt);
		v->nested += w->st.unreadable - before;
		return;
	}
	uint64_t sh = w->holder, si = w->index, sk = w->key_addr;
	type_id skt = w->key_type;
	w->holder = holder;
	w->index = index;
	if (kt) {
		w->key_addr = kaddr;
		w->key_type = kt;
		if (dec_owns(w->d, kt)) {
			walk_push(w, "[key]");
			walk_val(w, kaddr, kt);
			walk_pop(w);
		}
	}
	if (vt) {
		if (seg)
			walk_push(w, seg);
		walk_val(w, vaddr, vt);
		if (seg)
			walk_pop(w);
	}
	w->holder = sh;
	w->index = si;
	w->key_addr = sk;
	w->key_type = skt;
}

/* An element of a collection: its path gets "[*]". */
static void visit_elem(struct walk *w, struct walk_visit *v, uint64_t holder, uint64_t index,
		       uint64_t kaddr, type_id kt, uint64_t vaddr, type_id vt)
{
	visit_elem_seg(w, v, holder, index, kaddr, kt, vaddr, vt, "[*]");
}

/* The single pointee of a Box, Rc/Arc or lazy cell: the path is unchanged. */
static void visit_pointee(struct walk *w, struct walk_visit *v, uint64_t holder, uint64_t index,
			  uint64_t vaddr, type_id vt)
{
	visit_elem_seg(w, v, holder, index, 0, 0, vaddr, vt, NULL);
}

/* Whether a container's elements are worth visiting: always for a caller's
 * iteration, else when they can own heap (or hold the enum under study). */
static inline bool want_elems(struct walk *w, const struct dec_type *wt, const struct walk_visit *v, const struct dec_view *vw)
{
	if (!v->report || vw->walk_always || dec_owns(w->d, vw->elem))
		return true;
	return wt->cls == CLS_RAWTABLE && wt->l.table.pair && w->d->op_type && wt->l.table.val == w->d->op_type;
}

/* The runs of a buffer's elements: queued (each run one visit), or visited now. */
static void visit_runs(struct walk *w, const struct dec_type *wt, struct walk_visit *v, const struct dec_view *vw)
{
	uint64_t es = wt->elem_size;
	if (v->report && !vw->inline_elems) {
		bool fits = true;
		for (unsigned r = 0; r < vw->nruns; r++)
			fits = fits && vw->run[r].index <= UINT32_MAX && vw->run[r].off <= UINT32_MAX &&
			       (vw->run[r].off == vw->run[r].index * es || vw->run[r].index == 0);
		if (fits) {
			for (unsigned r = 0; r < vw->nruns; r++) {
				const struct dec_run *ru = &vw->run[r];
				if (ru->off == ru->index * es)
					defer(w, v, WI_ELEMS, vw->mem, ru->n, (uint32_t)ru->index, vw->elem);
				else
					defer(w, v, WI_ELEMS_AT, vw->mem, ru->n, (uint32_t)ru->off, vw->elem);
			}
			return;
		}
	}
	uint64_t base = vw->inline_elems ? vw->at : vw->mem;
	uint64_t holder = vw->inline_elems ? w->holder : vw->mem;
	for (unsigned r = 0; r < vw->nruns; r++)
		for (uint64_t i = 0; i < vw->run[r].n && !v->rc; i++)
			visit_elem(w, v, holder, vw->run[r].index + i, 0, 0, base + vw->run[r].off + i * es, vw->elem);
}

/* The full buckets of a hashbrown table whose allocation at mem (buckets
 * buckets, items of them full) was validated. */
static void table_elems(struct walk *w, struct walk_visit *v, const struct dec_type *wt, uint64_t mem,
			uint64_t buckets, uint64_t items)
{
	const struct rawtable_layout *l = &wt->l.table;
	uint64_t ctrl = mem + dec_table_ctrl_off(wt, buckets);
	const uint8_t *cb = image_ptr(w->img, ctrl, buckets);
	if (!cb) {
		walk_unreadable(w, ctrl, "hash table control bytes not contiguous in the core");
		return;
	}
	uint64_t full = 0;
	for (uint64_t i = 0; i < buckets && !v->rc; i++) {
		if (cb[i] & 0x80)
			continue;   /* EMPTY 0xFF or DELETED 0x80 */
		if (++full > items)
			break;
		uint64_t el = ctrl - (i + 1) * wt->elem_size;
		if (l->pair)
			visit_elem(w, v, mem, i, el + l->key_off, l->key, el + l->val_off, l->val);
		else
			visit_elem(w, v, mem, i, 0, 0, el, wt->elem);
	}
	if (full != items && !v->rc)   /* a caller that stopped early did not see them all */
		walk_unreadable(w, ctrl, "hash table control bytes disagree with its item count");
}

/* One BTree node and, below it, its children: walked now, or (in the
 * profile's walk, rec being the map's record) queued one node at a time. */
static void visit_btree_node(struct walk *w, type_id id, const struct dec_type *wt, struct walk_visit *v,
			     uint64_t node, uint64_t height, uint64_t *count, uint64_t budget, uint32_t rec)
{
	const struct btree_layout *l = &wt->l.btree;
	uint16_t len;
	bool internal = height > 0;
	if (internal && !l->internal) {
		walk_unreadable(w, node, "BTree internal node type not in the DWARF");
		return;
	}
	if (image_read(w->img, node + l->len, &len, 2, NULL) != 0 || len > l->capacity) {
		walk_unreadable(w, node, "BTree node with a bad len");
		return;
	}
	uint64_t size = internal ? l->internal_size : l->leaf_size;
	if (!visit_alloc(w, v, node, size, (uint64_t)len * (wt->elem_size + l->val_size),
			 internal ? WALK_BTREE_INTERNAL : WALK_BTREE_LEAF, false))
		return;
	if (*count + len > budget) {
		walk_unreadable(w, node, "BTree holds more entries than its length");
		return;
	}
	*count += len;
	bool kw = !v->report || dec_owns(w->d, wt->elem), vw = !v->report || dec_owns(w->d, l->val) ||
		  l->val == w->d->op_type;
	for (uint16_t i = 0; i < len && !v->rc; i++) {
		uint64_t ka = node + l->keys + i * wt->elem_size;
		uint64_t va = node + l->vals + i * l->val_size;
		if (kw || vw)
			visit_elem(w, v, node, i, ka, kw || !v->report ? wt->elem : 0, va, vw ? l->val : 0);
	}
	if (!internal)
		return;
	for (uint16_t i = 0; i <= len && !v->rc; i++) {
		uint64_t child;
		if (!dec_u64(w->d, node + l->edges + 8ull * i, &child)) {
			walk_unreadable(w, node, "BTree edge not readable");
			return;
		}
		if (!defer(w, v, WI_BTREE, child, height - 1, rec, id))
			visit_btree_node(w, id, wt, v, child, height - 1, count, budget, rec);
	}
}

/* LinkedList nodes from node on, `left` of them still expected out of
 * length: each node is an allocation, its element walked; followed now, or
 * (in the profile's walk) queued one node at a time.  Bounded by the
 * length, so a cycle ends. */
static void visit_list_nodes(struct walk *w, type_id id, const struct dec_type *wt, struct walk_visit *v,
			     uint64_t node, uint64_t left, uint64_t length, uint64_t *count, uint32_t rec)
{
	const struct list_layout *l = &wt->l.list;
	bool want = !v->report || dec_owns(w->d, wt->elem);
	while (left > 0 && !v->rc) {
		if (!visit_alloc(w, v, node, l->node_size, l->node_size, WALK_LIST_NODE, false))
			return;
		(*count)++;
		if (want)
			visit_elem(w, v, node, length - left, 0, 0, node + l->element, wt->elem);
		left--;
		uint64_t next;
		if (!dec_u64(w->d, node + l->next, &next)) {
			walk_unreadable(w, node, "LinkedList node not readable");
			return;
		}
		if (left == 0) {
			if (next)
				walk_unreadable(w, node, "LinkedList longer than its length");
			return;
		}
		if (next == 0 || defer(w, v, WI_LIST, next, left, rec, id))
			return;   /* a short list is caught by the count */
		node = next;
	}
}

/* The elements of a decoded container, in the way its view says. */
static void visit_view(struct walk *w, uint64_t addr, type_id id, const struct dec_type *wt, struct walk_visit *v,
		       const struct dec_view *vw)
{
	uint64_t count = 0;
	switch (vw->elems) {
	case VIEW_RUNS:
		if (want_elems(w, wt, v, vw))
			visit_runs(w, wt, v, vw);
		break;
	case VIEW_POINTEE:
		if (!want_elems(w, wt, v, vw))
			break;
		if (!vw->mem || !defer(w, v, WI_POINTEE, vw->mem, 1, (uint32_t)vw->data_off, vw->elem))
			visit_pointee(w, v, w->holder, w->index, vw->at, vw->elem);
		break;
	case VIEW_TABLE:
		/* an empty table still has its control bytes checked */
		if (want_elems(w, wt, v, vw) && wt->elem_size &&
		    !defer(w, v, WI_TABLE, vw->mem, vw->hash.buckets, (uint32_t)vw->hash.items, id))
			table_elems(w, v, wt, vw->mem, vw->hash.buckets, vw->hash.items);
		break;
	case VIEW_BTREE:
	case VIEW_LIST: {
		bool tree = vw->elems == VIEW_BTREE;
		uint64_t length = tree ? vw->btree.len : vw->list.len;
		if (v->report) {
			uint32_t rec = walk_tree_new(w, addr, length, !tree);
			if (rec == UINT32_MAX)
				w->oom = true;
			else if (tree)
				defer(w, v, WI_BTREE, vw->btree.root, vw->btree.height, rec, id);
			else
				defer(w, v, WI_LIST, vw->list.head, vw->list.len, rec, id);
			break;
		}
		if (tree)
			visit_btree_node(w, id, wt, v, vw->btree.root, vw->btree.height, &count, length, UINT32_MAX);
		else
			visit_list_nodes(w, id, wt, v, vw->list.head, length, length, &count, UINT32_MAX);
		if (count != length && !v->rc)
			walk_unreadable(w, addr, tree ? "BTreeMap length disagrees with its nodes"
						      : "LinkedList length disagrees with its nodes");
		break;
	}
	default:
		break;
	}
}

int walk_container_visit(struct walk *w, uint64_t addr, type_id id, const struct dec_type *wt,
		   struct walk_visit *v)
{
	struct dec_view vw;
	if (!wt->dec)   /* no decoder: not a container */
		return ERR_NOTFOUND;
	const char *why = dec_decode(w->d, addr, wt, &vw);
	if (why) {
		walk_unreadable(w, vw.bad, why);
		return v->rc;
	}
	if (vw.mem && !visit_alloc(w, v, vw.mem, vw.requested, vw.used, vw.kind, vw.shared))
		return v->rc;
	visit_view(w, addr, id, wt, v, &vw);
	return v->rc;
}

void walk_container(struct walk *w, uint64_t addr, type_id id, const struct dec_type *wt)
{
	struct walk_visit v = {.report = true};
	walk_container_visit(w, addr, id, wt, &v);
}

/* ---------------------------------------------------------------- queue */

/* The bytes a queued visit reads: where they start and how many. */
static uint64_t item_extent(struct walk *w, const struct witem *it, unsigned kind, uint64_t size, uint64_t *start)
{
	const struct dec_type *wt = dec_type_info(w->d, it->type);
	*start = it->mem;
	switch (kind) {
	case WI_ELEMS:
		*start = it->mem + it->b * size;
		return it->n * size;
	case WI_ELEMS_AT:
	case WI_POINTEE:
		*start = it->mem + it->b;
		return (kind == WI_POINTEE ? 1 : it->n) * size;
	case WI_TABLE:
		return wt ? it->n * wt->elem_size + it->n : 0;
	case WI_BTREE:
		return wt ? (it->n ? wt->l.btree.internal_size : wt->l.btree.leaf_size) : 0;
	case WI_LIST:
		return wt ? wt->l.list.node_size : 0;
	}
	return 0;
}

void walk_container_item(struct walk *w, const struct witem *it, unsigned kind)
{
	struct walk_visit v = {.report = true};
	const struct dec_type *wt = dec_type_info(w->d, it->type);
	uint64_t size = wt ? wt->ty->size : types_get(w->t, it->type)->size, start;
	/* bytes the core does not hold read as zeros: what they owned is
	 * unknown, so they are counted, never taken for empty containers */
	uint64_t len = w->bucket_whole ? 0 : item_extent(w, it, kind, size, &start);
	uint64_t missing = len ? image_missing(w->img, start, len) : 0;
	if (missing) {
		if (w->st.missing++ == 0)
			w->st.first_missing = start;
		w->st.missing_bytes += missing;
	}

	switch (kind) {
	case WI_ELEMS:
	case WI_ELEMS_AT: {
		/* a run of elements of one type: classified once, then each walked
		 * as visit_elem walks it (holder and index set, "[*]" pushed) */
		const struct dec_type *ewt = dec_type_info(w->d, it->type);
		if (!ewt)
			break;
		uint64_t sh = w->holder, si = w->index;
		uint64_t at = kind == WI_ELEMS ? it->mem + it->b * size : it->mem + it->b;
		uint64_t i0 = kind == WI_ELEMS ? it->b : 0;
		w->holder = it->mem;
		for (uint64_t i = 0; i < it->n; i++, at += size) {
			w->index = i0 + i;
			walk_push(w, "[*]");
			walk_val_wt(w, at, it->type, ewt);
			walk_pop(w);
		}
		w->holder = sh;
		w->index = si;
		break;
	}
	case WI_POINTEE:
		/* visit_pointee with the holder and index the item restored: the value alone */
		walk_val(w, it->mem + it->b, it->type);
		break;
	case WI_TABLE:
		if ((wt = dec_type_info(w->d, it->type)) && wt->cls == CLS_RAWTABLE)
			table_elems(w, &v, wt, it->mem, it->n, it->b);
		break;
	case WI_BTREE:
	case WI_LIST:
		if ((wt = dec_type_info(w->d, it->type)) && it->b < w->trees.len &&
		    wt->cls == (kind == WI_BTREE ? CLS_BTREEMAP : CLS_LIST)) {
			struct wtree *tr = &w->trees.data[it->b];
			uint64_t count = tr->count;
			if (kind == WI_BTREE)
				visit_btree_node(w, it->type, wt, &v, it->mem, it->n, &count, tr->length, it->b);
			else
				visit_list_nodes(w, it->type, wt, &v, it->mem, it->n, tr->length, &count, it->b);
			w->trees.data[it->b].count = count;
		}
		break;
	}
}

