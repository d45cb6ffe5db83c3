/* report_md.c: the markdown memory profile (memory-profile.md).
 *
 * Sections follow beava's own memprofile report where they overlap (workload
 * summary, per-table footprint, feature columns, largest rows, top
 * offenders, metrics coherence) and add what only a snapshot can show:
 * allocator-level bytes, capacity slack, field paths and containers.
 */
#include "report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define U(x) ((unsigned long long)(x))

static void pct(FILE *o, const struct profile_pct *p)
{
	fprintf(o, "%llu / %llu / %llu", U(p->p50), U(p->p99), U(p->max));
}

static const char *vname(const struct profile *p, uint32_t v)
{
	return v < p->nvariants ? p->variants[v].name : "-";
}

static uint64_t feat_total(const struct profile_feature *f) { return f->inline_bytes + f->heap.chunk; }

struct offender {
	const struct profile_table *tb;
	const struct profile_feature *f;
};

/* Ties are broken by name, so that a report does not depend on the order
 * in which the walk met things. */
static int cmp_offender(const void *a, const void *b)
{
	const struct offender *p = a, *q = b;
	uint64_t x = feat_total(p->f), y = feat_total(q->f);
	if (x != y)
		return x < y ? 1 : -1;
	int c = strcmp(p->tb->name, q->tb->name);
	return c ? c : strcmp(p->f->name, q->f->name);
}

static int cmp_variant(const void *a, const void *b)
{
	const struct profile_variant *x = *(const struct profile_variant *const *)a,
				     *y = *(const struct profile_variant *const *)b;
	uint64_t tx = x->inline_bytes + x->heap.chunk, ty = y->inline_bytes + y->heap.chunk;
	return tx < ty ? 1 : tx > ty ? -1 : strcmp(x->name, y->name);
}

/* A table cell: '|' would end it early, a line break would end the row. */
static void cell(FILE *o, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", o);
		else
			fputc(*s == '\n' || *s == '\r' ? ' ' : *s, o);
	}
}

/* What the layers detected about the software that made the core, and on
 * what evidence (version.h). */
static void detected_versions(FILE *o, const struct profile *p)
{
	fprintf(o, "## Detected versions\n\n");
	if (!p->versions.len) {
		fprintf(o, "No dependency versions were recorded.\n\n");
		return;
	}
	fprintf(o, "| dependency | fact | assumed | evidence |\n|---|---|---|---|\n");
	for (size_t i = 0; i < p->versions.len; i++) {
		const struct version_fact *v = &p->versions.data[i];
		const char *c[] = {v->dep, v->what, v->value, v->evidence};
		for (size_t k = 0; k < 4; k++) {
			fputs("| ", o);
			cell(o, c[k]);
			fputc(' ', o);
		}
		fputs("|\n", o);
	}
	fprintf(o, "\n");
}

