/* test_diff.c: `aggop-inspect diff` and its gate.
 *
 * Against independent truth: two beava-sim snapshots of one seed at 2000
 * and 4000 events ($FIXDIR/sim-pair, tests/setup.d/60-sim-pair.sh); the
 * diff of their cores must equal the difference of the sim's own two
 * truths (truth.json: its allocation-tracking allocator and structural
 * accounting), family by family: totals, per-entity percentiles, entity
 * overhead, every variant, every table and every feature (summed here from
 * the truth's per-entity ops by slot).  The diff of the two saved profiles
 * must say exactly what the diff of the cores says.
 *
 * Refusals: profiles of different targets, other or missing format
 * versions, malformed saved profiles (exit 2, one line, no crash).
 *
 * The report document (include/report.h) outlives the profile, heap, types
 * and image it was built from, and its figures are the truth's.
 *
 * The gate: its arithmetic on hand-made documents (struct report_doc
 * filled here, every limit form, both sides of each edge), and the tool's
 * exit codes (0 held, 5 breached with one stderr line per breach, 1 for a
 * malformed expression, 2 for a figure no profile has).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <unistd.h>
#include <cmocka.h>

#include "report.h"
#include "tool_run.h"

static char tmpd[64];
static char pair[2][512];        /* the two snapshot directories */
static json_t *truth[2];
static json_t *cdiff;            /* diff --core of the pair, as JSON */
static char json_p[2][600];      /* the pair's saved profiles */

static int setup(void **state)
{
	(void)state;
	snprintf(tmpd, sizeof tmpd, "/tmp/aggop-diff-XXXXXX");
	if (!mkdtemp(tmpd))
		return -1;
	for (int s = 0; s < 2; s++) {
		char p[700];
		snprintf(pair[s], sizeof pair[s], "%s/sim-pair/e%d", fixdir(), s ? 4000 : 2000);
		snprintf(p, sizeof p, "%s/truth.json", pair[s]);
		truth[s] = load_json(p);
		snprintf(json_p[s], sizeof json_p[s], "%s/p%d.json", tmpd, s);
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[200];
	json_decref(truth[0]);
	json_decref(truth[1]);
	json_decref(cdiff);
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpd);
	return system(cmd) == 0 ? 0 : -1;
}

static void need_pair(void)
{
	if (!truth[0] || !truth[1])
		fail_msg("%s/sim-pair has no truths: run tests/setup.d/60-sim-pair.sh (make fixtures)", fixdir());
}

static long long num(const json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	if (!json_is_integer(v))
		fail_msg("member '%s' missing or not an integer", k);
	return json_integer_value(v);
}

/* A diff figure {old,new,change}: old and new must be the truths' (a side
 * without the thing: null in the diff, absent in the truth, counted 0), and
 * change their difference. */
static void check_fig(const json_t *fig, const char *what, bool has0, long long t0, bool has1, long long t1)
{
	if (!json_is_object(fig))
		fail_msg("diff has no figure for %s", what);
	json_t *o = json_object_get(fig, "old"), *n = json_object_get(fig, "new");
	if (has0 ? !json_is_integer(o) || json_integer_value(o) != t0 : !json_is_null(o))
		fail_msg("%s: old %s, truth %lld%s", what, json_dumps(o, JSON_ENCODE_ANY), t0, has0 ? "" : " (absent)");
	if (has1 ? !json_is_integer(n) || json_integer_value(n) != t1 : !json_is_null(n))
		fail_msg("%s: new %s, truth %lld%s", what, json_dumps(n, JSON_ENCODE_ANY), t1, has1 ? "" : " (absent)");
	if (num(fig, "change") != t1 - t0)
		fail_msg("%s: change %lld, truths differ by %lld", what, num(fig, "change"), t1 - t0);
}

static json_t *diff_row(const json_t *d, const char *kind, const char *name)
{
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(d, kind), i, r)
		if (strcmp(json_string_value(json_object_get(r, "name")), name) == 0)
			return r;
	return NULL;
}

