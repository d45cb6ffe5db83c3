/* report_layout.c: the `layout` command: a type's layout (types_layout.h)
 * printed as text or JSON.
 *
 * JSON is written by hand rather than with jansson because discriminants are
 * u64 (a Vec niche is 0x8000000000000000) and jansson's integers are signed.
 */
#include "report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

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

static void enum_json(FILE *out, const struct types *t, const struct types_layout_enum *le)
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
		const struct types_layout_variant *v = &le->variants[i];
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

static void enum_text(FILE *out, const struct types *t, const struct types_layout_enum *le)
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
	/* a niche's stored values (0x8000000000000000 + k in a Vec's capacity)
	 * are not the enum's own discriminants: those are the variant indices,
	 * with the stored value beside them */
	fprintf(out, "%-24s %-34s %8s %8s %8s  %s\n", "variant", "discriminant", "payload", "at",
		"slack", "payload type");
	for (uint32_t i = 0; i < le->nvariants; i++) {
		const struct types_layout_variant *v = &le->variants[i];
		char d[48];
		if (v->has_discr && le->niche)
			snprintf(d, sizeof d, "%u (niche value %#" PRIx64 ")", i, v->discr);
		else if (v->has_discr)
			snprintf(d, sizeof d, "%" PRIu64, v->discr);
		else
			snprintf(d, sizeof d, "dataful");
		char a[24];
		fprintf(out, "%-24s %-34s %8" PRIu64 " %8s %8" PRIu64 "  %s%s\n", v->name, d,
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

static void struct_json(FILE *out, const struct types *t, const struct types_layout_struct *ls)
{
	char tn[TYPE_NAME_MAX];
	fprintf(out, "{\"name\": ");
	json_str(out, ls->name);
	fprintf(out, ", \"kind\": \"%s\", \"size\": %" PRIu64 ", \"align\": %u, \"members\": [",
		ls->is_union ? "union" : "struct", ls->size, ls->align);
	for (uint32_t i = 0; i < ls->nmembers; i++) {
		const struct types_layout_member *m = &ls->members[i];
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

static void struct_text(FILE *out, const struct types *t, const struct types_layout_struct *ls)
{
	char tn[TYPE_NAME_MAX];
	fprintf(out, "%s: %s, %" PRIu64 " bytes, align %u, %u members (memory order)\n", ls->name,
		ls->is_union ? "union" : "struct", ls->size, ls->align, ls->nmembers);
	fprintf(out, "%8s %8s  %-24s %s\n", "offset", "size", "member", "type");
	for (uint32_t i = 0; i < ls->nmembers; i++) {
		const struct types_layout_member *m = &ls->members[i];
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

int report_layout_print(FILE *out, const struct types *t, type_id id, bool json, struct err *e)
{
	type_id r = types_resolve(t, id);
	const struct types_type *ty = types_get(t, r);
	int rc;
	if (ty->kind == TYPES_STRUCT && ty->vpart) {
		struct types_layout_enum le;
		if ((rc = types_layout_enum(t, r, &le, e)))
			return rc;
		(json ? enum_json : enum_text)(out, t, &le);
		types_layout_enum_free(&le);
	} else if (ty->kind == TYPES_STRUCT || ty->kind == TYPES_UNION) {
		struct types_layout_struct ls;
		if ((rc = types_layout_struct(t, r, &ls, e)))
			return rc;
		(json ? struct_json : struct_text)(out, t, &ls);
		types_layout_struct_free(&ls);
	} else {
		other_print(out, t, r ? r : id, json);
	}
	if (ferror(out))
		return err_set(e, ERR_IO, "writing the layout failed");
	return 0;
}
