/* shapes_check.h: the checks test_shapes.c (rustup's rustc) and
 * test_toolchains.c (Debian 12's rustc 1.63, Debian 13's 1.85) run on the
 * programs of fixtures/shapes/, snapshotted by tests/setup.d/60-shapes.sh
 * and 65-toolchains.sh into FIXDIR/shapes/TOOLCHAIN/PROGRAM/{exe, core,
 * truth.json, rustc.txt}.  truth.json is the program's own ledger (every
 * live allocation made while an op was built, with glibc's usable and chunk
 * sizes, summed per variant); the tool's JSON must equal it.  A check
 * collects every mismatch before failing, so one run names them all. */
#ifndef AGGOP_SHAPES_CHECK_H
#define AGGOP_SHAPES_CHECK_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <unistd.h>
#include <cmocka.h>

#include "tool_run.h"

struct shapes_run {
	char dir[1024], md[256], json[256], err[4096];
	json_t *tool, *truth;
};

/* Runs the tool on FIXDIR/shapes/TC/PROG with --root ROOT --enum Op and
 * loads both JSONs; returns the exit status (the JSONs are loaded only on 0). */
static int shapes_run(struct shapes_run *r, const char *tc, const char *prog, const char *root)
{
	char core[1100], exe[1100], truth[1100];
	memset(r, 0, sizeof *r);
	snprintf(r->dir, sizeof r->dir, "%s/shapes/%s/%s", fixdir(), tc, prog);
	snprintf(core, sizeof core, "%s/core", r->dir);
	snprintf(exe, sizeof exe, "%s/exe", r->dir);
	snprintf(truth, sizeof truth, "%s/truth.json", r->dir);
	snprintf(r->md, sizeof r->md, "/tmp/aggop-shapes-%d.md", (int)getpid());
	snprintf(r->json, sizeof r->json, "/tmp/aggop-shapes-%d.json", (int)getpid());
	if (access(core, R_OK) != 0 || access(truth, R_OK) != 0 || access(exe, R_OK) != 0)
		fail_msg("%s: no fixture (run tests/setup.sh)", r->dir);
	unlink(r->json);
	int rc = tool_run(r->err, sizeof r->err, "%s %s --root %s --enum Op -q -o %s --json %s", core, exe, root,
			  r->md, r->json);
	if (rc == 0) {
		r->tool = load_json(r->json);
		r->truth = load_json(truth);
		assert_non_null(r->tool);
		assert_non_null(r->truth);
	}
	return rc;
}

static void shapes_done(struct shapes_run *r)
{
	json_decref(r->tool);
	json_decref(r->truth);
	r->tool = r->truth = NULL;
	unlink(r->md);
	unlink(r->json);
}

static json_t *shapes_variant(json_t *doc, const char *name)
{
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(doc, "variants"), i, v) {
		const char *n = json_string_value(json_object_get(v, "variant"));
		if (n && strcmp(n, name) == 0)
			return v;
	}
	return NULL;
}

static bool shapes_listed(const char *const *names, const char *name)
{
	for (; names && *names; names++)
		if (strcmp(*names, name) == 0)
			return true;
	return false;
}

/* Appends one mismatch line to buf. */
static void shapes_note(char *buf, size_t size, const char *fmt, ...)
{
	size_t n = strlen(buf);
	if (n + 1 >= size)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + n, size - n, fmt, ap);
	va_end(ap);
}

static const char *const SHAPES_KEYS[] = {"count", "heap_requested_bytes", "heap_usable_bytes", "heap_chunk_bytes",
					  "allocations"};

/* Per variant, exactly: count, requested, usable, chunk bytes, allocations,
 * and inline bytes = count * size_of(Op).  `only` (NULL: all) names the
 * variants compared, `skip` those left to another check.  A variant the
 * program made but the tool does not list is a mismatch; the tool lists only
 * variants it met, so one with count 0 in the truth may be absent. */
