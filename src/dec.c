/* dec.c: the decode context: its lifetime, the lazy per-type
 * classification cache (which family's decoder handles a type, whether it can
 * own heap, the family's layout, an enum's tag table), struct plans, and the
 * small reads every decoder makes.  The families' setup and decode are in
 * dec_family.c, the version tables in dec_std.c, the typed readers in
 * dec_read.c.
 */
#include "dec_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int dec_create(struct dec **out, const struct image *img, const struct types *t, const struct heap *h,
	       struct err *e)
{
	struct dec *d = calloc(1, sizeof *d);
	if (!d)
		return err_set(e, ERR_NOMEM, "out of memory creating the decode context");
	d->img = img;
	d->t = t;
	d->h = h;
	d->ntypes = types_count(t) + 1;
	d->npages = (d->ntypes + DEC_PAGE - 1) >> DEC_PAGE_SHIFT;
	d->none = calloc(DEC_PAGE, sizeof *d->none);
	d->types = malloc(d->npages * sizeof *d->types);
	if (!d->none || !d->types) {
		free(d->none);
		free(d->types);
		free(d);
		return err_set(e, ERR_NOMEM, "out of memory for the decode context's type table");
	}
	for (size_t p = 0; p < d->npages; p++)
		d->types[p] = d->none;
	*out = d;
	return 0;
}

void dec_destroy(struct dec *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->planned.len; i++) {
		type_id id = d->planned.data[i];
		free(d->plans[id >> DEC_PAGE_SHIFT][id & (DEC_PAGE - 1)].m);
	}
	for (size_t i = 0; i < d->luts.len; i++) {
		type_id id = d->luts.data[i];
		free(d->types[id >> DEC_PAGE_SHIFT][id & (DEC_PAGE - 1)].l.en.lut);
		free(d->types[id >> DEC_PAGE_SHIFT][id & (DEC_PAGE - 1)].l.en.vty);
	}
	for (size_t p = 0; p < d->npages; p++) {
		if (d->types[p] != d->none)
			free(d->types[p]);
		if (d->plans)
			free(d->plans[p]);
	}
	free(d->plans);
	free(d->types);
	free(d->none);
	dec_id_vec_deinit(&d->planned);
	dec_id_vec_deinit(&d->luts);
	version_facts_deinit(&d->versions);
	free(d);
}

const struct image *dec_image(const struct dec *d) { return d->img; }
const struct types *dec_types(const struct dec *d) { return d->t; }
void dec_set_op_type(struct dec *d, type_id op_type) { d->op_type = types_resolve(d->t, op_type); }
const struct version_facts *dec_versions(const struct dec *d) { return &d->versions; }

bool dec_type_owns(struct dec *d, type_id ty)
{
	ty = types_resolve(d->t, ty);
	return ty && dec_owns(d, ty);
}

/* A plan's slot, its page (and the directory, on the first plan) allocated. */
struct dec_plan *dec_plan_alloc(struct dec *d, type_id id)
{
	if (id == 0 || id >= d->ntypes)
		return NULL;
	if (!d->plans && !(d->plans = calloc(d->npages, sizeof *d->plans)))
		return NULL;
	struct dec_plan **pg = &d->plans[id >> DEC_PAGE_SHIFT];
	if (!*pg && !(*pg = calloc(DEC_PAGE, sizeof **pg)))
		return NULL;
	return &(*pg)[id & (DEC_PAGE - 1)];
}

bool dec_plan_record(struct dec *d, type_id id, struct dec_plan_member *m, uint32_t n, type_id op_type)
{
	struct dec_plan *pl = &d->plans[id >> DEC_PAGE_SHIFT][id & (DEC_PAGE - 1)];
	if (m && !dec_id_vec_append(&d->planned, id))
		return false;
	pl->m = m;
	pl->n = n;
	pl->op_type = op_type;
	pl->state = DEC_PLAN_READY;
	return true;
}

/* ---------------------------------------------------------------- reads */

bool dec_u64_read(struct dec *d, uint64_t addr, uint64_t *v)
{
	return image_read_u64(d->img, addr, v, NULL) == 0;
}

/* ---------------------------------------------------------------- classification */

/* A direct tag -> variant table when every discriminant fits in a byte:
 * the linear match over 55 variants was a third of the walk's time. */
static uint16_t *enum_lut(const struct types_variant_part *vp)
{
	if (!vp->has_tag || vp->nvariants >= ENUM_LUT_NONE)
		return NULL;
	for (uint32_t i = 0; i < vp->nvariants; i++)
		if (vp->variants[i].has_discr && vp->variants[i].discr >= 256)
			return NULL;
	uint16_t *lut = malloc(257 * sizeof *lut);   /* [256]: any tag from 256 up (no variant has it) */
	if (!lut)
		return NULL;
	uint16_t dataful = ENUM_LUT_NONE;
	for (uint32_t i = 0; i < vp->nvariants; i++)
		if (!vp->variants[i].has_discr && dataful == ENUM_LUT_NONE)
			dataful = (uint16_t)i;
	for (int k = 0; k < 257; k++)
		lut[k] = dataful;
	/* the first variant with a value wins, as in types_variant_index */
	for (uint32_t i = vp->nvariants; i-- > 0;)
		if (vp->variants[i].has_discr)
			lut[vp->variants[i].discr] = (uint16_t)i;
	return lut;
}

/* Each variant's payload type, resolved (NULL: none, or out of memory). */
static type_id *enum_vtypes(struct dec *d, const struct types_variant_part *vp)
{
	if (!vp->nvariants || vp->nvariants > UINT32_MAX / sizeof(type_id))
		return NULL;
	type_id *v = malloc(vp->nvariants * sizeof *v);
	if (!v)
		return NULL;
	for (uint32_t i = 0; i < vp->nvariants; i++)
		v[i] = types_resolve(d->t, vp->variants[i].type);
	return v;
}

