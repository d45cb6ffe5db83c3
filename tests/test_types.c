/* test_types.c: the types layer against what the probe programs printed about
 * themselves (tests/setup.d/20-types.sh builds them into $FIXDIR/types):
 * Rust enums (niche, signed repr tag, Option<Box<T>>, Vec niche, one variant,
 * 55 variants) in a debug, a release (per-CGU copies, DW_FORM_ref_addr), a
 * DWARF 5 and a zlib-compressed build; split debug info (--debug-file and the
 * build-id path); a gcc -gdwarf-5 C program; statics, vtables, lookups.
 * At scale (tests/setup.d/25-bigbin.sh, $FIXDIR/bigbin): a generated binary
 * with thousands of ArcInner types and 100k statics, and one with two
 * versions of one crate; the rustc version against `rustc --version`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "types.h"
#include "probe_truth.h"


static const char *fixdir(void)
{
	const char *d = getenv("FIXDIR");
	return d ? d : "build/fixtures";
}

static void path_of(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/types/%s", fixdir(), name);
}




/* $FIXDIR/sub/name opened (with $FIXDIR/sub/debug_file when non-NULL), or the test fails. */
static struct types *open_in(const char *sub, const char *name, const char *debug_file)
{
	char path[1024], dpath[1024];
	struct types *t = NULL;
	struct err e = { 0 };
	snprintf(path, sizeof path, "%s/%s/%s", fixdir(), sub, name);
	if (debug_file)
		snprintf(dpath, sizeof dpath, "%s/%s/%s", fixdir(), sub, debug_file);
	int rc = types_open(&t, path, debug_file ? dpath : NULL, &e);
	if (rc)
		fail_msg("types_open(%s): %d %s (run tests/setup.sh)", path, rc, e.msg);
	return t;
}

static struct types *open_ok(const char *name, const char *debug_file)
{
	return open_in("types", name, debug_file);
}


static int hexval(char c)
{
	return c >= 'a' ? c - 'a' + 10 : c - '0';
}

static size_t unhex(const char *hex, unsigned char *out, size_t max)
{
	size_t n = strlen(hex) / 2;
	assert_true(n <= max);
	for (size_t i = 0; i < n; i++)
		out[i] = (unsigned char)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
	return n;
}

static uint64_t read_tag(const unsigned char *b, const struct types_variant_part *vp)
{
	uint64_t v = 0;
	for (uint32_t i = 0; i < vp->tag_size && i < 8; i++)
		v |= (uint64_t)b[vp->tag_offset + i] << (8 * i);
	return v;
}

static const struct types_variant *variant_named(const struct types_variant_part *vp,
						 const char *name, uint32_t *idx)
{
	for (uint32_t i = 0; i < vp->nvariants; i++)
		if (!strcmp(vp->variants[i].name, name)) {
			*idx = i;
			return &vp->variants[i];
		}
	fail_msg("no variant %s", name);
	return NULL;
}

/* Every enum and variant line of the probe's output against the DWARF: size,
 * alignment, number of variants, the discriminant the program's own bytes
 * carry at the tag DWARF names, and the variant types_variant_index picks. */
