/* walk_decoders.c: the Rust container decoders, one table entry per family.
 *
 * Each entry names the qualified-name prefix that identifies the container,
 * a setup function that finds its fields by name in DWARF (never by baked-in
 * offset; several std versions' paths are tried), and a visit function that
 * reads the container's header from the core, validates it, reports the
 * allocation(s) and visits the live elements.  Adding a container means
 * adding an entry here; the walker core does not change.
 *
 * Layout sources: rust-lang/rust src/etc providers (Vec, VecDeque, String,
 * HashMap, BTreeMap, Rc/Arc paths), hashbrown's TableLayout
 * (ctrl_offset = round_up(size*buckets, max(align, GROUP_WIDTH)),
 * alloc = ctrl_offset + buckets + GROUP_WIDTH, data below ctrl), smallvec 1.x
 * (capacity field holds len while inline; spilled iff capacity > N),
 * compact_str 0.8 (24-byte Repr, discriminant in the last byte).
 */
#include "walk_dec.h"

#include <string.h>

#define GROUP_WIDTH 16          /* hashbrown SSE2 Group::WIDTH on x86-64 */
#define BTREE_CAPACITY 11       /* std btree node CAPACITY = 2*B-1, B = 6 */
#define COMPACT_HEAP_MASK 216   /* compact_str 0.8 repr::HEAP_MASK */
#define COMPACT_STATIC_MASK 217 /* compact_str 0.8 repr::STATIC_STR_MASK */
#define COMPACT_LEN_MASK 192    /* compact_str 0.8 repr::LENGTH_MASK */
#define ONCE_COMPLETE 0         /* std sys/sync/once/futex.rs COMPLETE */

static uint64_t round_up(uint64_t v, uint64_t a) { return a ? (v + a - 1) / a * a : v; }

static bool starts(const char *s, const char *p) { return s && strncmp(s, p, strlen(p)) == 0; }

/* The first of several dotted member paths that exists. */
static bool member_any(struct walk *w, type_id id, const char *const *paths, uint64_t *off, type_id *ty)
{
	for (; *paths; paths++)
		if (types_member_path(w->t, id, *paths, off, ty, NULL) == 0) {
			if (ty)
				*ty = types_resolve(w->t, *ty);
			return true;
		}
	return false;
}

static void set_elem(struct walk *w, struct wtype *wt, type_id el)
{
	const struct types_type *et = types_get(w->t, el);
	wt->elem = el;
	wt->elem_size = et ? et->size : 0;
	wt->elem_align = et && et->align ? et->align : 1;
}

static const char *const CAP_PATHS[] = {"buf.inner.cap.__0", "buf.inner.cap", "buf.cap.__0", "buf.cap", NULL};
static const char *const PTR_PATHS[] = {"buf.inner.ptr.pointer.pointer", "buf.inner.ptr.pointer",
					"buf.ptr.pointer.pointer", "buf.ptr.pointer", "buf.ptr", NULL};

/* ---------------------------------------------------------------- setup */

static bool setup_vec(struct walk *w, type_id id, const struct types_type *ty, struct wtype *wt)
{
	(void)ty;
	type_id el = types_resolve(w->t, types_tparam(w->t, id, "T"));
	if (!el || !member_any(w, id, CAP_PATHS, &wt->off[0], NULL) ||
	    !member_any(w, id, PTR_PATHS, &wt->off[1], NULL) ||
	    types_member_path(w->t, id, "len", &wt->off[2], NULL, NULL) != 0)
		return false;
	set_elem(w, wt, el);
	return true;
}

static bool setup_string(struct walk *w, type_id id, const struct types_type *ty, struct wtype *wt)
{
	(void)ty;
	static const char *const cap[] = {"vec.buf.inner.cap.__0", "vec.buf.inner.cap", "vec.buf.cap.__0", "vec.buf.cap", NULL};
	static const char *const ptr[] = {"vec.buf.inner.ptr.pointer.pointer", "vec.buf.inner.ptr.pointer",
					  "vec.buf.ptr.pointer.pointer", "vec.buf.ptr.pointer", NULL};
	if (!member_any(w, id, cap, &wt->off[0], NULL) || !member_any(w, id, ptr, &wt->off[1], NULL) ||
	    types_member_path(w->t, id, "vec.len", &wt->off[2], NULL, NULL) != 0)
		return false;
	wt->elem = 0;
	wt->elem_size = 1;
	return true;
}

static bool setup_vecdeque(struct walk *w, type_id id, const struct types_type *ty, struct wtype *wt)
{
	if (!setup_vec(w, id, ty, wt))
		return false;
	wt->off[3] = wt->off[2];   /* len */
	return types_member_path(w->t, id, "head", &wt->off[2], NULL, NULL) == 0;
}

static bool setup_rawtable(struct walk *w, type_id id, const struct types_type *ty, struct wtype *wt)
{
	(void)ty;
	static const char *const ctrl[] = {"table.ctrl.pointer", "table.ctrl", NULL};
	type_id el = types_resolve(w->t, types_tparam(w->t, id, "T"));
	if (!el || !member_any(w, id, ctrl, &wt->off[0], NULL) ||
	    types_member_path(w->t, id, "table.bucket_mask", &wt->off[1], NULL, NULL) != 0 ||
	    types_member_path(w->t, id, "table.items", &wt->off[2], NULL, NULL) != 0)
		return false;
	set_elem(w, wt, el);
	/* a (K, V) tuple: remember where the key sits so ops know their key */
	const struct types_type *et = types_get(w->t, el);
	wt->off[3] = UINT64_MAX;
	if (et && et->name[0] == '(' && et->nmembers == 2) {
		for (uint32_t i = 0; i < 2; i++)
			if (strcmp(et->members[i].name, "__0") == 0) {
				wt->off[3] = et->members[i].offset;
				wt->aux = types_resolve(w->t, et->members[i].type);
			} else {
				wt->off[4] = et->members[i].offset;
				wt->aux2 = types_resolve(w->t, et->members[i].type);
			}
	}
	return true;
}

