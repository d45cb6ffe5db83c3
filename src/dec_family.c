/* dec_family.c: the Rust container decoders, one table entry per family.
 *
 * Each entry names the qualified-name prefix that identifies the family and
 * two functions:
 *   - setup finds the family's fields by name in DWARF and fills its named
 *     layout (dec_int.h), in the form the version tables (dec_std.c)
 *     say the binary's std or crate release uses;
 *   - decode reads one container's header from the core, validates it, and
 *     returns the common view: the allocation it owns (requested and used
 *     bytes) and how its live elements are reached.
 * Everything else is shared: the profile's walk (report the allocation,
 * queue or visit the elements), root validation (the allocation must be an
 * in-use chunk of the census big enough for it) and the typed readers of
 * dec_read.c all start from decode, so no header is decoded twice.  Adding
 * a family means adding an entry here; the walker core does not change.
 *
 * Layout sources: rust-lang/rust src/etc providers (Vec, VecDeque, String,
 * HashMap, BTreeMap, Rc/Arc, LinkedList paths), hashbrown's TableLayout
 * (ctrl_offset = round_up(size*buckets, max(align, GROUP_WIDTH)),
 * alloc = ctrl_offset + buckets + GROUP_WIDTH, data below ctrl), smallvec 1.x
 * (capacity field holds len while inline; spilled iff capacity > N),
 * compact_str's 24-byte Repr (discriminant in the last byte).
 */
#include "dec_int.h"

#include <string.h>

#define BTREE_MAX_HEIGHT 48     /* a tree of 11-key nodes this high holds more than a core */

static uint64_t round_up(uint64_t v, uint64_t a) { return a ? (v + a - 1) / a * a : v; }

static bool starts(const char *s, const char *p) { return s && strncmp(s, p, strlen(p)) == 0; }

static void set_elem(struct dec *d, struct dec_type *wt, type_id el)
{
	const struct types_type *et = types_get(d->t, el);
	wt->elem = el;
	wt->elem_size = et ? et->size : 0;
	wt->elem_align = et && et->align ? et->align : 1;
}

/* Option<NonNull<T>> / NonNull<T> / *T: the pointee type of a pointer-ish member. */
static type_id pointee(struct dec *d, type_id id)
{
	for (int guard = 0; guard < 8 && id; guard++) {
		const struct types_type *ty = types_get(d->t, id);
		if (!ty)
			return 0;
		if (ty->kind == TYPES_POINTER)
			return types_resolve(d->t, ty->target);
		if (ty->vpart) {   /* Option<NonNull<T>>: the Some payload */
			for (uint32_t i = 0; i < ty->vpart->nvariants; i++)
				if (strcmp(ty->vpart->variants[i].name, "Some") == 0) {
					const struct types_type *vt =
						types_get(d->t, types_resolve(d->t, ty->vpart->variants[i].type));
					if (vt && vt->nmembers >= 1)
						return pointee(d, types_resolve(d->t, vt->members[0].type));
				}
			return 0;
		}
		if (ty->kind != TYPES_STRUCT || ty->nmembers < 1)
			return 0;
		id = types_resolve(d->t, ty->members[0].type);
	}
	return 0;
}

/* A fat pointer struct: {data_ptr, length} (slice, str) or {pointer, vtable}
 * (dyn); the pointer's and the metadata's offsets and the pointee type. */
static enum wfat fat_form(struct dec *d, type_id id, uint64_t *ptr, uint64_t *meta, type_id *elem)
{
	type_id t0;
	if (types_member_path(d->t, id, "data_ptr", ptr, &t0, NULL) == 0 &&
	    types_member_path(d->t, id, "length", meta, NULL, NULL) == 0) {
		*elem = pointee(d, types_resolve(d->t, t0));
		return FAT_SLICE;
	}
	if (types_member_path(d->t, id, "pointer", ptr, &t0, NULL) == 0 &&
	    types_member_path(d->t, id, "vtable", meta, NULL, NULL) == 0) {
		*elem = pointee(d, types_resolve(d->t, t0));
		return FAT_DYN;
	}
	return FAT_THIN;
}

/* ---------------------------------------------------------------- setup */

static bool setup_vec_at(struct dec *d, type_id id, const char *prefix, struct vec_layout *l)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%sbuf.", prefix);
	if (dec_std_field(d, id, buf, DEC_RAWVEC_CAP, "RawVec capacity", &l->cap, NULL) < 0 ||
	    dec_std_field(d, id, buf, DEC_RAWVEC_PTR, "RawVec pointer", &l->ptr, NULL) < 0)
		return false;
	snprintf(buf, sizeof buf, "%slen", prefix);
	return types_member_path(d->t, id, buf, &l->len, NULL, NULL) == 0;
}

static bool setup_vec(struct dec *d, type_id id, const struct types_type *ty, struct dec_type *wt)
{
	(void)ty;
	type_id el = types_resolve(d->t, types_tparam(d->t, id, "T"));
	if (!el || !setup_vec_at(d, id, "", &wt->l.vec))
		return false;
	set_elem(d, wt, el);
	return true;
}

static bool setup_string(struct dec *d, type_id id, const struct types_type *ty, struct dec_type *wt)
{
	(void)ty;
	if (!setup_vec_at(d, id, "vec.", &wt->l.vec))
		return false;
	wt->elem = 0;
	wt->elem_size = 1;
	return true;
}

static bool setup_vecdeque(struct dec *d, type_id id, const struct types_type *ty, struct dec_type *wt)
{
	(void)ty;
	struct deque_layout *l = &wt->l.deque;
	struct vec_layout raw;
	type_id el = types_resolve(d->t, types_tparam(d->t, id, "T"));
	if (!el || !dec_std_deque_form(d, id, &l->tail_head) ||
	    dec_std_field(d, id, "buf.", DEC_RAWVEC_CAP, "RawVec capacity", &raw.cap, NULL) < 0 ||
	    dec_std_field(d, id, "buf.", DEC_RAWVEC_PTR, "RawVec pointer", &raw.ptr, NULL) < 0)
		return false;
	l->cap = raw.cap;
	l->ptr = raw.ptr;
	/* head + len, or (before rustc 1.67) tail + head */
	if (types_member_path(d->t, id, l->tail_head ? "tail" : "head", &l->head, NULL, NULL) != 0 ||
	    types_member_path(d->t, id, l->tail_head ? "head" : "len", &l->len, NULL, NULL) != 0)
		return false;
	set_elem(d, wt, el);
	return true;
}