static void check_enums(const char *prog, const char *debug_file)
{
	struct truth tr;
	struct types *t = open_ok(prog, debug_file);
	truth_load(&tr, prog);
	size_t checked = 0, aggop = 0;
	char cur[512] = "";
	uint32_t cur_variants = 0, seen = 0;
	for (size_t i = 0; i <= tr.n; i++) {
		char name[512], var[128], hex[4096];
		unsigned long long size, align, payload;
		const char *l = i < tr.n ? tr.lines[i] : "";
		if (i == tr.n || parse_enum_line(l, "enum", name, sizeof name, &size, &align)) {
			if (cur[0] && cur_variants)
				assert_int_equal(seen, cur_variants); /* every variant printed */
			if (i == tr.n)
				break;
			const struct types_type *ty = types_get(t, lookup_ok(t, name));
			assert_int_equal(ty->size, size);
			assert_int_equal(ty->align, align);
			snprintf(cur, sizeof cur, "%s", name);
			cur_variants = ty->vpart ? ty->vpart->nvariants : 0;
			seen = 0;
			continue;
		}
		if (!parse_variant_line(l, name, sizeof name, var, sizeof var, &payload, hex, sizeof hex))
			continue;
		type_id id = lookup_ok(t, name);
		const struct types_type *ty = types_get(t, id);
		assert_non_null(ty->vpart);
		const struct types_variant_part *vp = ty->vpart;
		unsigned char bytes[512];
		size_t n = unhex(hex, bytes, sizeof bytes);
		assert_int_equal(n, ty->size);
		uint32_t want, got = UINT32_MAX;
		const struct types_variant *v = variant_named(vp, var, &want);
		struct err e = { 0 };
		if (types_variant_index(t, id, bytes, n, &got, &e))
			fail_msg("%s::%s: %s", name, var, e.msg);
		assert_int_equal(got, want);
		if (!vp->has_tag) {
			assert_int_equal(vp->nvariants, 1);
		} else if (v->has_discr) {
			assert_int_equal(read_tag(bytes, vp), v->discr);
		} else {
			for (uint32_t k = 0; k < vp->nvariants; k++)
				assert_false(vp->variants[k].has_discr &&
					     vp->variants[k].discr == read_tag(bytes, vp));
		}
		seen++;
		checked++;
		if (!strcmp(name, "probe::AggOp"))
			aggop++;
	}
	size_t lines = 0;
	for (size_t i = 0; i < tr.n; i++)
		lines += !strncmp(tr.lines[i], "variant ", 8);
	assert_int_equal(checked, lines); /* every line understood, none skipped */
	assert_true(aggop >= 50);
	truth_free(&tr);
	types_close(t);
}

static void test_enums_debug(void **state)
{
	(void)state;
	check_enums("rust-debug", NULL);
}

static void test_enums_release(void **state)
{
	(void)state;
	check_enums("rust-release", NULL);
}

static void test_enums_dwarf5(void **state)
{
	(void)state;
	check_enums("rust-v5", NULL);
}

/* The zlib copy is rust-debug with compressed sections (setup copies the truth). */
static void test_enums_zlib(void **state)
{
	(void)state;
	check_enums("rust-zlib", NULL);
}

/* Rust niche/tag specifics the probe's bytes alone cannot show. */
static void test_enum_shapes(void **state)
{
	(void)state;
	struct types *t = open_ok("rust-debug", NULL);
	const struct types_variant_part *vp = types_get(t, lookup_ok(t, "probe::Neg"))->vpart;
	uint32_t i;
	/* #[repr(i8)] A = -1: the discriminant masked to one byte */
	assert_int_equal(vp->tag_size, 1);
	assert_int_equal(variant_named(vp, "A", &i)->discr, 0xff);
	vp = types_get(t, lookup_ok(t, "probe::VecNiche"))->vpart;
	assert_int_equal(vp->tag_size, 8);
	assert_false(variant_named(vp, "V", &i)->has_discr);
	assert_int_equal(variant_named(vp, "A", &i)->discr, 0x8000000000000000ULL);
	vp = types_get(t, lookup_ok(t, "probe::OneVariant"))->vpart;
	assert_false(vp->has_tag);
	assert_int_equal(vp->nvariants, 1);
	const struct types_type *ob = types_get(
		t, lookup_ok(t, "core::option::Option<alloc::boxed::Box<probe::Inner, alloc::alloc::Global>>"));
	assert_int_equal(ob->size, 8);
	const struct types_variant *some = variant_named(ob->vpart, "Some", &i);
	assert_false(some->has_discr);
	type_id box;
	uint64_t off;
	struct err e = { 0 };
	assert_int_equal(types_member_path(t, some->type, "__0", &off, &box, &e), 0);
	assert_int_equal(types_get(t, box)->kind, TYPES_POINTER);
	assert_int_equal(types_get(t, box)->target, lookup_ok(t, "probe::Inner"));
	types_close(t);
}

