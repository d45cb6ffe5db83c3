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

/* What the tool names as reached but not charged for variant V's ops: the
 * rows of unattributed.no_decoder.by_type[] whose field path starts at V
 * ("V > ptr"), summed: [0] allocations, [1] chunk bytes. */
static void shapes_unattributed(json_t *tool, const char *variant, long long out[2])
{
	size_t i, n = strlen(variant);
	json_t *row;
	out[0] = out[1] = 0;
	json_array_foreach(json_object_get(json_object_get(json_object_get(tool, "unattributed"), "no_decoder"),
					   "by_type"), i, row) {
		const char *path = json_string_value(json_object_get(row, "path"));
		if (path && strncmp(path, variant, n) == 0 && (path[n] == 0 || strncmp(path + n, " >", 2) == 0)) {
			out[0] += jint(row, "allocations");
			out[1] += jint(row, "bytes");
		}
	}
}

/* Loud where not exact: per variant, whatever heap the ops hold (the
 * ledger's allocations and chunk bytes) is either charged to the variant or
 * named in unattributed.no_decoder for it; a shortfall is heap the report
 * is silent about.  Variants in `skip` are judged by another check. */
static void shapes_not_silent(const char *tc, const char *prog, const char *const *skip)
{
	struct shapes_run r;
	char bad[8192] = "";
	size_t i;
	json_t *tv;
	shapes_must_run(&r, tc, prog);
	json_array_foreach(json_object_get(r.truth, "variants"), i, tv) {
		const char *name = json_string_value(json_object_get(tv, "variant"));
		json_t *v = shapes_variant(r.tool, name);
		long long u[2];
		if (shapes_listed(skip, name))
			continue;
		shapes_unattributed(r.tool, name, u);
		long long allocs = (v ? jint(v, "allocations") : 0) + u[0];
		long long chunk = (v ? jint(v, "heap_chunk_bytes") : 0) + u[1];
		if (allocs < jint(tv, "allocations") || chunk < jint(tv, "heap_chunk_bytes"))
			shapes_note(bad, sizeof bad,
				    "\n  variants[%s]: charged + unattributed = %lld allocations, %lld chunk bytes; the ops "
				    "hold %lld, %lld (%lld chunk bytes unnamed)",
				    name, allocs, chunk, jint(tv, "allocations"), jint(tv, "heap_chunk_bytes"),
				    jint(tv, "heap_chunk_bytes") - chunk);
	}
	shapes_verdict(&r, bad);
}

/* opaque: where the tool cannot be exact it must be loud.  Plain is exact.
 * Ffi ops keep a libc malloc'd buffer behind a `*mut u8`; Private ops a
 * container of the program's own (NonNull<String> + len + cap) whose buffer
 * holds Strings.  The truth's `opaque` object sums the allocations only such
 * a pointer reaches (the malloc'd and the PrivVec buffers).  The tool names
 * them in unattributed.no_decoder (allocations, chunk bytes, by_type[] rows
 * by type and field path), warns on stderr, and charges none of them:
 *   - Ffi: its rows equal the truth's opaque sums exactly;
 *   - Private: its rows cover at least the buffers, and the variant's chunk
 *     bytes + its rows never exceed what the ops really hold (the Strings
 *     inside a buffer of unknown length are not required: no decoder can
 *     know how many there are);
 *   - no_decoder's totals are the sums of its rows, and the stderr warning
 *     names that total. */
