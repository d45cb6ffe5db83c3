/* profile_heap.c: the whole heap, not only the tables.
 *
 * Once the tables are walked (and their figures taken), the same walker goes
 * on from the root state (its other fields: what the tables reached is
 * already marked and not charged again), from the tables' own structs (their
 * fields beside the maps: key names, ...), from every static that can own
 * heap, behind OnceLock/LazyLock/Mutex and the rest of the wrappers the
 * walker sees through, and then from the values on thread stacks that hold
 * the root's Arc (stack_values: a server's apply loop, its workers'
 * closures).  Each allocation is charged once, to the first owner that
 * reaches it in this order: tables, root state, the tables' structs,
 * statics (DWARF order), stack values;
 * an Rc/Arc a later owner reaches again is counted as shared, not charged.
 *
 * What no typed owner reached is the remainder: every in-use chunk of the
 * census the walk did not report (walk_unreported reads it off the mark
 * map, so no per-byte structure is added).  It is classified by a
 * conservative scan of 8-byte words for pointers into it (interior pointers
 * count, but not a word equal to a chunk's last granule: that is the next
 * chunk's header, where glibc's bins and top point), each chunk scanned at
 * most once:
 *   - allocator-internal: a thread's tcache_perthread_struct (the chunk a
 *     word below the thread pointer points at exactly, at the TLS offset
 *     most threads share, with a tcache's size and contents);
 *   - anchored "static": pointed into from static memory (writable segments
 *     backed by a file: the .data of the executable and the libraries, the
 *     anonymous .bss right after one, any segment holding a DWARF static),
 *     or from a chunk anchored so, transitively;
 *   - anchored "stack": the same from a thread's stack (from its stack
 *     pointer up, the red zone included), its TLS block or its registers;
 *     static goes first (a process-lifetime anchor no stale stack word makes
 *     up), so a chunk both reach is "static";
 *   - the rest are leak candidates: "chunk" when another leak candidate
 *     points into it (a member of a leaked group or cycle), "nowhere" when
 *     nothing scanned does.  A reference counts only from an anchor or an
 *     anchored chunk: a stale address in a dead chunk does not anchor.
 * Typed-owned chunks are not scanned: a chunk reached only through a raw
 * pointer inside one is a leak candidate here and is also counted by the
 * walk's raw-pointer rows.
 */
#include "profile_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sorted.h"

static const char *const REST_NAMES[PROFILE_REST_COUNT] = {
	"allocator-internal (tcache)", "held from a thread stack, TLS or register (directly or through unreached chunks)",
	"held from static memory (directly or through unreached chunks)",
	"leak candidates held only by other leak candidates", "referenced from nowhere (leak candidates)",
};

const char *profile_owner_group_name(enum profile_owner_group g)
{
	switch (g) {
	case PROFILE_OWNER_TABLES: return "tables";
	case PROFILE_OWNER_ROOT: return "root";
	case PROFILE_OWNER_STATIC: return "static";
	case PROFILE_OWNER_STACK: return "stack";
	}
	return "?";
}

const char *profile_rest_name(enum profile_rest_class c)
{
	return (unsigned)c < PROFILE_REST_COUNT ? REST_NAMES[c] : "?";
}

static const uint64_t SIZE_LIMITS[PROFILE_SIZE_CLASSES - 1] = {64, 256, 1024, 4096, 65536, 1u << 20};
static const char *const SIZE_NAMES[PROFILE_SIZE_CLASSES] = {
	"<= 64 B", "65 B - 256 B", "257 B - 1 KiB", "1 - 4 KiB", "4 - 64 KiB", "64 KiB - 1 MiB", "> 1 MiB",
};

const char *profile_size_class_name(unsigned k)
{
	return k < PROFILE_SIZE_CLASSES ? SIZE_NAMES[k] : "?";
}

static unsigned size_class(uint64_t size)
{
	unsigned k = 0;
	while (k < PROFILE_SIZE_CLASSES - 1 && size > SIZE_LIMITS[k])
		k++;
	return k;
}

void wh_init(struct wh *wh)
{
	memset(wh, 0, sizeof *wh);
	wh_arenas_init(&wh->arenas);
	wh_acc_table_init(&wh->accs);
}

void wh_deinit(struct wh *wh)
{
	wh_arenas_deinit(&wh->arenas);
	wh_acc_table_deinit(&wh->accs);
}

int wh_arenas_take(struct wh *wh, const struct heap *h)
{
	for (size_t i = 0; h && i < heap_chunk_count(h); i++) {
		struct heap_chunk c = heap_chunk_get(h, i);
		if (c.flags & HEAP_F_MMAPPED || c.arena == HEAP_NO_ARENA)
			continue;
		struct wh_arena *l = wh->arenas.len ? &wh->arenas.data[wh->arenas.len - 1] : NULL;
		if (l && l->arena == c.arena && c.mem >= l->start) {
			l->end = c.mem + 1;
			continue;
		}
		if (!wh_arenas_append(&wh->arenas, (struct wh_arena){c.mem, c.mem + 1, c.arena}))
			return ERR_NOMEM;
	}
	return 0;
}

