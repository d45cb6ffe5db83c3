/* report_md.c: the markdown memory profile (memory-profile.md).
 *
 * The answer comes first: a summary stating what dominates (variant, feature
 * and field path), why (the pattern a rule found), what to change and what
 * that saves on this snapshot.  Then the sections of beava's own memprofile
 * report where they overlap (workload summary, per-table footprint, feature
 * columns, largest rows, top offenders, metrics coherence) and what only a
 * snapshot can show: allocator-level bytes, capacity slack, field paths and
 * containers.  Numbers carry thousands separators (the JSON has them
 * exact); every column name printed is defined in the closing Definitions
 * block (table headers are recorded as they are printed).  In generic mode
 * (--root without a target) the words are the user's: holders and slots,
 * not entities and features, unless the root held several tables.
 * Rendered from the report document (include/report.h), never from the
 * walker.
 */
#include "report.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define U(x) ((unsigned long long)(x))
/* x with thousands separators; each use has its own buffer */
#define N(x) report_num((char[32]){0}, 32, (uint64_t)(x))

#define MAX_COLUMNS 160

/* The words a report uses for what holds the ops. */
struct vocab {
	const char *table, *Table, *tables;          /* "table" / "root" */
	const char *entity, *Entity, *entities;      /* "entity" / "holder" */
	const char *feature, *Feature, *features;    /* "feature" / "slot" */
};

static const struct vocab BEAVA_WORDS = {"table", "Table", "tables", "entity", "Entity", "entities",
					 "feature", "Feature", "features"};
static const struct vocab GENERIC_WORDS = {"root", "Root", "roots", "holder", "Holder", "holders",
					   "slot", "Slot", "slots"};
static const struct vocab GENERIC_TABLES = {"table", "Table", "tables", "holder", "Holder", "holders",
					    "slot", "Slot", "slots"};

struct md {
	FILE *o;
	const struct report_doc *d;
	const struct profile *p;      /* d->run->p */
	struct vocab w;
	const struct report_groups *groups;
	const struct report_summary *sum;
	char columns[MAX_COLUMNS][80];    /* every column name printed, once each */
	size_t ncolumns;
};


/* Fixed text (rules, advice, definitions) in the report's words: in
 * generic mode "entity" and "feature" become "holder" and "slot". */
static const char *say(const struct md *m, const char *s, char *buf, size_t size)
{
	static const char *const from[] = {"entities", "entity", "Entity", "features", "feature", "Feature"};
	const char *to[] = {m->w.entities, m->w.entity, m->w.Entity, m->w.features, m->w.feature, m->w.Feature};
	size_t o = 0;
	if (!m->p->generic)
		return s;
	while (*s && o + 1 < size) {
		/* every word replaced starts with e or f: the others are copied
		 * without six strncmp each (per character, in every cell) */
		size_t k = (*s | 0x20) == 'e' || (*s | 0x20) == 'f' ? 0 : 6;
		while (k < 6 && strncmp(s, from[k], strlen(from[k])) != 0)
			k++;
		if (k < 6) {
			o += (size_t)snprintf(buf + o, size - o, "%s", to[k]);
			if (o >= size)
				o = size - 1;
			s += strlen(from[k]);
		} else {
			buf[o++] = *s++;
		}
	}
	buf[o] = 0;
	return buf;
}
#define SAY(m, s) say((m), (s), (char[1024]){0}, 1024)

/* A table header; the names are recorded for the Definitions block. */
static void head(struct md *m, const char *const *cols, size_t n)
{
	fputc('|', m->o);
	for (size_t i = 0; i < n; i++) {
		fputc(' ', m->o);
		report_md_cell(m->o, cols[i]);
		fputs(" |", m->o);
		bool seen = false;
		for (size_t k = 0; k < m->ncolumns && !seen; k++)
			seen = strcmp(m->columns[k], cols[i]) == 0;
		if (!seen && m->ncolumns < MAX_COLUMNS)
			snprintf(m->columns[m->ncolumns++], sizeof m->columns[0], "%s", cols[i]);
	}
	fputs("\n|", m->o);
	for (size_t i = 0; i < n; i++)
		fputs("---|", m->o);
	fputc('\n', m->o);
}

/* A column name built from the vocabulary ("Active entities"). */
#define COL(buf, ...) (snprintf(buf, sizeof buf, __VA_ARGS__), (const char *)buf)

static const char *dec1(char *buf, size_t size, double v)
{
	uint64_t tenths = (uint64_t)(v * 10 + 0.5);
	char whole[32];
	snprintf(buf, size, "%s.%u", report_num(whole, sizeof whole, tenths / 10), (unsigned)(tenths % 10));
	return buf;
}
#define D1(x) dec1((char[40]){0}, 40, (x))

static void pct(FILE *o, const struct profile_pct *p)
{
	fprintf(o, "%s / %s / %s", N(p->p50), N(p->p99), N(p->max));
}

static const char *vname(const struct profile *p, uint32_t v)
{
	return v < p->nvariants ? p->variants[v].name : "-";
}

static double share(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

/* A table cell: '|' would end it early, a line break would end the row. */
void report_md_cell(FILE *o, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", o);
		else
			fputc(*s == '\n' || *s == '\r' ? ' ' : *s, o);
	}
}

static uint64_t feat_total(const struct profile_feature *f) { return f->inline_bytes + f->heap.chunk; }

/* "TxnByUser.p99_amount_24h" in beava's words; "slot 3" under a single
 * generic root (the root's name adds nothing). */
static void member_name(const struct md *m, const struct report_member *r, char *buf, size_t size)
{
	const struct profile_table *tb = &m->p->tables.data[r->table];
	if (m->p->generic && !m->p->split_tables)
		snprintf(buf, size, "%s", r->f->name);
	else
		snprintf(buf, size, "%s.%s", tb->name, r->f->name);
}

/* The byte families every number uses (design.md). */
static const char *const FAMILIES[][2] = {
	{"inline", "size_of the enum (from DWARF) per op: the slot the op occupies in its container"},
	{"payload", "the byte size of the active variant's fields (its DWARF span)"},
	{"slot slack", "inline - payload: bytes of the slot the active variant does not use"},
	{"heap requested", "the layout size Rust asked the allocator for (Vec/String/VecDeque cap * size, hashbrown "
			   "ctrl_offset + buckets + group width, BTree node sizes, Box size_of T, Arc/Rc inner size), "
			   "transitively for everything the op owns"},
	{"heap used", "the part of heap requested holding live elements (len * size, items * size, ...)"},
	{"capacity slack", "heap requested - heap used: reserved but empty capacity"},
	{"heap usable", "what glibc's malloc_usable_size says for each allocation"},
	{"heap chunk", "the glibc chunk size (the header word & ~7): what the allocation really costs"},
	{"allocator overhead", "heap chunk - heap requested: the allocator's header and rounding"},
	{"entity overhead", "the containers holding the ops (row buffers, map tables, keys' heap), reported per "
			    "table and never charged to variants"},
	{"per entity", "inline + heap requested summed over an entity's ops (beava's definition); allocator-level "
		       "uses heap chunk instead; percentiles are nearest-rank"},
	{"shared", "Rc/Arc allocations are charged once, on first visit"},
};

/* The anchor of a term in the Definitions block: "def-heap-chunk". */
static const char *def_slug(const char *term, char *buf, size_t size)
{
	size_t o = (size_t)snprintf(buf, size, "def-");
	for (; *term && o + 1 < size; term++)
		buf[o++] = *term == ' ' ? '-' : *term;
	buf[o < size ? o : size - 1] = 0;
	return buf;
}

/* ---------------------------------------------------------------- summary */