/* Option<NonNull<T>> / NonNull<T> / *T: the pointee type of a pointer-ish member. */
static type_id pointee(struct walk *w, type_id id)
{
	for (int guard = 0; guard < 8 && id; guard++) {
		const struct types_type *ty = types_get(w->t, id);
		if (!ty)
			return 0;
		if (ty->kind == TYPES_POINTER)
			return types_resolve(w->t, ty->target);
		if (ty->kind != TYPES_STRUCT || ty->nmembers < 1)
			return 0;
		id = types_resolve(w->t, ty->members[0].type);
	}
	return 0;
}

static bool setup_btreemap(struct walk *w, type_id id, const struct types_type *ty, struct wtype *wt)
{
	(void)ty;
	uint64_t root_off;
	type_id root_t, node_t;
	type_id k = types_resolve(w->t, types_tparam(w->t, id, "K"));
	type_id v = types_resolve(w->t, types_tparam(w->t, id, "V"));

	if (types_member_path(w->t, id, "length", &wt->off[2], NULL, NULL) != 0 ||
	    types_member_path(w->t, id, "root", &root_off, &root_t, NULL) != 0 || !k || !v)
		return false;
	/* root is Option<NodeRef>: find the Some payload's node pointer and height */
	const struct types_type *rt = types_get(w->t, types_resolve(w->t, root_t));
	if (!rt || !rt->vpart)
		return false;
	bool found = false;
	for (uint32_t i = 0; i < rt->vpart->nvariants && !found; i++) {
		const struct types_variant *va = &rt->vpart->variants[i];
		uint64_t o_node, o_h;
		if (strcmp(va->name, "Some") != 0)
			continue;
		type_id vt = types_resolve(w->t, va->type);
		if (types_member_path(w->t, vt, "__0.node.pointer", &o_node, &node_t, NULL) == 0 &&
		    types_member_path(w->t, vt, "__0.height", &o_h, NULL, NULL) == 0) {
			wt->off[0] = root_off + va->offset + o_node;
			wt->off[1] = root_off + va->offset + o_h;
			found = true;
		}
	}
	if (!found)
		return false;
	type_id leaf = pointee(w, types_resolve(w->t, node_t));
	const struct types_type *lt = types_get(w->t, leaf);
	if (!lt || lt->kind != TYPES_STRUCT ||
	    types_member_path(w->t, leaf, "keys", &wt->off[3], NULL, NULL) != 0 ||
	    types_member_path(w->t, leaf, "vals", &wt->off[4], NULL, NULL) != 0 ||
	    types_member_path(w->t, leaf, "len", &wt->off[5], NULL, NULL) != 0)
		return false;
	wt->aux = leaf;
	wt->aux_size = lt->size;
	/* InternalNode<K, V> has the same generic arguments */
	char name[2048];
	const char *p = strstr(lt->name, "LeafNode<");
	if (p && (size_t)(p - lt->name) + strlen(p) + 8 < sizeof name) {
		snprintf(name, sizeof name, "%.*sInternalNode<%s", (int)(p - lt->name), lt->name, p + 9);
		type_id in;
		if (types_lookup(w->t, name, &in, NULL) == 0 &&
		    types_member_path(w->t, in, "edges", &wt->off[6], NULL, NULL) == 0) {
			wt->aux2 = types_resolve(w->t, in);
			wt->aux2_size = types_get(w->t, wt->aux2)->size;
		}
	}
	set_elem(w, wt, k);
	wt->elem2 = v;
	wt->elem2_size = types_get(w->t, v) ? types_get(w->t, v)->size : 0;
	return true;
}

static bool setup_arc(struct walk *w, type_id id, const struct types_type *ty, struct wtype *wt)
{
	(void)ty;
	uint64_t off;
	type_id pt;
	if (types_member_path(w->t, id, "ptr.pointer", &off, &pt, NULL) != 0)
		return false;
	const struct types_type *p = types_get(w->t, types_resolve(w->t, pt));
	if (!p)
		return false;
	type_id inner;
	wt->off[0] = off;
	if (p->kind == TYPES_POINTER) {
		inner = types_resolve(w->t, p->target);
		wt->fat_kind = 0;
	} else {
		/* a fat *const ArcInner<[T]> / <str> / <dyn Tr> */
		uint64_t o0, o1;
		type_id t0;
		if (types_member_path(w->t, types_resolve(w->t, pt), "data_ptr", &o0, &t0, NULL) == 0 &&
		    types_member_path(w->t, types_resolve(w->t, pt), "length", &o1, NULL, NULL) == 0) {
			wt->fat_kind = 1;
		} else if (types_member_path(w->t, types_resolve(w->t, pt), "pointer", &o0, &t0, NULL) == 0 &&
			   types_member_path(w->t, types_resolve(w->t, pt), "vtable", &o1, NULL, NULL) == 0) {
			wt->fat_kind = 2;
		} else {
			return false;
		}
		wt->off[0] = off + o0;
		wt->off[1] = off + o1;
		inner = pointee(w, types_resolve(w->t, t0));
	}
	const struct types_type *it = types_get(w->t, inner);
	static const char *const data[] = {"data", "value", NULL};
	type_id dt;
	if (!it || !member_any(w, inner, data, &wt->off[2], &dt))
		return false;
	wt->aux = inner;
	wt->aux_size = it->size;
	set_elem(w, wt, dt);
	return true;
}