static uint16_t arena_of(const struct wh *wh, uint64_t mem, bool mmapped)
{
	if (mmapped)
		return HEAP_NO_ARENA;
	size_t k = sorted_upper_bound(wh->arenas.data, wh->arenas.len, sizeof *wh->arenas.data,
				      offsetof(struct wh_arena, start), mem);
	return k && mem < wh->arenas.data[k - 1].end ? wh->arenas.data[k - 1].arena : HEAP_NO_ARENA - 1;
}

void wh_charge(struct wh *wh, const struct walk_alloc *a)
{
	struct wh_key k = {(uint64_t)(a->tag & ~PROFILE_OWNER_TAG) << 32 | a->path, a->kind};
	struct wh_acc *acc = wh_acc_table_find(&wh->accs, k);
	if (!acc) {
		bool ins;
		acc = wh_acc_table_insert(&wh->accs, k, &ins);
		if (!acc) {
			wh->failed = true;
			return;
		}
		memset(acc, 0, sizeof *acc);
		acc->key = k.key;
		acc->kind = k.kind;
	}
	acc->b.requested += a->requested;
	acc->b.used += a->used;
	acc->b.usable += a->usable;
	acc->b.chunk += a->chunk;
	acc->b.allocations++;
	if (!a->in_census)
		wh->owners_outside_census += a->chunk;
}

/* ------------------------------------------------ the remainder */

enum { REF_STACK = 1, REF_STATIC = 2, REF_CHUNK = 4, REF_INTERNAL = 8 };
enum { ANCHOR_NONE, ANCHOR_STACK, ANCHOR_STATIC };

struct rest {
	uint64_t mem, size;
	bool mmapped;
	uint8_t refs;     /* REF_*: what points into it directly */
	uint8_t anchor;   /* ANCHOR_*: what it is reached from, directly or through anchored chunks */
};
DEFINE_VECTOR(rest_vec, struct rest)
DEFINE_VECTOR(rest_queue, size_t)

struct scan {
	struct rest_vec v;
	struct rest_queue q;      /* anchored chunks not scanned yet */
	uint64_t lo, hi;          /* the span the chunks cover */
	const struct image *img;
	bool failed;
};

static int collect(void *ctx, uint64_t mem, uint64_t size, bool mmapped)
{
	struct scan *s = ctx;
	if (!rest_vec_append(&s->v, (struct rest){mem, size, mmapped, 0, ANCHOR_NONE})) {
		s->failed = true;
		return 1;
	}
	return 0;
}

/* The unreached chunk whose user bytes hold addr, or NULL.  A word equal to
 * a chunk's last 16-byte granule (mem + size - 16) is the address of the
 * next chunk's header (glibc's bins, top and last_remainder point there),
 * allocator metadata: it is not taken as a pointer into this chunk. */
static struct rest *rest_find(struct scan *s, uint64_t addr)
{
	if (addr < s->lo || addr >= s->hi)
		return NULL;
	size_t k = sorted_upper_bound(s->v.data, s->v.len, sizeof *s->v.data, offsetof(struct rest, mem), addr);
	if (!k)
		return NULL;
	struct rest *c = &s->v.data[k - 1];
	return c->size >= 32 && addr < c->mem + c->size - 16 ? c : NULL;
}

/* Marks c as pointed at with flag; an anchoring flag (anchor != NONE) also
 * anchors a chunk not anchored yet and queues it to be scanned. */
static void rest_mark(struct scan *s, struct rest *c, uint8_t flag, uint8_t anchor)
{
	c->refs |= flag;
	if (anchor == ANCHOR_NONE || c->anchor != ANCHOR_NONE || (c->refs & REF_INTERNAL))
		return;
	c->anchor = anchor;
	if (!rest_queue_append(&s->q, (size_t)(c - s->v.data)))
		s->failed = true;
}

#define SCAN_BLOCK 65536
#define SCAN_MAX (64ull << 20)   /* the most bytes one stack or static is scanned for */

/* Every aligned word of [lo, hi) that points into an unreached chunk other
 * than self marks it with flag (and anchor, see rest_mark). */
static void scan_words(struct scan *s, uint64_t lo, uint64_t hi, uint8_t flag, uint8_t anchor, const struct rest *self,
		       uint64_t *buf)
{
	lo = (lo + 7) & ~7ull;
	if (hi <= lo)
		return;
	if (hi - lo > SCAN_MAX)
		hi = lo + SCAN_MAX;
	for (uint64_t at = lo; at < hi;) {
		uint64_t len = hi - at < SCAN_BLOCK ? hi - at : SCAN_BLOCK;
		size_t got = image_pread(s->img, at, buf, (size_t)len);
		for (size_t i = 0; i < got / 8; i++) {
			uint64_t v = buf[i];
			if (v < s->lo || v >= s->hi)
				continue;
			struct rest *c = rest_find(s, v);
			if (!c || c == self)
				continue;
			rest_mark(s, c, flag, anchor);
		}
		if (got < len) {
			/* a page missing from the core: go on after it */
			at = (at + got + 4096) & ~4095ull;
			continue;
		}
		at += len;
	}
}