static void test_diff_cores_equals_truths(void **state)
{
	(void)state;
	need_pair();
	char err[2048], out[700];
	snprintf(out, sizeof out, "%s/core-diff.json", tmpd);
	int rc = tool_run(err, sizeof err, "diff --core %s/core %s/beava-sim %s/core %s/beava-sim -o %s/core-diff.md "
			  "--json %s", pair[0], pair[0], pair[1], pair[1], tmpd, out);
	assert_int_equal(rc, 0);
	assert_non_null(cdiff = load_json(out));

	static const char *const fam[] = {"entities", "ops", "inline_bytes", "heap_requested_bytes", "heap_used_bytes",
					  "heap_usable_bytes", "heap_chunk_bytes"};
	json_t *tt[2] = {json_object_get(truth[0], "totals"), json_object_get(truth[1], "totals")};
	for (size_t i = 0; i < sizeof fam / sizeof *fam; i++)
		check_fig(json_object_get(json_object_get(cdiff, "totals"), fam[i]), fam[i], true, num(tt[0], fam[i]),
			  true, num(tt[1], fam[i]));
	/* the sums moved: the test is not comparing two equal snapshots */
	assert_true(num(tt[1], "heap_chunk_bytes") > num(tt[0], "heap_chunk_bytes"));

	static const char *const pc[] = {"p50", "p99", "max"};
	for (size_t i = 0; i < 3; i++)
		check_fig(json_object_get(json_object_get(cdiff, "per_entity_bytes"), pc[i]), pc[i], true,
			  num(json_object_get(truth[0], "per_entity_bytes"), pc[i]), true,
			  num(json_object_get(truth[1], "per_entity_bytes"), pc[i]));
	static const char *const ov[] = {"heap_requested_bytes", "heap_chunk_bytes"};
	for (size_t i = 0; i < 2; i++)
		check_fig(json_object_get(json_object_get(cdiff, "overhead"), ov[i]), ov[i], true,
			  num(json_object_get(truth[0], "overhead"), ov[i]), true,
			  num(json_object_get(truth[1], "overhead"), ov[i]));
	check_fig(json_object_get(json_object_get(cdiff, "enum"), "size"), "enum.size", true,
		  num(truth[0], "aggop_size"), true, num(truth[1], "aggop_size"));
}

/* Every variant of either truth, and only those, with its figures. */
static void test_diff_variants_equal_truths(void **state)
{
	(void)state;
	need_pair();
	assert_non_null(cdiff);
	static const char *const fam[] = {"count", "inline_bytes", "heap_requested_bytes", "heap_used_bytes",
					  "heap_usable_bytes", "heap_chunk_bytes"};
	size_t seen = 0;
	for (int s = 0; s < 2; s++) {
		size_t i;
		json_t *v;
		json_array_foreach(json_object_get(truth[s], "variants"), i, v) {
			const char *name = json_string_value(json_object_get(v, "variant"));
			json_t *other = NULL, *w;
			size_t k;
			json_array_foreach(json_object_get(truth[!s], "variants"), k, w)
				if (strcmp(json_string_value(json_object_get(w, "variant")), name) == 0)
					other = w;
			if (s == 1 && other)
				continue;   /* checked from the old side */
			json_t *row = diff_row(cdiff, "variants", name);
			if (!row)
				fail_msg("variant %s is in a truth, not in the diff", name);
			const json_t *t0 = s ? other : v, *t1 = s ? v : other;
			assert_string_equal(json_string_value(json_object_get(row, "state")),
					    !t0 ? "appeared" : !t1 ? "vanished" : "changed");
			for (size_t f = 0; f < sizeof fam / sizeof *fam; f++) {
				char what[200];
				snprintf(what, sizeof what, "variant %s %s", name, fam[f]);
				check_fig(json_object_get(json_object_get(row, "figures"), fam[f]), what, t0 != NULL,
					  t0 ? num(t0, fam[f]) : 0, t1 != NULL, t1 ? num(t1, fam[f]) : 0);
			}
			seen++;
		}
	}
	assert_int_equal(json_array_size(json_object_get(cdiff, "variants")), seen);
}

struct feat_sum {
	long long count, inline_, req, used, usable, chunk, allocs;
};

/* A table's feature at slot, summed over the truth's entities. */
static void feat_truth(const json_t *tb, long long slot, struct feat_sum *f)
{
	size_t i, k;
	json_t *ent, *op;
	memset(f, 0, sizeof *f);
	json_array_foreach(json_object_get(tb, "entities"), i, ent) {
		json_array_foreach(json_object_get(ent, "ops"), k, op) {
			if (num(op, "slot") != slot)
				continue;
			f->count++;
			f->inline_ += num(op, "inline");
			f->req += num(op, "heap_requested");
			f->used += num(op, "heap_used");
			f->usable += num(op, "heap_usable");
			f->chunk += num(op, "heap_chunk");
			f->allocs += (long long)json_array_size(json_object_get(op, "allocations"));
		}
	}
}

