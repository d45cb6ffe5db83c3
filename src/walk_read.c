/* walk_read.c: typed readers over the core for the roots and profile layers:
 * strings of every Rust flavour, integers, container elements, pointers
 * followed to their pointee, and wrappers seen through (Mutex, RwLock,
 * RefCell, UnsafeCell, ManuallyDrop, MaybeUninit, OnceLock, LazyLock, Arc,
 * Box).  Everything is bounds-checked through the image layer.
 */
#include "walk_dec.h"

#include <stdio.h>
#include <string.h>

static int copy_str(struct walk *w, uint64_t ptr, uint64_t len, char *buf, size_t size, struct err *e)
{
	if (size == 0)
		return 0;
	uint64_t n = len < size - 1 ? len : size - 1;
	if (n && image_read(w->img, ptr, buf, n, e) != 0)
		return ERR_FAULT;
	buf[n] = 0;
	return 0;
}

int walk_read_string(struct walk *w, uint64_t addr, type_id ty, char *buf, size_t size, struct err *e)
{
	ty = types_resolve(w->t, ty);
	const struct wtype *wt = walk_type_info(w, ty);
	const struct types_type *tt = types_get(w->t, ty);
	struct wview v;
	uint64_t a, b;

	if (!wt || !tt)
		return err_set(e, ERR_NOTFOUND, "no type for a string");
	switch (wt->cls) {
	case CLS_STRING:
	case CLS_COMPACT_STR:
	case CLS_BYTES:
	case CLS_BYTES_MUT:
	case CLS_BOX:
	case CLS_ARC:
	case CLS_RC: {
		const char *why = walk_dec_decode(w, addr, wt, &v);
		if (why)
			return err_fault(e, v.bad, "%s at 0x%llx: %s", tt->name, (unsigned long long)addr, why);
		if (!v.is_str)
			return err_set(e, ERR_NOTFOUND, "%s is not a string", tt->name);
		return copy_str(w, v.at, v.str.len, buf, size, e);
	}
	default:
		break;
	}
	/* &str and other {data_ptr, length} fat pointers */
	uint64_t o0, o1;
	if (types_member_path(w->t, ty, "data_ptr", &o0, NULL, NULL) == 0 &&
	    types_member_path(w->t, ty, "length", &o1, NULL, NULL) == 0 &&
	    walk_u64(w, addr + o0, &a) && walk_u64(w, addr + o1, &b))
		return copy_str(w, a, b, buf, size, e);
	return err_set(e, ERR_NOTFOUND, "%s is not a string type", tt->name);
}

int walk_read_uint(struct walk *w, uint64_t addr, type_id ty, uint64_t *v, struct err *e)
{
	const struct types_type *tt = types_get(w->t, types_resolve(w->t, ty));
	/* transparent newtypes (AtomicU64 { v: UnsafeCell<u64> { value } }) */
	for (int guard = 0; tt && tt->kind == TYPES_STRUCT && tt->nmembers == 1 && guard < 8; guard++) {
		addr += tt->members[0].offset;
		tt = types_get(w->t, types_resolve(w->t, tt->members[0].type));
	}
	if (!tt || (tt->kind != TYPES_BASE && tt->kind != TYPES_ENUMERATION) || tt->size == 0 || tt->size > 8)
		return err_set(e, ERR_NOTFOUND, "not an integer type");
	uint64_t x = 0;
	if (image_read(w->img, addr, &x, tt->size, e) != 0)
		return ERR_FAULT;
	*v = x;
	return 0;
}

int walk_elements(struct walk *w, uint64_t addr, type_id ty, walk_elem_fn fn, void *ctx, struct err *e)
{
	ty = types_resolve(w->t, ty);
	const struct wtype *wt = walk_type_info(w, ty);
	const struct types_type *tt = types_get(w->t, ty);
	if (!wt || !tt)
		return err_set(e, ERR_NOTFOUND, "no type for a container");
	if (wt->cls == CLS_ARRAY) {
		if (wt->elem_size && tt->count > image_core_size(w->img) / wt->elem_size)
			return err_set(e, ERR_CORRUPT, "%s: an array longer than the core", tt->name);
		for (uint64_t i = 0; i < tt->count && i < WALK_MAX_ELEMS; i++) {
			int rc = fn(ctx, 0, 0, addr + i * wt->elem_size, wt->elem);
			if (rc)
				return rc;
		}
		return 0;
	}
	if (wt->cls == CLS_STRUCT) {
		/* a map or set wrapper (std HashMap { base: hashbrown::HashMap { table: RawTable } }):
		 * descend to the single member that is a container */
		for (uint32_t i = 0; i < tt->nmembers; i++) {
			type_id mt = types_resolve(w->t, tt->members[i].type);
			const struct wtype *mw = walk_type_info(w, mt);
			if (mw && (mw->cls == CLS_STRUCT || (mw->cls >= CLS_BOX && mw->cls <= CLS_SMALLVEC) || mw->cls == CLS_LIST) &&
			    walk_owns(w, mt))
				return walk_elements(w, addr + tt->members[i].offset, mt, fn, ctx, e);
		}
		return err_set(e, ERR_NOTFOUND, "%s is not a container", tt->name);
	}
	struct walk_visit v = {.report = false, .fn = fn, .ctx = ctx};
	uint64_t before = w->st.unreadable;
	int rc = walk_dec_visit(w, addr, ty, wt, &v);
	if (rc == ERR_NOTFOUND && !v.rc)
		return err_set(e, ERR_NOTFOUND, "%s is not a container", tt->name);
	if (w->st.unreadable - before > v.nested && !v.rc)
		return err_fault(e, addr, "%s at 0x%llx: %s", tt->name, (unsigned long long)addr,
				 w->st.first_unreadable_what);
	return v.rc;
}