/* Scans every queued (anchored) chunk, anchoring what it points into with
 * the same anchor, until the queue is empty: the transitive closure. */
static void scan_anchored(struct scan *s, uint8_t flag, uint8_t anchor, uint64_t *buf)
{
	while (s->q.len && !s->failed) {
		const struct rest *c = &s->v.data[s->q.data[--s->q.len]];
		scan_words(s, c->mem, c->mem + c->size - 8, flag, anchor, c, buf);
	}
}

/* tcache_perthread_struct's chunk: 0x250 (glibc 2.26-2.29), 0x290 (2.30+,
 * 64 bins), up to 0x310 (2.42 with 76 bins). */
#define TCACHE_CHUNK_MIN 0x250
#define TCACHE_CHUNK_MAX 0x310
#define TLS_SCAN 8192   /* bytes below a thread pointer scanned for its tcache */

/* Whether the chunk's bytes can be a tcache_perthread_struct: for one of
 * the layouts (counts of 1 or 2 bytes, 64 or 76 bins), every bin's count is
 * 0 exactly when its list head is NULL, and every head is 16-aligned. */
static bool tcache_like(const struct scan *s, const struct rest *c, uint64_t *buf)
{
	size_t n = (size_t)(c->size - 8);
	if (image_pread(s->img, c->mem, buf, n) != n)
		return false;
	const uint8_t *b = (const uint8_t *)buf;
	static const unsigned layouts[][2] = {{2, 64}, {1, 64}, {2, 76}};
	for (size_t l = 0; l < sizeof layouts / sizeof layouts[0]; l++) {
		unsigned w = layouts[l][0], nb = layouts[l][1];
		size_t heads = ((size_t)w * nb + 7) & ~(size_t)7;
		if (heads + (size_t)nb * 8 > n)
			continue;
		bool ok = true;
		for (unsigned i = 0; ok && i < nb; i++) {
			unsigned cnt = w == 2 ? (unsigned)b[2 * i] | (unsigned)b[2 * i + 1] << 8 : b[i];
			uint64_t head;
			memcpy(&head, b + heads + (size_t)i * 8, 8);
			ok = (cnt == 0) == (head == 0) && !(head & 15);
		}
		if (ok)
			return true;
	}
	return false;
}

struct tc_cand {
	uint64_t off;    /* the thread pointer minus the word's address */
	size_t thread, chunk;
};
DEFINE_VECTOR(tc_cands, struct tc_cand)

/* The threads' tcaches: glibc's `tcache` is a static TLS variable, so the
 * word that points at a thread's tcache_perthread_struct lies at the same
 * distance below every thread's pointer.  Each word below a thread pointer
 * pointing exactly at an unreached chunk of a tcache's size and contents is
 * a candidate; the distance most threads share wins (ties: the nearest),
 * and only its chunks are allocator-internal (an application's buffer of
 * the same size a thread local points at is not). */
static void find_tcaches(struct scan *s, const struct image *img, uint64_t *buf)
{
	struct tc_cands cs;
	tc_cands_init(&cs);
	uint64_t *chunk = malloc(TCACHE_CHUNK_MAX);
	if (!chunk) {
		s->failed = true;
		return;
	}
	for (size_t i = 0; i < image_thread_count(img); i++) {
		const struct image_thread *th = image_thread(img, i);
		if (th->fs_base <= TLS_SCAN)
			continue;
		/* page by page: the TLS block's mapping may start inside the span */
		for (uint64_t lo = (th->fs_base - TLS_SCAN) & ~4095ull; lo < th->fs_base; lo += 4096) {
			size_t got = image_pread(img, lo, buf, 4096);
			for (size_t k = 0; k < got / 8 && lo + k * 8 < th->fs_base; k++) {
				struct rest *c = rest_find(s, buf[k]);
				if (!c || buf[k] != c->mem || c->size < TCACHE_CHUNK_MIN || c->size > TCACHE_CHUNK_MAX ||
				    !tcache_like(s, c, chunk))
					continue;
				if (!tc_cands_append(&cs, (struct tc_cand){th->fs_base - (lo + k * 8), i,
									   (size_t)(c - s->v.data)})) {
					s->failed = true;
					goto out;
				}
			}
		}
	}
	uint64_t best = 0;
	size_t best_n = 0;
	for (size_t a = 0; a < cs.len; a++) {
		size_t n = 0;   /* the threads with a candidate at this distance (one word each) */
		for (size_t b = 0; b < cs.len; b++)
			n += cs.data[b].off == cs.data[a].off;
		if (n > best_n || (n == best_n && cs.data[a].off < best)) {
			best_n = n;
			best = cs.data[a].off;
		}
	}
	for (size_t a = 0; best_n && a < cs.len; a++)
		if (cs.data[a].off == best)
			s->v.data[cs.data[a].chunk].refs |= REF_INTERNAL;
out:
	free(chunk);
	tc_cands_deinit(&cs);
}

