/* test_heap.c: the heap layer against what programs said about themselves.
 *
 * heapprobe ($FIXDIR/heap, built and snapshotted by tests/setup.d/30-heap.sh)
 * printed every live pointer with malloc_usable_size and its raw header, the
 * tcache/fastbin chunks its workers parked, the arena count from malloc_info
 * and mallinfo2 (mallinfo before glibc 2.33) last.  The census of its gcore
 * and kernel core must match all of it exactly, on the host's glibc and on
 * the glibc releases of the Debian chroots of tests/setup.d/35-glibc-matrix.sh
 * ($FIXDIR/heap-matrix/SUITE), and the glibc facts it detected must agree
 * with the glibc version the probe printed.  A copy of the small kernel core with chunk headers
 * overwritten must yield a census that names those chunks and carries on.
 * beava-sim snapshots ($FIXDIR/sim-fresh, $FIXDIR/snapshots/<name>) are
 * checked against their truth.json: mallinfo2 uordblks/hblkhd, the arena
 * count and every listed allocation's usable and chunk size; at least one
 * snapshot must exist.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "heap.h"
#include "image.h"

struct ptrrec {
	uint64_t p, req, usable, hdr;
	int thread;
};

struct expect {
	uint64_t sample;
	int tcache, fastbin;
};

struct truth {
	struct ptrrec *ptrs;
	size_t nptrs;
	struct expect exp[8];
	size_t nexp;
	int tcaches, arenas;
	struct heap_totals mi;
	bool mi_int;          /* from mallinfo (int fields, before glibc 2.33), not mallinfo2 */
	int glibc[2];         /* the glibc that ran the probe (gnu_get_libc_version) */
};

static const char *fixdir(void)
{
	const char *d = getenv("FIXDIR");
	return d ? d : "build/fixtures";
}

static void path(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, n, fmt, ap);
	va_end(ap);
}

static void truth_load(struct truth *t, const char *file)
{
	FILE *f = fopen(file, "r");
	char line[512];
	size_t cap = 0;

	memset(t, 0, sizeof *t);
	assert_non_null(f);
	while (fgets(line, sizeof line, f)) {
		struct ptrrec r;
		struct expect x;
		unsigned long long a, b, c, d;
		if (sscanf(line, "ptr 0x%llx %llu %llu 0x%llx %d", &a, &b, &c, &d, &r.thread) == 5) {
			if (t->nptrs == cap) {
				cap = cap ? cap * 2 : 256;
				t->ptrs = realloc(t->ptrs, cap * sizeof *t->ptrs);
				assert_non_null(t->ptrs);
			}
			r.p = a, r.req = b, r.usable = c, r.hdr = d;
			t->ptrs[t->nptrs++] = r;
		} else if (sscanf(line, "expect 0x%llx tcache %d fastbin %d", &a, &x.tcache, &x.fastbin) == 3) {
			assert_true(t->nexp < 8);
			x.sample = a;
			t->exp[t->nexp++] = x;
		} else if (sscanf(line, "tcaches %d", &t->tcaches) == 1 || sscanf(line, "arenas %d", &t->arenas) == 1) {
			continue;
		} else if (sscanf(line, "glibc %d.%d", &t->glibc[0], &t->glibc[1]) == 2) {
			continue;
		} else if (strncmp(line, "mallinfo2 ", 10) == 0 || strncmp(line, "mallinfo ", 9) == 0) {
			unsigned long long v[10];
			t->mi_int = line[8] == ' ';
			assert_int_equal(sscanf(strchr(line, ' '), " arena %llu ordblks %llu smblks %llu hblks %llu hblkhd %llu "
						"usmblks %llu fsmblks %llu uordblks %llu fordblks %llu keepcost %llu",
						&v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]), 10);
			t->mi = (struct heap_totals){ .arena = v[0], .ordblks = v[1], .smblks = v[2], .hblks = v[3],
						      .hblkhd = v[4], .fsmblks = v[6], .uordblks = v[7],
						      .fordblks = v[8], .keepcost = v[9] };
		}
	}
	fclose(f);
	assert_true(t->nptrs > 100);
	assert_true(t->arenas > 0);
	assert_true(t->mi.arena > 0);
}

static void truth_free(struct truth *t)
{
	free(t->ptrs);
}

