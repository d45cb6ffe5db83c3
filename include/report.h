/* report.h: renderings of a profile (markdown, JSON and an SVG chart), the
 * summary that opens them (what dominates, why, what to change, what it
 * saves), the metrics coherence check, the recommendation rules, the diff,
 * the gate, the exports, and the `layout` command's rendering of one type's
 * layout.
 *
 * Every rendering reads one result model, the report document (struct
 * report_doc below), built once from a profile (report_doc_build) or loaded
 * from a saved --json file (report_doc_load).
 *
 * Lifetimes: the document owns everything it holds (every string copied or
 * interned in it, every field path resolved to its name); nothing in it
 * points into the profile, the walker, the types, the heap or the image.
 * So the order is: profile_run; report_doc_build; profile_free (before the
 * types, heap and image are closed, include/profile.h); render from the
 * document as long as wanted; report_doc_free.
 *
 * The rules are data the report prints, so a reader can see why an offender
 * got its recommendation (report_rules).
 */
#ifndef AGGOP_REPORT_H
#define AGGOP_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "err.h"
#include "profile.h"
#include "types.h"

struct report_meta {
	const char *core, *exe;
	const char *core_kind;      /* "gcore" / "kernel" */
	uint64_t core_size;
	const char *build_id;
	double seconds;             /* whole run */
	const char *svg;            /* the chart's file name as the markdown links it, or NULL */
	/* the target as the user named it (--root, --enum, --profile, --config),
	 * recorded in the JSON's "options" so that `diff BASELINE.json CORE EXE`
	 * profiles the core the same way; NULL: none given */
	const struct profile_options *opts;
	const char *debug_info;     /* where the DWARF was found (types_debug_source), or NULL */
	const char *live;           /* for --pid: how long the process was stopped, or NULL */
};

/* ---- The report document ----
 *
 * Two parts.  The saved figures (every member but run) are what --json
 * writes and what a diff, the gate and the exports read: filled from a
 * saved file (report_doc_load) or from a profile in hand
 * (report_doc_build, never through JSON text), checked the same way (names
 * unique where the diff matches by name).  The JSON carries
 * "format_version": REPORT_FORMAT_VERSION; a document without it, or with
 * another, is refused.  A saved file is untrusted input: every member the
 * diff and the exports read is checked (type, range) when it is loaded.
 *
 * The run (d->run, only for a profile in hand) is everything else the
 * markdown, the JSON and the chart print: the profile's results copied into
 * the document (struct report_run).  A new figure is added to the profile,
 * copied here if it is a pointer, and rendered.
 */
#define REPORT_FORMAT_VERSION 1

struct report_doc_bytes {
	uint64_t requested, used, usable, chunk, allocations;
};

struct report_doc_field {     /* a (field path, container) of a variant or a feature */
	char *path, *container;
	struct report_doc_bytes b;
};

struct report_doc_variant {   /* enum.variants[] and variants[] joined by name */
	char *name;
	bool has_discr;
	int64_t discr;
	uint64_t payload_size, slot_slack;              /* the layout */
	bool profiled;                                   /* in variants[]: count > 0 */
	uint64_t count, inline_bytes, payload_bytes;
	struct report_doc_bytes heap;
	struct report_doc_field *fields;
	size_t nfields;
};

struct report_doc_feature {
	char *name, *variant;
	uint64_t count, inline_bytes;
	struct report_doc_bytes heap;
	struct profile_pct per_instance;                 /* heap requested per instance */
	struct report_doc_field *fields;
	size_t nfields;
};

struct report_doc_table {
	char *name;
	uint64_t entities, ops, inline_bytes;
	struct report_doc_bytes heap, overhead;
	struct profile_pct per_entity, per_entity_chunk;
	struct report_doc_feature *features;
	size_t nfeatures;
};

/* The options a profile was made with (JSON "options"), each NULL when not
 * given or not recorded: what a diff reuses for a core side. */
struct report_doc_options {
	char *root, *enum_name, *profile, *config;
};

struct report_doc_owner {    /* heap.owners[]: a typed owner's field path and container */
	char *owner, *path, *container;
	struct report_doc_bytes b;
};

struct report_doc_rest {     /* heap.unaccounted.CLASS: chunks no typed owner reaches */
	char *what;
	uint64_t chunks, chunk_bytes;
};

/* Heap reached only through raw pointers of one type and field path (no
 * decoder owned it). */
struct report_nodecoder {
	char *type, *path;
	uint64_t bytes, allocations;
};

/* A profile's results, owned by the document: p is a copy of the profile
 * (walker NULL; the names it borrowed from the types interned in strs; the
 * per-entity and per-instance arrays, already reduced to percentiles, left
 * empty), field path ids name paths[id] (report_path), container kinds
 * name kinds[kind] (report_kind). */
