/* profile.c: runs the walk over the entity tables and turns what it reports
 * into the byte families of design.md (see include/profile.h).
 *
 * The walk meets ops entity by entity: an entity is the allocation holding
 * the ops (a Vec<AggOp> buffer), so a change of holder starts a new one.  What
 * an op owns arrives later, in address order, carrying the op's token; ops
 * and entities are kept as small records until the walk of a table is over.
 * Per-instance figures are kept only as compact arrays for percentiles;
 * everything else is summed as it arrives.
 */
#include "profile_int.h"
#include "container.h"
#include "roots.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* ------------------------------------------------- field accumulation */

/* One (owner, field path, container kind) sum.  During the walk the owner
 * is a cell (table, slot, variant: its index in run.cells); when the walk is
 * over, the sums are merged into per-variant and per-slot sums keyed by
 * OWNER_VARIANT and OWNER_FEATURE.  The kind is part of the key: one path
 * can hold several kinds (a BTreeMap's leaf and internal nodes). */
struct facc_key {
	uint64_t op;        /* owner << 32 | path */
	uint32_t kind;
};
struct facc {
	struct facc_key key;
	struct profile_bytes b;
};

static inline struct facc_key facc_key_of(const struct facc *a) { return a->key; }
static inline uint64_t facc_hash(struct facc_key k) { return container_hash_u64(k.op ^ ((uint64_t)k.kind << 59)); }
static inline bool facc_eq(struct facc_key a, struct facc_key b) { return a.op == b.op && a.kind == b.kind; }
DEFINE_HASH_TABLE(facc_table, struct facc, struct facc_key, facc_key_of, facc_hash, facc_eq)

/* Per path id: the accumulator of the last cell an allocation on that path
 * was charged to.  Consecutive allocations on one path often belong to the
 * same cell, so on_alloc usually skips the hash lookup.  An entry is valid
 * while gen equals the table's rehashes + 1: a rehash moves every
 * accumulator (the pointer goes stale), and a new entry, zero-filled, is
 * never valid. */
struct fcache {
	uint64_t gen;
	uint32_t cell, kind;
	struct facc *f;
};
DEFINE_VECTOR(fcache_vec, struct fcache)

/* A cell: one variant in one slot of one table (struct profile_cell), by
 * the run's own index; where its sums live. */
struct cellref {
	uint32_t table, slot, variant, index;   /* index in the feature's cells */
};
DEFINE_VECTOR(cellrefs, struct cellref)
struct cellid {
	uint64_t key;       /* table << 48 | slot << 32 | variant */
	uint32_t id;        /* index in run.cells */
};
static inline uint64_t cellid_key(const struct cellid *c) { return c->key; }
DEFINE_HASH_TABLE(cellid_table, struct cellid, uint64_t, cellid_key, container_hash_u64, container_eq_u64)

/* The entities and ops met so far: an op's heap arrives after the op, in
 * address order, and is charged through the op's token (its index in ops). */
struct oprec {
	uint32_t ent;
	uint32_t cell;
	uint64_t requested;
};
DEFINE_VECTOR(oprecs, struct oprec)

struct entrec {
	uint64_t holder, key_addr, bytes, chunk, ops;
	uint64_t shared_refs;     /* references to allocations shared with other entities */
	type_id key_type;
	uint32_t table;
};
DEFINE_VECTOR(entrecs, struct entrec)

/* A shared (Rc/Arc) allocation met inside an op, and what it owns: its
 * contents carry the token SHADOW_BASE + its index (walk_callbacks'
 * on_shared), so that once the walk is over the bytes of one reached from
 * several entities can be left out of the per-entity figures. */
#define SHADOW_BASE (1u << 30)
struct shadow {
	uint64_t mem;
	uint64_t requested, chunk;   /* its own bytes and its direct contents' (not nested shadows') */
	uint32_t op;                 /* the op (a real one) it was reached from first */
	uint32_t parent;             /* the shadow it lies in, or UINT32_MAX */
	uint32_t ent;
	bool multi;                  /* reached again from another entity */
};
DEFINE_VECTOR(shadows, struct shadow)
struct shadow_at {
	uint64_t mem;
	uint32_t index;
};
static inline uint64_t shadow_at_key(const struct shadow_at *s) { return s->mem; }
DEFINE_HASH_TABLE(shadow_index, struct shadow_at, uint64_t, shadow_at_key, container_hash_u64, container_eq_u64)

struct run {
	struct profile *p;
	struct walk *w;
	const struct types *t;
	struct err *e;
	int failed;
	struct facc_table accs;
	struct fcache_vec fc;
	struct cellrefs cells;
	struct cellid_table cellids;
	uint64_t outside_kinds[WALK_KIND_COUNT];   /* allocations reached outside every op, by kind */
	uint64_t outside_requested;
	uint32_t table;           /* the table whose roots are being queued */
	struct oprecs ops;
	struct entrecs ents;
	bool progress;
	time_t last_progress;
	struct wh wh;             /* the whole-heap pass (profile_heap.c) */
	struct shadows shadows;
	struct shadow_index shadow_idx;
};

#define OWNER_VARIANT(v) ((uint64_t)(v))
#define OWNER_FEATURE(t, s) ((1ull << 31) | ((uint64_t)(t) << 16) | (uint64_t)(s))

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

/* The cache entry of path, the cache grown (zero-filled) to cover it. */
static struct fcache *fcache_at(struct run *r, uint32_t path)
{
	if (path >= r->fc.len) {
		size_t n = (size_t)path + 1;
		if (!fcache_vec_reserve(&r->fc, n))
			return NULL;
		memset(r->fc.data + r->fc.len, 0, (n - r->fc.len) * sizeof *r->fc.data);
		r->fc.len = n;
	}
	return &r->fc.data[path];
}