/* A table's entity overhead in the truth: the table's own (its map) and
 * each entity's (its row buffer, its key). */
static long long table_overhead(const json_t *tb, const char *fam)
{
	size_t i;
	json_t *ent;
	long long sum = num(json_object_get(tb, "overhead"), fam);
	json_array_foreach(json_object_get(tb, "entities"), i, ent)
		sum += num(json_object_get(ent, "overhead"), fam);
	return sum;
}

static const json_t *truth_table(const json_t *t, const char *name)
{
	size_t i;
	json_t *tb;
	json_array_foreach(json_object_get(t, "tables"), i, tb)
		if (strcmp(json_string_value(json_object_get(tb, "name")), name) == 0)
			return tb;
	return NULL;
}

static void test_diff_tables_features_equal_truths(void **state)
{
	(void)state;
	need_pair();
	assert_non_null(cdiff);
	assert_true(json_is_true(json_object_get(truth[0], "allocations_listed")));
	size_t i, nfeat = 0, ntab = 0;
	json_t *tb1;
	json_array_foreach(json_object_get(truth[1], "tables"), i, tb1) {
		const char *name = json_string_value(json_object_get(tb1, "name"));
		const json_t *tb0 = truth_table(truth[0], name), *tbs[2] = {tb0, tb1};
		assert_non_null(tb0);   /* one workload: the same tables */
		json_t *row = diff_row(cdiff, "tables", name), *fg;
		if (!row)
			fail_msg("table %s not in the diff", name);
		fg = json_object_get(row, "figures");
		ntab++;
		check_fig(json_object_get(fg, "entities"), name, true, num(tb0, "entity_count"), true,
			  num(tb1, "entity_count"));
		static const char *const pc[] = {"p50", "p99", "max"};
		for (int p = 0; p < 3; p++) {
			char m[64];
			snprintf(m, sizeof m, "per_entity.%s", pc[p]);
			check_fig(json_object_get(fg, m), m, true, num(json_object_get(tb0, "per_entity_bytes"), pc[p]), true,
				  num(json_object_get(tb1, "per_entity_bytes"), pc[p]));
		}
		check_fig(json_object_get(fg, "overhead.heap_requested_bytes"), "overhead requested", true,
			  table_overhead(tb0, "heap_requested"), true, table_overhead(tb1, "heap_requested"));
		check_fig(json_object_get(fg, "overhead.heap_chunk_bytes"), "overhead chunk", true,
			  table_overhead(tb0, "heap_chunk"), true, table_overhead(tb1, "heap_chunk"));
		size_t k;
		json_t *f;
		json_array_foreach(json_object_get(tb1, "features"), k, f) {
			char rn[300];
			struct feat_sum sum[2];
			const char *fname = json_string_value(json_object_get(f, "name"));
			snprintf(rn, sizeof rn, "%s.%s", name, fname);
			for (int s = 0; s < 2; s++)
				feat_truth(tbs[s], num(f, "slot"), &sum[s]);
			json_t *fr = diff_row(cdiff, "features", rn), *ff;
			if (!sum[0].count && !sum[1].count) {
				assert_null(fr);   /* no instance on either side: not profiled */
				continue;
			}
			if (!fr)
				fail_msg("feature %s not in the diff", rn);
			ff = json_object_get(fr, "figures");
			bool h0 = sum[0].count > 0, h1 = sum[1].count > 0;
#define CHK(m, field) check_fig(json_object_get(ff, m), rn, h0, sum[0].field, h1, sum[1].field)
			CHK("count", count);
			CHK("inline_bytes", inline_);
			CHK("heap_requested_bytes", req);
			CHK("heap_used_bytes", used);
			CHK("heap_usable_bytes", usable);
			CHK("heap_chunk_bytes", chunk);
			CHK("allocations", allocs);
#undef CHK
			nfeat++;
		}
	}
	assert_int_equal(json_array_size(json_object_get(cdiff, "tables")), ntab);
	assert_int_equal(json_array_size(json_object_get(cdiff, "features")), nfeat);
	assert_true(nfeat > 100);
}