/* The roots of the remainder: the threads' tcaches first; then static
 * memory (anchored "static" and closed over first: a process-lifetime
 * anchor, and one no stale word makes up, so a chunk both reach is
 * "static"); then the threads' stacks, TLS blocks and registers. */
static void scan_roots(struct scan *s, const struct image *img, const struct types *t, uint64_t *buf)
{
	find_tcaches(s, img, buf);
	/* static memory: every writable segment a file backs (the executable's
	 * and the libraries' .data), the anonymous one right after it (their
	 * .bss), and any segment holding a static of the DWARF */
	uint64_t bias = image_bias(img);
	size_t nseg = image_segment_count(img);
	bool *take = calloc(nseg ? nseg : 1, sizeof *take);
	if (!take) {
		s->failed = true;
		return;
	}
	for (size_t i = 0; i < nseg; i++) {
		const struct image_segment *g = image_segment(img, i);
		if (g->file && (g->flags & IMAGE_W))
			take[i] = true;
		else if (i && take[i - 1] && image_segment(img, i - 1)->file && image_segment(img, i - 1)->end == g->start &&
			 (g->flags & IMAGE_W) && !g->file)
			take[i] = true;
	}
	for (size_t i = 0; i < types_static_count(t); i++) {
		const struct image_segment *g = image_segment_at(img, types_static_at(t, i)->addr + bias);
		for (size_t k = 0; g && k < nseg; k++)
			if (image_segment(img, k) == g && (g->flags & IMAGE_W))
				take[k] = true;
	}
	for (size_t i = 0; i < nseg; i++) {
		const struct image_segment *g = image_segment(img, i);
		/* never the heap itself */
		if (take[i] && (g->end <= s->lo || g->start >= s->hi))
			scan_words(s, g->start, g->end, REF_STATIC, ANCHOR_STATIC, NULL, buf);
	}
	free(take);
	scan_anchored(s, REF_CHUNK, ANCHOR_STATIC, buf);
	for (size_t i = 0; i < image_thread_count(img); i++) {
		const struct image_thread *th = image_thread(img, i);
		/* the rest of the static TLS block and the thread's descriptor */
		if (th->fs_base > TLS_SCAN)
			scan_words(s, th->fs_base - TLS_SCAN, th->fs_base + TLS_SCAN, REF_STACK, ANCHOR_STACK, NULL, buf);
		for (size_t r = 0; r < sizeof th->regs / sizeof th->regs[0]; r++) {
			struct rest *c = rest_find(s, th->regs[r]);
			if (c)
				rest_mark(s, c, REF_STACK, ANCHOR_STACK);
		}
		const struct image_segment *seg = image_segment_at(img, th->rsp);
		if (seg)   /* the red zone below the stack pointer too */
			scan_words(s, th->rsp - 128 >= seg->start ? th->rsp - 128 : seg->start, seg->end, REF_STACK,
				   ANCHOR_STACK, NULL, buf);
	}
	scan_anchored(s, REF_CHUNK, ANCHOR_STACK, buf);
}

/* A chunk's class: allocator-internal; else what anchors it (a thread or
 * static memory, directly or through other anchored unreached chunks); else
 * a leak candidate: "chunk_only" when another unanchored chunk points into
 * it (a member of a leaked group or cycle), "nowhere" when nothing does. */
static enum profile_rest_class class_of(const struct rest *c)
{
	if (c->refs & REF_INTERNAL)
		return PROFILE_REST_INTERNAL;
	if (c->anchor == ANCHOR_STATIC)
		return PROFILE_REST_STATIC;
	if (c->anchor == ANCHOR_STACK)
		return PROFILE_REST_STACK;
	return c->refs & REF_CHUNK ? PROFILE_REST_CHUNK : PROFILE_REST_NOWHERE;
}

static void top_insert(struct profile_rest_chunk *top, uint64_t mem, uint64_t size)
{
	size_t at = PROFILE_REST_TOP;
	while (at > 0 && (top[at - 1].size < size || (top[at - 1].size == size && top[at - 1].mem > mem)))
		at--;
	if (at >= PROFILE_REST_TOP)
		return;
	memmove(&top[at + 1], &top[at], (PROFILE_REST_TOP - 1 - at) * sizeof *top);
	top[at] = (struct profile_rest_chunk){mem, size};
}