static bool setup_box(struct walk *w, type_id id, const struct types_type *ty, struct wtype *wt)
{
	if (ty->kind == TYPES_POINTER) {
		wt->fat_kind = 0;
		set_elem(w, wt, types_resolve(w->t, ty->target));
		return true;
	}
	uint64_t o0, o1;
	type_id t0;
	if (types_member_path(w->t, id, "data_ptr", &o0, &t0, NULL) == 0 &&
	    types_member_path(w->t, id, "length", &o1, NULL, NULL) == 0)
		wt->fat_kind = 1;
	else if (types_member_path(w->t, id, "pointer", &o0, &t0, NULL) == 0 &&
		 types_member_path(w->t, id, "vtable", &o1, NULL, NULL) == 0)
		wt->fat_kind = 2;
	else
		return false;
	wt->off[0] = o0;
	wt->off[1] = o1;
	set_elem(w, wt, pointee(w, types_resolve(w->t, t0)));
	return true;
}

static bool setup_smallvec(struct walk *w, type_id id, const struct types_type *ty, struct wtype *wt)
{
	(void)ty;
	uint64_t data_off;
	type_id data_t;
	type_id arr = types_resolve(w->t, types_tparam(w->t, id, "A"));
	const struct types_type *at = types_get(w->t, arr);
	if (!at || at->kind != TYPES_ARRAY ||
	    types_member_path(w->t, id, "capacity", &wt->off[0], NULL, NULL) != 0 ||
	    types_member_path(w->t, id, "data", &data_off, &data_t, NULL) != 0)
		return false;
	set_elem(w, wt, types_resolve(w->t, at->target));
	wt->n = at->count;
	data_t = types_resolve(w->t, data_t);
	const struct types_type *dt = types_get(w->t, data_t);
	if (!dt)
		return false;
	if (dt->vpart) {   /* enum SmallVecData { Inline(MaybeUninit<A>), Heap((NonNull<T>, usize)) | Heap{ptr,len} } */
		bool heap = false, inl = false;
		for (uint32_t i = 0; i < dt->vpart->nvariants; i++) {
			const struct types_variant *va = &dt->vpart->variants[i];
			type_id vt = types_resolve(w->t, va->type);
			uint64_t o;
			if (strcmp(va->name, "Heap") == 0) {
				static const char *const p[] = {"__0.__0", "ptr", NULL};
				static const char *const l[] = {"__0.__1", "len", NULL};
				heap = member_any(w, vt, p, &o, NULL);
				wt->off[1] = data_off + va->offset + o;
				heap = heap && member_any(w, vt, l, &o, NULL);
				wt->off[2] = data_off + va->offset + o;
			} else if (strcmp(va->name, "Inline") == 0) {
				inl = types_member_path(w->t, vt, "__0", &o, NULL, NULL) == 0;
				wt->off[3] = data_off + va->offset + o;
			}
		}
		return heap && inl;
	}
	/* union SmallVecData { inline: ..., heap: (NonNull<T>, usize) } */
	uint64_t o;
	static const char *const p[] = {"heap.__0", "heap.ptr", NULL};
	static const char *const l[] = {"heap.__1", "heap.len", NULL};
	if (!member_any(w, data_t, p, &o, NULL))
		return false;
	wt->off[1] = data_off + o;
	if (!member_any(w, data_t, l, &o, NULL))
		return false;
	wt->off[2] = data_off + o;
	if (types_member_path(w->t, data_t, "inline", &o, NULL, NULL) != 0)
		return false;
	wt->off[3] = data_off + o;
	return true;
}

static bool setup_compact(struct walk *w, type_id id, const struct types_type *ty, struct wtype *wt)
{
	(void)w;
	(void)id;
	(void)wt;
	return ty->size == 24;
}

