/* test_image.c: the image layer against cores of the probe programs
 * (fixtures/probes, built and snapshotted by tests/setup.d/10-probes.sh).
 *
 * Truth comes from outside the image layer: what each probe printed about
 * itself (truth.txt), nm's symbol table (nm.txt) and readelf's build-ids
 * (buildid*.txt).  truth.txt lines:
 *   pid PID | comm NAME | tid TID fs_base 0xADDR
 *   sym NAME 0xADDR               runtime address of a .symtab symbol
 *   mem LABEL 0xADDR HEX          bytes at that address
 *   text NAME 0xADDR HEX          code bytes (never in the core: NT_FILE fallback)
 *   gone 0xADDR HEX               a file mapping whose file was deleted after the snapshots
 *   stale 0xADDR HEX              code of a library rebuilt (new build-id) after the snapshots
 *   map <a line of /proc/self/maps>
 *   end
 * Each case runs for both probes (c, rust) and both dumpers (gcore, kcore).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"

#define MAX_ITEMS 256

struct blob {
	char label[256];
	uint64_t addr;
	uint8_t *bytes;
	size_t len;
};

struct region {
	uint64_t lo, hi;
	char perms[5];
	char path[512];
};

struct truth {
	int pid;
	char comm[32];
	size_t ntids;
	int tids[16];
	uint64_t fs_base[16];
	size_t nsyms, nmems, ntexts, nregions;
	struct blob syms[MAX_ITEMS], mems[MAX_ITEMS], texts[MAX_ITEMS];
	struct blob gone, stale; /* len 0: none */
	struct region regions[MAX_ITEMS];
};

struct tcase {
	const char *probe; /* "c" or "rust" */
	const char *core;  /* "gcore" or "kcore" */
};

struct ctx {
	const struct tcase *tc;
	char dir[1024];
	char core[1100], exe[1100], exe2[1100];
	struct truth *t;
	struct image *img;
};

/* ---- fixture files ---- */

static void path_of(char *out, size_t n, const struct ctx *c, const char *name)
{
	snprintf(out, n, "%s/%s", c->dir, name);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("fixture %s is missing (run tests/setup.sh): %m", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *s = malloc((size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = '\0';
	fclose(f);
	return s;
}

static uint8_t *unhex(const char *h, size_t *len)
{
	size_t n = strlen(h) / 2;
	uint8_t *b = malloc(n ? n : 1);
	assert_non_null(b);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		assert_int_equal(sscanf(h + 2 * i, "%2x", &v), 1);
		b[i] = (uint8_t)v;
	}
	*len = n;
	return b;
}

static void parse_blob(struct blob *b, const char *label, const char *addr, const char *hex)
{
	snprintf(b->label, sizeof b->label, "%s", label);
	b->addr = strtoull(addr, NULL, 16);
	b->bytes = hex ? unhex(hex, &b->len) : NULL;
}

static void parse_map(struct region *r, const char *line)
{
	unsigned long long lo, hi;
	int pos = 0;
	assert_int_equal(sscanf(line, "%llx-%llx %4s %*s %*s %*s%n", &lo, &hi, r->perms, &pos), 3);
	r->lo = lo;
	r->hi = hi;
	const char *p = line + pos;
	while (*p == ' ')
		p++;
	snprintf(r->path, sizeof r->path, "%s", p);
}

static struct truth *truth_load(const struct ctx *c)
{
	char path[1200];
	path_of(path, sizeof path, c, "truth.txt");
	char *text = slurp(path);
	struct truth *t = calloc(1, sizeof *t);
	assert_non_null(t);
	bool ended = false;
	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char a[256], b[64], hex[8192];
		int tid;
		unsigned long long fs;
		if (sscanf(line, "pid %d", &t->pid) == 1)
			continue;
		if (sscanf(line, "comm %31s", t->comm) == 1)
			continue;
		if (sscanf(line, "tid %d fs_base %llx", &tid, &fs) == 2) {
			assert_true(t->ntids < 16);
			t->tids[t->ntids] = tid;
			t->fs_base[t->ntids++] = fs;
		} else if (sscanf(line, "sym %255s %63s", a, b) == 2) {
			assert_true(t->nsyms < MAX_ITEMS);
			parse_blob(&t->syms[t->nsyms++], a, b, NULL);
		} else if (sscanf(line, "mem %255s %63s %8191s", a, b, hex) == 3) {
			assert_true(t->nmems < MAX_ITEMS);
			parse_blob(&t->mems[t->nmems++], a, b, hex);
		} else if (sscanf(line, "text %255s %63s %8191s", a, b, hex) == 3) {
			assert_true(t->ntexts < MAX_ITEMS);
			parse_blob(&t->texts[t->ntexts++], a, b, hex);
		} else if (sscanf(line, "gone %63s %8191s", b, hex) == 2) {
			parse_blob(&t->gone, "gone", b, hex);
		} else if (sscanf(line, "stale %63s %8191s", b, hex) == 2) {
			parse_blob(&t->stale, "stale", b, hex);
		} else if (strncmp(line, "map ", 4) == 0) {
			assert_true(t->nregions < MAX_ITEMS);
			parse_map(&t->regions[t->nregions++], line + 4);
		} else if (strcmp(line, "end") == 0)
			ended = true;
		else
			fail_msg("unknown truth line: %s", line);
	}
	free(text);
	assert_true(ended);
	assert_true(t->pid > 0 && t->ntids == 2 && t->nsyms > 0 && t->nmems > 0 && t->ntexts > 0);
	return t;
}

static void truth_free(struct truth *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nmems; i++)
		free(t->mems[i].bytes);
	for (size_t i = 0; i < t->ntexts; i++)
		free(t->texts[i].bytes);
	free(t->gone.bytes);
	free(t->stale.bytes);
	free(t);
}

