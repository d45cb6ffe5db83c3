/* test_profile_hostile.c: the core is hostile input.  Every fixture core
 * present (the generic one always, beava-sim snapshots when built) is copied
 * to /tmp with deterministic, seeded damage inside its writable PT_LOAD
 * contents (where the heap and the statics live): flipped bytes, pointer-sized
 * words overwritten with wild values (null, one, all-ones, just past a
 * segment, another allocation's address, self and near-self pointers that
 * make cycles, huge lengths), truncation, and zeroed pages.  The tool runs on
 * each copy under `timeout 60`, a virtual-memory cap (not under ASan, which
 * reserves terabytes of shadow) and sanitizer options that turn any report
 * into a distinctive exit status.  It must exit 0, 2 or 3, never 1 (usage),
 * 98 (UBSan), 99 (ASan), 124 (hang) or by a signal; an exit 2 must say so on
 * exactly one stderr line starting "aggop-inspect: "; an exit 0 must leave a
 * JSON profile jansson can parse.  A copy that fails is kept in /tmp (the
 * first few per kind) and its reproducer command printed.  Environment:
 * AGGOP_HOSTILE_VERBOSE=1 prints every run's outcome; HOSTILE_TIMEOUT
 * replaces the 60 s limit per run.
 *
 * The segments are found by parsing the core's own program headers here with
 * <elf.h>, independently of the tool's image layer.  Runs go two at a time
 * (the machine has two cores); the beava-sim snapshots, much larger than the
 * generic core, get fewer seeds, sized from a clean run's time, so that the
 * whole test stays near a minute in the ASan build. */
#include <elf.h>
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "tool_run.h"

#define MAX_CORES 8
#define MAX_SEGS 4096
#define MAX_PTRS 65536
#define WORKERS 2
#define PAGE 4096
#define MAX_KEPT 4 /* damaged copies kept per kind when runs fail */

/* Seeds per kind of damage on the generic core (a 0.7 MB core; a run takes
 * about 0.25 s in the ASan build). */
#define GENERIC_FLIPS 30
#define GENERIC_WILD 30
#define GENERIC_ZERO 10
/* Wall-clock seconds all beava-sim cores together may spend per kind of
 * damage; a damaged run is costed at twice a clean one (damage takes slower
 * paths, and the copy is written first). */
#define SIM_BUDGET_S 6.0
#define SIM_DAMAGED_COST 2.0
#define SIM_MIN_SEEDS 1

enum kind { K_CLEAN, K_FLIP, K_WILD, K_TRUNC, K_ZERO };
static const char *const kind_name[] = {"clean", "flip", "wild", "trunc", "zero"};

struct seg {
	uint64_t off, vaddr, filesz, memsz;
	bool anon; /* no file behind it in NT_FILE: the heap, stacks, anonymous mmaps */
};

struct core {
	char name[64], core[600], exe[600], args[128];
	const unsigned char *map;
	size_t size;
	struct seg w[MAX_SEGS]; /* writable PT_LOADs with file contents */
	size_t nw;
	uint64_t wbytes;	/* sum of their file sizes */
	uint64_t *ptrs;		/* file offsets of words that point into a writable segment */
	size_t nptrs;
	size_t nanon;		/* the first nanon of ptrs lie in, and point into, anonymous segments */
	uint64_t phend, notes_mid; /* end of the program headers; middle of the first PT_NOTE */
	double clean_s;		/* wall time of a clean run, from test_clean_copy */
};

struct job {
	const struct core *c;
	enum kind k;
	unsigned seed;
	pid_t pid;
	double t0; /* when it started */
	char copy[256], err[256], md[256], json[256];
};

static struct core cores[MAX_CORES];
static size_t ncores;
static char bin[1024];
static bool asan;

/* splitmix64: a fixed, portable stream per (core, kind, seed). */
static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t below(uint64_t *s, uint64_t n)
{
	return n ? rnd(s) % n : 0;
}