static void summary(struct md *m, const struct report_meta *meta)
{
	FILE *o = m->o;
	const struct profile *p = m->p;
	const struct report_summary *s = m->sum;
	fprintf(o, "# Memory profile: where `%s` spends its bytes\n\n", p->enum_name);
	fprintf(o, "## Summary\n\n");
	fprintf(o, "Terms (all defined under [Definitions](#definitions)):");
	for (size_t i = 0; i < sizeof FAMILIES / sizeof FAMILIES[0]; i++) {
		char slug[64];
		fprintf(o, "%s [%s](#%s)", i ? "," : "", SAY(m, FAMILIES[i][0]), def_slug(SAY(m, FAMILIES[i][0]), slug,
										     sizeof slug));
	}
	fprintf(o, ".\n\n");
	if (!s->have) {
		fprintf(o, "No `%s` value owns any bytes in this snapshot: nothing dominates.\n\n", p->enum_name);
		return;
	}
	const struct report_group *g = s->group;
	const struct report_member *top = &g->members[0];
	char name[200], label[160];
	member_name(m, top, name, sizeof name);
	report_variant_label(m->d, g->variant, g->op, label, sizeof label);
	fprintf(o, "- **What dominates:** variant `%s` costs %s of the %s bytes the ops cost (%.1f%%, inline + heap "
		"chunk) in %s of %s ops.", vname(p, s->variant), N(s->variant_bytes), N(s->ops_bytes),
		share(s->variant_bytes, s->ops_bytes), N(s->variant_ops), N(p->ops));
	fprintf(o, " Its costliest %s is `%s` (`%s`, %s bytes for %s instances)", m->w.feature, name, label,
		N(top->total), N(top->c->count));
	if (g->adv.path != UINT32_MAX) {
		for (size_t i = 0; i < g->fields.len; i++)
			if (g->fields.data[i].path == g->adv.path) {
				const struct profile_bytes *b = &g->fields.data[i].b;
				fprintf(o, "; field path `%s` holds %s heap chunk bytes there%s%s", report_path(m->d,
					g->adv.path), N(b->chunk), g->nmembers > 1 ? " and in the " : "",
					g->nmembers > 1 ? m->w.features : "");
				if (g->nmembers > 1)
					fprintf(o, " like it");
				break;
			}
	}
	fprintf(o, ".\n");
	bool said = false;
	if (g->adv.rule[1] == '1')
		for (size_t i = 0; i < g->fields.len; i++)
			if (g->fields.data[i].path == g->adv.path) {
				const struct profile_bytes *b = &g->fields.data[i].b;
				fprintf(o, "- **Why:** %s (rule %s): `%s` asked for %s bytes and %s of them hold live elements "
					"(%.1f%%), across the %s %s with this pattern.", g->adv.pattern, g->adv.rule,
					report_path_tail(report_path(m->d, g->adv.path)), N(b->requested), N(b->used),
					share(b->used, b->requested), N(g->nmembers), g->nmembers == 1 ? m->w.feature :
					m->w.features);
				said = true;
				break;
			}
	if (!said && g->adv.rule[1] == '2') {
		const struct profile_bytes *h = &g->heap;
		uint64_t waste = (h->requested - h->used) + (h->chunk - h->requested);
		fprintf(o, "- **Why:** %s (rule %s): %s of the %s heap chunk bytes are capacity slack or allocator overhead "
			"(%.1f%%), across the %s %s with this pattern.", g->adv.pattern, g->adv.rule, N(waste), N(h->chunk),
			share(waste, h->chunk), N(g->nmembers), g->nmembers == 1 ? m->w.feature : m->w.features);
		said = true;
	}
	if (!said)
		fprintf(o, "- **Why:** %s (rule %s): %s.", g->adv.pattern, g->adv.rule, SAY(m, g->adv.why));
	if (g->nmembers > 1) {
		fprintf(o, " The same pattern is in:");
		for (size_t i = 0; i < g->nmembers && i < 8; i++) {
			member_name(m, &g->members[i], name, sizeof name);
			fprintf(o, "%s `%s`", i ? "," : "", name);
		}
		if (g->nmembers > 8)
			fprintf(o, " and %zu more", g->nmembers - 8);
		fprintf(o, ".");
	}
	fprintf(o, "\n- **What to change:** %s.\n", SAY(m, g->change));
	fprintf(o, "- **What it saves on this snapshot:** %s %s in total", N(g->saving), g->saving_unit);
	if (g->adv.rule[1] == '3')
		fprintf(o, ", %s per %s on average over all %s %s (every op's slot shrinks)", N(s->per_entity),
			m->w.entity, N(g->saving_entities), m->w.entities);
	else if (g->saving_entities)
		fprintf(o, ", %s per %s on average over the %s %s holding %s", N(s->per_entity), m->w.entity,
			N(g->saving_entities), g->saving_entities == 1 ? m->w.entity : m->w.entities,
			g->nmembers == 1 ? "it" : "them");
	fprintf(o, " (%.1f%% of the ops' %s).\n", share(g->saving, !strcmp(g->saving_unit, "inline bytes") ?
		p->inline_bytes : !strcmp(g->saving_unit, "heap chunk bytes") ? p->heap.chunk : p->heap.requested),
		g->saving_unit);
	fprintf(o, "\n");
	if (meta->svg)
		fprintf(o, "Chart: [%s](%s) (bytes per variant; payload sizes in 8-byte bands). ", meta->svg, meta->svg);
	fprintf(o, "Every term and column is defined under [Definitions](#definitions).\n\n");
}

/* What the layers detected about the software that made the core, and on
 * what evidence (version.h). */
static void detected_versions(struct md *m)
{
	FILE *o = m->o;
	const struct profile *p = m->p;
	fprintf(o, "## Detected versions\n\n");
	if (!p->versions.len) {
		fprintf(o, "No dependency versions were recorded.\n\n");
		return;
	}
	static const char *const cols[] = {"Dependency", "Fact", "Assumed", "Evidence"};
	head(m, cols, 4);
	for (size_t i = 0; i < p->versions.len; i++) {
		const struct version_fact *v = &p->versions.data[i];
		const char *c[] = {v->dep, v->what, v->value, v->evidence};
		for (size_t k = 0; k < 4; k++) {
			fputs("| ", o);
			report_md_cell(o, c[k]);
			fputc(' ', o);
		}
		fputs("|\n", o);
	}
	fprintf(o, "\n");
}

static void snapshot(struct md *m, const struct report_meta *meta)
{
	FILE *o = m->o;
	const struct profile *p = m->p;
	static const char *const cols[] = {"What", "Value"};
	fprintf(o, "## Snapshot\n\n");
	head(m, cols, 2);
	fprintf(o, "| core | `%s` (%s core, %s bytes) |\n", meta->core, meta->core_kind, N(meta->core_size));
	fprintf(o, "| executable | `%s` (build-id %s) |\n", meta->exe,
		meta->build_id && *meta->build_id ? meta->build_id : "none");
	if (meta->debug_info && *meta->debug_info) {
		fputs("| debug info | found via ", o);
		report_md_cell(o, meta->debug_info);
		fputs(" |\n", o);
	}
	if (meta->live)
		fprintf(o, "| live process | %s |\n", meta->live);
	fprintf(o, "| target | %s |\n", p->target_name);
	fprintf(o, "| root | `%s` at 0x%" PRIx64 ": %s |\n", p->root_type, p->root_addr, p->root_how);
	fprintf(o, "| the root's own allocations | %llu (requested %s, chunk %s bytes): %s; counted here, not in %s "
		"overhead |\n", U(p->root_alloc_count), N(p->root_alloc_requested), N(p->root_alloc_chunk),
		p->generic ? "its Arc/Rc allocation or, for a root split into tables, its container's buffer" :
			     "its ArcInner, the pointers on the way to the tables and the tables container's buffer",
		p->generic ? "holder" : "entity");
	fprintf(o, "| enum | `%s`: %s bytes, align %llu, %zu variants |\n", p->enum_name, N(p->enum_size),
		U(p->enum_align), p->nvariants);
	fprintf(o, "| walk | %s allocations, %s values, %s unreadable, %s shared revisits; walk %.3f s, "
		"profile %.3f s |\n", N(p->walk.allocations), N(p->walk.values), N(p->walk.unreadable),
		N(p->walk.shared_revisits), p->walk_seconds, meta->seconds);
	if (p->walk.unreadable)
		fprintf(o, "| first unreadable | 0x%" PRIx64 ": %s |\n", p->walk.first_unreadable,
			p->walk.first_unreadable_what);
	if (p->entity_count_static != UINT64_MAX)
		fprintf(o, "| the process's own %s count | %s (walked: %s)%s |\n", m->w.entity, N(p->entity_count_static),
			N(p->entities), p->entity_count_static == p->entities ? "" : " **differs**");
	fprintf(o, "\n");
}

