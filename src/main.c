/* main.c: the command line.  Parses arguments, wires the layers together,
 * prints the one error line and maps error codes to exit statuses.  No
 * logic of its own. */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "heap.h"
#include "image.h"
#include "profile.h"
#include "report.h"
#include "types.h"

#define VERSION "0.1.0"

/* The help of each command: its synopsis, its options, the exit statuses.
 * tests/e2e_help.sh checks that every option here is in the man page. */
static const char USAGE[] =
	"usage: aggop-inspect [OPTIONS] CORE [EXECUTABLE]\n"
	"       aggop-inspect [OPTIONS] --pid PID [EXECUTABLE]\n"
	"       aggop-inspect layout|heap|diff|export ...   (each with its own --help)\n"
	"\n"
	"Profiles the enum's values in a core dump of a Rust server (or a running process): bytes per\n"
	"variant, feature and field path (inline, heap requested, used, glibc usable and chunk), in a\n"
	"markdown report.\n"
	"\n"
	"  -o, --output FILE     markdown report (default memory-profile.md; '-' = stdout); for\n"
	"                        NAME.md the chart is written beside it as NAME.svg\n"
	"      --json FILE       the same profile as JSON ('-' = stdout)\n"
	"      --root SPEC       SYMBOL (a static) | TYPE (heap scan) | 0xADDR[:TYPE] | auto (default)\n"
	"      --enum NAME       the enum to profile (default AggOp)\n"
	"      --profile FILE    target description (JSON) replacing the built-in beava one\n"
	"      --config FILE     workload config used to label tables and features\n"
	"      --metrics FILE    saved Prometheus scrape: check the per-entity p99 metric\n"
	"      --metrics-name NAME  that metric's name (default " REPORT_METRIC_DEFAULT "; a sample whose\n"
	"                        name ends so, labels allowed)\n"
	"      --tolerance F     coherence tolerance (default 0.15)\n"
	"      --debug-file FILE separate debug info\n"
	"      --debug-dir DIR   another root for DIR/.build-id/xx/rest.debug and .gnu_debuglink\n"
	"                        (searched before /usr/lib/debug; debuginfod via DEBUGINFOD_URLS)\n"
	"      --pid PID         profile a running process: stopped only while its memory is copied\n"
	"                        (CORE may be compressed: zstd, xz, lz4, gzip; EXECUTABLE may be\n"
	"                        omitted when the core names it and the file there has its build-id)\n"
	"      --strict          exit 4 when bytes were reached but not attributed exactly\n"
	"      --folded FILE     folded stacks table;feature;variant;field path;container BYTES\n"
	"      --folded-bytes F  their family (and the flame graph's): requested (default), used, usable,\n"
	"                        chunk, allocations, inline\n"
	"      --pprof FILE      gzipped pprof profile.proto (objects and every byte family)\n"
	"      --flamegraph FILE self-contained interactive flame graph (SVG)\n"
	"  -j, --jobs N          threads to use (default: the CPUs this process may run on);\n"
	"                        the report is the same byte for byte whatever N is\n"
	"  -q, --quiet           no progress or summary on stderr\n"
	"  -h, --help            this text;  --version  the version\n"
	"\n"
	"exit status: 0 ok, 1 usage, 2 unusable input, 3 metrics diverged (report still written),\n"
	"             4 with --strict: bytes reached but not attributed exactly (report still written)\n";

static const char USAGE_LAYOUT[] =
	"usage: aggop-inspect layout [--json] [--debug-file FILE] EXECUTABLE TYPE\n"
	"\n"
	"A type's layout from the executable's DWARF: for a Rust enum its size, tag, each variant's\n"
	"payload and slot slack, and the size if its largest variants were boxed; for a struct its\n"
	"members, holes and padding.  TYPE is qualified or its last path segment.\n"
	"\n"
	"      --json            as JSON\n"
	"      --debug-file FILE separate debug info\n"
	"  -h, --help            this text\n"
	"\n"
	"exit status: 0 ok, 1 usage, 2 unusable input (no such type, no debug info, not an executable)\n";

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