static uint64_t seed_of(const struct core *c, enum kind k, unsigned seed)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a over the core's name */
	for (const char *p = c->name; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return h ^ ((uint64_t)k << 40) ^ seed;
}

static bool in_file(const struct core *c, uint64_t off, uint64_t len)
{
	return off <= c->size && len <= c->size - off;
}

static bool writable_vaddr(const struct core *c, uint64_t a)
{
	for (size_t i = 0; i < c->nw; i++)
		if (a >= c->w[i].vaddr && a - c->w[i].vaddr < c->w[i].filesz)
			return true;
	return false;
}

/* The program header count, through section 0 when it overflows (PN_XNUM, elf(5)). */
static uint64_t phnum_of(const struct core *c, const Elf64_Ehdr *eh)
{
	if (eh->e_phnum != PN_XNUM)
		return eh->e_phnum;
	if (!eh->e_shoff || !in_file(c, eh->e_shoff, sizeof(Elf64_Shdr)))
		return 0;
	Elf64_Shdr sh;
	memcpy(&sh, c->map + eh->e_shoff, sizeof sh);
	return sh.sh_info;
}

/* Marks the writable segments no NT_FILE entry covers (the note layout is
 * the kernel's fill_files_note(): count, page size, count x {start, end,
 * page offset}, then the names). */
static void mark_anonymous(struct core *c, uint64_t off, uint64_t len)
{
	for (size_t i = 0; i < c->nw; i++)
		c->w[i].anon = true;
	uint64_t end = off + len;
	while (off + sizeof(Elf64_Nhdr) <= end) {
		Elf64_Nhdr nh;
		memcpy(&nh, c->map + off, sizeof nh);
		uint64_t name = off + sizeof nh, desc = name + ((nh.n_namesz + 3ULL) & ~3ULL);
		uint64_t next = desc + ((nh.n_descsz + 3ULL) & ~3ULL);
		if (next > end || next <= off)
			return;
		if (nh.n_type == NT_FILE && nh.n_descsz >= 16) {
			uint64_t count;
			memcpy(&count, c->map + desc, 8);
			for (uint64_t k = 0; k < count && desc + 16 + 24 * (k + 1) <= next; k++) {
				uint64_t r[2];
				memcpy(r, c->map + desc + 16 + 24 * k, 16);
				for (size_t i = 0; i < c->nw; i++)
					if (c->w[i].vaddr < r[1] && r[0] < c->w[i].vaddr + c->w[i].memsz)
						c->w[i].anon = false;
			}
		}
		off = next;
	}
}

static bool anon_vaddr(const struct core *c, uint64_t a)
{
	for (size_t i = 0; i < c->nw; i++)
		if (a >= c->w[i].vaddr && a - c->w[i].vaddr < c->w[i].filesz)
			return c->w[i].anon;
	return false;
}

static int parse_segments(struct core *c)
{
	Elf64_Ehdr eh;
	if (!in_file(c, 0, sizeof eh))
		return -1;
	memcpy(&eh, c->map, sizeof eh);
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_type != ET_CORE)
		return -1;
	uint64_t n = phnum_of(c, &eh);
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || n > c->size / sizeof(Elf64_Phdr) ||
	    !in_file(c, eh.e_phoff, n * sizeof(Elf64_Phdr)))
		return -1;
	c->phend = eh.e_phoff + n * sizeof(Elf64_Phdr);
	uint64_t note_off = 0, note_len = 0;
	for (uint64_t i = 0; i < n; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, c->map + eh.e_phoff + i * sizeof ph, sizeof ph);
		if (ph.p_type == PT_NOTE && !c->notes_mid && in_file(c, ph.p_offset, ph.p_filesz)) {
			c->notes_mid = ph.p_offset + ph.p_filesz / 2;
			note_off = ph.p_offset;
			note_len = ph.p_filesz;
		}
		if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_W) || ph.p_filesz < 8 ||
		    !in_file(c, ph.p_offset, ph.p_filesz) || c->nw == MAX_SEGS)
			continue;
		c->w[c->nw++] = (struct seg){ph.p_offset, ph.p_vaddr, ph.p_filesz, ph.p_memsz, false};
		c->wbytes += ph.p_filesz;
	}
	mark_anonymous(c, note_off, note_len);
	return c->nw ? 0 : -1;
}

