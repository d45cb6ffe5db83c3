/* test_layout.c: types_layout_enum / types_layout_struct (the types layer)
 * and report_layout_run (the `layout` command) against what the probe programs printed about themselves ($FIXDIR/types/<prog>.out, built by
 * tests/setup.d/20-types.sh): each variant's payload (size_of of its payload
 * type), its discriminant (the tag bytes of a value the program built), the
 * enum's size, and struct offsets, holes and tail padding.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cmd.h"
#include "report.h"
#include "types_layout.h"
#include "types.h"
#include "probe_truth.h"


static void fixture(char *buf, size_t n, const char *name)
{
	const char *d = getenv("FIXDIR");
	snprintf(buf, n, "%s/types/%s", d ? d : "build/fixtures", name);
}




static struct types *open_ok(const char *prog)
{
	char path[1024];
	struct types *t = NULL;
	struct err e = { 0 };
	fixture(path, sizeof path, prog);
	if (types_open(&t, path, NULL, &e))
		fail_msg("types_open(%s): %s", path, e.msg);
	return t;
}


/* The tag the program's own bytes hold at (off, size). */
static uint64_t tag_from_hex(const char *hex, uint64_t off, uint64_t size)
{
	uint64_t v = 0;
	assert_true(strlen(hex) >= 2 * (off + size));
	for (uint64_t i = 0; i < size && i < 8; i++) {
		unsigned b;
		assert_int_equal(sscanf(hex + 2 * (off + i), "%2x", &b), 1);
		v |= (uint64_t)b << (8 * i);
	}
	return v;
}

struct vtruth {
	char name[128];
	unsigned long long payload;
	char hex[1024];
};

/* The variant lines of one enum, in the program's order. */
static size_t variants_of(const struct truth *tr, const char *enm, struct vtruth *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < tr->n && n < max; i++) {
		char name[512];
		struct vtruth v;
		if (parse_variant_line(tr->lines[i], name, sizeof name, v.name, sizeof v.name, &v.payload,
				       v.hex, sizeof v.hex) && !strcmp(name, enm))
			out[n++] = v;
	}
	return n;
}

static const struct types_layout_variant *lv_named(const struct types_layout_enum *le, const char *name)
{
	for (uint32_t i = 0; i < le->nvariants; i++)
		if (!strcmp(le->variants[i].name, name))
			return &le->variants[i];
	fail_msg("layout of %s has no variant %s", le->name, name);
	return NULL;
}

static void check_enum_layouts(const char *prog)
{
	struct truth tr;
	struct types *t = open_ok(prog);
	truth_load(&tr, prog);
	static struct vtruth vs[128];
	size_t enums = 0;
	for (size_t i = 0; i < tr.n; i++) {
		char enm[512];
		unsigned long long size, align;
		if (!parse_enum_line(tr.lines[i], "enum", enm, sizeof enm, &size, &align) ||
		    !strcmp(enm, "probe::Color"))
			continue;
		size_t n = variants_of(&tr, enm, vs, 128);
		struct types_layout_enum le;
		struct err e = { 0 };
		if (types_layout_enum(t, lookup_ok(t, enm), &le, &e))
			fail_msg("types_layout_enum %s: %s", enm, e.msg);
		assert_int_equal(le.size, size);
		assert_int_equal(le.align, align);
		assert_int_equal(le.nvariants, n);
		unsigned long long maxp = 0;
		for (size_t k = 0; k < n; k++)
			if (vs[k].payload > maxp)
				maxp = vs[k].payload;
		for (size_t k = 0; k < n; k++) {
			const struct types_layout_variant *v = lv_named(&le, vs[k].name);
			if (v->payload_size != vs[k].payload)
				fail_msg("%s::%s payload %llu, the program says size_of = %llu", enm,
					 vs[k].name, (unsigned long long)v->payload_size, vs[k].payload);
			assert_int_equal(v->slot_slack, size - vs[k].payload);
			assert_int_equal(v->sets_size, vs[k].payload == maxp);
			if (v->has_discr)
				assert_int_equal(v->discr, tag_from_hex(vs[k].hex, le.tag_offset, le.tag_size));
			else if (le.has_tag)
				assert_true(le.niche);
		}
		/* boxing the largest variant of the 55-variant enum must shrink it in
		 * the model: Window (48 bytes) becomes a pointer */
		if (!strcmp(enm, "probe::AggOp")) {
			assert_true(n >= 50);
			assert_int_equal(le.nboxed, 3);
			assert_true(le.boxed_size[0] < le.size);
			assert_string_equal(le.variants[le.boxed_variant[0]].name, "Window");
		}
		types_layout_enum_free(&le);
		enums++;
	}
	assert_true(enums >= 8);
	truth_free(&tr);
	types_close(t);
}

