/* test_report_summary.c: the demo report answers first, and defines what it
 * prints.
 *
 * On the committed snapshot the demo uses (snapshots/sim-gcore-s11):
 *   - the JSON summary's variant is the one costing most (inline + heap
 *     chunk) among the JSON's own variants, and its saving is the capacity
 *     slack of its field path within that variant (requested - used of that
 *     path in the variant's field list, an independent sum);
 *   - the top of memory-profile.md (everything before the first table)
 *     names that variant, the feature, the field path and the saving, with
 *     thousands separators;
 *   - every column name of every table the report prints (parsed from the
 *     markdown's table headers) is defined in its Definitions block, and no
 *     table repeats a column name.
 * The last two also on a generic-mode report (holders and slots). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <unistd.h>
#include <cmocka.h>

#include "report.h"
#include "tool_run.h"

static char md[256], js[256], svg[256];

static int setup(void **state)
{
	(void)state;
	snprintf(md, sizeof md, "/tmp/aggop-summary-%d.md", (int)getpid());
	snprintf(js, sizeof js, "/tmp/aggop-summary-%d.json", (int)getpid());
	snprintf(svg, sizeof svg, "/tmp/aggop-summary-%d.svg", (int)getpid());
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(md);
	unlink(js);
	unlink(svg);
	return 0;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	size_t got = b ? fread(b, 1, (size_t)n, f) : 0;
	fclose(f);
	if (b)
		b[got] = 0;
	return b;
}

static const char *jstr(json_t *o, const char *path)
{
	char buf[256];
	snprintf(buf, sizeof buf, "%s", path);
	json_t *cur = o;
	for (char *tok = strtok(buf, "."); tok && cur; tok = strtok(NULL, "."))
		cur = json_object_get(cur, tok);
	return json_is_string(cur) ? json_string_value(cur) : NULL;
}

static void run_demo(void)
{
	char err[4096], core[1024], exe[1024];
	snprintf(core, sizeof core, "%s/snapshots/sim-gcore-s11/core", fixdir());
	snprintf(exe, sizeof exe, "%s/snapshots/sim-gcore-s11/beava-sim", fixdir());
	if (access(core, R_OK) != 0)
		fail_msg("%s: no fixture (run tests/setup.sh)", core);
	int rc = tool_run(err, sizeof err, "%s %s -q -o %s --json %s", core, exe, md, js);
	if (rc != 0)
		fail_msg("exit %d: %s", rc, err);
}

static void test_summary_first(void **state)
{
	(void)state;
	run_demo();
	json_t *j = load_json(js);
	assert_non_null(j);
	json_t *s = json_object_get(j, "summary");
	assert_true(json_is_object(s));

	/* the dominant variant, recomputed from the JSON's variants */
	json_t *vs = json_object_get(j, "variants"), *v, *best = NULL;
	size_t i;
	long long bt = -1;
	json_array_foreach(vs, i, v) {
		long long t = jint(v, "inline_bytes") + jint(v, "heap_chunk_bytes");
		if (t > bt) {
			bt = t;
			best = v;
		}
	}
	assert_non_null(best);
	const char *variant = jstr(s, "variant.name");
	assert_non_null(variant);
	assert_string_equal(variant, json_string_value(json_object_get(best, "variant")));
	assert_int_equal(jint(s, "variant.bytes"), bt);

	/* the saving: the path's capacity slack within that variant */
	const char *path = jstr(s, "field_path.path"), *feature = jstr(s, "feature.name");
	assert_non_null(path);
	assert_non_null(feature);
	assert_string_equal(jstr(s, "why.rule"), "R1");
	json_t *f;
	long long slack = -1;
	json_array_foreach(json_object_get(best, "fields"), i, f)
		if (strcmp(json_string_value(json_object_get(f, "path")), path) == 0)
			slack = jint(f, "heap_requested_bytes") - jint(f, "heap_used_bytes");
	assert_true(slack > 0);
	long long saving = jint(s, "saving.bytes");
	assert_int_equal(saving, slack);
	assert_int_equal(jint(s, "saving.per_entity"), saving / jint(s, "saving.entities"));
	/* the feature is the costliest of those with the pattern */
	assert_string_equal(json_string_value(json_array_get(json_object_get(s, "features_with_pattern"), 0)), feature);

	/* the top of the markdown, before any table, says all of it */
	char *text = slurp(md);
	assert_non_null(text);
	char *table = strstr(text, "\n|");
	assert_non_null(table);
	*table = 0;
	assert_non_null(strstr(text, "## Summary"));
	char want[256], n1[32], n2[32];
	snprintf(want, sizeof want, "variant `%s`", variant);
	assert_non_null(strstr(text, want));
	snprintf(want, sizeof want, "`%s`", feature);
	assert_non_null(strstr(text, want));
	snprintf(want, sizeof want, "`%s`", path);
	assert_non_null(strstr(text, want));
	snprintf(want, sizeof want, "%s heap requested bytes in total, %s per entity",
		 report_num(n1, sizeof n1, (uint64_t)saving), report_num(n2, sizeof n2, (uint64_t)jint(s, "saving.per_entity")));
	if (!strstr(text, want))
		fail_msg("the summary does not say \"%s\":\n%s", want, text);
	/* and links the chart, which exists */
	assert_non_null(strstr(text, ".svg"));
	assert_int_equal(access(svg, R_OK), 0);
	free(text);
	json_decref(j);
}

