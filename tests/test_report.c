/* test_report.c: the recommendation rules (each fires on the case it names,
 * in order), the metrics coherence check (label syntax, comments, missing
 * metric, tolerance edges) and the detected-versions section (markdown and
 * JSON, with and without facts), on hand-made profiles and scrapes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "report.h"

static struct profile prof = {.enum_size = 80};
static struct profile_table table = {.entities = 10};

/* A hand-made profile as the renderers' document: its run alone (no path
 * names, as for a profile without a walker). */
struct docp {
	struct report_run run;
	struct report_doc doc;
};
static const struct report_doc *doc_of(struct docp *dp, struct profile *p)
{
	*dp = (struct docp){.run = {.p = p}};
	dp->doc.run = &dp->run;
	return &dp->doc;
}
#define DOC(p) doc_of(&(struct docp){0}, (p))

static void advise(struct profile_feature *f, struct report_advice *a)
{
	struct report_owner ow = report_owner_feature(f);
	report_advise(DOC(&prof), &table, &ow, a);
}

static void test_rule_lazy(void **state)
{
	(void)state;
	struct profile_field fl = {.b = {.requested = 1000, .used = 50, .chunk = 1100, .allocations = 10}};
	struct profile_feature f = {.count = 10, .payload_bytes = 80, .heap = fl.b, .fields = {&fl, 1, 1}};
	struct report_advice a;
	advise(&f, &a);
	assert_string_equal(a.rule, "R1");
	assert_string_equal(a.verdict, "allocate lazily");
}

static void test_rule_shrink(void **state)
{
	(void)state;
	struct profile_field fl = {.b = {.requested = 1000, .used = 400, .chunk = 2100, .allocations = 10}};
	struct profile_feature f = {.count = 10, .payload_bytes = 80, .heap = fl.b, .fields = {&fl, 1, 1}};
	struct report_advice a;
	advise(&f, &a);
	assert_string_equal(a.rule, "R2");
	/* just under half wasted: not R2 */
	/* slack 100 + overhead 449 = 549 of 1449 chunk bytes: under half */
	fl.b.chunk = 1000 + 449;
	fl.b.used = 1000 - 100;
	f.heap = fl.b;
	advise(&f, &a);
	assert_string_not_equal(a.rule, "R2");
}

/* R3 is the layout advisor's row: it fires for a variant only when boxing it
 * (after every larger one) shrinks the enum, and its saving is that row's. */
static void test_rule_box(void **state)
{
	(void)state;
	struct types_layout_variant lv[3] = {{.name = "Big"}, {.name = "Mid"}, {.name = "Small"}};
	struct profile bp = {.enum_size = 80, .ops = 100,
			     .layout = {.size = 80, .nvariants = 3, .variants = lv, .nboxed = 2,
					.boxed_variant = {0, 1}, .boxed_size = {80, 56}}};
	struct profile_cell c = {.variant = 1, .count = 10, .payload_bytes = 10 * 72};
	struct profile_feature f = {.count = 10, .payload_bytes = 10 * 72, .cells = {&c, 1, 1}};
	struct report_owner ow = report_owner_feature(&f);
	struct report_advice a;
	struct report_boxing bx;
	const char *unit;
	report_advise(DOC(&bp), &table, &ow, &a);
	assert_string_equal(a.rule, "R3");
	assert_string_equal(a.verdict, "box smaller");
	assert_true(report_boxing_of(DOC(&bp), 1, &bx));
	assert_int_equal(bx.adds, (80 - 56) * 100);
	assert_int_equal(report_rule_saving(DOC(&bp), &ow, "R3", UINT32_MAX, &unit), bx.adds);
	assert_string_equal(unit, "inline bytes");
	/* the largest variant alone shrinks nothing (row 1 adds nothing): no R3 */
	c.variant = 0;
	ow = report_owner_feature(&f);
	report_advise(DOC(&bp), &table, &ow, &a);
	assert_string_equal(a.rule, "R5");
	/* a variant the model does not reach: no R3 */
	c.variant = 2;
	ow = report_owner_feature(&f);
	report_advise(DOC(&bp), &table, &ow, &a);
	assert_string_equal(a.rule, "R5");
	/* shrinking, but only in 4 of 10 entities */
	c.variant = 1;
	f.count = 4;
	ow = report_owner_feature(&f);
	report_advise(DOC(&bp), &table, &ow, &a);
	assert_string_equal(a.rule, "R5");
}