static void summary(FILE *o, const struct profile *p, const struct report_meta *m)
{
	fprintf(o, "# Memory profile: where `%s` spends its bytes\n\n", p->enum_name);
	fprintf(o, "## Snapshot\n\n");
	fprintf(o, "| | |\n|---|---|\n");
	fprintf(o, "| core | `%s` (%s core, %llu bytes) |\n", m->core, m->core_kind, U(m->core_size));
	fprintf(o, "| executable | `%s` (build-id %s) |\n", m->exe, m->build_id && *m->build_id ? m->build_id : "none");
	fprintf(o, "| target | %s |\n", p->target_name);
	fprintf(o, "| root | `%s` at 0x%" PRIx64 ": %s |\n", p->root_type, p->root_addr, p->root_how);
	fprintf(o, "| enum | `%s`: %llu bytes, align %llu, %zu variants |\n", p->enum_name, U(p->enum_size),
		U(p->enum_align), p->nvariants);
	fprintf(o, "| walk | %llu allocations, %llu values, %llu unreadable, %llu shared revisits; walk %.3f s, "
		"profile %.3f s |\n", U(p->walk.allocations), U(p->walk.values), U(p->walk.unreadable),
		U(p->walk.shared_revisits), p->walk_seconds, m->seconds);
	if (p->walk.unreadable)
		fprintf(o, "| first unreadable | 0x%" PRIx64 ": %s |\n", p->walk.first_unreadable,
			p->walk.first_unreadable_what);
	if (p->entity_count_static != UINT64_MAX)
		fprintf(o, "| the process's own entity count | %llu (walked: %llu)%s |\n", U(p->entity_count_static),
			U(p->entities), p->entity_count_static == p->entities ? "" : " **differs**");
	fprintf(o, "\n");
	detected_versions(o, p);
	fprintf(o, "## Workload summary\n\n");
	size_t feats = 0;
	for (size_t i = 0; i < p->tables.len; i++)
		feats += p->tables.data[i].features.len;
	fprintf(o, "- Tables: `%zu`; aggregate features discovered: `%zu`\n", p->tables.len, feats);
	fprintf(o, "- Active entity rows: `%llu`; ops: `%llu`\n", U(p->entities), U(p->ops));
	fprintf(o, "- Ops inline: %llu bytes (payload %llu, slot slack %llu)\n", U(p->inline_bytes),
		U(p->payload_bytes), U(p->inline_bytes - p->payload_bytes));
	fprintf(o, "- Ops heap: requested %llu, used %llu (capacity slack %llu), usable %llu, chunk %llu "
		"(allocator overhead %llu), in %llu allocations\n",
		U(p->heap.requested), U(p->heap.used), U(p->heap.requested - p->heap.used), U(p->heap.usable),
		U(p->heap.chunk), U(p->heap.chunk - p->heap.requested), U(p->heap.allocations));
	fprintf(o, "- Entity overhead (row buffers, map tables, keys): requested %llu, chunk %llu, in %llu allocations\n",
		U(p->overhead.requested), U(p->overhead.chunk), U(p->overhead.allocations));
	uint64_t attributed = p->heap.chunk + p->overhead.chunk;
	fprintf(o, "- Heap in use (census, chunk bytes): %llu; attributed to the tables: %llu (%.1f%%)\n",
		U(p->heap_in_use_chunk_bytes), U(attributed),
		p->heap_in_use_chunk_bytes ? 100.0 * (double)attributed / (double)p->heap_in_use_chunk_bytes : 0.0);
	fprintf(o, "- Per entity row (inline + heap requested) p50/p99/max: ");
	pct(o, &p->per_entity);
	fprintf(o, "; allocator-level (inline + chunk): ");
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

static void tables(FILE *o, const struct profile *p)
{
	fprintf(o, "## Per-entity table footprint\n\n");
	fprintf(o, "| Table | Source | group_by key | Active entities | Features/entity | Ops inline | Ops heap requested | "
		"Ops heap chunk | Per entity p50 / p99 / max | Allocator-level p50 / p99 / max | Entity overhead (chunk) | "
		"Top contributor |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < p->tables.len; i++) {
		const struct profile_table *tb = &p->tables.data[i];
		const struct profile_feature *top = top_feature(tb);
		fprintf(o, "| `%s` | `%s` | `%s` | %llu | %zu | %llu | %llu | %llu | ", tb->name, tb->source, tb->key,
			U(tb->entities), tb->features.len, U(tb->inline_bytes), U(tb->heap.requested), U(tb->heap.chunk));
		pct(o, &tb->per_entity);
		fprintf(o, " | ");
		pct(o, &tb->per_entity_chunk);
		fprintf(o, " | %llu | %s |\n", U(tb->overhead.chunk), top ? top->name : "-");
	}
	fprintf(o, "\n");
}

static void variants(FILE *o, const struct profile *p)
{
	const struct profile_variant **v = malloc(p->nvariants * sizeof *v);
	if (!v)
		return;
	for (size_t i = 0; i < p->nvariants; i++)
		v[i] = &p->variants[i];
	qsort(v, p->nvariants, sizeof *v, cmp_variant);
	fprintf(o, "## Op by op (variants, sorted by inline + heap chunk bytes)\n\n");
	fprintf(o, "| Variant | Ops | Payload | Inline | Heap requested | Heap used | Heap usable | Heap chunk | "
		"Allocations | Total (inline + chunk) |\n|---|---|---|---|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < p->nvariants; i++) {
		if (!v[i]->count)
			continue;
		fprintf(o, "| %s | %llu | %llu | %llu | %llu | %llu | %llu | %llu | %llu | %llu |\n", v[i]->name,
			U(v[i]->count), U(v[i]->payload_size), U(v[i]->inline_bytes), U(v[i]->heap.requested),
			U(v[i]->heap.used), U(v[i]->heap.usable), U(v[i]->heap.chunk), U(v[i]->heap.allocations),
			U(v[i]->inline_bytes + v[i]->heap.chunk));
	}
	size_t unused = 0;
	for (size_t i = 0; i < p->nvariants; i++)
		unused += p->variants[i].count == 0;
	fprintf(o, "\n%zu of %zu variants have no instance in this snapshot.\n\n", unused, p->nvariants);
	free(v);
}

static void features(FILE *o, const struct profile *p)
{
	for (size_t i = 0; i < p->tables.len; i++) {
		const struct profile_table *tb = &p->tables.data[i];
		if (!tb->entities)
			continue;
		fprintf(o, "### Feature columns across entities: `%s`\n\n", tb->name);
		fprintf(o, "| Slot | Feature | Op | Variant | Instances | Inline | Payload | Heap requested p50 / p99 / max | "
			"Total p50 / p99 / max | Heap requested | Heap used | Heap chunk |\n"
			"|---|---|---|---|---|---|---|---|---|---|---|---|\n");
		for (size_t k = 0; k < tb->features.len; k++) {
			const struct profile_feature *f = &tb->features.data[k];
			if (!f->count)
				continue;
			fprintf(o, "| %zu | `%s` | %s%s | %s | %llu | %llu | %llu | ", k, f->name, f->op,
				f->window_ms ? " (windowed)" : "", vname(p, f->variant), U(f->count),
				U(f->count ? f->inline_bytes / f->count : 0), U(f->count ? f->payload_bytes / f->count : 0));
			pct(o, &f->heap_req_pct);
			fprintf(o, " | ");
			pct(o, &f->total_pct);
			fprintf(o, " | %llu | %llu | %llu |\n", U(f->heap.requested), U(f->heap.used), U(f->heap.chunk));
		}
		fprintf(o, "\n");
	}
}

/* An owner's fields, in the profile's order (heap chunk bytes descending). */
static void breakdown(FILE *o, const struct walk *w, const struct profile_fields *fl, uint64_t count)
{
	fprintf(o, "| Field path | Container | Allocations | Requested | Used | Capacity slack | Chunk | "
		"Allocator overhead | Chunk per instance |\n|---|---|---|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < fl->len; i++) {
		const struct profile_field *c = &fl->data[i];
		const struct profile_bytes *b = &c->b;
		fprintf(o, "| `%s` | %s | %llu | %llu | %llu | %llu | %llu | %llu | %.1f |\n", walk_path_name(w, c->path),
			walk_kind_name((enum walk_kind)c->kind), U(b->allocations), U(b->requested), U(b->used),
			U(b->requested - b->used), U(b->chunk), U(b->chunk - b->requested),
			count ? (double)b->chunk / (double)count : 0.0);
	}
	fprintf(o, "\n");
}

static void offenders(FILE *o, const struct profile *p)
{
	size_t n = 0;
	for (size_t i = 0; i < p->tables.len; i++)
		n += p->tables.data[i].features.len;
	struct offender *of = malloc((n ? n : 1) * sizeof *of);
	if (!of)
		return;
	size_t k = 0;
	for (size_t i = 0; i < p->tables.len; i++)
		for (size_t j = 0; j < p->tables.data[i].features.len; j++)
			if (p->tables.data[i].features.data[j].count)
				of[k++] = (struct offender){&p->tables.data[i], &p->tables.data[i].features.data[j]};
	qsort(of, k, sizeof *of, cmp_offender);
	fprintf(o, "## Top 5 offenders\n\n");
	fprintf(o, "Ranked by the bytes a feature really costs across all entities: inline slots plus the "
		"heap chunks glibc holds for it.\n\n");
	for (size_t i = 0; i < k && i < 5; i++) {
		const struct profile_feature *f = of[i].f;
		struct report_advice adv;
		report_advise(p, of[i].tb, f, &adv);
		fprintf(o, "### %zu. `%s.%s` (%s%s, variant %s): %llu bytes\n\n", i + 1, of[i].tb->name, f->name,
			f->op, f->window_ms ? ", windowed" : "", vname(p, f->variant), U(feat_total(f)));
		fprintf(o, "- %llu instances: inline %llu (payload %llu, slot slack %llu), heap requested %llu, used %llu, "
			"chunk %llu in %llu allocations; per instance %.0f bytes\n",
			U(f->count), U(f->inline_bytes), U(f->payload_bytes), U(f->inline_bytes - f->payload_bytes),
			U(f->heap.requested), U(f->heap.used), U(f->heap.chunk), U(f->heap.allocations),
			f->count ? (double)feat_total(f) / (double)f->count : 0.0);
		fprintf(o, "- **Recommendation: %s** (%s: %s)\n\n", adv.verdict, adv.rule, adv.why);
		breakdown(o, p->walker, &f->fields, f->count);
	}
	fprintf(o, "Rules, first match wins:\n\n");
	for (size_t i = 0; report_rules[i]; i++)
		fprintf(o, "- %s\n", report_rules[i]);
	fprintf(o, "\n");
	free(of);
}

static void variant_fields(FILE *o, const struct profile *p)
{
	fprintf(o, "## Where each variant's heap goes\n\n");
	for (size_t i = 0; i < p->nvariants; i++) {
		const struct profile_variant *v = &p->variants[i];
		if (!v->count || !v->fields.len)
			continue;
		fprintf(o, "### %s (%llu ops)\n\n", v->name, U(v->count));
		breakdown(o, p->walker, &v->fields, v->count);
	}
}

static void advisor(FILE *o, const struct profile *p)
{
	const struct types_layout_enum *le = &p->layout;
	fprintf(o, "## Layout advisor\n\n");
	fprintf(o, "`%s` is %llu bytes (align %u); the tag is %u byte(s) at offset %llu%s.\n\n", p->enum_name,
		U(le->size), le->align, le->tag_size, U(le->tag_offset), le->niche ? " (niche-encoded)" : "");
	fprintf(o, "Variants that set the size:");
	for (uint32_t i = 0, n = 0; i < le->nvariants; i++)
		if (le->variants[i].sets_size)
			fprintf(o, "%s %s (payload %llu)", n++ ? "," : "", le->variants[i].name,
				U(le->variants[i].payload_size));
	fprintf(o, "\n\n| Box the largest | Variant boxed | Enum size (model) | Inline bytes saved in this snapshot |\n"
		"|---|---|---|---|\n");
	for (uint32_t k = 0; k < le->nboxed; k++) {
		uint64_t saved = le->size > le->boxed_size[k] ? (le->size - le->boxed_size[k]) * p->ops : 0;
		fprintf(o, "| %u | %s | %llu | %llu |\n", k + 1,
			le->boxed_variant[k] < le->nvariants ? le->variants[le->boxed_variant[k]].name : "?",
			U(le->boxed_size[k]), U(saved));
	}
	fprintf(o, "\nThe boxed sizes are a model (each boxed payload becomes an 8-byte pointer after the tag); "
		"rustc may pick another niche. Boxing moves the payload to the heap of every instance of that "
		"variant: %s.\n\n", "weigh the saving against one more allocation (at least 32 chunk bytes) per instance");
}

static void largest(FILE *o, const struct profile *p)
{
	fprintf(o, "## Largest entity rows\n\n| Table | Key | Ops | Inline + heap requested | Inline + heap chunk |\n"
		"|---|---|---|---|---|\n");
	for (size_t i = 0; i < p->nlargest; i++) {
		const struct profile_entity_row *r = &p->largest[i];
		fprintf(o, "| `%s` | `%s` | %llu | %llu | %llu |\n", p->tables.data[r->table].name, r->key, U(r->ops),
			U(r->bytes), U(r->chunk_bytes));
	}
	fprintf(o, "\n");
}

static void coherence(FILE *o, const struct report_metrics *mx)
{
	fprintf(o, "## Metrics coherence\n\n");
	if (!mx || !mx->have) {
		fprintf(o, "No /metrics scrape given (`--metrics FILE`).\n\n");
		return;
	}
	fprintf(o, "- `bytes_per_entity_p99` in `%s`: %.0f\n- measured p99 (inline + heap requested per entity row): "
		"%llu\n- tolerance: %.0f%%\n\n", mx->file, mx->metric, U(mx->measured), mx->tolerance * 100);
	if (mx->diverged)
		fprintf(o, "**Diverged** by %.0f bytes (%.1f%%): the metric should carry %llu. If it is a static "
			"placeholder, replace it with live sampling.\n\n",
			mx->metric > (double)mx->measured ? mx->metric - (double)mx->measured : (double)mx->measured - mx->metric,
			mx->relative * 100, U(mx->measured));
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
static void unattributed(FILE *o, const struct profile *p)
{
	const struct walk_stats *w = &p->walk;
	if (!report_has_unattributed(p))
		return;
	fprintf(o, "## Not attributed exactly\n\n");
	fprintf(o, "The walk reached these bytes but could not charge them exactly; the figures below leave them "
		"out.\n\n");
	fprintf(o, "| reason | count | bytes | first / detail |\n|---|---:|---:|---|\n");
	if (w->unreadable)
		fprintf(o, "| unreadable (a header or pointer failed validation; what it owns is not followed) | %llu | "
			"unknown | 0x%" PRIx64 ": %s |\n", U(w->unreadable), w->first_unreadable, w->first_unreadable_what);
	if (w->missing)
		fprintf(o, "| page missing from the core (read as zeros: what it owned is unknown) | %llu | %llu | "
			"0x%" PRIx64 " |\n", U(w->missing), U(w->missing_bytes), w->first_missing);
	if (w->nodecoder)
		fprintf(o, "| heap behind raw pointers no decoder owns (chunk bytes) | %llu | %llu | by type below |\n",
			U(w->nodecoder), U(w->nodecoder_bytes));
	fprintf(o, "| shared and already charged (Rc/Arc reached again; chunk bytes) | %llu | %llu | counted once, "
		"on first visit |\n\n", U(w->shared_revisits), U(w->shared_bytes));
	size_t n = p->walker ? walk_nodecoder_count(p->walker) : 0;
	if (!n)
		return;
	fprintf(o, "Heap behind raw pointers (`*mut T`, `*const T`, `NonNull<T>`) outside every known container, by "
		"the type holding the pointer and its field path:\n\n");
	fprintf(o, "| type | field path | allocations | chunk bytes |\n|---|---|---:|---:|\n");
	for (size_t i = 0; i < n && i < 20; i++) {
		const struct walk_nodecoder *r = walk_nodecoder_at(p->walker, i);
		fprintf(o, "| `%s` | `%s` | %llu | %llu |\n", r->type, walk_path_name(p->walker, r->path),
			U(r->allocations), U(r->bytes));
	}
	if (n > 20)
		fprintf(o, "| (%zu more) | | | |\n", n - 20);
	fputc('\n', o);
}

static void notes(FILE *o)
{
	fprintf(o, "## Notes\n\n"
		"- inline = size_of the enum (from DWARF) per op; payload = the active variant's fields; slot slack = "
		"inline - payload.\n"
		"- heap requested = the layout size Rust asked for (Vec/String/VecDeque cap*size, hashbrown ctrl_offset "
		"+ buckets + 16, BTree node sizes, Box size_of T, Arc/Rc inner size); used = the live part; usable and "
		"chunk = what glibc holds (chunk = header & ~7).\n"
		"- Per entity = inline + heap requested over its ops (beava's definition); allocator-level = inline + "
		"heap chunk. Percentiles are nearest-rank.\n"
		"- Entity overhead (row buffers, map tables, key heap) is reported per table, never charged to variants.\n"
		"- Only live elements are walked; spare capacity counts only as capacity slack. Rc/Arc allocations are "
		"counted once.\n");
}

int report_markdown(FILE *o, const struct profile *p, const struct report_meta *m,
		    const struct report_metrics *mx, struct err *e)
{
	summary(o, p, m);
	unattributed(o, p);
	tables(o, p);
	variants(o, p);
	offenders(o, p);
	features(o, p);
	variant_fields(o, p);
	largest(o, p);
	advisor(o, p);
	coherence(o, mx);
	notes(o);
	if (ferror(o))
		return err_set(e, ERR_IO, "writing the report failed");
	return 0;
}
