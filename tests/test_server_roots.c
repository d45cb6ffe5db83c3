/* test_server_roots.c: root discovery on beava-sim's server mode (issue 16;
 * tests/setup.d/51-beava-server.sh: worker threads with their own arenas,
 * start-up churn, a gcore, a kernel core, and --unsplit, where the state's
 * ArcInner<AppState> sits in a chunk one granule larger than its request).
 * Truth is the server's own ledger (truth.json "owners": every live
 * allocation under its owner tag, with glibc's usable and chunk sizes):
 *   - no flags: exit 0, beava mode, the root found by the heap scan is the
 *     ledger's ArcInner<AppState> (the unsplit one said to be left unsplit);
 *   - the root's own allocations (its ArcInner, the ArcInner of
 *     dev_agg.state_tables, the Vec<AggStateTable> buffer) equal the ledger's
 *     state_arc + tables_arc + tables_vec, count, requested and chunk bytes;
 *   - --root 0xADDR and --root 0xADDR:AppState give auto mode's report (the
 *     same tables, features and numbers; only the root's "how" differs).
 * The per-table, per-feature and per-variant exactness on these snapshots is
 * test_profile_beava's (it checks every sim-server snapshot too). */
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <cmocka.h>

#include "tool_run.h"

static const char *const KINDS[] = {"gcore", "kernel", "unsplit"};
#define NKINDS (sizeof KINDS / sizeof KINDS[0])

struct snap {
	char dir[512];
	json_t *truth, *prof;
};
static struct snap snaps[NKINDS];
static char outp[256], mdp[256];

static int setup(void **state)
{
	(void)state;
	snprintf(outp, sizeof outp, "/tmp/aggop-server-%d.json", (int)getpid());
	snprintf(mdp, sizeof mdp, "/tmp/aggop-server-%d.md", (int)getpid());
	for (size_t i = 0; i < NKINDS; i++) {
		char t[600], err[4096];
		snprintf(snaps[i].dir, sizeof snaps[i].dir, "%.400s/sim-server/%s", fixdir(), KINDS[i]);
		snprintf(t, sizeof t, "%.512s/truth.json", snaps[i].dir);
		snaps[i].truth = load_json(t);
		int rc = tool_run(err, sizeof err, "%.512s/core %.512s/beava-sim -q -o %s --json %s", snaps[i].dir, snaps[i].dir,
				  mdp, outp);
		if (rc != 0)
			fprintf(stderr, "%s: exit %d: %s\n", snaps[i].dir, rc, err);
		snaps[i].prof = rc == 0 ? load_json(outp) : NULL;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < NKINDS; i++) {
		json_decref(snaps[i].truth);
		json_decref(snaps[i].prof);
	}
	unlink(outp);
	unlink(mdp);
	return 0;
}

#define EQ(what, tool, truth)                                                                           \
	do {                                                                                            \
		long long a_ = (tool), b_ = (truth);                                                    \
		if (a_ != b_)                                                                           \
			fail_msg("%s: %s: tool %lld, truth %lld", s->dir, what, a_, b_);                 \
	} while (0)

/* The ledger's one allocation of an owner: [addr, requested, usable, chunk]. */
static json_t *owner_alloc(json_t *truth, const char *owner)
{
	json_t *a = json_object_get(json_object_get(json_object_get(truth, "owners"), owner), "allocations");
	return json_array_size(a) == 1 ? json_array_get(a, 0) : NULL;
}

static void test_default_mode_finds_the_ledgers_root(void **state)
{
	(void)state;
	for (size_t i = 0; i < NKINDS; i++) {
		struct snap *s = &snaps[i];
		if (!s->truth || !s->prof)
			fail_msg("%s: no truth or the tool failed with no flags (stderr above)", s->dir);
		assert_string_equal(json_string_value(json_object_get(s->prof, "target")), "beava");
		json_t *st = owner_alloc(s->truth, "state_arc");
		assert_non_null(st);
		long long mem = (long long)json_integer_value(json_array_get(st, 0));
		long long chunk = (long long)json_integer_value(json_array_get(st, 3));
		const char *how = json_string_value(json_object_get(json_object_get(s->prof, "root"), "how"));
		char want[64];
		snprintf(want, sizeof want, "chose 0x%llx", mem);
		assert_non_null(how);
		if (!strstr(how, "heap scan") || !strstr(how, want))
			fail_msg("%s: root %s, the ledger's ArcInner<AppState> is at 0x%llx", s->dir, how, mem);
		/* the ArcInner's data follows its two counters */
		EQ("root address", jint(s->prof, "root.address"), mem + 16);
		long long requested = (long long)json_integer_value(json_array_get(st, 1));
		bool unsplit = chunk > ((requested + 8 + 15) & ~15LL);
		if (strcmp(KINDS[i], "unsplit") == 0 && !unsplit)
			fail_msg("%s: the fixture did not force an unsplit chunk (%lld for %lld bytes)", s->dir, chunk,
				 requested);
		if (unsplit != (strstr(how, "-byte chunk, left unsplit") != NULL))
			fail_msg("%s: chunk %lld for %lld bytes, but the root line says: %s", s->dir, chunk, requested, how);
		EQ("unreadable pointers", jint(s->prof, "walk.unreadable"), 0);
	}
}