static void check_fields(const struct types *t, const struct truth *tr, const char *only)
{
	size_t n = 0;
	for (size_t i = 0; i < tr->n; i++) {
		char name[512], field[128];
		unsigned long long off, size, align;
		if (parse_enum_line(tr->lines[i], "struct", name, sizeof name, &size, &align)) {
			const struct types_type *ty = types_get(t, types_resolve(t, lookup_ok(t, name)));
			assert_int_equal(ty->size, size);
			if (align)
				assert_int_equal(ty->align, align);
			continue;
		}
		if (sscanf(tr->lines[i], "field %511s %127s offset %llu size %llu", name, field, &off,
			   &size) != 4 || (only && strcmp(only, name)))
			continue;
		uint64_t o;
		type_id ft;
		struct err e = { 0 };
		if (types_member_path(t, lookup_ok(t, name), field, &o, &ft, &e))
			fail_msg("%s.%s: %s", name, field, e.msg);
		assert_int_equal(o, off);
		assert_int_equal(types_get(t, ft)->size, size);
		n++;
	}
	assert_true(n >= 5);
}

static void check_statics(const struct types *t, const struct truth *tr)
{
	size_t n = 0;
	for (size_t i = 0; i < tr->n; i++) {
		char a[256], b[256];
		long long delta;
		if (sscanf(tr->lines[i], "static_delta %255s %255s %lld", a, b, &delta) != 3)
			continue;
		const struct types_static *sa, *sb;
		struct err e = { 0 };
		if (types_static_lookup(t, a, &sa, &e) || types_static_lookup(t, b, &sb, &e))
			fail_msg("static %s/%s: %s", a, b, e.msg);
		assert_int_equal((long long)(sb->addr - sa->addr), delta);
		assert_int_not_equal(sa->type, 0);
		n++;
	}
	assert_true(n >= 2);
}

static void test_structs_and_statics(void **state)
{
	(void)state;
	const char *progs[] = { "rust-debug", "rust-v5", "rust-release" };
	for (size_t p = 0; p < 3; p++) {
		struct truth tr;
		struct types *t = open_ok(progs[p], NULL);
		truth_load(&tr, progs[p]);
		check_fields(t, &tr, NULL);
		if (p < 2) /* the release build optimises S3's DIE away */
			check_statics(t, &tr);
		truth_free(&tr);
		types_close(t);
	}
}

/* vtable addresses the program saw, as deltas from &S1, map to the concrete type. */
static void test_vtables(void **state)
{
	(void)state;
	struct truth tr;
	struct types *t = open_ok("rust-debug", NULL);
	truth_load(&tr, "rust-debug");
	const struct types_static *s1;
	struct err e = { 0 };
	assert_int_equal(types_static_lookup(t, "S1", &s1, &e), 0);
	size_t n = 0;
	for (size_t i = 0; i < tr.n; i++) {
		char name[256];
		long long delta;
		if (sscanf(tr.lines[i], "vtable %255s %lld", name, &delta) != 2)
			continue;
		assert_int_equal(types_vtable_type(t, s1->addr + (uint64_t)delta), lookup_ok(t, name));
		n++;
	}
	assert_int_equal(n, 2);
	assert_int_equal(types_vtable_type(t, s1->addr), 0);
	truth_free(&tr);
	types_close(t);
}

