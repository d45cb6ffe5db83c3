/* report_diff_out.c: the diff as markdown and as JSON (include/report.h).
 *
 * The markdown opens with a summary (per-entity percentiles, the ops' bytes,
 * what grew and shrank most and by how much per entity, what appeared and
 * vanished, the enum's size), then the gate when there is one, then a
 * section per kind of row, each sorted by the absolute change of its bytes;
 * rows that did not change are counted, not listed, and the long sections
 * (features, field paths) stop at MD_ROWS rows (the JSON has them all).
 */
#include "report_diff_int.h"
#include "fmt.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

#define MD_ROWS 40
/* x with thousands separators, and a change with its sign; each use has its own buffer */
#define N(x) fmt_num((char[32]){0}, 32, (uint64_t)(x))
#define S(x) fmt_signed((char[32]){0}, 32, (int64_t)(x))


static void rel(FILE *o, uint64_t old, uint64_t new_)
{
	double r = diff_relative(old, new_);
	if (isfinite(r))
		fprintf(o, "%+.1f%%", r * 100);
	else
		fputs("new", o);
}

/* "1234 -> 1300 (+66, +5.3%)" */
static void change(FILE *o, uint64_t old, uint64_t new_)
{
	fprintf(o, "%s -> %s (%s, ", N(old), N(new_), S(diff_change(old, new_)));
	rel(o, old, new_);
	fputc(')', o);
}

/* Bytes for a reader: "1.50 MiB", "512 B". */
static void human(char *buf, size_t size, double v)
{
	const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double a = fabs(v);
	int k = 0;
	while (a >= 1024 && k < 4) {
		a /= 1024;
		v /= 1024;
		k++;
	}
	snprintf(buf, size, k ? "%+.2f %s" : "%+.0f %s", v, u[k]);
}

static int metric_index(enum diff_kind_id k, const char *name)
{
	for (size_t i = 0; i < diff_kinds[k].nmetrics; i++)
		if (strcmp(diff_kinds[k].metrics[i], name) == 0)
			return (int)i;
	return -1;
}

static const struct diff_row *singleton(const struct report_diff *d, enum diff_kind_id k)
{
	for (size_t i = 0; i < d->rows.len; i++)
		if (d->rows.data[i].kind == k)
			return &d->rows.data[i];
	return NULL;   /* never: doc_put makes every singleton */
}

static uint64_t val(const struct diff_row *r, int s, const char *metric)
{
	int m = metric_index(r->kind, metric);
	return m >= 0 ? r->v[s][m] : 0;
}

/* The row of kind k whose bytes grew (dir > 0) or shrank (dir < 0) most. */
static const struct diff_row *extreme(const struct report_diff *d, enum diff_kind_id k, int dir)
{
	const struct diff_row *best = NULL;
	int64_t bc = 0;
	for (size_t i = 0; i < d->rows.len; i++) {
		const struct diff_row *r = &d->rows.data[d->order[i]];
		if (r->kind != k)
			continue;
		int64_t c = diff_change(diff_row_bytes(r, 0), diff_row_bytes(r, 1));
		if ((dir > 0 && c > bc) || (dir < 0 && c < bc)) {
			best = r;
			bc = c;
		}
	}
	return best;
}

static const char *bytes_def(enum diff_kind_id k)
{
	return k == DK_FIELD || k == DK_CONTAINER ? "heap requested" : "inline + heap requested";
}

static void per_entity_line(FILE *o, const struct report_diff *d, const struct diff_row *r, const char *what)
{
	uint64_t b0 = diff_row_bytes(r, 0), b1 = diff_row_bytes(r, 1);
	uint64_t e0 = d->doc[0]->entities, e1 = d->doc[1]->entities;
	double p0 = e0 ? (double)b0 / (double)e0 : 0, p1 = e1 ? (double)b1 / (double)e1 : 0;
	char h[32];
	human(h, sizeof h, (double)diff_change(b0, b1));
	fprintf(o, "- %s most: %s `", what, diff_kinds[r->kind].prefix);
	report_md_cell(o, r->name);
	fprintf(o, "` (%s, %s): ", diff_state_name(r->state), bytes_def(r->kind));
	change(o, b0, b1);
	fprintf(o, " bytes, %s; per entity %s -> %s (%+.1f bytes)\n", h, N(p0 + 0.5), N(p1 + 0.5), p1 - p0);
}