struct report_run {
	struct profile *p;
	char **paths;
	size_t npaths;
	char **kinds;
	size_t nkinds;
	struct report_nodecoder *nodecoders;
	size_t nnodecoders;
	char **strs;
	size_t nstrs, capstrs;
};

struct report_doc {
	struct report_run *run;   /* a profile in hand: its results; NULL for a loaded file */
	char *source;             /* the file, or "CORE (EXE)" for a run */
	char *target, *enum_name, *core, *exe;
	struct report_doc_options opts;
	uint64_t enum_size, enum_align, tag_offset, tag_size;
	struct report_doc_variant *variants;             /* the enum's, layout order */
	size_t nvariants;
	uint64_t entities, ops, inline_bytes, payload_bytes;
	struct report_doc_bytes heap, overhead;
	struct profile_pct per_entity, per_entity_chunk;
	uint64_t heap_in_use_chunk, heap_attributed_chunk;
	struct report_doc_table *tables;
	size_t ntables;
	/* the whole heap (heap.owners, heap.unaccounted), when the profile has it */
	bool whole;
	struct report_doc_owner *owners;   /* the typed owners besides the tables, largest first */
	size_t nowners;
	struct report_doc_rest *rest;      /* the remainder's classes */
	size_t nrest;
};

/* Loads a profile JSON.  ERR_INPUT with one line naming the file and the
 * member when it is not a profile of this format version. */
int report_doc_load(struct report_doc **out, const char *path, struct err *e);
/* The document of a profile in hand: the run copied, the saved figures
 * filled from it (m names the snapshot and the options; NULL: none).
 * ERR_NOMEM when memory runs out.  p may be freed afterwards. */
int report_doc_build(struct report_doc **out, const struct profile *p, const struct report_meta *m,
		     struct err *e);
/* The document a diff or an export reads: report_doc_build, then its names
 * checked (report_doc_check_names) as a loaded file's are. */
int report_doc_from_profile(struct report_doc **out, const struct profile *p, const struct report_meta *m,
			    struct err *e);
/* The saved figures' names (variants, tables, a table's features) are
 * unique; ERR_INPUT naming the first repeat as report_doc_load would. */
int report_doc_check_names(const struct report_doc *d, struct err *e);
void report_run_free(struct report_run *r);
void report_doc_free(struct report_doc *d);

/* A field path's name ("?" when the document has no run or no such path)
 * and a container kind's name (enum walk_kind). */
const char *report_path(const struct report_doc *d, uint32_t path);
const char *report_kind(const struct report_doc *d, uint8_t kind);

/* v with thousands separators ("1,234,567") in buf (at least 28 bytes). */
const char *report_num(char *buf, size_t size, uint64_t v);

/* The metric --metrics checks unless --metrics-name names another. */
#define REPORT_METRIC_DEFAULT "bytes_per_entity_p99"

struct report_metrics {
	bool have;
	const char *file;
	const char *name;           /* the metric's name as asked (REPORT_METRIC_DEFAULT) */
	double metric;              /* its value as scraped */
	uint64_t measured;          /* the profile's per-entity p99 */
	double tolerance;
	double relative;            /* |metric - measured| / measured */
	bool diverged;
};

/* Reads a saved Prometheus scrape and compares the metric name (NULL:
 * REPORT_METRIC_DEFAULT; the first sample whose name ends so, labels
 * allowed) with the profile's per-entity p99.  ERR_INPUT when the file or
 * the metric is missing. */
int report_metrics_check(const char *file, const char *name, const struct profile *p, double tolerance,
			 struct report_metrics *out, struct err *e);

/* What a recommendation looks at: one variant in one slot (a cell), or a
 * whole slot. */
struct report_owner {
	uint64_t count, payload_bytes;
	struct profile_bytes heap;
	const struct profile_fields *fields;
	uint32_t variant;            /* the owner's one variant; UINT32_MAX for a mixed slot */
};
struct report_owner report_owner_cell(const struct profile_cell *c);
struct report_owner report_owner_feature(const struct profile_feature *f);

/* A recommendation for one owner: "keep", "box smaller", "shrink",
 * "allocate lazily", "restructure", with the rule that fired, the pattern
 * it names, and the field path it is about (UINT32_MAX when none). */
struct report_advice {
	const char *verdict;
	const char *rule;
	const char *pattern;
	uint32_t path;
	char why[200];
};
void report_advise(const struct report_doc *d, const struct profile_table *tb,
		   const struct report_owner *ow, struct report_advice *out);
/* What following rule `rule` (about field path `path`) saves for the owner on
 * this snapshot, in *unit ("heap requested bytes", "inline bytes", "heap
 * chunk bytes"): R1 the path's capacity slack, R2 the owner's capacity slack,
 * R3 what boxing the owner's variant adds to boxing every larger one (the
 * layout advisor's row, over every op), R4 the allocator overhead of its
 * boxes.  A rule whose saving is 0 does not fire (report_advise). */