static void test_lookup_rules(void **state)
{
	(void)state;
	struct types *t = open_ok("rust-release", NULL);
	struct err e = { 0 };
	type_id id;
	/* last segment, with and without generic arguments */
	assert_int_equal(lookup_ok(t, "AggOp"), lookup_ok(t, "probe::AggOp"));
	assert_int_equal(lookup_ok(t, "Vec<f64, alloc::alloc::Global>"),
			 lookup_ok(t, "alloc::vec::Vec<f64, alloc::alloc::Global>"));
	assert_int_equal(types_lookup(t, "Vec", &id, &e), ERR_AMBIGUOUS);
	assert_non_null(strstr(e.msg, "alloc::vec::Vec<"));
	assert_int_equal(types_lookup(t, "NoSuchType", &id, &e), ERR_NOTFOUND);
	/* a reference type's name is not a path: "&probe::Neg" does not answer to "Neg" */
	assert_int_equal(types_get(t, lookup_ok(t, "Neg"))->kind, TYPES_STRUCT);
	/* per-CGU copies merged: one id per name, a definition, not a stub */
	struct types_stats st;
	types_get_stats(t, &st);
	assert_true(st.cus > 16);
	assert_true(st.merged > 0);
	const struct types_type *agg = types_get(t, lookup_ok(t, "AggOp"));
	assert_false(agg->is_declaration);
	type_id ids[4];
	/* its variant structs, and nothing else, live under its name */
	assert_int_equal(types_find_prefix(t, "probe::AggOp::", ids, 4), agg->vpart->nvariants);
	/* template parameters and the Vec field paths the walker uses */
	type_id v = lookup_ok(t, "alloc::vec::Vec<f64, alloc::alloc::Global>");
	assert_int_equal(types_tparam(t, v, "T"), lookup_ok(t, "f64"));
	assert_int_equal(types_tparam(t, v, "Nope"), 0);
	uint64_t off;
	type_id ft;
	assert_int_equal(types_member_path(t, v, "buf.inner.ptr.pointer.pointer", &off, &ft, &e), 0);
	assert_int_equal(off, 8);
	assert_int_equal(types_get(t, ft)->kind, TYPES_POINTER);
	assert_int_equal(types_member_path(t, v, "buf.inner.cap.__0", &off, &ft, &e), 0);
	assert_int_equal(off, 0);
	assert_int_equal(types_member_path(t, v, "buf.nothing", &off, &ft, &e), ERR_NOTFOUND);
	assert_int_equal(types_tparam(t, lookup_ok(t, "probe::Holder<probe::Inner>"), "T"),
			 lookup_ok(t, "probe::Inner"));
	/* every member of every struct reached from AggOp resolves to a type */
	for (uint32_t i = 0; i < agg->vpart->nvariants; i++) {
		const struct types_type *vt = types_get(t, agg->vpart->variants[i].type);
		assert_int_equal(vt->size, agg->size);
		for (uint32_t k = 0; k < vt->nmembers; k++) {
			assert_int_not_equal(vt->members[k].type, 0);
			if (k)
				assert_true(vt->members[k].offset >= vt->members[k - 1].offset);
		}
	}
	types_close(t);
}