static void appeared_vanished(FILE *o, const struct report_diff *d)
{
	static const enum diff_kind_id kinds[] = {DK_ENUM_VARIANT, DK_VARIANT, DK_TABLE, DK_FEATURE, DK_FIELD,
						  DK_CONTAINER};
	static const char *const label[] = {"enum variants", "variants with ops", "tables", "features",
					    "field paths", "containers"};
	for (int st = DIFF_APPEARED; st <= DIFF_VANISHED; st++) {
		bool any = false;
		for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
			size_t n = 0;
			for (size_t i = 0; i < d->rows.len; i++)
				n += d->rows.data[i].kind == kinds[k] && d->rows.data[i].state == (enum diff_state)st;
			if (!n)
				continue;
			fprintf(o, "%s %zu %s (", any ? ";" : st == DIFF_APPEARED ? "- Appeared:" : "- Vanished:", n,
				label[k]);
			size_t shown = 0;
			for (size_t i = 0; i < d->rows.len && shown < 5; i++) {
				const struct diff_row *r = &d->rows.data[d->order[i]];
				if (r->kind != kinds[k] || r->state != (enum diff_state)st)
					continue;
				fputs(shown++ ? ", " : "", o);
				report_md_cell(o, r->name);
			}
			fputs(n > shown ? ", ...)" : ")", o);
			any = true;
		}
		if (any)
			fputc('\n', o);
		else
			fprintf(o, "- %s: nothing\n", st == DIFF_APPEARED ? "Appeared" : "Vanished");
	}
}

static void summary(FILE *o, const struct report_diff *d)
{
	const struct diff_row *tot = singleton(d, DK_TOTALS), *pe = singleton(d, DK_PER_ENTITY),
			      *en = singleton(d, DK_ENUM);
	fprintf(o, "## Summary\n\n- Per entity (inline + heap requested): p50 ");
	change(o, pe->v[0][0], pe->v[1][0]);
	fputs(", p99 ", o);
	change(o, pe->v[0][1], pe->v[1][1]);
	fputs(", max ", o);
	change(o, pe->v[0][2], pe->v[1][2]);
	fputs("\n- The ops' bytes (inline + heap requested): ", o);
	change(o, diff_row_bytes(tot, 0), diff_row_bytes(tot, 1));
	fputs("; heap chunk ", o);
	change(o, val(tot, 0, "heap_chunk_bytes"), val(tot, 1, "heap_chunk_bytes"));
	fputs("\n- Entities ", o);
	change(o, val(tot, 0, "entities"), val(tot, 1, "entities"));
	fputs(", ops ", o);
	change(o, val(tot, 0, "ops"), val(tot, 1, "ops"));
	fputc('\n', o);
	static const enum diff_kind_id kinds[] = {DK_VARIANT, DK_TABLE, DK_FEATURE, DK_FIELD};
	for (int dir = 1; dir >= -1; dir -= 2)
		for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
			const struct diff_row *r = extreme(d, kinds[k], dir);
			if (r)
				per_entity_line(o, d, r, dir > 0 ? "Grew" : "Shrank");
		}
	appeared_vanished(o, d);
	size_t lay = 0;
	for (size_t i = 0; i < d->rows.len; i++)
		lay += d->rows.data[i].kind == DK_ENUM_VARIANT && d->rows.data[i].state != DIFF_SAME;
	fprintf(o, "- Enum `%s`: ", d->doc[1]->enum_name);
	if (en->state == DIFF_SAME && !lay)
		fprintf(o, "layout unchanged, %s bytes, %s variants\n", N(en->v[1][0]), N(en->v[1][4]));
	else {
		fputs("size ", o);
		change(o, en->v[0][0], en->v[1][0]);
		fprintf(o, ", variants %s -> %s, %zu variant layouts changed\n", N(en->v[0][4]), N(en->v[1][4]), lay);
	}
	fputc('\n', o);
}

static void gate_md(FILE *o, const struct report_diff *d)
{
	char line[1400];
	fprintf(o, "## Gate: %s\n\n", d->breaches.len ? "FAILED" : "passed");
	for (size_t i = 0; i < d->exprs.len; i++) {
		size_t n = 0;
		for (size_t b = 0; b < d->breaches.len; b++)
			n += d->breaches.data[b].expr == i;
		fputs("- `", o);
		report_md_cell(o, d->exprs.data[i]);
		fprintf(o, "`: %s\n", n ? "breached" : "held");
		for (size_t b = 0; b < d->breaches.len; b++) {
			if (d->breaches.data[b].expr != i)
				continue;
			report_diff_breach_line(d, b, line, sizeof line);
			fputs("  - ", o);
			report_md_cell(o, line);
			fputc('\n', o);
		}
	}
	fputc('\n', o);
}