/* Every table header's cells; each must be defined in the Definitions
 * block, and no header may repeat a name. */
static void check_definitions(const char *path)
{
	char *text = slurp(path);
	assert_non_null(text);
	const char *defs = strstr(text, "\n## Definitions\n");
	assert_non_null(defs);
	size_t tables = 0, names = 0;
	for (char *line = text; line && *line;) {
		char *next = strchr(line, '\n');
		if (!next)
			break;
		if (line[0] == '|' && strncmp(next + 1, "|---", 4) == 0 && line < defs) {
			char row[2048], seen[64][128];
			size_t nseen = 0;
			snprintf(row, sizeof row, "%.*s", (int)(next - line), line);
			tables++;
			/* cells between unescaped '|' */
			char *c = row + 1;
			while (*c) {
				char *end = c;
				while (*end && !(*end == '|' && end[-1] != '\\'))
					end++;
				if (!*end)
					break;
				*end = 0;
				while (*c == ' ')
					c++;
				size_t l = strlen(c);
				while (l && c[l - 1] == ' ')
					c[--l] = 0;
				assert_true(l > 0);   /* no blank column names */
				for (size_t k = 0; k < nseen; k++)
					if (strcmp(seen[k], c) == 0)
						fail_msg("%s: column \"%s\" twice in one table", path, c);
				if (nseen < 64)
					snprintf(seen[nseen++], sizeof seen[0], "%.120s", c);
				char want[256];
				snprintf(want, sizeof want, "\n- **%.200s**: ", c);
				if (!strstr(defs, want))
					fail_msg("%s: column \"%s\" is not in the Definitions block", path, c);
				names++;
				c = end + 1;
			}
		}
		line = next + 1;
	}
	assert_true(tables >= 5);
	assert_true(names >= 30);
	free(text);
}

static void test_definitions_cover_columns(void **state)
{
	(void)state;
	run_demo();
	check_definitions(md);
}

static void test_definitions_generic(void **state)
{
	(void)state;
	char err[4096], core[1024], exe[1024];
	snprintf(core, sizeof core, "%s/tables/core", fixdir());
	snprintf(exe, sizeof exe, "%s/tables/tables", fixdir());
	if (access(core, R_OK) != 0)
		fail_msg("%s: no fixture (run tests/setup.sh)", core);
	int rc = tool_run(err, sizeof err, "%s %s --root TABLES --enum Op -q -o %s --json %s", core, exe, md, js);
	if (rc != 0)
		fail_msg("exit %d: %s", rc, err);
	check_definitions(md);
	/* in the user's words: holders and slots, never features or entities */
	char *text = slurp(md);
	assert_non_null(text);
	assert_null(strstr(text, "feature"));
	assert_null(strstr(text, "Feature"));
	assert_null(strstr(text, "entit"));
	assert_non_null(strstr(text, "holder"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_summary_first),
		cmocka_unit_test(test_definitions_cover_columns),
		cmocka_unit_test(test_definitions_generic),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