/* Saving the two profiles and diffing the files says what the cores say. */
static void test_diff_saved_equals_cores(void **state)
{
	(void)state;
	need_pair();
	assert_non_null(cdiff);
	char err[2048], out[700];
	for (int s = 0; s < 2; s++)
		assert_int_equal(tool_run(err, sizeof err, "-q -o /dev/null --json %s %s/core %s/beava-sim", json_p[s],
					  pair[s], pair[s]), 0);
	snprintf(out, sizeof out, "%s/saved-diff.json", tmpd);
	assert_int_equal(tool_run(err, sizeof err, "diff %s %s -o /dev/null --json %s", json_p[0], json_p[1], out), 0);
	json_t *sd = load_json(out);
	assert_non_null(sd);
	static const char *const keys[] = {"summary", "totals", "per_entity_bytes", "per_entity_chunk_bytes", "overhead",
					   "heap", "enum", "enum_variants", "variants", "tables", "features", "fields",
					   "containers"};
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
		if (!json_equal(json_object_get(sd, keys[i]), json_object_get(cdiff, keys[i])))
			fail_msg("the saved profiles' diff differs from the cores' in '%s'", keys[i]);
	/* mixed: a saved profile against a core */
	assert_int_equal(tool_run(err, sizeof err, "diff %s %s/core %s/beava-sim -o /dev/null --json %s", json_p[0],
				  pair[1], pair[1], out), 0);
	json_t *md = load_json(out);
	assert_true(json_equal(json_object_get(md, "variants"), json_object_get(cdiff, "variants")));
	json_decref(md);
	json_decref(sd);
}

/* Opens the pair's first core, its executable's types and its census
 * (core and exe get their paths); fails the test when one cannot be opened. */
static void open_first(char *core, char *exe, size_t size, struct image **img, struct types **t, struct heap **h)
{
	struct err e = {0};
	snprintf(core, size, "%s/core", pair[0]);
	snprintf(exe, size, "%s/beava-sim", pair[0]);
	if (image_open(img, core, exe, &e) || types_open(t, exe, NULL, &e) || heap_open(h, *img, &e))
		fail_msg("opening %s: %s", core, e.msg);
}

/* The heap is left as the caller passed it: the census answers the same
 * per-chunk questions after a profile as before; only with the caller's leave
 * (profile_options.release_chunks) is its chunk index freed, and the
 * profile's figures are the same either way. */
static void test_profile_leaves_the_heap(void **state)
{
	(void)state;
	need_pair();
	char core[600], exe[600];
	struct err e = {0};
	struct image *img = NULL;
	struct types *t = NULL;
	struct heap *h = NULL;
	struct profile *p1 = NULL, *p2 = NULL;
	struct profile_options po = {0};
	open_first(core, exe, sizeof core, &img, &t, &h);
	size_t n = heap_chunk_count(h);
	assert_true(n > 1000);
	struct heap_chunk mid = heap_chunk_get(h, n / 2);
	if (profile_run(&p1, img, t, h, &po, &e))
		fail_msg("profiling %s: %s", core, e.msg);
	assert_int_equal(heap_chunk_count(h), n);
	struct heap_chunk again = heap_chunk_get(h, n / 2);
	assert_int_equal(again.mem, mid.mem);
	assert_int_equal(again.size, mid.size);
	assert_int_equal(again.state, mid.state);
	po.release_chunks = h;
	if (profile_run(&p2, img, t, h, &po, &e))
		fail_msg("profiling %s again: %s", core, e.msg);
	assert_int_equal(heap_chunk_count(h), 0);
	assert_int_equal(p2->heap.chunk, p1->heap.chunk);
	assert_int_equal(p2->heap_in_use_chunk_bytes, p1->heap_in_use_chunk_bytes);
	assert_int_equal(p2->whole.accounted_chunk_bytes, p1->whole.accounted_chunk_bytes);
	assert_int_equal(p2->per_entity.p99, p1->per_entity.p99);
	profile_free(p2);
	profile_free(p1);
	heap_close(h);
	types_close(t);
	image_close(img);
}

/* The report document owns what it holds: built from a profile of the
 * pair's first core, it is rendered (markdown, JSON, chart, folded stacks)
 * after the profile, the heap, the types and the image are all closed (the
 * ASan build catches any pointer left into them), and its figures are the
 * truth's. */
