/* report_diff.c: the diff of two profiles (include/report.h), as rows of
 * figures matched by name (src/report_diff_int.h).
 *
 * Both documents are flattened the same way into rows keyed by kind and
 * name: the singletons (totals, per-entity percentiles, overhead, the heap,
 * the enum), then each variant of the enum's layout, each profiled variant,
 * table and feature, each variant field path with its container, and each
 * container kind (the variant fields summed by container).  A row one side
 * lacks appeared or vanished; its figures count 0 there.  The order of the
 * rows is by kind, then by the absolute change of the row's bytes (inline +
 * heap requested for ops, variants, tables and features: beava's per-entity
 * definition; heap requested for fields and containers), then by name, so a
 * diff never depends on the order either profile listed things in.
 */
#include "report_diff_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define HEAP_METRICS "heap_requested_bytes", "heap_used_bytes", "heap_usable_bytes", "heap_chunk_bytes", "allocations"
#define PCT_METRICS(p) p "p50", p "p99", p "max"
/* Figures that do not grow with load: bytes per op and per entity (the
 * quotient rounded to the nearest byte), so that a gate can hold a budget
 * per op while the number of entities changes. */
#define RATIO_METRICS(s) "inline_bytes" s, "heap_requested_bytes" s, "heap_used_bytes" s, "heap_chunk_bytes" s
#define RATIOS RATIO_METRICS("_per_op"), RATIO_METRICS("_per_entity")

static const char *const m_totals[] = {"entities", "ops", "inline_bytes", "payload_bytes", HEAP_METRICS, RATIOS};
static const char *const m_pct[] = {PCT_METRICS("")};
static const char *const m_heaponly[] = {HEAP_METRICS};
static const char *const m_heap[] = {"in_use_chunk_bytes", "attributed_chunk_bytes"};
static const char *const m_enum[] = {"size", "align", "tag_offset", "tag_size", "variants"};
static const char *const m_enum_variant[] = {"payload_size", "slot_slack"};
static const char *const m_variant[] = {"count", "inline_bytes", "payload_bytes", HEAP_METRICS, RATIOS};
static const char *const m_table[] = {"entities", "ops", "inline_bytes", HEAP_METRICS,
				      "overhead.heap_requested_bytes", "overhead.heap_used_bytes",
				      "overhead.heap_usable_bytes", "overhead.heap_chunk_bytes", "overhead.allocations",
				      PCT_METRICS("per_entity."), PCT_METRICS("per_entity_chunk."), RATIOS,
				      "overhead.heap_chunk_bytes_per_entity"};
static const char *const m_feature[] = {"count", "inline_bytes", HEAP_METRICS, PCT_METRICS("per_instance.")};

#define KIND(prefix, title, m, a, b) {prefix, title, m, sizeof m / sizeof *m, a, b}
const struct diff_kind diff_kinds[DK_COUNT] = {
	[DK_TOTALS] = KIND("totals", "totals", m_totals, 2, 4),
	[DK_PER_ENTITY] = KIND("per_entity", "per_entity_bytes", m_pct, -1, -1),
	[DK_PER_ENTITY_CHUNK] = KIND("per_entity_chunk", "per_entity_chunk_bytes", m_pct, -1, -1),
	[DK_OVERHEAD] = KIND("overhead", "overhead", m_heaponly, 0, -1),
	[DK_HEAP] = KIND("heap", "heap", m_heap, -1, -1),
	[DK_ENUM] = KIND("enum", "enum", m_enum, -1, -1),
	[DK_ENUM_VARIANT] = KIND("enum.variant", "enum_variants", m_enum_variant, 0, -1),
	[DK_VARIANT] = KIND("variant", "variants", m_variant, 1, 3),
	[DK_TABLE] = KIND("table", "tables", m_table, 2, 3),
	[DK_FEATURE] = KIND("feature", "features", m_feature, 1, 2),
	[DK_FIELD] = KIND("field", "fields", m_heaponly, 0, -1),
	[DK_CONTAINER] = KIND("container", "containers", m_heaponly, 0, -1),
};

_Static_assert(sizeof m_table / sizeof *m_table <= DIFF_MAX_METRICS, "DIFF_MAX_METRICS too small");

