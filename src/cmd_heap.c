/* cmd_heap.c: the heap command (aggop-inspect heap CORE [EXECUTABLE], or
 * --pid PID): glibc malloc's census rendered for people (markdown-ish text)
 * or machines (JSON via jansson).
 *
 * It prints the arenas (in-use, cached, free, top and overhead bytes and
 * chunk counts), the mallinfo2 figures as glibc would count them, mmapped
 * chunks, a power-of-two histogram of chunk sizes of in-use chunks, the ten
 * largest chunks, every corruption found and the glibc facts the census
 * detected (a "Detected versions" table; JSON "versions").  A corrupt heap is a finding,
 * not a failure: cmd_heap_run returns 0 whenever the census could be taken.
 */
#include <getopt.h>
#include <stdio.h>

#include "cmd_int.h"
#include "fmt.h"
#include "heap.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

enum { HIST_BUCKETS = 64, LARGEST = 10 };

/* x with thousands separators; each use has its own buffer */
#define N(x) fmt_num((char[32]){0}, 32, (uint64_t)(x))

struct summary {
	struct heap_totals t;
	uint64_t hist_n[HIST_BUCKETS], hist_b[HIST_BUCKETS];
	size_t largest[LARGEST];
	size_t nlargest;
	uint64_t inuse_bytes, cached_bytes, free_bytes;
	size_t inuse_chunks, cached_chunks, free_chunks;
};

static const char *state_name(int s)
{
	return s == HEAP_INUSE ? "in use" : s == HEAP_CACHED ? "cached" : "free";
}

static int log2_floor(uint64_t v)
{
	int b = 0;
	while (v >>= 1)
		b++;
	return b;
}

/* Keeps the indices of the LARGEST biggest chunks, biggest first. */
static void keep_largest(struct summary *s, const struct heap *h, size_t i)
{
	uint64_t size = heap_chunk_get(h, i).size;
	size_t k = s->nlargest < LARGEST ? s->nlargest++ : LARGEST;

	if (k == LARGEST && heap_chunk_get(h, s->largest[LARGEST - 1]).size >= size)
		return;
	if (k == LARGEST)
		k = LARGEST - 1;
	while (k > 0 && heap_chunk_get(h, s->largest[k - 1]).size < size) {
		s->largest[k] = s->largest[k - 1];
		k--;
	}
	s->largest[k] = i;
}

static void summarize(const struct heap *h, struct summary *s)
{
	memset(s, 0, sizeof *s);
	heap_get_totals(h, &s->t);
	for (size_t i = 0; i < heap_chunk_count(h); i++) {
		const struct heap_chunk c = heap_chunk_get(h, i);
		if (c.state == HEAP_INUSE) {
			int b = log2_floor(c.size);
			s->hist_n[b]++;
			s->hist_b[b] += c.size;
			s->inuse_bytes += c.size;
			s->inuse_chunks++;
		} else if (c.state == HEAP_CACHED) {
			s->cached_bytes += c.size;
			s->cached_chunks++;
		} else {
			s->free_bytes += c.size;
			s->free_chunks++;
		}
		keep_largest(s, h, i);
	}
}

/* A table cell: '|' escaped, line breaks as spaces. */
static void cell(FILE *out, const char *s)
{
	fputs("| ", out);
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", out);
		else
			fputc(*s == '\n' || *s == '\r' ? ' ' : *s, out);
	}
	fputc(' ', out);
}

/* The glibc facts the census detected, in the report's form (man page,
 * DETECTED VERSIONS).  bench/same-output.sh leaves the section out of its
 * comparison: it runs from its heading to the next one. */
static void print_versions(FILE *out, const struct version_facts *v)
{
	fprintf(out, "## Detected versions\n\n| dependency | fact | assumed | evidence |\n|---|---|---|---|\n");
	for (size_t i = 0; i < v->len; i++) {
		cell(out, v->data[i].dep);
		cell(out, v->data[i].what);
		cell(out, v->data[i].value);
		cell(out, v->data[i].evidence);
		fputs("|\n", out);
	}
	fputc('\n', out);
}

/* What each figure of the text counts (the "Definitions" block). */
static const char *const DEFINITIONS[][2] = {
	{"chunk", "one block glibc malloc manages, header included; its size is the header word & ~7"},
	{"in use", "chunks the program holds (allocated and not freed): their chunk sizes"},
	{"cached", "freed chunks glibc keeps for reuse in the tcache and fastbins (still marked in use to malloc)"},
	{"free", "chunks in the bins, plus the top chunk (the arena's unused tail)"},
	{"mmapped", "chunks malloc got from mmap directly (large allocations), outside every arena"},
	{"system bytes", "the memory of the arena's heaps as glibc sees it (malloc_info's \"current\")"},
	{"overhead bytes", "system bytes that are in no chunk and not top: the heap_info and malloc_state headers, "
			   "alignment and fenceposts (and bytes skipped after a corruption)"},
	{"tcache / fastbin bytes", "the cached chunks of the arena, by the cache holding them"},
	{"top bytes", "the top chunk: free memory at the end of the arena, not in a bin"},
	{"mallinfo2", "glibc's own totals (arena, ordblks, ...), counted from the core the way mallinfo2() counts them"},
};