static bool setup_once(struct walk *w, type_id id, const struct types_type *ty, struct wtype *wt)
{
	static const char *const val[] = {"value", "data", NULL};
	type_id el = types_resolve(w->t, types_tparam(w->t, id, "T"));
	(void)ty;
	if (!el || types_member_path(w->t, id, "once", &wt->off[0], NULL, NULL) != 0 ||
	    !member_any(w, id, val, &wt->off[1], NULL))
		return false;
	set_elem(w, wt, el);
	wt->n = ONCE_COMPLETE;
	return true;
}

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
	if (!v->report || !w->queueing)
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
		if (walk_owns(w, kt)) {
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

static bool read3(struct walk *w, uint64_t addr, const uint64_t *off, uint64_t *a, uint64_t *b, uint64_t *c)
{
	return walk_u64(w, addr + off[0], a) && walk_u64(w, addr + off[1], b) && walk_u64(w, addr + off[2], c);
}

static bool elems_ok(const struct wtype *wt, uint64_t cap, uint64_t len)
{
	return len <= cap && cap <= WALK_MAX_ELEMS && (wt->elem_size == 0 || cap <= UINT64_MAX / wt->elem_size / 2);
}

static void visit_vec(struct walk *w, uint64_t addr, const struct wtype *wt, struct walk_visit *v,
		      enum walk_kind kind)
{
	uint64_t cap, ptr, len;
	if (!read3(w, addr, wt->off, &cap, &ptr, &len)) {
		walk_unreadable(w, addr, "Vec header not readable");
		return;
	}
	if (!elems_ok(wt, cap, len)) {
		walk_unreadable(w, addr, "Vec with len > cap or absurd capacity");
		return;
	}
	if (cap == 0 || wt->elem_size == 0)
		return;
	if (!visit_alloc(w, v, ptr, cap * wt->elem_size, len * wt->elem_size, kind, false))
		return;
	if (wt->elem && (!v->report || walk_owns(w, wt->elem) || wt->elem == w->op_type) &&
	    !defer(w, v, WI_ELEMS, ptr, len, 0, wt->elem))
		for (uint64_t i = 0; i < len && !v->rc; i++)
			visit_elem(w, v, ptr, i, 0, 0, ptr + i * wt->elem_size, wt->elem);
}

static void visit_vecdeque(struct walk *w, uint64_t addr, const struct wtype *wt, struct walk_visit *v)
{
	uint64_t cap, ptr, head, len;
	if (!read3(w, addr, wt->off, &cap, &ptr, &head) || !walk_u64(w, addr + wt->off[3], &len)) {
		walk_unreadable(w, addr, "VecDeque header not readable");
		return;
	}
	if (!elems_ok(wt, cap, len) || (cap && head >= cap)) {
		walk_unreadable(w, addr, "VecDeque with len > cap or head out of range");
		return;
	}
	if (cap == 0 || wt->elem_size == 0)
		return;
	if (!visit_alloc(w, v, ptr, cap * wt->elem_size, len * wt->elem_size, WALK_VECDEQUE, false))
		return;
	if (!v->report || walk_owns(w, wt->elem) || wt->elem == w->op_type) {
		/* the live elements are [head, cap) then [0, rest) */
		uint64_t first = len < cap - head ? len : cap - head;
		if (defer(w, v, WI_ELEMS, ptr, first, (uint32_t)head, wt->elem)) {
			defer(w, v, WI_ELEMS, ptr, len - first, 0, wt->elem);
			return;
		}
	}
	if (!v->report || walk_owns(w, wt->elem) || wt->elem == w->op_type)
		for (uint64_t i = 0; i < len && !v->rc; i++) {
			uint64_t j = (head + i) % cap;
			visit_elem(w, v, ptr, j, 0, 0, ptr + j * wt->elem_size, wt->elem);
		}
}

/* The full buckets of a hashbrown table whose allocation at mem (buckets
 * buckets, items of them full) was validated. */
static void table_elems(struct walk *w, struct walk_visit *v, const struct wtype *wt, uint64_t mem,
			uint64_t buckets, uint64_t items)
{
	uint64_t align = wt->elem_align > GROUP_WIDTH ? wt->elem_align : GROUP_WIDTH;
	uint64_t ctrl = mem + round_up(wt->elem_size * buckets, align);
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
		if (wt->off[3] != UINT64_MAX)
			visit_elem(w, v, mem, i, el + wt->off[3], wt->aux, el + wt->off[4], wt->aux2);
		else
			visit_elem(w, v, mem, i, 0, 0, el, wt->elem);
	}
	if (full != items)
		walk_unreadable(w, ctrl, "hash table control bytes disagree with its item count");
}

static void visit_rawtable(struct walk *w, uint64_t addr, type_id id, const struct wtype *wt,
			   struct walk_visit *v)
{
	uint64_t ctrl, mask, items;
	if (!read3(w, addr, wt->off, &ctrl, &mask, &items)) {
		walk_unreadable(w, addr, "hash table header not readable");
		return;
	}
	if (mask == 0)
		return;   /* the static empty singleton: no allocation */
	uint64_t buckets = mask + 1;
	if ((buckets & mask) != 0 || buckets > WALK_MAX_ELEMS || items > buckets || items > UINT32_MAX) {
		walk_unreadable(w, addr, "hash table with a bad bucket mask or item count");
		return;
	}
	uint64_t align = wt->elem_align > GROUP_WIDTH ? wt->elem_align : GROUP_WIDTH;
	uint64_t ctrl_off = round_up(wt->elem_size * buckets, align);
	if (ctrl < ctrl_off) {
		walk_unreadable(w, addr, "hash table control pointer below its data");
		return;
	}
	uint64_t mem = ctrl - ctrl_off;
	if (!visit_alloc(w, v, mem, ctrl_off + buckets + GROUP_WIDTH, items * wt->elem_size,
			 WALK_HASHTABLE, false))
		return;
	bool walk_elems = !v->report || walk_owns(w, wt->elem) ||
			  (wt->aux2 && wt->aux2 == w->op_type);
	if (!walk_elems || wt->elem_size == 0)
		return;
	/* an empty table still has its control bytes checked */
	if (!defer(w, v, WI_TABLE, mem, buckets, (uint32_t)items, id))
		table_elems(w, v, wt, mem, buckets, items);
}

/* One BTree node and, below it, its children: walked now, or (in the
 * profile's walk, rec being the map's record) queued one node at a time. */