static void test_c_dwarf5(void **state)
{
	(void)state;
	struct truth tr;
	struct types *t = open_ok("cprobe", NULL);
	truth_load(&tr, "cprobe");
	check_fields(t, &tr, NULL);
	check_statics(t, &tr);
	size_t n = 0;
	for (size_t i = 0; i < tr.n; i++) {
		char name[128], en[128];
		long long val;
		unsigned long long count, size;
		if (sscanf(tr.lines[i], "cenum %127s %127s %lld", name, en, &val) == 3) {
			const struct types_type *ty = types_get(t, lookup_ok(t, name));
			assert_int_equal(ty->kind, TYPES_ENUMERATION);
			bool found = false;
			for (uint32_t k = 0; k < ty->nenumerators; k++)
				if (!strcmp(ty->enumerators[k].name, en)) {
					assert_int_equal(ty->enumerators[k].value, val);
					found = true;
				}
			assert_true(found);
			n++;
		} else if (sscanf(tr.lines[i], "array %127s count %llu size %llu", name, &count, &size) == 3) {
			const struct types_static *s;
			struct err e = { 0 };
			assert_int_equal(types_static_lookup(t, name, &s, &e), 0);
			const struct types_type *a = types_get(t, types_resolve(t, s->type));
			assert_int_equal(a->kind, TYPES_ARRAY);
			assert_int_equal(a->count, count);
			assert_int_equal(a->size, size);
			n++;
		}
	}
	assert_int_equal(n, 4);
	/* C's struct and typedef of one type are one answer, not an ambiguity */
	type_id p = lookup_ok(t, "point");
	assert_int_equal(types_resolve(t, lookup_ok(t, "point_t")), p);
	/* a 2-D array: dimensions multiply */
	uint64_t off;
	type_id pts;
	struct err e = { 0 };
	assert_int_equal(types_member_path(t, lookup_ok(t, "node"), "pts", &off, &pts, &e), 0);
	assert_int_equal(types_get(t, pts)->count, 6);
	assert_int_equal(types_get(t, types_get(t, pts)->target), types_get(t, lookup_ok(t, "point_t")));
	truth_free(&tr);
	types_close(t);
}

static void test_split_debug(void **state)
{
	(void)state;
	char exe[1024], root[1024], bad[1024], dbg[1024];
	struct types *t = NULL;
	struct err e = { 0 };
	path_of(exe, sizeof exe, "rust-stripped");
	path_of(root, sizeof root, "debugroot");
	path_of(bad, sizeof bad, "no-such-root");
	path_of(dbg, sizeof dbg, "cprobe");

	setenv("AGGOP_DEBUG_ROOT", bad, 1);
	assert_int_equal(types_open(&t, exe, NULL, &e), ERR_INPUT);
	assert_null(t);
	assert_non_null(strstr(e.msg, "--debug-file"));
	/* a debug file from another build is refused, naming both build-ids */
	assert_int_equal(types_open(&t, exe, dbg, &e), ERR_INPUT);
	assert_non_null(strstr(e.msg, "build-id"));

	t = open_ok("rust-stripped", "rust.debug");
	type_id id = lookup_ok(t, "AggOp");
	assert_true(types_get(t, id)->vpart->nvariants >= 50);
	char want[128];
	FILE *f = fopen((snprintf(dbg, sizeof dbg, "%s/types/buildid.txt", fixdir()), dbg), "r");
	assert_non_null(f);
	assert_non_null(fgets(want, sizeof want, f));
	fclose(f);
	want[strcspn(want, "\n")] = 0;
	assert_string_equal(types_build_id(t), want);
	types_close(t);

	setenv("AGGOP_DEBUG_ROOT", root, 1);
	t = open_ok("rust-stripped", NULL);
	assert_string_equal(types_build_id(t), want);
	types_close(t);
	unsetenv("AGGOP_DEBUG_ROOT");
}

/* Not an executable, a missing file, a truncated one: an error, never a crash. */
static void test_bad_inputs(void **state)
{
	(void)state;
	char p[1024], trunc[1024];
	struct types *t = NULL;
	struct err e = { 0 };
	setenv("AGGOP_DEBUG_ROOT", "/nonexistent", 1);
	path_of(p, sizeof p, "rust-debug.out");
	assert_int_equal(types_open(&t, p, NULL, &e), ERR_INPUT);
	path_of(p, sizeof p, "does-not-exist");
	assert_int_not_equal(types_open(&t, p, NULL, &e), 0);
	assert_null(t);

	path_of(p, sizeof p, "rust-debug");
	snprintf(trunc, sizeof trunc, "/tmp/aggop-types-truncXXXXXX");
	int fd = mkstemp(trunc);
	assert_true(fd >= 0);
	FILE *in = fopen(p, "rb"), *out = fdopen(fd, "wb");
	assert_non_null(in);
	assert_non_null(out);
	fseek(in, 0, SEEK_END);
	long size = ftell(in);
	fseek(in, 0, SEEK_SET);
	/* keep the ELF headers and part of the DWARF, cut the rest */
	for (long i = 0; i < size * 2 / 3; i++)
		fputc(fgetc(in), out);
	fclose(in);
	fclose(out);
	int rc = types_open(&t, trunc, NULL, &e);
	unlink(trunc);
	if (rc == 0)
		types_close(t);
	else
		assert_true(e.msg[0] != 0);
	unsetenv("AGGOP_DEBUG_ROOT");
}