static void open_census(const char *core, const char *exe, struct image **img, struct heap **h)
{
	struct err e = { 0 };
	int rc = image_open(img, core, exe, &e);
	if (rc)
		fail_msg("image_open %s: %s", core, e.msg);
	rc = heap_open(h, *img, &e);
	if (rc)
		fail_msg("heap_open %s: %s", core, e.msg);
}

/* Chunks sorted, disjoint, every one found by heap_find. */
static void check_index(const struct heap *h)
{
	uint64_t prev_end = 0;
	for (size_t i = 0; i < heap_chunk_count(h); i++) {
		struct heap_chunk c_v = heap_chunk_get(h, i);
		const struct heap_chunk *c = &c_v;
		assert_true(c->mem - 16 >= prev_end);
		prev_end = c->mem - 16 + c->size;
		assert_int_equal(heap_find(h, c->mem), i);
		assert_int_equal(heap_find_containing(h, c->mem - 16 + c->size - 1), i);
	}
}

/* The value of the glibc fact what, or NULL. */
static const char *fact(const struct heap *h, const char *what)
{
	const struct version_facts *v = heap_versions(h);
	for (size_t i = 0; i < v->len; i++)
		if (strcmp(v->data[i].dep, "glibc") == 0 && strcmp(v->data[i].what, what) == 0)
			return v->data[i].value;
	return NULL;
}

static int vcmp(int a0, int a1, int b0, int b1)
{
	return a0 != b0 ? (a0 > b0) - (a0 < b0) : (a1 > b1) - (a1 < b1);
}

/* What the census detected agrees with the glibc that ran the probe, as
 * glibc's history has it: the release family holds its version, safe-linking
 * is on exactly from 2.32, tcache counts are uint16_t from 2.30, the entry
 * key is the tcache from 2.29 and random from 2.34, heap_info has pagesize
 * from 2.35. */
static void check_versions(const struct heap *h, const struct truth *t)
{
	const char *rel = fact(h, "malloc release"), *sl = fact(h, "safe-linking"),
		   *tc = fact(h, "tcache_perthread_struct"), *key = fact(h, "tcache entry key"),
		   *hi = fact(h, "heap_info"), *ms = fact(h, "malloc_state");
	int a0, a1, b0, b1, n, v0 = t->glibc[0], v1 = t->glibc[1];

	assert_true(v0 == 2 && v1 >= 26);
	assert_non_null(rel);
	n = sscanf(rel, "%d.%d-%d.%d", &a0, &a1, &b0, &b1);
	if (n == 2)
		b0 = a0, b1 = a1;
	else if (n != 4)
		fail_msg("malloc release \"%s\" for glibc %d.%d", rel, v0, v1);
	if (vcmp(a0, a1, v0, v1) > 0 || vcmp(v0, v1, b0, b1) > 0)
		fail_msg("malloc release %s, but the probe ran glibc %d.%d", rel, v0, v1);
	assert_non_null(sl);
	assert_true(strncmp(sl, v1 >= 32 ? "on" : "off", v1 >= 32 ? 2 : 3) == 0);
	assert_non_null(tc);
	assert_true(strncmp(tc, v1 >= 30 ? "uint16_t" : "char", v1 >= 30 ? 8 : 4) == 0);
	assert_non_null(key);
	assert_true(strstr(key, v1 >= 34 ? "random" : v1 >= 29 ? "its tcache" : "none") != NULL);
	assert_non_null(ms);
	assert_true(strstr(ms, v1 >= 27 ? ">= 2.27" : "2.26") != NULL);
	assert_non_null(hi);
	if (t->arenas > 1)
		assert_true(strstr(hi, v1 >= 35 ? "pagesize at" : "no pagesize") != NULL);
}

/* base: the probe's directory under $FIXDIR (its exe is there); sub: the
 * snapshot's directory under it ("" for the big one). */
