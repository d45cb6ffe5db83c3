/* cmd.c: what the command drivers share (cmd_int.h): the one error line
 * and the exit statuses, option parsing helpers, the memory source (a core
 * or a live process), outputs and the exports of a profile. */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_int.h"

int cmd_fail(const struct err *e)
{
	fprintf(stderr, "aggop-inspect: %s\n", e->msg[0] ? e->msg : "failed");
	return err_exit_status(e->code ? e->code : ERR_INPUT);
}

int cmd_usage_error(const char *msg)
{
	fprintf(stderr, "aggop-inspect: %s; see --help\n", msg);
	return 1;
}

/* One line for what getopt rejected (opterr is off: getopt prints nothing). */
int cmd_bad_option(int c, char **argv)
{
	char msg[256];
	const char *arg = argv[optind - 1];
	if (c == ':')
		snprintf(msg, sizeof msg, "option %s needs an argument", arg);
	else if (optopt && strncmp(arg, "--", 2) != 0)
		snprintf(msg, sizeof msg, "unknown option -%c", optopt);
	else
		snprintf(msg, sizeof msg, "unknown option %s", arg);
	return cmd_usage_error(msg);
}

/* "--pid PID": false when PID is not a positive number. */
bool cmd_parse_pid(const char *arg, int *pid)
{
	char *end;
	long v = strtol(arg, &end, 10);
	if (end == arg || *end || v <= 0 || v > 0x7fffffff)
		return false;
	*pid = (int)v;
	return true;
}

/* The source's operands: CORE [EXE], or with --pid at most EXE. */
int cmd_source_operands(struct cmd_source *src, int argc, char **argv, int first)
{
	int n = argc - first;
	if (src->pid ? n > 1 : n < 1 || n > 2)
		return cmd_usage_error(src->pid ? "--pid takes at most one operand, the executable"
					: "need CORE [EXECUTABLE] (or --pid PID)");
	if (src->pid)
		src->exe = n ? argv[first] : NULL;
	else {
		src->core = argv[first];
		src->exe = n == 2 ? argv[first + 1] : NULL;
	}
	return 0;
}

int cmd_open_image(const struct cmd_source *src, bool quiet, struct image **img, char *live, size_t livesz,
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
bool cmd_parse_jobs(const char *arg, unsigned *jobs)
{
	char *end;
	errno = 0;
	long n = strtol(arg, &end, 10);
	if (errno || end == arg || *end || n < 1 || n > 256)
		return false;
	*jobs = (unsigned)n;
	return true;
}

FILE *cmd_open_out(const char *path, struct err *e)
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
int cmd_close_out(FILE *f, const char *path, int rc, struct err *e)
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

bool cmd_exports_wanted(const struct cmd_export_opts *x)
{
	return x->folded || x->pprof || x->flamegraph;
}

int cmd_write_exports(const struct report_doc *d, const struct cmd_export_opts *x, struct err *e)
{
	FILE *f;
	if (x->folded && (!(f = cmd_open_out(x->folded, e)) || cmd_close_out(f, x->folded, report_folded(f, d, x->fam, e), e)))
		return e->code;
	if (x->pprof && (!(f = cmd_open_out(x->pprof, e)) || cmd_close_out(f, x->pprof, report_pprof(f, d, e), e)))
		return e->code;
	if (x->flamegraph && (!(f = cmd_open_out(x->flamegraph, e)) ||
			      cmd_close_out(f, x->flamegraph, report_flamegraph(f, d, x->fam, e), e)))
		return e->code;
	return 0;
}

/* Parses an export option of getopt's current one; false when c is not one. */
bool cmd_export_opt(int c, struct cmd_export_opts *x, int *status)
{
	struct err e = {0};
	switch (c) {
	case 'F': x->folded = optarg; return true;
	case 'P': x->pprof = optarg; return true;
	case 'G': x->flamegraph = optarg; return true;
	case 'B':
		if (report_family_parse(optarg, &x->fam, &e))
			*status = cmd_usage_error(e.msg);
		return true;
	default: return false;
	}
}

/* The CPUs this process may run on (sched_getaffinity), at least 1. */
unsigned cmd_default_jobs(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof set, &set) != 0)
		return 1;
	int n = CPU_COUNT(&set);
	return n < 1 ? 1 : n > 64 ? 64 : (unsigned)n;
}