static void workload(struct md *m)
{
	FILE *o = m->o;
	const struct profile *p = m->p;
	fprintf(o, "## Workload summary\n\n");
	size_t feats = 0;
	for (size_t i = 0; i < p->tables.len; i++)
		for (size_t k = 0; k < p->tables.data[i].features.len; k++)
			feats += p->tables.data[i].features.data[k].count > 0;
	if (p->generic && !p->split_tables)
		fprintf(o, "- Root: `%s`; slots holding ops: %zu\n", p->tables.len ? p->tables.data[0].name : "-", feats);
	else if (p->generic)
		fprintf(o, "- Tables (elements of the root): %zu; slots holding ops: %zu\n", p->tables.len, feats);
	else
		fprintf(o, "- Tables: %zu; aggregate features discovered: %zu\n", p->tables.len, feats);
	fprintf(o, "- %s: %s; ops: %s\n", p->generic ? "Holders (allocations holding ops)" : "Active entity rows",
		N(p->entities), N(p->ops));
	fprintf(o, "- Ops inline: %s bytes (payload %s, slot slack %s)\n", N(p->inline_bytes), N(p->payload_bytes),
		N(p->inline_bytes - p->payload_bytes));
	fprintf(o, "- Ops heap: requested %s, used %s (capacity slack %s), usable %s, chunk %s "
		"(allocator overhead %s), in %s allocations\n",
		N(p->heap.requested), N(p->heap.used), N(p->heap.requested - p->heap.used), N(p->heap.usable),
		N(p->heap.chunk), N(p->heap.chunk - p->heap.requested), N(p->heap.allocations));
	fprintf(o, "- %s overhead (the containers holding the ops, map tables, keys): requested %s, chunk %s, in %s "
		"allocations\n", m->w.Entity, N(p->overhead.requested), N(p->overhead.chunk), N(p->overhead.allocations));
	uint64_t attributed = p->heap.chunk + p->overhead.chunk;
	fprintf(o, "- Heap in use (census, chunk bytes): %s; attributed to the %s: %s (%.1f%%)\n",
		N(p->heap_in_use_chunk_bytes), m->w.tables, N(attributed), share(attributed, p->heap_in_use_chunk_bytes));
	fprintf(o, "- Per %s (inline + heap requested) p50 / p99 / max: ", m->w.entity);
	pct(o, &p->per_entity);
	fprintf(o, "; allocator-level (inline + heap chunk): ");
	pct(o, &p->per_entity_chunk);
	fprintf(o, "\n\n");
}

static const struct profile_feature *top_feature(const struct profile_table *tb)
{
	const struct profile_feature *best = NULL;
	for (size_t i = 0; i < tb->features.len; i++)
		if (tb->features.data[i].count && (!best || feat_total(&tb->features.data[i]) > feat_total(best)))
			best = &tb->features.data[i];
	return best;
}

static bool any_text(const struct profile *p, size_t off)
{
	for (size_t i = 0; i < p->tables.len; i++) {
		const char *s = *(const char *const *)((const char *)&p->tables.data[i] + off);
		if (s && *s)
			return true;
	}
	return false;
}

static void tables(struct md *m)
{
	FILE *o = m->o;
	const struct profile *p = m->p;
	const struct vocab *w = &m->w;
	bool src = any_text(p, offsetof(struct profile_table, source)), key = any_text(p, offsetof(struct profile_table, key));
	char c3[80], c4[80], c8[80], c9[80], c10[80], c11[80];
	const char *cols[12];
	size_t n = 0;
	cols[n++] = w->Table;
	if (src)
		cols[n++] = "Source";
	if (key)
		cols[n++] = "group_by key";
	cols[n++] = COL(c3, "Active %s", w->entities);
	cols[n++] = COL(c4, "%c%s per %s", w->features[0] - 32, w->features + 1, w->entity);
	cols[n++] = "Ops inline total";
	cols[n++] = "Ops heap requested total";
	cols[n++] = "Ops heap chunk total";
	cols[n++] = COL(c8, "Per %s p50 / p99 / max", w->entity);
	cols[n++] = COL(c9, "Allocator-level per %s p50 / p99 / max", w->entity);
	cols[n++] = COL(c10, "%s overhead (chunk)", w->Entity);
	cols[n++] = COL(c11, "Top %s", w->feature);
	fprintf(o, "## Per-%s footprint\n\n", w->table);
	head(m, cols, n);
	for (size_t i = 0; i < p->tables.len; i++) {
		const struct profile_table *tb = &p->tables.data[i];
		const struct profile_feature *top = top_feature(tb);
		fputs("| `", o);
		report_md_cell(o, tb->name);
		fputs("` | ", o);
		if (src)
			fprintf(o, "%s | ", tb->source);
		if (key)
			fprintf(o, "%s | ", tb->key);
		fprintf(o, "%s | %zu | %s | %s | %s | ", N(tb->entities), tb->features.len, N(tb->inline_bytes),
			N(tb->heap.requested), N(tb->heap.chunk));
		pct(o, &tb->per_entity);
		fprintf(o, " | ");
		pct(o, &tb->per_entity_chunk);
		fprintf(o, " | %s | %s |\n", N(tb->overhead.chunk), top ? top->name : "-");
	}
	fprintf(o, "\n");
}

/* ---------------------------------------------------------------- variants */

struct vrow {
	const char *op;           /* NULL: the variant's own row */
	uint64_t count, inline_bytes;
	struct profile_bytes heap;
};

static void vrow_add(struct vrow *r, const struct profile_cell *c)
{
	r->count += c->count;
	r->inline_bytes += c->inline_bytes;
	r->heap.requested += c->heap.requested;
	r->heap.used += c->heap.used;
	r->heap.usable += c->heap.usable;
	r->heap.chunk += c->heap.chunk;
	r->heap.allocations += c->heap.allocations;
}

static int cmp_vrow(const void *a, const void *b)
{
	const struct vrow *x = a, *y = b;
	uint64_t tx = x->inline_bytes + x->heap.chunk, ty = y->inline_bytes + y->heap.chunk;
	return tx < ty ? 1 : tx > ty ? -1 : strcmp(x->op, y->op);
}

/* A variant's cells split by the op label of their slots (Windowed by the
 * op it wraps), when any label differs from the variant's name. */
static size_t split_by_op(const struct profile *p, uint32_t v, struct vrow *rows, size_t max)
{
	size_t n = 0;
	bool differs = false;
	for (size_t t = 0; t < p->tables.len; t++)
		for (size_t s = 0; s < p->tables.data[t].features.len; s++) {
			const struct profile_feature *f = &p->tables.data[t].features.data[s];
			for (size_t c = 0; c < f->cells.len; c++) {
				if (f->cells.data[c].variant != v)
					continue;
				const char *op = f->op && *f->op ? f->op : "(no label)";
				differs |= strcmp(op, p->variants[v].name) != 0;
				size_t k = 0;
				while (k < n && strcmp(rows[k].op, op))
					k++;
				if (k == n) {
					if (n == max)
						continue;
					rows[n++] = (struct vrow){.op = op};
				}
				vrow_add(&rows[k], &f->cells.data[c]);
			}
		}
	if (!differs || n < 2)
		return 0;
	if (n > 1)   /* qsort must not see a NULL array, even empty */
		qsort(rows, n, sizeof *rows, cmp_vrow);
	return n;
}