static void check_probe_in(const char *base, const char *sub, const char *corename)
{
	char core[512], exe[512], tf[512];
	struct truth t;
	struct image *img;
	struct heap *h;
	struct heap_totals got;

	path(core, sizeof core, "%s/%s/%s/%s", fixdir(), base, sub, corename);
	path(exe, sizeof exe, "%s/%s/exe", fixdir(), base);
	path(tf, sizeof tf, "%s/%s/%s/truth.txt", fixdir(), base, sub);
	truth_load(&t, tf);
	open_census(core, exe, &img, &h);

	/* mallinfo's int fields hold the figures modulo 2^32 */
	uint64_t m = t.mi_int ? 0xffffffffull : ~0ull;
	heap_get_totals(h, &got);
	assert_int_equal(got.uordblks & m, t.mi.uordblks);
	assert_int_equal(got.hblkhd & m, t.mi.hblkhd);
	assert_int_equal(got.hblks & m, t.mi.hblks);
	assert_int_equal(got.arena & m, t.mi.arena);
	assert_int_equal(got.ordblks & m, t.mi.ordblks);
	assert_int_equal(got.smblks & m, t.mi.smblks);
	assert_int_equal(got.fsmblks & m, t.mi.fsmblks);
	assert_int_equal(got.fordblks & m, t.mi.fordblks);
	assert_int_equal(got.keepcost & m, t.mi.keepcost);
	print_message("%s/%s %s: glibc %d.%d, %s uordblks %llu fordblks %llu smblks %llu fsmblks %llu arena %llu: "
		      "as glibc counts; detected %s\n", base, sub, corename, t.glibc[0], t.glibc[1],
		      t.mi_int ? "mallinfo" : "mallinfo2", (unsigned long long)got.uordblks,
		      (unsigned long long)got.fordblks, (unsigned long long)got.smblks,
		      (unsigned long long)got.fsmblks, (unsigned long long)got.arena, fact(h, "malloc release"));
	check_versions(h, &t);
	assert_int_equal(heap_arena_count(h), (size_t)t.arenas);
	assert_int_equal(heap_tcache_count(h), (size_t)t.tcaches);
	assert_int_equal(heap_corruption_total(h), 0);

	/* In the big run worker 3 grew its arena past one 64 MiB heap. */
	size_t two = 0;
	for (size_t i = 0; i < heap_arena_count(h); i++)
		two += heap_arena_get(h, i)->nheaps >= 2;
	assert_int_equal(two, *sub ? 0 : 1);

	for (size_t i = 0; i < t.nptrs; i++) {
		const struct ptrrec *r = &t.ptrs[i];
		size_t k = heap_find(h, r->p);
		struct heap_chunk c;
		struct err e = { 0 };
		if (k == SIZE_MAX)
			fail_msg("pointer 0x%llx (thread %d) not in the census", (unsigned long long)r->p, r->thread);
		struct heap_chunk hc_v = heap_chunk_get(h, k);
		const struct heap_chunk *hc = &hc_v;
		assert_int_equal(hc->size, r->hdr & ~7ull);
		assert_int_equal(hc->flags, r->hdr & 7);
		assert_int_equal(heap_usable(hc), r->usable);
		assert_int_equal(hc->state, HEAP_INUSE);
		assert_int_equal(hc->arena == HEAP_NO_ARENA, (r->hdr & HEAP_F_MMAPPED) != 0);
		/* The last 8 usable bytes of a heap chunk are the next chunk's
		 * prev_size field, so "inside" ends at the chunk's end. */
		assert_int_equal(heap_find_containing(h, r->p), k);
		assert_int_equal(heap_find_containing(h, r->p - 16 + hc->size - 1), k);
		assert_int_equal(heap_find(h, r->p + 16), SIZE_MAX);
		assert_int_equal(heap_chunk_at(h, r->p, &c, &e), 0);
		assert_int_equal(c.size, r->hdr & ~7ull);
		/* 16 bytes in is never a chunk start in an intact heap. */
		if (!(r->hdr & HEAP_F_MMAPPED) && (r->hdr & ~7ull) > 32) {
			assert_int_equal(heap_chunk_at(h, r->p + 16, &c, &e), ERR_CORRUPT);
			assert_int_equal(e.addr, r->p);
		}
	}
	/* Per-arena cache counts hold when each worker has its own arena. */
	for (size_t i = 0; i < (t.arenas > 1 ? t.nexp : 0); i++) {
		size_t k = heap_find(h, t.exp[i].sample);
		assert_int_not_equal(k, SIZE_MAX);
		const struct heap_arena *a = heap_arena_get(h, heap_chunk_get(h, k).arena);
		assert_non_null(a);
		assert_false(a->main);
		assert_int_equal(a->tcache_chunks, (size_t)t.exp[i].tcache);
		assert_int_equal(a->fastbin_chunks, (size_t)t.exp[i].fastbin);
	}
	check_index(h);

	/* Without its chunk index the heap keeps its totals; an mmapped chunk
	 * is still sized from its header, a pointer into an intact heap is
	 * refused (the census listed its chunks; the walker keeps that answer
	 * in its own map). */
	heap_drop_chunks(h);
	assert_int_equal(heap_chunk_count(h), 0);
	heap_get_totals(h, &got);
	assert_int_equal(got.uordblks, t.mi.uordblks);
	assert_int_equal(got.hblkhd, t.mi.hblkhd);
	size_t mmapped = 0;
	for (size_t i = 0; i < t.nptrs; i++) {
		struct heap_chunk c;
		assert_int_equal(heap_find(h, t.ptrs[i].p), SIZE_MAX);
		assert_int_equal(heap_find_containing(h, t.ptrs[i].p), SIZE_MAX);
		if (t.ptrs[i].hdr & HEAP_F_MMAPPED) {
			assert_int_equal(heap_chunk_at(h, t.ptrs[i].p, &c, NULL), 0);
			assert_int_equal(c.size, t.ptrs[i].hdr & ~7ull);
			mmapped++;
		} else {
			assert_int_equal(heap_chunk_at(h, t.ptrs[i].p, &c, NULL), ERR_CORRUPT);
		}
	}
	assert_int_equal(mmapped, (size_t)t.mi.hblks);
	heap_close(h);
	image_close(img);
	truth_free(&t);
}