static const char USAGE_DIFF[] =
	"usage: aggop-inspect diff [OPTIONS] OLD NEW\n"
	"\n"
	"Compares two profiles; OLD and NEW are each a --json profile or CORE EXECUTABLE (with --pid\n"
	"PID, NEW is that running process: diff OLD --pid PID [EXECUTABLE]).  A core is\n"
	"profiled with the target the saved profile records (its --root, --enum, --profile and\n"
	"--config); the flags below override it.\n"
	"\n"
	"  -o, --output FILE     the diff in markdown (default '-', stdout)\n"
	"      --json FILE       the diff as JSON\n"
	"      --fail-if EXPR    a limit, FIGURE OP LIMIT (repeatable): 'variant.*.heap_chunk_bytes_per_op > +5%'\n"
	"      --thresholds FILE limits, one a line ('#' comments)\n"
	"      --figures         print every figure as NAME OLD NEW instead of the diff\n"
	"      --core            the four operands are OLD.core OLD.exe NEW.core NEW.exe\n"
	"      --pid PID         NEW is this running process\n"
	"      --root SPEC       profile the cores from this root (as for a profile)\n"
	"      --enum NAME       ... of this enum\n"
	"      --profile FILE    ... with this target description\n"
	"      --config FILE     ... labelled with this workload config\n"
	"  -q, --quiet           no summary line on stderr\n"
	"  -h, --help            this text\n"
	"\n"
	"exit status: 0 ok, 1 usage, 2 unusable input (or profiles of different targets),\n"
	"             5 a --fail-if or --thresholds limit was exceeded (one line per breach; the diff is written)\n";

static const char USAGE_EXPORT[] =
	"usage: aggop-inspect export [OPTIONS] PROFILE.json\n"
	"\n"
	"The exports of a saved profile (the same as the profile command's).\n"
	"\n"
	"      --folded FILE     folded stacks table;feature;variant;field path;container BYTES\n"
	"      --folded-bytes F  their family (and the flame graph's): requested (default), used, usable,\n"
	"                        chunk, allocations, inline\n"
	"      --pprof FILE      gzipped pprof profile.proto\n"
	"      --flamegraph FILE self-contained interactive flame graph (SVG)\n"
	"  -h, --help            this text\n"
	"\n"
	"exit status: 0 ok, 1 usage, 2 unusable input\n";

static int fail(const struct err *e)
{
	fprintf(stderr, "aggop-inspect: %s\n", e->msg[0] ? e->msg : "failed");
	return err_exit_status(e->code ? e->code : ERR_INPUT);
}

static int usage_error(const char *msg)
{
	fprintf(stderr, "aggop-inspect: %s; see --help\n", msg);
	return 1;
}

/* One line for what getopt rejected (opterr is off: getopt prints nothing). */
static int bad_option(int c, char **argv)
{
	char msg[256];
	const char *arg = argv[optind - 1];
	if (c == ':')
		snprintf(msg, sizeof msg, "option %s needs an argument", arg);
	else if (optopt && strncmp(arg, "--", 2) != 0)
		snprintf(msg, sizeof msg, "unknown option -%c", optopt);
	else
		snprintf(msg, sizeof msg, "unknown option %s", arg);
	return usage_error(msg);
}