static void test_root_allocations_counted(void **state)
{
	(void)state;
	const char *owners[] = {"state_arc", "tables_arc", "tables_vec"};
	for (size_t i = 0; i < NKINDS; i++) {
		struct snap *s = &snaps[i];
		assert_non_null(s->prof);
		long long n = 0, req = 0, chunk = 0;
		for (size_t k = 0; k < 3; k++) {
			json_t *o = json_object_get(json_object_get(s->truth, "owners"), owners[k]);
			n += jint(o, "count");
			req += jint(o, "requested");
			chunk += jint(o, "chunk");
		}
		EQ("the ledger's root allocations", n, 3);
		EQ("root's own allocations", jint(s->prof, "root.own_allocations.count"), n);
		EQ("root's own requested bytes", jint(s->prof, "root.own_allocations.heap_requested_bytes"), req);
		EQ("root's own chunk bytes", jint(s->prof, "root.own_allocations.heap_chunk_bytes"), chunk);
	}
}

/* Two JSON reports agree on everything but the root's "how" and timings. */
static void same_report(const struct snap *s, json_t *a, json_t *b, const char *flag)
{
	const char *skip[] = {"root", "seconds", "walk_seconds", "timings", "run"};
	const char *k;
	json_t *v;
	json_object_foreach(a, k, v) {
		bool skipped = false;
		for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
			skipped = skipped || strcmp(k, skip[i]) == 0;
		if (skipped)
			continue;
		json_t *w = json_object_get(b, k);
		if (strcmp(k, "walk") == 0 && json_is_object(v) && json_is_object(w)) {
			json_t *x = json_deep_copy(v), *y = json_deep_copy(w);
			json_object_del(x, "seconds");
			json_object_del(y, "seconds");
			json_object_del(x, "walk_seconds");
			json_object_del(y, "walk_seconds");
			json_object_del(x, "profile_seconds");
			json_object_del(y, "profile_seconds");
			json_object_del(x, "whole_heap_seconds");
			json_object_del(y, "whole_heap_seconds");
			bool eq = json_equal(x, y);
			json_decref(x);
			json_decref(y);
			if (!eq)
				fail_msg("%s: %s: \"walk\" differs from auto mode's", s->dir, flag);
			continue;
		}
		if (!json_equal(v, w))
			fail_msg("%s: %s: \"%s\" differs from auto mode's", s->dir, flag, k);
	}
	json_t *ra = json_object_get(a, "root"), *rb = json_object_get(b, "root");
	if (jint(ra, "address") != jint(rb, "address") || !json_equal(json_object_get(ra, "type"), json_object_get(rb, "type")) ||
	    !json_equal(json_object_get(ra, "own_allocations"), json_object_get(rb, "own_allocations")))
		fail_msg("%s: %s: a different root than auto mode's", s->dir, flag);
}

static void test_root_address_keeps_mode(void **state)
{
	(void)state;
	for (size_t i = 0; i < NKINDS; i++) {
		struct snap *s = &snaps[i];
		assert_non_null(s->prof);
		long long addr = jint(s->prof, "root.address");
		const char *forms[] = {"0x%llx", "0x%llx:AppState"};
		for (size_t f = 0; f < 2; f++) {
			char flag[96], err[4096];
			snprintf(flag, sizeof flag, forms[f], addr);
			int rc = tool_run(err, sizeof err, "%s/core %s/beava-sim --root %s -q -o %s --json %s", s->dir,
					  s->dir, flag, mdp, outp);
			if (rc != 0)
				fail_msg("%s: --root %s: exit %d: %s", s->dir, flag, rc, err);
			json_t *j = load_json(outp);
			assert_non_null(j);
			assert_string_equal(json_string_value(json_object_get(j, "target")), "beava");
			same_report(s, j, s->prof, flag);
			json_decref(j);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_mode_finds_the_ledgers_root),
		cmocka_unit_test(test_root_allocations_counted),
		cmocka_unit_test(test_root_address_keeps_mode),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