static void check_probe(const char *sub, const char *corename)
{
	check_probe_in("heap", sub, corename);
}

static void test_probe_gcore(void **state)
{
	(void)state;
	check_probe("", "gcore");
}

static void test_probe_kcore(void **state)
{
	(void)state;
	check_probe("", "kcore");
}

static void test_probe_small(void **state)
{
	(void)state;
	check_probe("small", "kcore");
}

/* MALLOC_ARENA_MAX=1: no thread arena leads to main_arena. */
static void test_probe_one_arena(void **state)
{
	(void)state;
	check_probe("onearena", "kcore");
}

/* ---- other glibc releases (tests/setup.d/35-glibc-matrix.sh) ---- */

static void matrix(const char *suite, const char *sub, const char *corename)
{
	char base[64], tf[600];
	struct stat st;

	path(base, sizeof base, "heap-matrix/%s", suite);
	path(tf, sizeof tf, "%s/%s/%s/truth.txt", fixdir(), base, sub);
	if (stat(tf, &st) != 0)
		fail_msg("%s is missing: tests/setup.d/35-glibc-matrix.sh makes it", tf);
	check_probe_in(base, sub, corename);
}

/* Debian 11: glibc 2.31, uint16_t tcache counts, no safe-linking, mallinfo. */
static void test_glibc231_gcore(void **state) { (void)state; matrix("bullseye", "", "gcore"); }
static void test_glibc231_kcore(void **state) { (void)state; matrix("bullseye", "", "kcore"); }
static void test_glibc231_one_arena(void **state) { (void)state; matrix("bullseye", "onearena", "kcore"); }
/* Debian 13: glibc 2.41. */
static void test_glibc241_gcore(void **state) { (void)state; matrix("trixie", "", "gcore"); }
static void test_glibc241_kcore(void **state) { (void)state; matrix("trixie", "", "kcore"); }
static void test_glibc241_one_arena(void **state) { (void)state; matrix("trixie", "onearena", "kcore"); }

/* ---- corruption ---- */

/* File offset of target address addr in an ELF core (PT_LOAD table), or -1. */
static off_t core_offset(int fd, uint64_t addr)
{
	Elf64_Ehdr eh;
	assert_int_equal(pread(fd, &eh, sizeof eh, 0), (ssize_t)sizeof eh);
	for (int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		assert_int_equal(pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + (uint64_t)i * eh.e_phentsize)),
				 (ssize_t)sizeof ph);
		if (ph.p_type == PT_LOAD && addr >= ph.p_vaddr && addr + 8 <= ph.p_vaddr + ph.p_filesz)
			return (off_t)(ph.p_offset + (addr - ph.p_vaddr));
	}
	return -1;
}

static void copy_file(const char *from, const char *to)
{
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	static char buf[1 << 16];
	ssize_t n;

	assert_true(in >= 0 && out >= 0);
	while ((n = read(in, buf, sizeof buf)) > 0) {
		/* Keep zero blocks as holes: the core is mostly sparse. */
		bool zero = true;
		for (ssize_t i = 0; i < n && zero; i++)
			zero = buf[i] == 0;
		if (zero)
			assert_true(lseek(out, n, SEEK_CUR) >= 0);
		else
			assert_int_equal(write(out, buf, (size_t)n), n);
	}
	assert_int_equal(n, 0);
	assert_int_equal(ftruncate(out, lseek(out, 0, SEEK_CUR)), 0);
	close(in);
	close(out);
}

