/* walk_read.c: the walker's reader that is a traversal, walk_elements (the
 * live elements of a container handed to a caller one by one), and the
 * decode layer's typed readers on the walk's decode context (dec_read.c does
 * the reading).
 */
#include "walk_visit.h"

#include <stdio.h>
#include <string.h>

int walk_read_string(struct walk *w, uint64_t addr, type_id ty, char *buf, size_t size, struct err *e)
{
	return dec_read_string(w->d, addr, ty, buf, size, e);
}

int walk_read_uint(struct walk *w, uint64_t addr, type_id ty, uint64_t *v, struct err *e)
{
	return dec_read_uint(w->d, addr, ty, v, e);
}

int walk_check(struct walk *w, uint64_t addr, type_id ty, struct err *e)
{
	return dec_check(w->d, addr, ty, e);
}

int walk_variant(struct walk *w, uint64_t addr, type_id ty, uint32_t *index, struct err *e)
{
	return dec_variant(w->d, addr, ty, index, e);
}

int walk_deref(struct walk *w, uint64_t addr, type_id ty, uint64_t *out_addr, type_id *out_type, struct err *e)
{
	return dec_deref(w->d, addr, ty, out_addr, out_type, e);
}

int walk_owned(struct walk *w, uint64_t addr, type_id ty, uint64_t *mem, uint64_t *requested, struct err *e)
{
	return dec_owned(w->d, addr, ty, mem, requested, e);
}

int walk_unwrap(struct walk *w, uint64_t addr, type_id ty, uint64_t *out_addr, type_id *out_type, struct err *e)
{
	return dec_unwrap(w->d, addr, ty, out_addr, out_type, e);
}

int walk_elements(struct walk *w, uint64_t addr, type_id ty, walk_elem_fn fn, void *ctx, struct err *e)
{
	ty = types_resolve(w->t, ty);
	const struct dec_type *wt = dec_type_info(w->d, ty);
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
			const struct dec_type *mw = dec_type_info(w->d, mt);
			if (mw && (mw->cls == CLS_STRUCT || (mw->cls >= CLS_BOX && mw->cls <= CLS_SMALLVEC) || mw->cls == CLS_LIST) &&
			    dec_owns(w->d, mt))
				return walk_elements(w, addr + tt->members[i].offset, mt, fn, ctx, e);
		}
		return err_set(e, ERR_NOTFOUND, "%s is not a container", tt->name);
	}
	struct walk_visit v = {.report = false, .fn = fn, .ctx = ctx};
	uint64_t before = w->st.unreadable;
	/* fn may queue on this walker (the profile queues each table it is handed):
	 * the iteration reads nothing of the visit's cursor, only the counts
	 * (nested: what fn's own visits found unreadable); walk_drain asserts it
	 * is not called meanwhile */
	w->iterating++;
	int rc = walk_container_visit(w, addr, ty, wt, &v);
	w->iterating--;
	if (rc == ERR_NOTFOUND && !v.rc)
		return err_set(e, ERR_NOTFOUND, "%s is not a container", tt->name);
	if (w->st.unreadable - before > v.nested && !v.rc)
		return err_fault(e, addr, "%s at 0x%llx: %s", tt->name, (unsigned long long)addr,
				 w->st.first_unreadable_what);
	return v.rc;
}