static int classify_rest(struct wh *wh, struct profile *p, const struct image *img, const struct types *t,
		     struct err *e)
{
	struct profile_whole *pw = &p->whole;
	struct scan s = {.img = img};
	rest_vec_init(&s.v);
	rest_queue_init(&s.q);
	uint64_t *buf = malloc(SCAN_BLOCK);
	size_t narena = wh->arenas.len;   /* arena indices seen; HEAP_NO_ARENA - 1: none found */
	uint16_t amax = 0;
	for (size_t i = 0; i < wh->arenas.len; i++)
		if (wh->arenas.data[i].arena > amax)
			amax = wh->arenas.data[i].arena;
	narena = (size_t)amax + 3;   /* ... + "no arena found" + mmapped */
	uint64_t *cnt = calloc(narena * PROFILE_REST_COUNT * PROFILE_SIZE_CLASSES * 2, sizeof *cnt);
	int rc = 0;
	if (!buf || !cnt || walk_unreported(p->walker, collect, &s) || s.failed) {
		rc = err_set(e, ERR_NOMEM, "out of memory classifying the heap's remainder");
		goto out;
	}
	if (s.v.len) {
		s.lo = s.v.data[0].mem;
		for (size_t i = 0; i < s.v.len; i++)
			if (s.v.data[i].size >= 32 && s.v.data[i].mem + s.v.data[i].size - 16 > s.hi)
				s.hi = s.v.data[i].mem + s.v.data[i].size - 16;
	}
	scan_roots(&s, img, t, buf);
	if (s.failed) {
		rc = err_set(e, ERR_NOMEM, "out of memory classifying the heap's remainder");
		goto out;
	}
	/* the leak candidates: which of them another one points into (the
	 * anchored chunks were scanned by scan_roots, and their marks no
	 * longer matter: REF_CHUNK is cleared on every unanchored chunk first) */
	for (size_t i = 0; i < s.v.len; i++)
		if (s.v.data[i].anchor == ANCHOR_NONE)
			s.v.data[i].refs &= (uint8_t)~REF_CHUNK;
	for (size_t i = 0; i < s.v.len; i++) {
		const struct rest *c = &s.v.data[i];
		if (!(c->refs & REF_INTERNAL) && c->anchor == ANCHOR_NONE && c->size >= 32)
			scan_words(&s, c->mem, c->mem + c->size - 8, REF_CHUNK, ANCHOR_NONE, c, buf);
	}
	for (size_t i = 0; i < s.v.len; i++) {
		const struct rest *c = &s.v.data[i];
		enum profile_rest_class k = class_of(c);
		uint16_t ar = arena_of(wh, c->mem, c->mmapped);
		size_t ai = ar == HEAP_NO_ARENA ? narena - 1 : ar == HEAP_NO_ARENA - 1 || ar > amax ? narena - 2 : ar;
		size_t slot = ((size_t)k * narena + ai) * PROFILE_SIZE_CLASSES + size_class(c->size);
		cnt[slot * 2] += 1;
		cnt[slot * 2 + 1] += c->size;
		pw->cls_chunks[k]++;
		pw->cls_bytes[k] += c->size;
		pw->unaccounted_chunk_bytes += c->size;
		top_insert(pw->top[k], c->mem, c->size);
	}
	for (size_t k = 0; k < PROFILE_REST_COUNT; k++)
		for (size_t ai = 0; ai < narena; ai++)
			for (unsigned sc = 0; sc < PROFILE_SIZE_CLASSES; sc++) {
				size_t slot = (k * narena + ai) * PROFILE_SIZE_CLASSES + sc;
				if (!cnt[slot * 2])
					continue;
				uint16_t ar = ai == narena - 1 ? HEAP_NO_ARENA : ai == narena - 2 ? HEAP_NO_ARENA - 1 : (uint16_t)ai;
				if (!profile_rest_rows_append(&pw->rows, (struct profile_rest_row){
					    .cls = (uint8_t)k, .size_class = (uint8_t)sc, .arena = ar,
					    .chunks = cnt[slot * 2], .bytes = cnt[slot * 2 + 1]})) {
					rc = err_set(e, ERR_NOMEM, "out of memory classifying the heap's remainder");
					goto out;
				}
			}
out:
	free(buf);
	free(cnt);
	rest_vec_deinit(&s.v);
	rest_queue_deinit(&s.q);
	return rc;
}

/* ------------------------------------------------ owners */

struct stack_type {
	type_id ty;
	uint64_t off;   /* where its Arc<root> member lies */
	uint64_t size;
};
DEFINE_VECTOR(stack_types, struct stack_type)


/* Owner indices (the tag's low 30 bits): 0 the root state, 1 + i static i,
 * WH_OWNER_STACK + k the k-th type held on thread stacks beside the root's
 * Arc, WH_OWNER_TABLES the tables' own structs (their fields beside the
 * maps the tables walk decodes). */
#define WH_OWNER_TABLES (PROFILE_OWNER_TAG - 1)
#define WH_OWNER_STACK (PROFILE_OWNER_TAG >> 1)
#define WH_STACK_TYPES 4096   /* the most struct types tried on the stacks */
#define WH_STACK_TRIES 65536  /* the most placements checked (a hostile stack full of the address) */


/* The last path segment of a qualified type name, generics kept. */
static const char *short_type(const char *name)
{
	const char *s = name, *lt = strchr(name, '<');
	for (const char *q = name; (q = strstr(q, "::")) && (!lt || q < lt); q += 2)
		s = q + 2;
	return s;
}

/* The last two path segments of a qualified type name, generics kept
 * ("server::Server", "spawn_worker::{closure_env#0}"). */
static const char *last_two(const char *name)
{
	const char *lt = strchr(name, '<'), *s1 = name, *s2 = name;
	for (const char *q = name; (q = strstr(q, "::")) && (!lt || q < lt); q += 2) {
		s2 = s1;
		s1 = q + 2;
	}
	return s2;
}