static void print_text(FILE *out, const struct image *img, const struct heap *h, const struct summary *s)
{
	const struct heap_totals *t = &s->t;

	fprintf(out, "# Heap census\n\ncore: %s (%s)\n\n", image_core_path(img), image_core_kind(img));
	fprintf(out, "- arenas: %zu, tcaches: %zu, chunks: %s\n", heap_arena_count(h), heap_tcache_count(h),
		N(heap_chunk_count(h)));
	fprintf(out, "- in use by the program: %s bytes in %s chunks (mmapped: %s bytes in %s chunks)\n",
		N(s->inuse_bytes), N(s->inuse_chunks), N(t->hblkhd), N(t->hblks));
	fprintf(out, "- cached (tcache + fastbins): %s bytes in %s chunks\n", N(s->cached_bytes), N(s->cached_chunks));
	fprintf(out, "- free (bins + top): %s bytes in %s chunks\n\n", N(s->free_bytes), N(s->free_chunks));
	fprintf(out, "Every term and column is defined under [Definitions](#definitions).\n\n");
	print_versions(out, heap_versions(h));
	fprintf(out, "## Arenas\n\n| # | malloc_state | kind | heaps | system bytes | in-use bytes | in-use chunks | "
		"tcache bytes | fastbin bytes | free bytes | free chunks | top bytes | overhead bytes |\n");
	fprintf(out, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (size_t i = 0; i < heap_arena_count(h); i++) {
		const struct heap_arena *a = heap_arena_get(h, i);
		fprintf(out, "| %zu | 0x%llx | %s | %zu | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", i,
			(unsigned long long)a->addr, a->main ? "main" : "thread", a->nheaps, N(a->system_bytes),
			N(a->inuse_bytes), N(a->inuse_chunks), N(a->tcache_bytes), N(a->fastbin_bytes), N(a->free_bytes),
			N(a->free_chunks), N(a->top_bytes), N(a->overhead_bytes));
	}
	fprintf(out, "\nPer arena, system bytes = in-use + tcache + fastbin + free + top + overhead bytes.\n");
	fprintf(out, "\n## mallinfo2, counted as glibc counts\n\n");
	fprintf(out, "arena %s, ordblks %s, smblks %s, hblks %s, hblkhd %s, fsmblks %s, uordblks %s, fordblks %s, "
		"keepcost %s\n\n", N(t->arena), N(t->ordblks), N(t->smblks), N(t->hblks), N(t->hblkhd), N(t->fsmblks),
		N(t->uordblks), N(t->fordblks), N(t->keepcost));
	fprintf(out, "## In-use chunk sizes\n\n| chunk size | chunks | bytes |\n|---|---:|---:|\n");
	for (int b = 0; b < HIST_BUCKETS; b++)
		if (s->hist_n[b])
			fprintf(out, "| %s..%s | %s | %s |\n", N((uint64_t)1 << b), N(((uint64_t)2 << b) - 1),
				N(s->hist_n[b]), N(s->hist_b[b]));
	fprintf(out, "\n## Largest chunks\n\n| user pointer | chunk bytes | usable bytes | state | arena |\n"
		"|---|---:|---:|---|---|\n");
	for (size_t k = 0; k < s->nlargest; k++) {
		const struct heap_chunk c = heap_chunk_get(h, s->largest[k]);
		char arena[16];
		if (c.arena == HEAP_NO_ARENA)
			snprintf(arena, sizeof arena, "mmapped");
		else
			snprintf(arena, sizeof arena, "%u", c.arena);
		fprintf(out, "| 0x%llx | %s | %s | %s | %s |\n", (unsigned long long)c.mem, N(c.size), N(heap_usable(&c)),
			state_name(c.state), arena);
	}
	fprintf(out, "\n## Corruption\n\n");
	if (!heap_corruption_total(h))
		fprintf(out, "none found\n");
	for (size_t i = 0; i < heap_corruption_count(h); i++) {
		const struct heap_corruption *c = heap_corruption_get(h, i);
		fprintf(out, "- 0x%llx: %s\n", (unsigned long long)c->addr, c->what);
	}
	if (heap_corruption_total(h) > heap_corruption_count(h))
		fprintf(out, "- ... %zu more not listed\n", heap_corruption_total(h) - heap_corruption_count(h));
	fprintf(out, "\n## Definitions\n\nAll sizes are bytes; numbers carry thousands separators (--json has them "
		"exact).\n\n");
	for (size_t i = 0; i < sizeof DEFINITIONS / sizeof DEFINITIONS[0]; i++)
		fprintf(out, "- **%s**: %s.\n", DEFINITIONS[i][0], DEFINITIONS[i][1]);
	fprintf(out, "- **usable bytes**: what malloc_usable_size() would return for the chunk.\n");
}

static json_t *arena_json(const struct heap_arena *a, size_t i)
{
	return json_pack("{s:I, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			 "index", (json_int_t)i, "main", a->main, "heaps", (json_int_t)a->nheaps,
			 "system_bytes", (json_int_t)a->system_bytes, "system_mem", (json_int_t)a->system_mem,
			 "inuse_bytes", (json_int_t)a->inuse_bytes, "inuse_chunks", (json_int_t)a->inuse_chunks,
			 "cached_bytes", (json_int_t)a->cached_bytes, "cached_chunks", (json_int_t)a->cached_chunks,
			 "tcache_bytes", (json_int_t)a->tcache_bytes, "tcache_chunks", (json_int_t)a->tcache_chunks,
			 "fastbin_bytes", (json_int_t)a->fastbin_bytes, "fastbin_chunks", (json_int_t)a->fastbin_chunks,
			 "free_bytes", (json_int_t)a->free_bytes, "free_chunks", (json_int_t)a->free_chunks,
			 "top_bytes", (json_int_t)a->top_bytes, "overhead_bytes", (json_int_t)a->overhead_bytes);
}

static json_t *hex(uint64_t v)
{
	char b[24];
	snprintf(b, sizeof b, "0x%llx", (unsigned long long)v);
	return json_string(b);
}

static json_t *build_json(const struct image *img, const struct heap *h, const struct summary *s)
{
	const struct heap_totals *t = &s->t;
	json_t *root = json_object(), *arenas = json_array(), *hist = json_array(), *big = json_array(),
	       *corr = json_array();

	json_object_set_new(root, "core", json_string(image_core_path(img)));
	json_object_set_new(root, "core_kind", json_string(image_core_kind(img)));
	json_object_set_new(root, "chunks", json_integer((json_int_t)heap_chunk_count(h)));
	json_object_set_new(root, "tcaches", json_integer((json_int_t)heap_tcache_count(h)));
	json_object_set_new(root, "inuse_bytes", json_integer((json_int_t)s->inuse_bytes));
	json_object_set_new(root, "inuse_chunks", json_integer((json_int_t)s->inuse_chunks));
	json_object_set_new(root, "cached_bytes", json_integer((json_int_t)s->cached_bytes));
	json_object_set_new(root, "cached_chunks", json_integer((json_int_t)s->cached_chunks));
	json_object_set_new(root, "free_bytes", json_integer((json_int_t)s->free_bytes));
	json_object_set_new(root, "free_chunks", json_integer((json_int_t)s->free_chunks));
	for (size_t i = 0; i < heap_arena_count(h); i++) {
		const struct heap_arena *a = heap_arena_get(h, i);
		json_t *o = arena_json(a, i);
		json_object_set_new(o, "address", hex(a->addr));
		json_array_append_new(arenas, o);
	}
	json_object_set_new(root, "arenas", arenas);
	json_object_set_new(root, "mallinfo2",
			    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
				      "arena", (json_int_t)t->arena, "ordblks", (json_int_t)t->ordblks,
				      "smblks", (json_int_t)t->smblks, "hblks", (json_int_t)t->hblks,
				      "hblkhd", (json_int_t)t->hblkhd, "fsmblks", (json_int_t)t->fsmblks,
				      "uordblks", (json_int_t)t->uordblks, "fordblks", (json_int_t)t->fordblks,
				      "keepcost", (json_int_t)t->keepcost));
	for (int b = 0; b < HIST_BUCKETS; b++)
		if (s->hist_n[b])
			json_array_append_new(hist, json_pack("{s:I, s:I, s:I, s:I}",
				"min", (json_int_t)((uint64_t)1 << b), "max", (json_int_t)(((uint64_t)2 << b) - 1),
				"chunks", (json_int_t)s->hist_n[b], "bytes", (json_int_t)s->hist_b[b]));
	json_object_set_new(root, "histogram", hist);
	for (size_t k = 0; k < s->nlargest; k++) {
		const struct heap_chunk c = heap_chunk_get(h, s->largest[k]);
		json_t *o = json_pack("{s:I, s:I, s:s, s:b}", "chunk", (json_int_t)c.size,
				      "usable", (json_int_t)heap_usable(&c), "state", state_name(c.state),
				      "mmapped", (c.flags & HEAP_F_MMAPPED) != 0);
		json_object_set_new(o, "mem", hex(c.mem));
		json_object_set_new(o, "arena", c.arena == HEAP_NO_ARENA ? json_null() : json_integer(c.arena));
		json_array_append_new(big, o);
	}
	json_object_set_new(root, "largest", big);
	for (size_t i = 0; i < heap_corruption_count(h); i++) {
		const struct heap_corruption *c = heap_corruption_get(h, i);
		json_t *o = json_pack("{s:s}", "what", c->what);
		json_object_set_new(o, "address", hex(c->addr));
		json_array_append_new(corr, o);
	}
	json_object_set_new(root, "corruptions", corr);
	json_object_set_new(root, "corruptions_total", json_integer((json_int_t)heap_corruption_total(h)));
	json_t *vers = json_array();
	const struct version_facts *v = heap_versions(h);
	for (size_t i = 0; i < v->len; i++)
		json_array_append_new(vers, json_pack("{s:s, s:s, s:s, s:s}", "dependency", v->data[i].dep, "fact",
						      v->data[i].what, "assumed", v->data[i].value, "evidence",
						      v->data[i].evidence));
	json_object_set_new(root, "versions", vers);
	return root;
}

