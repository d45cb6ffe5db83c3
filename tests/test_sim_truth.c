/* test_sim_truth.c: checks that beava-sim's ground truth holds together, on the fresh
 * snapshot ($FIXDIR/sim-fresh, made by tests/setup.d/50-beava-sim.sh) and on every committed
 * snapshot ($FIXDIR/snapshots/<name>, unpacked by 55-snapshots.sh).
 *
 * The truth is what the C tool's numbers are compared against, so it is checked here against
 * things it did not write itself: its own per-allocation lists (sums, glibc's chunk rules,
 * no allocation owned twice), glibc's mallinfo2 totals, the workload config
 * (fixtures/beava-sim/workloads/fraud-team.json), the variant list the binary prints, the
 * /metrics scrape, and the ELF files of the snapshot (a core with two threads, an
 * executable with DWARF).  Nearest-rank percentiles are recomputed from the entity bytes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <gelf.h>
#include <jansson.h>
#include <libelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SNAPS 16
#define WORKLOAD "fixtures/beava-sim/workloads/fraud-team.json"

struct snap {
	char dir[PATH_MAX];
	json_t *truth;
	int committed;
};

struct state {
	struct snap s[MAX_SNAPS];
	int n;
	json_t *workload;
};

static json_t *load_json(const char *path)
{
	json_error_t e;
	json_t *j = json_load_file(path, 0, &e);
	if (!j)
		print_error("%s:%d: %s\n", path, e.line, e.text);
	return j;
}

static void add_snap(struct state *st, const char *dir, int committed)
{
	char path[PATH_MAX + 32];
	if (st->n >= MAX_SNAPS)
		return;
	struct snap *s = &st->s[st->n++];
	snprintf(s->dir, sizeof s->dir, "%s", dir);
	snprintf(path, sizeof path, "%s/truth.json", dir);
	s->truth = load_json(path);
	s->committed = committed;
}

static int group_setup(void **state)
{
	const char *fix = getenv("FIXDIR");
	char dir[PATH_MAX];
	struct state *st = calloc(1, sizeof *st);
	if (!st)
		return -1;
	*state = st;
	if (!fix) /* every test then fails in all_loaded() */
		return 0;
	snprintf(dir, sizeof dir, "%s/sim-fresh", fix);
	add_snap(st, dir, 0);
	snprintf(dir, sizeof dir, "%s/snapshots", fix);
	DIR *d = opendir(dir);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d))) {
			char sub[PATH_MAX + 300], t[PATH_MAX + 320];
			if (de->d_name[0] == '.')
				continue;
			snprintf(sub, sizeof sub, "%s/%s", dir, de->d_name);
			snprintf(t, sizeof t, "%s/truth.json", sub);
			if (access(t, R_OK) == 0)
				add_snap(st, sub, 1);
		}
		closedir(d);
	}
	st->workload = load_json(WORKLOAD);
	*state = st;
	return 0;
}

static int group_teardown(void **state)
{
	struct state *st = *state;
	for (int i = 0; i < st->n; i++)
		json_decref(st->s[i].truth);
	json_decref(st->workload);
	free(st);
	return 0;
}

/* An integer member; fails the test when missing or not an integer. */
static long long num(const json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	if (!json_is_integer(v))
		fail_msg("member '%s' missing or not an integer", k);
	return json_integer_value(v);
}

static const char *str(const json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	if (!json_is_string(v))
		fail_msg("member '%s' missing or not a string", k);
	return json_string_value(v);
}

static json_t *arr(const json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	if (!json_is_array(v))
		fail_msg("member '%s' missing or not an array", k);
	return v;
}

static void all_loaded(struct state *st)
{
	if (!getenv("FIXDIR"))
		fail_msg("FIXDIR is not set (run through make check, or set it to build/fixtures)");
	assert_true(st->n >= 3); /* the fresh one and at least two committed */
	int committed = 0;
	for (int i = 0; i < st->n; i++) {
		if (!st->s[i].truth)
			fail_msg("%s/truth.json did not load", st->s[i].dir);
		committed += st->s[i].committed;
	}
	assert_true(committed >= 2);
	assert_non_null(st->workload);
}