static bool setup_rawtable(struct dec *d, type_id id, const struct types_type *ty, struct dec_type *wt)
{
	(void)ty;
	static const struct dec_field_form ctrl[] = {
		{"table.ctrl.pointer", "RawTableInner, ctrl: NonNull<u8>"},
		{"table.ctrl", "RawTableInner, ctrl: a raw pointer"},
		{NULL, NULL},
	};
	struct rawtable_layout *l = &wt->l.table;
	type_id el = types_resolve(d->t, types_tparam(d->t, id, "T"));
	if (!el || dec_std_field(d, id, "", ctrl, NULL, &l->ctrl, NULL) < 0 ||
	    types_member_path(d->t, id, "table.bucket_mask", &l->bucket_mask, NULL, NULL) != 0 ||
	    types_member_path(d->t, id, "table.items", &l->items, NULL, NULL) != 0 ||
	    !(l->group_width = dec_std_group_width(d)))
		return false;
	set_elem(d, wt, el);
	/* a (K, V) tuple: remember where the key sits so ops know their key */
	const struct types_type *et = types_get(d->t, el);
	l->pair = false;
	if (et && et->name[0] == '(' && et->nmembers == 2) {
		l->pair = true;
		for (uint32_t i = 0; i < 2; i++)
			if (strcmp(et->members[i].name, "__0") == 0) {
				l->key_off = et->members[i].offset;
				l->key = types_resolve(d->t, et->members[i].type);
			} else {
				l->val_off = et->members[i].offset;
				l->val = types_resolve(d->t, et->members[i].type);
			}
	}
	return true;
}

static bool setup_btreemap(struct dec *d, type_id id, const struct types_type *ty, struct dec_type *wt)
{
	(void)ty;
	struct btree_layout *l = &wt->l.btree;
	uint64_t root_off;
	type_id root_t, node_t = 0;
	type_id k = types_resolve(d->t, types_tparam(d->t, id, "K"));
	type_id v = types_resolve(d->t, types_tparam(d->t, id, "V"));

	if (types_member_path(d->t, id, "length", &l->length, NULL, NULL) != 0 ||
	    types_member_path(d->t, id, "root", &root_off, &root_t, NULL) != 0 || !k || !v)
		return false;
	/* root is Option<NodeRef>: find the Some payload's node pointer and height */
	const struct types_type *rt = types_get(d->t, types_resolve(d->t, root_t));
	if (!rt || !rt->vpart)
		return false;
	bool found = false;
	for (uint32_t i = 0; i < rt->vpart->nvariants && !found; i++) {
		const struct types_variant *va = &rt->vpart->variants[i];
		uint64_t o_node, o_h;
		if (strcmp(va->name, "Some") != 0)
			continue;
		type_id vt = types_resolve(d->t, va->type);
		if (types_member_path(d->t, vt, "__0.node.pointer", &o_node, &node_t, NULL) == 0 &&
		    types_member_path(d->t, vt, "__0.height", &o_h, NULL, NULL) == 0) {
			l->root_node = root_off + va->offset + o_node;
			l->root_height = root_off + va->offset + o_h;
			found = true;
		}
	}
	if (!found)
		return false;
	type_id leaf = pointee(d, types_resolve(d->t, node_t)), keys_t;
	const struct types_type *lt = types_get(d->t, leaf);
	if (!lt || lt->kind != TYPES_STRUCT ||
	    types_member_path(d->t, leaf, "keys", &l->keys, &keys_t, NULL) != 0 ||
	    types_member_path(d->t, leaf, "vals", &l->vals, NULL, NULL) != 0 ||
	    types_member_path(d->t, leaf, "len", &l->len, NULL, NULL) != 0)
		return false;
	const struct types_type *kt = types_get(d->t, types_resolve(d->t, keys_t));
	if (!kt || kt->kind != TYPES_ARRAY || !(l->capacity = dec_std_btree_capacity(d, leaf, kt->count)))
		return false;
	l->leaf = leaf;
	l->leaf_size = lt->size;
	l->internal = 0;
	l->internal_size = 0;
	/* InternalNode<K, V> has the same generic arguments */
	char name[2048];
	const char *p = strstr(lt->name, "LeafNode<");
	if (p && (size_t)(p - lt->name) + strlen(p) + 8 < sizeof name) {
		snprintf(name, sizeof name, "%.*sInternalNode<%s", (int)(p - lt->name), lt->name, p + 9);
		type_id in;
		if (types_lookup(d->t, name, &in, NULL) == 0 &&
		    types_member_path(d->t, in, "edges", &l->edges, NULL, NULL) == 0) {
			l->internal = types_resolve(d->t, in);
			l->internal_size = types_get(d->t, l->internal)->size;
		}
	}
	set_elem(d, wt, k);
	l->val = v;
	l->val_size = types_get(d->t, v) ? types_get(d->t, v)->size : 0;
	return true;
}

static bool setup_rc(struct dec *d, type_id id, const struct types_type *ty, struct dec_type *wt)
{
	(void)ty;
	struct rc_layout *l = &wt->l.rc;
	uint64_t off;
	type_id pt;
	if (types_member_path(d->t, id, "ptr.pointer", &off, &pt, NULL) != 0)
		return false;
	pt = types_resolve(d->t, pt);
	const struct types_type *p = types_get(d->t, pt);
	if (!p)
		return false;
	type_id inner;
	l->ptr = off;
	if (p->kind == TYPES_POINTER) {
		inner = types_resolve(d->t, p->target);
		l->fat = FAT_THIN;
	} else {
		/* a fat *const ArcInner<[T]> / <str> / <dyn Tr> */
		uint64_t o0, o1;
		l->fat = fat_form(d, pt, &o0, &o1, &inner);
		if (l->fat == FAT_THIN)
			return false;
		l->ptr = off + o0;
		l->meta = off + o1;
	}
	const struct types_type *it = types_get(d->t, inner);
	static const struct dec_field_form data[] = {
		{"data", "ArcInner { strong, weak, data }"},
		{"value", "RcInner / RcBox { strong, weak, value }"},
		{NULL, NULL},
	};
	type_id dt;
	if (!it || dec_std_field(d, inner, "", data, NULL, &l->data, &dt) < 0 ||
	    types_member_path(d->t, inner, "strong", &l->strong, NULL, NULL) != 0)
		return false;
	l->inner = inner;
	l->inner_size = it->size;
	set_elem(d, wt, dt);
	return true;
}