static int cmp_variant(const void *a, const void *b)
{
	const struct profile_variant *x = *(const struct profile_variant *const *)a,
				     *y = *(const struct profile_variant *const *)b;
	uint64_t tx = x->inline_bytes + x->heap.chunk, ty = y->inline_bytes + y->heap.chunk;
	return tx < ty ? 1 : tx > ty ? -1 : strcmp(x->name, y->name);
}

static void variant_row(FILE *o, const char *label, uint64_t count, uint64_t payload, uint64_t inl,
			const struct profile_bytes *h)
{
	fprintf(o, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", label, N(count), N(payload), N(inl),
		N(h->requested), N(h->used), N(h->usable), N(h->chunk), N(h->allocations), N(inl + h->chunk));
}

static void variants(struct md *m)
{
	FILE *o = m->o;
	const struct profile *p = m->p;
	const struct profile_variant **v = malloc((p->nvariants ? p->nvariants : 1) * sizeof *v);
	struct vrow rows[64];
	bool split = false;
	if (!v)
		return;
	for (size_t i = 0; i < p->nvariants; i++)
		v[i] = &p->variants[i];
	if (p->nvariants > 1)   /* qsort must not see a NULL array, even empty */
		qsort(v, p->nvariants, sizeof *v, cmp_variant);
	static const char *const cols[] = {"Variant", "Ops", "Payload per op", "Inline total", "Heap requested total",
					   "Heap used total", "Heap usable total", "Heap chunk total", "Allocations",
					   "Total (inline + chunk)"};
	fprintf(o, "## Op by op (variants, sorted by inline + heap chunk bytes)\n\n");
	head(m, cols, 10);
	for (size_t i = 0; i < p->nvariants; i++) {
		if (!v[i]->count)
			continue;
		variant_row(o, v[i]->name, v[i]->count, v[i]->payload_size, v[i]->inline_bytes, &v[i]->heap);
		size_t n = split_by_op(p, (uint32_t)(v[i] - p->variants), rows, sizeof rows / sizeof rows[0]);
		split |= n > 0;
		for (size_t k = 0; k < n; k++) {
			char label[160];
			snprintf(label, sizeof label, "&nbsp;&nbsp;%s<%s>", v[i]->name, rows[k].op);
			variant_row(o, label, rows[k].count, v[i]->payload_size, rows[k].inline_bytes, &rows[k].heap);
		}
	}
	size_t unused = 0;
	for (size_t i = 0; i < p->nvariants; i++)
		unused += p->variants[i].count == 0;
	fprintf(o, "\n");
	if (split)
		fprintf(o, "Rows `Variant<Op>` split a variant by the op label of the %s holding it (beava's Windowed by the op "
		"it wraps); they add up to the variant's row.\n\n", m->w.features);
	if (unused) {
		fprintf(o, "%zu of %zu variants have no instance in this snapshot:", unused, p->nvariants);
		for (size_t i = 0, k = 0; i < p->nvariants; i++)
			if (!p->variants[i].count)
				fprintf(o, "%s %s", k++ ? "," : "", p->variants[i].name);
		fprintf(o, ".\n\n");
	} else {
		fprintf(o, "Every one of the %zu variants has instances in this snapshot.\n\n", p->nvariants);
	}
	free(v);
}

/* ---------------------------------------------------------------- fields */

/* An owner's fields, in the profile's order (heap chunk bytes descending). */
static void breakdown(struct md *m, const struct profile_fields *fl, uint64_t count)
{
	FILE *o = m->o;
	static const char *const cols[] = {"Field path", "Container", "Allocations", "Requested", "Used",
					   "Capacity slack", "Chunk", "Allocator overhead", "Chunk per instance"};
	head(m, cols, 9);
	for (size_t i = 0; i < fl->len; i++) {
		const struct profile_field *c = &fl->data[i];
		const struct profile_bytes *b = &c->b;
		fprintf(o, "| `%s` | %s | %s | %s | %s | %s | %s | %s | %s |\n", report_path(m->d, c->path),
			report_kind(m->d, c->kind), N(b->allocations), N(b->requested), N(b->used),
			N(b->requested - b->used), N(b->chunk), N(b->chunk - b->requested),
			D1(count ? (double)b->chunk / (double)count : 0.0));
	}
	fprintf(o, "\n");
}

/* ---------------------------------------------------------------- offenders */

/* The number group i has in the Top offenders list (groups where no rule
 * fires are not offenders and are not numbered). */
static size_t offender_number(const struct report_groups *gs, size_t i)
{
	size_t n = 0;
	for (size_t k = 0; k <= i && k < gs->n; k++)
		n += gs->g[k].adv.rule[1] != '5';
	return n;
}

static void offenders(struct md *m)
{
	FILE *o = m->o;
	const struct profile *p = m->p;
	const struct report_groups *gs = m->groups;
	char c1[80];
	fprintf(o, "## Top 5 offenders\n\n");
	fprintf(o, "Ranked by what they cost across all %s: inline slots plus the heap chunks glibc holds for them. "
		"%c%s (one variant each) whose recommendation names the same rule, variant and field path are one "
		"offender.\n\n", m->w.entities, m->w.features[0] - 32, m->w.features + 1);
	for (size_t i = 0, shown = 0; i < gs->n && shown < 5; i++) {
		const struct report_group *g = &gs->g[i];
		if (g->adv.rule[1] == '5')
			continue;   /* no rule fired: not an offender */
		shown++;
		char label[160], name[200];
		report_variant_label(m->d, g->variant, g->op, label, sizeof label);
		fprintf(o, "### %zu. %c%s in `%s`: %s bytes in %zu %s\n\n", shown, g->adv.pattern[0] - 32,
			g->adv.pattern + 1, label, N(g->total), g->nmembers, g->nmembers == 1 ? m->w.feature : m->w.features);
		fprintf(o, "- %s instances: inline %s (payload %s, slot slack %s), heap requested %s, used %s, chunk %s in "
			"%s allocations; per instance %s bytes\n", N(g->count), N(g->inline_bytes), N(g->payload_bytes),
			N(g->inline_bytes - g->payload_bytes), N(g->heap.requested), N(g->heap.used), N(g->heap.chunk),
			N(g->heap.allocations), N(g->count ? (g->total + g->count / 2) / g->count : 0));
		fprintf(o, "- **Recommendation: %s** (%s: %s); change: %s\n", g->adv.verdict, g->adv.rule,
			SAY(m, g->adv.why), SAY(m, g->change));
		if (g->shared_with >= 0)
			fprintf(o, "- Saves on this snapshot: counted once, under offender %zu (boxing `%s` shrinks every op's "
				"slot, whichever %s holds it)", offender_number(gs, (size_t)g->shared_with),
				vname(p, g->variant), m->w.feature);
		else {
			fprintf(o, "- Saves on this snapshot: %s %s", N(g->saving), g->saving_unit);
			if (g->adv.rule[1] == '3')
				fprintf(o, ", %s per %s over all %s %s (every op's slot shrinks)",
					N(g->saving_entities ? g->saving / g->saving_entities : 0), m->w.entity,
					N(g->saving_entities), m->w.entities);
			else if (g->saving_entities)
				fprintf(o, ", %s per %s holding it (%s %s)", N(g->saving / g->saving_entities), m->w.entity,
					N(g->saving_entities), g->saving_entities == 1 ? m->w.entity : m->w.entities);
		}
		fprintf(o, "\n\n");
		const char *cols[] = {COL(c1, "%s", m->w.Feature), "Instances", "Total (inline + chunk)",
				      "Share of the offender"};
		head(m, cols, 4);
		for (size_t k = 0; k < g->nmembers; k++) {
			member_name(m, &g->members[k], name, sizeof name);
			fputs("| `", o);
			report_md_cell(o, name);
			fprintf(o, "` | %s | %s | %.1f%% |\n", N(g->members[k].c->count), N(g->members[k].total),
				share(g->members[k].total, g->total));
		}
		fprintf(o, "\n");
		breakdown(m, &g->fields, g->count);
	}
	fprintf(o, "Groups where no rule fires (R5, keep) are not offenders and are left out.\n\n");
	fprintf(o, "Rules, first match wins:\n\n");
	for (size_t i = 0; report_rules[i]; i++)
		fprintf(o, "- %s\n", SAY(m, report_rules[i]));
	fprintf(o, "\n");
}