struct sums {
	long long count, inline_, req, used, usable, chunk;
};

static void sums_add_op(struct sums *s, const json_t *op)
{
	s->count++;
	s->inline_ += num(op, "inline");
	s->req += num(op, "heap_requested");
	s->used += num(op, "heap_used");
	s->usable += num(op, "heap_usable");
	s->chunk += num(op, "heap_chunk");
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x > y) - (x < y);
}

/* Nearest rank: rank = ceil(p * N / 100), 1-based. */
static long long pct(const long long *v, size_t n, int p)
{
	if (n == 0)
		return 0;
	size_t rank = ((size_t)p * n + 99) / 100;
	if (rank < 1)
		rank = 1;
	return v[rank - 1];
}

static void check_pcts(const json_t *pe, long long *v, size_t n)
{
	qsort(v, n, sizeof *v, cmp_ll);
	assert_int_equal(num(pe, "p50"), pct(v, n, 50));
	assert_int_equal(num(pe, "p99"), pct(v, n, 99));
	assert_int_equal(num(pe, "max"), n ? v[n - 1] : 0);
}

/* Per-entity op sums = entity bytes; table sums add up to the totals; percentiles. */
static void test_sums(void **state)
{
	struct state *st = *state;
	all_loaded(st);
	for (int i = 0; i < st->n; i++) {
		json_t *t = st->s[i].truth, *tables = arr(t, "tables");
		struct sums tot = {0};
		long long entities = 0, overhead_req = 0, overhead_chunk = 0;
		size_t all_n = 0, all_cap = 1024;
		long long *all = malloc(all_cap * sizeof *all);
		assert_non_null(all);
		size_t ti;
		json_t *tb;
		json_array_foreach(tables, ti, tb) {
			json_t *ents = arr(tb, "entities");
			size_t n = json_array_size(ents), ei;
			long long *tv = malloc((n ? n : 1) * sizeof *tv);
			assert_non_null(tv);
			assert_int_equal(num(tb, "entity_count"), n);
			json_t *e;
			json_array_foreach(ents, ei, e) {
				struct sums es = {0};
				size_t oi;
				json_t *op;
				json_array_foreach(arr(e, "ops"), oi, op) {
					assert_int_equal(num(op, "slot"), oi);
					sums_add_op(&es, op);
				}
				assert_int_equal(num(e, "bytes"), es.inline_ + es.req);
				tv[ei] = es.inline_ + es.req;
				if (all_n == all_cap) {
					all_cap *= 2;
					all = realloc(all, all_cap * sizeof *all);
					assert_non_null(all);
				}
				all[all_n++] = tv[ei];
				tot.count += es.count;
				tot.inline_ += es.inline_;
				tot.req += es.req;
				tot.used += es.used;
				tot.usable += es.usable;
				tot.chunk += es.chunk;
				json_t *ov = json_object_get(e, "overhead");
				overhead_req += num(ov, "heap_requested");
				overhead_chunk += num(ov, "heap_chunk");
			}
			check_pcts(json_object_get(tb, "per_entity_bytes"), tv, n);
			free(tv);
			entities += n;
			json_t *ov = json_object_get(tb, "overhead");
			overhead_req += num(ov, "heap_requested");
			overhead_chunk += num(ov, "heap_chunk");
		}
		json_t *T = json_object_get(t, "totals");
		assert_int_equal(num(T, "entities"), entities);
		assert_int_equal(num(T, "ops"), tot.count);
		assert_int_equal(num(T, "inline_bytes"), tot.inline_);
		assert_int_equal(num(T, "heap_requested_bytes"), tot.req);
		assert_int_equal(num(T, "heap_used_bytes"), tot.used);
		assert_int_equal(num(T, "heap_usable_bytes"), tot.usable);
		assert_int_equal(num(T, "heap_chunk_bytes"), tot.chunk);
		json_t *O = json_object_get(t, "overhead");
		assert_int_equal(num(O, "heap_requested_bytes"), overhead_req);
		assert_int_equal(num(O, "heap_chunk_bytes"), overhead_chunk);
		check_pcts(json_object_get(t, "per_entity_bytes"), all, all_n);
		free(all);
		/* The process-static entity counter the apply path stores agrees. */
		assert_int_equal(num(t, "entity_count_static"), entities);
	}
}