static void poke(int fd, uint64_t addr, uint64_t v)
{
	off_t off = core_offset(fd, addr);
	assert_true(off >= 0);
	assert_int_equal(pwrite(fd, &v, sizeof v, off), (ssize_t)sizeof v);
}

static bool corruption_at(const struct heap *h, uint64_t addr)
{
	for (size_t i = 0; i < heap_corruption_count(h); i++)
		if (heap_corruption_get(h, i)->addr == addr)
			return true;
	return false;
}

/* The i-th (by address) live non-mmapped pointer of thread t. */
static const struct ptrrec *nth_ptr(const struct truth *tr, int t, size_t nth)
{
	const struct ptrrec *best[4096];
	size_t n = 0;
	for (size_t i = 0; i < tr->nptrs && n < 4096; i++)
		if (tr->ptrs[i].thread == t && !(tr->ptrs[i].hdr & HEAP_F_MMAPPED) && tr->ptrs[i].usable < 4096)
			best[n++] = &tr->ptrs[i];
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && best[j - 1]->p > best[j]->p; j--) {
			const struct ptrrec *x = best[j];
			best[j] = best[j - 1];
			best[j - 1] = x;
		}
	assert_true(nth < n);
	return best[nth];
}

static void test_corrupted_headers(void **state)
{
	char src[512], dst[512], exe[512], tf[512];
	struct truth t;
	struct image *img;
	struct heap *h;
	const struct ptrrec *m1, *m2, *w1, *w2;
	int fd;

	(void)state;
	path(src, sizeof src, "%s/heap/small/kcore", fixdir());
	path(dst, sizeof dst, "%s/heap/small/kcore.damaged.%d", fixdir(), (int)getpid());
	path(exe, sizeof exe, "%s/heap/exe", fixdir());
	path(tf, sizeof tf, "%s/heap/small/truth.txt", fixdir());
	truth_load(&t, tf);
	m1 = nth_ptr(&t, 0, 40);  /* main arena: size field zeroed */
	m2 = nth_ptr(&t, 0, 120); /* further on in the same heap */
	w1 = nth_ptr(&t, 1, 10);  /* worker arena: size far past the heap end */
	w2 = nth_ptr(&t, 1, 60);
	copy_file(src, dst);
	fd = open(dst, O_RDWR);
	assert_true(fd >= 0);
	poke(fd, m1->p - 8, 0);
	poke(fd, w1->p - 8, 0x7ffff0000001ull);
	close(fd);

	open_census(dst, exe, &img, &h);
	assert_true(corruption_at(h, m1->p - 16));
	assert_true(corruption_at(h, w1->p - 16));
	assert_int_equal(heap_find(h, m1->p), SIZE_MAX);
	assert_int_equal(heap_find(h, w1->p), SIZE_MAX);
	/* The walk carried on past the damage in both heaps. */
	size_t k = heap_find(h, m2->p);
	assert_int_not_equal(k, SIZE_MAX);
	assert_int_equal(heap_chunk_get(h, k).size, m2->hdr & ~7ull);
	k = heap_find(h, w2->p);
	assert_int_not_equal(k, SIZE_MAX);
	assert_int_equal(heap_chunk_get(h, k).size, w2->hdr & ~7ull);
	/* A damaged header asked about directly is reported, not trusted. */
	struct heap_chunk c;
	struct err e = { 0 };
	assert_int_equal(heap_chunk_at(h, m1->p, &c, &e), ERR_CORRUPT);
	assert_int_equal(e.addr, m1->p - 16);
	assert_int_equal(heap_chunk_at(h, w1->p, &c, &e), ERR_CORRUPT);
	check_index(h);
	heap_close(h);
	image_close(img);

	/* The command reports it and exits 0. */
	const char *bin = getenv("BIN");
	if (bin) {
		char cmd[2048], needle[32], line[1024];
		bool seen = false;
		snprintf(cmd, sizeof cmd, "'%s' heap '%s' '%s'", bin, dst, exe);
		snprintf(needle, sizeof needle, "0x%llx", (unsigned long long)(m1->p - 16));
		FILE *p = popen(cmd, "r");
		assert_non_null(p);
		while (fgets(line, sizeof line, p))
			seen |= strstr(line, needle) != NULL;
		assert_int_equal(pclose(p), 0);
		assert_true(seen);
	}
	unlink(dst);
	truth_free(&t);
}