static void shapes_compare_variants(struct shapes_run *r, const char *const *only, const char *const *skip,
				    char *bad, size_t badsize)
{
	size_t i;
	json_t *tv;
	long long esize = jint(r->truth, "enum_size");
	json_array_foreach(json_object_get(r->truth, "variants"), i, tv) {
		const char *name = json_string_value(json_object_get(tv, "variant"));
		if ((only && !shapes_listed(only, name)) || shapes_listed(skip, name))
			continue;
		json_t *v = shapes_variant(r->tool, name);
		if (!v) {
			if (jint(tv, "count") != 0)
				shapes_note(bad, badsize, "\n  %s: missing from the tool's variants[]", name);
			continue;
		}
		for (size_t k = 0; k < sizeof SHAPES_KEYS / sizeof SHAPES_KEYS[0]; k++)
			if (jint(v, SHAPES_KEYS[k]) != jint(tv, SHAPES_KEYS[k]))
				shapes_note(bad, badsize, "\n  variants[%s].%s: tool %lld, truth %lld", name,
					    SHAPES_KEYS[k], jint(v, SHAPES_KEYS[k]), jint(tv, SHAPES_KEYS[k]));
		if (jint(v, "inline_bytes") != jint(tv, "count") * esize)
			shapes_note(bad, badsize, "\n  variants[%s].inline_bytes: tool %lld, truth %lld", name,
				    jint(v, "inline_bytes"), jint(tv, "count") * esize);
	}
}

/* enum size, entities, ops, and nothing unreadable. */
static void shapes_compare_shape(struct shapes_run *r, char *bad, size_t badsize)
{
	if (jint(r->tool, "enum.size") != jint(r->truth, "enum_size"))
		shapes_note(bad, badsize, "\n  enum.size: tool %lld, truth %lld", jint(r->tool, "enum.size"),
			    jint(r->truth, "enum_size"));
	if (jint(r->tool, "totals.entities") != jint(r->truth, "entities"))
		shapes_note(bad, badsize, "\n  totals.entities: tool %lld, truth %lld", jint(r->tool, "totals.entities"),
			    jint(r->truth, "entities"));
	if (jint(r->tool, "totals.ops") != jint(r->truth, "ops"))
		shapes_note(bad, badsize, "\n  totals.ops: tool %lld, truth %lld", jint(r->tool, "totals.ops"),
			    jint(r->truth, "ops"));
	if (jint(r->tool, "walk.unreadable") != 0)
		shapes_note(bad, badsize, "\n  walk.unreadable: %lld, expected 0", jint(r->tool, "walk.unreadable"));
}

/* totals.{heap_*} = the truth's sums over every variant; per-entity
 * inline + requested percentiles (nearest rank). */
static void shapes_compare_totals(struct shapes_run *r, char *bad, size_t badsize)
{
	static const char *const sums[] = {"heap_requested_bytes", "heap_usable_bytes", "heap_chunk_bytes",
					   "allocations"};
	for (size_t k = 0; k < sizeof sums / sizeof sums[0]; k++) {
		long long want = 0;
		size_t i;
		json_t *tv;
		char path[64];
		json_array_foreach(json_object_get(r->truth, "variants"), i, tv)
			want += jint(tv, sums[k]);
		snprintf(path, sizeof path, "totals.%s", sums[k]);
		if (jint(r->tool, path) != want)
			shapes_note(bad, badsize, "\n  %s: tool %lld, truth %lld", path, jint(r->tool, path), want);
	}
	static const char *const pct[] = {"per_entity_bytes.p50", "per_entity_bytes.p99", "per_entity_bytes.max"};
	for (size_t k = 0; k < sizeof pct / sizeof pct[0]; k++)
		if (jint(r->tool, pct[k]) != jint(r->truth, pct[k]))
			shapes_note(bad, badsize, "\n  %s: tool %lld, truth %lld", pct[k], jint(r->tool, pct[k]),
				    jint(r->truth, pct[k]));
}

/* Frees the run, then fails naming every mismatch when there are any. */
static void shapes_verdict(struct shapes_run *r, const char *bad)
{
	char dir[sizeof r->dir];
	snprintf(dir, sizeof dir, "%s", r->dir);
	shapes_done(r);
	if (*bad) {
		/* on stderr in full: cmocka cuts a long failure message */
		fprintf(stderr, "%s: the tool's JSON differs from the program's ledger:%s\n", dir, bad);
		fail_msg("%s: mismatches above", dir);
	}
}

static void shapes_must_run(struct shapes_run *r, const char *tc, const char *prog)
{
	int rc = shapes_run(r, tc, prog, "TABLE");
	if (rc != 0)
		fail_msg("%s/shapes/%s/%s: --root TABLE: exit %d: %s", fixdir(), tc, prog, rc, r->err);
}