/* The variant table is the ops grouped by variant, and sums to the totals. */
static void test_variant_sums(void **state)
{
	struct state *st = *state;
	all_loaded(st);
	for (int i = 0; i < st->n; i++) {
		json_t *t = st->s[i].truth, *vars = arr(t, "variants");
		size_t vi, ti, ei, oi;
		json_t *v, *tb, *e, *op;
		struct sums all = {0};
		json_array_foreach(vars, vi, v) {
			const char *name = str(v, "variant");
			struct sums s = {0};
			json_array_foreach(arr(t, "tables"), ti, tb)
				json_array_foreach(arr(tb, "entities"), ei, e)
					json_array_foreach(arr(e, "ops"), oi, op)
						if (strcmp(str(op, "variant"), name) == 0)
							sums_add_op(&s, op);
			assert_true(s.count > 0);
			assert_int_equal(num(v, "count"), s.count);
			assert_int_equal(num(v, "inline_bytes"), s.inline_);
			assert_int_equal(num(v, "heap_requested_bytes"), s.req);
			assert_int_equal(num(v, "heap_used_bytes"), s.used);
			assert_int_equal(num(v, "heap_usable_bytes"), s.usable);
			assert_int_equal(num(v, "heap_chunk_bytes"), s.chunk);
			all.count += s.count;
			all.req += s.req;
			all.chunk += s.chunk;
		}
		json_t *T = json_object_get(t, "totals");
		assert_int_equal(num(T, "ops"), all.count);
		assert_int_equal(num(T, "heap_requested_bytes"), all.req);
		assert_int_equal(num(T, "heap_chunk_bytes"), all.chunk);
	}
}

/* variants.txt (printed by `beava-sim variants`) holds 55 distinct names, the truth lists
 * the same ones, and every op's variant is one of them. */
static void test_55_variants(void **state)
{
	struct state *st = *state;
	all_loaded(st);
	for (int i = 0; i < st->n; i++) {
		char path[PATH_MAX + 32], line[64], names[64][64];
		int n = 0;
		snprintf(path, sizeof path, "%s/variants.txt", st->s[i].dir);
		FILE *f = fopen(path, "r");
		assert_non_null(f);
		while (fgets(line, sizeof line, f)) {
			line[strcspn(line, "\n")] = 0;
			if (!line[0])
				continue;
			assert_true(n < 64);
			for (int j = 0; j < n; j++)
				assert_string_not_equal(names[j], line);
			snprintf(names[n++], sizeof names[0], "%s", line);
		}
		fclose(f);
		assert_int_equal(n, 55);
		json_t *vn = arr(st->s[i].truth, "variant_names");
		assert_int_equal(json_array_size(vn), 55);
		for (int j = 0; j < n; j++)
			assert_string_equal(json_string_value(json_array_get(vn, j)), names[j]);
		size_t vi;
		json_t *v;
		json_array_foreach(arr(st->s[i].truth, "variants"), vi, v) {
			int found = 0;
			for (int j = 0; j < n; j++)
				found |= strcmp(names[j], str(v, "variant")) == 0;
			assert_true(found);
		}
		assert_int_equal(num(st->s[i].truth, "aggop_size"), 80);
		assert_int_equal(num(st->s[i].truth, "value_size"), 32);
	}
}

