/* cmd_int.h: what the command drivers (src/cmd_*.c) share: the source of
 * memory (a core or a live process), option helpers, the one error line and
 * the exit statuses, the outputs and the exports of a profile.  Private to
 * the command layer. */
#ifndef AGGOP_CMD_INT_H
#define AGGOP_CMD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cmd.h"
#include "err.h"
#include "image.h"
#include "report.h"

/* Where the memory comes from: a core with its executable (NULL: the one
 * the core names), or a live process (pid > 0, exe NULL: /proc/PID/exe). */
struct cmd_source {
	const char *core, *exe;
	int pid;
};

/* Exports of a profile (from a run or a saved JSON). */
struct cmd_export_opts {
	const char *folded, *pprof, *flamegraph;
	enum report_family fam;
};

#define CMD_EXPORT_LONG_OPTS                                                                          \
	{"folded", required_argument, 0, 'F'}, {"folded-bytes", required_argument, 0, 'B'},           \
	{"pprof", required_argument, 0, 'P'}, {"flamegraph", required_argument, 0, 'G'}

/* Prints e's one line on stderr; the exit status for its code. */
int cmd_fail(const struct err *e);
/* Prints a usage error ("...; see --help"); exit status 1. */
int cmd_usage_error(const char *msg);
/* One line for what getopt rejected (opterr is off: getopt prints nothing). */
int cmd_bad_option(int c, char **argv);
/* "--pid PID": false when PID is not a positive number. */
bool cmd_parse_pid(const char *arg, int *pid);
/* --jobs N: 1 to 256; false (a usage error) otherwise. */
bool cmd_parse_jobs(const char *arg, unsigned *jobs);
/* The CPUs this process may run on (sched_getaffinity), at least 1. */
unsigned cmd_default_jobs(void);
/* The source's operands: CORE [EXE], or with --pid at most EXE; 0, or the
 * usage error's exit status (printed). */
int cmd_source_operands(struct cmd_source *src, int argc, char **argv, int first);
/* Opens the image of src; for a live process live holds the line saying
 * how long it was stopped (printed on stderr unless quiet). */
int cmd_open_image(const struct cmd_source *src, bool quiet, struct image **img, char *live, size_t livesz,
		   struct err *e);
/* An output file ('-' = stdout); NULL with e filled when it cannot be written. */
FILE *cmd_open_out(const char *path, struct err *e);
/* Closes an output; a write that failed on the way (ENOSPC, EIO) or at
 * the close is reported with its reason.  Returns rc when all went well. */
int cmd_close_out(FILE *f, const char *path, int rc, struct err *e);
bool cmd_exports_wanted(const struct cmd_export_opts *x);
int cmd_write_exports(const struct report_doc *d, const struct cmd_export_opts *x, struct err *e);
/* Parses an export option of getopt's current one; false when c is not one. */
bool cmd_export_opt(int c, struct cmd_export_opts *x, int *status);

#endif