static void visit_btree_node(struct walk *w, type_id id, const struct wtype *wt, struct walk_visit *v,
			     uint64_t node, uint64_t height, uint64_t *count, uint64_t budget, uint32_t rec)
{
	uint16_t len;
	bool internal = height > 0;
	if (internal && !wt->aux2) {
		walk_unreadable(w, node, "BTree internal node type not in the DWARF");
		return;
	}
	if (image_read(w->img, node + wt->off[5], &len, 2, NULL) != 0 || len > BTREE_CAPACITY) {
		walk_unreadable(w, node, "BTree node with a bad len");
		return;
	}
	uint64_t size = internal ? wt->aux2_size : wt->aux_size;
	if (!visit_alloc(w, v, node, size, (uint64_t)len * (wt->elem_size + wt->elem2_size),
			 internal ? WALK_BTREE_INTERNAL : WALK_BTREE_LEAF, false))
		return;
	if (*count + len > budget) {
		walk_unreadable(w, node, "BTree holds more entries than its length");
		return;
	}
	*count += len;
	bool kw = !v->report || walk_owns(w, wt->elem), vw = !v->report || walk_owns(w, wt->elem2) ||
		  wt->elem2 == w->op_type;
	for (uint16_t i = 0; i < len && !v->rc; i++) {
		uint64_t ka = node + wt->off[3] + i * wt->elem_size;
		uint64_t va = node + wt->off[4] + i * wt->elem2_size;
		if (kw || vw)
			visit_elem(w, v, node, i, ka, kw || !v->report ? wt->elem : 0, va,
				   vw ? wt->elem2 : 0);
	}
	if (!internal)
		return;
	for (uint16_t i = 0; i <= len && !v->rc; i++) {
		uint64_t child;
		if (!walk_u64(w, node + wt->off[6] + 8ull * i, &child)) {
			walk_unreadable(w, node, "BTree edge not readable");
			return;
		}
		if (!defer(w, v, WI_BTREE, child, height - 1, rec, id))
			visit_btree_node(w, id, wt, v, child, height - 1, count, budget, rec);
	}
}

static void visit_btreemap(struct walk *w, uint64_t addr, type_id id, const struct wtype *wt,
			   struct walk_visit *v)
{
	uint64_t node, height, length, count = 0;
	if (!read3(w, addr, wt->off, &node, &height, &length)) {
		walk_unreadable(w, addr, "BTreeMap header not readable");
		return;
	}
	if (node == 0)
		return;   /* None: empty map without a root */
	/* every entry occupies bytes of some node in the core, so a length beyond
	 * the core's size is a lie; it also bounds the visits a cyclic tree gets */
	if (height > 48 || length > WALK_MAX_ELEMS || length > image_core_size(w->img)) {
		walk_unreadable(w, addr, "BTreeMap with an absurd height or length");
		return;
	}
	if (v->report && w->queueing) {
		uint32_t rec = walk_tree_new(w, addr, length);
		if (rec == UINT32_MAX)
			w->oom = true;
		else
			defer(w, v, WI_BTREE, node, height, rec, id);
		return;
	}
	visit_btree_node(w, id, wt, v, node, height, &count, length, UINT32_MAX);
	if (count != length && !v->rc)
		walk_unreadable(w, addr, "BTreeMap length disagrees with its nodes");
}

static void visit_rc(struct walk *w, uint64_t addr, const struct wtype *wt, struct walk_visit *v,
		     enum walk_kind kind)
{
	uint64_t ptr, meta = 0, req, n = 1;
	if (!walk_u64(w, addr + wt->off[0], &ptr) || (wt->fat_kind && !walk_u64(w, addr + wt->off[1], &meta))) {
		walk_unreadable(w, addr, "Rc/Arc pointer not readable");
		return;
	}
	uint64_t align = wt->elem_align > 8 ? wt->elem_align : 8;
	if (wt->fat_kind == 1) {
		if (meta > WALK_MAX_ELEMS) {
			walk_unreadable(w, addr, "Rc/Arc slice with an absurd length");
			return;
		}
		n = meta;
		req = round_up(wt->off[2] + meta * wt->elem_size, align);
	} else if (wt->fat_kind == 2) {
		uint64_t vs, va;
		if (!walk_u64(w, meta + 8, &vs) || !walk_u64(w, meta + 16, &va) || vs > (1ull << 40)) {
			walk_unreadable(w, meta, "trait-object vtable not readable");
			return;
		}
		align = va > 8 ? va : 8;
		req = round_up(round_up(16, align) + vs, align);
		n = 0;
	} else {
		req = wt->aux_size;
	}
	if (!visit_alloc(w, v, ptr, req, req, kind, true))
		return;
	if (!v->report) {
		visit_pointee(w, v, ptr, 0, ptr + wt->off[2], wt->elem);
		return;
	}
	if (wt->fat_kind == 0 && (walk_owns(w, wt->elem) || wt->elem == w->op_type)) {
		if (!defer(w, v, WI_POINTEE, ptr, 1, (uint32_t)wt->off[2], wt->elem))
			visit_pointee(w, v, w->holder, w->index, ptr + wt->off[2], wt->elem);
	} else if ((walk_owns(w, wt->elem) || wt->elem == w->op_type) &&
		   !defer(w, v, WI_ELEMS_AT, ptr, n, (uint32_t)wt->off[2], wt->elem))
		for (uint64_t i = 0; i < n && !v->rc; i++)
			visit_elem(w, v, ptr, i, 0, 0, ptr + wt->off[2] + i * wt->elem_size, wt->elem);
}