static bool setup_box(struct dec *d, type_id id, const struct types_type *ty, struct dec_type *wt)
{
	struct box_layout *l = &wt->l.box;
	if (ty->kind == TYPES_POINTER) {
		l->fat = FAT_THIN;
		l->ptr = 0;
		set_elem(d, wt, types_resolve(d->t, ty->target));
		return true;
	}
	if (ty->kind != TYPES_STRUCT)
		return false;
	type_id el;
	l->fat = fat_form(d, id, &l->ptr, &l->meta, &el);
	if (l->fat == FAT_THIN)
		return false;
	set_elem(d, wt, el);
	return true;
}

static bool setup_smallvec(struct dec *d, type_id id, const struct types_type *ty, struct dec_type *wt)
{
	(void)ty;
	struct smallvec_layout *l = &wt->l.sv;
	uint64_t data_off;
	type_id data_t;
	type_id arr = types_resolve(d->t, types_tparam(d->t, id, "A"));
	const struct types_type *at = types_get(d->t, arr);
	if (!at || at->kind != TYPES_ARRAY ||
	    types_member_path(d->t, id, "capacity", &l->capacity, NULL, NULL) != 0 ||
	    types_member_path(d->t, id, "data", &data_off, &data_t, NULL) != 0)
		return false;
	set_elem(d, wt, types_resolve(d->t, at->target));
	l->inline_cap = at->count;
	data_t = types_resolve(d->t, data_t);
	const struct types_type *dt = types_get(d->t, data_t);
	if (!dt)
		return false;
	char ev[512];
	if (dt->vpart) {   /* enum SmallVecData { Inline(MaybeUninit<A>), Heap((NonNull<T>, usize)) | Heap{ptr,len} } */
		static const struct dec_field_form p[] = {{"__0.__0", "Heap((ptr, len))"}, {"ptr", "Heap { ptr, len }"},
							  {NULL, NULL}};
		static const struct dec_field_form n[] = {{"__0.__1", "Heap((ptr, len))"}, {"len", "Heap { ptr, len }"},
							  {NULL, NULL}};
		bool heap = false, inl = false;
		for (uint32_t i = 0; i < dt->vpart->nvariants; i++) {
			const struct types_variant *va = &dt->vpart->variants[i];
			type_id vt = types_resolve(d->t, va->type);
			uint64_t o = 0, o2 = 0;
			if (strcmp(va->name, "Heap") == 0) {
				heap = dec_std_field(d, vt, "", p, NULL, &o, NULL) >= 0 &&
				       dec_std_field(d, vt, "", n, NULL, &o2, NULL) >= 0;
				l->heap_ptr = data_off + va->offset + o;
				l->heap_len = data_off + va->offset + o2;
			} else if (strcmp(va->name, "Inline") == 0) {
				inl = types_member_path(d->t, vt, "__0", &o, NULL, NULL) == 0;
				l->inline_data = data_off + va->offset + o;
			}
		}
		snprintf(ev, sizeof ev, "DWARF: %.120s is an enum with Inline and Heap variants", dt->name);
		if (heap && inl)
			dec_std_note(d, "smallvec", "SmallVecData", "enum (default features)", ev);
		return heap && inl;
	}
	/* union SmallVecData { inline: ..., heap: (NonNull<T>, usize) } */
	static const struct dec_field_form p[] = {{"heap.__0", "heap: (ptr, len)"}, {"heap.ptr", "heap: { ptr, len }"},
						  {NULL, NULL}};
	static const struct dec_field_form n[] = {{"heap.__1", "heap: (ptr, len)"}, {"heap.len", "heap: { ptr, len }"},
						  {NULL, NULL}};
	if (dec_std_field(d, data_t, "", p, NULL, &l->heap_ptr, NULL) < 0 ||
	    dec_std_field(d, data_t, "", n, NULL, &l->heap_len, NULL) < 0 ||
	    types_member_path(d->t, data_t, "inline", &l->inline_data, NULL, NULL) != 0)
		return false;
	l->heap_ptr += data_off;
	l->heap_len += data_off;
	l->inline_data += data_off;
	snprintf(ev, sizeof ev, "DWARF: %.120s is a union with inline and heap members", dt->name);
	dec_std_note(d, "smallvec", "SmallVecData", "union (feature \"union\")", ev);
	return true;
}

static bool setup_compact(struct dec *d, type_id id, const struct types_type *ty, struct dec_type *wt)
{
	(void)ty;
	return dec_std_compact(d, id, &wt->l.cs.repr);
}

static bool setup_once(struct dec *d, type_id id, const struct types_type *ty, struct dec_type *wt)
{
	(void)ty;
	static const struct dec_field_form val[] = {{"value", "OnceLock { once, value }"},
						    {"data", "LazyLock { once, data }"}, {NULL, NULL}};
	struct once_layout *l = &wt->l.once;
	uint64_t once_off, state_off;
	type_id once_t;
	type_id el = types_resolve(d->t, types_tparam(d->t, id, "T"));
	if (!el || types_member_path(d->t, id, "once", &once_off, &once_t, NULL) != 0 ||
	    dec_std_field(d, id, "", val, NULL, &l->value, NULL) < 0 ||
	    !(l->impl = dec_std_once(d, types_resolve(d->t, once_t), &state_off)))
		return false;
	l->state = once_off + state_off;
	set_elem(d, wt, el);
	return true;
}

static bool setup_list(struct dec *d, type_id id, const struct types_type *ty, struct dec_type *wt)
{
	(void)ty;
	struct list_layout *l = &wt->l.list;
	type_id head_t, el;
	uint64_t o;
	if (types_member_path(d->t, id, "head", &l->head, &head_t, NULL) != 0 ||
	    types_member_path(d->t, id, "len", &l->len, NULL, NULL) != 0)
		return false;
	type_id node = pointee(d, types_resolve(d->t, head_t));
	const struct types_type *nt = types_get(d->t, node);
	if (!nt || nt->kind != TYPES_STRUCT || types_member_path(d->t, node, "next", &l->next, NULL, NULL) != 0 ||
	    types_member_path(d->t, node, "element", &l->element, &el, NULL) != 0 ||
	    types_member_path(d->t, node, "prev", &o, NULL, NULL) != 0)
		return false;
	l->node = node;
	l->node_size = nt->size;
	set_elem(d, wt, types_resolve(d->t, el));
	return l->node_size > 0;
}