static int cmd_layout(int argc, char **argv)
{
	static const struct option lo[] = {{"json", no_argument, 0, 'j'}, {"debug-file", required_argument, 0, 'd'},
					   {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
	bool json = false;
	const char *dbg = NULL;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		if (c == 'j')
			json = true;
		else if (c == 'd')
			dbg = optarg;
		else if (c == 'h') {
			fputs(USAGE_LAYOUT, stdout);
			return 0;
		} else
			return bad_option(c, argv);
	}
	if (argc - optind != 2)
		return usage_error("layout needs EXECUTABLE and TYPE");
	struct err e = {0};
	if (report_layout_run(stdout, argv[optind], dbg, argv[optind + 1], json, &e))
		return fail(&e);
	return 0;
}

/* Where the memory comes from: a core with its executable (NULL: the one
 * the core names), or a live process (pid > 0, exe NULL: /proc/PID/exe). */
struct source {
	const char *core, *exe;
	int pid;
};

/* "--pid PID": false when PID is not a positive number. */
static bool parse_pid(const char *arg, int *pid)
{
	char *end;
	long v = strtol(arg, &end, 10);
	if (end == arg || *end || v <= 0 || v > 0x7fffffff)
		return false;
	*pid = (int)v;
	return true;
}

/* The source's operands: CORE [EXE], or with --pid at most EXE. */
static int source_operands(struct source *src, int argc, char **argv, int first)
{
	int n = argc - first;
	if (src->pid ? n > 1 : n < 1 || n > 2)
		return usage_error(src->pid ? "--pid takes at most one operand, the executable"
					: "need CORE [EXECUTABLE] (or --pid PID)");
	if (src->pid)
		src->exe = n ? argv[first] : NULL;
	else {
		src->core = argv[first];
		src->exe = n == 2 ? argv[first + 1] : NULL;
	}
	return 0;
}

static int open_image(const struct source *src, bool quiet, struct image **img, char *live, size_t livesz,
		      struct err *e)
{
	if (!src->pid)
		return src->exe ? image_open(img, src->core, src->exe, e) : image_open_auto(img, src->core, e);
	struct image_pid_stats st = {0};
	int rc = image_open_pid(img, src->pid, src->exe, &st, e);
	if (!rc) {
		snprintf(live, livesz, "pid %d stopped for %.3f s (%zu threads, %.1f MiB copied), then resumed and detached",
			 src->pid, st.stopped_seconds, st.threads, (double)st.bytes / 1048576.0);
		if (!quiet)
			fprintf(stderr, "aggop-inspect: %s\n", live);
	}
	return rc;
}

/* --jobs N: 1 to 256; false (a usage error) otherwise. */
static bool parse_jobs(const char *arg, unsigned *jobs)
{
	char *end;
	errno = 0;
	long n = strtol(arg, &end, 10);
	if (errno || end == arg || *end || n < 1 || n > 256)
		return false;
	*jobs = (unsigned)n;
	return true;
}

static unsigned default_jobs(void);

static int cmd_heap(int argc, char **argv)
{
	static const struct option lo[] = {{"json", no_argument, 0, 'j'}, {"pid", required_argument, 0, 'p'},
					   {"help", no_argument, 0, 'h'}, {"jobs", required_argument, 0, 'J'},
					   {0, 0, 0, 0}};
	bool json = false;
	struct source src = {0};
	unsigned jobs = 0;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		if (c == 'j')
			json = true;
		else if (c == 'p') {
			if (!parse_pid(optarg, &src.pid))
				return usage_error("--pid needs a process id");
		} else if (c == 'J') {
			if (!parse_jobs(optarg, &jobs))
				return usage_error("--jobs needs a number from 1 to 256");
		} else if (c == 'h') {
			fputs(USAGE_HEAP, stdout);
			return 0;
		} else
			return bad_option(c, argv);
	}
	if (src.pid ? argc - optind > 1 : argc - optind < 1 || argc - optind > 2)
		return usage_error("heap needs CORE and EXECUTABLE (or --pid PID)");
	if (source_operands(&src, argc, argv, optind))
		return 1;
	struct err e = {0};
	struct image *img = NULL;
	char live[256];
	int status = 0;
	if (open_image(&src, false, &img, live, sizeof live, &e) ||
	    heap_run_image(stdout, img, json, jobs ? jobs : default_jobs(), &e))
		status = fail(&e);
	image_close(img);
	return status;
}

static FILE *open_out(const char *path, struct err *e)
{
	if (strcmp(path, "-") == 0)
		return stdout;
	FILE *f = fopen(path, "w");
	if (!f)
		err_set(e, ERR_IO, "cannot write %s: %s", path, strerror(errno));
	return f;
}

/* Closes an output; a write that failed on the way (ENOSPC, EIO) or at
 * the close is reported with its reason. */
static int close_out(FILE *f, const char *path, int rc, struct err *e)
{
	int failed = ferror(f), err = errno;
	if (f == stdout ? fflush(f) != 0 : fclose(f) != 0) {
		failed = 1;
		err = errno;
	}
	if (failed)
		return err_set(e, ERR_IO, "writing %s failed: %s", f == stdout ? "stdout" : path,
			       strerror(err ? err : EIO));
	return rc;
}

/* The chart's path beside the markdown: FILE.md -> FILE.svg; false (no
 * chart) for any other name (stdout, a device, a pipe). */
static bool svg_path(const char *md, char *buf, size_t size)
{
	size_t n = strlen(md);
	if (n <= 3 || strcmp(md + n - 3, ".md") != 0 || n + 2 > size)
		return false;
	snprintf(buf, size, "%.*s.svg", (int)(n - 3), md);
	return true;
}

