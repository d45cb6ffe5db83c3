/* dec_read.c: typed readers over the core for the roots and profile layers:
 * strings of every Rust flavour, integers, enum variants, pointers followed
 * to their pointee, the allocation a value owns, and wrappers seen through
 * (Mutex, RwLock, RefCell, UnsafeCell, ManuallyDrop, MaybeUninit, OnceLock,
 * LazyLock, Arc, Box: the spellings are dec_std.c's tables).  Everything is
 * bounds-checked through the image layer.
 */
#include "dec_int.h"

#include <stdio.h>
#include <string.h>

static int copy_str(struct dec *d, uint64_t ptr, uint64_t len, char *buf, size_t size, struct err *e)
{
	if (size == 0)
		return 0;
	uint64_t n = len < size - 1 ? len : size - 1;
	if (n && image_read(d->img, ptr, buf, n, e) != 0)
		return ERR_FAULT;
	buf[n] = 0;
	return 0;
}

int dec_read_string(struct dec *d, uint64_t addr, type_id ty, char *buf, size_t size, struct err *e)
{
	ty = types_resolve(d->t, ty);
	const struct dec_type *wt = dec_type_info(d, ty);
	const struct types_type *tt = types_get(d->t, ty);
	struct dec_view v;
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
		const char *why = dec_decode(d, addr, wt, &v);
		if (why)
			return err_fault(e, v.bad, "%s at 0x%llx: %s", tt->name, (unsigned long long)addr, why);
		if (!v.is_str)
			return err_set(e, ERR_NOTFOUND, "%s is not a string", tt->name);
		return copy_str(d, v.at, v.str.len, buf, size, e);
	}
	default:
		break;
	}
	/* &str and other {data_ptr, length} fat pointers */
	uint64_t o0, o1;
	if (types_member_path(d->t, ty, "data_ptr", &o0, NULL, NULL) == 0 &&
	    types_member_path(d->t, ty, "length", &o1, NULL, NULL) == 0 &&
	    dec_u64(d, addr + o0, &a) && dec_u64(d, addr + o1, &b))
		return copy_str(d, a, b, buf, size, e);
	return err_set(e, ERR_NOTFOUND, "%s is not a string type", tt->name);
}

int dec_read_uint(struct dec *d, uint64_t addr, type_id ty, uint64_t *v, struct err *e)
{
	const struct types_type *tt = types_get(d->t, types_resolve(d->t, ty));
	/* transparent newtypes (AtomicU64 { v: UnsafeCell<u64> { value } }) */
	for (int guard = 0; tt && tt->kind == TYPES_STRUCT && tt->nmembers == 1 && guard < 8; guard++) {
		addr += tt->members[0].offset;
		tt = types_get(d->t, types_resolve(d->t, tt->members[0].type));
	}
	if (!tt || (tt->kind != TYPES_BASE && tt->kind != TYPES_ENUMERATION) || tt->size == 0 || tt->size > 8)
		return err_set(e, ERR_NOTFOUND, "not an integer type");
	uint64_t x = 0;
	if (image_read(d->img, addr, &x, tt->size, e) != 0)
		return ERR_FAULT;
	*v = x;
	return 0;
}

int dec_variant(struct dec *d, uint64_t addr, type_id ty, uint32_t *index, struct err *e)
{
	unsigned char tmp[512];
	ty = types_resolve(d->t, ty);
	const struct types_type *tt = types_get(d->t, ty);
	if (!tt || !tt->vpart)
		return err_set(e, ERR_NOTFOUND, "not a Rust enum");
	const void *b = dec_bytes(d, addr, tt->size, tmp, sizeof tmp);
	if (!b)
		return err_fault(e, addr, "enum at 0x%llx not readable", (unsigned long long)addr);
	return types_variant_index(d->t, ty, b, tt->size, index, e);
}

/* Option-like enum: the active variant's single payload member. */
static int enum_payload(struct dec *d, uint64_t addr, type_id ty, const struct types_type *tt,
			uint64_t *oa, type_id *ot, struct err *e)
{
	unsigned char tmp[256];
	uint32_t vi;
	const void *b = dec_bytes(d, addr, tt->size, tmp, sizeof tmp);
	if (!b)
		return err_fault(e, addr, "enum at 0x%llx not readable", (unsigned long long)addr);
	if (types_variant_index(d->t, ty, b, tt->size, &vi, e) != 0)
		return ERR_CORRUPT;
	const struct types_variant *v = &tt->vpart->variants[vi];
	const struct types_type *vt = types_get(d->t, types_resolve(d->t, v->type));
	if (!vt || vt->nmembers == 0)
		return err_set(e, ERR_NOTFOUND, "%s is %s", tt->name, v->name);
	*oa = addr + v->offset + vt->members[0].offset;
	*ot = types_resolve(d->t, vt->members[0].type);
	return 0;
}