/* arrayvec 0.7: ArrayVec<T, CAP> { xs: [MaybeUninit<T>; CAP], len: u32 }. */
static bool setup_arrayvec(struct dec *d, type_id id, const struct types_type *ty, struct dec_type *wt)
{
	(void)ty;
	struct arrayvec_layout *l = &wt->l.av;
	type_id xs_t, len_t;
	type_id el = types_resolve(d->t, types_tparam(d->t, id, "T"));
	if (!el || types_member_path(d->t, id, "xs", &l->xs, &xs_t, NULL) != 0 ||
	    types_member_path(d->t, id, "len", &l->len, &len_t, NULL) != 0)
		return false;
	const struct types_type *at = types_get(d->t, types_resolve(d->t, xs_t));
	const struct types_type *lt = types_get(d->t, types_resolve(d->t, len_t));
	if (!at || at->kind != TYPES_ARRAY || !lt || lt->size == 0 || lt->size > 8)
		return false;
	set_elem(d, wt, el);
	const struct types_type *slot = types_get(d->t, types_resolve(d->t, at->target));
	if (!slot || slot->size != wt->elem_size)
		return false;   /* MaybeUninit<T> has T's size */
	l->cap = at->count;
	l->len_size = (uint32_t)lt->size;
	return true;
}

/* bytes::Bytes { vtable, ptr, len, data } and BytesMut { ptr, len, cap, data }. */
static bool setup_bytes(struct dec *d, type_id id, const struct types_type *ty, struct dec_type *wt)
{
	(void)ty;
	struct bytes_layout *l = &wt->l.bytes;
	bool mut = wt->cls == CLS_BYTES_MUT;
	type_id sh;
	if (types_member_path(d->t, id, "ptr", &l->ptr, NULL, NULL) != 0 ||
	    types_member_path(d->t, id, "len", &l->len, NULL, NULL) != 0 ||
	    types_member_path(d->t, id, "data", &l->data, NULL, NULL) != 0 ||
	    (mut ? types_member_path(d->t, id, "cap", &l->cap, NULL, NULL)
		 : types_member_path(d->t, id, "vtable", &l->vtable, NULL, NULL)) != 0 ||
	    types_lookup(d->t, mut ? "bytes::bytes_mut::Shared" : "bytes::bytes::Shared", &sh, NULL) != 0 ||
	    !dec_std_bytes(d, l))
		return false;
	l->shared = types_resolve(d->t, sh);
	l->shared_size = types_get(d->t, l->shared)->size;
	wt->elem = 0;
	wt->elem_size = 1;
	return l->shared_size > 0;
}

/* bytes::bytes::Shared { buf, cap, ref_cnt }: the buffer a KIND_ARC Bytes shares. */
static bool setup_bytes_shared(struct dec *d, type_id id, const struct types_type *ty, struct dec_type *wt)
{
	(void)ty;
	wt->elem = 0;
	wt->elem_size = 1;
	return types_member_path(d->t, id, "buf", &wt->l.bytes.ptr, NULL, NULL) == 0 &&
	       types_member_path(d->t, id, "cap", &wt->l.bytes.cap, NULL, NULL) == 0;
}

/* A thin raw pointer, or NonNull around one: where the address lies.  Fat
 * ones (*const [T], *const dyn Tr) are not watched. */
static bool setup_rawptr(struct dec *d, type_id id, const struct types_type *ty, struct dec_type *wt)
{
	type_id pt;
	if (ty->kind == TYPES_POINTER) {
		wt->l.raw.ptr = 0;
		return true;
	}
	if (types_member_path(d->t, id, "pointer", &wt->l.raw.ptr, &pt, NULL) != 0)
		return false;
	const struct types_type *p = types_get(d->t, types_resolve(d->t, pt));
	return p && p->kind == TYPES_POINTER;
}

/* ---------------------------------------------------------------- decode */

/* Each decoder reads a container's header at addr and fills the view; it
 * returns NULL, or why the header is not plausible (v->bad: where). */
typedef const char *(*decode_fn)(struct dec *d, uint64_t addr, const struct dec_type *wt, struct dec_view *v);

static bool elems_ok(struct dec *d, const struct dec_type *wt, uint64_t cap, uint64_t len)
{
	return dec_elems_ok(d, wt, cap, len);
}

/* Three words of a header, at offsets a, b, c from addr. */
static bool read3(struct dec *d, uint64_t addr, uint64_t a, uint64_t b, uint64_t c, uint64_t *va, uint64_t *vb,
		  uint64_t *vc)
{
	return dec_u64(d, addr + a, va) && dec_u64(d, addr + b, vb) && dec_u64(d, addr + c, vc);
}

static void one_run(struct dec_view *v, uint64_t n)
{
	v->elems = VIEW_RUNS;
	v->nruns = 1;
	v->run[0] = (struct dec_run){0, 0, n};
}

static const char *decode_vec(struct dec *d, uint64_t addr, const struct dec_type *wt, struct dec_view *v)
{
	const struct vec_layout *l = &wt->l.vec;
	uint64_t cap, ptr, len;
	if (!read3(d, addr, l->cap, l->ptr, l->len, &cap, &ptr, &len))
		return "Vec header not readable";
	if (wt->elem_size == 0)
		return NULL;   /* Vec<ZST>: no buffer, whatever len says */
	if (!elems_ok(d, wt, cap, len))
		return "Vec with len > cap or absurd capacity";
	v->is_str = wt->cls == CLS_STRING;
	v->at = ptr;
	v->str.len = len;
	if (cap == 0)
		return NULL;
	v->mem = ptr;
	v->requested = cap * wt->elem_size;
	v->used = len * wt->elem_size;
	v->kind = wt->cls == CLS_STRING ? WALK_STRING : WALK_VEC;
	if (wt->elem)
		one_run(v, len);
	return NULL;
}

static const char *decode_vecdeque(struct dec *d, uint64_t addr, const struct dec_type *wt, struct dec_view *v)
{
	const struct deque_layout *l = &wt->l.deque;
	uint64_t cap, ptr, head, len;
	if (!read3(d, addr, l->cap, l->ptr, l->head, &cap, &ptr, &head) || !dec_u64(d, addr + l->len, &len))
		return "VecDeque header not readable";
	if (wt->elem_size == 0)
		return NULL;
	if (l->tail_head) {
		/* [tail, head) modulo a power-of-two capacity */
		uint64_t tail = head;
		head = len;
		if (cap && ((cap & (cap - 1)) || tail >= cap || head >= cap))
			return "VecDeque with tail or head out of range";
		len = cap ? (head - tail) & (cap - 1) : 0;
		head = tail;
	}
	if (!elems_ok(d, wt, cap, len) || (cap && head >= cap))
		return "VecDeque with len > cap or head out of range";
	if (cap == 0)
		return NULL;
	v->mem = ptr;
	v->requested = cap * wt->elem_size;
	v->used = len * wt->elem_size;
	v->kind = WALK_VECDEQUE;
	/* the live elements are [head, cap) then [0, rest) */
	uint64_t first = len < cap - head ? len : cap - head;
	v->elems = VIEW_RUNS;
	v->nruns = 2;
	v->run[0] = (struct dec_run){head * wt->elem_size, head, first};
	v->run[1] = (struct dec_run){0, 0, len - first};
	return NULL;
}