/* a / b rounded to the nearest integer; 0 when b is 0 */
static uint64_t per(uint64_t a, uint64_t b)
{
	return b ? a / b + (a % b >= b - a % b) : 0;
}

/* The RATIOS of inline bytes and heap bytes over ops and entities. */
static void ratios(uint64_t *out, uint64_t inl, const struct report_doc_bytes *h, uint64_t ops, uint64_t entities)
{
	const uint64_t v[] = {inl, h->requested, h->used, h->chunk};
	for (int i = 0; i < 4; i++) {
		out[i] = per(v[i], ops);
		out[4 + i] = per(v[i], entities);
	}
}

const char *diff_state_name(enum diff_state s)
{
	static const char *const n[] = {"same", "changed", "appeared", "vanished"};
	return n[s];
}

int64_t diff_change(uint64_t old, uint64_t new_)
{
	/* both at most INT64_MAX (sat): the difference fits */
	return (int64_t)new_ - (int64_t)old;
}

double diff_relative(uint64_t old, uint64_t new_)
{
	if (!old)
		return new_ ? INFINITY : 0;
	return ((double)new_ - (double)old) / (double)old;
}

/* Figures stay at or below INT64_MAX (the loader's JSON integers do), so
 * that every change fits an int64_t; sums saturate there. */
static uint64_t sat(uint64_t x)
{
	return x > INT64_MAX ? INT64_MAX : x;
}

uint64_t diff_row_bytes(const struct diff_row *r, int s)
{
	const struct diff_kind *k = &diff_kinds[r->kind];
	return sat((k->main_a >= 0 ? r->v[s][k->main_a] : 0) + (k->main_b >= 0 ? r->v[s][k->main_b] : 0));
}

void diff_figure_name(const struct diff_row *r, size_t m, char *buf, size_t size)
{
	snprintf(buf, size, "%s.%s", r->fig, diff_kinds[r->kind].metrics[m]);
}

/* ---- figure names: dotted tokens, never a space ----
 *
 * A name from the profile becomes one segment: as it is when it holds no
 * space, control character, '.', '"' or '%'; else in double quotes with
 * those bytes (but '.') written %XX, so "slot 0" is "slot%200" in quotes.
 * The tool's own words with spaces (container kinds, generic slots) are
 * written with '_' instead: hashbrown_table, slot_3.  A field path's
 * segments are dotted and its container follows in parentheses:
 * field.Windowed.buckets[*].Percentile.inner.Exact.values(Vec).allocations. */

struct sb {
	char *buf;
	size_t size, len;
};

static void sb_put(struct sb *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++, b->len++)
		if (b->len + 1 < b->size)
			b->buf[b->len] = s[i];
	if (b->size)
		b->buf[b->len < b->size ? b->len : b->size - 1] = 0;
}

static bool unsafe_byte(unsigned char c, bool dot) { return c <= ' ' || c == 0x7f || c == '"' || c == '%' || (dot && c == '.'); }

static void segment(struct sb *b, const char *s, size_t n)
{
	bool quote = n == 0;
	for (size_t i = 0; i < n; i++)
		quote |= unsafe_byte((unsigned char)s[i], true);
	if (!quote) {
		sb_put(b, s, n);
		return;
	}
	sb_put(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		char x[4];
		if (unsafe_byte((unsigned char)s[i], false)) {
			snprintf(x, sizeof x, "%%%02X", (unsigned char)s[i]);
			sb_put(b, x, 3);
		} else
			sb_put(b, s + i, 1);
	}
	sb_put(b, "\"", 1);
}

/* The tool's own words: spaces become '_'. */
static void word(struct sb *b, const char *s)
{
	for (; *s; s++)
		sb_put(b, *s == ' ' ? "_" : s, 1);
}

static bool generic_slot(const struct report_diff *d, const char *s)
{
	if (strcmp(d->doc[0]->target, "generic") != 0 || strncmp(s, "slot ", 5) != 0)
		return false;
	size_t n = strspn(s + 5, "0123456789");
	return n && !s[5 + n];
}