/* Link-time address of a symbol, as nm printed it. */
static uint64_t nm_addr(const struct ctx *c, const char *name)
{
	char path[1200], line[1024];
	path_of(path, sizeof path, c, "nm.txt");
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("fixture %s is missing", path);
	uint64_t found = 0;
	bool ok = false;
	while (fgets(line, sizeof line, f)) {
		unsigned long long a;
		char type[8], sym[900];
		if (sscanf(line, "%llx %7s %899s", &a, type, sym) == 3 && strcmp(sym, name) == 0) {
			found = a;
			ok = true;
			break;
		}
	}
	fclose(f);
	if (!ok)
		fail_msg("nm.txt has no symbol %s", name);
	return found;
}

static void read_id(const struct ctx *c, const char *name, char *out, size_t n)
{
	char path[1200];
	path_of(path, sizeof path, c, name);
	char *s = slurp(path);
	s[strcspn(s, "\n")] = '\0';
	snprintf(out, n, "%s", s);
	free(s);
	assert_true(strlen(out) >= 16);
}

/* A fresh path for a scratch copy. */
static void tmp_path(char *out, size_t n, const char *tag)
{
	snprintf(out, n, "%s/test_image.%d.%s", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
		 (int)getpid(), tag);
}

static void copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	assert_non_null(in);
	assert_non_null(out);
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	assert_int_equal(fclose(out), 0);
}