/* Exports of a profile (from a run or a saved JSON). */
struct export_opts {
	const char *folded, *pprof, *flamegraph;
	enum report_family fam;
};

struct main_opts {
	const char *output, *json, *metrics, *metrics_name, *debug_file, *debug_dir;
	double tolerance;
	unsigned jobs;
	bool quiet, strict;
	struct profile_options po;
	struct export_opts x;
};

static bool exports_wanted(const struct export_opts *x)
{
	return x->folded || x->pprof || x->flamegraph;
}

static int write_exports(const struct report_doc *d, const struct export_opts *x, struct err *e)
{
	FILE *f;
	if (x->folded && (!(f = open_out(x->folded, e)) || close_out(f, x->folded, report_folded(f, d, x->fam, e), e)))
		return e->code;
	if (x->pprof && (!(f = open_out(x->pprof, e)) || close_out(f, x->pprof, report_pprof(f, d, e), e)))
		return e->code;
	if (x->flamegraph && (!(f = open_out(x->flamegraph, e)) ||
			      close_out(f, x->flamegraph, report_flamegraph(f, d, x->fam, e), e)))
		return e->code;
	return 0;
}

/* Parses an export option of getopt's current one; false when c is not one. */
static bool export_opt(int c, struct export_opts *x, int *status)
{
	struct err e = {0};
	switch (c) {
	case 'F': x->folded = optarg; return true;
	case 'P': x->pprof = optarg; return true;
	case 'G': x->flamegraph = optarg; return true;
	case 'B':
		if (report_family_parse(optarg, &x->fam, &e))
			*status = usage_error(e.msg);
		return true;
	default: return false;
	}
}

#define EXPORT_LONG_OPTS                                                                              \
	{"folded", required_argument, 0, 'F'}, {"folded-bytes", required_argument, 0, 'B'},           \
	{"pprof", required_argument, 0, 'P'}, {"flamegraph", required_argument, 0, 'G'}

/* The type index (the executable) and the heap census (the core) need
 * nothing of each other: with two jobs or more the index is read on a
 * thread of its own while the census runs.  The error reported is the one
 * the sequential order (types, then heap) would have reported. */
struct types_job {
	struct types *t;
	const char *exe;
	const struct types_debug_opts *dbg;
	struct err e;
	int rc;
};

static void *types_job_run(void *arg)
{
	struct types_job *j = arg;
	j->rc = types_open_ex(&j->t, j->exe, j->dbg, &j->e);
	return NULL;
}

static int open_types_heap(struct types **t, struct heap **h, const struct image *img, const char *exe,
			   const struct types_debug_opts *dbg, unsigned jobs, struct err *e)
{
	struct types_job j = {.exe = exe, .dbg = dbg};
	pthread_t th;
	*t = NULL;
	*h = NULL;
	if (jobs < 2 || pthread_create(&th, NULL, types_job_run, &j) != 0) {
		int rc = types_open_ex(t, exe, dbg, e);
		return rc ? rc : heap_open_jobs(h, img, jobs ? jobs : 1, e);
	}
	/* the census runs here while the index is read on the thread */
	struct err he = {0};
	int hrc = heap_open_jobs(h, img, jobs, &he);
	pthread_join(th, NULL);
	*t = j.t;
	if (j.rc) {
		*e = j.e;
		return j.rc;
	}
	if (hrc) {
		*e = he;
		return hrc;
	}
	return 0;
}

/* The CPUs this process may run on (sched_getaffinity), at least 1. */
static unsigned default_jobs(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof set, &set) != 0)
		return 1;
	int n = CPU_COUNT(&set);
	return n < 1 ? 1 : n > 64 ? 64 : (unsigned)n;
}