static void visit_box(struct walk *w, uint64_t addr, const struct wtype *wt, struct walk_visit *v)
{
	uint64_t ptr, meta = 0;
	if (!walk_u64(w, addr + (wt->fat_kind ? wt->off[0] : 0), &ptr) ||
	    (wt->fat_kind && !walk_u64(w, addr + wt->off[1], &meta))) {
		walk_unreadable(w, addr, "Box pointer not readable");
		return;
	}
	if (wt->fat_kind == 0) {
		if (wt->elem_size == 0)
			return;   /* Box of a ZST allocates nothing */
		if (!visit_alloc(w, v, ptr, wt->elem_size, wt->elem_size, WALK_BOX, false))
			return;
		if ((!v->report || walk_owns(w, wt->elem) || wt->elem == w->op_type) &&
		    !defer(w, v, WI_POINTEE, ptr, 1, 0, wt->elem))
			visit_pointee(w, v, w->holder, w->index, ptr, wt->elem);
		return;
	}
	if (wt->fat_kind == 1) {
		if (meta > WALK_MAX_ELEMS || (wt->elem_size && meta > UINT64_MAX / 2 / wt->elem_size)) {
			walk_unreadable(w, addr, "Box<[T]> with an absurd length");
			return;
		}
		uint64_t req = meta * wt->elem_size;
		if (req == 0 || !visit_alloc(w, v, ptr, req, req, WALK_BOX_SLICE, false))
			return;
		if ((!v->report || walk_owns(w, wt->elem)) && !defer(w, v, WI_ELEMS, ptr, meta, 0, wt->elem))
			for (uint64_t i = 0; i < meta && !v->rc; i++)
				visit_elem(w, v, ptr, i, 0, 0, ptr + i * wt->elem_size, wt->elem);
		return;
	}
	/* Box<dyn Tr>: size from the vtable, contents through its concrete type */
	uint64_t vs;
	if (!walk_u64(w, meta + 8, &vs) || vs > (1ull << 40)) {
		walk_unreadable(w, meta, "trait-object vtable not readable");
		return;
	}
	if (vs == 0 || !visit_alloc(w, v, ptr, vs, vs, WALK_BOX_DYN, false))
		return;
	type_id conc = types_vtable_type(w->t, meta - image_bias(w->img));
	if (conc && !defer(w, v, WI_POINTEE, ptr, 1, 0, types_resolve(w->t, conc)))
		visit_pointee(w, v, w->holder, w->index, ptr, types_resolve(w->t, conc));
}

static void visit_smallvec(struct walk *w, uint64_t addr, const struct wtype *wt, struct walk_visit *v)
{
	uint64_t cap, ptr, len;
	if (!walk_u64(w, addr + wt->off[0], &cap)) {
		walk_unreadable(w, addr, "SmallVec header not readable");
		return;
	}
	uint64_t base;
	if (cap > wt->n) {   /* spilled */
		if (!walk_u64(w, addr + wt->off[1], &ptr) || !walk_u64(w, addr + wt->off[2], &len) ||
		    !elems_ok(wt, cap, len)) {
			walk_unreadable(w, addr, "spilled SmallVec with a bad header");
			return;
		}
		if (wt->elem_size == 0 ||
		    !visit_alloc(w, v, ptr, cap * wt->elem_size, len * wt->elem_size, WALK_SMALLVEC, false))
			return;
		base = ptr;
		if ((!v->report || walk_owns(w, wt->elem) || wt->elem == w->op_type) &&
		    defer(w, v, WI_ELEMS, ptr, len, 0, wt->elem))
			return;
	} else {
		len = cap;   /* inline: the capacity field holds the length */
		base = addr + wt->off[3];
		ptr = w->holder;
	}
	if (!v->report || walk_owns(w, wt->elem) || wt->elem == w->op_type)
		for (uint64_t i = 0; i < len && !v->rc; i++)
			visit_elem(w, v, ptr, i, 0, 0, base + i * wt->elem_size, wt->elem);
}

static void visit_compact(struct walk *w, uint64_t addr, struct walk_visit *v)
{
	uint8_t b[24];
	if (image_read(w->img, addr, b, 24, NULL) != 0) {
		walk_unreadable(w, addr, "CompactString not readable");
		return;
	}
	if (b[23] != COMPACT_HEAP_MASK)
		return;   /* inline or static: no heap */
	uint64_t ptr, len, cap = 0;
	memcpy(&ptr, b, 8);
	memcpy(&len, b + 8, 8);
	memcpy(&cap, b + 16, 7);   /* 56-bit capacity, little-endian */
	if (len > cap || cap > (1ull << 48)) {
		walk_unreadable(w, addr, "CompactString heap form with len > capacity");
		return;
	}
	visit_alloc(w, v, ptr, cap, len, WALK_COMPACT_STR, false);
}

static void visit_once(struct walk *w, uint64_t addr, const struct wtype *wt, struct walk_visit *v)
{
	uint32_t state;
	if (image_read(w->img, addr + wt->off[0], &state, 4, NULL) != 0) {
		walk_unreadable(w, addr, "Once state not readable");
		return;
	}
	if (state != wt->n)
		return;   /* not initialised: owns nothing */
	if (!v->report || walk_owns(w, wt->elem) || wt->elem == w->op_type)
		visit_pointee(w, v, w->holder, w->index, addr + wt->off[1], wt->elem);
}

/* ---------------------------------------------------------------- queue */

void walk_dec_item(struct walk *w, const struct witem *it, unsigned kind)
{
	struct walk_visit v = {.report = true};
	const struct types_type *ty = types_get(w->t, it->type);
	const struct wtype *wt;
	uint64_t size = ty ? ty->size : 0;

	switch (kind) {
	case WI_ELEMS:
		for (uint64_t i = 0; i < it->n; i++)
			visit_elem(w, &v, it->mem, it->b + i, 0, 0, it->mem + (it->b + i) * size, it->type);
		break;
	case WI_ELEMS_AT:
		for (uint64_t i = 0; i < it->n; i++)
			visit_elem(w, &v, it->mem, i, 0, 0, it->mem + it->b + i * size, it->type);
		break;
	case WI_POINTEE:
		visit_pointee(w, &v, w->holder, w->index, it->mem + it->b, it->type);
		break;
	case WI_TABLE:
		if ((wt = walk_type_info(w, it->type)) && wt->cls == CLS_RAWTABLE)
			table_elems(w, &v, wt, it->mem, it->n, it->b);
		break;
	case WI_BTREE:
		if ((wt = walk_type_info(w, it->type)) && wt->cls == CLS_BTREEMAP && it->b < w->ntrees) {
			uint64_t count = w->trees[it->b].count;
			visit_btree_node(w, it->type, wt, &v, it->mem, it->n, &count, w->trees[it->b].length, it->b);
			w->trees[it->b].count = count;
		}
		break;
	}
}

