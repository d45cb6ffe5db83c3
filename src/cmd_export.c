/* cmd_export.c: the export command (aggop-inspect export PROFILE.json):
 * the folded stacks, pprof and flame graph of a saved profile. */
#include <getopt.h>
#include <stdio.h>

#include "cmd_int.h"

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

int cmd_export(int argc, char **argv)
{
	static const struct option lo[] = {CMD_EXPORT_LONG_OPTS, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
	struct cmd_export_opts x = {0};
	int c, status = 0;
	opterr = 0;
	while (status == 0 && (c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		if (c == 'h') {
			fputs(USAGE_EXPORT, stdout);
			return 0;
		}
		if (!cmd_export_opt(c, &x, &status))
			return cmd_bad_option(c, argv);
	}
	if (status)
		return status;
	if (argc - optind != 1)
		return cmd_usage_error("export needs one PROFILE.json");
	if (!cmd_exports_wanted(&x))
		return cmd_usage_error("export: say what to write (--folded, --pprof, --flamegraph)");
	struct err e = {0};
	struct report_doc *d = NULL;
	if (report_doc_load(&d, argv[optind], &e) || cmd_write_exports(d, &x, &e))
		status = cmd_fail(&e);
	report_doc_free(d);
	return status;
}