static int run_profile(const struct source *src, const struct main_opts *o)
{
	struct err e = {0};
	struct image *img = NULL;
	struct types *t = NULL;
	struct heap *h = NULL;
	struct profile *p = NULL;
	struct report_doc *doc = NULL;   /* what every rendering reads, built once */
	struct report_metrics mx = {0};
	int status = 0;
	FILE *f;

	struct types_debug_opts dbg = {.debug_file = o->debug_file, .debug_dir = o->debug_dir, .progress = !o->quiet};
	char live[256];
	if (open_image(src, o->quiet, &img, live, sizeof live, &e) ||
	    open_types_heap(&t, &h, img, image_exe_path(img), &dbg, o->jobs, &e)) {
		status = fail(&e);
		goto out;
	}
	struct profile_options po = o->po;
	po.release_chunks = h;   /* the census is not asked per chunk after the profile */
	if (profile_run(&p, img, t, h, &po, &e)) {
		status = fail(&e);
		goto out;
	}
	if (!o->quiet && strncmp(image_build_id_check(img), "not checked", 11) == 0)
		fprintf(stderr, "aggop-inspect: warning: executable %s\n", image_build_id_check(img));
	if (o->metrics && report_metrics_check(o->metrics, o->metrics_name, p, o->tolerance, &mx, &e)) {
		status = fail(&e);
		goto out;
	}
	struct report_meta m = {.core = image_core_path(img), .exe = image_exe_path(img),
				.core_kind = image_core_kind(img), .core_size = image_core_size(img),
				.build_id = image_exe_build_id(img), .seconds = p->seconds, .opts = &o->po,
				.debug_info = types_debug_source(t), .live = src->pid ? live : NULL};
	/* the markdown is opened first: an unwritable -o path is named as given */
	if (report_doc_build(&doc, p, &m, &e) || !(f = open_out(o->output, &e))) {
		status = fail(&e);
		goto out;
	}
	char svg[4096];
	if (svg_path(o->output, svg, sizeof svg)) {
		FILE *g;
		m.svg = strrchr(svg, '/') ? strrchr(svg, '/') + 1 : svg;
		if (!(g = open_out(svg, &e)) || close_out(g, svg, report_doc_svg(g, doc, &e), &e)) {
			close_out(f, o->output, 0, &(struct err){0});
			status = fail(&e);
			goto out;
		}
	}
	if (close_out(f, o->output, report_doc_markdown(f, doc, &m, &mx, &e), &e)) {
		status = fail(&e);
		goto out;
	}
	if (o->json && (!(f = open_out(o->json, &e)) || close_out(f, o->json, report_doc_json(f, doc, &m, &mx, &e), &e))) {
		status = fail(&e);
		goto out;
	}
	if (exports_wanted(&o->x) && (report_doc_check_names(doc, &e) || write_exports(doc, &o->x, &e))) {
		status = fail(&e);
		goto out;
	}
	/* in the report's words: generic mode has holders, not entities */
	if (!o->quiet && strcmp(o->output, "-") != 0)
		fprintf(stderr, "aggop-inspect: %llu %s, %llu ops, per-%s p50/p99/max %llu/%llu/%llu bytes; "
			"wrote %s\n", (unsigned long long)p->entities, p->generic ? "holders" : "entities",
			(unsigned long long)p->ops, p->generic ? "holder" : "entity",
			(unsigned long long)p->per_entity.p50, (unsigned long long)p->per_entity.p99,
			(unsigned long long)p->per_entity.max, o->output);
	if (report_has_unattributed(p)) {
		char line[512];
		report_unattributed_line(p, line, sizeof line);
		fprintf(stderr, "aggop-inspect: warning: %s\n", line);
		if (o->strict)
			status = 4;
	}
	if (mx.have && mx.diverged) {
		fprintf(stderr, "aggop-inspect: %s %.0f diverged by %.0f bytes (%.1f%% > %.0f%%) from the "
			"measured %llu; the metric should carry %llu\n", mx.name, mx.metric,
			mx.metric > (double)mx.measured ? mx.metric - (double)mx.measured : (double)mx.measured - mx.metric,
			mx.relative * 100, mx.tolerance * 100, (unsigned long long)mx.measured,
			(unsigned long long)mx.measured);
		status = 3;
	}
out:
	report_doc_free(doc);
	profile_free(p);
	heap_close(h);
	types_close(t);
	image_close(img);
	return status;
}

/* One side of a diff: a JSON profile, or a core (and its executable) or a
 * running process, profiled now. */
struct diff_operand {
	const char *json;
	struct source src;
};

/* Splits the operands into OLD and NEW (a core is followed by its executable;
 * with --pid NEW is the process, an executable operand after OLD optional). */