static uint64_t file_size(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

/* ---- setup ---- */

static int ctx_setup(void **state)
{
	const struct tcase *tc = *state;
	struct ctx *c = calloc(1, sizeof *c);
	const char *fix = getenv("FIXDIR");
	struct err e = {0};

	if (!c || !fix)
		return -1;
	c->tc = tc;
	snprintf(c->dir, sizeof c->dir, "%s/probes/%s", fix, tc->probe);
	path_of(c->core, sizeof c->core, c, tc->core);
	path_of(c->exe, sizeof c->exe, c, "exe");
	path_of(c->exe2, sizeof c->exe2, c, "exe2");
	c->t = truth_load(c);
	if (image_open(&c->img, c->core, c->exe, &e) != 0) {
		fprintf(stderr, "image_open(%s): %s\n", c->core, e.msg);
		truth_free(c->t);
		free(c);
		return -1;
	}
	*state = c;
	return 0;
}

static int ctx_teardown(void **state)
{
	struct ctx *c = *state;
	image_close(c->img);
	truth_free(c->t);
	free(c);
	return 0;
}

static bool is_kernel(const struct ctx *c)
{
	return strcmp(c->tc->core, "kcore") == 0;
}

/* ---- tests ---- */

static void test_kind_and_build_id(void **state)
{
	struct ctx *c = *state;
	char id[256];
	read_id(c, "buildid.txt", id, sizeof id);
	assert_string_equal(image_core_kind(c->img), is_kernel(c) ? "kernel" : "gcore");
	assert_string_equal(image_core_build_id(c->img), id);
	assert_string_equal(image_exe_build_id(c->img), id);
	assert_non_null(strstr(image_build_id_check(c->img), "matches"));
	assert_int_equal(image_core_size(c->img), file_size(c->core));
	assert_string_equal(image_core_path(c->img), c->core);
	assert_string_equal(image_exe_path(c->img), c->exe);
}

/* Every byte range the program printed reads back the same. */
static void test_values(void **state)
{
	struct ctx *c = *state;
	for (size_t i = 0; i < c->t->nmems; i++) {
		const struct blob *b = &c->t->mems[i];
		uint8_t *got = malloc(b->len);
		struct err e = {0};
		assert_non_null(got);
		if (image_read(c->img, b->addr, got, b->len, &e) != 0)
			fail_msg("%s at 0x%llx: %s", b->label, (unsigned long long)b->addr, e.msg);
		if (memcmp(got, b->bytes, b->len) != 0)
			fail_msg("%s at 0x%llx: bytes differ from the program's", b->label,
				 (unsigned long long)b->addr);
		free(got);
	}
}

/* The fast path agrees with image_read where the core holds the bytes, and
 * the u64/u32 helpers agree with both. */
static void test_ptr_and_helpers(void **state)
{
	struct ctx *c = *state;
	size_t in_core = 0;
	for (size_t i = 0; i < c->t->nmems; i++) {
		const struct blob *b = &c->t->mems[i];
		const uint8_t *p = image_ptr(c->img, b->addr, b->len);
		if (p) {
			assert_memory_equal(p, b->bytes, b->len);
			in_core++;
		}
		if (b->len >= 8) {
			uint64_t v, want;
			struct err e = {0};
			memcpy(&want, b->bytes, 8);
			assert_int_equal(image_read_u64(c->img, b->addr, &v, &e), 0);
			assert_int_equal(v, want);
			uint32_t v32, want32;
			memcpy(&want32, b->bytes + 4, 4);
			assert_int_equal(image_read_u32(c->img, b->addr + 4, &v32, &e), 0);
			assert_int_equal(v32, want32);
		}
	}
	/* Writable data (statics, heap, stacks) is always in the core. */
	assert_true(in_core >= 4);
}

/* The pread paths give the program's own bytes: image_pread directly, and
 * image_ptr / image_read once a window holds them; a window on an address
 * the core does not hold is refused; after the mapped pages are given back,
 * the mmap path still reads the same bytes. */
static void test_window_and_pread(void **state)
{
	struct ctx *c = *state;
	size_t checked = 0;
	for (size_t i = 0; i < c->t->nmems; i++) {
		const struct blob *b = &c->t->mems[i];
		if (!image_ptr(c->img, b->addr, b->len))
			continue;   /* not in the core itself (a file or zeros) */
		uint8_t *got = malloc(b->len);
		assert_non_null(got);
		assert_int_equal(image_pread(c->img, b->addr, got, b->len), b->len);
		assert_memory_equal(got, b->bytes, b->len);
		uint64_t lo = b->addr & ~4095ull, gen = image_window_gen(c->img);
		assert_true(image_window(c->img, lo, b->addr + b->len));
		/* every move of the window is counted: a pointer into it is
		 * checked against the generation it was taken in */
		assert_true(image_window_gen(c->img) == gen + 1);
		gen = image_window_gen(c->img);
		const uint8_t *p = image_ptr(c->img, b->addr, b->len);
		assert_non_null(p);
		assert_memory_equal(p, b->bytes, b->len);
		memset(got, 0, b->len);
		assert_int_equal(image_read(c->img, b->addr, got, b->len, NULL), 0);
		assert_memory_equal(got, b->bytes, b->len);
		/* a window elsewhere: the bytes come from the mmap again */
		assert_false(image_window(c->img, 16, 4096));
		assert_true(image_window_gen(c->img) != gen);   /* p is no longer valid */
		image_release(c->img, 0, UINT64_MAX);
		p = image_ptr(c->img, b->addr, b->len);
		assert_non_null(p);
		assert_memory_equal(p, b->bytes, b->len);
		free(got);
		checked++;
	}
	assert_true(checked >= 4);
}

/* Runtime address = nm's link-time address + the bias the image computed. */
static void test_statics_through_bias(void **state)
{
	struct ctx *c = *state;
	uint64_t bias = image_bias(c->img);
	assert_true(bias != 0); /* both probes are PIE */
	assert_int_equal(bias % 4096, 0);
	for (size_t i = 0; i < c->t->nsyms; i++) {
		const struct blob *s = &c->t->syms[i];
		uint64_t link = nm_addr(c, s->label);
		if (link + bias != s->addr)
			fail_msg("%s: nm 0x%llx + bias 0x%llx != 0x%llx printed", s->label,
				 (unsigned long long)link, (unsigned long long)bias,
				 (unsigned long long)s->addr);
	}
	uint64_t v;
	assert_true(image_auxv(c->img, 9 /* AT_ENTRY */, &v));
	assert_int_equal(v - bias, nm_addr(c, "_start"));
	assert_false(image_auxv(c->img, 0xdead, &v));
}

/* Code is in no core (gcore skips r-x mappings, the kernel writes them with
 * filesz 0): it must come from the executable through NT_FILE. */
static void test_text_from_file(void **state)
{
	struct ctx *c = *state;
	for (size_t i = 0; i < c->t->ntexts; i++) {
		const struct blob *b = &c->t->texts[i];
		uint8_t got[256];
		struct err e = {0};
		assert_true(b->len <= sizeof got);
		assert_null(image_ptr(c->img, b->addr, b->len));
		if (image_read(c->img, b->addr, got, b->len, &e) != 0)
			fail_msg("text %s: %s", b->label, e.msg);
		assert_memory_equal(got, b->bytes, b->len);
		assert_true(image_mapped(c->img, b->addr, b->len));
		const struct image_segment *s = image_segment_at(c->img, b->addr);
		if (is_kernel(c)) { /* a PT_LOAD with nothing in the file */
			assert_non_null(s);
			assert_int_equal(s->filesz, 0);
			assert_true(s->flags & IMAGE_X);
			assert_non_null(s->file);
			assert_string_equal(s->file, c->exe);
		} else {
			assert_null(s);
		}
	}
}

static void test_threads(void **state)
{
	struct ctx *c = *state;
	assert_int_equal(image_thread_count(c->img), c->t->ntids);
	for (size_t i = 0; i < c->t->ntids; i++) {
		bool found = false;
		for (size_t j = 0; j < image_thread_count(c->img); j++) {
			const struct image_thread *th = image_thread(c->img, j);
			if (th->pid != c->t->tids[i])
				continue;
			found = true;
			assert_int_equal(th->fs_base, c->t->fs_base[i]);
			assert_int_equal(th->regs[21], th->fs_base);
			assert_int_equal(th->regs[16], th->rip);
			assert_int_equal(th->regs[19], th->rsp);
			/* The stack pointer is inside a mapping the program listed. */
			bool in_map = false;
			for (size_t k = 0; k < c->t->nregions; k++)
				in_map |= th->rsp >= c->t->regions[k].lo && th->rsp < c->t->regions[k].hi;
			assert_true(in_map);
		}
		if (!found)
			fail_msg("thread %d not in the core", c->t->tids[i]);
	}
	assert_string_equal(image_thread(c->img, 0)->name, c->t->comm);
	assert_string_equal(image_thread(c->img, 1)->name, "");
	assert_null(image_thread(c->img, image_thread_count(c->img)));
}

static bool region_skipped(const struct ctx *c, const struct region *r)
{
	/* [vvar] pages are never dumped; gone.dat and libstale.so are
	 * unreadable by design (neither dumper writes unmodified private file
	 * pages, and the files are gone or changed). */
	(void)c;
	return strncmp(r->path, "[vvar", 5) == 0 || strstr(r->path, "gone.dat") != NULL ||
	       strstr(r->path, "libstale.so") != NULL;
}

/* image_mapped and faults at the edges of what /proc/self/maps listed. */
static void test_mapped_edges(void **state)
{
	struct ctx *c = *state;
	const struct truth *t = c->t;
	size_t gaps = 0;
	for (size_t i = 0; i < t->nregions; i++) {
		const struct region *r = &t->regions[i];
		if (r->perms[0] == 'r' && !region_skipped(c, r)) {
			if (!image_mapped(c->img, r->lo, r->hi - r->lo))
				fail_msg("%llx-%llx %s %s not fully readable", (unsigned long long)r->lo,
					 (unsigned long long)r->hi, r->perms, r->path);
			assert_true(image_mapped(c->img, r->lo, 0));
			assert_true(image_mapped(c->img, r->hi - 1, 1));
		}
		bool next = false;
		for (size_t j = 0; j < t->nregions; j++)
			next |= t->regions[j].lo == r->hi;
		if (next || r->hi == 0 || region_skipped(c, r))
			continue;
		/* Nothing was mapped at r->hi. */
		gaps++;
		assert_false(image_mapped(c->img, r->hi, 1));
		assert_false(image_mapped(c->img, r->hi - 4, 8));
		uint8_t buf[8];
		struct err e = {0};
		if (r->perms[0] == 'r') {
			assert_int_equal(image_read(c->img, r->hi - 4, buf, 8, &e), ERR_FAULT);
			assert_int_equal(e.code, ERR_FAULT);
			assert_int_equal(e.addr, r->hi);
		}
	}
	assert_true(gaps >= 3);
	/* A read across two adjacent mappings is the two halves read apart
	 * (the pieces may come from the core, a file and the zeros past a
	 * file's end). */
	size_t joins = 0;
	for (size_t i = 0; i < t->nregions; i++)
		for (size_t j = 0; j < t->nregions; j++) {
			const struct region *a = &t->regions[i], *b = &t->regions[j];
			if (a->hi != b->lo || region_skipped(c, a) || region_skipped(c, b))
				continue;
			uint8_t whole[16], lo[8], hi[8];
			struct err e = {0};
			int rc = image_read(c->img, a->hi - 8, whole, 16, &e);
			if (image_missing(c->img, a->hi - 8, 16)) {
				/* a mapping the dumper wrote none of (the kernel
				 * skips a PROT_NONE guard and VM_DONTDUMP memory):
				 * a fault at its first byte, never zeros */
				assert_int_equal(rc, ERR_FAULT);
				assert_true(e.addr == (image_missing(c->img, a->hi - 8, 8) ? a->hi - 8 : a->hi));
				assert_non_null(strstr(e.msg, "not saved in core dump"));
				continue;
			}
			if (rc != 0)
				fail_msg("read across 0x%llx: %s", (unsigned long long)a->hi, e.msg);
			assert_int_equal(image_read(c->img, a->hi - 8, lo, 8, &e), 0);
			assert_int_equal(image_read(c->img, b->lo, hi, 8, &e), 0);
			assert_memory_equal(whole, lo, 8);
			assert_memory_equal(whole + 8, hi, 8);
			joins++;
		}
	assert_true(joins >= 5);
	uint8_t b;
	struct err e = {0};
	assert_int_equal(image_read(c->img, 0, &b, 1, &e), ERR_FAULT);
	assert_int_equal(e.addr, 0);
	assert_false(image_mapped(c->img, 0, 0));
	assert_false(image_mapped(c->img, UINT64_MAX - 3, 8)); /* wraps */
	assert_null(image_ptr(c->img, 0, 1));
}

static void test_segments_sorted(void **state)
{
	struct ctx *c = *state;
	size_t n = image_segment_count(c->img);
	assert_true(n > 5);
	for (size_t i = 0; i < n; i++) {
		const struct image_segment *s = image_segment(c->img, i);
		assert_true(s->start < s->end);
		assert_true(s->filesz <= s->end - s->start);
		if (i > 0)
			assert_true(image_segment(c->img, i - 1)->end <= s->start);
		assert_ptr_equal(image_segment_at(c->img, s->start), s);
		assert_ptr_equal(image_segment_at(c->img, s->end - 1), s);
	}
	assert_null(image_segment(c->img, n));
}

/* Neither dumper writes unmodified private file pages (gdb 13 honours
 * coredump_filter 0x33 like the kernel), so the deleted file's pages are a
 * fault that names the file, and present.dat comes from the file. */
static void test_gone_file(void **state)
{
	struct ctx *c = *state;
	const struct blob *g = &c->t->gone;
	assert_true(g->len > 0);
	uint8_t *got = malloc(g->len);
	struct err e = {0};
	assert_non_null(got);
	assert_int_equal(image_read(c->img, g->addr, got, g->len, &e), ERR_FAULT);
	assert_int_equal(e.addr, g->addr);
	assert_non_null(strstr(e.msg, "gone.dat"));
	assert_false(image_mapped(c->img, g->addr, 1));
	free(got);
	size_t present = 0;
	for (size_t i = 0; i < c->t->nmems; i++)
		if (strncmp(c->t->mems[i].label, "file_present", 12) == 0) {
			assert_null(image_ptr(c->img, c->t->mems[i].addr, 1));
			present++;
		}
	assert_int_equal(present, 2);
}

/* A library rebuilt since the snapshot: its text is refused, not read from
 * the new file, and the message says why. */
static void test_stale_library(void **state)
{
	struct ctx *c = *state;
	const struct blob *b = &c->t->stale;
	uint8_t got[64];
	struct err e = {0};
	assert_true(b->len > 0 && b->len <= sizeof got);
	assert_int_equal(image_read(c->img, b->addr, got, b->len, &e), ERR_FAULT);
	assert_int_equal(e.addr, b->addr);
	assert_non_null(strstr(e.msg, "libstale.so"));
	assert_non_null(strstr(e.msg, "not the file the process mapped"));
	assert_false(image_mapped(c->img, b->addr, 1));
	/* libc's text still reads: the check does not refuse a matching file. */
	for (size_t i = 0; i < c->t->nregions; i++) {
		const struct region *r = &c->t->regions[i];
		if (strstr(r->path, "/libc.so") && strcmp(r->perms, "r-xp") == 0)
			assert_int_equal(image_read(c->img, r->lo, got, sizeof got, &e), 0);
	}
}

/* A core without the executable's ELF header page (a dumper told not to
 * write it): the build-id cannot be checked, which is said, not fatal. */
static void test_no_header_page(void **state)
{
	struct ctx *c = *state;
	const struct region *first = NULL;
	for (size_t i = 0; i < c->t->nregions && !first; i++)
		if (strcmp(c->t->regions[i].path, c->exe) == 0)
			first = &c->t->regions[i];
	assert_non_null(first);
	/* The PT_LOAD holding that page, from the core's program headers. */
	FILE *f = fopen(c->core, "rb");
	assert_non_null(f);
	Elf64_Ehdr eh;
	assert_int_equal(fread(&eh, sizeof eh, 1, f), 1);
	uint64_t off = 0;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		assert_int_equal(fseek(f, (long)(eh.e_phoff + i * sizeof ph), SEEK_SET), 0);
		assert_int_equal(fread(&ph, sizeof ph, 1, f), 1);
		if (ph.p_type == PT_LOAD && ph.p_vaddr == first->lo && ph.p_filesz > 0)
			off = ph.p_offset;
	}
	fclose(f);
	assert_true(off != 0);
	char tmp[1200];
	tmp_path(tmp, sizeof tmp, "nohdr");
	copy_file(c->core, tmp);
	const uint32_t junk = 0;
	int fd = open(tmp, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, &junk, 4, (off_t)off), 4); /* the ELF magic */
	close(fd);
	struct image *img = NULL;
	struct err e = {0};
	if (image_open(&img, tmp, c->exe, &e) != 0)
		fail_msg("%s", e.msg);
	assert_string_equal(image_core_build_id(img), "");
	assert_non_null(strstr(image_build_id_check(img), "not checked"));
	assert_int_equal(image_bias(img), image_bias(c->img));
	image_close(img);
	unlink(tmp);
}

