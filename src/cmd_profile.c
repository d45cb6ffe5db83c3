/* cmd_profile.c: the profile command (aggop-inspect [OPTIONS] CORE
 * [EXECUTABLE], or --pid PID): opens the image, the types and the heap
 * census, profiles, and writes the markdown (with its chart), the JSON and
 * the exports; the summary and the warnings on stderr, the exit status. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_int.h"
#include "heap.h"
#include "profile.h"
#include "types.h"

#define VERSION "0.1.0"

/* The help of the command: its synopsis, its options, the exit statuses.
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

struct profile_cmd_opts {
	const char *output, *json, *metrics, *metrics_name, *debug_file, *debug_dir;
	double tolerance;
	unsigned jobs;
	bool quiet, strict;
	struct profile_options po;
	struct cmd_export_opts x;
};

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

static int run_profile(const struct cmd_source *src, const struct profile_cmd_opts *o)
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
	if (cmd_open_image(src, o->quiet, &img, live, sizeof live, &e) ||
	    open_types_heap(&t, &h, img, image_exe_path(img), &dbg, o->jobs, &e)) {
		status = cmd_fail(&e);
		goto out;
	}
	struct profile_options po = o->po;
	po.release_chunks = h;   /* the census is not asked per chunk after the profile */
	if (profile_run(&p, img, t, h, &po, &e)) {
		status = cmd_fail(&e);
		goto out;
	}
	if (!o->quiet && image_build_id_state(img) == IMAGE_BUILD_ID_NOT_CHECKED)
		fprintf(stderr, "aggop-inspect: warning: executable %s\n", image_build_id_check(img));
	if (o->metrics && report_metrics_check(o->metrics, o->metrics_name, p, o->tolerance, &mx, &e)) {
		status = cmd_fail(&e);
		goto out;
	}
	struct report_meta m = {.core = image_core_path(img), .exe = image_exe_path(img),
				.core_kind = image_core_kind(img), .core_size = image_core_size(img),
				.build_id = image_exe_build_id(img), .seconds = p->seconds, .opts = &o->po,
				.debug_info = types_debug_source(t), .live = src->pid ? live : NULL};
	/* the markdown is opened first: an unwritable -o path is named as given */
	if (report_doc_build(&doc, p, &m, &e) || !(f = cmd_open_out(o->output, &e))) {
		status = cmd_fail(&e);
		goto out;
	}
	char svg[4096];
	if (svg_path(o->output, svg, sizeof svg)) {
		FILE *g;
		m.svg = strrchr(svg, '/') ? strrchr(svg, '/') + 1 : svg;
		if (!(g = cmd_open_out(svg, &e)) || cmd_close_out(g, svg, report_doc_svg(g, doc, &e), &e)) {
			cmd_close_out(f, o->output, 0, &(struct err){0});
			status = cmd_fail(&e);
			goto out;
		}
	}
	if (cmd_close_out(f, o->output, report_doc_markdown(f, doc, &m, &mx, &e), &e)) {
		status = cmd_fail(&e);
		goto out;
	}
	if (o->json && (!(f = cmd_open_out(o->json, &e)) || cmd_close_out(f, o->json, report_doc_json(f, doc, &m, &mx, &e), &e))) {
		status = cmd_fail(&e);
		goto out;
	}
	if (cmd_exports_wanted(&o->x) && (report_doc_check_names(doc, &e) || cmd_write_exports(doc, &o->x, &e))) {
		status = cmd_fail(&e);
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

int cmd_profile(int argc, char **argv)
{
	enum { O_JSON = 256, O_ROOT, O_ENUM, O_PROFILE, O_CONFIG, O_METRICS, O_TOL, O_DEBUG, O_VERSION, O_STRICT,
	       O_METRICS_NAME, O_DEBUG_DIR, O_PID };
	static const struct option lo[] = {
		{"output", required_argument, 0, 'o'}, {"json", required_argument, 0, O_JSON},
		{"root", required_argument, 0, O_ROOT}, {"enum", required_argument, 0, O_ENUM},
		{"profile", required_argument, 0, O_PROFILE}, {"config", required_argument, 0, O_CONFIG},
		{"metrics", required_argument, 0, O_METRICS}, {"tolerance", required_argument, 0, O_TOL},
		{"metrics-name", required_argument, 0, O_METRICS_NAME},
		{"debug-file", required_argument, 0, O_DEBUG}, {"quiet", no_argument, 0, 'q'},
		{"strict", no_argument, 0, O_STRICT}, {"jobs", required_argument, 0, 'j'}, CMD_EXPORT_LONG_OPTS,
		{"debug-dir", required_argument, 0, O_DEBUG_DIR}, {"pid", required_argument, 0, O_PID},
		{"help", no_argument, 0, 'h'}, {"version", no_argument, 0, O_VERSION}, {0, 0, 0, 0}};
	struct profile_cmd_opts o = {.output = "memory-profile.md", .tolerance = 0.15};
	struct cmd_source src = {0};
	int c, status = 0;
	char *end;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:qhj:", lo, NULL)) != -1) {
		if (cmd_export_opt(c, &o.x, &status)) {
			if (status)
				return status;
			continue;
		}
		switch (c) {
		case 'o': o.output = optarg; break;
		case 'j':
			if (!cmd_parse_jobs(optarg, &o.jobs))
				return cmd_usage_error("--jobs needs a whole number from 1 to 256");
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
			if (!cmd_parse_pid(optarg, &src.pid))
				return cmd_usage_error("--pid needs a process id");
			break;
		case 'q': o.quiet = true; break;
		case O_STRICT: o.strict = true; break;
		case O_TOL:
			o.tolerance = strtod(optarg, &end);
			if (end == optarg || *end || o.tolerance < 0)
				return cmd_usage_error("--tolerance needs a non-negative number, e.g. 0.15");
			break;
		case 'h': fputs(USAGE, stdout); return 0;
		case O_VERSION: puts("aggop-inspect " VERSION); return 0;
		default: return cmd_bad_option(c, argv);
		}
	}
	if (cmd_source_operands(&src, argc, argv, optind))
		return 1;
	if (o.json && strcmp(o.output, "-") == 0 && strcmp(o.json, "-") == 0)
		return cmd_usage_error("-o - and --json - would both write to stdout: give one of them a file");
	o.po.progress = !o.quiet;
	if (!o.jobs)
		o.jobs = cmd_default_jobs();
	return run_profile(&src, &o);
}