/* Adds a to the field sums of its path under the op's cell. */
static bool charge_fields(struct run *r, const struct walk_alloc *a, const struct oprec *o)
{
	struct fcache *c = fcache_at(r, a->path);
	if (!c)
		return false;
	if (c->gen != r->accs.rehashes + 1 || c->cell != o->cell || c->kind != a->kind) {
		struct facc *f = facc_at(&r->accs, (struct facc_key){(uint64_t)o->cell << 32 | a->path, a->kind});
		c->gen = 0;
		if (!f)
			return false;
		*c = (struct fcache){.gen = r->accs.rehashes + 1, .cell = o->cell, .kind = a->kind, .f = f};
	}
	add_bytes(&c->f->b, a);
	return true;
}

/* ------------------------------------------------------------ tables */

/* The table a walk tag names (tags are table indices; 0 if out of range). */
static struct profile_table *table_at(struct run *r, uint32_t tag)
{
	return &r->p->tables.data[tag < r->p->tables.len ? tag : 0];
}

/* Slot numbers are feature indices in beava; in generic mode a holder can be
 * any long Vec, so slots from MAX_SLOTS on share one column. */
#define MAX_SLOTS 1024u
/* Tables and slots share one key word in the field accumulator. */
#define MAX_TABLES 32767u

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
	*cr = (struct cellref){.table = table, .slot = slot, .variant = variant, .index = (uint32_t)(f->cells.len - 1)};
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

static void read_key(struct run *r, uint64_t key_addr, type_id key_type, char *buf, size_t size)
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

static void close_walk(struct run *r)
{
	struct profile *p = r->p;
	size_t big = SIZE_MAX;
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
		struct profile_table *tb = table_at(r, en->table);
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
		read_key(r, en->key_addr, en->key_type, row->key, sizeof row->key);
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
			r->p->ops, r->p->heap.allocations);
	}
}

static uint32_t on_op(void *ctx, const struct walk_op_site *s)
{
	struct run *r = ctx;
	struct profile *p = r->p;
	struct profile_table *tb = table_at(r, s->tag);
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
	struct profile *p = r->p;
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
		add_bytes(&table_at(r, a->tag)->overhead, a);
		r->outside_kinds[a->kind < WALK_KIND_COUNT ? a->kind : 0]++;
		r->outside_requested += a->requested;
		return;
	}
	if (r->progress && (p->heap.allocations & 0x3ffff) == 0)
		progress(r);
	struct oprec *o = &r->ops.data[op];
	struct entrec *en = &r->ents.data[o->ent];
	const struct cellref *cr = &r->cells.data[o->cell];
	struct profile_table *tb = table_at(r, cr->table);
	struct profile_feature *f = &tb->features.data[cr->slot];
	add_bytes(&p->variants[cr->variant].heap, a);
	add_bytes(&f->heap, a);
	add_bytes(&f->cells.data[cr->index].heap, a);
	add_bytes(&tb->heap, a);
	add_bytes(&p->heap, a);
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
static void drain_and_close(struct run *r)
{
	if (walk_drain(r->w) != 0)
		r->failed = ERR_NOMEM;
	close_walk(r);
}

/* ------------------------------------------------------------ setup */

static int setup_enum(struct profile *p, const struct types *t, const char *name, type_id *out, struct err *e)
{
	type_id id;
	int rc = types_lookup(t, name, &id, e);
	if (rc)
		return err_wrap(e, rc, "--enum %s", name);
	id = types_resolve(t, id);
	const struct types_type *et = types_get(t, id);
	if (!et->vpart)
		return err_set(e, ERR_INPUT, "%s is not a Rust enum with data (no variant part)", et->name);
	rc = types_layout_enum(t, id, &p->layout, e);
	if (rc)
		return rc;
	p->enum_name = et->name;
	p->enum_size = et->size;
	p->enum_align = et->align;
	p->nvariants = p->layout.nvariants;
	p->variants = calloc(p->nvariants ? p->nvariants : 1, sizeof *p->variants);
	if (!p->variants)
		return err_set(e, ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < p->nvariants; i++) {
		p->variants[i].name = p->layout.variants[i].name;
		p->variants[i].payload_size = p->layout.variants[i].payload_size;
	}
	*out = id;
	return 0;
}

static int add_table(struct profile *p, const char *name, const char *source, const char *key, uint32_t agg_id)
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

static int label_features(struct profile_table *tb, const struct label_table *lt)
{
	for (size_t i = 0; lt && i < lt->nfeatures; i++) {
		const struct label_feature *lf = &lt->features[i];
		if (!feature_push(tb, lf->name ? lf->name : "?", lf->op ? lf->op : "", lf->window_ms))
			return ERR_NOMEM;
	}
	return 0;
}

/* ------------------------------------------------- root validation */

struct vctx {
	struct walk *w;
	const struct types *t;
	const struct target *tg;
	type_id enum_id;          /* generic --root 0xADDR: the type must reach it */
};

struct tables_check {
	struct vctx *v;
	struct err *e;
	int rc;
};

/* A table holds together when each entity map's header does (its buffer is a
 * live chunk of the right size, its control bytes agree with its item
 * count); the entities themselves are not visited, so damage deep inside one
 * is reported by the walk rather than costing the whole root. */
static int check_table(void *ctx, uint64_t ka, type_id kt, uint64_t va, type_id vt)
{
	struct tables_check *c = ctx;
	(void)ka; (void)kt;
	for (size_t m = 0; m < c->v->tg->nmaps; m++) {
		uint64_t a;
		type_id ty;
		if (target_path(c->v->w, c->v->t, va, vt, c->v->tg->maps[m], &a, &ty, c->e) != 0 ||
		    walk_check(c->v->w, a, ty, c->e) != 0) {
			c->rc = ERR_CORRUPT;
			return 1;
		}
	}
	return 0;
}

static int validate_root(void *ctx, uint64_t addr, type_id ty, uint64_t *key, struct err *e)
{
	struct vctx *v = ctx;
	uint64_t a;
	type_id t;
	/* every container and owning pointer in the candidate itself must hold */
	if (walk_check(v->w, addr, ty, e) != 0 ||
	    target_path(v->w, v->t, addr, ty, v->tg->tables, &a, &t, e) != 0)
		return ERR_CORRUPT;
	*key = a;   /* candidates leading to the same tables agree */
	struct tables_check c = {v, e, 0};
	if (walk_check(v->w, a, t, e) != 0 || walk_elements(v->w, a, t, check_table, &c, e) != 0 || c.rc)
		return ERR_CORRUPT;
	if (v->tg->registry && (target_path(v->w, v->t, addr, ty, v->tg->registry, &a, &t, e) != 0 ||
				walk_check(v->w, a, t, e) != 0))
		return ERR_CORRUPT;
	return 0;
}

