/* layout.c: struct holes and Rust enum variant costs from the type graph
 * (include/layout.h has the definitions), and the `layout` command that prints
 * them as text or JSON.  Everything here is computed from types.h alone: no
 * core, no target memory.
 *
 * JSON is written by hand rather than with jansson because discriminants are
 * u64 (a Vec niche is 0x8000000000000000) and jansson's integers are signed.
 */
#include "layout.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define LAYOUT_PTR_SIZE 8  /* a Box<T> of a sized T is one x86-64 pointer */

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

int layout_struct(const struct types *t, type_id id, struct layout_struct *out, struct err *e)
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
		struct layout_member *lm = &out->members[i];
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

void layout_struct_free(struct layout_struct *ls)
{
	free(ls->members);
	ls->members = NULL;
}

/* ------------------------------------------------------------------ enums */

static void variant_payload(const struct types *t, const struct types_variant *v,
			    struct layout_variant *lv)
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
static uint64_t boxed_model(const struct layout_enum *le, const bool *boxed)
{
	uint64_t tag_end = le->has_tag ? le->tag_offset + le->tag_size : 0;
	uint64_t end = tag_end, align = le->has_tag && le->tag_size ? le->tag_size : 1;
	for (uint32_t i = 0; i < le->nvariants; i++) {
		const struct layout_variant *v = &le->variants[i];
		uint64_t vend = v->payload_end, valign = v->payload_align;
		if (boxed[i]) {
			vend = round_up(tag_end, LAYOUT_PTR_SIZE) + LAYOUT_PTR_SIZE;
			valign = LAYOUT_PTR_SIZE;
		}
		if (vend > end)
			end = vend;
		if (valign > align)
			align = valign;
	}
	return round_up(end, align);
}

static void boxed_sizes(struct layout_enum *le)
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

int layout_enum(const struct types *t, type_id id, struct layout_enum *out, struct err *e)
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
		struct layout_variant *lv = &out->variants[i];
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

void layout_enum_free(struct layout_enum *le)
{
	free(le->variants);
	le->variants = NULL;
}

/* ----------------------------------------------------------------- output */

static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

/* A printable name for a type: its DWARF name, or for C's anonymous pointer,
 * array and qualifier types one spelled from the target ("node *",
 * "point_t[3]"), bounded in depth and length. */
static const char *type_name_r(const struct types *t, type_id id, char *buf, size_t n, int depth)
{
	const struct types_type *ty = types_get(t, id);
	if (ty->name && ty->name[0])
		return ty->name;
	if (!id)
		return "void";
	if (depth > 8 || (ty->kind != TYPES_POINTER && ty->kind != TYPES_ARRAY &&
			  ty->kind != TYPES_TYPEDEF))
		return "?";
	char inner[256];
	const char *tn = type_name_r(t, ty->target, inner, sizeof inner, depth + 1);
	if (ty->kind == TYPES_POINTER)
		snprintf(buf, n, "%.240s *", tn);
	else if (ty->kind == TYPES_ARRAY)
		snprintf(buf, n, "%.200s[%" PRIu64 "]", tn, ty->count);
	else
		snprintf(buf, n, "%.240s (qualified)", tn);
	return buf;
}

#define TYPE_NAME_MAX 256

static const char *type_name(const struct types *t, type_id id, char *buf)
{
	return type_name_r(t, id, buf, TYPE_NAME_MAX, 0);
}

/* "+N" right-aligned in a column, for the text tables. */
static const char *at(char *buf, size_t n, uint64_t off)
{
	snprintf(buf, n, "+%" PRIu64, off);
	return buf;
}

static const char *const boxed_note =
	"model: each boxed payload becomes an 8-byte pointer after the tag, other variants keep "
	"their offsets; rustc may pick another niche or tag encoding, so this is an estimate";