/* The singleton kinds: one line per figure. */
static void figures_md(FILE *o, const struct report_diff *d)
{
	static const enum diff_kind_id kinds[] = {DK_TOTALS, DK_PER_ENTITY, DK_PER_ENTITY_CHUNK, DK_OVERHEAD, DK_HEAP,
						  DK_ENUM};
	char name[256];
	fprintf(o, "## Totals\n\n| figure | old | new | change | %% |\n|---|---:|---:|---:|---:|\n");
	for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
		const struct diff_row *r = singleton(d, kinds[k]);
		for (size_t m = 0; m < diff_kinds[r->kind].nmetrics; m++) {
			diff_figure_name(r, m, name, sizeof name);
			fprintf(o, "| %s | %s | %s | %s | ", name, N(r->v[0][m]), N(r->v[1][m]),
				S(diff_change(r->v[0][m], r->v[1][m])));
			rel(o, r->v[0][m], r->v[1][m]);
			fputs(" |\n", o);
		}
	}
	fputc('\n', o);
}

/* A section of rows of kind k: the name, state, the old -> new of the
 * metrics in `head` and the change of those in `delta`. */
static void rows_md(FILE *o, const struct report_diff *d, enum diff_kind_id k, const char *title,
		    const char *const *head, size_t nhead, const char *const *delta, size_t ndelta, size_t cap)
{
	size_t changed = 0, same = 0, shown = 0;
	for (size_t i = 0; i < d->rows.len; i++)
		if (d->rows.data[i].kind == k)
			d->rows.data[i].state == DIFF_SAME ? same++ : changed++;
	fprintf(o, "## %s\n\n", title);
	if (!changed) {
		fprintf(o, "No change (%zu the same).\n\n", same);
		return;
	}
	fprintf(o, "Sorted by the absolute change of %s bytes.\n\n| %s | state | bytes | change | %% | per entity |",
		bytes_def(k), diff_kinds[k].prefix);
	for (size_t i = 0; i < nhead; i++)
		fprintf(o, " %s |", head[i]);
	for (size_t i = 0; i < ndelta; i++)
		fprintf(o, " change of %s |", delta[i]);
	fputs("\n|---|---|---:|---:|---:|---:|", o);
	for (size_t i = 0; i < nhead + ndelta; i++)
		fputs("---:|", o);
	fputc('\n', o);
	for (size_t i = 0; i < d->rows.len && shown < cap; i++) {
		const struct diff_row *r = &d->rows.data[d->order[i]];
		if (r->kind != k || r->state == DIFF_SAME)
			continue;
		shown++;
		uint64_t b0 = diff_row_bytes(r, 0), b1 = diff_row_bytes(r, 1);
		uint64_t e0 = d->doc[0]->entities, e1 = d->doc[1]->entities;
		double pe = (e1 ? (double)b1 / (double)e1 : 0) - (e0 ? (double)b0 / (double)e0 : 0);
		fputs("| ", o);
		report_md_cell(o, r->name);
		fprintf(o, " | %s | %s -> %s | %s | ", diff_state_name(r->state), N(b0), N(b1), S(diff_change(b0, b1)));
		rel(o, b0, b1);
		fprintf(o, " | %+.1f |", pe);
		for (size_t h = 0; h < nhead; h++)
			fprintf(o, " %s -> %s |", N(val(r, 0, head[h])), N(val(r, 1, head[h])));
		for (size_t h = 0; h < ndelta; h++)
			fprintf(o, " %s |", S(diff_change(val(r, 0, delta[h]), val(r, 1, delta[h]))));
		fputc('\n', o);
	}
	if (changed > shown)
		fprintf(o, "\n%zu more changed rows in the JSON (--json).", changed - shown);
	fprintf(o, "\n%zu unchanged not listed.\n\n", same);
}

/* What every word and column of the diff means. */
static void definitions_md(FILE *o)
{
	static const char *const defs[][2] = {
		{"old, new", "the figure in the OLD and in the NEW profile (bytes unless the name says a count); "
			     "numbers carry thousands separators, --json has them exact"},
		{"change", "new - old"},
		{"%", "the change relative to old; \"new\" when old is 0"},
		{"state", "same, changed, appeared (only in NEW) or vanished (only in OLD); a side without the row "
			  "counts 0 there"},
		{"bytes", "the row's bytes: inline + heap requested for totals, variants, tables and features "
			  "(beava's per-entity definition); heap requested for field paths and containers"},
		{"per entity", "the change of the row's bytes per entity: new bytes / new entities - old bytes / old "
			       "entities"},
		{"figure", "a gate's name for the number (--figures lists them all): dotted tokens, "
			   "kind[.name].metric; *_per_op and *_per_entity divide by ops and entities (rounded)"},
		{"inline", "size_of the enum per op; heap requested: what Rust asked the allocator for; used: its live "
			   "part; usable: malloc_usable_size; chunk: the glibc chunk (what it really costs)"},
		{"p50, p99, max", "nearest-rank percentiles of the per-entity bytes (inline + heap requested; "
				  "per_entity_chunk: inline + heap chunk)"},
	};
	fprintf(o, "## Definitions\n\n");
	for (size_t i = 0; i < sizeof defs / sizeof *defs; i++)
		fprintf(o, "- **%s**: %s.\n", defs[i][0], defs[i][1]);
	fputc('\n', o);
}