static int owner_cmp(const void *a, const void *b)
{
	const struct profile_owner *x = a, *y = b;
	if (x->b.chunk != y->b.chunk)
		return x->b.chunk < y->b.chunk ? 1 : -1;
	return strcmp(x->name, y->name);
}

static int owners_finish(struct wh *wh, struct profile *p, const struct types *t, const char *tables_path,
			 const struct stack_types *cands, struct err *e)
{
	struct profile_whole *pw = &p->whole;
	for (struct wh_acc *a = wh_acc_table_first(&wh->accs); a; a = wh_acc_table_next(&wh->accs, a)) {
		uint32_t owner = (uint32_t)(a->key >> 32), path = (uint32_t)a->key;
		const char *pn = walk_path_name(p->walker, path);
		char head[300];
		if (owner == 0)
			snprintf(head, sizeof head, "%s", short_type(p->root_type));
		else if (owner == WH_OWNER_TABLES) {
			/* the root type, the tables' path (dots as " > "), the element */
			int n = snprintf(head, sizeof head, "%s > ", short_type(p->root_type));
			for (const char *q = tables_path; q && *q && n > 0 && (size_t)n + 4 < sizeof head; q++)
				n += *q == '.' ? snprintf(head + n, sizeof head - (size_t)n, " > ") :
						 snprintf(head + n, sizeof head - (size_t)n, "%c", *q);
			if (n > 0 && (size_t)n < sizeof head)
				snprintf(head + n, sizeof head - (size_t)n, " > [table]");
		} else if (owner >= WH_OWNER_STACK) {
			const struct types_type *tt = owner - WH_OWNER_STACK < cands->len ?
				types_get(t, cands->data[owner - WH_OWNER_STACK].ty) : NULL;
			snprintf(head, sizeof head, "stack: %s", tt && tt->name ? last_two(tt->name) : "?");
		} else {
			const struct types_static *st = types_static_at(t, owner - 1);
			snprintf(head, sizeof head, "static %s", st && st->name ? st->name : "?");
		}
		char *name = NULL;
		if (asprintf(&name, "%s%s%s (%s)", head, pn && pn[0] ? " > " : "", pn ? pn : "",
			     walk_kind_name((enum walk_kind)a->kind)) < 0)
			return err_set(e, ERR_NOMEM, "out of memory naming heap owners");
		char *oname = strdup(head);
		if (!oname || !profile_owners_append(&pw->owners, (struct profile_owner){name, oname, path,
									       (uint8_t)a->kind,
									       owner && owner != WH_OWNER_TABLES ? owner >= WH_OWNER_STACK ?
									       PROFILE_OWNER_STACK : PROFILE_OWNER_STATIC :
									       PROFILE_OWNER_ROOT, a->b})) {
			free(name);
			free(oname);
			return err_set(e, ERR_NOMEM, "out of memory naming heap owners");
		}
		pw->owners_chunk_bytes += a->b.chunk;
	}
	pw->owners_chunk_bytes -= wh->owners_outside_census;
	if (pw->owners.len > 1)
		qsort(pw->owners.data, pw->owners.len, sizeof *pw->owners.data, owner_cmp);
	return 0;
}

/* ------------------------------------------------ values on thread stacks */

/* Whether name is "alloc::sync::Arc<ROOT>" or "alloc::sync::Arc<ROOT, A>". */
static bool is_root_arc(const char *name, const char *root)
{
	static const char pre[] = "alloc::sync::Arc<";
	size_t n = strlen(root);
	return name && strncmp(name, pre, sizeof pre - 1) == 0 && strncmp(name + sizeof pre - 1, root, n) == 0 &&
	       (name[sizeof pre - 1 + n] == '>' || name[sizeof pre - 1 + n] == ',');
}

static bool starts(const char *s, const char *pre)
{
	return s && strncmp(s, pre, strlen(pre)) == 0;
}

/* Reads the word at addr + the offset of path in ty; false when the path is
 * not there (another std's layout: not checked) or the word is unreadable. */
static int member_word(const struct image *img, const struct types *t, type_id ty, const char *path,
		       uint64_t addr, uint64_t *v)
{
	uint64_t off;
	if (types_member_path(t, ty, path, &off, NULL, NULL) != 0)
		return 1;
	return image_read_u64(img, addr + off, v, NULL) != 0 ? -1 : 0;
}

/* Whether a candidate placed at base looks like a live value and not a
 * stale copy a frame has partly reused: each of its own Arc/Rc members
 * points at the start of an in-use chunk with plausible counts, and each of
 * its Vec/String members has len <= cap and, when it has a buffer, points at
 * the start of an in-use chunk. */