/* Box<T>, Rc<T>, Arc<T> of a sized T. */
static bool thin_pointer(const struct dec_type *wt)
{
	return (wt->cls == CLS_BOX && wt->l.box.fat == FAT_THIN) ||
	       ((wt->cls == CLS_ARC || wt->cls == CLS_RC) && wt->l.rc.fat == FAT_THIN);
}

int dec_deref(struct dec *d, uint64_t addr, type_id ty, uint64_t *out_addr, type_id *out_type, struct err *e)
{
	for (int guard = 0; guard < 16; guard++) {
		ty = types_resolve(d->t, ty);
		const struct types_type *tt = types_get(d->t, ty);
		const struct dec_type *wt = dec_type_info(d, ty);
		uint64_t p;
		if (!tt || !wt)
			return err_set(e, ERR_NOTFOUND, "no type to dereference");
		if (thin_pointer(wt)) {
			struct dec_view v;
			const char *why = dec_decode(d, addr, wt, &v);
			if (why)
				return err_fault(e, v.bad, "%s at 0x%llx: %s", tt->name, (unsigned long long)addr, why);
			*out_addr = v.at;
			*out_type = wt->elem;
			return 0;
		}
		if (tt->kind == TYPES_POINTER) {
			if (!dec_u64(d, addr, &p))
				return err_fault(e, addr, "pointer at 0x%llx not readable", (unsigned long long)addr);
			if (p == 0)
				return err_set(e, ERR_NOTFOUND, "null pointer at 0x%llx", (unsigned long long)addr);
			*out_addr = p;
			*out_type = types_resolve(d->t, tt->target);
			return 0;
		}
		if (tt->vpart) {
			int rc = enum_payload(d, addr, ty, tt, &addr, &ty, e);
			if (rc)
				return rc;
			continue;
		}
		if (tt->kind == TYPES_STRUCT && tt->nmembers >= 1 &&
		    dec_std_name(tt->name, DEC_PTR_NEWTYPES) >= 0) {
			addr += tt->members[0].offset;
			ty = tt->members[0].type;
			continue;
		}
		return err_set(e, ERR_NOTFOUND, "%s is not a pointer", tt->name);
	}
	return err_set(e, ERR_CORRUPT, "pointer chain too deep");
}

int dec_owned(struct dec *d, uint64_t addr, type_id ty, uint64_t *mem, uint64_t *requested, struct err *e)
{
	ty = types_resolve(d->t, ty);
	const struct types_type *tt = types_get(d->t, ty);
	const struct dec_type *wt = dec_type_info(d, ty);
	*mem = *requested = 0;
	if (!tt || !wt)
		return err_set(e, ERR_NOTFOUND, "no type");
	if (wt->cls == CLS_BAD || wt->cls == CLS_STRUCT || wt->cls == CLS_ENUM || wt->cls == CLS_ARRAY)
		return 0;
	struct dec_view v;
	const char *why = dec_decode(d, addr, wt, &v);
	if (why)
		return strcmp(why, "not a container") == 0 ? 0 :
			err_fault(e, v.bad, "%s at 0x%llx: %s", tt->name, (unsigned long long)addr, why);
	*mem = v.mem;
	*requested = v.mem ? v.requested : 0;
	return 0;
}

int dec_unwrap(struct dec *d, uint64_t addr, type_id ty, uint64_t *out_addr, type_id *out_type, struct err *e)
{
	for (int guard = 0; guard < 32; guard++) {
		ty = types_resolve(d->t, ty);
		const struct types_type *tt = types_get(d->t, ty);
		const struct dec_type *wt = dec_type_info(d, ty);
		if (!tt || !wt)
			return err_set(e, ERR_NOTFOUND, "no type to unwrap");
		bool stepped = false;
		if (wt->cls == CLS_BAD)
			return err_set(e, ERR_INPUT, "%s at 0x%llx: its layout is not one the walker knows (see the "
				       "detected versions)", tt->name, (unsigned long long)addr);
		if (wt->cls == CLS_ONCE) {
			struct dec_view v;
			const char *why = dec_decode(d, addr, wt, &v);
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
			int rc = dec_deref(d, addr, ty, &addr, &ty, e);
			if (rc)
				return rc;
			continue;
		}
		uint64_t o;
		type_id mt;
		if (dec_std_wrapper(d, ty, tt->name, &o, &mt)) {
			addr += o;
			ty = mt;
			stepped = true;
		}
		/* Option<T> behind a lazy cell or a Mutex<Option<T>>: its Some */
		if (!stepped && tt->vpart && dec_std_name(tt->name, DEC_OPTION) >= 0) {
			uint64_t pa;
			type_id pt;
			if (enum_payload(d, addr, ty, tt, &pa, &pt, e) != 0)
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
	*out_type = types_resolve(d->t, ty);
	return 0;
}