/* Words that hold an address inside a writable segment: the core's real
 * pointers (Box, Vec buffers, map tables, ...), what damage hurts most.  The
 * ones inside and into anonymous memory (the heap, where the walk goes) come
 * first; glibc's own state (main_arena's bins point at themselves) lives in
 * libc's file-backed data and would otherwise take most of the sample. */
static void sample_pointers(struct core *c, bool anon, size_t cap, uint64_t *s)
{
	uint64_t seen = 0;
	size_t base = c->nptrs;
	for (size_t i = 0; i < c->nw; i++) {
		const struct seg *g = &c->w[i];
		if (g->anon != anon)
			continue;
		for (uint64_t o = g->off; o + 8 <= g->off + g->filesz; o += 8) {
			uint64_t v;
			memcpy(&v, c->map + o, 8);
			if (v < 0x10000 || (v & 7) || !writable_vaddr(c, v) || anon_vaddr(c, v) != anon)
				continue;
			/* reservoir sampling keeps a uniform sample of a big core's pointers */
			if (c->nptrs - base < cap)
				c->ptrs[c->nptrs++] = o;
			else if (below(s, seen + 1) < cap)
				c->ptrs[base + below(s, cap)] = o;
			seen++;
		}
	}
}

static void collect_pointers(struct core *c)
{
	c->ptrs = malloc(MAX_PTRS * sizeof *c->ptrs);
	assert_non_null(c->ptrs);
	uint64_t s = seed_of(c, K_CLEAN, 0);
	sample_pointers(c, true, MAX_PTRS / 2, &s);
	c->nanon = c->nptrs;
	sample_pointers(c, false, MAX_PTRS - c->nptrs, &s);
}