static bool placement_ok(struct walk *w, const struct image *img, const struct types *t, type_id ty, uint64_t base)
{
	const struct types_type *tt = types_get(t, ty);
	for (uint32_t m = 0; tt && m < tt->nmembers; m++) {
		type_id mid = types_resolve(t, tt->members[m].type);
		const struct types_type *mt = types_get(t, mid);
		uint64_t at = base + tt->members[m].offset, ptr, cap, len, strong, weak;
		if (!mt || mt->kind != TYPES_STRUCT)
			continue;
		if (starts(mt->name, "alloc::sync::Arc<") || starts(mt->name, "alloc::rc::Rc<")) {
			if (image_read_u64(img, at, &ptr, NULL) != 0 || walk_chunk_size(w, ptr) == 0 ||
			    image_read_u64(img, ptr, &strong, NULL) != 0 || image_read_u64(img, ptr + 8, &weak, NULL) != 0 ||
			    strong == 0 || strong > (1ull << 32) || weak == 0 || weak > (1ull << 32))
				return false;
		} else if (starts(mt->name, "alloc::vec::Vec<") || starts(mt->name, "alloc::string::String")) {
			const char *pre = starts(mt->name, "alloc::string::String") ? "vec." : "";
			char pc[64], pp[64], pl[64];
			snprintf(pc, sizeof pc, "%sbuf.inner.cap.__0", pre);
			snprintf(pp, sizeof pp, "%sbuf.inner.ptr.pointer.pointer", pre);
			snprintf(pl, sizeof pl, "%slen", pre);
			int rc = member_word(img, t, mid, pc, at, &cap);
			if (rc == 1)
				continue;   /* not this std's layout: left to the decoders */
			if (rc || member_word(img, t, mid, pp, at, &ptr) || member_word(img, t, mid, pl, at, &len) ||
			    len > cap || (cap && cap < (1ull << 40) && walk_chunk_size(w, ptr) == 0))
				return false;
		}
	}
	return true;
}

/* Values on the threads' stacks that hold the root state's Arc: a real
 * server keeps much of its state in frames (a thread's closure, a struct the
 * apply loop owns: a WAL ring, connection buffers beside an Arc<AppState>).
 * Every struct type of the DWARF with a member Arc<root> is a candidate;
 * wherever a live stack word (from the stack pointer's red zone up) holds
 * the root's ArcInner address, each candidate is placed so that its member
 * lies on that word, and walked (what the decoders accept: they check every
 * pointer and length against the census) as an owner of its own, after the
 * statics. */
static int stack_values(struct stack_types *cands_out, struct walk *w, const struct image *img,
			const struct types *t, uint64_t root_addr, type_id root_type)
{
	const struct types_type *rt = types_get(t, types_resolve(t, root_type));
	if (!rt || !rt->name || !rt->name[0])
		return 0;
	uint64_t al = rt->align > 16 ? rt->align : 16;
	uint64_t inner = root_addr - ((16 + al - 1) / al) * al;   /* ArcInner{strong, weak, data} */
	if (root_addr < al || walk_chunk_size(w, inner) == 0)
		return 0;   /* the root is not in an Arc's allocation */
	struct stack_types cands;
	stack_types_init(&cands);
	int rc = 0;
	for (type_id id = 1; id <= types_count(t) && cands.len < WH_STACK_TYPES; id++) {
		const struct types_type *tt = types_get(t, id);
		if (!tt || tt->kind != TYPES_STRUCT || tt->is_declaration || tt->vpart || !tt->size || tt->size > 65536)
			continue;
		for (uint32_t m = 0; m < tt->nmembers; m++) {
			const struct types_type *mt = types_get(t, types_resolve(t, tt->members[m].type));
			if (mt && mt->kind == TYPES_STRUCT && is_root_arc(mt->name, rt->name) &&
			    tt->members[m].offset + 8 <= tt->size) {
				if (!stack_types_append(&cands, (struct stack_type){id, tt->members[m].offset, tt->size}))
					rc = ERR_NOMEM;
				break;
			}
		}
	}
	uint64_t *buf = malloc(SCAN_BLOCK);
	if (!buf)
		rc = ERR_NOMEM;
	size_t tries = 0;
	for (size_t i = 0; !rc && cands.len && i < image_thread_count(img) && tries < WH_STACK_TRIES; i++) {
		const struct image_thread *th = image_thread(img, i);
		const struct image_segment *seg = image_segment_at(img, th->rsp);
		if (!seg)
			continue;
		uint64_t live = th->rsp - 128 >= seg->start ? (th->rsp - 128) & ~7ull : seg->start;
		uint64_t hi = seg->end - live > SCAN_MAX ? live + SCAN_MAX : seg->end;
		for (uint64_t at = live; at < hi;) {
			uint64_t len = hi - at < SCAN_BLOCK ? hi - at : SCAN_BLOCK;
			size_t got = image_pread(img, at, buf, (size_t)len);
			for (size_t k = 0; k < got / 8; k++) {
				if (buf[k] != inner)
					continue;
				uint64_t word = at + k * 8;
				for (size_t c = 0; c < cands.len && tries < WH_STACK_TRIES; c++, tries++) {
					const struct stack_type *st = &cands.data[c];
					if (word - live < st->off || st->size > hi - (word - st->off) ||
					    !placement_ok(w, img, t, st->ty, word - st->off))
						continue;
					walk_set_tag(w, PROFILE_OWNER_TAG | (uint32_t)(WH_OWNER_STACK + c));
					walk_queue(w, word - st->off, st->ty);
				}
			}
			if (got < len)
				break;
			at += len;
		}
	}
	if (!rc && walk_drain(w) != 0)
		rc = ERR_NOMEM;
	free(buf);
	*cands_out = cands;   /* kept to name the owners */
	return rc;
}