/* ------------------------------------------------------------- at scale */

static void bigbin_path(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/bigbin/%s", fixdir(), name);
}

static struct types *open_bigbin(const char *name)
{
	return open_in("bigbin", name, NULL);
}

/* The first line of $FIXDIR/bigbin/file that sscanf(fmt) fills n fields of. */
#define TRUTH(file, n, fmt, ...) do { \
	char p_[1024], l_[512]; \
	int got_ = 0; \
	bigbin_path(p_, sizeof p_, file); \
	FILE *f_ = fopen(p_, "r"); \
	if (!f_) \
		fail_msg("cannot open %s (run tests/setup.d/25-bigbin.sh)", p_); \
	while (!got_ && fgets(l_, sizeof l_, f_)) \
		got_ = sscanf(l_, fmt, __VA_ARGS__) == (n); \
	fclose(f_); \
	if (!got_) \
		fail_msg("%s has no line '%s'", p_, fmt); \
} while (0)

/* The version `rustc --version` printed when the fixtures were built. */
static void rustc_truth(unsigned *major, unsigned *minor, unsigned *patch)
{
	TRUTH("rustc-version.txt", 3, "rustc %u.%u.%u", major, minor, patch);
}

static void check_rustc_version(const struct types *t)
{
	unsigned want[3], got[3];
	rustc_truth(&want[0], &want[1], &want[2]);
	assert_int_equal(types_rustc_version(t, &got[0], &got[1], &got[2]), 0);
	assert_int_equal(got[0], want[0]);
	assert_int_equal(got[1], want[1]);
	assert_int_equal(got[2], want[2]);
	char value[48];
	snprintf(value, sizeof value, "%u.%u.%u", want[0], want[1], want[2]);
	const struct version_facts *v = types_versions(t);
	size_t found = 0;
	for (size_t i = 0; i < v->len; i++)
		if (!strcmp(v->data[i].dep, "rustc")) {
			assert_string_equal(v->data[i].value, value);
			assert_non_null(strstr(v->data[i].evidence, "DW_AT_producer"));
			found++;
		}
	assert_int_equal(found, 1);
}

/* Every ArcInner<bigbin::Si> the program allocated is found by the prefix
 * API, each once, with the layout the program measured; 100k statics are
 * indexed and de-duplicated, and lookups of them still work. */