/* ------------------------------------------------------------ the checks */

/* std_shapes: every variant but Orphan (a Weak whose Arc is gone,
 * shapes_std_weak_only) exactly, through the OnceLock<Mutex<..>> root. */
static void shapes_std_exact(const char *tc)
{
	struct shapes_run r;
	char bad[8192] = "";
	static const char *const skip[] = {"Orphan", NULL};
	shapes_must_run(&r, tc, "std");
	shapes_compare_shape(&r, bad, sizeof bad);
	shapes_compare_variants(&r, NULL, skip, bad, sizeof bad);
	shapes_verdict(&r, bad);
}

/* std_shapes' Orphan ops hold a Weak whose last Arc was dropped while the op
 * was built: the ArcInner (counts + the dropped value's room) stays
 * allocated for as long as the Weak lives, so those bytes are the op's.
 * Some Orphans hold Weak::new() (no allocation, a pointer of all ones), and
 * every other row a second Weak to the same ArcInner (charged once).  The
 * totals and per-entity figures include them. */
static void shapes_std_weak_only(const char *tc)
{
	struct shapes_run r;
	char bad[8192] = "";
	static const char *const only[] = {"Orphan", NULL};
	shapes_must_run(&r, tc, "std");
	shapes_compare_variants(&r, only, NULL, bad, sizeof bad);
	shapes_compare_totals(&r, bad, sizeof bad);
	shapes_verdict(&r, bad);
}

/* The OnceLock root's Once is read in the encoding of the rustc that built
 * the program: TABLE (set) walks, NEVER (never set) is refused as not
 * initialised; the rustc the tool names from DW_AT_producer is the one
 * that built it (rustc.txt, `rustc --version` at build time). */
static void shapes_std_once_and_rustc(const char *tc)
{
	struct shapes_run r;
	char rustc[256] = "", path[1100];
	shapes_must_run(&r, tc, "std");
	snprintf(path, sizeof path, "%s/rustc.txt", r.dir);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(rustc, sizeof rustc, f));
	fclose(f);
	/* "rustc 1.63.0" or "rustc 1.95.0 (59807616e 2026-04-14)" */
	char want[64] = "";
	assert_int_equal(sscanf(rustc, "rustc %63[0-9.]", want), 1);
	const char *got = NULL;
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(r.tool, "versions"), i, v) {
		const char *dep = json_string_value(json_object_get(v, "dependency"));
		const char *fact = json_string_value(json_object_get(v, "fact"));
		if (dep && fact && strcmp(dep, "rustc") == 0 && strcmp(fact, "version") == 0)
			got = json_string_value(json_object_get(v, "assumed"));
	}
	char bad[2048] = "";
	if (!got || strcmp(got, want) != 0)
		shapes_note(bad, sizeof bad, "\n  versions[rustc].assumed: tool %s, built by %s", got ? got : "(none)", want);
	shapes_verdict(&r, bad);

	int rc = shapes_run(&r, tc, "std", "NEVER");
	if (rc != 2 || !strstr(r.err, "not initialised"))
		shapes_note(bad, sizeof bad, "\n  --root NEVER: exit %d (want 2, \"not initialised\"): %s", rc, r.err);
	shapes_verdict(&r, bad);
}

/* crate-shapes: every variant exactly (indexmap, bytes with clones and
 * slices sharing one buffer, arrayvec, dashmap, parking_lot, smallvec),
 * the totals and the per-entity figures, through a
 * OnceLock<parking_lot::Mutex<..>> root. */
static void shapes_crates_exact(const char *tc)
{
	struct shapes_run r;
	char bad[8192] = "";
	shapes_must_run(&r, tc, "crates");
	shapes_compare_shape(&r, bad, sizeof bad);
	shapes_compare_variants(&r, NULL, NULL, bad, sizeof bad);
	shapes_compare_totals(&r, bad, sizeof bad);
	shapes_verdict(&r, bad);
}

