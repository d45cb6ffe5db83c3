/* test_profile_generic.c: generic mode (--root SYMBOL --enum NAME) on a
 * program that is not beava: fixtures/generic/shapes.rs keeps a static
 * OnceLock<Mutex<HashMap<u64, Vec<Shape>>>> whose ops own Box, Box<[T]>,
 * Box<dyn Trait>, Vec, String, VecDeque, BTreeMap (internal nodes too), an
 * Arc shared by two ops and nested Option<Box<Shape>>, and prints what every
 * variant owns from its own allocation registry and glibc's
 * malloc_usable_size.  The tool's JSON must equal that exactly.  The same
 * comparison runs on fixtures/first-op/ops.rs, whose first op met owning heap
 * is variant 0 in slot 0.
 *
 * Generic mode in the user's words, on fixtures/tables/tables.rs (a static
 * Mutex<Vec<Table>> of three table-like structs, one with a slot holding
 * three variants, and a static NAMES holding only strings): each element is
 * its own table, exact per table and per (slot, variant) against the
 * program's own ledger; the mixed slot is split, never labelled by one
 * variant; a root reaching no Op exits 2 saying what it reached; a missing
 * --root or --enum is named with the statics or enums that would do. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <unistd.h>
#include <cmocka.h>

#include "tool_run.h"

static char core[1024], exe[1024], truthp[1024], out[256], md[256], svg[256];

static int setup(void **state)
{
	(void)state;
	snprintf(core, sizeof core, "%s/generic/core", fixdir());
	snprintf(exe, sizeof exe, "%s/generic/shapes", fixdir());
	snprintf(truthp, sizeof truthp, "%s/generic/truth.json", fixdir());
	snprintf(out, sizeof out, "/tmp/aggop-generic-%d.json", (int)getpid());
	snprintf(md, sizeof md, "/tmp/aggop-generic-%d.md", (int)getpid());
	snprintf(svg, sizeof svg, "/tmp/aggop-generic-%d.svg", (int)getpid());
	return access(core, R_OK) == 0 && access(truthp, R_OK) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	unlink(out);
	unlink(md);
	unlink(svg);
	return 0;
}

/* Runs the tool in generic mode on FIXDIR/dir/{core,exe} and compares its
 * JSON with dir/truth.json, the program's own accounting: the enum's size,
 * entities, ops, and every variant's count and heap bytes, exactly.  A
 * crash is an exit status other than 0 (tool_run reports 128 for a signal). */
static json_t *check_against_truth(const char *dir, const char *exe_name, const char *root, const char *enm)
{
	char err[2048], c[1024], x[1024], tp[1024];
	snprintf(c, sizeof c, "%s/%s/core", fixdir(), dir);
	snprintf(x, sizeof x, "%s/%s/%s", fixdir(), dir, exe_name);
	snprintf(tp, sizeof tp, "%s/%s/truth.json", fixdir(), dir);
	if (access(c, R_OK) != 0 || access(tp, R_OK) != 0)
		fail_msg("%s: no fixture (run tests/setup.sh)", c);
	int rc = tool_run(err, sizeof err, "%s %s --root %s --enum %s -q -o %s --json %s", c, x, root, enm, md, out);
	if (rc != 0)
		fail_msg("%s: exit %d: %s", dir, rc, err);
	json_t *j = load_json(out), *t = load_json(tp);
	assert_non_null(j);
	assert_non_null(t);
	assert_int_equal(jint(j, "enum.size"), jint(t, "enum_size"));
	assert_int_equal(jint(j, "totals.entities"), jint(t, "entities"));
	assert_int_equal(jint(j, "totals.ops"), jint(t, "ops"));
	json_t *tv = json_object_get(t, "variants"), *jv = json_object_get(j, "variants");
	size_t i, k;
	json_t *a, *b;
	long long seen = 0;
	json_array_foreach(tv, i, a) {
		const char *name = json_string_value(json_object_get(a, "variant"));
		json_t *match = NULL;
		if (jint(a, "count") == 0)
			continue;   /* the tool lists only variants met */
		json_array_foreach(jv, k, b)
			if (strcmp(json_string_value(json_object_get(b, "variant")), name) == 0)
				match = b;
		if (!match)
			fail_msg("%s: variant %s missing from the tool's output", dir, name);
		const char *keys[] = {"count", "heap_requested_bytes", "heap_usable_bytes", "heap_chunk_bytes",
				      "allocations"};
		for (size_t q = 0; q < sizeof keys / sizeof keys[0]; q++) {
			if (jint(a, keys[q]) != jint(match, keys[q]))
				fail_msg("%s: %s.%s: tool %lld, truth %lld", dir, name, keys[q], jint(match, keys[q]),
					 jint(a, keys[q]));
		}
		seen++;
	}
	assert_int_equal((long long)json_array_size(jv), seen);
	json_decref(j);
	return t;
}