static void test_bigbin(void **state)
{
	(void)state;
	unsigned structs = 0, statics = 0, last = 0;
	long long delta = 0;
	TRUTH("bigbin.out", 1, "structs %u", &structs);
	TRUTH("bigbin.out", 1, "statics %u", &statics);
	TRUTH("bigbin.out", 2, "static_delta X0 X%u %lld", &last, &delta);
	assert_true(structs >= 1000 && statics >= 100000);
	struct types *t = open_bigbin("bigbin");
	struct err e = { 0 };

	static const char prefix[] = "alloc::sync::ArcInner<bigbin::S";
	struct types_id_vec ids;
	types_id_vec_init(&ids);
	assert_int_equal(types_find_prefix_all(t, prefix, &ids, &e), 0);
	assert_int_equal(ids.len, structs);
	unsigned char *seen = calloc(structs, 1);
	assert_non_null(seen);
	for (size_t i = 0; i < ids.len; i++) {
		const struct types_type *ty = types_get(t, ids.data[i]);
		unsigned k;
		char tail[8] = "";
		assert_int_equal(sscanf(ty->name + strlen(prefix), "%u%7s", &k, tail), 2);
		assert_string_equal(tail, ">");
		assert_true(k < structs);
		assert_false(seen[k]); /* one type per name: the copies merged */
		seen[k] = 1;
		if (i)
			assert_true(ids.data[i] > ids.data[i - 1]);
	}
	free(seen);
	/* the old capped API counts them all, and fills only what it may */
	type_id few[64];
	assert_int_equal(types_find_prefix(t, prefix, few, 64), structs);
	assert_memory_equal(few, ids.data, sizeof few);
	types_id_vec_deinit(&ids);

	/* sizes the program measured, through ArcInner<T>.data */
	for (unsigned k = 0; k < 13 && k < structs; k++) {
		char name[64], line[64];
		unsigned long long size;
		snprintf(line, sizeof line, "size bigbin::S%u %%llu", k);
		TRUTH("bigbin.out", 1, line, &size);
		snprintf(name, sizeof name, "%s%u>", prefix, k);
		type_id data;
		assert_int_equal(types_member_path(t, lookup_ok(t, name), "data", NULL, &data, &e), 0);
		assert_int_equal(types_get(t, data)->size, size);
	}
	unsigned long long app;
	TRUTH("bigbin.out", 1, "size bigbin::AppState %llu", &app);
	type_id data;
	assert_int_equal(types_member_path(t, lookup_ok(t, "alloc::sync::ArcInner<bigbin::AppState>"), "data",
					   NULL, &data, &e), 0);
	assert_int_equal(data, lookup_ok(t, "bigbin::AppState"));
	assert_int_equal(types_get(t, data)->size, app);

	/* statics: all indexed once, found by name, at the addresses the program saw */
	struct types_stats st;
	types_get_stats(t, &st);
	assert_true(st.statics >= statics);
	assert_int_equal(st.statics, types_static_count(t));
	assert_int_equal(st.conflicts, 0);
	const struct types_static *x0, *xl;
	char xname[32];
	snprintf(xname, sizeof xname, "bigbin::X%u", last);
	assert_int_equal(types_static_lookup(t, "X0", &x0, &e), 0);
	assert_int_equal(types_static_lookup(t, xname, &xl, &e), 0);
	assert_int_equal((long long)(xl->addr - x0->addr), delta);
	check_rustc_version(t);
	types_close(t);
}

/* Two versions of crate `dep`: same names, different layouts, kept apart
 * down to the Vec<T> and ArcInner<T> that differ only in T; a lookup of the
 * shared name says so with both sizes. */