int report_diff_markdown(FILE *o, const struct report_diff *d, struct err *e)
{
	static const char *const fam[] = {"heap_requested_bytes", "heap_used_bytes", "heap_usable_bytes",
					  "heap_chunk_bytes", "allocations"};
	static const char *const vhead[] = {"count"}, *const thead[] = {"entities", "per_entity.p50",
									  "per_entity.p99", "per_entity.max"};
	static const char *const tdelta[] = {"heap_chunk_bytes", "overhead.heap_chunk_bytes", "allocations"};
	static const char *const lhead[] = {"payload_size", "slot_slack"};
	fprintf(o, "# Memory profile diff\n\n");
	for (int s = 0; s < 2; s++) {
		const struct report_doc *doc = d->doc[s];
		fprintf(o, "- %s: `", s ? "New" : "Old");
		report_md_cell(o, doc->source);
		fprintf(o, "` (target %s, %s entities, %s ops", doc->target, N(doc->entities), N(doc->ops));
		if (*doc->core) {
			fputs("; core ", o);
			report_md_cell(o, doc->core);
		}
		fputs(")\n", o);
	}
	fputc('\n', o);
	fprintf(o, "Every word and column is defined under [Definitions](#definitions).\n\n");
	summary(o, d);
	if (d->gated)
		gate_md(o, d);
	figures_md(o, d);
	rows_md(o, d, DK_ENUM_VARIANT, "Enum layout by variant", lhead, 2, NULL, 0, SIZE_MAX);
	rows_md(o, d, DK_VARIANT, "Variants", vhead, 1, fam, 5, SIZE_MAX);
	rows_md(o, d, DK_TABLE, "Tables", thead, 4, tdelta, 3, SIZE_MAX);
	rows_md(o, d, DK_FEATURE, "Features", vhead, 1, fam, 5, MD_ROWS);
	rows_md(o, d, DK_FIELD, "Field paths (by variant)", NULL, 0, fam + 1, 4, MD_ROWS);
	rows_md(o, d, DK_CONTAINER, "Containers", NULL, 0, fam + 1, 4, SIZE_MAX);
	definitions_md(o);
	if (ferror(o))
		return err_set(e, ERR_IO, "writing the diff failed");
	return 0;
}

/* ---- JSON ---- */

#define J(x) json_integer((json_int_t)(x))

static json_t *fig_json(uint64_t old, uint64_t new_, bool in0, bool in1)
{
	double r = diff_relative(old, new_);
	return json_pack("{s:o,s:o,s:o,s:o}", "old", in0 ? J(old) : json_null(), "new", in1 ? J(new_) : json_null(),
			 "change", J(diff_change(old, new_)), "relative", isfinite(r) ? json_real(r) : json_null());
}

static json_t *metrics_json(const struct diff_row *r)
{
	json_t *o = json_object();
	for (size_t m = 0; m < diff_kinds[r->kind].nmetrics; m++)
		json_object_set_new(o, diff_kinds[r->kind].metrics[m], fig_json(r->v[0][m], r->v[1][m], r->in[0],
										 r->in[1]));
	return o;
}

static json_t *row_json(const struct report_diff *d, const struct diff_row *r)
{
	json_t *o = json_pack("{s:s,s:s}", "name", r->name, "state", diff_state_name(r->state));
	static const char *const sub[DK_COUNT][2] = {[DK_FEATURE] = {"table", "feature"},
						     [DK_FIELD] = {"path", "container"}};
	for (int i = 0; i < 2; i++)
		if (sub[r->kind][i] && r->sub[i])
			json_object_set_new(o, sub[r->kind][i], json_string(r->sub[i]));
	uint64_t b0 = diff_row_bytes(r, 0), b1 = diff_row_bytes(r, 1);
	json_object_set_new(o, "bytes", fig_json(b0, b1, r->in[0], r->in[1]));
	uint64_t e0 = d->doc[0]->entities, e1 = d->doc[1]->entities;
	double p0 = e0 ? (double)b0 / (double)e0 : 0, p1 = e1 ? (double)b1 / (double)e1 : 0;
	json_object_set_new(o, "bytes_per_entity", json_pack("{s:f,s:f,s:f}", "old", p0, "new", p1, "change", p1 - p0));
	json_object_set_new(o, "figures", metrics_json(r));
	return o;
}