int cmd_heap_run(FILE *out, const struct image *img, bool json, unsigned jobs, struct err *e)
{
	struct heap *h = NULL;
	struct summary *s;
	int rc;

	if ((rc = heap_open_jobs(&h, img, jobs ? jobs : 1, e)))
		return rc;
	s = malloc(sizeof *s);
	if (!s) {
		rc = err_set(e, ERR_NOMEM, "heap: out of memory");
	} else {
		summarize(h, s);
		if (json) {
			json_t *root = build_json(img, h, s);
			if (!root || json_dumpf(root, out, JSON_INDENT(2)) != 0)
				rc = err_set(e, ERR_IO, "heap: could not write the JSON census");
			else
				fputc('\n', out);
			json_decref(root);
		} else {
			print_text(out, img, h, s);
		}
		if (!rc && ferror(out))
			rc = err_set(e, ERR_IO, "heap: could not write the census");
	}
	free(s);
	heap_close(h);
	return rc;
}

static const char USAGE_HEAP[] =
	"usage: aggop-inspect heap [--json] [--jobs N] CORE [EXECUTABLE]\n"
	"       aggop-inspect heap [--json] [--jobs N] --pid PID [EXECUTABLE]\n"
	"\n"
	"glibc malloc's census from the core (or a running process's memory) alone: arenas, in-use,\n"
	"cached and free chunks, the mallinfo2 figures, a histogram of chunk sizes, the largest chunks,\n"
	"corruption found.\n"
	"\n"
	"      --json            as JSON\n"
	"      --pid PID         a running process, stopped only while its memory is copied\n"
	"      --jobs N          threads for the census (default: the CPUs this process may run on;\n"
	"                        the census is the same whatever N is)\n"
	"  -h, --help            this text\n"
	"\n"
	"exit status: 0 ok, 1 usage, 2 unusable input\n";