int dec_enum_variant(struct dec *d, type_id id, const void *b, size_t len, uint32_t *vi)
{
	const struct dec_type *wt = dec_type_info(d, id);
	const struct types_type *ty = types_get(d->t, id);
	const struct types_variant_part *vp = ty ? ty->vpart : NULL;
	if (wt && wt->cls == CLS_ENUM && wt->l.en.lut && vp->tag_size <= 8 && vp->tag_offset <= len &&
	    vp->tag_size <= len - vp->tag_offset) {
		uint64_t tag = 0;
		memcpy(&tag, (const unsigned char *)b + vp->tag_offset, vp->tag_size);
		uint16_t v = wt->l.en.lut[tag < 256 ? tag : 256];
		if (v == ENUM_LUT_NONE)
			return ERR_CORRUPT;
		*vi = v;
		return 0;
	}
	return types_variant_index(d->t, id, b, len, vi, NULL);
}

static void classify(struct dec *d, type_id id, struct dec_type *wt)
{
	const struct types_type *ty = types_get(d->t, id);

	wt->cls = CLS_PLAIN;
	if (!ty)
		return;
	if (dec_family_classify(d, id, ty, wt))
		return;
	switch (ty->kind) {
	case TYPES_STRUCT:
		wt->cls = ty->vpart ? CLS_ENUM : CLS_STRUCT;
		if (ty->vpart) {
			wt->l.en.lut = enum_lut(ty->vpart);
			wt->l.en.vty = enum_vtypes(d, ty->vpart);
		}
		break;
	case TYPES_ARRAY: {
		const struct types_type *el = types_get(d->t, types_resolve(d->t, ty->target));
		wt->cls = CLS_ARRAY;
		wt->elem = types_resolve(d->t, ty->target);
		wt->elem_size = el ? el->size : 0;
		break;
	}
	default:
		wt->cls = CLS_PLAIN;   /* base, raw pointer, C enum, union, function */
	}
}

const struct dec_type *dec_type_classify(struct dec *d, type_id id)
{
	if (id == 0 || id >= d->ntypes)
		return NULL;
	struct dec_type **pg = &d->types[id >> DEC_PAGE_SHIFT];
	if (*pg == d->none && !(*pg = calloc(DEC_PAGE, sizeof **pg))) {
		*pg = d->none;
		return NULL;   /* out of memory: taken as no type (the walk counts it unreadable where it matters) */
	}
	struct dec_type *wt = &(*pg)[id & (DEC_PAGE - 1)];
	if (wt->cls == CLS_UNSET) {
		wt->ty = types_get(d->t, id);
		classify(d, id, wt);
		if (wt->cls == CLS_ENUM && (wt->l.en.lut || wt->l.en.vty) && !dec_id_vec_append(&d->luts, id)) {
			/* the tables are shortcuts: without them the tag is matched
			 * variant by variant, the variant's type resolved each time */
			free(wt->l.en.lut);
			free(wt->l.en.vty);
			wt->l.en.lut = NULL;
			wt->l.en.vty = NULL;
		}
	}
	return wt;
}

static bool owns_compute(struct dec *d, type_id id)
{
	const struct dec_type *wt = dec_type_info(d, id);
	const struct types_type *ty = types_get(d->t, id);

	switch (wt->cls) {
	case CLS_PLAIN:
		return false;
	case CLS_BAD:
		return true;   /* a container whose layout is unknown: visited, to be counted as unreadable */
	case CLS_RAWPTR:
		return true;   /* not owned, but what it points at in the heap is counted if nothing owns it */
	case CLS_ARRAY:
		return ty->count > 0 && wt->elem_size > 0 && dec_owns(d, wt->elem);
	case CLS_ONCE:
		return dec_owns(d, wt->elem);
	case CLS_STRUCT:
		for (uint32_t i = 0; i < ty->nmembers; i++)
			if (dec_owns(d, types_resolve(d->t, ty->members[i].type)))
				return true;
		return false;
	case CLS_ENUM:
		if (id == d->op_type)
			return true;
		for (uint32_t v = 0; v < ty->vpart->nvariants; v++) {
			const struct types_type *vt = types_get(d->t, types_resolve(d->t, ty->vpart->variants[v].type));
			for (uint32_t i = 0; vt && i < vt->nmembers; i++)
				if (dec_owns(d, types_resolve(d->t, vt->members[i].type)))
					return true;
		}
		for (uint32_t i = 0; i < ty->nmembers; i++)
			if (dec_owns(d, types_resolve(d->t, ty->members[i].type)))
				return true;
		return false;
	default:
		return true;   /* every container decoder owns heap */
	}
}

bool dec_owns_compute(struct dec *d, type_id id)
{
	if (id == 0 || id >= d->ntypes)
		return false;
	if (id == d->op_type)
		return true;
	if (!dec_type_info(d, id))
		return true;   /* out of memory for its classification: walked, as if owning (bounded by depth) */
	struct dec_type *wt = &d->types[id >> DEC_PAGE_SHIFT][id & (DEC_PAGE - 1)];
	if (wt->owns == 0) {
		/* a chain of member types as deep as hostile DWARF makes it would
		 * overflow the stack: past a bound a type is taken as owning (it is
		 * then walked, within the walk's own depth bound), not cached */
		if (d->owns_depth >= DEC_MAX_OWNS_DEPTH)
			return true;
		d->owns_depth++;
		wt->owns = 1;   /* a recursive type is assumed not to own through itself */
		wt->owns = owns_compute(d, id) ? 3 : 2;
		d->owns_depth--;
	}
	return wt->owns == 3;
}