/* ------------------------------------------------------------ walks */

struct tables_walk {
	struct run *r;
	const struct target *tg;
	const struct label_tables *labels;
	uint64_t index;
};

static const struct label_table *label_for(const struct tables_walk *tw, uint64_t agg_id)
{
	for (size_t i = 0; i < tw->labels->len; i++)
		if (tw->labels->data[i].agg_id == agg_id)
			return &tw->labels->data[i];
	return NULL;
}

static int walk_one_table(void *ctx, uint64_t ka, type_id kt, uint64_t va, type_id vt)
{
	struct tables_walk *tw = ctx;
	struct run *r = tw->r;
	struct profile *p = r->p;
	uint64_t idx = tw->index++;
	const struct label_table *lt = label_for(tw, idx);
	char fallback[32];
	(void)ka; (void)kt;
	if (p->tables.len >= MAX_TABLES) {
		r->failed = ERR_CORRUPT;
		return 1;
	}
	snprintf(fallback, sizeof fallback, "table %" PRIu64, idx);
	if (add_table(p, lt && lt->name ? lt->name : fallback, lt ? lt->source : "", lt ? lt->key : "",
		      (uint32_t)idx)) {
		r->failed = ERR_NOMEM;
		return 1;
	}
	r->table = (uint32_t)(p->tables.len - 1);
	if (label_features(table_at(r, r->table), lt)) {
		r->failed = ERR_NOMEM;
		return 1;
	}
	walk_set_tag(r->w, r->table);
	for (size_t m = 0; m < tw->tg->nmaps; m++) {
		uint64_t a;
		type_id ty;
		if (target_path(r->w, r->t, va, vt, tw->tg->maps[m], &a, &ty, NULL) != 0)
			continue;
		walk_queue(r->w, a, ty);
	}
	return r->failed ? 1 : 0;
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

static void finish(struct run *r)
{
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

static int unwrap(void *w, uint64_t addr, type_id ty, uint64_t *out_addr, type_id *out_type, struct err *e)
{
	return walk_unwrap(w, addr, ty, out_addr, out_type, e);
}

/* The executable is the target's: it has the root type, the root type has
 * the first member of the path to the tables, and --enum (if any) names the
 * target's enum. */
static bool target_in_exe(const struct types *t, const struct target *tg, const struct profile_options *opt)
{
	type_id id;
	char seg0[128];
	if (!tg->root_type || !tg->tables || types_lookup(t, tg->root_type, &id, NULL) != 0)
		return false;
	snprintf(seg0, sizeof seg0, "%.*s", (int)strcspn(tg->tables, "."), tg->tables);
	if (types_member_path(t, id, seg0, NULL, NULL, NULL) != 0)
		return false;
	if (opt->enum_name && tg->enum_name) {
		const char *seg = strrchr(opt->enum_name, ':');
		if (strcmp(seg ? seg + 1 : opt->enum_name, tg->enum_name) != 0)
			return false;
	}
	return true;
}

/* Whether an address root keeps the built-in target's mode: the executable
 * is the target's and a :TYPE (if any) names its root type. */
static bool target_mode_fits(const struct types *t, const struct target *tg, const struct profile_options *opt)
{
	if (!target_in_exe(t, tg, opt))
		return false;
	const char *colon = strchr(opt->root, ':');
	if (colon && colon[1]) {
		const char *ty = colon + 1, *seg = ty;
		for (const char *q = ty; *q && *q != '<'; q++)
			if (q[0] == ':' && q[1] == ':')
				seg = q + 2;
		size_t n = strlen(tg->root_type);
		if (strncmp(seg, tg->root_type, n) != 0 || (seg[n] && seg[n] != '<'))
			return false;
	}
	return true;
}

/* The root's own allocations (counted once, on their own line; the walk
 * then treats them as seen). */
struct root_count {
	struct profile *p;
	struct walk *w;
	const struct heap *h;
};

static void root_alloc(void *ctx, uint64_t mem, uint64_t requested)
{
	struct root_count *c = ctx;
	size_t i = c->h ? heap_find(c->h, mem) : SIZE_MAX;
	c->p->root_alloc_count++;
	c->p->root_alloc_requested += requested;
	if (i != SIZE_MAX)
		c->p->root_alloc_chunk += heap_chunk_get(c->h, i).size;
	walk_mark_seen(c->w, mem);
}

/* ------------------------------------------------- generic mode */

/* Which types can hold a value of a type (through members, variants,
 * template parameters, pointers, arrays), by type id: REACH_YES / REACH_NO,
 * REACH_BUSY while being looked at (a cycle counts as no). */
enum { REACH_BUSY = 1, REACH_YES, REACH_NO };
struct reach {
	uint64_t id;
	int state;
};
static inline uint64_t reach_key(const struct reach *r) { return r->id; }
DEFINE_HASH_TABLE(reach_memo, struct reach, uint64_t, reach_key, container_hash_u64, container_eq_u64)

/* A type of the standard library or of a container crate. */
static bool std_type(const char *name)
{
	static const char *const prefixes[] = {"core::", "alloc::", "std::", "hashbrown::", "parking_lot",
					       "lock_api::", "smallvec::", "compact_str::"};
	for (size_t i = 0; name && i < sizeof prefixes / sizeof prefixes[0]; i++)
		if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

static bool reaches(const struct types *t, type_id ty, type_id want, struct reach_memo *m, unsigned depth)
{
	ty = types_resolve(t, ty);
	if (ty == want)
		return true;
	if (!ty || depth > 12)
		return false;
	struct reach *r = reach_memo_find(m, ty);
	if (r)
		return r->state == REACH_YES;
	if (!(r = reach_memo_insert(m, ty, NULL)))
		return false;
	r->id = ty;
	r->state = REACH_BUSY;
	const struct types_type *tt = types_get(t, ty);
	bool yes = false;
	if (tt) {
		if (tt->kind == TYPES_POINTER || tt->kind == TYPES_ARRAY || tt->kind == TYPES_TYPEDEF)
			yes = reaches(t, tt->target, want, m, depth + 1);
		for (uint32_t i = 0; !yes && i < tt->nmembers; i++)
			yes = reaches(t, tt->members[i].type, want, m, depth + 1);
		for (uint32_t i = 0; !yes && i < tt->ntparams; i++)
			yes = reaches(t, tt->tparams[i].type, want, m, depth + 1);
		for (uint32_t i = 0; !yes && tt->vpart && i < tt->vpart->nvariants; i++)
			yes = reaches(t, tt->vpart->variants[i].type, want, m, depth + 1);
	}
	/* the insertions below may have moved r */
	r = reach_memo_find(m, ty);
	if (r)
		r->state = yes ? REACH_YES : REACH_NO;
	return yes;
}

/* Generic --root 0xADDR: the chunk's value holds together and can hold
 * the enum. */
static int validate_generic(void *ctx, uint64_t addr, type_id ty, uint64_t *key, struct err *e)
{
	struct vctx *v = ctx;
	struct reach_memo memo;
	reach_memo_init(&memo);
	bool yes = reaches(v->t, ty, v->enum_id, &memo, 0);
	reach_memo_deinit(&memo);
	*key = addr;
	if (!yes) {
		const struct types_type *tt = types_get(v->t, ty);
		return err_set(e, ERR_NOTFOUND, "%s cannot hold the enum", tt ? tt->name : "?");
	}
	return walk_check(v->w, addr, ty, e) ? ERR_CORRUPT : 0;
}

static int find_root(struct run *r, const struct image *img, const struct heap *h, const struct target *tg,
		     const struct profile_options *opt, bool generic, struct roots_result *root, struct vctx *v)
{
	int rc;
	const struct roots_unwrap u = {unwrap, r->w};
	memset(root, 0, sizeof *root);
	if (opt->root && strncmp(opt->root, "0x", 2) == 0) {
		/* an address: in target mode the target's ArcInner<root type>
		 * that holds it (so the report is auto mode's, ArcInner counted);
		 * in generic mode 0xADDR:TYPE as said, 0xADDR the one Arc/Rc-held
		 * type there that reaches the enum */
		uint64_t addr = strtoull(opt->root, NULL, 16);
		struct err ie = {0};
		if (generic && strchr(opt->root, ':'))
			return roots_addr_type(&u, img, r->t, opt->root, root, r->e);
		rc = generic ? roots_addr_infer(img, r->t, h, addr, NULL, validate_generic, v, root, &ie) :
			       roots_addr_infer(img, r->t, h, addr, tg->root_type, validate_root, v, root, &ie);
		if (rc && strchr(opt->root, ':'))
			return roots_addr_type(&u, img, r->t, opt->root, root, r->e);
		if (rc)
			*r->e = ie;
		else
			walk_mark_seen(r->w, root->alloc);
		return rc;
	}
	if (opt->root && strcmp(opt->root, "auto") != 0)
		return roots_symbol(&u, img, r->t, opt->root, root, r->e);
	rc = roots_heap_scan(img, r->t, h, tg->root_type, validate_root, v, root, r->e);
	if (rc == 0)
		walk_mark_seen(r->w, root->alloc);   /* a cycle back to the root is not owned */
	if (rc == ERR_NOTFOUND || rc == ERR_AMBIGUOUS) {
		char why[sizeof r->e->msg];
		memcpy(why, r->e->msg, sizeof why);   /* the message is rewritten in place */
		return err_set(r->e, ERR_INPUT, "root not found: %.480s", why);
	}
	return rc;
}

/* "A, B and 3 more": the statics whose type can hold the enum, the places
 * a user would point --root at; "" when none. */
static void statics_holding(const struct types *t, const char *enum_name, char *buf, size_t size)
{
	size_t n = 0, len = 0;
	type_id want;
	struct reach_memo memo;
	buf[0] = 0;
	if (!enum_name || types_lookup(t, enum_name, &want, NULL) != 0)
		return;
	want = types_resolve(t, want);
	reach_memo_init(&memo);
	for (size_t i = 0; i < types_static_count(t); i++) {
		const struct types_static *st = types_static_at(t, i);
		if (!reaches(t, st->type, want, &memo, 0))
			continue;
		if (n++ < 4 && len < size)
			len += (size_t)snprintf(buf + len, size - len, "%s%s", n > 1 ? ", " : "", st->name);
	}
	if (n > 4 && len < size)
		snprintf(buf + len, size - len, " and %zu more", n - 4);
	reach_memo_deinit(&memo);
}

/* ----------------------------------------- root discovery (no static) */

struct want_ctx {
	const struct types *t;
	type_id enum_id, exact;
};

/* A struct of the program's own that can hold the enum (or exactly the
 * type --root named). */
static bool want_type(void *ctx, type_id ty)
{
	struct want_ctx *w = ctx;
	ty = types_resolve(w->t, ty);
	if (w->exact)
		return ty == w->exact;
	const struct types_type *tt = types_get(w->t, ty);
	if (!tt || tt->kind != TYPES_STRUCT || tt->vpart || !tt->name || tt->name[0] == '(' || std_type(tt->name))
		return false;
	struct reach_memo memo;
	reach_memo_init(&memo);
	bool yes = reaches(w->t, ty, w->enum_id, &memo, 0);
	reach_memo_deinit(&memo);
	return yes;
}

static bool holds_type(void *ctx, type_id outer, type_id inner)
{
	struct want_ctx *w = ctx;
	struct reach_memo memo;
	reach_memo_init(&memo);
	bool yes = reaches(w->t, outer, types_resolve(w->t, inner), &memo, 0);
	reach_memo_deinit(&memo);
	return yes;
}

/* The statics that can hold the enum: how many, and the first one. */
static size_t statics_reaching(const struct types *t, type_id enum_id, const char **first)
{
	size_t n = 0;
	struct reach_memo memo;
	reach_memo_init(&memo);
	*first = NULL;
	for (size_t i = 0; i < types_static_count(t); i++) {
		const struct types_static *st = types_static_at(t, i);
		if (reaches(t, st->type, enum_id, &memo, 0) && n++ == 0)
			*first = st->name;
	}
	reach_memo_deinit(&memo);
	return n;
}

/* Generic mode without a static named: where the enum's values live.  The
 * statics that can hold them, and a typed heap scan for Arc/Rc-held structs
 * of the program's own that can (or, with exact, for that type): one
 * candidate is the root, named in name; several or none are an error that
 * lists them with the flag to pick one. */
static int discover_root(struct run *r, const struct image *img, const struct heap *h, struct vctx *v,
			 type_id exact, struct roots_result *root, char *name, size_t namesize)
{
	const struct types *t = r->t;
	const char *en = types_get(t, v->enum_id) ? types_get(t, v->enum_id)->name : "?";
	const char *first = NULL;
	size_t nst = exact ? 0 : statics_reaching(t, v->enum_id, &first);
	struct want_ctx wc = {t, v->enum_id, exact};
	const struct roots_typefilter f = {want_type, holds_type, &wc};
	struct err he = {0};
	int rc = roots_heap_scan_types(img, t, h, &f, validate_generic, v, root, &he);
	if (rc == 0 && nst == 0) {
		snprintf(name, namesize, "%s", types_get(t, root->type)->name);
		walk_mark_seen(r->w, root->alloc);
		return 0;
	}
	if (rc == ERR_NOTFOUND && nst == 1) {
		const struct roots_unwrap u = {unwrap, r->w};
		snprintf(name, namesize, "%s", first);
		rc = roots_symbol(&u, img, t, first, root, r->e);
		if (rc == 0) {
			size_t l = strlen(root->how);
			snprintf(root->how + l, sizeof root->how - l, " (found by itself: the one static that can hold %.100s"
				 " values; no Arc/Rc-held struct on the heap can)", en);
		}
		return rc;
	}
	char holders[300];
	statics_holding(t, en, holders, sizeof holders);
	if (rc == ERR_NOTFOUND && nst == 0)
		return err_set(r->e, ERR_INPUT, "--enum %s without --root: no static can hold %s values and %.300s; name "
			       "the root: --root STATIC, --root TYPE or --root 0xADDR", en, en, he.msg);
	if (rc != 0 && rc != ERR_NOTFOUND && rc != ERR_AMBIGUOUS)
		return err_set(r->e, rc, "%s", he.msg);
	return err_set(r->e, ERR_INPUT, "--enum %s without --root: more than one place holds %s values: %s%s%s%s%s; pick "
		       "one with --root STATIC or --root 0xADDR", en, en, nst ? "statics " : "", holders,
		       nst && rc != ERR_NOTFOUND ? "; on the heap: " : "", rc == ERR_AMBIGUOUS ? he.msg :
		       rc == 0 ? root->how : "", "");
}

/* The Rust enums with data a value of type ty can hold, outside the
 * standard library and the containers' crates: candidates for --enum. */
static void enums_under(const struct types *t, type_id ty, char *buf, size_t size, size_t *len, size_t *n,
			struct reach_memo *seen, unsigned depth)
{
	ty = types_resolve(t, ty);
	if (!ty || depth > 10 || reach_memo_find(seen, ty))
		return;
	struct reach *r = reach_memo_insert(seen, ty, NULL);
	if (!r)
		return;
	r->id = ty;
	const struct types_type *tt = types_get(t, ty);
	if (!tt)
		return;
	if (tt->vpart && !std_type(tt->name) && tt->vpart->nvariants > 1 && *len < size) {
		*len += (size_t)snprintf(buf + *len, size - *len, "%s%s", (*n)++ ? ", " : "", tt->name);
		if (*len >= size)
			*len = size;
	}
	if (tt->kind == TYPES_POINTER || tt->kind == TYPES_ARRAY || tt->kind == TYPES_TYPEDEF)
		enums_under(t, tt->target, buf, size, len, n, seen, depth + 1);
	for (uint32_t i = 0; i < tt->nmembers; i++)
		enums_under(t, tt->members[i].type, buf, size, len, n, seen, depth + 1);
	for (uint32_t i = 0; i < tt->ntparams; i++)
		enums_under(t, tt->tparams[i].type, buf, size, len, n, seen, depth + 1);
	for (uint32_t i = 0; tt->vpart && i < tt->vpart->nvariants; i++)
		enums_under(t, tt->vpart->variants[i].type, buf, size, len, n, seen, depth + 1);
}

/* The enum to profile in generic mode: --enum, or the target's when this
 * executable has it; else a usage error naming the root. */
static int generic_enum(const struct types *t, const struct target *tg, const struct profile_options *opt,
			const char **out, struct err *e)
{
	type_id id;
	*out = opt->enum_name;
	if (*out)
		return 0;
	*out = tg->enum_name ? tg->enum_name : "AggOp";
	if (types_lookup(t, *out, &id, NULL) == 0)
		return 0;
	char cands[300] = "";
	size_t len = 0, n = 0;
	const struct types_static *st;
	if (strncmp(opt->root, "0x", 2) != 0 && types_static_lookup(t, opt->root, &st, NULL) == 0) {
		struct reach_memo seen;
		reach_memo_init(&seen);
		enums_under(t, st->type, cands, sizeof cands, &len, &n, &seen, 0);
		reach_memo_deinit(&seen);
	}
	return err_set(e, ERR_USAGE, "--root %s: which enum should be profiled? This executable has no %s (the "
		       "built-in %s target's); name it: --root %s --enum ENUM%s%s%s", opt->root, *out, tg->name, opt->root,
		       n ? " (enums a value of it can hold: " : "", cands, n ? ")" : "");
}

/* Without --root, the built-in target looks for its own root type; when the
 * executable has none, the user meant generic mode: say how. */
static int target_root_missing(const struct types *t, const struct target *tg, const struct profile *p,
			       const struct profile_options *opt, struct err *e)
{
	type_id id;
	char inner[300], holders[300];
	snprintf(inner, sizeof inner, "alloc::sync::ArcInner<%s", tg->root_type);
	if (types_lookup(t, tg->root_type, &id, NULL) == 0)
		return 0;
	statics_holding(t, p->enum_name, holders, sizeof holders);
	const char *en = opt->enum_name ? opt->enum_name : "ENUM";
	if (holders[0])
		return err_set(e, ERR_USAGE, "%s%s without --root: this executable has no %s (the built-in %s target's "
			       "root); name the static holding the %s values: --root STATIC --enum %s (statics that can "
			       "hold %s values: %s)", opt->enum_name ? "--enum " : "no --root", opt->enum_name ? opt->enum_name : "",
			       tg->root_type, tg->name, en, en, en, holders);
	return err_set(e, ERR_USAGE, "%s%s without --root: this executable has no %s (the built-in %s target's root); "
		       "name the static holding the values: --root STATIC --enum %s", opt->enum_name ? "--enum " : "no --root",
		       opt->enum_name ? opt->enum_name : "", tg->root_type, tg->name, en);
}

/* The element type of a container type, from its type parameters (V of a
 * map, T of a Vec, VecDeque, set, ...) or an array's; 0 when unknown.  Found
 * from the types alone: iterating the container to look would visit (and
 * mark seen) what the walk must meet first. */
static type_id element_type(const struct types *t, type_id ty)
{
	ty = types_resolve(t, ty);
	const struct types_type *tt = types_get(t, ty);
	if (!tt)
		return 0;
	if (tt->kind == TYPES_ARRAY)
		return types_resolve(t, tt->target);
	type_id el = types_tparam(t, ty, "V");
	return types_resolve(t, el ? el : types_tparam(t, ty, "T"));
}

/* A table-like type: a struct of the program's own (not an enum, a tuple
 * or a library type) with a member that can hold the enum, e.g. beava's
 * AggStateTable. */
static bool table_like(const struct types *t, type_id ty, type_id enum_id)
{
	ty = types_resolve(t, ty);
	const struct types_type *tt = types_get(t, ty);
	if (!ty || !tt || tt->kind != TYPES_STRUCT || tt->vpart || ty == enum_id || !tt->name || tt->name[0] == '(' ||
	    std_type(tt->name))
		return false;
	struct reach_memo memo;
	bool yes = false;
	reach_memo_init(&memo);
	for (uint32_t i = 0; i < tt->nmembers && !yes; i++)
		yes = reaches(t, tt->members[i].type, enum_id, &memo, 0);
	reach_memo_deinit(&memo);
	return yes;
}

struct split {
	struct run *r;
	const char *root;
	uint64_t index;
};

/* One element of a root holding several tables: its own table, named by
 * its `name` member, else by its map key, else by its index. */
static int split_one(void *ctx, uint64_t ka, type_id kt, uint64_t va, type_id vt)
{
	struct split *sp = ctx;
	struct run *r = sp->r;
	struct profile *p = r->p;
	char name[160], key[96] = "";
	uint64_t na, idx = sp->index++;
	type_id nt;
	if (p->tables.len >= MAX_TABLES) {
		r->failed = ERR_CORRUPT;
		return 1;
	}
	if (target_path(r->w, r->t, va, vt, "name", &na, &nt, NULL) == 0 &&
	    walk_read_string(r->w, na, nt, key, sizeof key, NULL) == 0 && key[0])
		snprintf(name, sizeof name, "%s", key);
	else if (ka && (read_key(r, ka, kt, key, sizeof key), key[0]))
		snprintf(name, sizeof name, "%s[%s]", sp->root, key);
	else
		snprintf(name, sizeof name, "%s[%" PRIu64 "]", sp->root, idx);
	if (add_table(p, name, "", "", (uint32_t)idx)) {
		r->failed = ERR_NOMEM;
		return 1;
	}
	walk_set_tag(r->w, (uint32_t)(p->tables.len - 1));
	walk_queue(r->w, va, vt);
	return r->failed ? 1 : 0;
}

/* A generic root that is split into one table per element: a container
 * (or array) of table-like values. */
static bool generic_splits(const struct types *t, const struct roots_result *root, type_id enum_id)
{
	const struct types_type *rt = types_get(t, types_resolve(t, root->type));
	return rt && (rt->kind == TYPES_ARRAY || std_type(rt->name)) &&
	       table_like(t, element_type(t, root->type), enum_id);
}

/* Queues the generic root: several tables when it holds table-like
 * values, else one table named by the root. */
static int generic_queue(struct run *r, const struct profile_options *opt, const struct roots_result *root,
			 type_id enum_id, struct err *e)
{
	struct profile *p = r->p;
	if (generic_splits(r->t, root, enum_id)) {
		struct split sp = {.r = r, .root = opt->root};
		p->split_tables = true;
		int rc = walk_elements(r->w, root->addr, root->type, split_one, &sp, e);
		if (rc && !r->failed)
			return rc;
		return 0;
	}
	if (add_table(p, opt->root, "", "", 0))
		return err_set(e, ERR_NOMEM, "out of memory");
	walk_set_tag(r->w, 0);
	walk_queue(r->w, root->addr, root->type);
	return 0;
}

/* A generic root that reached no value of the enum: what it did reach. */
static int reached_nothing(const struct run *r, const struct profile_options *opt, struct err *e)
{
	const struct profile *p = r->p;
	char kinds[200] = "", holders[300];
	size_t len = 0, n = 0;
	uint64_t allocs = 0;
	for (int k = 0; k < WALK_KIND_COUNT; k++) {
		allocs += r->outside_kinds[k];
		if (r->outside_kinds[k] && len < sizeof kinds)
			len += (size_t)snprintf(kinds + len, sizeof kinds - len, "%s%" PRIu64 " %s", n++ ? ", " : "",
						r->outside_kinds[k], walk_kind_name((enum walk_kind)k));
	}
	statics_holding(r->t, p->enum_name, holders, sizeof holders);
	char from[sizeof p->root_type + 8];
	snprintf(from, sizeof from, p->root_type[0] ? "its %s" : "it (a type with no name)", p->root_type);
	return err_set(e, ERR_INPUT, "--root %s reaches no %s value: from %s the walk met %" PRIu64 " values and %"
		       PRIu64 " heap allocations (%" PRIu64 " bytes requested%s%s%s) and none of them is a %s; point --root "
		       "at a static that holds %s values%s%s%s", opt->root, p->enum_name, from, p->walk.values,
		       allocs, r->outside_requested, n ? ": " : "", kinds, "", p->enum_name, p->enum_name,
		       holders[0] ? " (statics that can hold them: " : "", holders, holders[0] ? ")" : "");
}

static void run_deinit(struct run *r)
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

int profile_run(struct profile **out, const struct image *img, const struct types *t,
		struct heap *h, const struct profile_options *opt, struct err *e)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct profile *p = calloc(1, sizeof *p);
	struct target tg;
	struct run r = {.p = p, .t = t, .e = e, .progress = opt->progress && isatty(2)};
	struct label_tables labels;
	type_id enum_id = 0;
	int rc;

	label_tables_init(&labels);
	wh_init(&r.wh);
	shadows_init(&r.shadows);
	shadow_index_init(&r.shadow_idx);
	if (!p)
		return err_set(e, ERR_NOMEM, "out of memory");
	p->entity_count_static = UINT64_MAX;
	rc = target_load(&tg, opt->target_file, e);
	if (rc)
		goto fail;
	if (opt->config_file && (rc = target_config_check(opt->config_file, e)))
		goto fail;
	/* --root 0xADDR keeps the target mode when the executable has the
	 * target's root type (and no other enum was asked for) */
	bool generic = opt->root && strcmp(opt->root, "auto") != 0 && !opt->target_file &&
		       !(strncmp(opt->root, "0x", 2) == 0 && target_mode_fits(t, &tg, opt));
	/* --enum E alone on an executable without the target's root type:
	 * generic mode, the root discovered (issue 20); --root TYPE (a type,
	 * not a static): a typed heap scan for it */
	const struct types_static *tmp_st;
	bool no_target = !target_in_exe(t, &tg, opt);
	bool discover = !opt->target_file && opt->enum_name && no_target && (!opt->root || strcmp(opt->root, "auto") == 0);
	type_id root_type_named = 0;
	if (generic && strncmp(opt->root, "0x", 2) != 0 && types_static_lookup(t, opt->root, &tmp_st, NULL) != 0 &&
	    types_lookup(t, opt->root, &root_type_named, NULL) == 0 &&
	    types_get(t, types_resolve(t, root_type_named))->kind == TYPES_STRUCT)
		discover = true;
	else
		root_type_named = 0;
	generic = generic || discover;
	struct profile_options lopt = *opt;   /* a discovered root's name for the report */
	char found[256] = "";
	snprintf(p->target_name, sizeof p->target_name, "%s", generic ? "generic" : tg.name);
	p->generic = generic;
	rc = walk_create(&r.w, img, t, h, e);
	if (rc)
		goto fail;
	p->walker = r.w;
	const char *enum_name = opt->enum_name ? opt->enum_name : (tg.enum_name ? tg.enum_name : "AggOp");
	if (generic && (rc = generic_enum(t, &tg, opt, &enum_name, e)))
		goto fail;
	rc = setup_enum(p, t, enum_name, &enum_id, e);
	if (rc) {
		if (!generic && !opt->target_file && !opt->enum_name && !opt->root)
			rc = target_root_missing(t, &tg, p, opt, e) ? ERR_USAGE : rc;
		goto fail;
	}
	if (!generic && !opt->target_file && (!opt->root || strcmp(opt->root, "auto") == 0) &&
	    (rc = target_root_missing(t, &tg, p, opt, e)))
		goto fail;

	struct roots_result root;
	struct vctx v = {r.w, t, &tg, enum_id};
	if (discover) {
		rc = discover_root(&r, img, h, &v, types_resolve(t, root_type_named), &root, found, sizeof found);
		if (rc)
			goto fail;
		lopt.root = found;
		opt = &lopt;
	} else
		rc = find_root(&r, img, h, &tg, opt, generic, &root, &v);
	if (rc) {
		const struct types_static *st;
		if (generic && strncmp(opt->root, "0x", 2) != 0 && types_static_lookup(t, opt->root, &st, NULL) != 0) {
			char holders[300], first[200];
			statics_holding(t, p->enum_name, holders, sizeof holders);
			snprintf(first, sizeof first, "%.*s", (int)strcspn(holders, ","), holders);
			if (holders[0])
				rc = err_set(e, ERR_INPUT, "--root %s: no static of that name in the executable's DWARF; "
					     "statics that can hold %s values: %s (e.g. --root %s --enum %s)", opt->root,
					     p->enum_name, holders, first, enum_name);
			else
				rc = err_set(e, ERR_INPUT, "--root %s: no static of that name in the executable's DWARF, "
					     "and no static can hold a %s value (is this the right executable?)", opt->root,
					     p->enum_name);
		}
		goto fail;
	}
	p->root_addr = root.addr;
	snprintf(p->root_how, sizeof p->root_how, "%s", root.how);
	snprintf(p->root_type, sizeof p->root_type, "%s", types_get(t, root.type)->name);
	{
		/* the root's own allocations: its ArcInner, the owning pointers
		 * on the way to the tables and the tables container's buffer
		 * (a split generic root: the root container's buffer) */
		struct root_count rcnt = {p, r.w, h};
		if (root.alloc)
			root_alloc(&rcnt, root.alloc, root.alloc_size);
		if (!generic)
			target_path_allocs(r.w, t, root.addr, root.type, tg.tables, root_alloc, &rcnt, NULL);
		else if (generic_splits(t, &root, enum_id)) {
			uint64_t mem, req;
			if (walk_owned(r.w, root.addr, root.type, &mem, &req, NULL) == 0 && mem)
				root_alloc(&rcnt, mem, req);
		}
	}

	struct walk_callbacks cb = {.on_alloc = on_alloc, .on_op = on_op, .on_op_soon = on_op_soon, .ctx = &r,
				    .on_shared = on_shared, .on_shared_again = on_shared_again};
	walk_set_op_type(r.w, enum_id);
	walk_set_callbacks(r.w, &cb);
	/* what rejected root candidates could not read is not part of the walk */
	walk_reset_stats(r.w);
	struct timespec w0, w1;
	clock_gettime(CLOCK_MONOTONIC, &w0);
	/* what finding the root read is not needed again: the walk starts
	 * with none of the core mapped and keeps only a window of it; nor is
	 * the census's chunk index, now that the walker has its own map */
	image_release(img, 0, UINT64_MAX);
	for (size_t i = 0; h && i < heap_chunk_count(h); i++) {
		struct heap_chunk c = heap_chunk_get(h, i);
		if (c.state == HEAP_INUSE)
			p->heap_in_use_chunk_bytes += c.size;
	}
	if (h && wh_arenas_take(&r.wh, h) != 0) {
		rc = err_set(e, ERR_NOMEM, "out of memory");
		goto fail;
	}
	if (h)
		heap_drop_chunks(h);
	if (generic) {
		if (opt->config_file)
			target_config_labels(opt->config_file, &labels, NULL);
		rc = generic_queue(&r, opt, &root, enum_id, e);
		if (rc)
			goto fail;
		if (!r.failed)
			drain_and_close(&r);
	} else {
		uint64_t ta;
		type_id tt;
		if (target_labels(r.w, t, &tg, root.addr, root.type, &labels, NULL) != 0 || labels.len == 0) {
			target_labels_free(&labels);
			if (opt->config_file && (rc = target_config_labels(opt->config_file, &labels, e)))
				goto fail;
		}
		rc = target_path(r.w, t, root.addr, root.type, tg.tables, &ta, &tt, e);
		if (rc) {
			err_wrap(e, rc, "entity tables (%s)", tg.tables);
			goto fail;
		}
		struct tables_walk tw = {.r = &r, .tg = &tg, .labels = &labels};
		rc = walk_elements(r.w, ta, tt, walk_one_table, &tw, e);
		if (rc && !r.failed)
			goto fail;
		/* every table's maps are queued: one pass over the heap for all */
		if (!r.failed)
			drain_and_close(&r);
	}
	clock_gettime(CLOCK_MONOTONIC, &w1);
	p->walk_seconds = (double)(w1.tv_sec - w0.tv_sec) + (double)(w1.tv_nsec - w0.tv_nsec) / 1e9;
	if (tg.entity_count_static) {
		const struct types_static *s;
		uint64_t val;
		if (types_static_lookup(t, tg.entity_count_static, &s, NULL) == 0 &&
		    walk_read_uint(r.w, s->addr + image_bias(img), s->type, &val, NULL) == 0)
			p->entity_count_static = val;
	}
	if (r.failed) {
		rc = r.failed == ERR_CORRUPT ?
			err_set(e, ERR_INPUT, "more than %u entity tables: not a table vector", MAX_TABLES) :
			err_set(e, r.failed, "out of memory while profiling");
		goto fail;
	}
	finish(&r);
	if (r.failed) {
		rc = err_set(e, ERR_NOMEM, "out of memory while profiling");
		goto fail;
	}
	walk_get_stats(r.w, &p->walk);
	if (generic && p->ops == 0) {
		rc = reached_nothing(&r, opt, e);
		goto fail;
	}
	/* the rest of the heap: the root state's other fields, the statics,
	 * the classified remainder */
	rc = wh_run(&r.wh, p, img, t, root.addr, root.type, !generic, generic ? root.addr : 0, e);
	if (rc)
		goto fail;
	/* which releases of rustc, std and the crates the walk assumed, and why */
	if (profile_add_versions(p, types_versions(t), e) != 0 || profile_add_versions(p, heap_versions(h), e) != 0 ||
	    profile_add_versions(p, walk_versions(r.w), e) != 0)
		goto fail;
	if (r.progress)
		fprintf(stderr, "\r%60s\r", "");
	target_labels_free(&labels);
	target_free(&tg);
	run_deinit(&r);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	p->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	*out = p;
	return 0;
fail:
	target_labels_free(&labels);
	target_free(&tg);
	run_deinit(&r);
	profile_free(p);
	return rc ? rc : ERR_INPUT;
}

int profile_add_versions(struct profile *p, const struct version_facts *f, struct err *e)
{
	for (size_t i = 0; i < f->len; i++) {
		const struct version_fact *v = &f->data[i];
		if (!version_note(&p->versions, v->dep, v->what, v->value, "%s", v->evidence))
			return err_set(e, ERR_NOMEM, "out of memory recording detected versions");
	}
	return 0;
}

void profile_free(struct profile *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nvariants; i++)
		profile_fields_deinit(&p->variants[i].fields);
	free(p->variants);
	types_layout_enum_free(&p->layout);
	for (size_t i = 0; i < p->tables.len; i++) {
		struct profile_table *tb = &p->tables.data[i];
		for (size_t f = 0; f < tb->features.len; f++) {
			struct profile_feature *ft = &tb->features.data[f];
			free(ft->name);
			free(ft->op);
			profile_fields_deinit(&ft->fields);
			for (size_t c = 0; c < ft->cells.len; c++) {
				profile_fields_deinit(&ft->cells.data[c].fields);
				profile_u64s_deinit(&ft->cells.data[c].inst_req);
			}
			profile_cells_deinit(&ft->cells);
		}
		profile_features_deinit(&tb->features);
		free(tb->name);
		free(tb->source);
		free(tb->key);
		profile_u64s_deinit(&tb->ent_bytes);
		profile_u64s_deinit(&tb->ent_chunk);
	}
	profile_tables_deinit(&p->tables);
	profile_entity_ops_deinit(&p->largest_ops);
	for (size_t i = 0; i < p->whole.owners.len; i++) {
		free(p->whole.owners.data[i].name);
		free(p->whole.owners.data[i].owner);
	}
	profile_owners_deinit(&p->whole.owners);
	profile_rest_rows_deinit(&p->whole.rows);
	version_facts_deinit(&p->versions);
	walk_destroy(p->walker);
	free(p);
}