/* ---------------------------------------------------------------- features */

static void cell_row(struct md *m, const struct profile_table *tb, size_t slot, const struct profile_feature *f,
		     const struct profile_cell *c, bool op, bool sub)
{
	FILE *o = m->o;
	const struct profile *p = m->p;
	struct report_advice adv;
	struct report_owner ow = report_owner_cell(c);
	report_advise(m->d, tb, &ow, &adv);
	if (sub)
		fprintf(o, "| %zu | &nbsp;&nbsp;└ as %s | ", slot, vname(p, c->variant));
	else {
		fprintf(o, "| %zu | `", slot);
		report_md_cell(o, f->name);
		fprintf(o, "` | ");
	}
	if (op)
		fprintf(o, "%s%s | ", f->op, f->window_ms ? " (windowed)" : "");
	fprintf(o, "%s | %s | %s | %s | ", vname(p, c->variant), N(c->count), N(c->count ? c->inline_bytes / c->count : 0),
		N(c->count ? c->payload_bytes / c->count : 0));
	pct(o, &c->heap_req_pct);
	struct profile_pct tot = {c->heap_req_pct.p50 + p->enum_size, c->heap_req_pct.p99 + p->enum_size,
				  c->heap_req_pct.max + p->enum_size};
	fprintf(o, " | ");
	pct(o, &tot);
	fprintf(o, " | %s | %s | %s | %s (%s) |\n", N(c->heap.requested), N(c->heap.used), N(c->heap.chunk), adv.verdict,
		adv.rule);
}

static void features(struct md *m)
{
	FILE *o = m->o;
	const struct profile *p = m->p;
	bool op = false;
	for (size_t i = 0; i < p->tables.len; i++)
		for (size_t k = 0; k < p->tables.data[i].features.len; k++)
			op |= p->tables.data[i].features.data[k].op[0] != 0;
	char c1[80];
	const char *cols[14];
	size_t n = 0;
	cols[n++] = "#";
	cols[n++] = COL(c1, "%s", m->w.Feature);
	if (op)
		cols[n++] = "Op";
	cols[n++] = "Variant";
	cols[n++] = "Instances";
	cols[n++] = "Inline per instance";
	cols[n++] = "Payload per instance";
	cols[n++] = "Heap requested per instance p50 / p99 / max";
	cols[n++] = "Total per instance p50 / p99 / max";
	cols[n++] = "Heap requested total";
	cols[n++] = "Heap used total";
	cols[n++] = "Heap chunk total";
	cols[n++] = "Recommendation";
	for (size_t i = 0; i < p->tables.len; i++) {
		const struct profile_table *tb = &p->tables.data[i];
		if (!tb->entities)
			continue;
		fprintf(o, "### %s columns across %s: `%s`\n\n", m->w.Feature, m->w.entities, tb->name);
		head(m, cols, n);
		for (size_t k = 0; k < tb->features.len; k++) {
			const struct profile_feature *f = &tb->features.data[k];
			if (!f->count)
				continue;
			if (f->cells.len == 1) {
				cell_row(m, tb, k, f, &f->cells.data[0], op, false);
				continue;
			}
			/* a mixed slot: its totals, then one row per variant it holds */
			fprintf(o, "| %zu | `", k);
			report_md_cell(o, f->name);
			fprintf(o, "` | ");
			if (op)
				fprintf(o, "%s | ", f->op);
			fprintf(o, "mixed: %zu variants | %s | %s | %s | ", f->cells.len, N(f->count),
				N(f->inline_bytes / f->count), N(f->payload_bytes / f->count));
			pct(o, &f->heap_req_pct);
			fprintf(o, " | ");
			pct(o, &f->total_pct);
			fprintf(o, " | %s | %s | %s | per variant below |\n", N(f->heap.requested), N(f->heap.used),
				N(f->heap.chunk));
			for (size_t c = 0; c < f->cells.len; c++)
				cell_row(m, tb, k, f, &f->cells.data[c], op, true);
		}
		fprintf(o, "\n");
	}
	fprintf(o, "A %s holding several variants is marked `mixed`; the rows under it, one per variant, carry their own "
		"figures and recommendation.\n\n", m->w.feature);
}

static void variant_fields(struct md *m)
{
	FILE *o = m->o;
	const struct profile *p = m->p;
	fprintf(o, "## Where each variant's heap goes\n\n");
	for (size_t i = 0; i < p->nvariants; i++) {
		const struct profile_variant *v = &p->variants[i];
		if (!v->count || !v->fields.len)
			continue;
		fprintf(o, "### %s (%s ops)\n\n", v->name, N(v->count));
		breakdown(m, &v->fields, v->count);
	}
}

/* ---------------------------------------------------------------- largest */

static int cmp_entity_op(const void *a, const void *b)
{
	const struct profile_entity_op *x = a, *y = b;
	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return x->slot < y->slot ? -1 : x->slot > y->slot;
}

static void largest(struct md *m)
{
	FILE *o = m->o;
	const struct profile *p = m->p;
	char c0[80], c1[80], c4[80];
	fprintf(o, "## Largest %s rows\n\n", m->w.entity);
	const char *cols[] = {m->w.Table, "Key", "Ops", "Inline + heap requested", "Inline + heap chunk"};
	head(m, cols, 5);
	for (size_t i = 0; i < p->nlargest; i++) {
		const struct profile_entity_row *r = &p->largest[i];
		fputs("| `", o);
		report_md_cell(o, p->tables.data[r->table].name);
		fprintf(o, "` | `%s`%s | %s | %s | %s |\n", r->key[0] ? r->key : "-",
			r->shared_refs ? " (shares allocations with other holders: left out)" : "", N(r->ops), N(r->bytes),
			N(r->chunk_bytes));
	}
	fprintf(o, "\n");
	if (!p->nlargest || !p->largest_ops.len)
		return;
	const struct profile_entity_row *r = &p->largest[0];
	const struct profile_table *tb = &p->tables.data[r->table];
	size_t n = p->largest_ops.len;
	struct profile_entity_op *ops = malloc(n * sizeof *ops);
	if (!ops)
		return;
	memcpy(ops, p->largest_ops.data, n * sizeof *ops);
	if (n > 1)   /* qsort must not see a NULL array, even empty */
		qsort(ops, n, sizeof *ops, cmp_entity_op);
	fprintf(o, "### The largest %s, %s by %s: `%s` in `%s`\n\n", m->w.entity, m->w.feature, m->w.feature,
		r->key[0] ? r->key : "-", tb->name);
	const char *cols2[] = {"#", COL(c1, "%s", m->w.Feature), "Variant", "Inline + heap requested",
			       COL(c4, "Share of the %s", m->w.entity)};
	(void)c0;
	head(m, cols2, 5);
	uint64_t rest = 0;
	size_t nrest = 0;
	for (size_t i = 0; i < n; i++) {
		if (i >= 15) {
			rest += ops[i].bytes;
			nrest++;
			continue;
		}
		const char *fname = ops[i].slot < tb->features.len ? tb->features.data[ops[i].slot].name : "?";
		const char *fop = ops[i].slot < tb->features.len ? tb->features.data[ops[i].slot].op : "";
		char label[160];
		fprintf(o, "| %u | `", ops[i].slot);
		report_md_cell(o, fname);
		fprintf(o, "` | %s | %s | %.1f%% |\n", report_variant_label(m->d, ops[i].variant, fop, label, sizeof label),
			N(ops[i].bytes), share(ops[i].bytes, r->bytes));
	}
	if (nrest)
		fprintf(o, "| | (%zu more) | | %s | %.1f%% |\n", nrest, N(rest), share(rest, r->bytes));
	fprintf(o, "\n");
	free(ops);
}

