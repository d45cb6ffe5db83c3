/* cmd_layout.c: the layout command (aggop-inspect layout EXECUTABLE TYPE):
 * opens the executable's types, looks the type up and has the report layer
 * render its layout (report_layout_print). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd_int.h"
#include "types.h"

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

/* True when path is an ELF core file (e_type ET_CORE, either byte order). */
static bool is_core_file(const char *path)
{
	unsigned char h[18];
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	bool core = fread(h, 1, sizeof h, f) == sizeof h && !memcmp(h, "\177ELF", 4) &&
		    (h[5] == 2 ? h[16] == 0 && h[17] == 4 : h[16] == 4 && h[17] == 0);
	fclose(f);
	return core;
}

int cmd_layout_run(FILE *out, const char *exe, const char *debug_file, const char *type, bool json,
		   struct err *e)
{
	struct types *t;
	type_id id;
	if (is_core_file(exe))
		return err_set(e, ERR_INPUT, "%s is a core dump, not an executable: layout reads the types from the "
			       "executable (aggop-inspect layout EXECUTABLE TYPE)", exe);
	int rc = types_open(&t, exe, debug_file, e);
	if (rc)
		return rc;
	rc = types_lookup(t, type, &id, e);
	if (!rc)
		rc = report_layout_print(out, t, id, json, e);
	types_close(t);
	return rc;
}

int cmd_layout(int argc, char **argv)
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
			return cmd_bad_option(c, argv);
	}
	if (argc - optind != 2)
		return cmd_usage_error("layout needs EXECUTABLE and TYPE");
	struct err e = {0};
	if (cmd_layout_run(stdout, argv[optind], dbg, argv[optind + 1], json, &e))
		return cmd_fail(&e);
	return 0;
}