static void test_mismatch_refused(void **state)
{
	struct ctx *c = *state;
	char id[256], id2[256];
	struct image *img = (struct image *)1;
	struct err e = {0};
	read_id(c, "buildid.txt", id, sizeof id);
	read_id(c, "buildid2.txt", id2, sizeof id2);
	assert_int_equal(image_open(&img, c->core, c->exe2, &e), ERR_INPUT);
	assert_null(img);
	assert_int_equal(e.code, ERR_INPUT);
	assert_non_null(strstr(e.msg, "does not match"));
	assert_non_null(strstr(e.msg, id));
	assert_non_null(strstr(e.msg, id2));
	assert_non_null(strstr(e.msg, c->exe2));
}

static void test_truncated_refused(void **state)
{
	struct ctx *c = *state;
	char tmp[1200], want[64];
	tmp_path(tmp, sizeof tmp, "trunc");
	copy_file(c->core, tmp);
	uint64_t size = file_size(tmp) - 4096 - 1;
	assert_int_equal(truncate(tmp, (off_t)size), 0);
	struct image *img = NULL;
	struct err e = {0};
	assert_int_equal(image_open(&img, tmp, c->exe, &e), ERR_INPUT);
	assert_null(img);
	assert_non_null(strstr(e.msg, "core truncated"));
	snprintf(want, sizeof want, "file has %llu;", (unsigned long long)size);
	assert_non_null(strstr(e.msg, want));
	assert_non_null(strstr(e.msg, "re-take the snapshot"));
	unlink(tmp);
}