static void test_doc_outlives_its_sources(void **state)
{
	(void)state;
	need_pair();
	char core[600], exe[600];
	struct err e = {0};
	struct image *img = NULL;
	struct types *t = NULL;
	struct heap *h = NULL;
	struct profile *p = NULL;
	struct report_doc *d = NULL;
	struct profile_options po = {0};
	open_first(core, exe, sizeof core, &img, &t, &h);
	if (profile_run(&p, img, t, h, &po, &e))
		fail_msg("profiling %s: %s", core, e.msg);
	struct report_meta m = {.core = core, .exe = exe, .core_kind = "gcore", .build_id = "", .opts = &po};
	if (report_doc_from_profile(&d, p, &m, &e))
		fail_msg("building the document: %s", e.msg);
	profile_free(p);
	heap_close(h);
	types_close(t);
	image_close(img);

	json_t *tt = json_object_get(truth[0], "totals");
	assert_non_null(d->run);
	assert_int_equal(d->entities, num(tt, "entities"));
	assert_int_equal(d->ops, num(tt, "ops"));
	assert_int_equal(d->heap.requested, num(tt, "heap_requested_bytes"));
	assert_int_equal(d->heap.chunk, num(tt, "heap_chunk_bytes"));
	assert_int_equal(d->run->p->heap.chunk, num(tt, "heap_chunk_bytes"));
	assert_int_equal(d->enum_size, num(truth[0], "aggop_size"));
	assert_null(profile_walker(d->run->p));

	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(report_doc_markdown(f, d, &m, NULL, &e), 0);
	assert_int_equal(report_doc_svg(f, d, &e), 0);
	assert_int_equal(report_folded(f, d, REPORT_FAM_CHUNK, &e), 0);
	long md_end = ftell(f);
	assert_int_equal(report_doc_json(f, d, &m, NULL, &e), 0);
	fclose(f);
	/* the JSON the document renders carries the truth's totals too */
	json_error_t je;
	json_t *j = json_loadb(buf + md_end, len - (size_t)md_end, 0, &je);
	assert_non_null(j);
	assert_int_equal(num(json_object_get(j, "totals"), "heap_chunk_bytes"), num(tt, "heap_chunk_bytes"));
	assert_non_null(strstr(buf, "## Layout advisor"));
	json_decref(j);
	free(buf);
	report_doc_free(d);
}

/* Fields sum to their variant, containers to the totals: the diff's rows
 * are one accounting, whatever the grouping. */