static int has_str(const json_t *a, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return 1;
	return 0;
}

/* Windows hold more than one bucket (never more than 64); a CountDistinct reached its hash
 * set and a Percentile its sketch. */
static void test_steady_state(void **state)
{
	struct state *st = *state;
	all_loaded(st);
	for (int i = 0; i < st->n; i++) {
		long long max_buckets = 0;
		int hashset = 0, sketch = 0;
		size_t ti, ei, oi;
		json_t *tb, *e, *op;
		json_array_foreach(arr(st->s[i].truth, "tables"), ti, tb)
			json_array_foreach(arr(tb, "entities"), ei, e)
				json_array_foreach(arr(e, "ops"), oi, op) {
					const char *v = str(op, "variant");
					json_t *mode = json_object_get(op, "mode"), *bm = json_object_get(op, "bucket_modes");
					if (strcmp(v, "Windowed") == 0) {
						long long b = num(op, "buckets");
						assert_true(b >= 1 && b <= 64);
						if (b > max_buckets)
							max_buckets = b;
						const char *inner = str(op, "inner");
						if (bm && strcmp(inner, "CountDistinct") == 0 && has_str(bm, "HashSet"))
							hashset = 1;
						if (bm && strcmp(inner, "Percentile") == 0 && has_str(bm, "Sketch"))
							sketch = 1;
					}
					if (strcmp(v, "CountDistinct") == 0 && mode && strcmp(json_string_value(mode), "HashSet") == 0)
						hashset = 1;
					if (strcmp(v, "Percentile") == 0 && mode && strcmp(json_string_value(mode), "Sketch") == 0)
						sketch = 1;
				}
		if (max_buckets <= 1)
			fail_msg("%s: no windowed feature holds more than one bucket", st->s[i].dir);
		if (!hashset)
			fail_msg("%s: no CountDistinct in HashSet mode", st->s[i].dir);
		if (!sketch)
			fail_msg("%s: no Percentile in Sketch mode", st->s[i].dir);
	}
}

/* The tables are the workload's 9 derivations, in order, with their sources, keys and
 * features (names, ops, slot order), and every one has entities. */
static void test_tables_match_workload(void **state)
{
	struct state *st = *state;
	all_loaded(st);
	json_t *nodes = json_object_get(json_object_get(st->workload, "register"), "nodes");
	assert_true(json_is_array(nodes));
	for (int i = 0; i < st->n; i++) {
		json_t *tables = arr(st->s[i].truth, "tables");
		size_t ni, ti = 0;
		json_t *node;
		int features = 0;
		json_array_foreach(nodes, ni, node) {
			if (strcmp(str(node, "kind"), "derivation") != 0)
				continue;
			json_t *tb = json_array_get(tables, ti);
			assert_non_null(tb);
			assert_int_equal(num(tb, "agg_id"), ti);
			assert_string_equal(str(tb, "name"), str(node, "name"));
			assert_string_equal(str(tb, "source"), json_string_value(json_array_get(arr(node, "upstreams"), 0)));
			json_t *gb = json_array_get(arr(node, "ops"), 0);
			assert_string_equal(str(tb, "key"), json_string_value(json_array_get(arr(gb, "keys"), 0)));
			json_t *agg = json_object_get(gb, "agg"), *feats = arr(tb, "features");
			assert_int_equal(json_array_size(feats), json_object_size(agg));
			/* jansson keeps object keys in file order (2.x preserves insertion order). */
			const char *fname;
			json_t *spec;
			size_t slot = 0;
			json_object_foreach(agg, fname, spec) {
				json_t *f = json_array_get(feats, slot);
				assert_int_equal(num(f, "slot"), slot);
				assert_string_equal(str(f, "name"), fname);
				assert_string_equal(str(f, "op"), str(spec, "op"));
				slot++;
			}
			features += (int)slot;
			if (json_array_size(arr(tb, "entities")) == 0)
				fail_msg("%s: table %s has no entities", st->s[i].dir, str(tb, "name"));
			size_t ei;
			json_t *e;
			json_array_foreach(arr(tb, "entities"), ei, e)
				assert_int_equal(json_array_size(arr(e, "ops")), slot);
			ti++;
		}
		assert_int_equal(ti, 9);
		assert_int_equal(json_array_size(tables), 9);
		assert_int_equal(features, 111);
	}
}