static bool corruption_mentions(const struct heap *h, const char *word)
{
	for (size_t i = 0; i < heap_corruption_count(h); i++)
		if (strstr(heap_corruption_get(h, i)->what, word))
			return true;
	return false;
}

/* A census of a copy of src with the words at addr[i] set to val[i]. */
static void open_damaged(const char *src, const char *dst, const char *exe, const uint64_t *addr,
			 const uint64_t *val, size_t n, struct image **img, struct heap **h)
{
	int fd;

	copy_file(src, dst);
	fd = open(dst, O_RDWR);
	assert_true(fd >= 0);
	for (size_t i = 0; i < n; i++)
		poke(fd, addr[i], val[i]);
	close(fd);
	open_census(dst, exe, img, h);
}

/* A cached chunk's safe-linked next pointer overwritten (a write after
 * free): the list is reported as broken and the census still completes.
 * Then a link turned into a loop back to its own chunk (safe-linked, as
 * glibc 2.36 stores it): the detectors' checking walks must end on it too. */
static void test_corrupted_cache_links(void **state)
{
	char src[512], dst[512], exe[512], tf[512];
	struct truth t;
	struct image *img;
	struct heap *h;
	uint64_t victim[2] = { 0, 0 }; /* one tcache-sized (624) and one fastbin-sized (80) cached chunk */

	(void)state;
	path(src, sizeof src, "%s/heap/small/kcore", fixdir());
	path(dst, sizeof dst, "%s/heap/small/kcore.links.%d", fixdir(), (int)getpid());
	path(exe, sizeof exe, "%s/heap/exe", fixdir());
	path(tf, sizeof tf, "%s/heap/small/truth.txt", fixdir());
	truth_load(&t, tf);
	open_census(src, exe, &img, &h);
	size_t k = heap_find(h, t.exp[0].sample);
	assert_int_not_equal(k, SIZE_MAX);
	uint16_t arena = heap_chunk_get(h, k).arena;
	for (size_t i = 0; i < heap_chunk_count(h); i++) {
		struct heap_chunk c_v = heap_chunk_get(h, i);
		const struct heap_chunk *c = &c_v;
		if (c->arena != arena || c->state != HEAP_CACHED)
			continue;
		if (c->size == 608 && !victim[0])
			victim[0] = c->mem;
		if (c->size == 80)
			victim[1] = c->mem; /* the last one: fastbin chunks follow tcache ones */
	}
	assert_true(victim[0] && victim[1]);
	size_t before = heap_arena_get(h, arena)->cached_chunks;
	heap_close(h);
	image_close(img);

	const uint64_t junk[2] = { 0x4141414141414140ull, 0x4141414141414140ull };
	open_damaged(src, dst, exe, victim, junk, 2, &img, &h);
	assert_true(heap_corruption_total(h) >= 2);
	assert_true(corruption_mentions(h, "tcache"));
	assert_true(corruption_mentions(h, "fastbin"));
	/* Fewer chunks could be shown cached, none more. */
	assert_true(heap_arena_get(h, arena)->cached_chunks < before);
	check_index(h);
	heap_close(h);
	image_close(img);

	const uint64_t loop = (victim[0] >> 12) ^ victim[0];
	open_damaged(src, dst, exe, victim, &loop, 1, &img, &h);
	assert_true(corruption_mentions(h, "tcache"));
	assert_true(heap_arena_get(h, arena)->cached_chunks <= before); /* those before the loop stay */
	check_index(h);
	heap_close(h);
	image_close(img);
	unlink(dst);
	truth_free(&t);
}

/* ---- beava-sim snapshots ---- */