static void test_not_core_refused(void **state)
{
	struct ctx *c = *state;
	struct image *img = NULL;
	struct err e = {0};
	char truth[1200];
	assert_int_equal(image_open(&img, c->exe, c->exe, &e), ERR_INPUT);
	assert_null(img);
	assert_non_null(strstr(e.msg, "not a core"));
	path_of(truth, sizeof truth, c, "truth.txt");
	assert_int_equal(image_open(&img, truth, c->exe, &e), ERR_INPUT);
	assert_non_null(strstr(e.msg, "not an ELF core"));
	assert_int_equal(image_open(&img, "/nonexistent/core", c->exe, &e), ERR_INPUT);
	assert_non_null(strstr(e.msg, "/nonexistent/core"));
	/* The executable slot given a core. */
	assert_int_equal(image_open(&img, c->core, c->core, &e), ERR_INPUT);
	assert_null(img);
	assert_non_null(strstr(e.msg, "not an executable"));
}

/* Without an executable: no bias, no check, but reads still work (the file
 * NT_FILE recorded is still where it was). */
static void test_no_exe(void **state)
{
	struct ctx *c = *state;
	struct image *img = NULL;
	struct err e = {0};
	assert_int_equal(image_open(&img, c->core, NULL, &e), 0);
	assert_int_equal(image_bias(img), 0);
	assert_string_equal(image_exe_build_id(img), "");
	assert_non_null(strstr(image_build_id_check(img), "not checked"));
	assert_null(image_exe_path(img));
	const struct blob *b = &c->t->texts[0];
	uint8_t got[256];
	assert_int_equal(image_read(img, b->addr, got, b->len, &e), 0);
	assert_memory_equal(got, b->bytes, b->len);
	image_close(img);
}