static json_t *side_json(const struct report_doc *doc)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:o}", "source", doc->source, "target", doc->target, "enum",
			 doc->enum_name, "core", doc->core, "executable", doc->exe, "entities", J(doc->entities), "ops",
			 J(doc->ops));
}

static json_t *summary_json(const struct report_diff *d)
{
	json_t *o = json_object(), *grew = json_object(), *shrank = json_object();
	static const enum diff_kind_id kinds[] = {DK_VARIANT, DK_TABLE, DK_FEATURE, DK_FIELD};
	for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
		const struct diff_row *g = extreme(d, kinds[k], 1), *s = extreme(d, kinds[k], -1);
		json_object_set_new(grew, diff_kinds[kinds[k]].prefix, g ? row_json(d, g) : json_null());
		json_object_set_new(shrank, diff_kinds[kinds[k]].prefix, s ? row_json(d, s) : json_null());
	}
	const struct diff_row *tot = singleton(d, DK_TOTALS);
	json_object_set_new(o, "bytes", fig_json(diff_row_bytes(tot, 0), diff_row_bytes(tot, 1), true, true));
	json_object_set_new(o, "grew_most", grew);
	json_object_set_new(o, "shrank_most", shrank);
	json_t *av = json_object();
	for (int st = DIFF_APPEARED; st <= DIFF_VANISHED; st++) {
		json_t *by = json_object();
		for (int k = DK_ENUM_VARIANT; k < DK_COUNT; k++) {
			json_t *a = json_array();
			for (size_t i = 0; i < d->rows.len; i++) {
				const struct diff_row *r = &d->rows.data[d->order[i]];
				if ((int)r->kind == k && r->state == (enum diff_state)st)
					json_array_append_new(a, json_string(r->name));
			}
			json_object_set_new(by, diff_kinds[k].title, a);
		}
		json_object_set_new(av, diff_state_name((enum diff_state)st), by);
	}
	json_object_set_new(o, "appeared", json_incref(json_object_get(av, "appeared")));
	json_object_set_new(o, "vanished", json_incref(json_object_get(av, "vanished")));
	json_decref(av);
	return o;
}

static json_t *gate_json(const struct report_diff *d)
{
	char line[1400];
	json_t *ex = json_array(), *br = json_array();
	for (size_t i = 0; i < d->exprs.len; i++)
		json_array_append_new(ex, json_string(d->exprs.data[i]));
	for (size_t i = 0; i < d->breaches.len; i++) {
		const struct diff_breach *b = &d->breaches.data[i];
		report_diff_breach_line(d, i, line, sizeof line);
		json_t *o = fig_json(b->old, b->new_, true, true);
		json_object_set_new(o, "figure", json_string(b->figure));
		json_object_set_new(o, "limit", json_string(b->limit));
		json_object_set_new(o, "expression", json_string(d->exprs.data[b->expr]));
		json_object_set_new(o, "line", json_string(line));
		json_array_append_new(br, o);
	}
	return json_pack("{s:b,s:o,s:o}", "passed", d->breaches.len == 0, "expressions", ex, "breaches", br);
}

int report_diff_json(FILE *out, const struct report_diff *d, struct err *e)
{
	json_t *root = json_pack("{s:o,s:s,s:o,s:o}", "format_version", J(REPORT_FORMAT_VERSION), "kind",
				 "aggop-inspect diff", "old", side_json(d->doc[0]), "new", side_json(d->doc[1]));
	json_object_set_new(root, "summary", summary_json(d));
	if (d->gated)
		json_object_set_new(root, "gate", gate_json(d));
	for (int k = 0; k < DK_COUNT; k++) {
		if (k <= DK_ENUM) {   /* singletons: their figures */
			json_object_set_new(root, diff_kinds[k].title, metrics_json(singleton(d, (enum diff_kind_id)k)));
			continue;
		}
		json_t *a = json_array();
		for (size_t i = 0; i < d->rows.len; i++) {
			const struct diff_row *r = &d->rows.data[d->order[i]];
			if ((int)r->kind == k)
				json_array_append_new(a, row_json(d, r));
		}
		json_object_set_new(root, diff_kinds[k].title, a);
	}
	int rc = json_dumpf(root, out, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(root);
	fputc('\n', out);
	if (rc != 0 || ferror(out))
		return err_set(e, ERR_IO, "writing the diff's JSON failed");
	return 0;
}