/* The boxed-size model against an enum the probe boxed by hand
 * ("boxed NAME K SIZE": size_of of NAME with its K largest variants boxed). */
static void test_boxed_model(void **state)
{
	(void)state;
	struct truth tr;
	struct types *t = open_ok("rust-debug");
	truth_load(&tr, "rust-debug");
	size_t n = 0;
	for (size_t i = 0; i < tr.n; i++) {
		char name[512];
		unsigned k;
		unsigned long long size;
		if (sscanf(tr.lines[i], "boxed %511s %u %llu", name, &k, &size) != 3)
			continue;
		struct types_layout_enum le;
		struct err e = { 0 };
		assert_int_equal(types_layout_enum(t, lookup_ok(t, name), &le, &e), 0);
		assert_true(k >= 1 && k <= le.nboxed);
		assert_int_equal(le.boxed_size[k - 1], size);
		types_layout_enum_free(&le);
		n++;
	}
	assert_true(n >= 1);
	truth_free(&tr);
	types_close(t);
}

static void test_enum_layouts_debug(void **state)
{
	(void)state;
	check_enum_layouts("rust-debug");
}

static void test_enum_layouts_release(void **state)
{
	(void)state;
	check_enum_layouts("rust-release");
}

static json_t *run_json(const char *prog, const char *type)
{
	char path[1024], *buf = NULL;
	size_t len = 0;
	struct err e = { 0 };
	fixture(path, sizeof path, prog);
	FILE *out = open_memstream(&buf, &len);
	assert_non_null(out);
	int rc = cmd_layout_run(out, path, NULL, type, true, &e);
	fclose(out);
	if (rc)
		fail_msg("report_layout_run %s: %s", type, e.msg);
	json_error_t je;
	/* u64 discriminants above INT64_MAX are checked through discriminant_hex */
	json_t *j = json_loads(buf, JSON_DECODE_INT_AS_REAL, &je);
	if (!j)
		fail_msg("layout --json output is not JSON: %s\n%s", je.text, buf);
	free(buf);
	return j;
}

/* The command's JSON for the 55-variant enum and the Vec-niche enum against
 * the program's own size_of, payload sizes and discriminant bytes. */
static void test_layout_json(void **state)
{
	(void)state;
	struct truth tr;
	truth_load(&tr, "rust-debug");
	static struct vtruth vs[128];
	const char *enums[] = { "AggOp", "VecNiche", "Neg", "OneVariant" };
	const char *full[] = { "probe::AggOp", "probe::VecNiche", "probe::Neg", "probe::OneVariant" };
	for (size_t q = 0; q < 4; q++) {
		json_t *j = run_json("rust-debug", enums[q]);
		size_t n = variants_of(&tr, full[q], vs, 128);
		unsigned long long size = 0, align = 0;
		for (size_t i = 0; i < tr.n; i++) {
			char enm[512];
			if (parse_enum_line(tr.lines[i], "enum", enm, sizeof enm, &size, &align) &&
			    !strcmp(enm, full[q]))
				break;
		}
		assert_string_equal(json_string_value(json_object_get(j, "name")), full[q]);
		assert_int_equal(json_number_value(json_object_get(j, "size")), size);
		assert_int_equal(json_number_value(json_object_get(j, "align")), align);
		json_t *tag = json_object_get(j, "tag"), *vars = json_object_get(j, "variants");
		uint64_t toff = (uint64_t)json_number_value(json_object_get(tag, "offset"));
		uint64_t tsize = (uint64_t)json_number_value(json_object_get(tag, "size"));
		assert_int_equal(json_array_size(vars), n);
		for (size_t k = 0; k < n; k++) {
			json_t *v = NULL;
			for (size_t x = 0; x < json_array_size(vars); x++)
				if (!strcmp(json_string_value(json_object_get(json_array_get(vars, x), "name")),
					    vs[k].name))
					v = json_array_get(vars, x);
			assert_non_null(v);
			assert_int_equal(json_number_value(json_object_get(v, "payload_size")), vs[k].payload);
			assert_int_equal(json_number_value(json_object_get(v, "slot_slack")), size - vs[k].payload);
			json_t *d = json_object_get(v, "discriminant");
			assert_non_null(d);
			if (json_is_null(d)) {
				/* the dataful (or only) variant: its bytes match no other value */
				if (tsize)
					for (size_t x = 0; x < json_array_size(vars); x++) {
						json_t *h = json_object_get(json_array_get(vars, x), "discriminant_hex");
						if (!json_is_null(h)) {
							unsigned long long o = strtoull(json_string_value(h), NULL, 16);
							assert_true(o != tag_from_hex(vs[k].hex, toff, tsize));
						}
					}
			} else {
				unsigned long long got =
					strtoull(json_string_value(json_object_get(v, "discriminant_hex")), NULL, 16);
				assert_int_equal(got, tag_from_hex(vs[k].hex, toff, tsize));
				if (got < (1ULL << 53))
					assert_int_equal(json_number_value(d), got);
			}
		}
		json_decref(j);
	}
	truth_free(&tr);
}