/* The one formula for where a hashbrown table's control bytes lie: after
 * the buckets' data (growing down from them), rounded up to the larger of the
 * element's alignment and the group width; bytes from the allocation. */
uint64_t dec_table_ctrl_off(const struct dec_type *wt, uint64_t buckets)
{
	uint32_t gw = wt->l.table.group_width;
	uint64_t align = wt->elem_align > gw ? wt->elem_align : gw;
	return round_up(wt->elem_size * buckets, align);
}

static const char *decode_rawtable(struct dec *d, uint64_t addr, const struct dec_type *wt, struct dec_view *v)
{
	const struct rawtable_layout *l = &wt->l.table;
	uint64_t ctrl, mask, items;
	if (!read3(d, addr, l->ctrl, l->bucket_mask, l->items, &ctrl, &mask, &items))
		return "hash table header not readable";
	if (mask == 0)
		return NULL;   /* the static empty singleton: no allocation */
	uint64_t buckets = mask + 1;
	if ((buckets & mask) != 0 || buckets > image_core_size(d->img) || items > buckets || items > UINT32_MAX ||
	    (wt->elem_size && buckets > UINT64_MAX / 4 / wt->elem_size))
		return "hash table with a bad bucket mask or item count";
	uint64_t ctrl_off = dec_table_ctrl_off(wt, buckets);
	if (ctrl < ctrl_off)
		return "hash table control pointer below its data";
	v->mem = ctrl - ctrl_off;
	v->requested = ctrl_off + buckets + l->group_width;
	v->used = items * wt->elem_size;
	v->kind = WALK_HASHTABLE;
	v->elems = VIEW_TABLE;
	v->hash.buckets = buckets;
	v->hash.items = items;
	return NULL;
}

static const char *decode_btreemap(struct dec *d, uint64_t addr, const struct dec_type *wt, struct dec_view *v)
{
	const struct btree_layout *l = &wt->l.btree;
	uint64_t node, height, length;
	if (!read3(d, addr, l->root_node, l->root_height, l->length, &node, &height, &length))
		return "BTreeMap header not readable";
	if (node == 0)
		return NULL;   /* None: empty map without a root */
	/* every entry occupies bytes of some node in the core, so a length beyond
	 * the core's size is a lie; it also bounds the visits a cyclic tree gets */
	if (height > BTREE_MAX_HEIGHT || length > image_core_size(d->img))
		return "BTreeMap with an absurd height or length";
	v->elems = VIEW_BTREE;
	v->btree.root = node;
	v->btree.height = height;
	v->btree.len = length;
	return NULL;
}

static const char *decode_rc(struct dec *d, uint64_t addr, const struct dec_type *wt, struct dec_view *v)
{
	const struct rc_layout *l = &wt->l.rc;
	uint64_t ptr, meta = 0;
	if (!dec_u64(d, addr + l->ptr, &ptr) || (l->fat != FAT_THIN && !dec_u64(d, addr + l->meta, &meta)))
		return "Rc/Arc pointer not readable";
	uint64_t align = wt->elem_align > 8 ? wt->elem_align : 8;
	v->mem = ptr;
	v->shared = true;
	v->kind = wt->cls == CLS_RC ? WALK_RC : WALK_ARC;
	v->elem = wt->elem;
	switch (l->fat) {
	case FAT_THIN:
		v->requested = l->inner_size;
		v->elems = VIEW_POINTEE;
		v->at = ptr + l->data;
		v->data_off = l->data;
		break;
	case FAT_SLICE:
		if (meta > image_core_size(d->img) || (wt->elem_size && meta > UINT64_MAX / 2 / wt->elem_size))
			return "Rc/Arc slice with an absurd length";
		v->requested = round_up(l->data + meta * wt->elem_size, align);
		v->is_str = true;
		v->at = ptr + l->data;
		v->str.len = meta;
		v->elems = VIEW_RUNS;
		v->nruns = 1;
		v->run[0] = (struct dec_run){l->data, 0, meta};
		break;
	case FAT_DYN: {
		uint64_t vs, va;
		if (!dec_u64(d, meta + 8, &vs) || !dec_u64(d, meta + 16, &va) || vs > (1ull << 40) ||
		    va > (1ull << 20)) {
			v->bad = meta;
			return "trait-object vtable not readable";
		}
		align = va > 8 ? va : 8;
		/* the value follows the two counts, at its own alignment */
		uint64_t data = round_up(16, align);
		v->requested = round_up(data + vs, align);
		type_id conc = types_vtable_type(d->t, meta - image_bias(d->img));
		if (conc) {
			v->elems = VIEW_POINTEE;
			v->elem = types_resolve(d->t, conc);
			v->at = ptr + data;
			v->data_off = data;
		}
		break;
	}
	}
	v->used = v->requested;
	return NULL;
}

/* Weak<T>: a dangling Weak (Weak::new) points nowhere; a live one owns the
 * RcInner/ArcInner only when no strong reference is left (the value is
 * dropped then, the allocation kept for the weak ones): charged once, as
 * shared, its contents not walked. */
static const char *decode_weak(struct dec *d, uint64_t addr, const struct dec_type *wt, struct dec_view *v)
{
	const char *why = decode_rc(d, addr, wt, v);
	uint64_t strong;
	if (why)
		return why;
	const struct types_type *it = types_get(d->t, wt->l.rc.inner);
	v->kind = it && it->name && strstr(it->name, "ArcInner<") ? WALK_ARC : WALK_RC;
	v->elems = VIEW_NONE;
	v->is_str = false;
	if (v->mem == UINT64_MAX || v->mem == 0 || !dec_u64(d, v->mem + wt->l.rc.strong, &strong) || strong != 0) {
		v->mem = 0;   /* dangling, unreadable (the strong owner reports it), or still strong */
		return NULL;
	}
	return NULL;
}

/* A KIND_ARC data pointer: the Shared allocation (counted once, however
 * many Bytes share it), whose own decoder reports the buffer. */
static void bytes_arc(const struct bytes_layout *l, uint64_t shared, struct dec_view *v)
{
	v->mem = shared;
	v->requested = v->used = l->shared_size;
	v->shared = true;
	v->kind = WALK_BOX;
	v->elems = VIEW_POINTEE;
	v->elem = l->shared;
	v->at = shared;
	v->walk_always = true;
}