/* ---------------------------------------------------------------- table */

typedef bool (*setup_fn)(struct walk *, type_id, const struct types_type *, struct wtype *);

struct decoder {
	const char *prefix;   /* qualified-name prefix */
	bool exact;           /* the name must equal prefix */
	uint8_t cls;
	setup_fn setup;
};

static const struct decoder DECODERS[] = {
	{"alloc::vec::Vec<", false, CLS_VEC, setup_vec},
	{"alloc::string::String", true, CLS_STRING, setup_string},
	{"alloc::collections::vec_deque::VecDeque<", false, CLS_VECDEQUE, setup_vecdeque},
	{"hashbrown::raw::RawTable<", false, CLS_RAWTABLE, setup_rawtable},
	{"hashbrown::raw::inner::RawTable<", false, CLS_RAWTABLE, setup_rawtable},
	{"alloc::collections::btree::map::BTreeMap<", false, CLS_BTREEMAP, setup_btreemap},
	{"alloc::sync::Arc<", false, CLS_ARC, setup_arc},
	{"alloc::rc::Rc<", false, CLS_RC, setup_arc},
	{"alloc::boxed::Box<", false, CLS_BOX, setup_box},
	{"smallvec::SmallVec<", false, CLS_SMALLVEC, setup_smallvec},
	{"compact_str::CompactString", true, CLS_COMPACT_STR, setup_compact},
	{"compact_str::repr::Repr", true, CLS_COMPACT_STR, setup_compact},
	{"std::sync::once_lock::OnceLock<", false, CLS_ONCE, setup_once},
	{"std::sync::lazy_lock::LazyLock<", false, CLS_ONCE, setup_once},
	/* not owning, whatever their members say */
	{"alloc::sync::Weak<", false, CLS_PLAIN, NULL},
	{"alloc::rc::Weak<", false, CLS_PLAIN, NULL},
	{"core::mem::maybe_uninit::MaybeUninit<", false, CLS_PLAIN, NULL},
	{"core::ptr::non_null::NonNull<", false, CLS_PLAIN, NULL},
	{"core::ptr::unique::Unique<", false, CLS_PLAIN, NULL},
	{"alloc::raw_vec::RawVec", false, CLS_PLAIN, NULL},
	{"core::marker::PhantomData<", false, CLS_PLAIN, NULL},
	{"&", false, CLS_PLAIN, NULL},
	{"*", false, CLS_PLAIN, NULL},
};

bool walk_dec_classify(struct walk *w, type_id id, const struct types_type *ty, struct wtype *wt)
{
	const char *name = ty->name;
	if (!name || !*name)
		return false;
	for (size_t i = 0; i < sizeof DECODERS / sizeof DECODERS[0]; i++) {
		const struct decoder *d = &DECODERS[i];
		if (d->exact ? strcmp(name, d->prefix) != 0 : !starts(name, d->prefix))
			continue;
		if (d->cls == CLS_BOX && ty->kind != TYPES_POINTER && ty->kind != TYPES_STRUCT)
			continue;
		wt->cls = d->cls;
		if (d->cls == CLS_BOX && ty->kind == TYPES_STRUCT)
			wt->cls = CLS_BOX_FAT;
		if (d->setup && !d->setup(w, id, ty, wt))
			wt->cls = CLS_BAD;
		return true;
	}
	return false;
}

int walk_dec_visit(struct walk *w, uint64_t addr, type_id id, const struct wtype *wt,
		   struct walk_visit *v)
{
	switch (wt->cls) {
	case CLS_VEC:
		visit_vec(w, addr, wt, v, WALK_VEC);
		break;
	case CLS_STRING:
		visit_vec(w, addr, wt, v, WALK_STRING);
		break;
	case CLS_VECDEQUE:
		visit_vecdeque(w, addr, wt, v);
		break;
	case CLS_RAWTABLE:
		visit_rawtable(w, addr, id, wt, v);
		break;
	case CLS_BTREEMAP:
		visit_btreemap(w, addr, id, wt, v);
		break;
	case CLS_ARC:
		visit_rc(w, addr, wt, v, WALK_ARC);
		break;
	case CLS_RC:
		visit_rc(w, addr, wt, v, WALK_RC);
		break;
	case CLS_BOX:
	case CLS_BOX_FAT:
		visit_box(w, addr, wt, v);
		break;
	case CLS_SMALLVEC:
		visit_smallvec(w, addr, wt, v);
		break;
	case CLS_COMPACT_STR:
		visit_compact(w, addr, v);
		break;
	case CLS_ONCE:
		visit_once(w, addr, wt, v);
		break;
	default:
		return ERR_NOTFOUND;
	}
	return v->rc;
}

void walk_dec_walk(struct walk *w, uint64_t addr, type_id id, const struct wtype *wt)
{
	struct walk_visit v = {.report = true};
	walk_dec_visit(w, addr, id, wt, &v);
}

/* ---------------------------------------------------------------- check */