static int diff_operands(char **argv, int i, int argc, bool cores, int pid, struct diff_operand side[2],
			 struct err *e)
{
	for (int s = 0; s < 2; s++) {
		if (s == 1 && pid) {
			side[s].src.pid = pid;
			if (i < argc)   /* one operand left: the running process's executable */
				side[s].src.exe = argv[i++];
			break;
		}
		if (i >= argc)
			return err_set(e, ERR_USAGE, "diff needs OLD and NEW (a JSON profile, or CORE EXECUTABLE, each)");
		unsigned char magic[8] = {0};
		FILE *f = fopen(argv[i], "rb");
		if (!f)
			return err_set(e, ERR_INPUT, "cannot read %s", argv[i]);
		size_t got = fread(magic, 1, sizeof magic, f);
		bool core = image_looks_like_core(magic, got);
		fclose(f);
		if (cores && !core)
			return err_set(e, ERR_INPUT, "%s is not an ELF core (--core takes OLD.core OLD.exe NEW.core NEW.exe)",
				       argv[i]);
		if (!core) {
			side[s].json = argv[i++];
			continue;
		}
		if (i + 1 >= argc)
			return err_set(e, ERR_USAGE, "%s is a core: its executable must follow it", argv[i]);
		side[s].src.core = argv[i];
		side[s].src.exe = argv[i + 1];
		i += 2;
	}
	if (i != argc)
		return err_set(e, ERR_USAGE, "diff: too many operands (OLD and NEW are each a JSON profile or CORE "
			       "EXECUTABLE)");
	return 0;
}

/* A profile taken now of a core (and its executable) or a live process, into
 * the document --json would write. */
static int profile_doc(const struct source *src, const struct profile_options *po, struct report_doc **out,
		       struct err *e)
{
	struct image *img = NULL;
	struct types *t = NULL;
	struct heap *h = NULL;
	struct profile *p = NULL;
	char live[256];
	int rc = open_image(src, false, &img, live, sizeof live, e) || types_open(&t, image_exe_path(img), NULL, e) ||
		 heap_open(&h, img, e);
	if (!rc) {
		struct profile_options lpo = *po;
		lpo.release_chunks = h;   /* the census is not asked per chunk after the profile */
		rc = profile_run(&p, img, t, h, &lpo, e);
	}
	if (!rc) {
		struct report_meta m = {.core = image_core_path(img), .exe = image_exe_path(img),
					.core_kind = image_core_kind(img), .core_size = image_core_size(img),
					.build_id = image_exe_build_id(img), .seconds = p->seconds, .opts = po,
					.debug_info = types_debug_source(t), .live = src->pid ? live : NULL};
		rc = report_doc_from_profile(out, p, &m, e);
	}
	profile_free(p);
	heap_close(h);
	types_close(t);
	image_close(img);
	return rc ? e->code : 0;
}

/* The options a core side is profiled with: what the first saved profile
 * recorded (its target: root, enum, profile, config), each replaced by the
 * flag given for it. */
static struct profile_options diff_options(const struct profile_options *flags, struct report_doc *const doc[2])
{
	struct profile_options po = *flags;
	const struct report_doc_options *rec = NULL;
	for (int s = 0; s < 2 && !rec; s++)
		if (doc[s])
			rec = &doc[s]->opts;
	if (rec) {
		po.root = flags->root ? flags->root : rec->root;
		po.enum_name = flags->enum_name ? flags->enum_name : rec->enum_name;
		po.target_file = flags->target_file ? flags->target_file : rec->profile;
		po.config_file = flags->config_file ? flags->config_file : rec->config;
	}
	po.progress = false;
	return po;
}