int walk_variant(struct walk *w, uint64_t addr, type_id ty, uint32_t *index, struct err *e)
{
	unsigned char tmp[512];
	ty = types_resolve(w->t, ty);
	const struct types_type *tt = types_get(w->t, ty);
	if (!tt || !tt->vpart)
		return err_set(e, ERR_NOTFOUND, "not a Rust enum");
	const void *b = walk_bytes(w, addr, tt->size, tmp, sizeof tmp);
	if (!b)
		return err_fault(e, addr, "enum at 0x%llx not readable", (unsigned long long)addr);
	return types_variant_index(w->t, ty, b, tt->size, index, e);
}

/* Option-like enum: the active variant's single payload member. */
static int enum_payload(struct walk *w, uint64_t addr, type_id ty, const struct types_type *tt,
			uint64_t *oa, type_id *ot, struct err *e)
{
	unsigned char tmp[256];
	uint32_t vi;
	const void *b = walk_bytes(w, addr, tt->size, tmp, sizeof tmp);
	if (!b)
		return err_fault(e, addr, "enum at 0x%llx not readable", (unsigned long long)addr);
	if (types_variant_index(w->t, ty, b, tt->size, &vi, e) != 0)
		return ERR_CORRUPT;
	const struct types_variant *v = &tt->vpart->variants[vi];
	const struct types_type *vt = types_get(w->t, types_resolve(w->t, v->type));
	if (!vt || vt->nmembers == 0)
		return err_set(e, ERR_NOTFOUND, "%s is %s", tt->name, v->name);
	*oa = addr + v->offset + vt->members[0].offset;
	*ot = types_resolve(w->t, vt->members[0].type);
	return 0;
}

/* Box<T>, Rc<T>, Arc<T> of a sized T. */
static bool thin_pointer(const struct wtype *wt)
{
	return (wt->cls == CLS_BOX && wt->l.box.fat == FAT_THIN) ||
	       ((wt->cls == CLS_ARC || wt->cls == CLS_RC) && wt->l.rc.fat == FAT_THIN);
}

int walk_deref(struct walk *w, uint64_t addr, type_id ty, uint64_t *out_addr, type_id *out_type, struct err *e)
{
	for (int guard = 0; guard < 16; guard++) {
		ty = types_resolve(w->t, ty);
		const struct types_type *tt = types_get(w->t, ty);
		const struct wtype *wt = walk_type_info(w, ty);
		uint64_t p;
		if (!tt || !wt)
			return err_set(e, ERR_NOTFOUND, "no type to dereference");
		if (thin_pointer(wt)) {
			struct wview v;
			const char *why = walk_dec_decode(w, addr, wt, &v);
			if (why)
				return err_fault(e, v.bad, "%s at 0x%llx: %s", tt->name, (unsigned long long)addr, why);
			*out_addr = v.at;
			*out_type = wt->elem;
			return 0;
		}
		if (tt->kind == TYPES_POINTER) {
			if (!walk_u64(w, addr, &p))
				return err_fault(e, addr, "pointer at 0x%llx not readable", (unsigned long long)addr);
			if (p == 0)
				return err_set(e, ERR_NOTFOUND, "null pointer at 0x%llx", (unsigned long long)addr);
			*out_addr = p;
			*out_type = types_resolve(w->t, tt->target);
			return 0;
		}
		if (tt->vpart) {
			int rc = enum_payload(w, addr, ty, tt, &addr, &ty, e);
			if (rc)
				return rc;
			continue;
		}
		if (tt->kind == TYPES_STRUCT && tt->nmembers >= 1 &&
		    (strncmp(tt->name, "core::ptr::non_null::NonNull<", 29) == 0 ||
		     strncmp(tt->name, "core::ptr::unique::Unique<", 26) == 0)) {
			addr += tt->members[0].offset;
			ty = tt->members[0].type;
			continue;
		}
		return err_set(e, ERR_NOTFOUND, "%s is not a pointer", tt->name);
	}
	return err_set(e, ERR_CORRUPT, "pointer chain too deep");
}