static void figure_stem(const struct report_diff *d, struct diff_row *r, struct sb *b)
{
	sb_put(b, diff_kinds[r->kind].prefix, strlen(diff_kinds[r->kind].prefix));
	if (!*r->name)
		return;
	sb_put(b, ".", 1);
	switch (r->kind) {
	case DK_FEATURE:
		segment(b, r->sub[0], strlen(r->sub[0]));
		sb_put(b, ".", 1);
		if (generic_slot(d, r->sub[1]))
			word(b, r->sub[1]);
		else
			segment(b, r->sub[1], strlen(r->sub[1]));
		break;
	case DK_FIELD:
		for (const char *s = r->sub[0], *gt;; s = gt + 3) {
			gt = strstr(s, " > ");
			segment(b, s, gt ? (size_t)(gt - s) : strlen(s));
			if (!gt)
				break;
			sb_put(b, ".", 1);
		}
		sb_put(b, "(", 1);
		word(b, r->sub[1]);
		sb_put(b, ")", 1);
		break;
	case DK_CONTAINER:
		word(b, r->name);
		break;
	default:
		segment(b, r->name, strlen(r->name));
	}
}

static int name_figures(struct report_diff *d, struct err *e)
{
	for (size_t i = 0; i < d->rows.len; i++) {
		struct diff_row *r = &d->rows.data[i];
		struct sb b = {NULL, 0, 0};
		figure_stem(d, r, &b);
		b.size = b.len + 1;
		if (!(b.buf = malloc(b.size)))
			return err_set(e, ERR_NOMEM, "out of memory comparing the profiles");
		b.len = 0;
		figure_stem(d, r, &b);
		r->fig = b.buf;
	}
	return 0;
}

/* The row of (kind, name), made when absent; NULL when memory runs out. */
static struct diff_row *row_of(struct report_diff *d, enum diff_kind_id kind, const char *name, const char *s0,
			       const char *s1)
{
	size_t kl = strlen(diff_kinds[kind].prefix), nl = strlen(name);
	char *key = malloc(kl + nl + 2);
	if (!key)
		return NULL;
	memcpy(key, diff_kinds[kind].prefix, kl);
	key[kl] = '\x1f';
	memcpy(key + kl + 1, name, nl + 1);
	struct diff_index_entry *ie = diff_index_find(&d->index, key);
	if (ie) {
		free(key);
		return &d->rows.data[ie->row];
	}
	struct diff_row *r = diff_rows_push(&d->rows);
	if (!r) {
		free(key);
		return NULL;
	}
	r->kind = kind;
	r->key = key;
	r->name = key + kl + 1;
	if ((s0 && !(r->sub[0] = strdup(s0))) || (s1 && !(r->sub[1] = strdup(s1))) ||
	    !(ie = diff_index_insert(&d->index, key, NULL))) {
		free(r->sub[0]);
		free(r->sub[1]);
		free(key);
		d->rows.len--;
		return NULL;
	}
	ie->key = key;
	ie->row = d->rows.len - 1;
	return r;
}

/* Adds the values to the row's side s (fields and containers sum several
 * entries of one profile; everything else has one). */
static int put(struct report_diff *d, enum diff_kind_id kind, const char *name, const char *s0, const char *s1,
	       int s, const uint64_t *v, struct err *e)
{
	struct diff_row *r = row_of(d, kind, name, s0, s1);
	if (!r)
		return err_set(e, ERR_NOMEM, "out of memory comparing the profiles");
	r->in[s] = true;
	for (size_t i = 0; i < diff_kinds[kind].nmetrics; i++)
		r->v[s][i] = sat(r->v[s][i] + sat(v[i]));
	return 0;
}

#define HEAP_VALUES(b) (b).requested, (b).used, (b).usable, (b).chunk, (b).allocations
#define PCT_VALUES(p) (p).p50, (p).p99, (p).max

static int fields_put(struct report_diff *d, const struct report_doc_variant *v, int s, struct err *e)
{
	for (size_t i = 0; i < v->nfields; i++) {
		const struct report_doc_field *f = &v->fields[i];
		const uint64_t x[] = {HEAP_VALUES(f->b)};
		size_t n = strlen(f->path) + strlen(f->container) + 4;
		char *name = malloc(n);
		if (!name)
			return err_set(e, ERR_NOMEM, "out of memory comparing the profiles");
		snprintf(name, n, "%s (%s)", f->path, f->container);
		int rc = put(d, DK_FIELD, name, f->path, f->container, s, x, e) ||
			 put(d, DK_CONTAINER, f->container, NULL, NULL, s, x, e);
		free(name);
		if (rc)
			return e->code;
	}
	return 0;
}