struct alloc {
	long long addr, chunk;
};

static int cmp_alloc(const void *a, const void *b)
{
	const struct alloc *x = a, *y = b;
	return (x->addr > y->addr) - (x->addr < y->addr);
}

struct walk {
	struct alloc *v;
	size_t n, cap;
	long long heap_chunk, mmapped_chunk;
};

/* Checks one allocation list against glibc's rules (usable = chunk - 8, or chunk - 16 for an
 * mmapped chunk, which is page-sized) and the owner's sums; collects the addresses. */
static void check_list(struct walk *w, const json_t *owner, const char *req_key, const char *usable_key,
		       const char *chunk_key)
{
	json_t *list = arr(owner, "allocations"), *a;
	long long req = 0, usable = 0, chunk = 0;
	size_t i;
	json_array_foreach(list, i, a) {
		assert_int_equal(json_array_size(a), 4);
		long long addr = json_integer_value(json_array_get(a, 0));
		long long r = json_integer_value(json_array_get(a, 1));
		long long u = json_integer_value(json_array_get(a, 2));
		long long c = json_integer_value(json_array_get(a, 3));
		assert_true(addr > 0 && addr % 16 == 0);
		assert_true(u >= r);
		if (c == u + 8) {
			w->heap_chunk += c;
		} else {
			assert_int_equal(c, u + 16);
			assert_int_equal(c % 4096, 0);
			w->mmapped_chunk += c;
		}
		req += r;
		usable += u;
		chunk += c;
		if (w->n == w->cap) {
			w->cap = w->cap ? 2 * w->cap : 4096;
			w->v = realloc(w->v, w->cap * sizeof *w->v);
			assert_non_null(w->v);
		}
		w->v[w->n++] = (struct alloc){addr, c};
	}
	assert_int_equal(num(owner, req_key), req);
	if (usable_key)
		assert_int_equal(num(owner, usable_key), usable);
	assert_int_equal(num(owner, chunk_key), chunk);
}

/* Every allocation: glibc's chunk rules, the sums of its owner, owned once (no two
 * allocations overlap); all of them fit in what mallinfo2 says is in use. */
static void test_allocations(void **state)
{
	struct state *st = *state;
	all_loaded(st);
	int listed = 0;
	for (int i = 0; i < st->n; i++) {
		json_t *t = st->s[i].truth;
		assert_true(json_is_true(json_object_get(t, "tracked")));
		if (!json_is_true(json_object_get(t, "allocations_listed")))
			continue;
		listed++;
		struct walk w = {0};
		size_t ti, ei, oi;
		json_t *tb, *e, *op;
		json_array_foreach(arr(t, "tables"), ti, tb) {
			json_array_foreach(arr(tb, "entities"), ei, e) {
				json_array_foreach(arr(e, "ops"), oi, op)
					check_list(&w, op, "heap_requested", "heap_usable", "heap_chunk");
				check_list(&w, json_object_get(e, "overhead"), "heap_requested", NULL, "heap_chunk");
			}
			check_list(&w, json_object_get(tb, "overhead"), "heap_requested", NULL, "heap_chunk");
		}
		assert_true(w.n > 1000);
		qsort(w.v, w.n, sizeof *w.v, cmp_alloc);
		for (size_t k = 1; k < w.n; k++) {
			/* chunk k-1 spans [addr-16, addr-16+chunk); the next starts at its addr-16 */
			if (w.v[k - 1].addr - 16 + w.v[k - 1].chunk > w.v[k].addr - 16)
				fail_msg("%s: allocations at %lld and %lld overlap", st->s[i].dir, w.v[k - 1].addr,
					 w.v[k].addr);
		}
		free(w.v);
		json_t *c = json_object_get(t, "checks");
		assert_int_equal(num(c, "tagged_unmatched"), 0);
		assert_int_equal(num(c, "tagged_matched"), (long long)w.n);
		assert_int_equal(num(c, "structural_mismatches"), 0);
		/* Overhead (row buffers, heap keys, hashbrown tables) recomputed from the structures;
		 * snapshots older than this check do not carry it. */
		if (json_object_get(c, "overhead_structural_mismatches") || !st->s[i].committed)
			assert_int_equal(num(c, "overhead_structural_mismatches"), 0);
		json_t *mi = json_object_get(t, "mallinfo2");
		assert_true(json_is_object(mi));
		/* Two threads allocate: the main arena and beava-apply's arena. */
		assert_true(num(t, "arenas") >= 2);
		assert_true(w.heap_chunk <= num(mi, "uordblks"));
		assert_true(w.mmapped_chunk <= num(mi, "hblkhd"));
	}
	assert_true(listed >= 2);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *buf = calloc(1, 1 << 16);
	if (buf)
		(void)!fread(buf, 1, (1 << 16) - 1, f);
	fclose(f);
	return buf;
}