static void enum_json(FILE *out, const struct types *t, const struct layout_enum *le)
{
	char tn[TYPE_NAME_MAX];
	fprintf(out, "{\"name\": ");
	json_str(out, le->name);
	fprintf(out, ", \"kind\": \"enum\", \"size\": %" PRIu64 ", \"align\": %u", le->size, le->align);
	fprintf(out, ", \"tag\": {\"offset\": %" PRIu64 ", \"size\": %u, \"encoding\": \"%s\"}",
		le->has_tag ? le->tag_offset : 0, le->has_tag ? le->tag_size : 0,
		!le->has_tag ? "none" : le->niche ? "niche" : "direct");
	fprintf(out, ", \"variants\": [");
	for (uint32_t i = 0; i < le->nvariants; i++) {
		const struct layout_variant *v = &le->variants[i];
		fprintf(out, "%s\n  {\"name\": ", i ? "," : "");
		json_str(out, v->name);
		/* also as hex text: JSON readers with signed 64-bit integers
		 * (jansson) cannot take a Vec niche's 0x8000000000000000 */
		if (v->has_discr)
			fprintf(out, ", \"discriminant\": %" PRIu64 ", \"discriminant_hex\": \"%#" PRIx64 "\"",
				v->discr, v->discr);
		else
			fprintf(out, ", \"discriminant\": null, \"discriminant_hex\": null");
		fprintf(out, ", \"payload_size\": %" PRIu64 ", \"payload_offset\": %" PRIu64
			", \"slot_slack\": %" PRIu64 ", \"sets_size\": %s, \"type\": ",
			v->payload_size, v->payload_offset, v->slot_slack, v->sets_size ? "true" : "false");
		json_str(out, type_name(t, v->type, tn));
		fputc('}', out);
	}
	fprintf(out, "],\n \"size_set_by\": [");
	for (uint32_t i = 0, n = 0; i < le->nvariants; i++) {
		if (!le->variants[i].sets_size)
			continue;
		fprintf(out, "%s", n++ ? ", " : "");
		json_str(out, le->variants[i].name);
	}
	fprintf(out, "],\n \"if_boxed\": [");
	for (uint32_t k = 0; k < le->nboxed; k++) {
		fprintf(out, "%s{\"boxed\": ", k ? ", " : "");
		json_str(out, le->variants[le->boxed_variant[k]].name);
		fprintf(out, ", \"count\": %u, \"size\": %" PRIu64 "}", k + 1, le->boxed_size[k]);
	}
	fprintf(out, "],\n \"if_boxed_model\": ");
	json_str(out, boxed_note);
	fprintf(out, "}\n");
}

static void enum_text(FILE *out, const struct types *t, const struct layout_enum *le)
{
	char tn[TYPE_NAME_MAX];
	fprintf(out, "%s: Rust enum, %" PRIu64 " bytes, align %u, %u variants\n", le->name, le->size,
		le->align, le->nvariants);
	if (!le->has_tag)
		fprintf(out, "tag: none (one variant, always active)\n");
	else if (le->niche)
		fprintf(out, "tag: %u bytes at +%" PRIu64 " (niche: the dataful variant has no value)\n",
			le->tag_size, le->tag_offset);
	else
		fprintf(out, "tag: %u bytes at +%" PRIu64 " (direct)\n", le->tag_size, le->tag_offset);
	fprintf(out, "%-24s %20s %8s %8s %8s  %s\n", "variant", "discriminant", "payload", "at",
		"slack", "payload type");
	for (uint32_t i = 0; i < le->nvariants; i++) {
		const struct layout_variant *v = &le->variants[i];
		char d[32];
		if (v->has_discr)
			snprintf(d, sizeof d, "%" PRIu64, v->discr);
		else
			snprintf(d, sizeof d, "dataful");
		char a[24];
		fprintf(out, "%-24s %20s %8" PRIu64 " %8s %8" PRIu64 "  %s%s\n", v->name, d,
			v->payload_size, at(a, sizeof a, v->payload_offset), v->slot_slack,
			type_name(t, v->type, tn),
			v->sets_size ? "  <- sets the size" : "");
	}
	for (uint32_t k = 0; k < le->nboxed; k++)
		fprintf(out, "if the %u largest payload variant%s boxed (up to %s): %" PRIu64 " bytes\n",
			k + 1, k ? "s were" : " was", le->variants[le->boxed_variant[k]].name,
			le->boxed_size[k]);
	if (le->nboxed)
		fprintf(out, "(%s)\n", boxed_note);
}

static void struct_json(FILE *out, const struct types *t, const struct layout_struct *ls)
{
	char tn[TYPE_NAME_MAX];
	fprintf(out, "{\"name\": ");
	json_str(out, ls->name);
	fprintf(out, ", \"kind\": \"%s\", \"size\": %" PRIu64 ", \"align\": %u, \"members\": [",
		ls->is_union ? "union" : "struct", ls->size, ls->align);
	for (uint32_t i = 0; i < ls->nmembers; i++) {
		const struct layout_member *m = &ls->members[i];
		fprintf(out, "%s\n  {\"name\": ", i ? "," : "");
		json_str(out, m->name);
		fprintf(out, ", \"offset\": %" PRIu64 ", \"size\": %" PRIu64 ", \"hole_before\": %" PRIu64
			", \"type\": ", m->offset, m->size, m->hole_before);
		json_str(out, type_name(t, m->type, tn));
		fputc('}', out);
	}
	fprintf(out, "],\n \"holes\": %" PRIu64 ", \"tail_padding\": %" PRIu64 "}\n", ls->holes,
		ls->tail_padding);
}

