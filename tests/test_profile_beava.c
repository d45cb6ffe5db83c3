/* test_profile_beava.c: the profile of beava-sim snapshots equals the
 * server's own ground truth (truth.json, from its allocation-tracking
 * allocator and structural accounting), exactly: totals, per variant, per
 * table, per feature, entity overhead and per-entity percentiles, for
 * requested, used, usable and chunk bytes.  Every snapshot directory present
 * is checked (the fresh one and the committed ones); none present is a
 * failure, since the fixtures are required. */
#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <unistd.h>
#include <cmocka.h>

#include "tool_run.h"

#define MAX_SNAP 16

struct snap {
	char dir[512];
	json_t *truth, *prof;
};

static struct snap snaps[MAX_SNAP];
static size_t nsnaps;
static char outp[256], mdp[256];

static bool snap_ok(const char *dir)
{
	char p[1200];
	snprintf(p, sizeof p, "%s/truth.json", dir);
	if (access(p, R_OK) != 0)
		return false;
	snprintf(p, sizeof p, "%s/core", dir);
	return access(p, R_OK) == 0;
}

static int setup(void **state)
{
	(void)state;
	char d[400];
	snprintf(outp, sizeof outp, "/tmp/aggop-beava-%d.json", (int)getpid());
	snprintf(mdp, sizeof mdp, "/tmp/aggop-beava-%d.md", (int)getpid());
	snprintf(d, sizeof d, "%s/sim-fresh", fixdir());
	if (snap_ok(d))
		snprintf(snaps[nsnaps++].dir, sizeof snaps[0].dir, "%.510s", d);
	/* beava-sim's server mode (tests/setup.d/51-beava-server.sh) */
	const char *server[] = {"gcore", "kernel", "unsplit"};
	for (size_t k = 0; k < 3 && nsnaps < MAX_SNAP; k++) {
		snprintf(d, sizeof d, "%s/sim-server/%s", fixdir(), server[k]);
		if (snap_ok(d))
			snprintf(snaps[nsnaps++].dir, sizeof snaps[0].dir, "%.510s", d);
	}
	snprintf(d, sizeof d, "%s/snapshots", fixdir());
	DIR *dir = opendir(d);
	struct dirent *de;
	while (dir && (de = readdir(dir)) && nsnaps < MAX_SNAP) {
		char s[1200];
		if (de->d_name[0] == '.')
			continue;
		snprintf(s, sizeof s, "%.400s/%.100s", d, de->d_name);
		if (snap_ok(s))
			snprintf(snaps[nsnaps++].dir, sizeof snaps[0].dir, "%.510s", s);
	}
	if (dir)
		closedir(dir);
	for (size_t i = 0; i < nsnaps; i++) {
		char t[1200], err[4096];
		snprintf(t, sizeof t, "%.512s/truth.json", snaps[i].dir);
		snaps[i].truth = load_json(t);
		int rc = tool_run(err, sizeof err, "%s/core %s/beava-sim -q -o %s --json %s", snaps[i].dir, snaps[i].dir,
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
	for (size_t i = 0; i < nsnaps; i++) {
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

static void test_snapshots_present(void **state)
{
	(void)state;
	if (nsnaps < 2)
		fail_msg("expected the fresh beava-sim snapshot and committed ones under %s, found %zu", fixdir(), nsnaps);
	for (size_t i = 0; i < nsnaps; i++)
		if (!snaps[i].prof || !snaps[i].truth)
			fail_msg("%s: no profile or no truth", snaps[i].dir);
}

static void test_totals(void **state)
{
	(void)state;
	const char *keys[] = {"entities", "ops", "inline_bytes", "heap_requested_bytes", "heap_used_bytes",
			      "heap_usable_bytes", "heap_chunk_bytes"};
	for (size_t i = 0; i < nsnaps; i++) {
		struct snap *s = &snaps[i];
		assert_non_null(s->prof);
		for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
			char p[64];
			snprintf(p, sizeof p, "totals.%s", keys[k]);
			EQ(p, jint(s->prof, p), jint(s->truth, p));
		}
		EQ("enum.size", jint(s->prof, "enum.size"), jint(s->truth, "aggop_size"));
		const char *pk[] = {"per_entity_bytes.p50", "per_entity_bytes.p99", "per_entity_bytes.max"};
		for (size_t k = 0; k < 3; k++)
			EQ(pk[k], jint(s->prof, pk[k]), jint(s->truth, pk[k]));
		EQ("overhead.heap_requested_bytes", jint(s->prof, "overhead.heap_requested_bytes"),
		   jint(s->truth, "overhead.heap_requested_bytes"));
		EQ("overhead.heap_chunk_bytes", jint(s->prof, "overhead.heap_chunk_bytes"),
		   jint(s->truth, "overhead.heap_chunk_bytes"));
		if (jint(s->truth, "entity_count_static") >= 0)
			EQ("entity_count_static", jint(s->prof, "entity_count_static"), jint(s->truth, "entity_count_static"));
		/* The report's "heap in use" is the census's own figure (which
		 * test_heap checks against glibc), and covers what was attributed. */
		char hp[300], err[2048];
		snprintf(hp, sizeof hp, "/tmp/aggop-beava-heap-%d.json", (int)getpid());
		assert_int_equal(tool_run(err, sizeof err, "heap --json %s/core %s/beava-sim > %s", s->dir, s->dir, hp), 0);
		json_t *heap = load_json(hp);
		unlink(hp);
		assert_non_null(heap);
		EQ("heap.in_use_chunk_bytes", jint(s->prof, "heap.in_use_chunk_bytes"), jint(heap, "inuse_bytes"));
		assert_true(jint(s->prof, "heap.attributed_chunk_bytes") <= jint(s->prof, "heap.in_use_chunk_bytes"));
		json_decref(heap);
	}
}

static json_t *find_named(json_t *arr, const char *key, const char *name)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v) {
		json_t *n = json_object_get(v, key);
		if (json_is_string(n) && strcmp(json_string_value(n), name) == 0)
			return v;
	}
	return NULL;
}

static void test_variants(void **state)
{
	(void)state;
	const char *keys[] = {"count", "inline_bytes", "heap_requested_bytes", "heap_used_bytes", "heap_usable_bytes",
			      "heap_chunk_bytes"};
	for (size_t i = 0; i < nsnaps; i++) {
		struct snap *s = &snaps[i];
		assert_non_null(s->prof);
		size_t k;
		json_t *tv;
		long long nonzero = 0;
		json_array_foreach(json_object_get(s->truth, "variants"), k, tv) {
			const char *name = json_string_value(json_object_get(tv, "variant"));
			if (jint(tv, "count") == 0)
				continue;
			nonzero++;
			json_t *pv = find_named(json_object_get(s->prof, "variants"), "variant", name);
			if (!pv)
				fail_msg("%s: variant %s missing from the profile", s->dir, name);
			for (size_t q = 0; q < sizeof keys / sizeof keys[0]; q++) {
				char what[128];
				snprintf(what, sizeof what, "variant %s %s", name, keys[q]);
				EQ(what, jint(pv, keys[q]), jint(tv, keys[q]));
			}
		}
		EQ("variants with instances", (long long)json_array_size(json_object_get(s->prof, "variants")), nonzero);
	}
}

static void test_tables_and_features(void **state)
{
	(void)state;
	for (size_t i = 0; i < nsnaps; i++) {
		struct snap *s = &snaps[i];
		assert_non_null(s->prof);
		size_t k;
		json_t *tt;
		json_array_foreach(json_object_get(s->truth, "tables"), k, tt) {
			const char *name = json_string_value(json_object_get(tt, "name"));
			json_t *pt = find_named(json_object_get(s->prof, "tables"), "name", name);
			char what[256];
			if (!pt)
				fail_msg("%s: table %s missing from the profile", s->dir, name);
			json_t *ents = json_object_get(tt, "entities");
			snprintf(what, sizeof what, "table %s entities", name);
			EQ(what, jint(pt, "entities"), (long long)json_array_size(ents));
			const char *pk[] = {"per_entity_bytes.p50", "per_entity_bytes.p99", "per_entity_bytes.max"};
			for (size_t q = 0; q < 3; q++) {
				snprintf(what, sizeof what, "table %s %s", name, pk[q]);
				EQ(what, jint(pt, pk[q]), jint(tt, pk[q]));
			}
			/* per feature slot: heap requested, used, usable, chunk summed over entities */
			long long sums[256][4];
			memset(sums, 0, sizeof sums);
			long long ovr = jint(tt, "overhead.heap_requested"), ovc = jint(tt, "overhead.heap_chunk");
			size_t e;
			json_t *ent;
			json_array_foreach(ents, e, ent) {
				size_t o;
				json_t *op;
				ovr += jint(ent, "overhead.heap_requested");
				ovc += jint(ent, "overhead.heap_chunk");
				json_array_foreach(json_object_get(ent, "ops"), o, op) {
					long long slot = jint(op, "slot");
					if (slot < 0 || slot >= 256)
						continue;
					sums[slot][0] += jint(op, "heap_requested");
					sums[slot][1] += jint(op, "heap_used");
					sums[slot][2] += jint(op, "heap_usable");
					sums[slot][3] += jint(op, "heap_chunk");
				}
			}
			snprintf(what, sizeof what, "table %s overhead requested", name);
			EQ(what, jint(pt, "overhead.heap_requested_bytes"), ovr);
			snprintf(what, sizeof what, "table %s overhead chunk", name);
			EQ(what, jint(pt, "overhead.heap_chunk_bytes"), ovc);
			size_t f;
			json_t *pf;
			json_array_foreach(json_object_get(pt, "features"), f, pf) {
				const char *fk[] = {"heap_requested_bytes", "heap_used_bytes", "heap_usable_bytes",
						    "heap_chunk_bytes"};
				long long slot = jint(pf, "slot");
				if (slot < 0 || slot >= 256)
					continue;
				for (size_t q = 0; q < 4; q++) {
					snprintf(what, sizeof what, "table %s feature %s %s", name,
						 json_string_value(json_object_get(pf, "name")), fk[q]);
					EQ(what, jint(pf, fk[q]), sums[slot][q]);
				}
			}
			/* feature names come from the registry in the core */
			json_t *tf;
			json_array_foreach(json_object_get(tt, "features"), f, tf) {
				const char *fname = json_string_value(json_object_get(tf, "name"));
				if (fname && !find_named(json_object_get(pt, "features"), "name", fname))
					fail_msg("%s: table %s: feature %s not named in the profile", s->dir, name, fname);
			}
		}
	}
}

static void test_root_found_by_itself(void **state)
{
	(void)state;
	for (size_t i = 0; i < nsnaps; i++) {
		struct snap *s = &snaps[i];
		assert_non_null(s->prof);
		const char *how = json_string_value(json_object_get(json_object_get(s->prof, "root"), "how"));
		assert_non_null(how);
		assert_non_null(strstr(how, "heap scan"));
		EQ("unreadable pointers", jint(s->prof, "walk.unreadable"), 0);
	}
}

static void test_metrics_coherence(void **state)
{
	(void)state;
	for (size_t i = 0; i < nsnaps; i++) {
		struct snap *s = &snaps[i];
		char err[4096], mp[1200];
		snprintf(mp, sizeof mp, "%.512s/metrics.prom", s->dir);
		if (access(mp, R_OK) != 0)
			fail_msg("%s: no metrics.prom", s->dir);
		long long p99 = jint(s->truth, "per_entity_bytes.p99");
		/* the scrape carries beava's placeholder 7000 unless the sim measured it */
		FILE *f = fopen(mp, "r");
		char line[512];
		double metric = -1;
		while (f && fgets(line, sizeof line, f))
			if (strncmp(line, "beava_bytes_per_entity_p99 ", 27) == 0)
				metric = atof(line + 27);
		if (f)
			fclose(f);
		assert_true(metric >= 0);
		int want = (metric > p99 * 1.15 || metric < p99 * 0.85) ? 3 : 0;
		int rc = tool_run(err, sizeof err, "%s/core %s/beava-sim --metrics %s -o %s", s->dir, s->dir, mp, mdp);
		EQ("exit status with the scraped metrics", rc, want);
		if (want == 3)
			assert_non_null(strstr(err, "diverged by"));
		/* a scrape carrying the measured value is coherent */
		char good[256];
		snprintf(good, sizeof good, "/tmp/aggop-metrics-%d.prom", (int)getpid());
		f = fopen(good, "w");
		assert_non_null(f);
		fprintf(f, "# TYPE beava_bytes_per_entity_p99 gauge\nbeava_bytes_per_entity_p99 %lld\n", p99);
		fclose(f);
		rc = tool_run(err, sizeof err, "%s/core %s/beava-sim --metrics %s -q -o %s", s->dir, s->dir, good, mdp);
		unlink(good);
		EQ("exit status with the measured metric", rc, 0);
	}
}

/* The first allocation an op owns, from the truth: damage there is damage
 * the walk must meet. */
static uint64_t first_op_allocation(json_t *truth)
{
	size_t t, e, o;
	json_t *tb, *ent, *op;
	json_array_foreach(json_object_get(truth, "tables"), t, tb)
		json_array_foreach(json_object_get(tb, "entities"), e, ent)
			json_array_foreach(json_object_get(ent, "ops"), o, op) {
				json_t *a = json_array_get(json_object_get(op, "allocations"), 0);
				if (json_is_array(a) && json_integer_value(json_array_get(a, 1)) >= 64)
					return (uint64_t)json_integer_value(json_array_get(a, 0));
			}
	return 0;
}

/* Zeroes the page of the core that holds an allocation an op owns: the root
 * must still be found, the report written (exit 0), and the bytes that could
 * not be followed reported, not guessed. */
static void test_damaged_page_is_reported(void **state)
{
	(void)state;
	struct snap *s = &snaps[0];
	assert_true(nsnaps > 0);
	uint64_t target = first_op_allocation(s->truth);
	if (!target)
		fail_msg("%s: the truth lists no op allocation", s->dir);
	char src[1200], dst[256], err[4096], cmd[2600];
	snprintf(src, sizeof src, "%.512s/core", s->dir);
	snprintf(dst, sizeof dst, "/tmp/aggop-damaged-%d.core", (int)getpid());
	snprintf(cmd, sizeof cmd, "cp '%s' '%s'", src, dst);
	assert_int_equal(system(cmd), 0);
	int fd = open(dst, O_RDWR);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	unsigned char *m = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(m != MAP_FAILED);
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)m;
	uint64_t page = target & ~4095ull;
	bool done = false;
	for (int i = 0; i < eh->e_phnum && !done; i++) {
		const Elf64_Phdr *ph = (const Elf64_Phdr *)(m + eh->e_phoff + (size_t)i * eh->e_phentsize);
		if (ph->p_type == PT_LOAD && page >= ph->p_vaddr && page + 4096 <= ph->p_vaddr + ph->p_filesz) {
			memset(m + ph->p_offset + (page - ph->p_vaddr), 0, 4096);
			done = true;
		}
	}
	munmap(m, (size_t)st.st_size);
	close(fd);
	if (!done) {
		unlink(dst);
		fail_msg("%s: allocation 0x%llx is not in a dumped segment", s->dir, (unsigned long long)target);
	}
	int rc = tool_run(err, sizeof err, "%s '%.512s/beava-sim' -o %s --json %s", dst, s->dir, mdp, outp);
	unlink(dst);
	EQ("exit status on a core with a zeroed heap page", rc, 0);
	json_t *j = load_json(outp);
	assert_non_null(j);
	assert_true(jint(j, "walk.unreadable") > 0);
	assert_true(jint(j, "totals.ops") > 0);
	/* loud: one warning line naming the unreadable, and the JSON's
	 * unattributed object agreeing with the walk's count */
	assert_non_null(strstr(err, "attributed exactly"));
	assert_non_null(strstr(err, "unreadable"));
	EQ("unattributed.unreadable.count", jint(j, "unattributed.unreadable.count"), jint(j, "walk.unreadable"));
	json_decref(j);
}