/* ---------------------------------------------------------------- advisor */

static void advisor(struct md *m)
{
	FILE *o = m->o;
	const struct profile *p = m->p;
	const struct types_layout_enum *le = &p->layout;
	fprintf(o, "## Layout advisor\n\n");
	fprintf(o, "`%s` is %s bytes (align %u); the tag is %u byte(s) at offset %llu%s.\n\n", p->enum_name,
		N(le->size), le->align, le->tag_size, U(le->tag_offset), le->niche ? " (niche-encoded)" : "");
	fprintf(o, "Variants that set the size:");
	for (uint32_t i = 0, n = 0; i < le->nvariants; i++)
		if (le->variants[i].sets_size)
			fprintf(o, "%s %s (payload %llu)", n++ ? "," : "", le->variants[i].name,
				U(le->variants[i].payload_size));
	fprintf(o, "\n\nEach row boxes one more variant, largest payload first; the savings are cumulative, and the last "
		"column says what that row adds to the row above.\n\n");
	static const char *const cols[] = {"Boxed so far", "This row boxes", "Enum size (model)",
					   "Inline saved in total", "This row adds"};
	head(m, cols, 5);
	struct report_boxing bx;
	for (uint32_t k = 0; report_boxing_step(m->d, k, &bx); k++) {
		const char *name = bx.variant < le->nvariants ? le->variants[bx.variant].name : "?";
		fprintf(o, "| %u | %s | %s | %s | %s%s |\n", k + 1, name, N(bx.size), N(bx.saved), bx.adds ? "+" : "",
			bx.adds ? N(bx.adds) : "nothing more");
	}
	fprintf(o, "\nThe boxed sizes are a model (each boxed payload becomes an 8-byte pointer after the tag); "
		"rustc may pick another niche. Boxing moves the payload to the heap of every instance of that "
		"variant: %s.\n\n", "weigh the saving against one more allocation (at least 32 chunk bytes) per instance");
}

static void coherence(struct md *m, const struct report_metrics *mx)
{
	FILE *o = m->o;
	fprintf(o, "## Metrics coherence\n\n");
	if (!mx || !mx->have) {
		fprintf(o, "No /metrics scrape given (`--metrics FILE`).\n\n");
		return;
	}
	fprintf(o, "- `%s` in `%s`: %s\n- measured p99 (inline + heap requested per %s row): "
		"%s\n- tolerance: %.0f%%\n\n", mx->name, mx->file, N(mx->metric > 0 ? (uint64_t)(mx->metric + 0.5) : 0), m->w.entity,
		N(mx->measured), mx->tolerance * 100);
	if (mx->diverged)
		fprintf(o, "**Diverged** by %s bytes (%.1f%%): the metric should carry %s. If it is a static "
			"placeholder, replace it with live sampling.\n\n",
			N((uint64_t)(mx->metric > (double)mx->measured ? mx->metric - (double)mx->measured :
				     (double)mx->measured - mx->metric) + 0),
			mx->relative * 100, N(mx->measured));
	else
		fprintf(o, "Coherent: within %.1f%% of the measurement.\n\n", mx->relative * 100);
}

bool report_has_unattributed(const struct profile *p)
{
	return p->walk.unreadable || p->walk.missing || p->walk.nodecoder;
}

void report_unattributed_line(const struct profile *p, char *buf, size_t size)
{
	snprintf(buf, size,
		 "not everything reached was attributed exactly: %llu unreadable (first at 0x%llx: %s), %llu bytes in "
		 "pages missing from the core, %llu bytes behind raw pointers no decoder owns; see \"Not attributed "
		 "exactly\" in the report", U(p->walk.unreadable), U(p->walk.first_unreadable),
		 p->walk.unreadable ? p->walk.first_unreadable_what : "-", U(p->walk.missing_bytes),
		 U(p->walk.nodecoder_bytes));
}

/* Everything reached that is not in the figures above, by reason; only
 * when there is something to say. */
static void unattributed(struct md *m)
{
	FILE *o = m->o;
	const struct profile *p = m->p;
	const struct walk_stats *w = &p->walk;
	if (!report_has_unattributed(p))
		return;
	fprintf(o, "## Not attributed exactly\n\n");
	fprintf(o, "The walk reached these bytes but could not charge them exactly; the figures below leave them "
		"out.\n\n");
	static const char *const cols[] = {"Reason", "Count", "Bytes", "First / detail"};
	head(m, cols, 4);
	if (w->unreadable)
		fprintf(o, "| unreadable (a header or pointer failed validation; what it owns is not followed) | %s | "
			"unknown | 0x%" PRIx64 ": %s |\n", N(w->unreadable), w->first_unreadable, w->first_unreadable_what);
	if (w->missing)
		fprintf(o, "| page missing from the core (read as zeros: what it owned is unknown) | %s | %s | "
			"0x%" PRIx64 " |\n", N(w->missing), N(w->missing_bytes), w->first_missing);
	if (w->nodecoder)
		fprintf(o, "| heap behind raw pointers no decoder owns (chunk bytes) | %s | %s | by type below |\n",
			N(w->nodecoder), N(w->nodecoder_bytes));
	fprintf(o, "| shared and already charged (Rc/Arc reached again; chunk bytes) | %s | %s | counted once, "
		"on first visit |\n\n", N(w->shared_revisits), N(w->shared_bytes));
	size_t n = m->d->run->nnodecoders;
	if (!n)
		return;
	fprintf(o, "Heap behind raw pointers (`*mut T`, `*const T`, `NonNull<T>`) outside every known container, by "
		"the type holding the pointer and its field path:\n\n");
	static const char *const cols2[] = {"Type", "Field path", "Allocations", "Chunk bytes"};
	head(m, cols2, 4);
	for (size_t i = 0; i < n && i < 20; i++) {
		const struct report_nodecoder *r = &m->d->run->nodecoders[i];
		fprintf(o, "| `%s` | `%s` | %s | %s |\n", r->type, r->path, N(r->allocations), N(r->bytes));
	}
	if (n > 20)
		fprintf(o, "| (%zu more) | | | |\n", n - 20);
	fputc('\n', o);
}

/* ---------------------------------------------------------------- definitions */