static void test_diff_fields_sum(void **state)
{
	(void)state;
	need_pair();
	assert_non_null(cdiff);
	for (int s = 0; s < 2; s++) {
		const char *side = s ? "new" : "old";
		long long fields = 0, conts = 0;
		size_t i;
		json_t *r;
		json_array_foreach(json_object_get(cdiff, "fields"), i, r) {
			json_t *v = json_object_get(json_object_get(json_object_get(r, "figures"), "heap_chunk_bytes"), side);
			fields += json_is_integer(v) ? json_integer_value(v) : 0;
		}
		json_array_foreach(json_object_get(cdiff, "containers"), i, r) {
			json_t *v = json_object_get(json_object_get(json_object_get(r, "figures"), "heap_chunk_bytes"), side);
			conts += json_is_integer(v) ? json_integer_value(v) : 0;
		}
		long long total = num(json_object_get(truth[s], "totals"), "heap_chunk_bytes");
		assert_int_equal(fields, total);
		assert_int_equal(conts, total);
	}
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A saved profile with one member changed (the refusal tests). */
static void variant_of(const char *src, const char *dst, const char *key, json_t *value)
{
	json_t *j = load_json(src);
	assert_non_null(j);
	if (value)
		json_object_set_new(j, key, value);
	else
		json_object_del(j, key);
	assert_int_equal(json_dump_file(j, dst, 0), 0);
	json_decref(j);
}

static void test_diff_refusals(void **state)
{
	(void)state;
	need_pair();
	char err[2048], p[700], gen[700];
	if (access(json_p[0], R_OK) != 0)
		assert_int_equal(tool_run(err, sizeof err, "-q -o /dev/null --json %s %s/core %s/beava-sim", json_p[0],
					  pair[0], pair[0]), 0);
	/* different targets: the generic fixture's profile */
	snprintf(gen, sizeof gen, "%s/generic.json", tmpd);
	assert_int_equal(tool_run(err, sizeof err, "-q --root TABLE --enum Shape -o /dev/null --json %s "
				  "%s/generic/core %s/generic/shapes", gen, fixdir(), fixdir()), 0);
	assert_int_equal(tool_run(err, sizeof err, "diff %s %s", json_p[0], gen), 2);
	assert_non_null(strstr(err, "target 'beava'"));
	assert_non_null(strstr(err, "target 'generic'"));
	assert_null(strchr(strchr(err, '\n') + 1, '\n'));   /* one line */
	/* format versions */
	snprintf(p, sizeof p, "%s/v2.json", tmpd);
	variant_of(json_p[0], p, "format_version", json_integer(2));
	assert_int_equal(tool_run(err, sizeof err, "diff %s %s", json_p[0], p), 2);
	assert_non_null(strstr(err, "format version 2"));
	variant_of(json_p[0], p, "format_version", NULL);
	assert_int_equal(tool_run(err, sizeof err, "diff %s %s", p, json_p[0]), 2);
	assert_non_null(strstr(err, "no format_version"));
	/* malformed saved profiles: one line, exit 2, never a crash */
	static const char *const bad[] = {
		"", "[]", "{\"format_version\": 1}", "{\"format_version\": \"1\"}",
		"{\"format_version\": 1, \"target\": \"beava\", \"enum\": {\"name\": \"AggOp\", \"size\": -80}}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		write_file(p, bad[i]);
		assert_int_equal(tool_run(err, sizeof err, "diff %s %s", p, json_p[0]), 2);
		assert_non_null(strstr(err, "aggop-inspect: "));
	}
	/* a member of the wrong type deep inside, a repeated name, an unknown variant */
	json_t *j = load_json(json_p[0]);
	json_t *tb = json_array_get(json_object_get(j, "tables"), 0);
	json_object_set_new(json_array_get(json_object_get(tb, "features"), 1), "count", json_string("many"));
	assert_int_equal(json_dump_file(j, p, 0), 0);
	assert_int_equal(tool_run(err, sizeof err, "diff %s %s", p, json_p[0]), 2);
	assert_non_null(strstr(err, "tables[0].features[1].count"));
	json_decref(j);
	j = load_json(json_p[0]);
	json_t *tabs = json_object_get(j, "tables");
	json_array_append(tabs, json_array_get(tabs, 0));
	assert_int_equal(json_dump_file(j, p, 0), 0);
	assert_int_equal(tool_run(err, sizeof err, "diff %s %s", p, json_p[0]), 2);
	assert_non_null(strstr(err, "repeats a table name"));
	json_decref(j);
	j = load_json(json_p[0]);
	json_object_set_new(json_array_get(json_object_get(j, "variants"), 0), "variant", json_string("NoSuch"));
	assert_int_equal(json_dump_file(j, p, 0), 0);
	assert_int_equal(tool_run(err, sizeof err, "diff %s %s", p, json_p[0]), 2);
	assert_non_null(strstr(err, "not have"));
	json_decref(j);
}

/* ---- the gate's arithmetic, on documents made here ---- */

static struct report_doc_variant hv[2][2];
static struct report_doc hd[2];

/* Two one-table documents: variant A's chunk bytes 1000 -> c1, B present
 * only in the new one when b_new, enum size 80 -> size1. */
static void hand_docs(uint64_t c1, bool b_new, uint64_t size1)
{
	memset(hv, 0, sizeof hv);
	memset(hd, 0, sizeof hd);
	for (int s = 0; s < 2; s++) {
		hv[s][0] = (struct report_doc_variant){.name = "A", .profiled = true, .count = 10, .inline_bytes = 800,
						       .heap = {.chunk = s ? c1 : 1000, .requested = 900}};
		hv[s][1] = (struct report_doc_variant){.name = "B", .profiled = s && b_new, .count = s && b_new ? 1 : 0,
						       .heap = {.chunk = s && b_new ? 64 : 0}};
		hd[s] = (struct report_doc){.source = s ? "new" : "old", .target = "t", .enum_name = "x::E", .core = "",
					    .exe = "", .enum_size = s ? size1 : 80, .variants = hv[s], .nvariants = 2,
					    .entities = 10, .per_entity = {.p50 = 100, .p99 = s ? 105 : 100, .max = 200}};
	}
}

/* How many breaches expr gives on the hand-made pair; -1 when it is refused. */
static long gate_on(const char *expr)
{
	struct report_diff *d = NULL;
	struct report_gate *g = NULL;
	struct err e = {0};
	long n = -1;
	assert_int_equal(report_gate_create(&g, &e), 0);
	assert_int_equal(report_diff_make(&d, &hd[0], &hd[1], &e), 0);
	if (report_gate_add(g, expr, &e) == 0 && report_diff_gate(d, g, &e) == 0)
		n = (long)report_diff_breaches(d);
	report_diff_free(d);
	report_gate_free(g);
	return n;
}

static void test_gate_arithmetic(void **state)
{
	(void)state;
	hand_docs(1000 + 1024 * 1024 + 1, false, 80);
	assert_int_equal(gate_on("variant.A.heap_chunk_bytes > +1MiB"), 1);
	assert_int_equal(gate_on("variant.A.heap_chunk_bytes > +1.5MiB"), 0);
	assert_int_equal(gate_on("variant.A.heap_chunk_bytes > +1048577"), 0);   /* change exactly at the limit */
	assert_int_equal(gate_on("variant.A.heap_chunk_bytes >= +1048577"), 1);
	assert_int_equal(gate_on("variant.A.heap_chunk_bytes > 1MB"), 1);        /* the new value: 1049577 > 10^6 */
	assert_int_equal(gate_on("variant.A.heap_chunk_bytes > 2MB"), 0);
	hand_docs(1050, false, 80);
	assert_int_equal(gate_on("variant.A.heap_chunk_bytes > +5%"), 0);       /* exactly +5% */
	assert_int_equal(gate_on("variant.A.heap_chunk_bytes >= +5%"), 1);
	assert_int_equal(gate_on("variant.A.heap_chunk_bytes > +4.9%"), 1);
	assert_int_equal(gate_on("per_entity.p99 > +4%"), 1);
	assert_int_equal(gate_on("per_entity.p99 > +5%"), 0);
	hand_docs(900, false, 80);                                              /* shrank by 10% */
	assert_int_equal(gate_on("variant.A.heap_chunk_bytes < -5%"), 1);
	assert_int_equal(gate_on("variant.A.heap_chunk_bytes < -10%"), 0);
	assert_int_equal(gate_on("variant.A.heap_chunk_bytes <= -100"), 1);
	assert_int_equal(gate_on("variant.A.heap_chunk_bytes > +0"), 0);
	/* the enum's size as a value */
	hand_docs(1000, false, 88);
	assert_int_equal(gate_on("enum.size > 80"), 1);
	assert_int_equal(gate_on("enum.size > 88"), 0);
	/* a variant that appeared grows from 0: infinitely in percent */
	hand_docs(1000, true, 80);
	assert_int_equal(gate_on("variant.B.heap_chunk_bytes > +1000%"), 1);
	assert_int_equal(gate_on("variant.B.heap_chunk_bytes > +64"), 0);
	assert_int_equal(gate_on("variant.*.heap_chunk_bytes > +10%"), 1);     /* '*': A held, B breached */
	assert_int_equal(gate_on("variant.B.heap_chunk_bytes > x1000"), 1);    /* from 0: an infinite ratio */
	assert_int_equal(gate_on("*.count > +0"), 1);                             /* variant.B.count only */
	/* refused: no such figure, malformed limits */
	assert_int_equal(gate_on("variant.C.heap_chunk_bytes > +1"), -1);
	assert_int_equal(gate_on("variant.A.heap_chunk_bytes > 5%"), -1);
	assert_int_equal(gate_on("variant.A.heap_chunk_bytes > +1XB"), -1);
	assert_int_equal(gate_on("variant.A.heap_chunk_bytes = 5"), -1);
	assert_int_equal(gate_on("> 5"), -1);
	assert_int_equal(gate_on("enum.size > much"), -1);
	assert_int_equal(gate_on("enum.size > x"), -1);
	assert_int_equal(gate_on("enum.size > x1.5KiB"), -1);
	/* ratios new / old */
	hand_docs(1500, false, 80);                                             /* 1000 -> 1500 */
	assert_int_equal(gate_on("variant.A.heap_chunk_bytes > x1.5"), 0);
	assert_int_equal(gate_on("variant.A.heap_chunk_bytes >= x1.5"), 1);
	assert_int_equal(gate_on("variant.A.heap_chunk_bytes > x1.49"), 1);
	assert_int_equal(gate_on("variant.A.heap_chunk_bytes < x1.6"), 1);
}

static void test_gate_breach_line(void **state)
{
	(void)state;
	struct report_diff *d = NULL;
	struct report_gate *g = NULL;
	struct err e = {0};
	char line[512];
	hand_docs(3000, false, 80);
	assert_int_equal(report_gate_create(&g, &e), 0);
	assert_int_equal(report_gate_add(g, "variant.A.heap_chunk_bytes > +1KiB", &e), 0);
	assert_int_equal(report_diff_make(&d, &hd[0], &hd[1], &e), 0);
	assert_int_equal(report_diff_gate(d, g, &e), 0);
	assert_int_equal(report_diff_breaches(d), 1);
	report_diff_breach_line(d, 0, line, sizeof line);
	assert_string_equal(line, "variant.A.heap_chunk_bytes: old 1000, new 3000 (+2000, +200.0%) breaches the limit "
				  "> +1KiB");
	report_diff_free(d);
	report_gate_free(g);
}

/* The tool: exit 0 when every limit holds, 5 with one stderr line per
 * breach, 1 for a malformed expression, 2 for a figure neither has; the
 * thresholds file takes comments and blank lines. */
static void test_gate_exit_codes(void **state)
{
	(void)state;
	need_pair();
	char err[4096], thr[700];
	const json_t *t[2] = {json_object_get(truth[0], "per_entity_bytes"), json_object_get(truth[1], "per_entity_bytes")};
	long long p0 = num(t[0], "p99"), p1 = num(t[1], "p99");
	assert_true(p1 > p0);
	for (int s = 0; s < 2; s++)
		if (access(json_p[s], R_OK) != 0)
			assert_int_equal(tool_run(err, sizeof err, "-q -o /dev/null --json %s %s/core %s/beava-sim",
						  json_p[s], pair[s], pair[s]), 0);
	/* the truths' own change of p99 is the edge */
	assert_int_equal(tool_run(err, sizeof err, "diff -o /dev/null --fail-if 'per_entity.p99 > +%lld' %s %s",
				  p1 - p0, json_p[0], json_p[1]), 0);
	assert_int_equal(tool_run(err, sizeof err, "diff -o /dev/null --fail-if 'per_entity.p99 > +%lld' %s %s",
				  p1 - p0 - 1, json_p[0], json_p[1]), 5);
	char want[300];
	snprintf(want, sizeof want, "aggop-inspect: gate: per_entity.p99: old %lld, new %lld (+%lld, ", p0, p1, p1 - p0);
	assert_non_null(strstr(err, want));
	/* two breaches, two lines; the report is still written */
	snprintf(thr, sizeof thr, "%s/thresholds", tmpd);
	write_file(thr, "# memory gate\n\nper_entity.p99 > +1   # any growth\nenum.size > 80\ntotals.entities > 1\n");
	char md[700];
	snprintf(md, sizeof md, "%s/gated.md", tmpd);
	unlink(md);
	assert_int_equal(tool_run(err, sizeof err, "diff -o %s --thresholds %s %s %s", md, thr, json_p[0], json_p[1]), 5);
	size_t lines = 0;
	for (const char *c = err; (c = strstr(c, "aggop-inspect: gate: ")); c++)
		lines++;
	assert_int_equal(lines, 2);
	assert_non_null(strstr(err, "totals.entities"));
	assert_null(strstr(err, "enum.size"));
	assert_int_equal(access(md, R_OK), 0);
	/* malformed, unknown */
	assert_int_equal(tool_run(err, sizeof err, "diff -o /dev/null --fail-if 'per_entity.p99 >' %s %s", json_p[0],
				  json_p[1]), 1);
	assert_int_equal(tool_run(err, sizeof err, "diff -o /dev/null --fail-if 'variant.NoSuch.count > +1' %s %s",
				  json_p[0], json_p[1]), 2);
	assert_non_null(strstr(err, "no figure"));
	write_file(thr, "enum.size > 80\nbogus line\n");
	assert_int_equal(tool_run(err, sizeof err, "diff -o /dev/null --thresholds %s %s %s", thr, json_p[0],
				  json_p[1]), 1);
	assert_non_null(strstr(err, ":2:"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diff_cores_equals_truths),
		cmocka_unit_test(test_diff_variants_equal_truths),
		cmocka_unit_test(test_diff_tables_features_equal_truths),
		cmocka_unit_test(test_diff_saved_equals_cores),
		cmocka_unit_test(test_diff_fields_sum),
		cmocka_unit_test(test_doc_outlives_its_sources),
		cmocka_unit_test(test_profile_leaves_the_heap),
		cmocka_unit_test(test_diff_refusals),
		cmocka_unit_test(test_gate_arithmetic),
		cmocka_unit_test(test_gate_breach_line),
		cmocka_unit_test(test_gate_exit_codes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