static int table_put(struct report_diff *d, const struct report_doc_table *t, int s, struct err *e)
{
	uint64_t x[] = {t->entities, t->ops, t->inline_bytes, HEAP_VALUES(t->heap), HEAP_VALUES(t->overhead),
			PCT_VALUES(t->per_entity), PCT_VALUES(t->per_entity_chunk), [27] = per(t->overhead.chunk, t->entities)};
	_Static_assert(sizeof x / sizeof *x == sizeof m_table / sizeof *m_table, "table figures");
	ratios(x + 19, t->inline_bytes, &t->heap, t->ops, t->entities);
	if (put(d, DK_TABLE, t->name, NULL, NULL, s, x, e))
		return e->code;
	for (size_t i = 0; i < t->nfeatures; i++) {
		const struct report_doc_feature *f = &t->features[i];
		const uint64_t y[] = {f->count, f->inline_bytes, HEAP_VALUES(f->heap), PCT_VALUES(f->per_instance)};
		size_t n = strlen(t->name) + strlen(f->name) + 2;
		char *name = malloc(n);
		if (!name)
			return err_set(e, ERR_NOMEM, "out of memory comparing the profiles");
		snprintf(name, n, "%s.%s", t->name, f->name);
		int rc = put(d, DK_FEATURE, name, t->name, f->name, s, y, e);
		free(name);
		if (rc)
			return rc;
	}
	return 0;
}

static int doc_put(struct report_diff *d, const struct report_doc *doc, int s, struct err *e)
{
	uint64_t tot[sizeof m_totals / sizeof *m_totals] = {doc->entities, doc->ops, doc->inline_bytes, doc->payload_bytes,
							   HEAP_VALUES(doc->heap)};
	ratios(tot + 9, doc->inline_bytes, &doc->heap, doc->ops, doc->entities);
	const uint64_t pe[] = {PCT_VALUES(doc->per_entity)}, pc[] = {PCT_VALUES(doc->per_entity_chunk)};
	const uint64_t ov[] = {HEAP_VALUES(doc->overhead)};
	const uint64_t hp[] = {doc->heap_in_use_chunk, doc->heap_attributed_chunk};
	const uint64_t en[] = {doc->enum_size, doc->enum_align, doc->tag_offset, doc->tag_size, doc->nvariants};
	if (put(d, DK_TOTALS, "", NULL, NULL, s, tot, e) || put(d, DK_PER_ENTITY, "", NULL, NULL, s, pe, e) ||
	    put(d, DK_PER_ENTITY_CHUNK, "", NULL, NULL, s, pc, e) || put(d, DK_OVERHEAD, "", NULL, NULL, s, ov, e) ||
	    put(d, DK_HEAP, "", NULL, NULL, s, hp, e) || put(d, DK_ENUM, "", NULL, NULL, s, en, e))
		return e->code;
	for (size_t i = 0; i < doc->nvariants; i++) {
		const struct report_doc_variant *v = &doc->variants[i];
		const uint64_t lay[] = {v->payload_size, v->slot_slack};
		uint64_t x[sizeof m_variant / sizeof *m_variant] = {v->count, v->inline_bytes, v->payload_bytes,
								     HEAP_VALUES(v->heap)};
		ratios(x + 8, v->inline_bytes, &v->heap, v->count, doc->entities);
		if (put(d, DK_ENUM_VARIANT, v->name, NULL, NULL, s, lay, e) ||
		    (v->profiled && (put(d, DK_VARIANT, v->name, NULL, NULL, s, x, e) || fields_put(d, v, s, e))))
			return e->code;
	}
	for (size_t i = 0; i < doc->ntables; i++)
		if (table_put(d, &doc->tables[i], s, e))
			return e->code;
	return 0;
}