/* R4 fires on fan-out and stands only when its boxes' overhead is there to save. */
static void test_rule_fanout_and_keep(void **state)
{
	(void)state;
	struct profile_field fl = {.kind = WALK_BOX, .b = {.requested = 4096, .used = 4096, .chunk = 4096 + 800,
							   .allocations = 50}};
	struct profile_feature f = {.count = 10, .payload_bytes = 80, .heap = fl.b, .fields = {&fl, 1, 1}};
	struct report_advice a;
	advise(&f, &a);
	assert_string_equal(a.rule, "R4");
	/* no allocator overhead in its boxes: R4 would save 0, so it does not fire */
	f.heap.chunk = fl.b.chunk = 4096;
	advise(&f, &a);
	assert_string_equal(a.rule, "R5");
	f.heap.chunk = fl.b.chunk = 4096 + 800;
	f.heap.allocations = fl.b.allocations = 40;
	advise(&f, &a);
	assert_string_equal(a.rule, "R5");
	assert_string_equal(a.verdict, "keep");
}

static char *scrape(const char *text)
{
	static char path[64];
	snprintf(path, sizeof path, "/tmp/aggop-scrape-%d.prom", (int)getpid());
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_metrics(void **state)
{
	(void)state;
	struct report_metrics m;
	struct err e = {0};
	prof.per_entity.p99 = 10000;
	char *p = scrape("# HELP beava_bytes_per_entity_p99 x\n# TYPE beava_bytes_per_entity_p99 gauge\n"
			 "beava_other 1\nbeava_bytes_per_entity_p99{instance=\"a\"} 7000\n");
	assert_int_equal(report_metrics_check(p, NULL, &prof, 0.15, &m, &e), 0);
	assert_true(m.metric == 7000.0);
	assert_true(m.diverged);
	assert_int_equal(m.measured, 10000);
	p = scrape("beava_bytes_per_entity_p99 11500\n");   /* exactly 15% off: coherent */
	assert_int_equal(report_metrics_check(p, NULL, &prof, 0.15, &m, &e), 0);
	assert_false(m.diverged);
	p = scrape("beava_bytes_per_entity_p99 11501\n");
	assert_int_equal(report_metrics_check(p, NULL, &prof, 0.15, &m, &e), 0);
	assert_true(m.diverged);
	p = scrape("beava_entities_resident 3\n");
	assert_int_equal(report_metrics_check(p, NULL, &prof, 0.15, &m, &e), ERR_INPUT);
	assert_non_null(strstr(e.msg, "bytes_per_entity_p99"));
	unlink(p);
	assert_int_equal(report_metrics_check("/nonexistent/metrics", NULL, &prof, 0.15, &m, &e), ERR_INPUT);
}

/* A profile with nothing walked: what every section needs to print. */
static void empty_profile(struct profile *p)
{
	memset(p, 0, sizeof *p);
	p->enum_name = "demo::Op";
	p->entity_count_static = UINT64_MAX;
	snprintf(p->target_name, sizeof p->target_name, "generic");
	snprintf(p->root_type, sizeof p->root_type, "demo::Root");
	snprintf(p->root_how, sizeof p->root_how, "static ROOT");
}

static const struct report_meta meta = {.core = "core", .exe = "exe", .core_kind = "gcore"};

/* The report rendered into a string (free it). */
static char *render(const struct profile *p, bool json)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *o = open_memstream(&buf, &n);
	struct err e = {0};
	struct report_doc *d = NULL;
	assert_non_null(o);
	assert_int_equal(report_doc_build(&d, p, &meta, &e), 0);
	assert_int_equal(json ? report_doc_json(o, d, &meta, NULL, &e) : report_doc_markdown(o, d, &meta, NULL, &e), 0);
	report_doc_free(d);
	fclose(o);
	return buf;
}

/* The lines of the "## Detected versions" section (up to the next "## "). */
static char *versions_section(const char *md)
{
	const char *s = strstr(md, "\n## Detected versions\n");
	assert_non_null(s);
	s++;
	const char *end = strstr(s + 1, "\n## ");
	assert_non_null(end);
	return strndup(s, (size_t)(end - s) + 1);
}