/* A column's definition; NULL when the report has none (the test catches it). */
static const char *column_def(const struct md *m, const char *c)
{
	const struct vocab *w = &m->w;
	char b[80];
	struct {
		const char *name, *def;
	} fixed[] = {
		{"What", "what a snapshot fact is about"},
		{"Value", "the fact"},
		{"Dependency", "the software whose layout the walk relied on (rustc, std, a crate, glibc)"},
		{"Fact", "which of its layouts or encodings"},
		{"Assumed", "the release or layout the walk used"},
		{"Evidence", "what in the executable or core showed it"},
		{"Reason", "why bytes reached were not attributed exactly"},
		{"Count", "how many times that happened"},
		{"Bytes", "the bytes concerned (chunk bytes where it says so)"},
		{"First / detail", "the first address met, or where the detail is"},
		{"Type", "the struct holding a raw pointer"},
		{"Field path", "where in the op (or struct) the allocation hangs: variant, then fields, `[*]` for an "
			       "element, `[key]` for a map key"},
		{"Allocations", "number of heap allocations (total)"},
		{"Chunk bytes", "heap chunk bytes (total)"},
		{"Source", "the event stream the table aggregates (from the target's registry)"},
		{"group_by key", "the key its entities are grouped by"},
		{"Ops inline total", "inline bytes of all ops of the table"},
		{"Ops heap requested total", "heap requested bytes of all ops of the table"},
		{"Ops heap chunk total", "heap chunk bytes of all ops of the table"},
		{"Variant", "the enum variant (for a mixed slot: how many variants it holds)"},
		{"Ops", "number of ops (instances of the enum)"},
		{"Payload per op", "payload bytes of one instance of the variant"},
		{"Inline total", "inline bytes of all instances (ops x size_of the enum)"},
		{"Heap requested total", "heap requested bytes, summed over all instances"},
		{"Heap used total", "heap used bytes, summed over all instances"},
		{"Heap usable total", "heap usable bytes, summed over all instances"},
		{"Heap chunk total", "heap chunk bytes, summed over all instances"},
		{"Total (inline + chunk)", "inline total + heap chunk total: what the instances really cost"},
		{"Container", "the kind of container the allocations back (Vec, Box, hashbrown table, BTree leaf or "
			      "internal node, ...); a path holding several kinds has a row per kind"},
		{"Requested", "heap requested bytes on that path (total)"},
		{"Used", "heap used bytes on that path (total)"},
		{"Capacity slack", "requested - used on that path (total)"},
		{"Chunk", "heap chunk bytes on that path (total)"},
		{"Allocator overhead", "chunk - requested on that path (total)"},
		{"Chunk per instance", "chunk on that path divided by the owner's instances"},
		{"#", "the slot's index in the container holding the ops"},
		{"Op", "the op kind the target's registry (or --config) names for the slot; (windowed) when it has a "
		       "window"},
		{"Instances", "how many ops the row counts"},
		{"Inline per instance", "size_of the enum: the slot one op occupies"},
		{"Payload per instance", "average payload bytes of one op of the row"},
		{"Heap requested per instance p50 / p99 / max", "heap requested by one op, nearest-rank percentiles"},
		{"Total per instance p50 / p99 / max", "inline + heap requested of one op, nearest-rank percentiles"},
		{"Recommendation", "the verdict of the first rule that fires for that variant in that slot (rules R1-R5)"},
		{"Key", "the entity's key as read from the core (a map key), `-` when none"},
		{"Inline + heap requested", "inline + heap requested bytes (beava's per-entity definition)"},
		{"Inline + heap chunk", "inline + heap chunk bytes (allocator-level)"},
		{"Boxed so far", "how many variants this row boxes (largest payload first, cumulative)"},
		{"This row boxes", "the variant this row adds to the boxed ones"},
		{"Enum size (model)", "size_of the enum once those variants are boxed (a model)"},
		{"Inline saved in total", "(size now - size modelled) x ops in this snapshot, for all variants boxed so "
					  "far"},
		{"This row adds", "the part of the saving this row's variant adds to the row above"},
		{"Share of the offender", "the slot's part of the offender's inline + heap chunk bytes"},
		/* the whole heap (whole_heap) */
		{"Owner path", "where a typed owner outside the ops holds heap: the root state's field path or a static's, "
			       "then the container; every allocation is charged to the first owner reaching it"},
		{"% of heap in use", "the row's chunk bytes as a share of the census's in-use chunk bytes"},
		{"Class", "why a chunk no typed owner reaches is still there: what a conservative scan found pointing "
			  "at it (a thread's stack, TLS or registers; static memory; other unreached chunks; nothing)"},
		{"Arena", "the glibc arena holding the chunks (0 is the main arena; mmapped: outside every arena)"},
		{"Size class", "the chunk sizes the row counts"},
		{"Chunks", "number of heap chunks"},
	};
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		if (!strcmp(fixed[i].name, c))
			return fixed[i].def;
	if (!strcmp(c, w->Table))
		return m->p->generic && !m->p->split_tables ? "the root named by --root: everything it reaches" :
			"the table (for a root holding several: one element of it)";
	if (!strcmp(c, w->Feature))
		return m->p->generic ? "a slot: an index inside the holder (the element index of the Vec, array or map "
				       "holding the op), named `slot N`" :
			"a feature: one aggregation slot of every entity row, named by the target's registry";
	if (!strcmp(c, COL(b, "Active %s", w->entities)))
		return m->p->generic ? "holders met: each allocation (or the root object) holding ops" :
			"entity rows met in the table's maps";
	if (!strcmp(c, COL(b, "%c%s per %s", w->features[0] - 32, w->features + 1, w->entity)))
		return m->p->generic ? "slot columns of the table (the longest holder's length)" :
			"feature columns of the table (its registry's features, or the longest row)";
	if (!strcmp(c, COL(b, "Per %s p50 / p99 / max", w->entity)))
		return "inline + heap requested per entity (beava's definition), nearest-rank percentiles";
	if (!strcmp(c, COL(b, "Allocator-level per %s p50 / p99 / max", w->entity)))
		return "inline + heap chunk per entity, nearest-rank percentiles";
	if (!strcmp(c, COL(b, "%s overhead (chunk)", w->Entity)))
		return "heap chunk bytes of the containers holding the ops (entity overhead), not in any op's figures";
	if (!strcmp(c, COL(b, "Top %s", w->feature)))
		return m->p->generic ? "the slot costing most in the table (inline + heap chunk)" :
			"the feature costing most in the table (inline + heap chunk)";
	if (!strcmp(c, COL(b, "Share of the %s", w->entity)))
		return "the op's inline + heap requested as a share of the whole entity's";
	return NULL;
}

static void definitions(struct md *m)
{
	FILE *o = m->o;
	fprintf(o, "## Definitions\n\n");
	fprintf(o, "Byte families (every number is one of these, in bytes):\n\n");
	for (size_t i = 0; i < sizeof FAMILIES / sizeof FAMILIES[0]; i++)
	{
		char slug[64];
		fprintf(o, "- **%s**: <a id=\"%s\"></a>%s.\n", SAY(m, FAMILIES[i][0]),
			def_slug(SAY(m, FAMILIES[i][0]), slug, sizeof slug), SAY(m, FAMILIES[i][1]));
	}
	fprintf(o, "\nWords: an op is one instance of `%s`; ", m->p->enum_name);
	if (m->p->generic)
		fprintf(o, "a holder is the allocation (or the root object) holding ops; a "
			"slot is an op's index inside its holder.\n\n");
	else
		fprintf(o, "an entity is one row of a table (one key); a feature is one of its aggregation slots.\n\n");
	fprintf(o, "Columns (\"total\" sums over all instances; \"per instance\" is one op; \"per %s\" one %s):\n\n",
		m->w.entity, m->w.entity);
	for (size_t i = 0; i < m->ncolumns; i++) {
		const char *d = column_def(m, m->columns[i]);
		if (d)
			fprintf(o, "- **%s**: %s.\n", m->columns[i], SAY(m, d));
	}
	fprintf(o, "\n");
}

/* -------------------------------------------------- the whole heap */

/* Owner rows below this share of the heap in use (or past WHOLE_ROWS) are
 * collapsed into one line with their total. */
#define WHOLE_MIN_PERMILLE 1
#define WHOLE_ROWS 30

/* "Where the whole heap goes" (profile_heap.c): every typed owner and the
 * classified remainder, reconciled with the census; a first line for the
 * summary: the tables' share and the largest other owner. */
