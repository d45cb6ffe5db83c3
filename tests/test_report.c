/* test_report.c: the recommendation rules (each fires on the case it names,
 * in order) and the metrics coherence check (label syntax, comments, missing
 * metric, tolerance edges), on hand-made profiles and scrapes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "report.h"

static struct profile prof = {.enum_size = 80};
static struct profile_table table = {.entities = 10};

static void advise(struct profile_feature *f, struct report_advice *a)
{
	report_advise(&prof, &table, f, a);
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

static void test_rule_box(void **state)
{
	(void)state;
	struct profile_feature f = {.count = 10, .payload_bytes = 10 * 48};   /* 48 of 80 = 60% */
	struct report_advice a;
	advise(&f, &a);
	assert_string_equal(a.rule, "R3");
	assert_string_equal(a.verdict, "box smaller");
	f.payload_bytes = 10 * 47;
	advise(&f, &a);
	assert_string_equal(a.rule, "R5");
	f.payload_bytes = 4 * 64;   /* large, but only in 4 of 10 entities */
	f.count = 4;
	advise(&f, &a);
	assert_string_equal(a.rule, "R5");
}

static void test_rule_fanout_and_keep(void **state)
{
	(void)state;
	struct profile_field fl = {.b = {.requested = 4096, .used = 4096, .chunk = 4096, .allocations = 50}};
	struct profile_feature f = {.count = 10, .payload_bytes = 80, .heap = fl.b, .fields = {&fl, 1, 1}};
	struct report_advice a;
	advise(&f, &a);
	assert_string_equal(a.rule, "R4");
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
	assert_int_equal(report_metrics_check(p, &prof, 0.15, &m, &e), 0);
	assert_true(m.metric == 7000.0);
	assert_true(m.diverged);
	assert_int_equal(m.measured, 10000);
	p = scrape("beava_bytes_per_entity_p99 11500\n");   /* exactly 15% off: coherent */
	assert_int_equal(report_metrics_check(p, &prof, 0.15, &m, &e), 0);
	assert_false(m.diverged);
	p = scrape("beava_bytes_per_entity_p99 11501\n");
	assert_int_equal(report_metrics_check(p, &prof, 0.15, &m, &e), 0);
	assert_true(m.diverged);
	p = scrape("beava_entities_resident 3\n");
	assert_int_equal(report_metrics_check(p, &prof, 0.15, &m, &e), ERR_INPUT);
	assert_non_null(strstr(e.msg, "bytes_per_entity_p99"));
	unlink(p);
	assert_int_equal(report_metrics_check("/nonexistent/metrics", &prof, 0.15, &m, &e), ERR_INPUT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_lazy), cmocka_unit_test(test_rule_shrink),
		cmocka_unit_test(test_rule_box), cmocka_unit_test(test_rule_fanout_and_keep),
		cmocka_unit_test(test_metrics),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