static void test_variants_exact(void **state)
{
	(void)state;
	json_t *t = check_against_truth("generic", "shapes", "TABLE", "Shape");
	json_t *j = load_json(out);
	assert_int_equal(jint(j, "per_entity_bytes.p50"), jint(t, "per_entity_bytes.p50"));
	assert_int_equal(jint(j, "per_entity_bytes.p99"), jint(t, "per_entity_bytes.p99"));
	assert_int_equal(jint(j, "per_entity_bytes.max"), jint(t, "per_entity_bytes.max"));
	json_decref(j);
	json_decref(t);
}

/* fixtures/first-op/ops.rs: the first allocation charged to any op belongs
 * to variant 0 in slot 0 of table 0, the key a zero-filled cache entry of
 * the profile's field accumulators used to be mistaken for (a crash). */
static void test_first_op_variant_zero(void **state)
{
	(void)state;
	json_t *t = check_against_truth("first-op", "ops", "ROWS", "Op");
	/* the variant-0 ops own heap, so the case the test is for was met */
	json_t *tv = json_array_get(json_object_get(t, "variants"), 0);
	assert_string_equal(json_string_value(json_object_get(tv, "variant")), "Tag");
	assert_true(jint(tv, "allocations") > 0);
	json_decref(t);
}

static void test_bad_roots(void **state)
{
	(void)state;
	char err[2048];
	assert_int_equal(tool_run(err, sizeof err, "%s %s --root NO_SUCH_STATIC --enum Shape -q -o %s", core, exe, md), 2);
	assert_non_null(strstr(err, "NO_SUCH_STATIC"));
	assert_int_equal(tool_run(err, sizeof err, "%s %s --root TABLE --enum NoSuchEnum -q -o %s", core, exe, md), 2);
	assert_non_null(strstr(err, "NoSuchEnum"));
	assert_int_equal(tool_run(err, sizeof err, "%s %s --root NEVER --enum Shape -q -o %s", core, exe, md), 2);
	assert_non_null(strstr(err, "not initialised"));
	assert_int_equal(tool_run(err, sizeof err, "%s --root TABLE -q -o %s", core, md), 1);
}

static void test_root_addr_type(void **state)
{
	(void)state;
	char err[2048];
	assert_int_equal(tool_run(err, sizeof err, "%s %s --root TABLE --enum Shape -q -o %s --json %s", core, exe, md, out), 0);
	json_t *j = load_json(out);
	long long addr = jint(j, "root.address");
	char type[1024];
	snprintf(type, sizeof type, "%s", json_string_value(json_object_get(json_object_get(j, "root"), "type")));
	long long ops = jint(j, "totals.ops"), req = jint(j, "totals.heap_requested_bytes");
	json_decref(j);
	assert_int_equal(tool_run(err, sizeof err, "%s %s --root '0x%llx:%s' --enum Shape -q -o %s --json %s", core, exe,
				  addr, type, md, out), 0);
	j = load_json(out);
	assert_int_equal(jint(j, "totals.ops"), ops);
	assert_int_equal(jint(j, "totals.heap_requested_bytes"), req);
	json_decref(j);
}

/* ------------------------------------------------ fixtures/tables */

static void tables_paths(char *c, size_t cs, char *x, size_t xs, char *tp, size_t ts)
{
	snprintf(c, cs, "%s/tables/core", fixdir());
	snprintf(x, xs, "%s/tables/tables", fixdir());
	snprintf(tp, ts, "%s/tables/truth.json", fixdir());
	if (access(c, R_OK) != 0 || access(tp, R_OK) != 0)
		fail_msg("%s: no fixture (run tests/setup.sh)", c);
}