static int check_chunk(struct walk *w, uint64_t mem, uint64_t need, const char *what, struct err *e)
{
	size_t i = heap_find(w->h, mem);
	struct heap_chunk c;
	if (i != SIZE_MAX) {
		const struct heap_chunk hc = heap_chunk_get(w->h, i);
		if (hc.state == HEAP_INUSE && heap_usable(&hc) >= need)
			return 0;
	} else if (heap_chunk_at(w->h, mem, &c, NULL) == 0 && heap_usable(&c) >= need) {
		return 0;
	}
	return err_fault(e, mem, "%s buffer 0x%llx is not an in-use heap chunk of at least %llu bytes", what,
			 (unsigned long long)mem, (unsigned long long)need);
}

static int check_val(struct walk *w, uint64_t addr, type_id id, int depth, struct err *e);

static int check_members(struct walk *w, uint64_t base, const struct types_type *ty, int depth, struct err *e)
{
	for (uint32_t i = 0; i < ty->nmembers; i++) {
		type_id mt = types_resolve(w->t, ty->members[i].type);
		if (walk_owns(w, mt)) {
			int rc = check_val(w, base + ty->members[i].offset, mt, depth + 1, e);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static int check_val(struct walk *w, uint64_t addr, type_id id, int depth, struct err *e)
{
	const struct wtype *wt = walk_type_info(w, id);
	const struct types_type *ty = types_get(w->t, id);
	uint64_t a, b, c, d;
	if (!wt || !ty || depth > 6)
		return 0;
	switch (wt->cls) {
	case CLS_STRUCT:
		return check_members(w, addr, ty, depth, e);
	case CLS_ENUM: {
		uint32_t vi;
		if (walk_variant(w, addr, id, &vi, e) != 0)
			return ERR_CORRUPT;
		const struct types_type *vt = types_get(w->t, types_resolve(w->t, ty->vpart->variants[vi].type));
		return vt ? check_members(w, addr + ty->vpart->variants[vi].offset, vt, depth, e) : 0;
	}
	case CLS_VEC:
	case CLS_STRING:
	case CLS_VECDEQUE:
		if (!read3(w, addr, wt->off, &a, &b, &c))
			return err_fault(e, addr, "%s header at 0x%llx not readable", ty->name, (unsigned long long)addr);
		if (wt->cls == CLS_VECDEQUE && !walk_u64(w, addr + wt->off[3], &c))
			return err_fault(e, addr, "%s header not readable", ty->name);
		if (!elems_ok(wt, a, c))
			return err_set(e, ERR_CORRUPT, "%s at 0x%llx: len %llu > capacity %llu", ty->name,
				       (unsigned long long)addr, (unsigned long long)c, (unsigned long long)a);
		return a && wt->elem_size ? check_chunk(w, b, a * wt->elem_size, ty->name, e) : 0;
	case CLS_RAWTABLE: {
		if (!read3(w, addr, wt->off, &a, &b, &c))
			return err_fault(e, addr, "hash table header at 0x%llx not readable", (unsigned long long)addr);
		if (b == 0)
			return 0;
		uint64_t buckets = b + 1;
		if ((buckets & b) || buckets > WALK_MAX_ELEMS || c > buckets)
			return err_set(e, ERR_CORRUPT, "hash table at 0x%llx: bucket mask %#llx, %llu items",
				       (unsigned long long)addr, (unsigned long long)b, (unsigned long long)c);
		uint64_t align = wt->elem_align > GROUP_WIDTH ? wt->elem_align : GROUP_WIDTH;
		uint64_t off = round_up(wt->elem_size * buckets, align);
		if (a < off)
			return err_set(e, ERR_CORRUPT, "hash table at 0x%llx: control pointer below its data",
				       (unsigned long long)addr);
		int rc = check_chunk(w, a - off, off + buckets + GROUP_WIDTH, "hash table", e);
		if (rc)
			return rc;
		const uint8_t *cb = image_ptr(w->img, a, buckets);
		if (!cb)
			return err_fault(e, a, "hash table control bytes at 0x%llx not readable", (unsigned long long)a);
		for (d = 0, b = 0; b < buckets; b++)
			d += !(cb[b] & 0x80);
		if (d != c)
			return err_set(e, ERR_CORRUPT, "hash table at 0x%llx: %llu full control bytes, %llu items",
				       (unsigned long long)addr, (unsigned long long)d, (unsigned long long)c);
		return 0;
	}
	case CLS_BTREEMAP:
		if (!read3(w, addr, wt->off, &a, &b, &c))
			return err_fault(e, addr, "BTreeMap header at 0x%llx not readable", (unsigned long long)addr);
		if (a == 0)
			return 0;
		if (b > 48 || (b > 0 && !wt->aux2))
			return err_set(e, ERR_CORRUPT, "BTreeMap at 0x%llx: height %llu", (unsigned long long)addr,
				       (unsigned long long)b);
		return check_chunk(w, a, b ? wt->aux2_size : wt->aux_size, "BTreeMap node", e);
	case CLS_BOX:
		if (wt->fat_kind || wt->elem_size == 0)
			return 0;
		if (!walk_u64(w, addr, &a))
			return err_fault(e, addr, "Box at 0x%llx not readable", (unsigned long long)addr);
		return check_chunk(w, a, wt->elem_size, ty->name, e);
	case CLS_ARC:
	case CLS_RC:
		if (wt->fat_kind)
			return 0;
		if (!walk_u64(w, addr + wt->off[0], &a))
			return err_fault(e, addr, "Arc at 0x%llx not readable", (unsigned long long)addr);
		return check_chunk(w, a, wt->aux_size, ty->name, e);
	default:
		return 0;
	}
}

int walk_check(struct walk *w, uint64_t addr, type_id ty, struct err *e)
{
	return check_val(w, addr, types_resolve(w->t, ty), 0, e);
}