static void patch(const char *path, uint64_t off, const void *p, size_t n);

/* A filtered core: the page holding a value the probe wrote (in memory no
 * file backs) is cut from its PT_LOAD, p_filesz ending just before it, as a
 * dump told not to write some memory leaves it.  The process had that page,
 * so it is still mapped, but what it held is unknown: reading it is a fault
 * naming the address ("memory not saved in core dump"), where the old reader
 * returned zeros; the zero-filling read gives zeros and counts every one;
 * the bytes before the cut still read as the probe wrote them. */
static void test_missing_page_faults(void **state)
{
	struct ctx *c = *state;
	const struct blob *b = NULL;
	const struct image_segment *s = NULL;
	for (size_t i = 0; i < c->t->nmems && !b; i++) {
		const struct image_segment *x = image_segment_at(c->img, c->t->mems[i].addr);
		if (x && !x->file && (x->flags & IMAGE_W) && c->t->mems[i].len &&
		    c->t->mems[i].addr + c->t->mems[i].len <= x->start + x->filesz) {
			b = &c->t->mems[i];
			s = x;
		}
	}
	if (!b)
		fail_msg("no value of the probe lies in anonymous memory the core holds");
	uint64_t page = b->addr & ~(uint64_t)4095;
	/* the PT_LOAD's header, from the core's program headers */
	FILE *f = fopen(c->core, "rb");
	assert_non_null(f);
	Elf64_Ehdr eh;
	assert_int_equal(fread(&eh, sizeof eh, 1, f), 1);
	uint64_t ph_off = 0;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		uint64_t at = eh.e_phoff + i * sizeof ph;
		assert_int_equal(fseek(f, (long)at, SEEK_SET), 0);
		assert_int_equal(fread(&ph, sizeof ph, 1, f), 1);
		if (ph.p_type == PT_LOAD && ph.p_vaddr == s->start && ph.p_filesz == s->filesz)
			ph_off = at;
	}
	fclose(f);
	assert_true(ph_off != 0);
	char tmp[1200];
	tmp_path(tmp, sizeof tmp, "filtered");
	copy_file(c->core, tmp);
	uint64_t filesz = page - s->start;
	patch(tmp, ph_off + offsetof(Elf64_Phdr, p_filesz), &filesz, sizeof filesz);

	struct image *img = NULL;
	struct err e = {0};
	if (image_open(&img, tmp, c->exe, &e) != 0)
		fail_msg("%s", e.msg);
	uint8_t got[512], before[8];
	size_t len = b->len < sizeof got ? b->len : sizeof got;
	assert_true(image_mapped(img, b->addr, len));
	assert_int_equal(image_missing(img, page, 4096), 4096);
	assert_int_equal(image_read(img, b->addr, got, len, &e), ERR_FAULT);
	assert_int_equal(e.code, ERR_FAULT);
	assert_true(e.addr == b->addr);
	if (!strstr(e.msg, "not saved in core dump"))
		fail_msg("fault message: %s", e.msg);
	uint64_t v;
	assert_int_equal(image_read_u64(img, page, &v, &e), ERR_FAULT);
	uint64_t missing = 99;
	memset(got, 0xa5, sizeof got);
	assert_int_equal(image_read_zerofill(img, b->addr, got, len, &missing, &e), 0);
	assert_int_equal(missing, len);
	for (size_t i = 0; i < len; i++)
		assert_int_equal(got[i], 0);
	if (page > s->start) {
		/* across the cut: the 8 bytes before it are the core's */
		assert_int_equal(image_read(img, page - 8, got, 16, &e), ERR_FAULT);
		assert_true(e.addr == page);
		assert_int_equal(image_read_zerofill(img, page - 8, got, 16, &missing, &e), 0);
		assert_int_equal(missing, 8);
		assert_int_equal(image_read(c->img, page - 8, before, 8, &e), 0);
		assert_memory_equal(got, before, 8);
		assert_int_equal(image_read(img, page - 8, got, 8, &e), 0);
		assert_memory_equal(got, before, 8);
	}
	/* the unfiltered core still holds the value */
	assert_int_equal(image_read(c->img, b->addr, got, len, &e), 0);
	assert_memory_equal(got, b->bytes, len);
	assert_int_equal(image_read_zerofill(c->img, b->addr, got, len, &missing, &e), 0);
	assert_int_equal(missing, 0);
	assert_memory_equal(got, b->bytes, len);
	image_close(img);
	unlink(tmp);
}