static void test_two_versions(void **state)
{
	(void)state;
	unsigned long long s1, s2, holder, off_old, off_new;
	TRUTH("twodeps.out", 1, "size dep_v1::Thing %llu", &s1);
	TRUTH("twodeps.out", 1, "size dep_v2::Thing %llu", &s2);
	TRUTH("twodeps.out", 1, "size twodeps::Holder %llu", &holder);
	TRUTH("twodeps.out", 1, "field twodeps::Holder old offset %llu", &off_old);
	TRUTH("twodeps.out", 1, "field twodeps::Holder new offset %llu", &off_new);
	assert_int_not_equal(s1, s2);
	struct types *t = open_bigbin("twodeps");
	struct err e = { 0 };
	type_id id;

	assert_int_equal(types_lookup(t, "dep::Thing", &id, &e), ERR_AMBIGUOUS);
	char want[32];
	snprintf(want, sizeof want, "%llu", s1);
	assert_non_null(strstr(e.msg, want));
	snprintf(want, sizeof want, "%llu", s2);
	assert_non_null(strstr(e.msg, want));
	assert_non_null(strstr(e.msg, "layouts"));
	assert_int_equal(types_lookup(t, "Thing", &id, &e), ERR_AMBIGUOUS);
	struct types_stats st;
	types_get_stats(t, &st);
	assert_true(st.conflicts >= 3); /* Thing, Vec<Thing>, ArcInner<Thing> at least */

	/* each Vec field of Holder has its own Vec type, whose T is its Thing */
	const struct types_type *h = types_get(t, lookup_ok(t, "twodeps::Holder"));
	assert_int_equal(h->size, holder);
	const char *fields[2] = { "old", "new" };
	unsigned long long offs[2] = { off_old, off_new }, sizes[2] = { s1, s2 };
	type_id vecs[2];
	for (int i = 0; i < 2; i++) {
		uint64_t off;
		assert_int_equal(types_member_path(t, lookup_ok(t, "twodeps::Holder"), fields[i], &off, &vecs[i], &e), 0);
		assert_int_equal(off, offs[i]);
		assert_string_equal(types_get(t, vecs[i])->name, "alloc::vec::Vec<dep::Thing, alloc::alloc::Global>");
		assert_int_equal(types_get(t, types_tparam(t, vecs[i], "T"))->size, sizes[i]);
	}
	assert_int_not_equal(vecs[0], vecs[1]);

	/* both ArcInner<dep::Thing>, through the prefix API, one per version */
	struct types_id_vec ids;
	types_id_vec_init(&ids);
	assert_int_equal(types_find_prefix_all(t, "alloc::sync::ArcInner<dep::Thing>", &ids, &e), 0);
	assert_int_equal(ids.len, 2);
	unsigned long long got[2];
	for (int i = 0; i < 2; i++) {
		type_id data;
		assert_int_equal(types_member_path(t, ids.data[i], "data", NULL, &data, &e), 0);
		got[i] = types_get(t, data)->size;
	}
	assert_true((got[0] == s1 && got[1] == s2) || (got[0] == s2 && got[1] == s1));
	types_id_vec_deinit(&ids);
	check_rustc_version(t);
	types_close(t);
}

/* The probes name their rustc too (which one is checked on the bigbin
 * fixtures, built in the same run as rustc-version.txt was written): the
 * version answered and the fact recorded agree.  A C program names none. */
static void test_rustc_version(void **state)
{
	(void)state;
	const char *progs[] = { "rust-debug", "rust-release", "rust-v5" };
	for (size_t i = 0; i < 3; i++) {
		struct types *t = open_ok(progs[i], NULL);
		unsigned v[3];
		char value[48];
		assert_int_equal(types_rustc_version(t, &v[0], &v[1], &v[2]), 0);
		assert_true(v[0] >= 1);
		snprintf(value, sizeof value, "%u.%u.%u", v[0], v[1], v[2]);
		const struct version_facts *f = types_versions(t);
		assert_int_equal(f->len, 1);
		assert_string_equal(f->data[0].dep, "rustc");
		assert_string_equal(f->data[0].value, value);
		types_close(t);
	}
	struct types *t = open_ok("cprobe", NULL);
	unsigned major = 7;
	assert_int_equal(types_rustc_version(t, &major, NULL, NULL), ERR_NOTFOUND);
	assert_int_equal(major, 7);
	assert_int_equal(types_versions(t)->len, 0);
	types_close(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enums_debug),
		cmocka_unit_test(test_enums_release),
		cmocka_unit_test(test_enums_dwarf5),
		cmocka_unit_test(test_enums_zlib),
		cmocka_unit_test(test_enum_shapes),
		cmocka_unit_test(test_structs_and_statics),
		cmocka_unit_test(test_vtables),
		cmocka_unit_test(test_lookup_rules),
		cmocka_unit_test(test_c_dwarf5),
		cmocka_unit_test(test_split_debug),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_bigbin),
		cmocka_unit_test(test_two_versions),
		cmocka_unit_test(test_rustc_version),
	};
	return cmocka_run_group_tests_name("types", tests, NULL, NULL);
}