static int queue_table(void *ctx, uint64_t ka, type_id kt, uint64_t va, type_id vt)
{
	(void)ka;
	(void)kt;
	walk_queue(ctx, va, vt);
	return 0;
}

int wh_run(struct wh *wh, struct profile *p, const struct image *img, const struct types *t,
	   uint64_t root_addr, type_id root_type, bool walk_root, const char *tables_path, uint64_t skip,
	   struct err *e)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct profile_whole *pw = &p->whole;
	struct walk *w = p->walker;
	struct walk_stats before, after;
	uint64_t nb, na;
	walk_get_stats(w, &before);
	pw->in_use_chunk_bytes = p->heap_in_use_chunk_bytes;
	pw->tables_chunk_bytes = p->heap.chunk + p->overhead.chunk - wh->tables_outside_census;
	struct walk_nodecoder_saved *saved = walk_nodecoder_save(w);
	walk_set_op_type(w, 0);   /* the enum met outside the tables is plain data now */
	if (walk_root) {
		walk_set_tag(w, PROFILE_OWNER_TAG);
		walk_queue(w, root_addr, root_type);
		if (walk_drain(w) != 0)
			wh->failed = true;
	}
	/* the tables' structs: what the maps already reached is marked and
	 * skipped, their other fields (a table's key names, ...) are charged */
	uint64_t ta;
	type_id tt;
	if (walk_root && tables_path && !wh->failed &&
	    target_path(w, t, root_addr, root_type, tables_path, &ta, &tt, NULL) == 0) {
		walk_set_tag(w, PROFILE_OWNER_TAG | WH_OWNER_TABLES);
		if (walk_elements(w, ta, tt, queue_table, w, NULL) == 0 && walk_drain(w) != 0)
			wh->failed = true;
	}
	uint64_t bias = image_bias(img);
	for (size_t i = 0; i < types_static_count(t) && i + 1 < WH_OWNER_STACK; i++) {
		const struct types_static *st = types_static_at(t, i);
		type_id ty = types_resolve(t, st->type);
		const struct types_type *tt = types_get(t, ty);
		uint64_t a = st->addr + bias;
		const struct image_segment *seg = image_segment_at(img, a);
		if (a == skip || !tt || !seg || !(seg->flags & IMAGE_W) || tt->size > seg->end - a || !walk_type_owns(w, ty))
			continue;
		pw->statics_walked++;
		walk_set_tag(w, PROFILE_OWNER_TAG | (uint32_t)(i + 1));
		walk_queue(w, a, ty);
	}
	if (walk_drain(w) != 0)
		wh->failed = true;
	struct stack_types cands;
	stack_types_init(&cands);
	if (walk_root && !wh->failed && stack_values(&cands, w, img, t, root_addr, root_type) != 0)
		wh->failed = true;
	walk_nodecoder_restore(w, saved, &nb, &na);
	walk_get_stats(w, &after);
	pw->shared_revisits = after.shared_revisits - before.shared_revisits;
	pw->shared_bytes = after.shared_bytes - before.shared_bytes;
	if (wh->failed) {
		stack_types_deinit(&cands);
		return err_set(e, ERR_NOMEM, "out of memory walking the heap's other owners");
	}
	int rc = owners_finish(wh, p, t, tables_path, &cands, e);
	stack_types_deinit(&cands);
	if (rc)
		return rc;
	/* the root's own allocations (its ArcInner, the owning pointers on the
	 * way to the tables, a split root's buffer): counted by the root
	 * search and marked seen, never reported by the walk */
	if (p->root_alloc_count) {
		char *name = NULL, *oname = strdup(short_type(p->root_type));
		if (asprintf(&name, "%s (the root's own allocations)", short_type(p->root_type)) < 0 || !oname ||
		    !profile_owners_append(&pw->owners, (struct profile_owner){name, oname, WALK_PATH_ROOT, WALK_ARC, PROFILE_OWNER_ROOT,
			    {p->root_alloc_requested, p->root_alloc_requested, 0, p->root_alloc_chunk, p->root_alloc_count}})) {
			free(name);
			free(oname);
			return err_set(e, ERR_NOMEM, "out of memory naming heap owners");
		}
		pw->owners_chunk_bytes += p->root_alloc_chunk;
		if (pw->owners.len > 1)
			qsort(pw->owners.data, pw->owners.len, sizeof *pw->owners.data, owner_cmp);
	}
	pw->outside_census_bytes = wh->tables_outside_census + wh->owners_outside_census;
	pw->accounted_chunk_bytes = pw->tables_chunk_bytes + pw->owners_chunk_bytes;
	rc = classify_rest(wh, p, img, t, e);
	if (rc)
		return rc;
	pw->done = true;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pw->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	return 0;
}