static void whole_heap(struct md *m)
{
	FILE *o = m->o;
	const struct profile *p = m->p;
	const struct profile_whole *pw = &p->whole;
	if (!pw->done)
		return;
	uint64_t in_use = pw->in_use_chunk_bytes;
	const struct profile_owner *big = pw->owners.len ? &pw->owners.data[0] : NULL;
	fprintf(o, "- **The whole heap:** the %s hold %s of the %s heap chunk bytes in use (%.1f%%); ", m->w.tables,
		N(pw->tables_chunk_bytes), N(in_use), share(pw->tables_chunk_bytes, in_use));
	if (big)
		fprintf(o, "the largest other owner is `%s` with %s (%.1f%%); ", big->name, N(big->b.chunk),
			share(big->b.chunk, in_use));
	fprintf(o, "typed owners account for %.1f%% in all (see [Where the whole heap goes](#where-the-whole-heap-goes)).\n\n",
		share(pw->accounted_chunk_bytes, in_use));
	fprintf(o, "## Where the whole heap goes\n\n");
	fprintf(o, "Every in-use heap chunk of the census (mmapped chunks included), charged once to the first typed "
		"owner that reaches it: the %s first, then the root state's other fields and the tables' own structs, "
		"then every static that can own heap (in the executable's DWARF order), then the values on thread stacks "
		"that hold the root's `Arc`. An `Rc`/`Arc` a later owner reaches again stays with the first "
		"(%s reached again, %s chunk bytes, not counted twice). What no typed owner reaches is the remainder, "
		"classified by what anchors it (a conservative scan of words from static memory, then the threads, "
		"closed over unreached chunks); the rest are leak candidates.\n\n", m->w.tables,
		N(pw->shared_revisits), N(pw->shared_bytes));
	const char *cols[] = {"Owner path", "Chunk bytes", "% of heap in use", "Requested", "Allocations"};
	head(m, cols, 5);
	char tname[64];
	snprintf(tname, sizeof tname, "the %s (ops and their containers)", m->w.tables);
	fprintf(o, "| ");
	report_md_cell(o, tname);
	fprintf(o, " | %s | %s | %s | %s |\n", N(pw->tables_chunk_bytes), D1(share(pw->tables_chunk_bytes, in_use)),
		N(p->heap.requested + p->overhead.requested), N(p->heap.allocations + p->overhead.allocations));
	uint64_t rest_bytes = 0, rest_n = 0;
	for (size_t i = 0; i < pw->owners.len; i++) {
		const struct profile_owner *ow = &pw->owners.data[i];
		if (i >= WHOLE_ROWS || ow->b.chunk * 1000 < in_use * WHOLE_MIN_PERMILLE) {
			rest_bytes += ow->b.chunk;
			rest_n++;
			continue;
		}
		fprintf(o, "| `");
		report_md_cell(o, ow->name);
		fprintf(o, "` | %s | %s | %s | %s |\n", N(ow->b.chunk), D1(share(ow->b.chunk, in_use)), N(ow->b.requested),
			N(ow->b.allocations));
	}
	if (rest_n)
		fprintf(o, "| %s smaller owner paths (each under %.1f%% of the heap in use) | %s | %s | | |\n", N(rest_n),
			WHOLE_MIN_PERMILLE / 10.0, N(rest_bytes), D1(share(rest_bytes, in_use)));
	fprintf(o, "| **accounted (typed owners)** | **%s** | **%s** | | |\n", N(pw->accounted_chunk_bytes),
		D1(share(pw->accounted_chunk_bytes, in_use)));
	for (int k = 0; k < PROFILE_REST_COUNT; k++) {
		if (!pw->cls_chunks[k])
			continue;
		fprintf(o, "| remainder: %s (%s chunks", profile_rest_name((enum profile_rest_class)k), N(pw->cls_chunks[k]));
		for (int i = 0; i < PROFILE_REST_TOP && pw->top[k][i].size; i++)
			fprintf(o, "%s%s at 0x%" PRIx64, i ? ", " : "; largest: ", N(pw->top[k][i].size), pw->top[k][i].mem);
		fprintf(o, ") | %s | %s | | %s |\n", N(pw->cls_bytes[k]), D1(share(pw->cls_bytes[k], in_use)),
			N(pw->cls_chunks[k]));
	}
	fprintf(o, "| **remainder (no typed owner)** | **%s** | **%s** | | |\n\n", N(pw->unaccounted_chunk_bytes),
		D1(share(pw->unaccounted_chunk_bytes, in_use)));
	uint64_t sum = pw->accounted_chunk_bytes + pw->unaccounted_chunk_bytes;
	if (sum == in_use)
		fprintf(o, "Accounted %s + remainder %s = %s, the census's in-use chunk bytes.\n\n",
			N(pw->accounted_chunk_bytes), N(pw->unaccounted_chunk_bytes), N(in_use));
	else
		fprintf(o, "**Accounted %s + remainder %s differ from the census's in-use chunk bytes %s by %s%s**: "
			"allocations reached that the census did not list hold %s chunk bytes.\n\n",
			N(pw->accounted_chunk_bytes), N(pw->unaccounted_chunk_bytes), N(in_use), sum > in_use ? "+" : "-",
			N(sum > in_use ? sum - in_use : in_use - sum), N(pw->outside_census_bytes));
	const struct profile_shared *sh = &p->shared;
	if (sh->allocations)
		fprintf(o, "Shared between %s: %s `Rc`/`Arc` allocations reached from the ops of more than one %s (%s "
			"further references, %s %s in all) hold %s heap requested and %s chunk bytes with what they own. "
			"They count once in the totals (where first reached) and are left out of every per-%s figure "
			"(percentiles, the largest %s), so those do not depend on the order the walk met the %s in.\n\n",
			m->w.entities, N(sh->allocations), m->w.entity, N(sh->references), N(sh->holders), m->w.entities,
			N(sh->requested), N(sh->chunk), m->w.entity, m->w.entities, m->w.entities);
	if (!pw->rows.len)
		return;
	fprintf(o, "The remainder by arena and size class:\n\n");
	const char *rc[] = {"Class", "Arena", "Size class", "Chunks", "Chunk bytes"};
	head(m, rc, 5);
	for (size_t i = 0; i < pw->rows.len; i++) {
		const struct profile_rest_row *r = &pw->rows.data[i];
		char arena[32];
		if (r->arena == HEAP_NO_ARENA)
			snprintf(arena, sizeof arena, "mmapped");
		else if (r->arena == HEAP_NO_ARENA - 1)
			snprintf(arena, sizeof arena, "?");
		else
			snprintf(arena, sizeof arena, "%u%s", (unsigned)r->arena, r->arena == 0 ? " (main)" : "");
		fprintf(o, "| %s | %s | %s | %s | %s |\n", profile_rest_name((enum profile_rest_class)r->cls), arena,
			profile_size_class_name(r->size_class), N(r->chunks), N(r->bytes));
	}
	fprintf(o, "\n");
}

int report_doc_markdown(FILE *o, const struct report_doc *d, const struct report_meta *meta,
			const struct report_metrics *mx, struct err *e)
{
	struct report_groups groups;
	struct report_summary sum;
	if (!d->run)
		return err_set(e, ERR_USAGE, "%s: a saved profile is not rendered again", d->source);
	const struct profile *p = d->run->p;
	struct md *m = calloc(1, sizeof *m);
	if (!m)
		return err_set(e, ERR_NOMEM, "out of memory writing the report");
	int rc = report_groups_build(d, &groups, e);
	if (rc) {
		free(m);
		return rc;
	}
	report_summarize(d, &groups, &sum);
	m->o = o;
	m->d = d;
	m->p = p;
	m->w = !p->generic ? BEAVA_WORDS : p->split_tables ? GENERIC_TABLES : GENERIC_WORDS;
	m->groups = &groups;
	m->sum = &sum;
	summary(m, meta);
	whole_heap(m);
	snapshot(m, meta);
	unattributed(m);
	workload(m);
	tables(m);
	variants(m);
	offenders(m);
	features(m);
	variant_fields(m);
	largest(m);
	advisor(m);
	coherence(m, mx);
	detected_versions(m);
	definitions(m);
	report_groups_free(&groups);
	free(m);
	if (ferror(o))
		return err_set(e, ERR_IO, "writing the report failed");
	return 0;
}