static long long metric(const char *prom, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = prom; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, name, n) == 0 && p[n] == ' ')
			return atoll(p + n + 1);
	}
	fail_msg("metric %s not found", name);
	return -1;
}

/* CompactString's rule (compact_str 0.8 repr): a key of more than 24 bytes lives in a heap
 * buffer of max(len, 32) bytes, a shorter one inline; so an entity's overhead is its row
 * buffer (features x 80 B) plus that buffer when the key is long.  Long keys must occur. */
static void test_key_heap(void **state)
{
	struct state *st = *state;
	all_loaded(st);
	for (int i = 0; i < st->n; i++) {
		json_t *t = st->s[i].truth;
		if (!json_is_true(json_object_get(t, "allocations_listed")))
			continue;
		long long long_keys = 0;
		size_t ti, ei;
		json_t *tb, *e;
		json_array_foreach(arr(t, "tables"), ti, tb) {
			long long row = 80 * (long long)json_array_size(arr(tb, "features"));
			json_array_foreach(arr(tb, "entities"), ei, e) {
				long long len = (long long)strlen(str(e, "key"));
				json_t *ov = json_object_get(e, "overhead"), *al = arr(ov, "allocations");
				long long want = row + (len > 24 ? (len > 32 ? len : 32) : 0);
				assert_int_equal(json_array_size(al), len > 24 ? 2 : 1);
				assert_int_equal(num(ov, "heap_requested"), want);
				long_keys += len > 24;
			}
		}
		assert_true(long_keys > 0);
	}
}

/* /metrics agrees with the truth; beava_bytes_per_entity_p99 is beava's placeholder 7000
 * unless the snapshot was made with --measured-metrics, then the truth's p99. */
static void test_metrics(void **state)
{
	struct state *st = *state;
	all_loaded(st);
	for (int i = 0; i < st->n; i++) {
		char path[PATH_MAX + 32];
		snprintf(path, sizeof path, "%s/metrics.prom", st->s[i].dir);
		char *prom = slurp(path);
		snprintf(path, sizeof path, "%s/made-by.txt", st->s[i].dir);
		char *made = slurp(path);
		assert_non_null(prom);
		assert_non_null(made);
		json_t *t = st->s[i].truth;
		const char *first = prom;
		while (*first == '#')
			first = strchr(first, '\n') + 1;
		assert_int_equal(strncmp(first, "beava_bytes_per_entity_p99 ", 27), 0);
		long long p99 = metric(prom, "beava_bytes_per_entity_p99");
		if (strstr(made, "--measured-metrics"))
			assert_int_equal(p99, num(json_object_get(t, "per_entity_bytes"), "p99"));
		else
			assert_int_equal(p99, 7000);
		assert_int_equal(metric(prom, "beava_entities_resident"), num(json_object_get(t, "totals"), "entities"));
		assert_int_equal(metric(prom, "beava_events_applied_total"), num(t, "events"));
		free(prom);
		free(made);
	}
}

