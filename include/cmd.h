/* cmd.h: the command layer, one driver per subcommand (src/cmd_*.c).
 *
 * Each driver parses its own options (argv[0] is the command's name, or the
 * program's for the profile command), opens what it needs (image, types,
 * heap census, saved profiles), has the layers below compute and the report
 * layer render, prints the one error line and returns the process's exit
 * status (design.md "Exit status").  main.c only picks the driver.  The
 * layer sits above report: it includes every layer's header, none includes
 * it.
 */
#ifndef AGGOP_CMD_H
#define AGGOP_CMD_H

#include <stdbool.h>
#include <stdio.h>

#include "err.h"
#include "image.h"

/* aggop-inspect [OPTIONS] CORE [EXECUTABLE] | --pid PID [EXECUTABLE] */
int cmd_profile(int argc, char **argv);
/* aggop-inspect layout [--json] [--debug-file FILE] EXECUTABLE TYPE */
int cmd_layout(int argc, char **argv);
/* aggop-inspect heap [--json] [--jobs N] CORE [EXECUTABLE] | --pid PID */
int cmd_heap(int argc, char **argv);
/* aggop-inspect diff [OPTIONS] OLD NEW */
int cmd_diff(int argc, char **argv);
/* aggop-inspect export [OPTIONS] PROFILE.json */
int cmd_export(int argc, char **argv);

/* The layout command's work without its options: opens exe's types (with
 * debug_file, may be NULL), looks TYPE up (qualified, or by last path
 * segment) and prints its layout (report_layout_print) as text or JSON.
 * ERR_INPUT when exe is a core dump. */
int cmd_layout_run(FILE *out, const char *exe, const char *debug_file, const char *type, bool json,
		   struct err *e);

/* The heap command's work on an image already open: takes the census with
 * jobs threads (the output does not depend on them) and prints it (text, or
 * JSON with json).  Corruption in the heap is reported in the output, not
 * as an error. */
int cmd_heap_run(FILE *out, const struct image *img, bool json, unsigned jobs, struct err *e);

#endif