/* File offset of a link-time address in an ELF file (its PT_LOAD). */
static uint64_t file_offset_of(const char *path, uint64_t vaddr)
{
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	elf_version(EV_CURRENT);
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	assert_non_null(elf);
	size_t n;
	assert_int_equal(elf_getphdrnum(elf, &n), 0);
	uint64_t off = UINT64_MAX;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr p;
		assert_non_null(gelf_getphdr(elf, (int)i, &p));
		if (p.p_type == PT_LOAD && vaddr >= p.p_vaddr && vaddr - p.p_vaddr < p.p_filesz)
			off = p.p_offset + (vaddr - p.p_vaddr);
	}
	elf_end(elf);
	close(fd);
	assert_true(off != UINT64_MAX);
	return off;
}

/* A core read next to a copy of its executable at another path: text comes
 * from the copy given, not from the path the core recorded.  The copy's code
 * bytes are changed (its build-id note is not), so they tell the two apart. */
static void test_exe_given_backs_text(void **state)
{
	struct ctx *c = *state;
	char moved[1200];
	const struct blob *b = &c->t->texts[0];
	tmp_path(moved, sizeof moved, "moved-exe");
	copy_file(c->exe, moved);
	uint64_t off = file_offset_of(moved, nm_addr(c, b->label));
	FILE *f = fopen(moved, "r+b");
	assert_non_null(f);
	uint8_t flipped[4];
	for (int i = 0; i < 4; i++)
		flipped[i] = (uint8_t)(b->bytes[i] ^ 0xff);
	assert_int_equal(fseek(f, (long)off, SEEK_SET), 0);
	assert_int_equal(fwrite(flipped, 1, 4, f), 4);
	assert_int_equal(fclose(f), 0);

	struct image *img = NULL;
	struct err e = {0};
	if (image_open(&img, c->core, moved, &e) != 0)
		fail_msg("%s", e.msg);
	uint8_t got[4];
	assert_int_equal(image_read(img, b->addr, got, 4, &e), 0);
	assert_memory_equal(got, flipped, 4);
	assert_int_equal(image_bias(img), image_bias(c->img));
	image_close(img);
	unlink(moved);
}

/* ---- robustness: damaged copies of a core open cleanly or fail cleanly ---- */

static int open_damaged(const char *path, const char *exe)
{
	struct image *img = NULL;
	struct err e = {0};
	int rc = image_open(&img, path, exe, &e);
	if (rc == 0) {
		/* Whatever opened must read without crashing. */
		uint8_t buf[64];
		for (size_t i = 0; i < image_segment_count(img); i++) {
			const struct image_segment *s = image_segment(img, i);
			(void)image_read(img, s->start, buf, sizeof buf, &e);
			(void)image_mapped(img, s->start, s->end - s->start);
		}
		for (size_t i = 0; i < image_thread_count(img); i++)
			(void)image_read(img, image_thread(img, i)->rsp, buf, sizeof buf, &e);
		image_close(img);
	} else {
		assert_null(img);
		assert_true(e.msg[0] != '\0');
	}
	return rc;
}

static void patch(const char *path, uint64_t off, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, p, n, (off_t)off), (ssize_t)n);
	close(fd);
}

struct damage_target {
	uint64_t phoff;
	uint16_t phnum;
	uint64_t note_off, note_size; /* the first PT_NOTE */
	uint64_t load_ph;             /* offset of the first PT_LOAD's header */
	uint64_t nt_file_desc;        /* offset of NT_FILE's descriptor */
};

static struct damage_target find_targets(const char *core)
{
	struct damage_target d = {0};
	char *s = NULL;
	FILE *f = fopen(core, "rb");
	assert_non_null(f);
	Elf64_Ehdr eh;
	assert_int_equal(fread(&eh, sizeof eh, 1, f), 1);
	d.phoff = eh.e_phoff;
	d.phnum = eh.e_phnum;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		assert_int_equal(fseek(f, (long)(eh.e_phoff + i * sizeof ph), SEEK_SET), 0);
		assert_int_equal(fread(&ph, sizeof ph, 1, f), 1);
		if (ph.p_type == PT_NOTE && !d.note_off) {
			d.note_off = ph.p_offset;
			d.note_size = ph.p_filesz;
		}
		if (ph.p_type == PT_LOAD && !d.load_ph)
			d.load_ph = eh.e_phoff + i * sizeof ph;
	}
	assert_true(d.note_off && d.load_ph);
	s = malloc(d.note_size);
	assert_non_null(s);
	assert_int_equal(fseek(f, (long)d.note_off, SEEK_SET), 0);
	assert_int_equal(fread(s, 1, d.note_size, f), d.note_size);
	fclose(f);
	for (uint64_t o = 0; o + 12 <= d.note_size;) {
		uint32_t nsz, dsz, type;
		memcpy(&nsz, s + o, 4);
		memcpy(&dsz, s + o + 4, 4);
		memcpy(&type, s + o + 8, 4);
		uint64_t desc = o + 12 + ((nsz + 3u) & ~3u);
		if (type == 0x46494c45)
			d.nt_file_desc = d.note_off + desc;
		o = desc + ((dsz + 3u) & ~3u);
	}
	free(s);
	assert_true(d.nt_file_desc != 0);
	return d;
}