uint64_t report_rule_saving(const struct report_doc *d, const struct report_owner *ow, const char *rule, uint32_t path,
			    const char **unit);
/* Writes a->why for a->rule from the owner's own figures (an offender's
 * text is computed from the offender's table, never from one member). */
void report_advice_explain(const struct report_doc *d, const struct report_owner *ow, struct report_advice *a);

/* One row of the boxing model (types_layout.h), the one computation behind
 * rule R3, the layout advisor and the chart: boxing the variants of steps
 * 0..step (largest payload first) makes the enum `size` bytes and saves
 * `saved` inline bytes over every op; `adds` is what this step's variant
 * adds to the step before (0: boxing it shrinks nothing more). */
struct report_boxing {
	uint32_t step, variant;
	uint64_t size, saved, adds;
};
bool report_boxing_step(const struct report_doc *d, uint32_t step, struct report_boxing *out);
/* The step that boxes variant; false (zeros) when the model does not reach it. */
bool report_boxing_of(const struct report_doc *d, uint32_t variant, struct report_boxing *out);
/* The rules, one per line, as printed in the report. */
extern const char *const report_rules[];

/* Offenders grouped by pattern: the cells (one variant in one slot) whose
 * recommendation names the same rule, variant, op label and field path are
 * one offender listing its slots, ranked by what they cost together
 * (inline + heap chunk). */
struct report_member {
	uint32_t table, slot;
	const struct profile_feature *f;
	const struct profile_cell *c;
	uint64_t total;                  /* inline + heap chunk */
};
struct report_group {
	uint32_t variant;
	const char *op;                  /* the members' op label ("" when none) */
	struct report_advice adv;        /* the first member's */
	struct report_member *members;   /* most expensive first */
	size_t nmembers;
	uint64_t count, inline_bytes, payload_bytes, total;
	struct profile_bytes heap;
	struct profile_fields fields;    /* the members' fields summed by path */
	/* what following the recommendation saves on this snapshot */
	uint64_t saving;                 /* in saving_unit */
	const char *saving_unit;         /* "heap requested bytes", "inline bytes", "heap chunk bytes" */
	uint64_t holders;                /* entities holding one of the members */
	uint64_t saving_entities;        /* the entities the saving is spread over: holders, or every entity
					  * for R3 (every op's slot shrinks) */
	int shared_with;                 /* >= 0: the saving is the one already counted for group
					  * shared_with (R3 of one variant in several groups); saving is 0 */
	char change[320];                /* what to change, in words */
};
struct report_groups {
	struct report_group *g;
	size_t n;
	struct report_member *members;
};
int report_groups_build(const struct report_doc *d, struct report_groups *out, struct err *e);
void report_groups_free(struct report_groups *g);

/* The answer first: the variant costing most, the pattern group inside it
 * that costs most (its first member is the feature, its field path the
 * path), and what following its recommendation saves. */
struct report_summary {
	bool have;
	uint32_t variant;
	uint64_t variant_bytes, variant_ops, ops_bytes;   /* inline + heap chunk */
	const struct report_group *group;
	uint64_t per_entity;             /* group->saving / group->holders */
};
void report_summarize(const struct report_doc *d, const struct report_groups *g, struct report_summary *out);

/* The last two segments of a field path ("Exact > values"), or all of it:
 * the container and the field a change is about. */
const char *report_path_tail(const char *path);

/* A variant's label: "Windowed<Percentile>" when the slots holding it
 * carry an op label other than the variant's name, else the name. */
const char *report_variant_label(const struct report_doc *d, uint32_t variant, const char *op, char *buf, size_t size);

/* The chart beside the markdown: bytes per variant split into the used
 * payload, slot slack and heap chunk, and the variants' payload sizes in
 * 8-byte bands with the boxing threshold (rule R3). */
int report_doc_svg(FILE *out, const struct report_doc *d, struct err *e);

/* Text for an SVG/XML document: <, >, & and " escaped, control characters
 * dropped (the chart and the flame graph). */
void report_xml(FILE *o, const char *s);
/* Writes s as one markdown table cell: '|' escaped, line breaks as spaces. */
void report_md_cell(FILE *o, const char *s);

/* Bytes the walk reached but could not attribute exactly (unreadable
 * headers, pages missing from the core, heap behind raw pointers no decoder
 * owns): true when there are any.  The report names them by reason, main
 * warns on stderr, and --strict turns them into exit 4. */
bool report_has_unattributed(const struct profile *p);
/* One line for stderr saying what was not attributed (no newline). */
void report_unattributed_line(const struct profile *p, char *buf, size_t size);

/* The markdown report and the JSON document of d (which needs its run:
 * ERR_USAGE for a loaded file). */