static bool add_core(const char *name, const char *dir, const char *exe, const char *args)
{
	if (ncores == MAX_CORES)
		return false;
	struct core *c = &cores[ncores];
	memset(c, 0, sizeof *c);
	snprintf(c->name, sizeof c->name, "%s", name);
	snprintf(c->core, sizeof c->core, "%.500s/core", dir);
	snprintf(c->exe, sizeof c->exe, "%.500s/%.90s", dir, exe);
	snprintf(c->args, sizeof c->args, "%s", args);
	if (access(c->core, R_OK) != 0 || access(c->exe, R_OK) != 0)
		return false;
	int fd = open(c->core, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0 || st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	c->size = (size_t)st.st_size;
	void *m = mmap(NULL, c->size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return false;
	c->map = m;
	if (parse_segments(c) != 0) {
		munmap(m, c->size);
		return false;
	}
	collect_pointers(c);
	ncores++;
	return true;
}

static void add_snapshots(void)
{
	char d[512];
	snprintf(d, sizeof d, "%s/sim-fresh", fixdir());
	add_core("sim-fresh", d, "beava-sim", "");
	snprintf(d, sizeof d, "%s/snapshots", fixdir());
	DIR *dir = opendir(d);
	struct dirent *de;
	while (dir && (de = readdir(dir))) {
		char s[700], name[64];
		if (de->d_name[0] == '.')
			continue;
		snprintf(s, sizeof s, "%.500s/%.100s", d, de->d_name);
		snprintf(name, sizeof name, "snap-%.40s", de->d_name);
		add_core(name, s, "beava-sim", "");
	}
	if (dir)
		closedir(dir);
}

static int setup(void **state)
{
	(void)state;
	snprintf(bin, sizeof bin, "%s", getenv("BIN") ? getenv("BIN") : "./aggop-inspect");
	asan = strstr(bin, "asan") != NULL;
	char d[512];
	snprintf(d, sizeof d, "%s/generic", fixdir());
	if (!add_core("generic", d, "shapes", "--root TABLE --enum Shape"))
		return -1;
	add_snapshots();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < ncores; i++) {
		munmap((void *)cores[i].map, cores[i].size);
		free(cores[i].ptrs);
	}
	return 0;
}

/* ---- damage ---- */

/* A writable segment, chosen in proportion to size; anon_only restricts the
 * choice to the anonymous ones (the heap) when there are any. */
static const struct seg *pick_seg(const struct core *c, uint64_t *s, bool anon_only)
{
	uint64_t total = 0;
	for (size_t i = 0; i < c->nw; i++)
		total += !anon_only || c->w[i].anon ? c->w[i].filesz : 0;
	if (!total)
		return pick_seg(c, s, false);
	uint64_t at = below(s, total);
	for (size_t i = 0; i < c->nw; i++) {
		if (anon_only && !c->w[i].anon)
			continue;
		if (at < c->w[i].filesz)
			return &c->w[i];
		at -= c->w[i].filesz;
	}
	return &c->w[c->nw - 1];
}

static uint64_t vaddr_of(const struct core *c, uint64_t off)
{
	for (size_t i = 0; i < c->nw; i++)
		if (off >= c->w[i].off && off - c->w[i].off < c->w[i].filesz)
			return c->w[i].vaddr + (off - c->w[i].off);
	return 0;
}

static void put64(unsigned char *buf, uint64_t off, uint64_t v)
{
	memcpy(buf + off, &v, 8);
}

static void damage_flips(const struct core *c, unsigned char *buf, uint64_t *s)
{
	uint64_t n = 1 + below(s, 200);
	for (uint64_t i = 0; i < n; i++) {
		const struct seg *g = pick_seg(c, s, false);
		buf[g->off + below(s, g->filesz)] ^= (unsigned char)(1 + below(s, 255));
	}
}

/* A wild value for the word at file offset off whose old value is v. */
static uint64_t wild_value(const struct core *c, uint64_t off, uint64_t v, uint64_t *s)
{
	uint64_t a = vaddr_of(c, off);
	const struct seg *g = &c->w[below(s, c->nw)];
	switch (below(s, 10)) {
	case 0: return 0;
	case 1: return 1;
	case 2: return ~0ULL;
	case 3: return g->vaddr + g->memsz + 8 * below(s, 4); /* just past a segment */
	case 4: { /* another allocation: some other real pointer's target */
		uint64_t o = c->nptrs ? c->ptrs[below(s, c->nptrs)] : off, w;
		memcpy(&w, c->map + o, 8);
		return w;
	}
	case 5: return a; /* points at itself */
	case 6: return a - 8 * below(s, 8); /* at the object holding it: a cycle */
	case 7: return v + 8 * (1 + below(s, 64)); /* an interior pointer */
	case 8: { /* a length or capacity gone huge */
		static const uint64_t big[] = {0x7fffffffffffffffULL, 1ULL << 40, 1ULL << 32, 0xffffffffULL,
					       (1ULL << 62) + 1};
		return big[below(s, 5)];
	}
	default: return v ^ (1ULL << below(s, 64));
	}
}

static void damage_wild(const struct core *c, unsigned char *buf, uint64_t *s)
{
	uint64_t n = 1 + below(s, 64);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t off;
		uint64_t r = below(s, 8);
		if (r < 6 && c->nptrs) {
			/* mostly real pointers of the heap, and the length/capacity
			 * words next to them; now and then any other pointer */
			size_t pool = r < 5 && c->nanon ? c->nanon : c->nptrs;
			off = c->ptrs[below(s, pool)] + 8 * below(s, 3);
			if (!in_file(c, off, 8))
				continue;
		} else {
			const struct seg *g = pick_seg(c, s, false);
			off = g->off + 8 * below(s, g->filesz / 8);
		}
		uint64_t v;
		memcpy(&v, c->map + off, 8);
		put64(buf, off, wild_value(c, off, v, s));
	}
}