static int cmp_order(const void *a, const void *b, void *arg)
{
	const struct report_diff *d = arg;
	const struct diff_row *x = &d->rows.data[*(const size_t *)a], *y = &d->rows.data[*(const size_t *)b];
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	int64_t cx = diff_change(diff_row_bytes(x, 0), diff_row_bytes(x, 1));
	int64_t cy = diff_change(diff_row_bytes(y, 0), diff_row_bytes(y, 1));
	uint64_t ax = cx < 0 ? -(uint64_t)cx : (uint64_t)cx, ay = cy < 0 ? -(uint64_t)cy : (uint64_t)cy;
	if (ax != ay)
		return ax > ay ? -1 : 1;
	return strcmp(x->name, y->name);
}

static bool same_enum(const char *a, const char *b)
{
	const char *x = strrchr(a, ':'), *y = strrchr(b, ':');
	return strcmp(x ? x + 1 : a, y ? y + 1 : b) == 0;
}

int report_diff_make(struct report_diff **out, const struct report_doc *old, const struct report_doc *new_,
		     struct err *e)
{
	*out = NULL;
	if (strcmp(old->target, new_->target) != 0)
		return err_set(e, ERR_INPUT, "%s profiles target '%s' and %s target '%s': a diff compares two profiles of "
			       "one target", old->source, old->target, new_->source, new_->target);
	if (!same_enum(old->enum_name, new_->enum_name))
		return err_set(e, ERR_INPUT, "%s profiles the enum %s and %s the enum %s: a diff compares one enum",
			       old->source, old->enum_name, new_->source, new_->enum_name);
	struct report_diff *d = calloc(1, sizeof *d);
	if (!d)
		return err_set(e, ERR_NOMEM, "out of memory comparing the profiles");
	d->doc[0] = old;
	d->doc[1] = new_;
	if (doc_put(d, old, 0, e) || doc_put(d, new_, 1, e) || name_figures(d, e)) {
		report_diff_free(d);
		return e->code;
	}
	for (size_t i = 0; i < d->rows.len; i++) {
		struct diff_row *r = &d->rows.data[i];
		r->state = !r->in[0] ? DIFF_APPEARED : !r->in[1] ? DIFF_VANISHED
			   : memcmp(r->v[0], r->v[1], sizeof r->v[0]) ? DIFF_CHANGED : DIFF_SAME;
	}
	if (!(d->order = malloc((d->rows.len ? d->rows.len : 1) * sizeof *d->order))) {
		report_diff_free(d);
		return err_set(e, ERR_NOMEM, "out of memory comparing the profiles");
	}
	for (size_t i = 0; i < d->rows.len; i++)
		d->order[i] = i;
	if (d->rows.len)
		qsort_r(d->order, d->rows.len, sizeof *d->order, cmp_order, d);
	*out = d;
	return 0;
}

void report_diff_free(struct report_diff *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->rows.len; i++) {
		free(d->rows.data[i].key);
		free(d->rows.data[i].fig);
		free(d->rows.data[i].sub[0]);
		free(d->rows.data[i].sub[1]);
	}
	for (size_t i = 0; i < d->breaches.len; i++) {
		free(d->breaches.data[i].figure);
		free(d->breaches.data[i].limit);
	}
	for (size_t i = 0; i < d->exprs.len; i++)
		free(d->exprs.data[i]);
	diff_rows_deinit(&d->rows);
	diff_index_deinit(&d->index);
	diff_breaches_deinit(&d->breaches);
	diff_strs_deinit(&d->exprs);
	free(d->order);
	free(d);
}

int report_diff_figures(FILE *out, const struct report_diff *d, struct err *e)
{
	char name[1024];
	for (size_t i = 0; i < d->rows.len; i++) {
		const struct diff_row *r = &d->rows.data[d->order[i]];
		for (size_t m = 0; m < diff_kinds[r->kind].nmetrics; m++) {
			diff_figure_name(r, m, name, sizeof name);
			fprintf(out, "%s", name);
			for (int s = 0; s < 2; s++) {
				if (r->in[s])
					fprintf(out, " %llu", (unsigned long long)r->v[s][m]);
				else
					fputs(" -", out);
			}
			fputc('\n', out);
		}
	}
	if (ferror(out))
		return err_set(e, ERR_IO, "writing the figures failed");
	return 0;
}
