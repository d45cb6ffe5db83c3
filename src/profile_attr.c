/* profile_attr.c: attribution, the heart of the profile (include/profile.h):
 * the walker's callbacks turn what it reports into the byte families of
 * design.md, charged to (table, entity, slot, variant, field path).
 *
 * The walk meets ops entity by entity: an entity is the allocation holding
 * the ops (a Vec<AggOp> buffer), so a change of holder starts a new one.  What
 * an op owns arrives later, in address order, carrying the op's token; ops
 * and entities are kept as small records until the walk of a table is over.
 * Per-instance figures are kept only as compact arrays for percentiles;
 * everything else is summed as it arrives.  Which roots are walked is the
 * driver's (profile.c), the target's (profile_target.c) or generic mode's
 * (profile_generic.c) business.
 */
#include "profile_int.h"
#include "container.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---------------------------------------------------------------- helpers */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Nearest rank in sorted values: the smallest value with at least pct% of
 * the values <= it. */
static uint64_t rank_of(const uint64_t *sorted, size_t n, unsigned pct)
{
	size_t rank = (size_t)(((unsigned long long)pct * n + 99) / 100);
	return n ? sorted[(rank ? rank : 1) - 1] : 0;
}

/* Sorts v ascending: an LSD radix sort on bytes (a pass is skipped when
 * every value has the same byte there); qsort for short arrays or without
 * scratch memory.  Millions of per-op figures sort in a few linear passes
 * instead of n log n comparator calls. */