/* opaque: where the tool cannot be exact it must be loud.  Plain is exact.
 * Ffi ops keep a libc malloc'd buffer behind a `*mut u8`; Private ops a
 * container of the program's own (NonNull<String> + len + cap) whose buffer
 * holds Strings.  The truth's `opaque` object sums the allocations only such
 * a pointer reaches (the malloc'd and the PrivVec buffers).
 *
 * ASSUMED JSON SHAPE (adapt here when the tool's accounting lands):
 *   variants[].unattributed = {"allocations": N, "heap_usable_bytes": U,
 *                              "heap_chunk_bytes": C}
 * the in-use heap chunks an op reaches only through a pointer the walk has
 * no decoder for (raw pointers, NonNull outside a known container), each
 * counted once at the chunk it points to the start of; requested bytes are
 * not knowable there, so none are claimed.  Required:
 *   - Ffi: unattributed equals the truth's opaque sums exactly;
 *   - Private: unattributed covers at least the buffers (opaque sums), and
 *     the variant's heap_chunk_bytes + unattributed.heap_chunk_bytes never
 *     exceeds what the ops really hold (the truth's heap_chunk_bytes). */
static void shapes_opaque_loud(const char *tc)
{
	struct shapes_run r;
	char bad[8192] = "";
	static const char *const plain[] = {"Plain", NULL};
	static const char *const ukeys[] = {"allocations", "heap_usable_bytes", "heap_chunk_bytes"};
	shapes_must_run(&r, tc, "opaque");
	shapes_compare_shape(&r, bad, sizeof bad);
	shapes_compare_variants(&r, plain, NULL, bad, sizeof bad);
	static const char *const loud[] = {"Ffi", "Private"};
	for (size_t q = 0; q < 2; q++) {
		json_t *tv = shapes_variant(r.truth, loud[q]), *v = shapes_variant(r.tool, loud[q]);
		json_t *o = json_object_get(tv, "opaque");
		assert_non_null(tv);
		assert_true(jint(o, "allocations") > 0);   /* the case this checks was met */
		json_t *u = v ? json_object_get(v, "unattributed") : NULL;
		if (!u) {
			char *dump = v ? json_dumps(v, JSON_COMPACT) : NULL;
			shapes_note(bad, sizeof bad,
				    "\n  variants[%s].unattributed: absent (the ops hold %lld bytes in %lld chunks only a "
				    "raw/private pointer reaches); the tool printed %s",
				    loud[q], jint(o, "heap_chunk_bytes"), jint(o, "allocations"), dump ? dump : "no such variant");
			free(dump);
			continue;
		}
		for (size_t k = 0; k < sizeof ukeys / sizeof ukeys[0]; k++) {
			long long got = jint(u, ukeys[k]), want = jint(o, ukeys[k]);
			if (q == 0 ? got != want : got < want)
				shapes_note(bad, sizeof bad, "\n  variants[%s].unattributed.%s: tool %lld, truth %s%lld",
					    loud[q], ukeys[k], got, q == 0 ? "" : ">= ", want);
		}
		if (jint(v, "heap_chunk_bytes") + jint(u, "heap_chunk_bytes") > jint(tv, "heap_chunk_bytes"))
			shapes_note(bad, sizeof bad,
				    "\n  variants[%s]: heap_chunk_bytes %lld + unattributed %lld > %lld the ops hold",
				    loud[q], jint(v, "heap_chunk_bytes"), jint(u, "heap_chunk_bytes"),
				    jint(tv, "heap_chunk_bytes"));
	}
	shapes_verdict(&r, bad);
}

/* The checks of one toolchain as cmocka tests named test_TC_*; SHAPES_LIST(TC)
 * lists them for cmocka_run_group_tests. */
#define SHAPES_TESTS(tc)                                                                     \
	static void test_##tc##_std_exact(void **s) { (void)s; shapes_std_exact(#tc); }     \
	static void test_##tc##_std_weak_only(void **s) { (void)s; shapes_std_weak_only(#tc); } \
	static void test_##tc##_std_once_and_rustc(void **s) { (void)s; shapes_std_once_and_rustc(#tc); } \
	static void test_##tc##_crates_exact(void **s) { (void)s; shapes_crates_exact(#tc); } \
	static void test_##tc##_opaque_loud(void **s) { (void)s; shapes_opaque_loud(#tc); }
#define SHAPES_LIST(tc)                                                                      \
	cmocka_unit_test(test_##tc##_std_exact), cmocka_unit_test(test_##tc##_std_weak_only),   \
	cmocka_unit_test(test_##tc##_std_once_and_rustc), cmocka_unit_test(test_##tc##_crates_exact), \
	cmocka_unit_test(test_##tc##_opaque_loud)

#endif
