/* test_profile_generic.c: generic mode (--root SYMBOL --enum NAME) on a
 * program that is not beava: fixtures/generic/shapes.rs keeps a static
 * OnceLock<Mutex<HashMap<u64, Vec<Shape>>>> whose ops own Box, Box<[T]>,
 * Box<dyn Trait>, Vec, String, VecDeque, BTreeMap (internal nodes too), an
 * Arc shared by two ops and nested Option<Box<Shape>>, and prints what every
 * variant owns from its own allocation registry and glibc's
 * malloc_usable_size.  The tool's JSON must equal that exactly.  The same
 * comparison runs on fixtures/first-op/ops.rs, whose first op met owning heap
 * is variant 0 in slot 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <unistd.h>
#include <cmocka.h>

#include "tool_run.h"

static char core[1024], exe[1024], truthp[1024], out[256], md[256];

static int setup(void **state)
{
	(void)state;
	snprintf(core, sizeof core, "%s/generic/core", fixdir());
	snprintf(exe, sizeof exe, "%s/generic/shapes", fixdir());
	snprintf(truthp, sizeof truthp, "%s/generic/truth.json", fixdir());
	snprintf(out, sizeof out, "/tmp/aggop-generic-%d.json", (int)getpid());
	snprintf(md, sizeof md, "/tmp/aggop-generic-%d.md", (int)getpid());
	return access(core, R_OK) == 0 && access(truthp, R_OK) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	unlink(out);
	unlink(md);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_variants_exact),
		cmocka_unit_test(test_first_op_variant_zero),
		cmocka_unit_test(test_bad_roots),
		cmocka_unit_test(test_root_addr_type),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