int report_doc_markdown(FILE *out, const struct report_doc *d, const struct report_meta *m,
			const struct report_metrics *mx, struct err *e);
int report_doc_json(FILE *out, const struct report_doc *d, const struct report_meta *m,
		    const struct report_metrics *mx, struct err *e);

/* Prints the layout of any type (enum, struct, union, C enumeration, or just
 * size and alignment for the rest) as text or as JSON (types_layout.h has
 * the definitions). */
int report_layout_print(FILE *out, const struct types *t, type_id id, bool json, struct err *e);

/* The byte families an export can weigh stacks by. */
enum report_family {
	REPORT_FAM_REQUESTED, REPORT_FAM_USED, REPORT_FAM_USABLE, REPORT_FAM_CHUNK,
	REPORT_FAM_ALLOCATIONS, REPORT_FAM_INLINE, REPORT_FAM_COUNT
};
/* "requested", "used", "usable", "chunk", "allocations" (or "objects"),
 * "inline"; ERR_USAGE otherwise. */
int report_family_parse(const char *s, enum report_family *out, struct err *e);
const char *report_family_name(enum report_family f);

/* Folded stacks (flamegraph.pl, inferno, speedscope): one line per
 * table;feature;variant;field path frames;container and its weight in the
 * family.  The heap families' lines sum to totals.heap_<family>_bytes (and
 * allocations to totals.allocations); "inline" has one line per
 * table;feature;variant;[inline slot], summing to totals.inline_bytes. */
int report_folded(FILE *out, const struct report_doc *d, enum report_family fam, struct err *e);
/* A gzip-compressed pprof profile.proto: sample types objects/count and
 * requested, used, usable, chunk and inline space/bytes; one sample per
 * stack of report_folded, its locations the frames (leaf first). */
int report_pprof(FILE *out, const struct report_doc *d, struct err *e);
/* A self-contained interactive flame graph (SVG with its script inline:
 * click to zoom, search, no network) of the stacks weighed by fam. */
int report_flamegraph(FILE *out, const struct report_doc *d, enum report_family fam, struct err *e);

/* The diff of two profiles: every figure of both (totals, per-entity
 * percentiles, overhead, the enum's layout, each variant, table, feature,
 * variant field path and container kind), matched by name.  Figures are
 * named "totals.heap_chunk_bytes", "per_entity.p99", "enum.size",
 * "variant.Windowed.heap_chunk_bytes", "table.TxnByUser.per_entity.p99",
 * "feature.TxnByUser.txn_count_5m.count", "field.Windowed > buckets (SmallVec).allocations",
 * "container.Box.heap_used_bytes", "enum.variant.Windowed.payload_size".
 * ERR_INPUT when the two are profiles of different targets or enums. */
struct report_diff;
int report_diff_make(struct report_diff **out, const struct report_doc *old, const struct report_doc *new_,
		     struct err *e);
void report_diff_free(struct report_diff *d);
int report_diff_markdown(FILE *out, const struct report_diff *d, struct err *e);
int report_diff_json(FILE *out, const struct report_diff *d, struct err *e);
/* Every figure as "NAME OLD NEW" (a side without it: '-'), for writing gates. */
int report_diff_figures(FILE *out, const struct report_diff *d, struct err *e);

/* The gate: expressions "FIGURE OP LIMIT", OP one of > >= < <=, FIGURE a
 * figure name where '*' matches any run of characters, LIMIT
 *   N[unit]        the new value                  (enum.size > 80)
 *   +N[unit], -N   the change new - old           (variant.Windowed.heap_chunk_bytes > +1MiB)
 *   +N%, -N%       the change relative to old     (per_entity.p99 > +5%)
 *   xF             the ratio new / old            (variant.*.heap_chunk_bytes_per_op > x1.2)
 * units: B, KB, MB, GB (10^3), KiB, MiB, GiB (2^10).  A figure absent on a
 * side counts 0 there; an expression that names no figure of either is an
 * error (a typo must not pass the gate).  A thresholds file holds one
 * expression a line, '#' comments. */
struct report_gate;
int report_gate_create(struct report_gate **out, struct err *e);
void report_gate_free(struct report_gate *g);
int report_gate_add(struct report_gate *g, const char *expr, struct err *e);
int report_gate_load(struct report_gate *g, const char *file, struct err *e);
/* Evaluates g on d and keeps the breaches in d (the diff's markdown and JSON
 * then show them).  ERR_INPUT when an expression matches no figure. */
int report_diff_gate(struct report_diff *d, const struct report_gate *g, struct err *e);
size_t report_diff_breaches(const struct report_diff *d);
/* One line per breach naming the figure, old, new and the limit (no newline). */
void report_diff_breach_line(const struct report_diff *d, size_t i, char *buf, size_t size);

#endif
