/* types_layout.c: struct holes and Rust enum variant costs from the type
 * graph (include/types_layout.h has the definitions).  Everything here is
 * computed from types.h alone: no core, no target memory. */
#include "types_layout.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define TYPES_LAYOUT_PTR_SIZE 8  /* a Box<T> of a sized T is one x86-64 pointer */

static uint64_t round_up(uint64_t v, uint64_t align)
{
	return align > 1 ? (v + align - 1) / align * align : v;
}

static uint64_t size_of(const struct types *t, type_id id)
{
	return types_get(t, id)->size;
}

static uint32_t align_of(const struct types *t, type_id id)
{
	uint32_t a = types_get(t, id)->align;
	return a ? a : 1;
}

/* ---------------------------------------------------------------- structs */

int types_layout_struct(const struct types *t, type_id id, struct types_layout_struct *out, struct err *e)
{
	memset(out, 0, sizeof *out);
	type_id r = types_resolve(t, id);
	const struct types_type *ty = types_get(t, r);
	if (ty->kind != TYPES_STRUCT && ty->kind != TYPES_UNION)
		return err_set(e, ERR_NOTFOUND, "%s is not a struct or union", ty->name);
	out->id = r;
	out->name = ty->name;
	out->is_union = ty->kind == TYPES_UNION;
	out->size = ty->size;
	out->align = ty->align;
	if (ty->nmembers) {
		out->members = calloc(ty->nmembers, sizeof *out->members);
		if (!out->members)
			return err_set(e, ERR_NOMEM, "out of memory laying out %s", ty->name);
	}
	uint64_t end = 0;
	for (uint32_t i = 0; i < ty->nmembers; i++) {
		const struct types_member *m = &ty->members[i];
		struct types_layout_member *lm = &out->members[i];
		lm->name = m->name;
		lm->type = m->type;
		lm->offset = m->offset;
		lm->size = size_of(t, m->type);
		/* union members and bitfields share bytes: only a gap is a hole */
		lm->hole_before = !out->is_union && m->offset > end ? m->offset - end : 0;
		out->holes += lm->hole_before;
		if (m->offset + lm->size > end)
			end = m->offset + lm->size;
	}
	out->nmembers = ty->nmembers;
	out->tail_padding = out->size > end ? out->size - end : 0;
	return 0;
}

void types_layout_struct_free(struct types_layout_struct *ls)
{
	free(ls->members);
	ls->members = NULL;
}

/* ------------------------------------------------------------------ enums */

static void variant_payload(const struct types *t, const struct types_variant *v,
			    struct types_layout_variant *lv)
{
	const struct types_type *vt = types_get(t, types_resolve(t, v->type));
	uint64_t lo = UINT64_MAX, hi = 0;
	uint32_t align = 1;
	for (uint32_t i = 0; i < vt->nmembers; i++) {
		const struct types_member *m = &vt->members[i];
		uint64_t sz = size_of(t, m->type), off = v->offset + m->offset;
		if (!sz)
			continue; /* PhantomData, (), markers */
		if (off < lo)
			lo = off;
		if (off + sz > hi)
			hi = off + sz;
		if (align_of(t, m->type) > align)
			align = align_of(t, m->type);
	}
	lv->payload_align = align;
	if (lo == UINT64_MAX)
		return; /* no sized field: payload 0 */
	lv->payload_offset = lo;
	lv->payload_end = hi;
	lv->payload_size = round_up(hi - lo, align);
}

/* The boxed-size model of layout.h for the variants marked in boxed[]. */
static uint64_t boxed_model(const struct types_layout_enum *le, const bool *boxed)
{
	uint64_t tag_end = le->has_tag ? le->tag_offset + le->tag_size : 0;
	uint64_t end = tag_end, align = le->has_tag && le->tag_size ? le->tag_size : 1;
	for (uint32_t i = 0; i < le->nvariants; i++) {
		const struct types_layout_variant *v = &le->variants[i];
		uint64_t vend = v->payload_end, valign = v->payload_align;
		if (boxed[i]) {
			vend = round_up(tag_end, TYPES_LAYOUT_PTR_SIZE) + TYPES_LAYOUT_PTR_SIZE;
			valign = TYPES_LAYOUT_PTR_SIZE;
		}
		if (vend > end)
			end = vend;
		if (valign > align)
			align = valign;
	}
	return round_up(end, align);
}

static void boxed_sizes(struct types_layout_enum *le)
{
	bool *boxed = calloc(le->nvariants, sizeof *boxed);
	if (!boxed)
		return; /* nboxed stays 0: no estimate rather than a wrong one */
	for (uint32_t k = 0; k < 3 && k < le->nvariants; k++) {
		uint32_t best = UINT32_MAX;
		for (uint32_t i = 0; i < le->nvariants; i++)
			if (!boxed[i] && (best == UINT32_MAX ||
					  le->variants[i].payload_size > le->variants[best].payload_size))
				best = i;
		boxed[best] = true;
		le->boxed_variant[k] = best;
		le->boxed_size[k] = boxed_model(le, boxed);
		le->nboxed = k + 1;
	}
	free(boxed);
}

int types_layout_enum(const struct types *t, type_id id, struct types_layout_enum *out, struct err *e)
{
	memset(out, 0, sizeof *out);
	type_id r = types_resolve(t, id);
	const struct types_type *ty = types_get(t, r);
	const struct types_variant_part *vp = ty->vpart;
	if (ty->kind != TYPES_STRUCT || !vp)
		return err_set(e, ERR_NOTFOUND, "%s is not a Rust enum with data", ty->name);
	out->id = r;
	out->name = ty->name;
	out->size = ty->size;
	out->align = ty->align;
	out->has_tag = vp->has_tag && vp->tag_size;
	out->tag_offset = vp->tag_offset;
	out->tag_size = vp->tag_size;
	if (vp->nvariants) {
		out->variants = calloc(vp->nvariants, sizeof *out->variants);
		if (!out->variants)
			return err_set(e, ERR_NOMEM, "out of memory laying out %s", ty->name);
	}
	out->nvariants = vp->nvariants;
	uint64_t max_payload = 0;
	for (uint32_t i = 0; i < vp->nvariants; i++) {
		const struct types_variant *v = &vp->variants[i];
		struct types_layout_variant *lv = &out->variants[i];
		lv->name = v->name;
		lv->type = v->type;
		lv->has_discr = v->has_discr;
		lv->discr = v->discr;
		variant_payload(t, v, lv);
		lv->slot_slack = out->size > lv->payload_size ? out->size - lv->payload_size : 0;
		if (lv->payload_size > max_payload)
			max_payload = lv->payload_size;
		if (!v->has_discr && out->has_tag)
			out->niche = true;
	}
	for (uint32_t i = 0; i < out->nvariants; i++)
		out->variants[i].sets_size = out->variants[i].payload_size == max_payload;
	boxed_sizes(out);
	return 0;
}

void types_layout_enum_free(struct types_layout_enum *le)
{
	free(le->variants);
	le->variants = NULL;
}