static json_t *by_name(json_t *arr, const char *key, const char *name)
{
	size_t i;
	json_t *o;
	json_array_foreach(arr, i, o) {
		const char *n = json_string_value(json_object_get(o, key));
		if (n && strcmp(n, name) == 0)
			return o;
	}
	return NULL;
}

static void test_tables_split_exact(void **state)
{
	(void)state;
	char err[2048], c[1024], x[1024], tp[1024];
	tables_paths(c, sizeof c, x, sizeof x, tp, sizeof tp);
	int rc = tool_run(err, sizeof err, "%s %s --root TABLES --enum Op -q -o %s --json %s", c, x, md, out);
	if (rc != 0)
		fail_msg("exit %d: %s", rc, err);
	json_t *j = load_json(out), *t = load_json(tp);
	assert_non_null(j);
	assert_non_null(t);
	json_t *tt = json_object_get(t, "tables"), *jt = json_object_get(j, "tables"), *a;
	size_t i, k, q;
	/* one table per element, no more */
	assert_int_equal(json_array_size(jt), json_array_size(tt));
	const char *keys[] = {"heap_requested_bytes", "heap_usable_bytes", "heap_chunk_bytes", "allocations"};
	json_array_foreach(tt, i, a) {
		const char *name = json_string_value(json_object_get(a, "name"));
		json_t *b = by_name(jt, "name", name);
		if (!b)
			fail_msg("table %s missing from the tool's output", name);
		assert_int_equal(jint(b, "entities"), jint(a, "entities"));
		assert_int_equal(jint(b, "ops"), jint(a, "ops"));
		for (q = 0; q < 4; q++)
			if (jint(b, keys[q]) != jint(a, keys[q]))
				fail_msg("%s.%s: tool %lld, truth %lld", name, keys[q], jint(b, keys[q]), jint(a, keys[q]));
		/* per slot, per variant */
		json_t *slot;
		json_array_foreach(json_object_get(a, "slots"), k, slot) {
			json_t *f = json_array_get(json_object_get(b, "features"), (size_t)jint(slot, "slot"));
			assert_non_null(f);
			assert_int_equal(jint(f, "slot"), jint(slot, "slot"));
			json_t *tv = json_object_get(slot, "variants"), *fv = json_object_get(f, "variants"), *v;
			assert_int_equal(json_array_size(fv), json_array_size(tv));
			size_t r;
			json_array_foreach(tv, r, v) {
				const char *vn = json_string_value(json_object_get(v, "variant"));
				json_t *w = by_name(fv, "variant", vn);
				if (!w)
					fail_msg("%s slot %lld: variant %s missing", name, jint(slot, "slot"), vn);
				assert_int_equal(jint(w, "count"), jint(v, "count"));
				for (q = 0; q < 4; q++)
					if (jint(w, keys[q]) != jint(v, keys[q]))
						fail_msg("%s slot %lld %s.%s: tool %lld, truth %lld", name, jint(slot, "slot"), vn,
							 keys[q], jint(w, keys[q]), jint(v, keys[q]));
				assert_non_null(json_object_get(w, "recommendation"));
			}
		}
	}
	json_decref(j);
	json_decref(t);
}

/* Slot 0 of "mixed" holds Count, List and Name by row: the JSON says mixed
 * and lists all three; the markdown's row says mixed and each variant gets
 * a row of its own with its own recommendation. */
static void test_mixed_slot(void **state)
{
	(void)state;
	char err[2048], c[1024], x[1024], tp[1024];
	tables_paths(c, sizeof c, x, sizeof x, tp, sizeof tp);
	assert_int_equal(tool_run(err, sizeof err, "%s %s --root TABLES --enum Op -q -o %s --json %s", c, x, md, out), 0);
	json_t *j = load_json(out);
	json_t *f = json_array_get(json_object_get(by_name(json_object_get(j, "tables"), "name", "mixed"), "features"), 0);
	assert_non_null(f);
	assert_true(json_is_true(json_object_get(f, "mixed")));
	assert_string_equal(json_string_value(json_object_get(f, "variant")), "mixed");
	assert_int_equal(json_array_size(json_object_get(f, "variants")), 3);
	json_decref(j);
	FILE *m = fopen(md, "r");
	assert_non_null(m);
	char line[4096];
	bool in_mixed = false, row = false;
	int per_variant = 0;
	while (fgets(line, sizeof line, m)) {
		if (strncmp(line, "### ", 4) == 0)
			in_mixed = strstr(line, "`mixed`") != NULL;
		if (!in_mixed)
			continue;
		if (strncmp(line, "| 0 | `slot 0` |", 16) == 0) {
			row = true;
			assert_non_null(strstr(line, "| mixed: 3 variants |"));
			assert_null(strstr(line, "| Count |"));
			assert_null(strstr(line, "| List |"));
			assert_null(strstr(line, "| Name |"));
		}
		if (strncmp(line, "| 0 | &nbsp;&nbsp;", 18) == 0)
			per_variant++;
	}
	fclose(m);
	assert_true(row);
	assert_int_equal(per_variant, 3);
}