static void sort_u64(uint64_t *v, size_t n)
{
	if (n < 2)
		return;   /* nothing to order (v may be NULL) */
	uint64_t *tmp = n > 256 ? malloc(n * sizeof *tmp) : NULL;
	if (!tmp) {
		qsort(v, n, sizeof *v, cmp_u64);
		return;
	}
	size_t count[256];
	uint64_t *src = v, *dst = tmp;
	for (unsigned shift = 0; shift < 64; shift += 8) {
		memset(count, 0, sizeof count);
		for (size_t i = 0; i < n; i++)
			count[(src[i] >> shift) & 255]++;
		if (count[(src[0] >> shift) & 255] == n)
			continue;   /* one byte value for all: nothing to do in this pass */
		size_t sum = 0;
		for (size_t d = 0; d < 256; d++) {
			size_t c = count[d];
			count[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[count[(src[i] >> shift) & 255]++] = src[i];
		uint64_t *t = src;
		src = dst;
		dst = t;
	}
	if (src != v)
		memcpy(v, src, n * sizeof *v);
	free(tmp);
}

uint64_t profile_percentile(uint64_t *v, size_t n, unsigned pct)
{
	sort_u64(v, n);
	return rank_of(v, n, pct);
}

static struct profile_pct pct_of(uint64_t *v, size_t n)
{
	struct profile_pct p = {0, 0, 0};
	if (n) {
		sort_u64(v, n);
		p.p50 = rank_of(v, n, 50);
		p.p99 = rank_of(v, n, 99);
		p.max = v[n - 1];
	}
	return p;
}

static void add_bytes(struct profile_bytes *d, const struct walk_alloc *a)
{
	d->requested += a->requested;
	d->used += a->used;
	d->usable += a->usable;
	d->chunk += a->chunk;
	d->allocations++;
}

static void sum_bytes(struct profile_bytes *d, const struct profile_bytes *s)
{
	d->requested += s->requested;
	d->used += s->used;
	d->usable += s->usable;
	d->chunk += s->chunk;
	d->allocations += s->allocations;
}

/* The accumulator of key in m, made when absent (which may rehash m). */
static struct facc *facc_at(struct facc_table *m, struct facc_key key)
{
	struct facc *a = facc_table_find(m, key);
	if (a)
		return a;
	a = facc_table_insert(m, key, NULL);
	if (a)
		a->key = key;
	return a;
}

/* The cache entry (cell, path, kind) maps to, the cache made on first use. */
static struct fcache *fcache_at(struct run *r, uint32_t cell, uint32_t path, uint32_t kind)
{
	if (r->fc.len == 0) {
		if (!fcache_vec_reserve(&r->fc, FCACHE_SIZE))
			return NULL;
		memset(r->fc.data, 0, FCACHE_SIZE * sizeof *r->fc.data);
		r->fc.len = FCACHE_SIZE;
	}
	uint32_t h = (cell * 0x9E3779B1u) ^ (path * 0x85EBCA77u) ^ (kind * 0xC2B2AE3Du);
	return &r->fc.data[(h ^ (h >> 15)) & (FCACHE_SIZE - 1)];
}

/* Adds a to the field sums of its path under the op's cell. */
static bool charge_fields(struct run *r, const struct walk_alloc *a, const struct oprec *o)
{
	struct fcache *c = fcache_at(r, o->cell, a->path, a->kind);
	if (!c)
		return false;
	if (c->gen != r->accs.rehashes + 1 || c->cell != o->cell || c->path != a->path || c->kind != a->kind) {
		struct facc *f = facc_at(&r->accs, (struct facc_key){(uint64_t)o->cell << 32 | a->path, a->kind});
		c->gen = 0;
		if (!f)
			return false;
		*c = (struct fcache){.gen = r->accs.rehashes + 1, .cell = o->cell, .kind = a->kind, .path = a->path, .f = f};
	}
	add_bytes(&c->f->b, a);
	return true;
}

/* ------------------------------------------------------------ tables */

/* The table a walk tag names (tags are table indices; 0 if out of range). */
struct profile_table *attr_table_at(struct run *r, uint32_t tag)
{
	return &r->p->tables.data[tag < r->p->tables.len ? tag : 0];
}

/* Slot numbers are feature indices in beava; in generic mode a holder can be
 * any long Vec, so slots from MAX_SLOTS on share one column. */
#define MAX_SLOTS 1024u

static uint32_t slot_of(uint64_t index) { return index < MAX_SLOTS ? (uint32_t)index : MAX_SLOTS; }

/* A new feature column, named by its slot until a label names it. */
static struct profile_feature *feature_push(struct profile_table *tb, const char *name, const char *op,
					    uint64_t window_ms)
{
	struct profile_feature *f = profile_features_push(&tb->features);
	if (!f)
		return NULL;
	f->name = strdup(name);
	f->op = strdup(op);
	f->window_ms = window_ms;
	f->variant = UINT32_MAX;
	if (!f->name || !f->op)
		return NULL;   /* freed with the table */
	return f;
}

static struct profile_feature *feature_at(struct profile_table *tb, uint32_t slot)
{
	if (slot > MAX_SLOTS)
		return NULL;
	while (slot >= tb->features.len) {
		char buf[32];
		size_t i = tb->features.len;
		snprintf(buf, sizeof buf, i == MAX_SLOTS ? "slots %zu+" : "slot %zu", i);
		if (!feature_push(tb, buf, "", 0))
			return NULL;
	}
	return &tb->features.data[slot];
}

/* The cell of (table, slot, variant), made when absent; UINT32_MAX when
 * memory runs out. */
static uint32_t cell_of(struct run *r, uint32_t table, uint32_t slot, struct profile_feature *f, uint32_t variant)
{
	uint64_t key = (uint64_t)table << 48 | (uint64_t)slot << 32 | variant;
	struct cellid *c = cellid_table_find(&r->cellids, key);
	if (c)
		return c->id;
	if (r->cells.len >= (1u << 31) - 1)
		return UINT32_MAX;
	struct profile_cell *pc = profile_cells_push(&f->cells);
	struct cellref *cr = pc ? cellrefs_push(&r->cells) : NULL;
	if (!cr)
		return UINT32_MAX;
	memset(pc, 0, sizeof *pc);
	pc->variant = variant;
	*cr = (struct cellref){.table = table, .slot = slot, .variant = variant, .index = (uint32_t)(f->cells.len - 1), .pend = {0}};
	c = cellid_table_insert(&r->cellids, key, NULL);
	if (!c)
		return UINT32_MAX;
	c->key = key;
	c->id = (uint32_t)(r->cells.len - 1);
	return c->id;
}

static struct profile_cell *cell_at(struct run *r, uint32_t id)
{
	const struct cellref *cr = &r->cells.data[id];
	return &r->p->tables.data[cr->table].features.data[cr->slot].cells.data[cr->index];
}

void attr_read_key(struct run *r, uint64_t key_addr, type_id key_type, char *buf, size_t size)
{
	buf[0] = 0;
	if (!key_addr)
		return;
	if (walk_read_string(r->w, key_addr, key_type, buf, size, NULL) == 0)
		return;
	uint64_t v;
	if (walk_read_uint(r->w, key_addr, key_type, &v, NULL) == 0)
		snprintf(buf, size, "%" PRIu64, v);
	else
		snprintf(buf, size, "@0x%" PRIx64, key_addr);
}

/* The walk is over: every op has all its bytes.  Their per-instance and
 * per-entity figures go to their tables; the arrays restart. */
static void unshare(struct run *r);

/* What on_alloc charged to cells since the last flush, added to the cells
 * and to their features, tables, variants and the totals. */
static void attr_flush(struct run *r)
{
	struct profile *p = r->p;
	for (size_t i = 0; i < r->cells.len; i++) {
		struct cellref *cr = &r->cells.data[i];
		if (!cr->pend.allocations)
			continue;
		struct profile_table *tb = attr_table_at(r, cr->table);
		struct profile_feature *f = &tb->features.data[cr->slot];
		sum_bytes(&p->variants[cr->variant].heap, &cr->pend);
		sum_bytes(&f->heap, &cr->pend);
		sum_bytes(&f->cells.data[cr->index].heap, &cr->pend);
		sum_bytes(&tb->heap, &cr->pend);
		sum_bytes(&p->heap, &cr->pend);
		memset(&cr->pend, 0, sizeof cr->pend);
	}
	r->pend_allocs = 0;
}

static void close_walk(struct run *r)
{
	struct profile *p = r->p;
	size_t big = SIZE_MAX;
	attr_flush(r);
	unshare(r);
	for (size_t i = 0; i < r->ops.len; i++) {
		const struct oprec *o = &r->ops.data[i];
		if (!profile_u64s_append(&cell_at(r, o->cell)->inst_req, o->requested))
			r->failed = ERR_NOMEM;
	}
	for (size_t i = 0; i < r->ents.len; i++)
		if (big == SIZE_MAX || r->ents.data[i].bytes > r->ents.data[big].bytes)
			big = i;
	/* the largest entity's ops, op by op (largest[0] once sorted in) */
	if (big != SIZE_MAX && (!p->nlargest || r->ents.data[big].bytes > p->largest[0].bytes)) {
		p->largest_ops.len = 0;
		for (size_t i = 0; i < r->ops.len; i++) {
			const struct oprec *o = &r->ops.data[i];
			if (o->ent != big)
				continue;
			const struct cellref *cr = &r->cells.data[o->cell];
			if (!profile_entity_ops_append(&p->largest_ops, (struct profile_entity_op){
				    .slot = cr->slot, .variant = cr->variant, .bytes = p->enum_size + o->requested}))
				r->failed = ERR_NOMEM;
		}
	}
	for (size_t i = 0; i < r->ents.len; i++) {
		const struct entrec *en = &r->ents.data[i];
		struct profile_table *tb = attr_table_at(r, en->table);
		tb->entities++;
		p->entities++;
		if (!profile_u64s_append(&tb->ent_bytes, en->bytes) || !profile_u64s_append(&tb->ent_chunk, en->chunk))
			r->failed = ERR_NOMEM;
		/* keep the 10 largest */
		size_t n = p->nlargest, at = n;
		while (at > 0 && p->largest[at - 1].bytes < en->bytes)
			at--;
		if (at >= 10)
			continue;
		if (n == 10)
			n--;
		memmove(&p->largest[at + 1], &p->largest[at], (n - at) * sizeof p->largest[0]);
		struct profile_entity_row *row = &p->largest[at];
		row->table = en->table;
		attr_read_key(r, en->key_addr, en->key_type, row->key, sizeof row->key);
		row->ops = en->ops;
		row->bytes = en->bytes;
		row->chunk_bytes = en->chunk;
		row->shared_refs = en->shared_refs;
		p->nlargest = n + 1;
	}
	r->ops.len = r->ents.len = 0;
}

/* One progress line on a terminal, at most once a second. */
static void progress(struct run *r)
{
	time_t now = time(NULL);
	if (now != r->last_progress) {
		r->last_progress = now;
		fprintf(stderr, "\raggop-inspect: %" PRIu64 " ops, %" PRIu64 " allocations walked",
			r->p->ops, r->p->heap.allocations + r->pend_allocs);
	}
}

static uint32_t on_op(void *ctx, const struct walk_op_site *s)
{
	struct run *r = ctx;
	struct profile *p = r->p;
	struct profile_table *tb = attr_table_at(r, s->tag);
	uint32_t table = s->tag < p->tables.len ? s->tag : 0;
	if (r->failed)
		return 0;
	struct entrec *en = r->ents.len ? &r->ents.data[r->ents.len - 1] : NULL;
	if (!en || s->holder != en->holder || s->holder == 0 || table != en->table) {
		en = entrecs_push(&r->ents);
		if (!en) {
			r->failed = ERR_NOMEM;
			return 0;
		}
		*en = (struct entrec){.holder = s->holder, .key_addr = s->key_addr, .key_type = s->key_type,
				      .table = table};
	}
	uint32_t slot = slot_of(s->index);
	struct profile_feature *f = feature_at(tb, slot);
	uint32_t cell = f ? cell_of(r, table, slot, f, s->variant) : UINT32_MAX;
	struct oprec *o = cell != UINT32_MAX && r->ops.len < SHADOW_BASE - 1 ? oprecs_push(&r->ops) : NULL;
	if (!o) {
		r->failed = ERR_NOMEM;
		return 0;
	}
	*o = (struct oprec){.ent = (uint32_t)(r->ents.len - 1), .cell = cell};
	struct profile_cell *c = &f->cells.data[r->cells.data[cell].index];
	struct profile_variant *v = &p->variants[s->variant];
	uint64_t inl = p->enum_size, pay = v->payload_size;
	v->count++;
	v->inline_bytes += inl;
	v->payload_bytes += pay;
	f->count++;
	f->inline_bytes += inl;
	f->payload_bytes += pay;
	c->count++;
	c->inline_bytes += inl;
	c->payload_bytes += pay;
	tb->ops++;
	tb->inline_bytes += inl;
	p->ops++;
	p->inline_bytes += inl;
	p->payload_bytes += pay;
	en->ops++;
	en->bytes += inl;
	en->chunk += inl;
	if (r->progress && (p->ops & 0xffff) == 0)
		progress(r);
	return (uint32_t)(r->ops.len - 1);
}

static void on_alloc(void *ctx, const struct walk_alloc *a, uint32_t op)
{
	struct run *r = ctx;
	if (r->failed)
		return;
	if (op >= SHADOW_BASE && op != WALK_NO_OP) {
		/* inside a shared allocation: charged to its op as ever, and
		 * remembered as the shared allocation's */
		struct shadow *sh = op - SHADOW_BASE < r->shadows.len ? &r->shadows.data[op - SHADOW_BASE] : NULL;
		if (sh) {
			sh->requested += a->requested;
			sh->chunk += a->chunk;
		}
		op = sh ? sh->op : WALK_NO_OP;
	}
	if (op == WALK_NO_OP || op >= r->ops.len) {
		if (a->tag & PROFILE_OWNER_TAG) {
			wh_charge(&r->wh, a);
			return;
		}
		if (!a->in_census)
			r->wh.tables_outside_census += a->chunk;
		add_bytes(&attr_table_at(r, a->tag)->overhead, a);
		r->outside_kinds[a->kind < WALK_KIND_COUNT ? a->kind : 0]++;
		r->outside_requested += a->requested;
		return;
	}
	if (r->progress && (++r->pend_allocs & 0x3ffff) == 0)
		progress(r);
	struct oprec *o = &r->ops.data[op];
	struct entrec *en = &r->ents.data[o->ent];
	add_bytes(&r->cells.data[o->cell].pend, a);   /* the cell's feature, table, variant, totals: attr_flush */
	if (!a->in_census)
		r->wh.tables_outside_census += a->chunk;
	o->requested += a->requested;
	en->bytes += a->requested;
	en->chunk += a->chunk;
	if (!charge_fields(r, a, o))
		r->failed = ERR_NOMEM;
}

/* A shared allocation reached inside an op (its bytes were just charged
 * to the op, or to the shadow the op's token names): its contents get a
 * token of their own. */
static uint32_t on_shared(void *ctx, const struct walk_alloc *a, uint32_t op)
{
	struct run *r = ctx;
	uint32_t parent = UINT32_MAX, real = op;
	if (r->failed || op == WALK_NO_OP)
		return op;
	if (op >= SHADOW_BASE) {
		if (op - SHADOW_BASE >= r->shadows.len)
			return op;
		parent = op - SHADOW_BASE;
		real = r->shadows.data[parent].op;
		r->shadows.data[parent].requested -= a->requested;   /* the new shadow's own, not its parent's */
		r->shadows.data[parent].chunk -= a->chunk;
	}
	if (real >= r->ops.len || r->shadows.len >= SHADOW_BASE - 1)
		return op;
	bool ins;
	struct shadow_at *at = shadow_index_insert(&r->shadow_idx, a->mem, &ins);
	struct shadow *sh = at ? shadows_push(&r->shadows) : NULL;
	if (!sh) {
		r->failed = ERR_NOMEM;
		return op;
	}
	*sh = (struct shadow){.mem = a->mem, .requested = a->requested, .chunk = a->chunk, .op = real,
			      .parent = parent, .ent = r->ops.data[real].ent};
	*at = (struct shadow_at){a->mem, (uint32_t)(r->shadows.len - 1)};
	return SHADOW_BASE + (uint32_t)(r->shadows.len - 1);
}

/* A shared allocation reached again: from another entity's op, it is
 * shared between entities. */
static void on_shared_again(void *ctx, uint64_t mem, uint64_t chunk, uint32_t op)
{
	struct run *r = ctx;
	(void)chunk;
	if (r->failed || op == WALK_NO_OP)
		return;
	if (op >= SHADOW_BASE)
		op = op - SHADOW_BASE < r->shadows.len ? r->shadows.data[op - SHADOW_BASE].op : WALK_NO_OP;
	const struct shadow_at *at = shadow_index_find(&r->shadow_idx, mem);
	if (op >= r->ops.len || !at || at->index >= r->shadows.len)
		return;
	struct shadow *sh = &r->shadows.data[at->index];
	uint32_t ent = r->ops.data[op].ent;
	if (ent == sh->ent)
		return;
	if (!sh->multi) {
		sh->multi = true;
		r->p->shared.allocations++;
		r->ents.data[sh->ent].shared_refs++;
	}
	r->p->shared.references++;
	r->ents.data[ent].shared_refs++;
}

/* The walk is over: the bytes of allocations shared between entities (and
 * of what they own) leave every per-entity figure. */
static void unshare(struct run *r)
{
	for (size_t i = 0; i < r->shadows.len; i++) {
		struct shadow *sh = &r->shadows.data[i];
		if (!sh->multi && sh->parent != UINT32_MAX && sh->parent < i && r->shadows.data[sh->parent].multi)
			sh->multi = true;   /* inside a shared one: left out with it */
		if (!sh->multi || sh->op >= r->ops.len)
			continue;
		struct oprec *o = &r->ops.data[sh->op];
		struct entrec *en = &r->ents.data[sh->ent];
		o->requested -= sh->requested;
		en->bytes -= sh->requested;
		en->chunk -= sh->chunk;
		r->p->shared.requested += sh->requested;
		r->p->shared.chunk += sh->chunk;
	}
	for (size_t i = 0; i < r->ents.len; i++)
		if (r->ents.data[i].shared_refs)
			r->p->shared.holders++;
	r->shadows.len = 0;
	shadow_index_clear(&r->shadow_idx);
}

static void on_op_soon(void *ctx, uint32_t op)
{
	const struct run *r = ctx;
	if (op < r->ops.len)
		__builtin_prefetch(&r->ops.data[op], 1);
}

/* Runs everything queued and charges it (callbacks above). */
void attr_drain_and_close(struct run *r)
{
	if (walk_drain(r->w) != 0)
		r->failed = ERR_NOMEM;
	close_walk(r);
}

int attr_add_table(struct profile *p, const char *name, const char *source, const char *key, uint32_t agg_id)
{
	struct profile_table *tb = profile_tables_push(&p->tables);
	if (!tb)
		return ERR_NOMEM;
	tb->name = strdup(name ? name : "?");
	tb->source = strdup(source ? source : "");
	tb->key = strdup(key ? key : "");
	tb->agg_id = agg_id;
	return tb->name && tb->source && tb->key ? 0 : ERR_NOMEM;
}

int attr_label_features(struct profile_table *tb, const struct label_table *lt)
{
	for (size_t i = 0; lt && i < lt->nfeatures; i++) {
		const struct label_feature *lf = &lt->features[i];
		if (!feature_push(tb, lf->name ? lf->name : "?", lf->op ? lf->op : "", lf->window_ms))
			return ERR_NOMEM;
	}
	return 0;
}

int profile_field_cmp(const void *a, const void *b, void *w)
{
	const struct profile_field *p = a, *q = b;
	uint64_t x = p->b.chunk, y = q->b.chunk;
	if (x != y)
		return x < y ? 1 : -1;
	int c = strcmp(walk_path_name(w, p->path), walk_path_name(w, q->path));
	return c ? c : (int)p->kind - (int)q->kind;
}

/* The fields of the owner a field accumulator key names, or NULL. */
static struct profile_fields *owner_fields(struct profile *p, uint64_t key)
{
	uint64_t owner = key >> 32;
	if (owner & (1ull << 31)) {
		uint32_t ti = (uint32_t)((owner >> 16) & 0x7fff), s = (uint32_t)(owner & 0xffff);
		if (ti >= p->tables.len || s >= p->tables.data[ti].features.len)
			return NULL;
		return &p->tables.data[ti].features.data[s].fields;
	}
	return owner < p->nvariants ? &p->variants[owner].fields : NULL;
}

static void sort_fields(struct profile *p, struct profile_fields *f)
{
	if (f->len > 1)   /* data is NULL while empty */
		qsort_r(f->data, f->len, sizeof *f->data, profile_field_cmp, p->walker);
}

static int cmp_cell(const void *a, const void *b)
{
	const struct profile_cell *x = a, *y = b;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return x->variant < y->variant ? -1 : x->variant > y->variant;
}

/* Per instance percentiles of a slot's cells, and of the slot (all its
 * cells' instances together). */
static void feature_pcts(struct run *r, struct profile_feature *ft)
{
	uint64_t inl = ft->count ? r->p->enum_size : 0;
	struct profile_u64s all;
	profile_u64s_init(&all);
	for (size_t c = 0; c < ft->cells.len; c++) {
		struct profile_cell *pc = &ft->cells.data[c];
		pc->heap_req_pct = pct_of(pc->inst_req.data, pc->inst_req.len);
		for (size_t k = 0; ft->cells.len > 1 && k < pc->inst_req.len; k++)
			if (!profile_u64s_append(&all, pc->inst_req.data[k]))
				r->failed = ERR_NOMEM;
	}
	if (ft->cells.len == 1)
		ft->heap_req_pct = ft->cells.data[0].heap_req_pct;
	else
		ft->heap_req_pct = pct_of(all.data, all.len);
	profile_u64s_deinit(&all);
	ft->total_pct.p50 = ft->heap_req_pct.p50 + inl;
	ft->total_pct.p99 = ft->heap_req_pct.p99 + inl;
	ft->total_pct.max = ft->heap_req_pct.max + inl;
}

void attr_finish(struct run *r)
{
	attr_flush(r);
	struct profile *p = r->p;
	struct profile_u64s all, allc;
	profile_u64s_init(&all);
	profile_u64s_init(&allc);
	for (size_t i = 0; i < p->tables.len; i++) {
		struct profile_table *tb = &p->tables.data[i];
		for (size_t k = 0; k < tb->ent_bytes.len; k++)
			if (!profile_u64s_append(&all, tb->ent_bytes.data[k]))
				r->failed = ERR_NOMEM;
		for (size_t k = 0; k < tb->ent_chunk.len; k++)
			if (!profile_u64s_append(&allc, tb->ent_chunk.data[k]))
				r->failed = ERR_NOMEM;
		tb->per_entity = pct_of(tb->ent_bytes.data, tb->ent_bytes.len);
		tb->per_entity_chunk = pct_of(tb->ent_chunk.data, tb->ent_chunk.len);
		sum_bytes(&p->overhead, &tb->overhead);
		for (size_t f = 0; f < tb->features.len; f++)
			feature_pcts(r, &tb->features.data[f]);
	}
	p->per_entity = pct_of(all.data, all.len);
	p->per_entity_chunk = pct_of(allc.data, allc.len);
	profile_u64s_deinit(&all);
	profile_u64s_deinit(&allc);

	/* the cells' field sums go to their cells, and merged, to their
	 * variants and slots; each owner's fields in report order */
	struct facc_table merged;
	facc_table_init(&merged);
	for (struct facc *a = facc_table_first(&r->accs); a; a = facc_table_next(&r->accs, a)) {
		const struct cellref *cr = &r->cells.data[a->key.op >> 32];
		uint32_t path = (uint32_t)a->key.op;
		struct profile_field fd = {.path = path, .kind = (uint8_t)a->key.kind, .b = a->b};
		if (!profile_fields_append(&cell_at(r, (uint32_t)(a->key.op >> 32))->fields, fd))
			r->failed = ERR_NOMEM;
		struct facc_key keys[2] = {{OWNER_VARIANT(cr->variant) << 32 | path, a->key.kind},
					   {OWNER_FEATURE(cr->table, cr->slot) << 32 | path, a->key.kind}};
		for (size_t k = 0; k < 2; k++) {
			struct facc *m = facc_at(&merged, keys[k]);
			if (!m) {
				r->failed = ERR_NOMEM;
				continue;
			}
			sum_bytes(&m->b, &a->b);
		}
	}
	for (struct facc *a = facc_table_first(&merged); a; a = facc_table_next(&merged, a)) {
		struct profile_fields *f = owner_fields(p, a->key.op);
		if (f && !profile_fields_append(f, (struct profile_field){.path = (uint32_t)a->key.op,
									  .kind = (uint8_t)a->key.kind, .b = a->b}))
			r->failed = ERR_NOMEM;
	}
	facc_table_deinit(&merged);
	for (size_t i = 0; i < p->nvariants; i++)
		sort_fields(p, &p->variants[i].fields);
	for (size_t i = 0; i < p->tables.len; i++)
		for (size_t f = 0; f < p->tables.data[i].features.len; f++) {
			struct profile_feature *ft = &p->tables.data[i].features.data[f];
			sort_fields(p, &ft->fields);
			for (size_t c = 0; c < ft->cells.len; c++)
				sort_fields(p, &ft->cells.data[c].fields);
			/* most instances first; the feature's variant is the first one's */
			if (ft->cells.len > 1)
				qsort(ft->cells.data, ft->cells.len, sizeof *ft->cells.data, cmp_cell);
			ft->variant = ft->cells.len ? ft->cells.data[0].variant : UINT32_MAX;
		}
}

void attr_run_deinit(struct run *r)
{
	facc_table_deinit(&r->accs);
	cellrefs_deinit(&r->cells);
	cellid_table_deinit(&r->cellids);
	fcache_vec_deinit(&r->fc);
	oprecs_deinit(&r->ops);
	entrecs_deinit(&r->ents);
	wh_deinit(&r->wh);
	shadows_deinit(&r->shadows);
	shadow_index_deinit(&r->shadow_idx);
}


struct walk_callbacks attr_callbacks(struct run *r)
{
	return (struct walk_callbacks){.on_alloc = on_alloc, .on_op = on_op, .on_op_soon = on_op_soon, .ctx = r,
				       .on_shared = on_shared, .on_shared_again = on_shared_again};
}
