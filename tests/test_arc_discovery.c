/* test_arc_discovery.c: generic root discovery without a static (issue 20;
 * fixtures/arc-server/srv_arc.rs: the state lives only in an Arc held by 3
 * worker threads).  `--enum Agg` alone must find ArcInner<AppState> by a
 * typed heap scan and be exact against the program's counting-allocator
 * ledger per variant (count, requested, usable, chunk, allocations) and in
 * the number of holders; `--root AppState` (a type, not a static) and
 * `--root 0xADDR` (no type) must give the same numbers.  On fixtures/tables
 * (one static can hold the enum, nothing on the heap), `--enum Op` alone
 * uses that static. */
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <cmocka.h>

#include "tool_run.h"

static char outp[256], mdp[256], core[600], exe[600], truthp[600];

static int setup(void **state)
{
	(void)state;
	snprintf(outp, sizeof outp, "/tmp/aggop-arc-%d.json", (int)getpid());
	snprintf(mdp, sizeof mdp, "/tmp/aggop-arc-%d.md", (int)getpid());
	snprintf(core, sizeof core, "%.500s/arc-server/core", fixdir());
	snprintf(exe, sizeof exe, "%.500s/arc-server/srv_arc", fixdir());
	snprintf(truthp, sizeof truthp, "%.500s/arc-server/truth.json", fixdir());
	return access(truthp, R_OK) == 0 && access(core, R_OK) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	unlink(outp);
	unlink(mdp);
	return 0;
}

static json_t *by_variant(json_t *arr, const char *name)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v) {
		const char *n = json_string_value(json_object_get(v, "variant"));
		if (n && strcmp(n, name) == 0)
			return v;
	}
	return NULL;
}

/* Runs the tool with flags; the report must be generic, exact against the
 * ledger; returns the root's "how". */
static void exact_with(const char *flags, const char *how_has)
{
	char err[4096];
	int rc = tool_run(err, sizeof err, "%s %s %s -q -o %s --json %s", core, exe, flags, mdp, outp);
	if (rc != 0)
		fail_msg("%s: exit %d: %s", flags, rc, err);
	json_t *j = load_json(outp), *t = load_json(truthp);
	assert_non_null(j);
	assert_non_null(t);
	assert_string_equal(json_string_value(json_object_get(j, "target")), "generic");
	const char *how = json_string_value(json_object_get(json_object_get(j, "root"), "how"));
	if (!how || !strstr(how, how_has))
		fail_msg("%s: root %s, expected \"%s\"", flags, how ? how : "?", how_has);
	if (!strstr(json_string_value(json_object_get(json_object_get(j, "root"), "type")), "AppState"))
		fail_msg("%s: the root is not the AppState", flags);
	if (jint(j, "totals.entities") != jint(t, "entities") || jint(j, "totals.ops") != jint(t, "ops"))
		fail_msg("%s: holders %lld ops %lld, ledger %lld and %lld", flags, jint(j, "totals.entities"),
			 jint(j, "totals.ops"), jint(t, "entities"), jint(t, "ops"));
	const char *keys[] = {"count", "heap_requested_bytes", "heap_usable_bytes", "heap_chunk_bytes", "allocations"};
	size_t i;
	json_t *tv;
	json_array_foreach(json_object_get(t, "variants"), i, tv) {
		const char *name = json_string_value(json_object_get(tv, "name"));
		json_t *v = by_variant(json_object_get(j, "variants"), name);
		if (!v)
			fail_msg("%s: variant %s missing", flags, name);
		for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
			if (jint(v, keys[k]) != jint(tv, keys[k]))
				fail_msg("%s: %s.%s: tool %lld, ledger %lld", flags, name, keys[k], jint(v, keys[k]),
					 jint(tv, keys[k]));
	}
	json_decref(j);
	json_decref(t);
}

static void test_enum_alone_finds_the_arc(void **state)
{
	(void)state;
	exact_with("--enum Agg", "typed heap scan");
}

static void test_root_type_scans_the_heap(void **state)
{
	(void)state;
	exact_with("--root AppState --enum Agg", "typed heap scan");
}

static void test_root_address_without_type(void **state)
{
	(void)state;
	char err[4096], flags[128];
	int rc = tool_run(err, sizeof err, "%s %s --enum Agg -q -o %s --json %s", core, exe, mdp, outp);
	if (rc != 0)
		fail_msg("exit %d: %s", rc, err);
	json_t *j = load_json(outp);
	assert_non_null(j);
	snprintf(flags, sizeof flags, "--root 0x%llx --enum Agg", jint(j, "root.address"));
	json_decref(j);
	exact_with(flags, "inferred");
}

static void test_one_static_is_used(void **state)
{
	(void)state;
	char err[4096], c[700], x[700];
	snprintf(c, sizeof c, "%.500s/tables/core", fixdir());
	snprintf(x, sizeof x, "%.500s/tables/tables", fixdir());
	int rc = tool_run(err, sizeof err, "%s %s --enum Op -q -o %s --json %s", c, x, mdp, outp);
	if (rc != 0)
		fail_msg("--enum Op alone on tables: exit %d: %s", rc, err);
	json_t *j = load_json(outp);
	assert_non_null(j);
	const char *how = json_string_value(json_object_get(json_object_get(j, "root"), "how"));
	if (!how || !strstr(how, "tables::TABLES") || !strstr(how, "found by itself"))
		fail_msg("root: %s", how ? how : "?");
	json_decref(j);
}

/* --root TABLES --enum Op: the root Vec's own buffer is counted on the
 * root's line, equal to the program's ledger (issue 16: it was dropped). */
static void test_root_vec_buffer_counted(void **state)
{
	(void)state;
	char err[4096], c[700], x[700], tp[700];
	snprintf(c, sizeof c, "%.500s/tables/core", fixdir());
	snprintf(x, sizeof x, "%.500s/tables/tables", fixdir());
	snprintf(tp, sizeof tp, "%.500s/tables/truth.json", fixdir());
	int rc = tool_run(err, sizeof err, "%s %s --root TABLES --enum Op -q -o %s --json %s", c, x, mdp, outp);
	if (rc != 0)
		fail_msg("--root TABLES --enum Op: exit %d: %s", rc, err);
	json_t *j = load_json(outp), *t = load_json(tp);
	assert_non_null(j);
	assert_non_null(t);
	if (jint(t, "root_buffer.allocations") != 1)
		fail_msg("the tables fixture's ledger has no root_buffer (rebuild it)");
	const char *keys[][2] = {{"root.own_allocations.count", "root_buffer.allocations"},
				 {"root.own_allocations.heap_requested_bytes", "root_buffer.heap_requested_bytes"},
				 {"root.own_allocations.heap_chunk_bytes", "root_buffer.heap_chunk_bytes"}};
	for (size_t k = 0; k < 3; k++)
		if (jint(j, keys[k][0]) != jint(t, keys[k][1]))
			fail_msg("%s: tool %lld, ledger %lld", keys[k][0], jint(j, keys[k][0]), jint(t, keys[k][1]));
	json_decref(j);
	json_decref(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enum_alone_finds_the_arc),
		cmocka_unit_test(test_root_type_scans_the_heap),
		cmocka_unit_test(test_root_address_without_type),
		cmocka_unit_test(test_one_static_is_used),
		cmocka_unit_test(test_root_vec_buffer_counted),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