static int count_prstatus(Elf *e)
{
	size_t nph = 0;
	int n = 0;
	if (elf_getphdrnum(e, &nph) != 0)
		return -1;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_NOTE)
			continue;
		Elf_Data *d = elf_getdata_rawchunk(e, ph.p_offset, ph.p_filesz, ELF_T_NHDR);
		size_t off = 0, noff, doff;
		GElf_Nhdr nh;
		while (d && (off = gelf_getnote(d, off, &nh, &noff, &doff)) > 0)
			n += nh.n_type == NT_PRSTATUS;
	}
	return n;
}

static int has_section(Elf *e, const char *want)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	if (elf_getshdrstrndx(e, &shstrndx) != 0)
		return 0;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		const char *name;
		if (gelf_getshdr(scn, &sh) && (name = elf_strptr(e, shstrndx, sh.sh_name)) && strcmp(name, want) == 0)
			return 1;
	}
	return 0;
}

/* The snapshot files open: the core is an ELF core with the two threads (main and
 * beava-apply), the executable has DWARF and a symbol table; the committed ones include
 * a gcore and a kernel core with different seeds. */
static void test_snapshot_files(void **state)
{
	struct state *st = *state;
	all_loaded(st);
	assert_int_not_equal(elf_version(EV_CURRENT), EV_NONE);
	int kinds = 0;
	long long seeds[MAX_SNAPS];
	int nseeds = 0;
	for (int i = 0; i < st->n; i++) {
		char path[PATH_MAX + 32];
		snprintf(path, sizeof path, "%s/core", st->s[i].dir);
		int fd = open(path, O_RDONLY);
		assert_true(fd >= 0);
		Elf *e = elf_begin(fd, ELF_C_READ, NULL);
		assert_non_null(e);
		GElf_Ehdr eh;
		assert_non_null(gelf_getehdr(e, &eh));
		assert_int_equal(eh.e_type, ET_CORE);
		assert_int_equal(eh.e_machine, EM_X86_64);
		assert_int_equal(count_prstatus(e), 2);
		elf_end(e);
		close(fd);

		snprintf(path, sizeof path, "%s/beava-sim", st->s[i].dir);
		fd = open(path, O_RDONLY);
		assert_true(fd >= 0);
		e = elf_begin(fd, ELF_C_READ, NULL);
		assert_non_null(e);
		assert_non_null(gelf_getehdr(e, &eh));
		assert_int_equal(eh.e_type, ET_DYN);
		assert_true(has_section(e, ".debug_info"));
		assert_true(has_section(e, ".symtab"));
		elf_end(e);
		close(fd);

		snprintf(path, sizeof path, "%s/made-by.txt", st->s[i].dir);
		char *made = slurp(path);
		assert_non_null(made);
		if (st->s[i].committed) {
			kinds |= strstr(made, "core: gcore") ? 1 : 0;
			kinds |= strstr(made, "core: kernel") ? 2 : 0;
			long long seed = num(st->s[i].truth, "seed");
			for (int j = 0; j < nseeds; j++)
				assert_true(seeds[j] != seed);
			seeds[nseeds++] = seed;
		}
		free(made);
	}
	assert_int_equal(kinds, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sums),
		cmocka_unit_test(test_variant_sums),
		cmocka_unit_test(test_55_variants),
		cmocka_unit_test(test_steady_state),
		cmocka_unit_test(test_tables_match_workload),
		cmocka_unit_test(test_allocations),
		cmocka_unit_test(test_key_heap),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_snapshot_files),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