static int cmd_diff(int argc, char **argv)
{
	enum { O_JSON = 256, O_FAIL, O_THR, O_CORE, O_FIG, O_ROOT, O_ENUM, O_PROFILE, O_CONFIG, O_PID };
	static const struct option lo[] = {
		{"output", required_argument, 0, 'o'}, {"json", required_argument, 0, O_JSON},
		{"fail-if", required_argument, 0, O_FAIL}, {"thresholds", required_argument, 0, O_THR},
		{"core", no_argument, 0, O_CORE}, {"figures", no_argument, 0, O_FIG},
		{"root", required_argument, 0, O_ROOT}, {"enum", required_argument, 0, O_ENUM},
		{"profile", required_argument, 0, O_PROFILE}, {"config", required_argument, 0, O_CONFIG},
		{"pid", required_argument, 0, O_PID},
		{"quiet", no_argument, 0, 'q'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
	const char *output = "-", *json = NULL;
	struct source live = {0};
	bool cores = false, figures = false, quiet = false;
	struct profile_options po = {0};
	struct report_gate *g = NULL;
	struct report_doc *doc[2] = {NULL, NULL};
	struct report_diff *d = NULL;
	struct err e = {0};
	int c, status = 0;
	FILE *f;
	if (report_gate_create(&g, &e))
		return fail(&e);
	opterr = 0;
	while (status == 0 && (c = getopt_long(argc, argv, ":o:qh", lo, NULL)) != -1) {
		switch (c) {
		case 'o': output = optarg; break;
		case O_JSON: json = optarg; break;
		case O_FAIL:
			if (report_gate_add(g, optarg, &e))
				status = usage_error(e.msg);
			break;
		case O_THR:
			if (report_gate_load(g, optarg, &e))
				status = e.code == ERR_USAGE ? usage_error(e.msg) : fail(&e);
			break;
		case O_CORE: cores = true; break;
		case O_FIG: figures = true; break;
		case O_ROOT: po.root = optarg; break;
		case O_ENUM: po.enum_name = optarg; break;
		case O_PROFILE: po.target_file = optarg; break;
		case O_CONFIG: po.config_file = optarg; break;
		case O_PID:
			if (!parse_pid(optarg, &live.pid))
				status = usage_error("--pid needs a process id");
			break;
		case 'q': quiet = true; break;
		case 'h': fputs(USAGE_DIFF, stdout); report_gate_free(g); return 0;
		default: status = bad_option(c, argv);
		}
	}
	struct diff_operand side[2] = {{NULL, {0}}, {NULL, {0}}};
	if (!status && live.pid && cores)
		status = usage_error("diff OLD --pid PID: OLD is a JSON profile or CORE EXECUTABLE (no --core)");
	else if (!status && cores && argc - optind != 4)
		status = usage_error("diff --core needs OLD.core OLD.exe NEW.core NEW.exe");
	if (!status && diff_operands(argv, optind, argc, cores, live.pid, side, &e))
		status = e.code == ERR_USAGE ? usage_error(e.msg) : fail(&e);
	/* saved profiles first: a core or process side reuses the target they record */
	for (int s = 0; !status && s < 2; s++)
		if (side[s].json && report_doc_load(&doc[s], side[s].json, &e))
			status = fail(&e);
	struct profile_options use = diff_options(&po, doc);
	for (int s = 0; !status && s < 2; s++)
		if (!side[s].json && profile_doc(&side[s].src, &use, &doc[s], &e))
			status = fail(&e);
	if (!status && (report_diff_make(&d, doc[0], doc[1], &e) || report_diff_gate(d, g, &e)))
		status = fail(&e);
	if (!status && figures && report_diff_figures(stdout, d, &e))
		status = fail(&e);
	if (!status && !figures &&
	    (!(f = open_out(output, &e)) || close_out(f, output, report_diff_markdown(f, d, &e), &e)))
		status = fail(&e);
	if (!status && json && (!(f = open_out(json, &e)) || close_out(f, json, report_diff_json(f, d, &e), &e)))
		status = fail(&e);
	if (!status && report_diff_breaches(d)) {
		char line[1400];
		for (size_t b = 0; b < report_diff_breaches(d); b++) {
			report_diff_breach_line(d, b, line, sizeof line);
			fprintf(stderr, "aggop-inspect: gate: %s\n", line);
		}
		status = 5;
	} else if (!status && !quiet && strcmp(output, "-") != 0)
		fprintf(stderr, "aggop-inspect: wrote %s\n", output);
	report_diff_free(d);
	report_doc_free(doc[0]);
	report_doc_free(doc[1]);
	report_gate_free(g);
	return status;
}

static int cmd_export(int argc, char **argv)
{
	static const struct option lo[] = {EXPORT_LONG_OPTS, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
	struct export_opts x = {0};
	int c, status = 0;
	opterr = 0;
	while (status == 0 && (c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		if (c == 'h') {
			fputs(USAGE_EXPORT, stdout);
			return 0;
		}
		if (!export_opt(c, &x, &status))
			return bad_option(c, argv);
	}
	if (status)
		return status;
	if (argc - optind != 1)
		return usage_error("export needs one PROFILE.json");
	if (!exports_wanted(&x))
		return usage_error("export: say what to write (--folded, --pprof, --flamegraph)");
	struct err e = {0};
	struct report_doc *d = NULL;
	if (report_doc_load(&d, argv[optind], &e) || write_exports(d, &x, &e))
		status = fail(&e);
	report_doc_free(d);
	return status;
}

int main(int argc, char **argv)
{
	/* The tool's big arrays (census words, mark map, op records) grow by
	 * realloc.  A fixed mmap threshold keeps every block of 1 MiB or more
	 * mmapped, so growing one is an mremap, never a copy into fresh pages
	 * (glibc's sliding threshold would move them into the heap after the
	 * first big free). */
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	if (argc > 1 && strcmp(argv[1], "layout") == 0)
		return cmd_layout(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "heap") == 0)
		return cmd_heap(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "diff") == 0)
		return cmd_diff(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "export") == 0)
		return cmd_export(argc - 1, argv + 1);

	enum { O_JSON = 256, O_ROOT, O_ENUM, O_PROFILE, O_CONFIG, O_METRICS, O_TOL, O_DEBUG, O_VERSION, O_STRICT,
	       O_METRICS_NAME, O_DEBUG_DIR, O_PID };
	static const struct option lo[] = {
		{"output", required_argument, 0, 'o'}, {"json", required_argument, 0, O_JSON},
		{"root", required_argument, 0, O_ROOT}, {"enum", required_argument, 0, O_ENUM},
		{"profile", required_argument, 0, O_PROFILE}, {"config", required_argument, 0, O_CONFIG},
		{"metrics", required_argument, 0, O_METRICS}, {"tolerance", required_argument, 0, O_TOL},
		{"metrics-name", required_argument, 0, O_METRICS_NAME},
		{"debug-file", required_argument, 0, O_DEBUG}, {"quiet", no_argument, 0, 'q'},
		{"strict", no_argument, 0, O_STRICT}, {"jobs", required_argument, 0, 'j'}, EXPORT_LONG_OPTS,
		{"debug-dir", required_argument, 0, O_DEBUG_DIR}, {"pid", required_argument, 0, O_PID},
		{"help", no_argument, 0, 'h'}, {"version", no_argument, 0, O_VERSION}, {0, 0, 0, 0}};
	struct main_opts o = {.output = "memory-profile.md", .tolerance = 0.15};
	struct source src = {0};
	int c, status = 0;
	char *end;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:qhj:", lo, NULL)) != -1) {
		if (export_opt(c, &o.x, &status)) {
			if (status)
				return status;
			continue;
		}
		switch (c) {
		case 'o': o.output = optarg; break;
		case 'j':
			if (!parse_jobs(optarg, &o.jobs))
				return usage_error("--jobs needs a whole number from 1 to 256");
			break;
		case O_JSON: o.json = optarg; break;
		case O_ROOT: o.po.root = optarg; break;
		case O_ENUM: o.po.enum_name = optarg; break;
		case O_PROFILE: o.po.target_file = optarg; break;
		case O_CONFIG: o.po.config_file = optarg; break;
		case O_METRICS: o.metrics = optarg; break;
		case O_METRICS_NAME: o.metrics_name = optarg; break;
		case O_DEBUG: o.debug_file = optarg; break;
		case O_DEBUG_DIR: o.debug_dir = optarg; break;
		case O_PID:
			if (!parse_pid(optarg, &src.pid))
				return usage_error("--pid needs a process id");
			break;
		case 'q': o.quiet = true; break;
		case O_STRICT: o.strict = true; break;
		case O_TOL:
			o.tolerance = strtod(optarg, &end);
			if (end == optarg || *end || o.tolerance < 0)
				return usage_error("--tolerance needs a non-negative number, e.g. 0.15");
			break;
		case 'h': fputs(USAGE, stdout); return 0;
		case O_VERSION: puts("aggop-inspect " VERSION); return 0;
		default: return bad_option(c, argv);
		}
	}
	if (source_operands(&src, argc, argv, optind))
		return 1;
	if (o.json && strcmp(o.output, "-") == 0 && strcmp(o.json, "-") == 0)
		return usage_error("-o - and --json - would both write to stdout: give one of them a file");
	o.po.progress = !o.quiet;
	if (!o.jobs)
		o.jobs = default_jobs();
	return run_profile(&src, &o);
}