static void damage_zero(const struct core *c, unsigned char *buf, uint64_t *s)
{
	uint64_t n = 1 + below(s, 4);
	for (uint64_t i = 0; i < n; i++) {
		const struct seg *g = pick_seg(c, s, below(s, 4) != 0);
		/* the segments start page-aligned in memory, not necessarily in the file */
		uint64_t pages = (g->filesz + PAGE - 1) / PAGE, p = below(s, pages) * PAGE;
		uint64_t len = g->filesz - p < PAGE ? g->filesz - p : PAGE;
		memset(buf + g->off + p, 0, len);
	}
}

/* Truncation points, the likeliest to reach deep code first (a core with few
 * seeds gets those): inside a writable segment, in the notes, one byte
 * short, inside the program headers, inside the ELF header, empty; then more
 * points inside segments. */
static uint64_t trunc_at(const struct core *c, unsigned seed)
{
	const uint64_t fixed[] = {c->notes_mid, c->size - 1, c->phend > 8 ? c->phend - 8 : 1, 40, 0};
	if (seed >= 1 && seed <= sizeof fixed / sizeof fixed[0])
		return fixed[seed - 1];
	uint64_t s = seed_of(c, K_TRUNC, seed);
	const struct seg *g = pick_seg(c, &s, false);
	return g->off + below(&s, g->filesz);
}

#define TRUNC_FIXED 6 /* the random point 0 and the five fixed ones */

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Writes the damaged copy: unchanged bytes come from the mapping, the damaged
 * ones from a private copy-on-write mapping of the same file, so a big core
 * costs only the pages touched. */