static void check_allocs(const struct heap *h, json_t *allocs, size_t *n)
{
	size_t i;
	json_t *a;

	json_array_foreach(allocs, i, a) {
		uint64_t addr = (uint64_t)json_integer_value(json_array_get(a, 0));
		uint64_t usable = (uint64_t)json_integer_value(json_array_get(a, 2));
		uint64_t chunk = (uint64_t)json_integer_value(json_array_get(a, 3));
		size_t k = heap_find(h, addr);
		if (k == SIZE_MAX)
			fail_msg("allocation 0x%llx not in the census", (unsigned long long)addr);
		struct heap_chunk c_v = heap_chunk_get(h, k);
		const struct heap_chunk *c = &c_v;
		if (c->size != chunk || heap_usable(c) != usable || c->state != HEAP_INUSE)
			fail_msg("allocation 0x%llx: census chunk %llu usable %llu state %d, truth chunk %llu usable %llu",
				 (unsigned long long)addr, (unsigned long long)c->size,
				 (unsigned long long)heap_usable(c), c->state, (unsigned long long)chunk,
				 (unsigned long long)usable);
		(*n)++;
	}
}

static size_t check_sim(const char *dir)
{
	char core[600], exe[600], tf[600];
	json_error_t je;
	json_t *root, *tables, *tb, *en, *op;
	struct image *img;
	struct heap *h;
	struct heap_totals got;
	size_t i, j, k, n = 0;

	path(core, sizeof core, "%s/core", dir);
	path(exe, sizeof exe, "%s/beava-sim", dir);
	path(tf, sizeof tf, "%s/truth.json", dir);
	root = json_load_file(tf, 0, &je);
	if (!root)
		fail_msg("%s: %s", tf, je.text);
	open_census(core, exe, &img, &h);
	heap_get_totals(h, &got);
	json_t *mi = json_object_get(root, "mallinfo2");
	assert_non_null(mi);
	assert_int_equal(got.uordblks, (uint64_t)json_integer_value(json_object_get(mi, "uordblks")));
	assert_int_equal(got.hblkhd, (uint64_t)json_integer_value(json_object_get(mi, "hblkhd")));
	assert_int_equal(heap_arena_count(h), (size_t)json_integer_value(json_object_get(root, "arenas")));
	tables = json_object_get(root, "tables");
	json_array_foreach(tables, i, tb) {
		check_allocs(h, json_object_get(json_object_get(tb, "overhead"), "allocations"), &n);
		json_array_foreach(json_object_get(tb, "entities"), j, en) {
			check_allocs(h, json_object_get(json_object_get(en, "overhead"), "allocations"), &n);
			json_array_foreach(json_object_get(en, "ops"), k, op)
				check_allocs(h, json_object_get(op, "allocations"), &n);
		}
	}
	print_message("%s: %zu allocations, uordblks %llu, hblkhd %llu, %zu arenas: as in truth.json\n", dir, n,
		      (unsigned long long)got.uordblks, (unsigned long long)got.hblkhd, heap_arena_count(h));
	heap_close(h);
	image_close(img);
	json_decref(root);
	return n;
}

static bool is_snapshot(const char *dir)
{
	char tf[600];
	struct stat st;
	path(tf, sizeof tf, "%s/truth.json", dir);
	return stat(tf, &st) == 0;
}

static void test_sim_snapshots(void **state)
{
	char dir[600];
	size_t checked = 0, allocs = 0;
	DIR *d;
	struct dirent *de;

	(void)state;
	path(dir, sizeof dir, "%s/sim-fresh", fixdir());
	if (is_snapshot(dir)) {
		allocs += check_sim(dir);
		checked++;
	}
	path(dir, sizeof dir, "%s/snapshots", fixdir());
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		char sub[600];
		if (de->d_name[0] == '.')
			continue;
		path(sub, sizeof sub, "%s/snapshots/%s", fixdir(), de->d_name);
		if (is_snapshot(sub)) {
			allocs += check_sim(sub);
			checked++;
		}
	}
	if (d)
		closedir(d);
	if (!checked)
		fail_msg("no beava-sim snapshot with truth.json under %s/sim-fresh or %s/snapshots/*", fixdir(), fixdir());
	assert_true(allocs > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_gcore),
		cmocka_unit_test(test_probe_kcore),
		cmocka_unit_test(test_probe_small),
		cmocka_unit_test(test_probe_one_arena),
		cmocka_unit_test(test_glibc231_gcore),
		cmocka_unit_test(test_glibc231_kcore),
		cmocka_unit_test(test_glibc231_one_arena),
		cmocka_unit_test(test_glibc241_gcore),
		cmocka_unit_test(test_glibc241_kcore),
		cmocka_unit_test(test_glibc241_one_arena),
		cmocka_unit_test(test_corrupted_headers),
		cmocka_unit_test(test_corrupted_cache_links),
		cmocka_unit_test(test_sim_snapshots),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