static const char *decode_bytes(struct dec *d, uint64_t addr, const struct dec_type *wt, struct dec_view *v)
{
	const struct bytes_layout *l = &wt->l.bytes;
	uint64_t ptr, len, data, vt;
	if (!read3(d, addr, l->ptr, l->len, l->data, &ptr, &len, &data) || !dec_u64(d, addr + l->vtable, &vt))
		return "Bytes header not readable";
	vt -= image_bias(d->img);
	v->is_str = true;
	v->at = ptr;
	v->str.len = len;
	/* &'static [u8]: no heap.  bytes 1.x's STATIC_VTABLE is a const (no
	 * symbol to compare with), but Bytes::from_static leaves data null */
	if ((l->vt_static && vt == l->vt_static) || data == 0)
		return NULL;
	if ((!l->vt_shared || vt != l->vt_shared) && (!l->vt_even || vt != l->vt_even) &&
	    (!l->vt_odd || vt != l->vt_odd))
		return "Bytes with a vtable that is none of bytes' own";
	if (vt == l->vt_shared || !(data & 1)) {   /* KIND_ARC */
		bytes_arc(l, data, v);
		return NULL;
	}
	/* KIND_VEC: a boxed slice from buf to the end of this view */
	uint64_t buf = vt == l->vt_even ? data & ~1ull : data;
	if (ptr < buf || ptr - buf > image_core_size(d->img) || len > image_core_size(d->img))
		return "Bytes whose data does not lie in its buffer";
	v->mem = buf;
	v->requested = ptr - buf + len;
	v->used = len;
	v->kind = WALK_BOX_SLICE;
	return NULL;
}

static const char *decode_bytes_mut(struct dec *d, uint64_t addr, const struct dec_type *wt, struct dec_view *v)
{
	const struct bytes_layout *l = &wt->l.bytes;
	uint64_t ptr, len, cap, data;
	if (!read3(d, addr, l->ptr, l->len, l->cap, &ptr, &len, &cap) || !dec_u64(d, addr + l->data, &data))
		return "BytesMut header not readable";
	if (len > cap || cap > image_core_size(d->img))
		return "BytesMut with len > cap";
	v->is_str = true;
	v->at = ptr;
	v->str.len = len;
	if (!(data & 1)) {   /* KIND_ARC: Shared { vec, original_capacity_repr, ref_count } */
		bytes_arc(l, data, v);
		return NULL;
	}
	uint64_t off = data >> l->vec_pos_shift;   /* the vec form: the original Vec's start */
	if (off > ptr || off > image_core_size(d->img))
		return "BytesMut whose offset lies before its buffer";
	if (cap + off == 0)
		return NULL;
	v->mem = ptr - off;
	v->requested = cap + off;
	v->used = len;
	v->kind = WALK_VEC;
	return NULL;
}

static const char *decode_bytes_shared(struct dec *d, uint64_t addr, const struct dec_type *wt, struct dec_view *v)
{
	uint64_t buf, cap;
	if (!dec_u64(d, addr + wt->l.bytes.ptr, &buf) || !dec_u64(d, addr + wt->l.bytes.cap, &cap))
		return "bytes Shared not readable";
	if (cap > image_core_size(d->img))
		return "bytes Shared with an absurd capacity";
	if (cap == 0)
		return NULL;
	v->mem = buf;
	v->requested = v->used = cap;
	v->shared = true;
	v->kind = WALK_VEC;
	return NULL;
}

/* ArrayVec: its elements lie in the value itself, len of them. */
static const char *decode_arrayvec(struct dec *d, uint64_t addr, const struct dec_type *wt, struct dec_view *v)
{
	const struct arrayvec_layout *l = &wt->l.av;
	uint64_t len = 0;
	if (image_read(d->img, addr + l->len, &len, l->len_size, NULL) != 0)
		return "ArrayVec length not readable";
	if (len > l->cap)
		return "ArrayVec with len > capacity";
	one_run(v, len);
	v->inline_elems = true;
	v->at = addr + l->xs;
	return NULL;
}

static const char *decode_box(struct dec *d, uint64_t addr, const struct dec_type *wt, struct dec_view *v)
{
	const struct box_layout *l = &wt->l.box;
	uint64_t ptr, meta = 0;
	if (!dec_u64(d, addr + l->ptr, &ptr) || (l->fat != FAT_THIN && !dec_u64(d, addr + l->meta, &meta)))
		return "Box pointer not readable";
	v->elem = wt->elem;
	switch (l->fat) {
	case FAT_THIN:
		v->at = ptr;
		if (wt->elem_size == 0)
			return NULL;   /* Box of a ZST allocates nothing */
		v->elems = VIEW_POINTEE;
		v->mem = ptr;
		v->requested = v->used = wt->elem_size;
		v->kind = WALK_BOX;
		break;
	case FAT_SLICE:
		if (meta > image_core_size(d->img) || (wt->elem_size && meta > UINT64_MAX / 2 / wt->elem_size))
			return "Box<[T]> with an absurd length";
		v->is_str = true;
		v->at = ptr;
		v->str.len = meta;
		if (meta * wt->elem_size == 0)
			return NULL;
		v->mem = ptr;
		v->requested = v->used = meta * wt->elem_size;
		v->kind = WALK_BOX_SLICE;
		one_run(v, meta);
		break;
	case FAT_DYN: {
		/* the size from the vtable, the contents through its concrete type */
		uint64_t vs;
		if (!dec_u64(d, meta + 8, &vs) || vs > (1ull << 40)) {
			v->bad = meta;
			return "trait-object vtable not readable";
		}
		if (vs == 0)
			return NULL;
		v->mem = ptr;
		v->requested = v->used = vs;
		v->kind = WALK_BOX_DYN;
		type_id conc = types_vtable_type(d->t, meta - image_bias(d->img));
		if (conc) {
			v->elems = VIEW_POINTEE;
			v->elem = types_resolve(d->t, conc);
			v->at = ptr;
			v->walk_always = true;
		}
		break;
	}
	}
	return NULL;
}

static const char *decode_smallvec(struct dec *d, uint64_t addr, const struct dec_type *wt, struct dec_view *v)
{
	const struct smallvec_layout *l = &wt->l.sv;
	uint64_t cap, ptr, len;
	if (!dec_u64(d, addr + l->capacity, &cap))
		return "SmallVec header not readable";
	if (cap > l->inline_cap) {   /* spilled */
		if (!dec_u64(d, addr + l->heap_ptr, &ptr) || !dec_u64(d, addr + l->heap_len, &len) ||
		    wt->elem_size == 0 || !elems_ok(d, wt, cap, len))
			return wt->elem_size ? "spilled SmallVec with a bad header" : NULL;
		v->mem = ptr;
		v->requested = cap * wt->elem_size;
		v->used = len * wt->elem_size;
		v->kind = WALK_SMALLVEC;
		one_run(v, len);
		return NULL;
	}
	/* inline: the capacity field holds the length */
	one_run(v, cap);
	v->inline_elems = true;
	v->at = addr + l->inline_data;
	return NULL;
}