static void struct_text(FILE *out, const struct types *t, const struct layout_struct *ls)
{
	char tn[TYPE_NAME_MAX];
	fprintf(out, "%s: %s, %" PRIu64 " bytes, align %u, %u members (memory order)\n", ls->name,
		ls->is_union ? "union" : "struct", ls->size, ls->align, ls->nmembers);
	fprintf(out, "%8s %8s  %-24s %s\n", "offset", "size", "member", "type");
	for (uint32_t i = 0; i < ls->nmembers; i++) {
		const struct layout_member *m = &ls->members[i];
		char a[24];
		if (m->hole_before)
			fprintf(out, "%8s %8" PRIu64 "  (hole)\n", at(a, sizeof a, m->offset - m->hole_before),
				m->hole_before);
		fprintf(out, "%8s %8" PRIu64 "  %-24s %s\n", at(a, sizeof a, m->offset), m->size,
			m->name[0] ? m->name : "(anonymous)", type_name(t, m->type, tn));
	}
	char a[24];
	if (ls->tail_padding)
		fprintf(out, "%8s %8" PRIu64 "  (tail padding)\n", at(a, sizeof a, ls->size - ls->tail_padding),
			ls->tail_padding);
	fprintf(out, "holes: %" PRIu64 " bytes, tail padding: %" PRIu64 " bytes\n", ls->holes,
		ls->tail_padding);
}

static void other_print(FILE *out, const struct types *t, type_id id, bool json)
{
	char tn[TYPE_NAME_MAX];
	static const char *const kinds[] = { "void", "base", "pointer", "struct", "union",
					     "enumeration", "array", "typedef", "subroutine", "unknown" };
	const struct types_type *ty = types_get(t, id);
	const char *kind = (unsigned)ty->kind < sizeof kinds / sizeof *kinds ? kinds[ty->kind] : "?";
	if (json) {
		fprintf(out, "{\"name\": ");
		json_str(out, type_name(t, id, tn));
		fprintf(out, ", \"kind\": \"%s\", \"size\": %" PRIu64 ", \"align\": %u", kind, ty->size,
			ty->align);
		if (ty->kind == TYPES_ENUMERATION) {
			fprintf(out, ", \"enumerators\": [");
			for (uint32_t i = 0; i < ty->nenumerators; i++) {
				fprintf(out, "%s{\"name\": ", i ? ", " : "");
				json_str(out, ty->enumerators[i].name);
				fprintf(out, ", \"value\": %" PRId64 "}", ty->enumerators[i].value);
			}
			fputc(']', out);
		}
		fprintf(out, "}\n");
		return;
	}
	fprintf(out, "%s: %s, %" PRIu64 " bytes, align %u\n", type_name(t, id, tn), kind, ty->size, ty->align);
	for (uint32_t i = 0; ty->kind == TYPES_ENUMERATION && i < ty->nenumerators; i++)
		fprintf(out, "  %s = %" PRId64 "\n", ty->enumerators[i].name, ty->enumerators[i].value);
}

int layout_print(FILE *out, const struct types *t, type_id id, bool json, struct err *e)
{
	type_id r = types_resolve(t, id);
	const struct types_type *ty = types_get(t, r);
	int rc;
	if (ty->kind == TYPES_STRUCT && ty->vpart) {
		struct layout_enum le;
		if ((rc = layout_enum(t, r, &le, e)))
			return rc;
		(json ? enum_json : enum_text)(out, t, &le);
		layout_enum_free(&le);
	} else if (ty->kind == TYPES_STRUCT || ty->kind == TYPES_UNION) {
		struct layout_struct ls;
		if ((rc = layout_struct(t, r, &ls, e)))
			return rc;
		(json ? struct_json : struct_text)(out, t, &ls);
		layout_struct_free(&ls);
	} else {
		other_print(out, t, r ? r : id, json);
	}
	if (ferror(out))
		return err_set(e, ERR_IO, "writing the layout failed");
	return 0;
}

int layout_run(FILE *out, const char *exe, const char *debug_file, const char *type, bool json,
	       struct err *e)
{
	struct types *t;
	type_id id;
	int rc = types_open(&t, exe, debug_file, e);
	if (rc)
		return rc;
	rc = types_lookup(t, type, &id, e);
	if (!rc)
		rc = layout_print(out, t, id, json, e);
	types_close(t);
	return rc;
}
