/* cmd_diff.c: the diff command (aggop-inspect diff OLD NEW): each side a
 * saved JSON profile, or a core (with its executable) or a running process
 * profiled now with the target the saved side records; the diff in
 * markdown and JSON, the figures, and the gate (exit 5). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd_int.h"
#include "heap.h"
#include "profile.h"
#include "types.h"

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

/* One side of a diff: a JSON profile, or a core (and its executable) or a
 * running process, profiled now. */
struct diff_operand {
	const char *json;
	struct cmd_source src;
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
static int profile_doc(const struct cmd_source *src, const struct profile_options *po, struct report_doc **out,
		       struct err *e)
{
	struct image *img = NULL;
	struct types *t = NULL;
	struct heap *h = NULL;
	struct profile *p = NULL;
	char live[256];
	int rc = cmd_open_image(src, false, &img, live, sizeof live, e) || types_open(&t, image_exe_path(img), NULL, e) ||
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

int cmd_diff(int argc, char **argv)
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
	struct cmd_source live = {0};
	bool cores = false, figures = false, quiet = false;
	struct profile_options po = {0};
	struct report_gate *g = NULL;
	struct report_doc *doc[2] = {NULL, NULL};
	struct report_diff *d = NULL;
	struct err e = {0};
	int c, status = 0;
	FILE *f;
	if (report_gate_create(&g, &e))
		return cmd_fail(&e);
	opterr = 0;
	while (status == 0 && (c = getopt_long(argc, argv, ":o:qh", lo, NULL)) != -1) {
		switch (c) {
		case 'o': output = optarg; break;
		case O_JSON: json = optarg; break;
		case O_FAIL:
			if (report_gate_add(g, optarg, &e))
				status = cmd_usage_error(e.msg);
			break;
		case O_THR:
			if (report_gate_load(g, optarg, &e))
				status = e.code == ERR_USAGE ? cmd_usage_error(e.msg) : cmd_fail(&e);
			break;
		case O_CORE: cores = true; break;
		case O_FIG: figures = true; break;
		case O_ROOT: po.root = optarg; break;
		case O_ENUM: po.enum_name = optarg; break;
		case O_PROFILE: po.target_file = optarg; break;
		case O_CONFIG: po.config_file = optarg; break;
		case O_PID:
			if (!cmd_parse_pid(optarg, &live.pid))
				status = cmd_usage_error("--pid needs a process id");
			break;
		case 'q': quiet = true; break;
		case 'h': fputs(USAGE_DIFF, stdout); report_gate_free(g); return 0;
		default: status = cmd_bad_option(c, argv);
		}
	}
	struct diff_operand side[2] = {{NULL, {0}}, {NULL, {0}}};
	if (!status && live.pid && cores)
		status = cmd_usage_error("diff OLD --pid PID: OLD is a JSON profile or CORE EXECUTABLE (no --core)");
	else if (!status && cores && argc - optind != 4)
		status = cmd_usage_error("diff --core needs OLD.core OLD.exe NEW.core NEW.exe");
	if (!status && diff_operands(argv, optind, argc, cores, live.pid, side, &e))
		status = e.code == ERR_USAGE ? cmd_usage_error(e.msg) : cmd_fail(&e);
	/* saved profiles first: a core or process side reuses the target they record */
	for (int s = 0; !status && s < 2; s++)
		if (side[s].json && report_doc_load(&doc[s], side[s].json, &e))
			status = cmd_fail(&e);
	struct profile_options use = diff_options(&po, doc);
	for (int s = 0; !status && s < 2; s++)
		if (!side[s].json && profile_doc(&side[s].src, &use, &doc[s], &e))
			status = cmd_fail(&e);
	if (!status && (report_diff_make(&d, doc[0], doc[1], &e) || report_diff_gate(d, g, &e)))
		status = cmd_fail(&e);
	if (!status && figures && report_diff_figures(stdout, d, &e))
		status = cmd_fail(&e);
	if (!status && !figures &&
	    (!(f = cmd_open_out(output, &e)) || cmd_close_out(f, output, report_diff_markdown(f, d, &e), &e)))
		status = cmd_fail(&e);
	if (!status && json && (!(f = cmd_open_out(json, &e)) || cmd_close_out(f, json, report_diff_json(f, d, &e), &e)))
		status = cmd_fail(&e);
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