/* Struct layouts: offsets from offset_of!/offsetof, and the holes and tail
 * padding those offsets and sizes imply. */
static void check_structs(const char *prog)
{
	struct truth tr;
	struct types *t = open_ok(prog);
	truth_load(&tr, prog);
	size_t structs = 0;
	for (size_t i = 0; i < tr.n; i++) {
		char sname[512];
		unsigned long long size, align;
		if (!parse_enum_line(tr.lines[i], "struct", sname, sizeof sname, &size, &align))
			continue;
		struct types_layout_struct ls;
		struct err e = { 0 };
		if (types_layout_struct(t, lookup_ok(t, sname), &ls, &e))
			fail_msg("types_layout_struct %s: %s", sname, e.msg);
		assert_int_equal(ls.size, size);
		/* the program's fields, sorted by offset, give the expected holes */
		unsigned long long offs[64], sizes[64];
		size_t nf = 0;
		for (size_t k = i + 1; k < tr.n && nf < 64; k++) {
			char s2[512], f[128];
			unsigned long long o, z;
			if (sscanf(tr.lines[k], "field %511s %127s offset %llu size %llu", s2, f, &o, &z) != 4 ||
			    strcmp(s2, sname))
				break;
			size_t at = nf++;
			while (at > 0 && offs[at - 1] > o) {
				offs[at] = offs[at - 1];
				sizes[at] = sizes[at - 1];
				at--;
			}
			offs[at] = o;
			sizes[at] = z;
			bool found = false;
			for (uint32_t m = 0; m < ls.nmembers; m++)
				if (!strcmp(ls.members[m].name, f)) {
					assert_int_equal(ls.members[m].offset, o);
					assert_int_equal(ls.members[m].size, z);
					found = true;
				}
			assert_true(found);
		}
		/* the C probe leaves out its bitfields: compare holes only when every
		 * member was printed */
		if (nf == ls.nmembers && !ls.is_union) {
			unsigned long long end = 0, holes = 0;
			for (size_t k = 0; k < nf; k++) {
				if (offs[k] > end)
					holes += offs[k] - end;
				if (offs[k] + sizes[k] > end)
					end = offs[k] + sizes[k];
			}
			assert_int_equal(ls.holes, holes);
			assert_int_equal(ls.tail_padding, size - end);
			for (uint32_t m = 1; m < ls.nmembers; m++)
				assert_true(ls.members[m].offset >= ls.members[m - 1].offset);
		}
		types_layout_struct_free(&ls);
		structs++;
	}
	assert_true(structs >= 3);
	truth_free(&tr);
	types_close(t);
}

static void test_struct_layouts(void **state)
{
	(void)state;
	check_structs("rust-debug");
	check_structs("cprobe");
}

/* struct node's 4-byte hole after `color` and the text output naming it. */
static void test_text_output(void **state)
{
	(void)state;
	char path[1024], *buf = NULL;
	size_t len = 0;
	struct err e = { 0 };
	fixture(path, sizeof path, "cprobe");
	FILE *out = open_memstream(&buf, &len);
	assert_int_equal(cmd_layout_run(out, path, NULL, "node", false, &e), 0);
	fclose(out);
	assert_non_null(strstr(buf, "(hole)"));
	free(buf);
	buf = NULL;
	fixture(path, sizeof path, "rust-debug");
	out = open_memstream(&buf, &len);
	assert_int_equal(cmd_layout_run(out, path, NULL, "AggOp", false, &e), 0);
	fclose(out);
	assert_non_null(strstr(buf, "dataful"));
	assert_non_null(strstr(buf, "estimate"));
	free(buf);
	out = open_memstream(&buf, &len);
	assert_int_equal(cmd_layout_run(out, path, NULL, "NoSuchType", false, &e), ERR_NOTFOUND);
	fclose(out);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enum_layouts_debug),
		cmocka_unit_test(test_enum_layouts_release),
		cmocka_unit_test(test_boxed_model),
		cmocka_unit_test(test_layout_json),
		cmocka_unit_test(test_struct_layouts),
		cmocka_unit_test(test_text_output),
	};
	return cmocka_run_group_tests_name("layout", tests, NULL, NULL);
}