static void test_versions_none(void **state)
{
	(void)state;
	struct profile p;
	empty_profile(&p);
	char *md = render(&p, false);
	char *sec = versions_section(md);
	assert_string_equal(sec, "## Detected versions\n\nNo dependency versions were recorded.\n\n");
	/* its own section, after the findings and before the definitions */
	assert_true(strstr(md, "## Metrics coherence") < strstr(md, "## Detected versions"));
	assert_true(strstr(md, "## Detected versions") < strstr(md, "## Definitions"));
	/* the answer comes first, and says there is none */
	assert_true(strstr(md, "## Summary") < strstr(md, "## Snapshot"));
	assert_non_null(strstr(md, "nothing dominates"));
	/* text ends with a newline */
	assert_int_equal(md[strlen(md) - 1], '\n');
	free(sec);
	free(md);
	char *js = render(&p, true);
	json_error_t je;
	json_t *j = json_loads(js, 0, &je);
	assert_non_null(j);
	assert_true(json_is_array(json_object_get(j, "versions")));
	assert_int_equal(json_array_size(json_object_get(j, "versions")), 0);
	json_decref(j);
	free(js);
}

static void test_versions_rendered(void **state)
{
	(void)state;
	struct profile p;
	empty_profile(&p);
	struct version_facts heap, walk;
	struct err e = {0};
	version_facts_init(&heap);
	version_facts_init(&walk);
	assert_true(version_note(&heap, "glibc", "tcache", "2.35+ (key field)", "tcache_entry is %d bytes", 16));
	assert_true(version_note(&heap, "glibc", "mp_ layout", "2.35", "a | in the evidence"));
	assert_true(version_note(&walk, "hashbrown", "RawTable", "0.14", "member names bucket_mask, ctrl"));
	/* the same fact from another layer is kept once; another value beside it */
	assert_true(version_note(&walk, "glibc", "tcache", "2.35+ (key field)", "seen again"));
	assert_true(version_note(&walk, "glibc", "tcache", "2.26 (no key)", "second form"));
	assert_int_equal(profile_add_versions(&p, &heap, &e), 0);
	assert_int_equal(profile_add_versions(&p, &walk, &e), 0);
	assert_int_equal(p.versions.len, 4);

	const char *want[][4] = {
		{"glibc", "tcache", "2.35+ (key field)", "tcache_entry is 16 bytes"},
		{"glibc", "mp_ layout", "2.35", "a | in the evidence"},
		{"hashbrown", "RawTable", "0.14", "member names bucket_mask, ctrl"},
		{"glibc", "tcache", "2.26 (no key)", "second form"},
	};
	char *md = render(&p, false);
	char *sec = versions_section(md);
	assert_string_equal(sec, "## Detected versions\n\n"
				 "| Dependency | Fact | Assumed | Evidence |\n|---|---|---|---|\n"
				 "| glibc | tcache | 2.35+ (key field) | tcache_entry is 16 bytes |\n"
				 "| glibc | mp_ layout | 2.35 | a \\| in the evidence |\n"
				 "| hashbrown | RawTable | 0.14 | member names bucket_mask, ctrl |\n"
				 "| glibc | tcache | 2.26 (no key) | second form |\n\n");
	free(sec);
	free(md);

	char *js = render(&p, true);
	json_error_t je;
	json_t *j = json_loads(js, 0, &je), *a = json_object_get(j, "versions");
	assert_non_null(j);
	assert_int_equal(json_array_size(a), 4);
	const char *keys[] = {"dependency", "fact", "assumed", "evidence"};
	for (size_t i = 0; i < 4; i++) {
		json_t *o = json_array_get(a, i);
		assert_int_equal(json_object_size(o), 4);
		for (size_t k = 0; k < 4; k++)
			assert_string_equal(json_string_value(json_object_get(o, keys[k])), want[i][k]);
	}
	json_decref(j);
	free(js);
	version_facts_deinit(&heap);
	version_facts_deinit(&walk);
	version_facts_deinit(&p.versions);
}

/* Thousands separators, at every length and at the edges. */
static void test_num(void **state)
{
	(void)state;
	char b[32];
	const struct {
		uint64_t v;
		const char *s;
	} cases[] = {{0, "0"}, {7, "7"}, {999, "999"}, {1000, "1,000"}, {13917208, "13,917,208"},
		     {100000, "100,000"}, {UINT64_MAX, "18,446,744,073,709,551,615"}};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_string_equal(report_num(b, sizeof b, cases[i].v), cases[i].s);
	/* a short buffer is cut, never overrun */
	char small[5];
	assert_string_equal(report_num(small, sizeof small, 1234567), "1,23");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_num),
		cmocka_unit_test(test_rule_lazy), cmocka_unit_test(test_rule_shrink),
		cmocka_unit_test(test_rule_box), cmocka_unit_test(test_rule_fanout_and_keep),
		cmocka_unit_test(test_metrics), cmocka_unit_test(test_versions_none),
		cmocka_unit_test(test_versions_rendered),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