static const char *const WRAPPERS[][2] = {
	{"core::cell::UnsafeCell<", "value"},
	{"core::cell::SyncUnsafeCell<", "value"},
	{"core::cell::RefCell<", "value"},
	{"core::cell::Cell<", "value"},
	{"core::mem::manually_drop::ManuallyDrop<", "value"},
	{"core::mem::maybe_uninit::MaybeUninit<", "value"},
	{"core::mem::maybe_dangling::MaybeDangling<", "__0"},
	{"std::sync::poison::mutex::Mutex<", "data"},
	{"std::sync::mutex::Mutex<", "data"},
	{"std::sync::poison::rwlock::RwLock<", "data"},
	{"std::sync::rwlock::RwLock<", "data"},
	{"lock_api::mutex::Mutex<", "data"},
	{"lock_api::rwlock::RwLock<", "data"},
	{"lock_api::remutex::ReentrantMutex<", "data"},
	/* where std has no OnceLock (before rustc 1.70) or a crate is used
	 * instead: the value is an Option<T>, initialised when Some */
	{"once_cell::sync::OnceCell<", "value"},
	{"once_cell::sync::Lazy<", "cell"},
	{"once_cell::unsync::OnceCell<", "inner"},
	{"once_cell::unsync::Lazy<", "cell"},
	{"once_cell::imp::OnceCell<", "value"},
	{"lazy_static::lazy::Lazy<", "__0"},
};

int walk_owned(struct walk *w, uint64_t addr, type_id ty, uint64_t *mem, uint64_t *requested, struct err *e)
{
	ty = types_resolve(w->t, ty);
	const struct types_type *tt = types_get(w->t, ty);
	const struct wtype *wt = walk_type_info(w, ty);
	*mem = *requested = 0;
	if (!tt || !wt)
		return err_set(e, ERR_NOTFOUND, "no type");
	if (wt->cls == CLS_BAD || wt->cls == CLS_STRUCT || wt->cls == CLS_ENUM || wt->cls == CLS_ARRAY)
		return 0;
	struct wview v;
	const char *why = walk_dec_decode(w, addr, wt, &v);
	if (why)
		return strcmp(why, "not a container") == 0 ? 0 :
			err_fault(e, v.bad, "%s at 0x%llx: %s", tt->name, (unsigned long long)addr, why);
	*mem = v.mem;
	*requested = v.mem ? v.requested : 0;
	return 0;
}

int walk_unwrap(struct walk *w, uint64_t addr, type_id ty, uint64_t *out_addr, type_id *out_type, struct err *e)
{
	for (int guard = 0; guard < 32; guard++) {
		ty = types_resolve(w->t, ty);
		const struct types_type *tt = types_get(w->t, ty);
		const struct wtype *wt = walk_type_info(w, ty);
		if (!tt || !wt)
			return err_set(e, ERR_NOTFOUND, "no type to unwrap");
		bool stepped = false;
		if (wt->cls == CLS_BAD)
			return err_set(e, ERR_INPUT, "%s at 0x%llx: its layout is not one the walker knows (see the "
				       "detected versions)", tt->name, (unsigned long long)addr);
		if (wt->cls == CLS_ONCE) {
			struct wview v;
			const char *why = walk_dec_decode(w, addr, wt, &v);
			if (why)
				return err_fault(e, v.bad, "%s at 0x%llx: %s", tt->name, (unsigned long long)addr, why);
			if (!v.once.init)
				return err_set(e, ERR_NOTFOUND,
					       "%s at 0x%llx is not initialised (Once state %llu, %s): the process never "
					       "touched it", tt->name, (unsigned long long)addr, (unsigned long long)v.once.state,
					       wt->l.once.impl->name);
			addr = v.at;
			ty = wt->elem;
			continue;
		}
		if (thin_pointer(wt)) {
			int rc = walk_deref(w, addr, ty, &addr, &ty, e);
			if (rc)
				return rc;
			continue;
		}
		for (size_t i = 0; i < sizeof WRAPPERS / sizeof WRAPPERS[0] && !stepped; i++) {
			uint64_t o;
			type_id mt;
			if (strncmp(tt->name, WRAPPERS[i][0], strlen(WRAPPERS[i][0])) == 0 &&
			    types_member_path(w->t, ty, WRAPPERS[i][1], &o, &mt, NULL) == 0) {
				addr += o;
				ty = mt;
				stepped = true;
			}
		}
		/* Option<T> behind a lazy cell or a Mutex<Option<T>>: its Some */
		if (!stepped && tt->vpart && strncmp(tt->name, "core::option::Option<", 21) == 0) {
			uint64_t pa;
			type_id pt;
			if (enum_payload(w, addr, ty, tt, &pa, &pt, e) != 0)
				return err_set(e, ERR_NOTFOUND, "%s at 0x%llx is None: not initialised, or emptied",
					       tt->name, (unsigned long long)addr);
			addr = pa;
			ty = pt;
			stepped = true;
		}
		if (!stepped)
			break;
	}
	*out_addr = addr;
	*out_type = types_resolve(w->t, ty);
	return 0;
}