int cmd_heap(int argc, char **argv)
{
	static const struct option lo[] = {{"json", no_argument, 0, 'j'}, {"pid", required_argument, 0, 'p'},
					   {"help", no_argument, 0, 'h'}, {"jobs", required_argument, 0, 'J'},
					   {0, 0, 0, 0}};
	bool json = false;
	struct cmd_source src = {0};
	unsigned jobs = 0;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		if (c == 'j')
			json = true;
		else if (c == 'p') {
			if (!cmd_parse_pid(optarg, &src.pid))
				return cmd_usage_error("--pid needs a process id");
		} else if (c == 'J') {
			if (!cmd_parse_jobs(optarg, &jobs))
				return cmd_usage_error("--jobs needs a number from 1 to 256");
		} else if (c == 'h') {
			fputs(USAGE_HEAP, stdout);
			return 0;
		} else
			return cmd_bad_option(c, argv);
	}
	if (src.pid ? argc - optind > 1 : argc - optind < 1 || argc - optind > 2)
		return cmd_usage_error("heap needs CORE and EXECUTABLE (or --pid PID)");
	if (cmd_source_operands(&src, argc, argv, optind))
		return 1;
	struct err e = {0};
	struct image *img = NULL;
	char live[256];
	int status = 0;
	if (cmd_open_image(&src, false, &img, live, sizeof live, &e) ||
	    cmd_heap_run(stdout, img, json, jobs ? jobs : cmd_default_jobs(), &e))
		status = cmd_fail(&e);
	image_close(img);
	return status;
}