static const char *decode_compact(struct dec *d, uint64_t addr, const struct dec_type *wt, struct dec_view *v)
{
	const struct compact_repr *r = &wt->l.cs.repr;
	uint8_t b[24];
	if (r->size > sizeof b || image_read(d->img, addr, b, r->size, NULL) != 0)
		return "CompactString not readable";
	uint8_t last = b[r->size - 1];
	v->is_str = true;
	if (last == r->heap_mask || (r->has_static && last == r->static_mask)) {
		uint64_t ptr, len, cap = 0;
		memcpy(&ptr, b, 8);
		memcpy(&len, b + 8, 8);
		v->at = ptr;
		v->str.len = len;
		if (last != r->heap_mask)
			return NULL;   /* a &'static str: no heap */
		memcpy(&cap, b + 16, r->cap_bytes);   /* little-endian */
		if (len > cap || cap > image_core_size(d->img))
			return "CompactString heap form with len > capacity";
		v->mem = ptr;
		v->requested = cap;
		v->used = len;
		v->kind = WALK_COMPACT_STR;
		return NULL;
	}
	/* inline: the length is in the last byte, or the string fills the repr */
	uint64_t len = last >= r->len_mask ? (uint64_t)(last - r->len_mask) : r->size;
	if (len > r->size)
		return "CompactString with a bad inline length";
	v->at = addr;
	v->str.len = len;
	return NULL;
}

static const char *decode_once(struct dec *d, uint64_t addr, const struct dec_type *wt, struct dec_view *v)
{
	const struct once_layout *l = &wt->l.once;
	uint64_t state = 0;
	if (image_read(d->img, addr + l->state, &state, l->impl->state_size, NULL) != 0)
		return "Once state not readable";
	v->once.state = state;
	v->once.init = false;
	if ((state & l->impl->state_mask) != l->impl->complete)
		return NULL;   /* not initialised: owns nothing */
	v->once.init = true;
	v->elems = VIEW_POINTEE;
	v->elem = wt->elem;
	v->at = addr + l->value;
	return NULL;
}

static const char *decode_list(struct dec *d, uint64_t addr, const struct dec_type *wt, struct dec_view *v)
{
	const struct list_layout *l = &wt->l.list;
	uint64_t head, len;
	if (!dec_u64(d, addr + l->head, &head) || !dec_u64(d, addr + l->len, &len))
		return "LinkedList header not readable";
	if ((head == 0) != (len == 0))
		return "LinkedList whose head and length disagree";
	if (len > image_core_size(d->img) / l->node_size)
		return "LinkedList with an absurd length";
	if (head == 0)
		return NULL;
	v->elems = VIEW_LIST;
	v->list.head = head;
	v->list.len = len;
	return NULL;
}

/* ---------------------------------------------------------------- table */

typedef bool (*setup_fn)(struct dec *, type_id, const struct types_type *, struct dec_type *);

struct decoder {
	const char *prefix;   /* qualified-name prefix */
	bool exact;           /* the name must equal prefix */
	uint8_t cls;
	setup_fn setup;
	decode_fn decode;
};

static const struct decoder DECODERS[] = {
	{"alloc::vec::Vec<", false, CLS_VEC, setup_vec, decode_vec},
	{"alloc::string::String", true, CLS_STRING, setup_string, decode_vec},
	{"alloc::collections::vec_deque::VecDeque<", false, CLS_VECDEQUE, setup_vecdeque, decode_vecdeque},
	{"hashbrown::raw::RawTable<", false, CLS_RAWTABLE, setup_rawtable, decode_rawtable},
	{"hashbrown::raw::inner::RawTable<", false, CLS_RAWTABLE, setup_rawtable, decode_rawtable},
	{"alloc::collections::btree::map::BTreeMap<", false, CLS_BTREEMAP, setup_btreemap, decode_btreemap},
	{"alloc::collections::linked_list::LinkedList<", false, CLS_LIST, setup_list, decode_list},
	{"alloc::sync::Arc<", false, CLS_ARC, setup_rc, decode_rc},
	{"alloc::rc::Rc<", false, CLS_RC, setup_rc, decode_rc},
	{"alloc::boxed::Box<", false, CLS_BOX, setup_box, decode_box},
	{"smallvec::SmallVec<", false, CLS_SMALLVEC, setup_smallvec, decode_smallvec},
	{"compact_str::CompactString", true, CLS_COMPACT_STR, setup_compact, decode_compact},
	{"compact_str::repr::Repr", true, CLS_COMPACT_STR, setup_compact, decode_compact},
	{"compact_str::Repr", true, CLS_COMPACT_STR, setup_compact, decode_compact},
	{"std::sync::once_lock::OnceLock<", false, CLS_ONCE, setup_once, decode_once},
	{"std::sync::lazy_lock::LazyLock<", false, CLS_ONCE, setup_once, decode_once},
	/* not owning, whatever their members say */
	{"alloc::sync::Weak<", false, CLS_WEAK, setup_rc, decode_weak},
	{"alloc::rc::Weak<", false, CLS_WEAK, setup_rc, decode_weak},
	{"arrayvec::arrayvec::ArrayVec<", false, CLS_ARRAYVEC, setup_arrayvec, decode_arrayvec},
	{"bytes::bytes::Bytes", true, CLS_BYTES, setup_bytes, decode_bytes},
	{"bytes::bytes_mut::BytesMut", true, CLS_BYTES_MUT, setup_bytes, decode_bytes_mut},
	{"bytes::bytes::Shared", true, CLS_BYTES_SHARED, setup_bytes_shared, decode_bytes_shared},
	{"core::mem::maybe_uninit::MaybeUninit<", false, CLS_PLAIN, NULL, NULL},
	/* raw pointers: owned by no decoder, but where they point into the heap
	 * the walk counts it (walk_nodecoder) instead of staying silent */
	{"core::ptr::non_null::NonNull<", false, CLS_RAWPTR, setup_rawptr, NULL},
	{"*mut ", false, CLS_RAWPTR, setup_rawptr, NULL},
	{"*const ", false, CLS_RAWPTR, setup_rawptr, NULL},
	{"core::ptr::unique::Unique<", false, CLS_PLAIN, NULL, NULL},
	{"alloc::raw_vec::RawVec", false, CLS_PLAIN, NULL, NULL},
	{"core::marker::PhantomData<", false, CLS_PLAIN, NULL, NULL},
	{"&", false, CLS_PLAIN, NULL, NULL},
	{"*", false, CLS_PLAIN, NULL, NULL},
};