/* --profile replaces the built-in target; without a registry path the
 * tables and features are labelled from --config (the workload file), and
 * those labels must equal what the registry in the core says. */
static void test_profile_and_config_labels(void **state)
{
	(void)state;
	struct snap *s = &snaps[0];
	char tg[256], err[4096];
	assert_true(nsnaps > 0 && s->prof);
	snprintf(tg, sizeof tg, "/tmp/aggop-target-%d.json", (int)getpid());
	FILE *f = fopen(tg, "w");
	assert_non_null(f);
	fputs("{\"name\": \"beava-noregistry\", \"enum\": \"AggOp\", \"root_type\": \"AppState\",\n"
	      " \"tables\": \"dev_agg.state_tables\", \"entity_maps\": [\"single_u64\", \"single_str\", \"multi\"]}\n", f);
	fclose(f);
	int rc = tool_run(err, sizeof err, "%.512s/core %.512s/beava-sim --profile %s --config "
			  "fixtures/beava-sim/workloads/fraud-team.json -q -o %s --json %s", s->dir, s->dir, tg, mdp, outp);
	unlink(tg);
	EQ("exit status with --profile and --config", rc, 0);
	json_t *j = load_json(outp);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "target")), "beava-noregistry");
	json_t *a = json_object_get(j, "tables"), *b = json_object_get(s->prof, "tables");
	EQ("tables", (long long)json_array_size(a), (long long)json_array_size(b));
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *ta = json_array_get(a, i), *tb = json_array_get(b, i);
		assert_string_equal(json_string_value(json_object_get(ta, "name")),
				    json_string_value(json_object_get(tb, "name")));
		EQ("entities", jint(ta, "entities"), jint(tb, "entities"));
		json_t *fa = json_object_get(ta, "features"), *fb = json_object_get(tb, "features");
		EQ("features", (long long)json_array_size(fa), (long long)json_array_size(fb));
		for (size_t k = 0; k < json_array_size(fa); k++)
			assert_string_equal(json_string_value(json_object_get(json_array_get(fa, k), "name")),
					    json_string_value(json_object_get(json_array_get(fb, k), "name")));
	}
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snapshots_present), cmocka_unit_test(test_totals),
		cmocka_unit_test(test_variants), cmocka_unit_test(test_tables_and_features),
		cmocka_unit_test(test_root_found_by_itself), cmocka_unit_test(test_metrics_coherence),
		cmocka_unit_test(test_damaged_page_is_reported), cmocka_unit_test(test_profile_and_config_labels),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