static int write_copy(const struct job *j)
{
	const struct core *c = j->c;
	size_t len = c->size;
	if (j->k == K_TRUNC)
		len = trunc_at(c, j->seed);
	int in = open(c->core, O_RDONLY);
	if (in < 0)
		return -1;
	unsigned char *buf = mmap(NULL, c->size, PROT_READ | PROT_WRITE, MAP_PRIVATE, in, 0);
	close(in);
	if (buf == MAP_FAILED)
		return -1;
	uint64_t s = seed_of(c, j->k, j->seed);
	if (j->k == K_FLIP)
		damage_flips(c, buf, &s);
	else if (j->k == K_WILD)
		damage_wild(c, buf, &s);
	else if (j->k == K_ZERO)
		damage_zero(c, buf, &s);
	int fd = open(j->copy, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int rc = fd < 0 ? -1 : write_all(fd, buf, len);
	if (fd >= 0 && close(fd) != 0)
		rc = -1;
	munmap(buf, c->size);
	return rc;
}

/* ---- running ---- */

static void job_paths(struct job *j)
{
	char stem[160];
	snprintf(stem, sizeof stem, "/tmp/aggop-hostile-%d-%s-%s-%u", (int)getpid(), j->c->name, kind_name[j->k], j->seed);
	snprintf(j->copy, sizeof j->copy, "%s.core", stem);
	snprintf(j->err, sizeof j->err, "%s.err", stem);
	snprintf(j->md, sizeof j->md, "%s.md", stem);
	snprintf(j->json, sizeof j->json, "%s.json", stem);
}

static unsigned long long vmem_cap_kb(const struct core *c)
{
	/* 4 GiB of working room plus the core, which the tool may map whole */
	return (4ULL << 20) + c->size / 1024;
}

/* In the child: damage the copy, then exec the tool under timeout and limits. */
static void child_run(const struct job *j)
{
	if (write_copy(j) != 0)
		_exit(97);
	char cmd[4096], lim[64] = "";
	if (!asan)
		snprintf(lim, sizeof lim, "ulimit -v %llu; ", vmem_cap_kb(j->c));
	snprintf(cmd, sizeof cmd, "ulimit -c 0; %sexec timeout ${HOSTILE_TIMEOUT:-60} '%s' '%s' '%s' %s -q -o '%s' --json '%s' 2>'%s'", lim,
		 bin, j->copy, j->c->exe, j->c->args, j->md, j->json, j->err);
	setenv("ASAN_OPTIONS", "exitcode=99:detect_leaks=1", 1);
	setenv("UBSAN_OPTIONS", "halt_on_error=1:exitcode=98", 1);
	execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
	_exit(97);
}

static bool one_error_line(const char *path, char *text, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(text, 1, size - 1, f) : 0;
	text[n] = 0;
	if (f)
		fclose(f);
	const char *nl = strchr(text, '\n');
	return strncmp(text, "aggop-inspect: ", 15) == 0 && nl && nl[1] == 0;
}

static void cleanup(const struct job *j, bool keep_copy)
{
	if (!keep_copy)
		unlink(j->copy);
	unlink(j->err);
	unlink(j->md);
	unlink(j->json);
}

/* Checks one finished run; returns true when it behaved. */
static bool judge(const struct job *j, int st, double secs, int *rc_out)
{
	char text[4096];
	int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	*rc_out = rc;
	bool ok = rc == 0 || rc == 2 || rc == 3;
	const char *why = ok ? NULL : "exit status";
	bool lines = one_error_line(j->err, text, sizeof text);
	if (ok && rc == 2 && !lines) {
		ok = false;
		why = "exit 2 without exactly one 'aggop-inspect: ' line on stderr";
	}
	if (ok && rc == 0) {
		json_error_t je;
		json_t *js = json_load_file(j->json, 0, &je);
		if (!js) {
			ok = false;
			why = "exit 0 but the JSON profile does not parse";
		} else if (getenv("AGGOP_HOSTILE_VERBOSE")) {
			snprintf(text, sizeof text, "ops %lld allocations %lld unreadable %lld revisits %lld\n",
				 jint(js, "totals.ops"), jint(js, "walk.allocations"), jint(js, "walk.unreadable"),
				 jint(js, "walk.revisits"));
		}
		json_decref(js);
	}
	if (getenv("AGGOP_HOSTILE_VERBOSE"))
		print_message("%s %s seed %u: rc %d %.2f s: %.1000s%s", j->c->name, kind_name[j->k], j->seed, rc, secs, text,
			      strchr(text, '\n') ? "" : "\n");
	if (!ok) {
		print_message("FAIL %s %s seed %u: rc %d (%s) after %.1f s; copy %s\n  reproduce: %s %s %s %s -q -o /tmp/x.md "
			      "--json /tmp/x.json\n  stderr: %.1500s\n",
			      j->c->name, kind_name[j->k], j->seed, rc, why, secs, j->copy, bin, j->copy, j->c->exe,
			      j->c->args, text);
	}
	return ok;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

struct tally {
	unsigned runs, bad, by_rc[4];
};

/* Runs jobs[0..n) WORKERS at a time; returns how many misbehaved. */
static unsigned run_jobs(struct job *jobs, size_t n, struct tally *t)
{
	size_t next = 0, running = 0;
	while (next < n || running) {
		while (running < WORKERS && next < n) {
			struct job *j = &jobs[next];
			job_paths(j);
			j->t0 = now_s();
			fflush(NULL);
			j->pid = fork();
			assert_true(j->pid >= 0);
			if (j->pid == 0)
				child_run(j);
			next++;
			running++;
		}
		int st;
		pid_t p = waitpid(-1, &st, 0);
		if (p < 0)
			break;
		for (size_t i = 0; i < next; i++) {
			if (jobs[i].pid != p)
				continue;
			int rc;
			bool ok = judge(&jobs[i], st, now_s() - jobs[i].t0, &rc);
			t->runs++;
			t->bad += !ok;
			t->by_rc[rc == 0 ? 0 : rc == 2 ? 1 : rc == 3 ? 2 : 3]++;
			/* a few failing copies are enough to debug, and sim cores are big */
			cleanup(&jobs[i], !ok && t->bad <= MAX_KEPT);
			jobs[i].pid = 0;
			running--;
		}
	}
	return t->bad;
}

/* How many seeds a core gets for one kind of damage: fixed on the generic
 * core; on beava-sim cores, what the time budget allows given a clean run. */
static unsigned seeds_for(const struct core *c, unsigned generic, size_t nsim)
{
	if (strcmp(c->name, "generic") == 0)
		return generic;
	double per = c->clean_s > 0.01 ? c->clean_s : 0.01;
	double n = SIM_BUDGET_S * WORKERS / (double)nsim / (SIM_DAMAGED_COST * per);
	unsigned u = n > generic ? generic : (unsigned)n;
	return u < SIM_MIN_SEEDS ? SIM_MIN_SEEDS : u;
}

static void run_kind(enum kind k, unsigned generic_seeds)
{
	size_t nsim = ncores - 1, n = 0;
	struct job *jobs = calloc(MAX_CORES * 256, sizeof *jobs);
	assert_non_null(jobs);
	for (size_t i = 0; i < ncores; i++) {
		unsigned m = seeds_for(&cores[i], generic_seeds, nsim ? nsim : 1);
		for (unsigned s = 0; s < m && n < MAX_CORES * 256; s++)
			jobs[n++] = (struct job){.c = &cores[i], .k = k, .seed = s};
	}
	struct tally t = {0};
	unsigned bad = run_jobs(jobs, n, &t);
	print_message("%s: %u runs on %zu cores: %u exit 0, %u exit 2, %u exit 3, %u other; %u misbehaved\n",
		      kind_name[k], t.runs, ncores, t.by_rc[0], t.by_rc[1], t.by_rc[2], t.by_rc[3], bad);
	free(jobs);
	assert_int_equal(t.runs, n);
	assert_int_equal(bad, 0);
}

/* An undamaged copy profiles cleanly; on the generic core, with the op and
 * entity counts the program itself printed.  Also times each core for the
 * seed budget of the beava-sim ones. */
static void test_clean_copy(void **state)
{
	(void)state;
	for (size_t i = 0; i < ncores; i++) {
		struct job j = {.c = &cores[i], .k = K_CLEAN, .seed = 0};
		job_paths(&j);
		double t0 = now_s();
		fflush(NULL);
		j.pid = fork();
		assert_true(j.pid >= 0);
		if (j.pid == 0)
			child_run(&j);
		int st, rc;
		assert_int_equal(waitpid(j.pid, &st, 0), j.pid);
		cores[i].clean_s = now_s() - t0;
		bool ok = judge(&j, st, cores[i].clean_s, &rc);
		json_t *js = rc == 0 ? load_json(j.json) : NULL;
		cleanup(&j, !ok);
		assert_true(ok);
		assert_int_equal(rc, 0);
		assert_non_null(js);
		if (strcmp(cores[i].name, "generic") == 0) {
			char tp[700];
			snprintf(tp, sizeof tp, "%s/generic/truth.json", fixdir());
			json_t *truth = load_json(tp);
			assert_non_null(truth);
			assert_int_equal(jint(js, "totals.ops"), jint(truth, "ops"));
			assert_int_equal(jint(js, "totals.entities"), jint(truth, "entities"));
			json_decref(truth);
		}
		json_decref(js);
		print_message("clean %s: %.2f s, %zu writable segments, %zu pointer words sampled (%zu in the heap)\n",
			      cores[i].name, cores[i].clean_s, cores[i].nw, cores[i].nptrs, cores[i].nanon);
	}
}

static void test_flipped_bytes(void **state)
{
	(void)state;
	run_kind(K_FLIP, GENERIC_FLIPS);
}

static void test_wild_pointers(void **state)
{
	(void)state;
	run_kind(K_WILD, GENERIC_WILD);
}

static void test_truncated(void **state)
{
	(void)state;
	run_kind(K_TRUNC, TRUNC_FIXED + 4);
}

static void test_zeroed_pages(void **state)
{
	(void)state;
	run_kind(K_ZERO, GENERIC_ZERO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_copy),
		cmocka_unit_test(test_flipped_bytes),
		cmocka_unit_test(test_wild_pointers),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_zeroed_pages),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