bool dec_family_classify(struct dec *d, type_id id, const struct types_type *ty, struct dec_type *wt)
{
	const char *name = ty->name;
	if (!name || !*name)
		return false;
	for (size_t i = 0; i < sizeof DECODERS / sizeof DECODERS[0]; i++) {
		const struct decoder *dc = &DECODERS[i];
		if (dc->exact ? strcmp(name, dc->prefix) != 0 : !starts(name, dc->prefix))
			continue;
		if (dc->cls == CLS_BOX && ty->kind != TYPES_POINTER && ty->kind != TYPES_STRUCT)
			continue;
		wt->cls = dc->cls;
		wt->dec = dc->decode ? (uint8_t)(i + 1) : 0;
		if (dc->setup && !dc->setup(d, id, ty, wt)) {
			wt->cls = dc->cls == CLS_RAWPTR ? CLS_PLAIN : CLS_BAD;
			wt->dec = 0;
		}
		return true;
	}
	return false;
}

static decode_fn decoder_of(const struct dec_type *wt)
{
	return wt->dec ? DECODERS[wt->dec - 1].decode : NULL;
}

const char *dec_decode(struct dec *d, uint64_t addr, const struct dec_type *wt, struct dec_view *v)
{
	/* the fields every decoder relies on; the rest are set by the decoder
	 * that uses them (zeroing the whole view per container cost 2% of the walk) */
	v->mem = v->requested = v->used = 0;
	v->kind = 0;
	v->shared = v->inline_elems = v->walk_always = v->is_str = false;
	v->elems = VIEW_NONE;
	v->nruns = 0;
	v->elem = wt->elem;
	v->at = v->data_off = 0;
	v->btree.root = v->btree.height = v->btree.len = 0;   /* the widest member: every family's fields */
	v->bad = addr;
	decode_fn fn = decoder_of(wt);
	if (!fn)
		return "not a container";
	return fn(d, addr, wt, v);
}

/* ---------------------------------------------------------------- check */

static int check_chunk(struct dec *d, uint64_t mem, uint64_t need, const char *what, struct err *e)
{
	size_t i = heap_find(d->h, mem);
	struct heap_chunk c;
	if (i != SIZE_MAX) {
		const struct heap_chunk hc = heap_chunk_get(d->h, i);
		if (hc.state == HEAP_INUSE && heap_usable(&hc) >= need)
			return 0;
	} else if (heap_chunk_at(d->h, mem, &c, NULL) == 0 && heap_usable(&c) >= need) {
		return 0;
	}
	return err_fault(e, mem, "%s buffer 0x%llx is not an in-use heap chunk of at least %llu bytes", what,
			 (unsigned long long)mem, (unsigned long long)need);
}

/* A container value holds together: its header is plausible, the buffer it
 * owns is an in-use chunk big enough for it, a hash table's control bytes
 * agree with its item count. */
static int check_container(struct dec *d, uint64_t addr, const struct dec_type *wt, const struct types_type *ty,
			   struct err *e)
{
	struct dec_view vw;
	const char *why = dec_decode(d, addr, wt, &vw);
	if (why)
		return err_set(e, ERR_CORRUPT, "%s at 0x%llx: %s", ty->name, (unsigned long long)addr, why);
	if (vw.mem) {
		int rc = check_chunk(d, vw.mem, vw.requested, ty->name, e);
		if (rc)
			return rc;
	}
	switch (vw.elems) {
	case VIEW_TABLE: {
		uint64_t ctrl = vw.mem + dec_table_ctrl_off(wt, vw.hash.buckets), full = 0;
		const uint8_t *cb = image_ptr(d->img, ctrl, vw.hash.buckets);
		if (!cb)
			return err_fault(e, ctrl, "hash table control bytes at 0x%llx not readable",
					 (unsigned long long)ctrl);
		for (uint64_t b = 0; b < vw.hash.buckets; b++)
			full += !(cb[b] & 0x80);
		if (full != vw.hash.items)
			return err_set(e, ERR_CORRUPT, "hash table at 0x%llx: %llu full control bytes, %llu items",
				       (unsigned long long)addr, (unsigned long long)full,
				       (unsigned long long)vw.hash.items);
		return 0;
	}
	case VIEW_BTREE:
		if (vw.btree.height > 0 && !wt->l.btree.internal)
			return err_set(e, ERR_CORRUPT, "BTreeMap at 0x%llx: height %llu", (unsigned long long)addr,
				       (unsigned long long)vw.btree.height);
		return check_chunk(d, vw.btree.root, vw.btree.height ? wt->l.btree.internal_size : wt->l.btree.leaf_size,
				   "BTreeMap node", e);
	case VIEW_LIST:
		return check_chunk(d, vw.list.head, wt->l.list.node_size, "LinkedList node", e);
	default:
		return 0;
	}
}

static int check_val(struct dec *d, uint64_t addr, type_id id, int depth, struct err *e);

static int check_members(struct dec *d, uint64_t base, const struct types_type *ty, int depth, struct err *e)
{
	for (uint32_t i = 0; i < ty->nmembers; i++) {
		type_id mt = types_resolve(d->t, ty->members[i].type);
		if (dec_owns(d, mt)) {
			int rc = check_val(d, base + ty->members[i].offset, mt, depth + 1, e);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static int check_val(struct dec *d, uint64_t addr, type_id id, int depth, struct err *e)
{
	const struct dec_type *wt = dec_type_info(d, id);
	const struct types_type *ty = types_get(d->t, id);
	if (!wt || !ty || depth > 6)
		return 0;
	switch (wt->cls) {
	case CLS_STRUCT:
		return check_members(d, addr, ty, depth, e);
	case CLS_ENUM: {
		uint32_t vi;
		if (dec_variant(d, addr, id, &vi, e) != 0)
			return ERR_CORRUPT;
		const struct types_type *vt = types_get(d->t, types_resolve(d->t, ty->vpart->variants[vi].type));
		return vt ? check_members(d, addr + ty->vpart->variants[vi].offset, vt, depth, e) : 0;
	}
	default:
		return decoder_of(wt) ? check_container(d, addr, wt, ty, e) : 0;
	}
}

int dec_check(struct dec *d, uint64_t addr, type_id ty, struct err *e)
{
	return check_val(d, addr, types_resolve(d->t, ty), 0, e);
}