static void test_damaged_cores(void **state)
{
	struct ctx *c = *state;
	char tmp[1200];
	tmp_path(tmp, sizeof tmp, "damaged");
	struct damage_target d = find_targets(c->core);
	const uint64_t huge = 0x7fffffffffffffffULL;
	const uint32_t huge32 = 0xfffffff0u;

	/* p_filesz huge: the truncated-core error. */
	copy_file(c->core, tmp);
	patch(tmp, d.load_ph + offsetof(Elf64_Phdr, p_filesz), &huge, 8);
	assert_int_equal(open_damaged(tmp, c->exe), ERR_INPUT);
	/* p_vaddr + p_memsz wrapping. */
	copy_file(c->core, tmp);
	patch(tmp, d.load_ph + offsetof(Elf64_Phdr, p_memsz), &huge, 8);
	uint64_t high = 0xffffffff00000000ULL;
	patch(tmp, d.load_ph + offsetof(Elf64_Phdr, p_vaddr), &high, 8);
	assert_int_equal(open_damaged(tmp, c->exe), ERR_INPUT);
	/* The first note's namesz, then its descsz, huge. */
	copy_file(c->core, tmp);
	patch(tmp, d.note_off, &huge32, 4);
	assert_int_equal(open_damaged(tmp, c->exe), ERR_INPUT);
	copy_file(c->core, tmp);
	patch(tmp, d.note_off + 4, &huge32, 4);
	assert_int_equal(open_damaged(tmp, c->exe), ERR_INPUT);
	/* NT_FILE's count huge, then its page size 0. */
	copy_file(c->core, tmp);
	patch(tmp, d.nt_file_desc, &huge, 8);
	assert_int_equal(open_damaged(tmp, c->exe), ERR_INPUT);
	copy_file(c->core, tmp);
	uint64_t zero = 0;
	patch(tmp, d.nt_file_desc + 8, &zero, 8);
	assert_int_equal(open_damaged(tmp, c->exe), ERR_INPUT);
	/* e_phoff past the end, e_phnum huge. */
	copy_file(c->core, tmp);
	patch(tmp, offsetof(Elf64_Ehdr, e_phoff), &huge, 8);
	assert_int_equal(open_damaged(tmp, c->exe), ERR_INPUT);
	copy_file(c->core, tmp);
	uint16_t many = 0xfffe;
	patch(tmp, offsetof(Elf64_Ehdr, e_phnum), &many, 2);
	assert_int_equal(open_damaged(tmp, c->exe), ERR_INPUT);

	/* Random bytes over the headers and notes (fixed seed: repeatable). */
	uint64_t span = d.note_off + d.note_size;
	uint32_t seed = 12345;
	for (int round = 0; round < 40; round++) {
		copy_file(c->core, tmp);
		int fd = open(tmp, O_WRONLY);
		assert_true(fd >= 0);
		for (int k = 0; k < 16; k++) {
			seed = seed * 1103515245u + 12345u;
			uint64_t off = (seed >> 4) % span;
			seed = seed * 1103515245u + 12345u;
			uint8_t v = (uint8_t)(seed >> 16);
			assert_int_equal(pwrite(fd, &v, 1, (off_t)off), 1);
		}
		close(fd);
		(void)open_damaged(tmp, c->exe);
		(void)open_damaged(tmp, NULL);
	}
	unlink(tmp);
}

/* ---- main ---- */

static const struct tcase cases[] = {
	{"c", "gcore"}, {"c", "kcore"}, {"rust", "gcore"}, {"rust", "kcore"},
};

struct named_test {
	const char *name;
	CMUnitTestFunction fn;
	const char *only_probe; /* NULL: every probe */
};

static const struct named_test tests[] = {
	{"kind_and_build_id", test_kind_and_build_id, NULL},
	{"values", test_values, NULL},
	{"ptr_and_helpers", test_ptr_and_helpers, NULL},
	{"window_and_pread", test_window_and_pread, NULL},
	{"statics_through_bias", test_statics_through_bias, NULL},
	{"text_from_file", test_text_from_file, NULL},
	{"threads", test_threads, NULL},
	{"mapped_edges", test_mapped_edges, NULL},
	{"segments_sorted", test_segments_sorted, NULL},
	{"gone_file", test_gone_file, "c"}, /* only the C probe maps files */
	{"stale_library", test_stale_library, "c"},
	{"no_header_page", test_no_header_page, NULL},
	{"mismatch_refused", test_mismatch_refused, NULL},
	{"truncated_refused", test_truncated_refused, NULL},
	{"not_core_refused", test_not_core_refused, NULL},
	{"no_exe", test_no_exe, NULL},
	{"missing_page_faults", test_missing_page_faults, NULL},
	{"exe_given_backs_text", test_exe_given_backs_text, NULL},
	{"damaged_cores", test_damaged_cores, NULL},
};

#define NCASES (sizeof cases / sizeof cases[0])
#define NTESTS (sizeof tests / sizeof tests[0])

int main(void)
{
	struct CMUnitTest all[NCASES * NTESTS];
	char names[NCASES * NTESTS][96];
	size_t n = 0;

	for (size_t t = 0; t < NTESTS; t++)
		for (size_t k = 0; k < NCASES; k++) {
			if (tests[t].only_probe && strcmp(tests[t].only_probe, cases[k].probe) != 0)
				continue;
			snprintf(names[n], sizeof names[n], "%s/%s/%s", tests[t].name, cases[k].probe,
				 cases[k].core);
			all[n] = (struct CMUnitTest){names[n], tests[t].fn, ctx_setup, ctx_teardown,
						     (void *)&cases[k]};
			n++;
		}
	return _cmocka_run_group_tests("image", all, n, NULL, NULL);
}