/* NAMES holds strings only: exit 2, saying what the walk reached (the
 * program's own count of its strings) and which static would do. */
static void test_wrong_root(void **state)
{
	(void)state;
	char err[2048], c[1024], x[1024], tp[1024], want[64];
	tables_paths(c, sizeof c, x, sizeof x, tp, sizeof tp);
	unlink(md);
	assert_int_equal(tool_run(err, sizeof err, "%s %s --root NAMES --enum Op -q -o %s", c, x, md), 2);
	json_t *t = load_json(tp);
	snprintf(want, sizeof want, "%lld String", jint(t, "names"));
	json_decref(t);
	assert_non_null(strstr(err, "--root NAMES reaches no"));
	if (!strstr(err, want))
		fail_msg("\"%s\" not in: %s", want, err);
	assert_non_null(strstr(err, "TABLES"));
	assert_true(strchr(err, '\n') == err + strlen(err) - 1);   /* one line */
	assert_int_not_equal(access(md, F_OK), 0);   /* no empty report */
}

/* --enum Op alone (issue 20): TABLES is the one static that can hold an Op
 * (NAMES cannot) and no Arc/Rc-held struct on the heap can, so it is the
 * root, found by itself, and the tables are TABLES's. */
static void test_missing_root(void **state)
{
	(void)state;
	char err[2048], c[1024], x[1024], tp[1024];
	tables_paths(c, sizeof c, x, sizeof x, tp, sizeof tp);
	int rc = tool_run(err, sizeof err, "%s %s --enum Op -q -o %s --json %s", c, x, md, out);
	if (rc != 0)
		fail_msg("--enum Op alone: exit %d: %s", rc, err);
	json_t *j = load_json(out), *t = load_json(tp);
	assert_non_null(j);
	assert_non_null(t);
	const char *how = json_string_value(json_object_get(json_object_get(j, "root"), "how"));
	assert_non_null(how);
	assert_non_null(strstr(how, "tables::TABLES"));
	assert_null(strstr(how, "NAMES"));
	assert_int_equal(json_array_size(json_object_get(j, "tables")), json_array_size(json_object_get(t, "tables")));
	json_decref(j);
	json_decref(t);
}

static void test_missing_enum(void **state)
{
	(void)state;
	char err[2048], c[1024], x[1024], tp[1024];
	tables_paths(c, sizeof c, x, sizeof x, tp, sizeof tp);
	assert_int_equal(tool_run(err, sizeof err, "%s %s --root TABLES -q -o %s", c, x, md), 1);
	assert_non_null(strstr(err, "--root TABLES"));
	assert_non_null(strstr(err, "--enum ENUM"));
	assert_non_null(strstr(err, "tables::Op"));
	/* an unknown root names the statics that would do */
	assert_int_equal(tool_run(err, sizeof err, "%s %s --root NOPE --enum Op -q -o %s", c, x, md), 2);
	assert_non_null(strstr(err, "--root NOPE"));
	assert_non_null(strstr(err, "--root tables::TABLES --enum Op"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_variants_exact),
		cmocka_unit_test(test_first_op_variant_zero),
		cmocka_unit_test(test_bad_roots),
		cmocka_unit_test(test_root_addr_type),
		cmocka_unit_test(test_tables_split_exact),
		cmocka_unit_test(test_mixed_slot),
		cmocka_unit_test(test_wrong_root),
		cmocka_unit_test(test_missing_root),
		cmocka_unit_test(test_missing_enum),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