static void shapes_opaque_loud(const char *tc)
{
	struct shapes_run r;
	char bad[8192] = "";
	static const char *const plain[] = {"Plain", NULL};
	static const char *const loud[] = {"Ffi", "Private"};
	shapes_must_run(&r, tc, "opaque");
	shapes_compare_shape(&r, bad, sizeof bad);
	shapes_compare_variants(&r, plain, NULL, bad, sizeof bad);
	long long rows_allocs = 0, rows_bytes = 0;
	for (size_t q = 0; q < 2; q++) {
		json_t *tv = shapes_variant(r.truth, loud[q]), *v = shapes_variant(r.tool, loud[q]);
		json_t *o = json_object_get(tv, "opaque");
		long long u[2];
		assert_non_null(tv);
		assert_true(jint(o, "allocations") > 0);   /* the case this checks was met */
		shapes_unattributed(r.tool, loud[q], u);
		rows_allocs += u[0];
		rows_bytes += u[1];
		bool exact = q == 0;
		if (exact ? u[0] != jint(o, "allocations") : u[0] < jint(o, "allocations"))
			shapes_note(bad, sizeof bad, "\n  unattributed.no_decoder.by_type[%s > ...].allocations: tool %lld, truth %s%lld",
				    loud[q], u[0], exact ? "" : ">= ", jint(o, "allocations"));
		if (exact ? u[1] != jint(o, "heap_chunk_bytes") : u[1] < jint(o, "heap_chunk_bytes"))
			shapes_note(bad, sizeof bad, "\n  unattributed.no_decoder.by_type[%s > ...].bytes: tool %lld, truth %s%lld",
				    loud[q], u[1], exact ? "" : ">= ", jint(o, "heap_chunk_bytes"));
		long long charged = v ? jint(v, "heap_chunk_bytes") : 0;
		if (charged + u[1] > jint(tv, "heap_chunk_bytes"))
			shapes_note(bad, sizeof bad,
				    "\n  variants[%s]: heap_chunk_bytes %lld + unattributed %lld > %lld the ops hold",
				    loud[q], charged, u[1], jint(tv, "heap_chunk_bytes"));
	}
	long long na = jint(r.tool, "unattributed.no_decoder.allocations"), nb = jint(r.tool, "unattributed.no_decoder.bytes");
	if (na != rows_allocs || nb != rows_bytes)
		shapes_note(bad, sizeof bad, "\n  unattributed.no_decoder: %lld allocations, %lld bytes; its rows sum to %lld, %lld",
			    na, nb, rows_allocs, rows_bytes);
	char total[32];
	snprintf(total, sizeof total, "%lld", nb);
	if (!strstr(r.err, total))
		shapes_note(bad, sizeof bad, "\n  stderr does not name the %s unattributed bytes: \"%s\"", total, r.err);
	shapes_verdict(&r, bad);
}

static void shapes_std_not_silent(const char *tc)
{
	shapes_not_silent(tc, "std", NULL);
}

static void shapes_crates_not_silent(const char *tc)
{
	shapes_not_silent(tc, "crates", NULL);
}

/* The checks of one toolchain as cmocka tests named test_TC_*; SHAPES_LIST(TC)
 * lists them for cmocka_run_group_tests. */
#define SHAPES_TESTS(tc)                                                                     \
	static void test_##tc##_std_exact(void **s) { (void)s; shapes_std_exact(#tc); }     \
	static void test_##tc##_std_weak_only(void **s) { (void)s; shapes_std_weak_only(#tc); } \
	static void test_##tc##_std_once_and_rustc(void **s) { (void)s; shapes_std_once_and_rustc(#tc); } \
	static void test_##tc##_crates_exact(void **s) { (void)s; shapes_crates_exact(#tc); } \
	static void test_##tc##_opaque_loud(void **s) { (void)s; shapes_opaque_loud(#tc); } \
	static void test_##tc##_std_not_silent(void **s) { (void)s; shapes_std_not_silent(#tc); } \
	static void test_##tc##_crates_not_silent(void **s) { (void)s; shapes_crates_not_silent(#tc); }
#define SHAPES_LIST(tc)                                                                      \
	cmocka_unit_test(test_##tc##_std_exact), cmocka_unit_test(test_##tc##_std_weak_only),   \
	cmocka_unit_test(test_##tc##_std_once_and_rustc), cmocka_unit_test(test_##tc##_crates_exact), \
	cmocka_unit_test(test_##tc##_opaque_loud), cmocka_unit_test(test_##tc##_std_not_silent), \
	cmocka_unit_test(test_##tc##_crates_not_silent)

#endif
