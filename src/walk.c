/* walk.c: the walker's core: the mark map, dispatch of a value by its
 * classification (the decode layer's, dec_int.h), allocation validation
 * against the heap census and dedup, struct members and enums, the
 * address-ordered queue and its sweeps.
 *
 * Containers are walked in walk_visit.c (from the decode layer's view of
 * their header); field paths in walk_path.c; walk_elements and the decode
 * layer's readers on the walk's context in walk_read.c.
 */
#include "walk_int.h"
#include "walk_visit.h"
#include "arr.h"
#include "sorted.h"

#include <assert.h>
#include <stddef.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const kind_names[WALK_KIND_COUNT] = {
	"Box", "Box<[T]>", "Box<dyn>", "Vec", "String", "VecDeque", "hashbrown table",
	"BTree leaf", "BTree internal", "Arc", "Rc", "SmallVec", "CompactString", "LinkedList node",
};

const char *walk_kind_name(enum walk_kind k)
{
	return (unsigned)k < WALK_KIND_COUNT ? kind_names[k] : "?";
}

/* --- the dense mark map --- */

#define REGION_GAP (1ull << 20)   /* a gap this large between chunks starts a new region */

/* Sets the 2-bit code of the granule at addr in region r when it has none. */
static void mark_boundary(struct wregion *r, uint64_t addr, uint64_t code)
{
	if (addr < r->start || addr >= r->end || (addr & 15))
		return;
	uint64_t g = (addr - r->start) >> 4;
	uint64_t *word = &r->bits[g >> 5];
	unsigned sh = (unsigned)(g & 31) * 2;
	if (!((*word >> sh) & 3))
		*word |= code << sh;
}

static int regions_build(struct walk *w)
{
	size_t n = heap_chunk_count(w->h);
	for (size_t i = 0; i < n; i++) {
		struct heap_chunk c = heap_chunk_get(w->h, i);
		/* the region reaches the granule after the chunk: its end mark */
		uint64_t end = c.mem + (c.size > 16 && c.size < (1ull << 46) ? c.size : 16) + 16;
		if (w->regions.len && c.mem >= w->regions.data[w->regions.len - 1].start &&
		    c.mem < w->regions.data[w->regions.len - 1].end + REGION_GAP) {
			if (end > w->regions.data[w->regions.len - 1].end)
				w->regions.data[w->regions.len - 1].end = end;
			continue;
		}
		if (!wregion_vec_append(&w->regions, (struct wregion){.start = c.mem & ~15ull, .end = end}))
			return ERR_NOMEM;
	}
	for (size_t r = 0; r < w->regions.len; r++) {
		uint64_t granules = (w->regions.data[r].end - w->regions.data[r].start) >> 4;
		/* written at once, not calloc'd: a page of zeros mapped on the
		 * first read and copied on the first write costs two faults
		 * (and, once the process has had a second thread, a TLB
		 * shootdown on every CPU it ran on) where a write costs one */
		size_t words = (size_t)(granules / 32 + 1);
		w->regions.data[r].bits = arr_alloc(words * sizeof(uint64_t));
		if (!w->regions.data[r].bits)
			return ERR_NOMEM;
		memset(w->regions.data[r].bits, 0, words * sizeof(uint64_t));
		w->regions.data[r].bucket0 = w->nq;
		w->nq += (size_t)((w->regions.data[r].end - w->regions.data[r].start) >> WQ_SHIFT) + 1;
	}
	size_t r = 0;
	for (size_t i = 0; i < n; i++) {
		struct heap_chunk c = heap_chunk_get(w->h, i);
		while (r < w->regions.len && c.mem >= w->regions.data[r].end)
			r++;
		if (r == w->regions.len)
			break;
		struct wregion *rg = &w->regions.data[r];
		/* in use: code 1 (the walk adds 2 when it reports it); any other
		 * chunk start, and the end of every chunk, code 2, so that an
		 * in-use chunk's size is the distance to the next code */
		bool mark = c.state == HEAP_INUSE && !(c.mem & 15) && !(c.flags & HEAP_F_MMAPPED);
		uint64_t g = (c.mem - rg->start) >> 4;
		if (c.state == HEAP_INUSE && !mark) {
			/* mmapped (or odd) in-use chunks: kept in a list of their own */
			if (!wchunk_vec_append(&w->big, c))
				return ERR_NOMEM;
		}
		if (mark)
			rg->bits[g >> 5] = (rg->bits[g >> 5] & ~(3ull << ((g & 31) * 2))) | 1ull << ((g & 31) * 2);
		else
			mark_boundary(rg, c.mem, 2);
		if (c.size >= 16 && c.size < (1ull << 46))
			mark_boundary(rg, c.mem + c.size, 2);
	}
	return 0;
}

/* The in-use chunk at mem from the list of those outside the mark map. */
static const struct heap_chunk *big_find(const struct walk *w, uint64_t mem)
{
	size_t k = sorted_find(w->big.data, w->big.len, sizeof *w->big.data, offsetof(struct heap_chunk, mem), mem);
	return k != SIZE_MAX ? &w->big.data[k] : NULL;
}

/* The bytes from the in-use chunk at granule g of r to the next chunk
 * boundary (its chunk size); 0 when the region holds none. */
static inline __attribute__((always_inline)) uint64_t scan_size(const struct wregion *r, uint64_t g)
{
	uint64_t words = ((r->end - r->start) >> 4) / 32 + 1, i = g + 1;
	size_t wi = (size_t)(i >> 5);
	if (wi >= words)
		return 0;
	uint64_t bits = r->bits[wi] >> ((i & 31) * 2);
	if (bits)
		return ((uint64_t)__builtin_ctzll(bits) / 2 + 1) * 16;
	for (wi++; wi < words; wi++)
		if (r->bits[wi])
			return ((uint64_t)wi * 32 + (uint64_t)__builtin_ctzll(r->bits[wi]) / 2 - g) * 16;
	return 0;
}

/* The region holding addr, or NULL. */
static inline __attribute__((always_inline)) const struct wregion *region_of(struct walk *w, uint64_t addr)
{
	if (!w->regions.len)
		return NULL;
	const struct wregion *r = &w->regions.data[w->rlast];
	if (addr - r->start >= r->end - r->start) {
		size_t lo = sorted_upper_bound(w->regions.data, w->regions.len, sizeof *w->regions.data,
					       offsetof(struct wregion, end), addr);
		if (lo == w->regions.len || addr < w->regions.data[lo].start)
			return NULL;
		w->rlast = lo;
		r = &w->regions.data[lo];
	}
	return r;
}

/* The mark word and shift of an in-use chunk's user pointer, or NULL; when
 * rp is given, the region and granule of any aligned address in a region
 * (in use or not). */
static inline __attribute__((always_inline)) uint64_t *mark_at(struct walk *w, uint64_t mem, unsigned *shift,
							   const struct wregion **rp,
			 uint64_t *gp)
{
	if (mem & 15)
		return NULL;
	const struct wregion *r = region_of(w, mem);
	if (!r)
		return NULL;
	uint64_t g = (mem - r->start) >> 4;
	if (rp) {
		*rp = r;
		*gp = g;
	}
	*shift = (unsigned)(g & 31) * 2;
	uint64_t *word = &r->bits[g >> 5];
	return (*word >> *shift) & 1 ? word : NULL;
}

#define RELEASE_STEP (16ull << 20)
#define WINDOW_ITEMS 24
#define WINDOW_SLACK (64u << 10)

/* --- reading ahead ---
 *
 * A sweep copies each dense bucket of the heap into the image's window with
 * pread; that copy is a third of the walk's time.  With two jobs or more a
 * reader thread copies the next dense bucket into a buffer of its own while
 * the current one is drained, and the buffer becomes the window
 * (image_window_swap) when the sweep gets there.  The bytes are the ones
 * image_window would have read, so nothing the walk reports changes; the
 * reader touches nothing but its buffer and image_pread.  One request is
 * outstanding at a time; where the sweep is bound by reading, the walker
 * reads every other dense bucket itself (ask_next's leap). */
enum { AHEAD_IDLE, AHEAD_ASKED, AHEAD_DONE };

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* A running mean of the last few samples (the walk's cost model: how long
 * a visit and a window read take; it decides who reads, never what). */
static void cost_note(double *avg, double x)
{
	*avg += (x - *avg) / 8;
}
struct wahead {
	const struct image *img;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	int state;                /* AHEAD_*, under mu */
	uint64_t lo, hi;          /* the range asked for */
	size_t got;               /* bytes read (0: the read failed) */
	uint64_t read_ns;         /* how long that read took */
	uint8_t *buf;             /* owned by the reader while ASKED */
	size_t cap;
};

static void *ahead_main(void *arg)
{
	struct wahead *a = arg;
	pthread_mutex_lock(&a->mu);
	for (;;) {
		while (!a->stop && a->state != AHEAD_ASKED)
			pthread_cond_wait(&a->cv, &a->mu);
		if (a->stop)
			break;
		uint64_t lo = a->lo, hi = a->hi;
		pthread_mutex_unlock(&a->mu);
		uint64_t t0 = now_ns();
		size_t got = image_pread(a->img, lo, a->buf, (size_t)(hi - lo));
		uint64_t t1 = now_ns();
		pthread_mutex_lock(&a->mu);
		a->got = got;
		a->read_ns = t1 - t0;
		a->state = AHEAD_DONE;
		pthread_cond_broadcast(&a->cv);
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

/* Starts the reader (best effort: without it every window is read in
 * line).  Only once image_pread has read something on this thread, so that
 * the core file is open before two threads read it. */
static void ahead_start(struct walk *w)
{
	uint8_t probe[16];
	if (w->ahead || !w->h || heap_jobs(w->h) < 2 || w->regions.len == 0 ||
	    image_pread(w->img, w->regions.data[0].start, probe, sizeof probe) == 0)
		return;
	struct wahead *a = calloc(1, sizeof *a);
	if (!a)
		return;
	a->img = w->img;
	a->cap = (1ull << WQ_SHIFT) + WINDOW_SLACK;
	if (!(a->buf = malloc(a->cap)) || pthread_mutex_init(&a->mu, NULL) != 0) {
		free(a->buf);
		free(a);
		return;
	}
	if (pthread_cond_init(&a->cv, NULL) != 0) {
		pthread_mutex_destroy(&a->mu);
		free(a->buf);
		free(a);
		return;
	}
	if (pthread_create(&a->th, NULL, ahead_main, a) != 0) {
		pthread_cond_destroy(&a->cv);
		pthread_mutex_destroy(&a->mu);
		free(a->buf);
		free(a);
		return;
	}
	w->ahead = a;
}

static void ahead_stop(struct walk *w)
{
	struct wahead *a = w->ahead;
	if (!a)
		return;
	pthread_mutex_lock(&a->mu);
	a->stop = true;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
	pthread_join(a->th, NULL);
	pthread_cond_destroy(&a->cv);
	pthread_mutex_destroy(&a->mu);
	free(a->buf);
	free(a);
	w->ahead = NULL;
}

/* Waits for the outstanding read, if any; the state is then IDLE or DONE. */
static void ahead_wait(struct wahead *a)
{
	pthread_mutex_lock(&a->mu);
	while (a->state == AHEAD_ASKED)
		pthread_cond_wait(&a->cv, &a->mu);
	pthread_mutex_unlock(&a->mu);
}

/* Asks for [lo, hi) unless that is already asked for or read; a read asked
 * for earlier that the sweep has passed is dropped.  A read running or done
 * for a bucket ahead is left alone (the sweep gets there later). */
static void ahead_ask(struct wahead *a, uint64_t lo, uint64_t hi, uint64_t now)
{
	pthread_mutex_lock(&a->mu);
	if (a->state != AHEAD_IDLE && a->lo == lo && a->hi == hi) {
		pthread_mutex_unlock(&a->mu);
		return;
	}
	if (a->state != AHEAD_IDLE && a->lo > now) {
		pthread_mutex_unlock(&a->mu);
		return;
	}
	while (a->state == AHEAD_ASKED)
		pthread_cond_wait(&a->cv, &a->mu);
	if (hi - lo <= a->cap) {
		a->lo = lo;
		a->hi = hi;
		a->got = 0;
		a->state = AHEAD_ASKED;
		pthread_cond_broadcast(&a->cv);
	} else {
		a->state = AHEAD_IDLE;
	}
	pthread_mutex_unlock(&a->mu);
}

/* The window [lo, hi): from the reader when it read exactly that range,
 * else read in line. */
static void window_read(struct walk *w, uint64_t lo, uint64_t hi)
{
	struct wahead *a = w->ahead;
	if (a) {
		pthread_mutex_lock(&a->mu);
		bool mine = a->state != AHEAD_IDLE && a->lo == lo && a->hi == hi;
		pthread_mutex_unlock(&a->mu);
		if (mine) {
			ahead_wait(a);
			cost_note(&w->ns_read, (double)a->read_ns);
			/* DONE: the buffer is the walker's again */
			bool ok = a->got && image_window_swap(w->img, lo, a->got, &a->buf, &a->cap);
			if (!a->buf || a->cap < hi - lo) {
				/* the old window was smaller: the reader needs a full buffer */
				uint8_t *nb = realloc(a->buf, (size_t)(hi - lo));
				if (nb) {
					a->buf = nb;
					a->cap = (size_t)(hi - lo);
				}
			}
			pthread_mutex_lock(&a->mu);
			a->state = AHEAD_IDLE;
			pthread_mutex_unlock(&a->mu);
			if (ok)
				return;
		}
	}
	uint64_t t0 = now_ns();
	image_window(w->img, lo, hi);
	cost_note(&w->ns_read, (double)(now_ns() - t0));
}

int walk_create(struct walk **out, struct dec *d, struct err *e)
{
	struct walk *w = calloc(1, sizeof *w);
	if (!w) {
		dec_destroy(d);
		return err_set(e, ERR_NOMEM, "out of memory creating the walker");
	}
	w->d = d;
	w->img = d->img;
	w->t = d->t;
	w->h = d->h;
	if ((w->h && regions_build(w) != 0) || !(w->q = calloc(++w->nq, sizeof *w->q))) {
		walk_destroy(w);
		return err_set(e, ERR_NOMEM, "out of memory for the walker's tables");
	}
	/* path id 0 is the empty path */
	if (walk_path_child(w, UINT32_MAX, "") != WALK_PATH_ROOT || walk_path_seq(w) != 0) {
		walk_destroy(w);
		return err_set(e, ERR_NOMEM, "out of memory for field paths");
	}
	*out = w;
	return 0;
}

void walk_destroy(struct walk *w)
{
	if (!w)
		return;
	ahead_stop(w);
	for (size_t i = 0; i < w->regions.len; i++)
		free(w->regions.data[i].bits);
	wregion_vec_deinit(&w->regions);
	wchunk_vec_deinit(&w->big);
	for (size_t k = 0; w->q && k < w->nq; k++)
		for (struct wblock *b = w->q[k], *nb; b; b = nb) {
			nb = b->next;
			free(b);
		}
	for (struct wblock *b = w->free_blocks, *nb; b; b = nb) {
		nb = b->next;
		free(b);
	}
	free(w->q);
	wctx_vec_deinit(&w->ctxs);
	wtree_vec_deinit(&w->trees);
	walk_mem_set_deinit(&w->extra_seen);
	wnodec_vec_deinit(&w->nodec);
	walk_nodecoder_vec_deinit(&w->nodec_sum);
	walk_path_free(w);
	dec_destroy(w->d);
	free(w);
}

struct dec *walk_dec(struct walk *w) { return w->d; }
void walk_set_op_type(struct walk *w, type_id op_type) { dec_set_op_type(w->d, op_type); }
void walk_set_callbacks(struct walk *w, const struct walk_callbacks *cb) { w->cb = *cb; }
void walk_get_stats(const struct walk *w, struct walk_stats *s) { *s = w->st; }
const struct version_facts *walk_versions(const struct walk *w) { return dec_versions(w->d); }
void walk_reset_stats(struct walk *w) { memset(&w->st, 0, sizeof w->st); }

void walk_unreadable(struct walk *w, uint64_t addr, const char *what)
{
	if (w->st.unreadable++ == 0) {
		w->st.first_unreadable = addr;
		snprintf(w->st.first_unreadable_what, sizeof w->st.first_unreadable_what, "%s", what);
	}
}

/* --- the set of allocations outside the census (validated by header) --- */

/* True when mem was not yet in the set (it is now); false when it was, or
 * when memory ran out (the allocation is then treated as seen: not walked
 * twice, never walked in a loop). */
static bool extra_insert(struct walk *w, uint64_t mem)
{
	bool inserted;
	uint64_t *e = walk_mem_set_insert(&w->extra_seen, mem, &inserted);
	if (!e)
		return false;
	*e = mem;
	return inserted;
}

void walk_mark_seen(struct walk *w, uint64_t mem)
{
	unsigned sh;
	uint64_t *word = mark_at(w, mem, &sh, NULL, NULL);
	if (word)
		*word |= 2ull << sh;
	else
		extra_insert(w, mem);
}

static int revisit(struct walk *w, bool shared, uint64_t chunk, uint64_t mem)
{
	if (shared) {
		w->st.shared_revisits++;
		w->st.shared_bytes += chunk;
		if (w->cb.on_shared_again)
			w->cb.on_shared_again(w->cb.ctx, mem, chunk, w->in_op ? w->op_tok : WALK_NO_OP);
	}
	else
		w->st.revisits++;
	return 0;
}

int walk_alloc(struct walk *w, uint64_t mem, uint64_t requested, uint64_t used,
	       enum walk_kind kind, bool shared)
{
	struct walk_alloc a = {.mem = mem, .requested = requested, .used = used,
			       .kind = (uint8_t)kind, .shared = shared, .in_census = true};
	unsigned sh;
	const struct wregion *r = NULL;
	uint64_t g = 0, size = 0;
	uint64_t *word = mark_at(w, mem, &sh, &r, &g);
	const struct heap_chunk *big;

	if (word && (size = scan_size(r, g)) >= 32) {
		/* an in-use chunk of the census, sized from the mark map (its
		 * header is not read again: that would touch its page out of
		 * address order); usable is size - 8 (not mmapped) */
		if (size - 8 < requested) {
			walk_unreadable(w, mem, "chunk smaller than the layout");
			return 0;
		}
		if (*word & (2ull << sh))
			return revisit(w, shared, size, mem);
		*word |= 2ull << sh;
		a.chunk = size;
		a.usable = size - 8;
	} else if ((big = big_find(w, mem))) {
		/* in use but not in the mark map (mmapped) */
		if (heap_usable(big) < requested) {
			walk_unreadable(w, mem, "chunk smaller than the layout");
			return 0;
		}
		if (!extra_insert(w, mem))
			return revisit(w, shared, big->size, mem);
		a.chunk = big->size;
		a.usable = heap_usable(big);
	} else if (word || (r && ((r->bits[g >> 5] >> ((g & 31) * 2)) & 3))) {
		/* a chunk boundary of the census that is not an in-use chunk */
		walk_unreadable(w, mem, word ? "chunk of no size in the census" : "pointer to a free chunk");
		return 0;
	} else {
		struct heap_chunk c;
		if (heap_chunk_at(w->h, mem, &c, NULL) != 0 || heap_usable(&c) < requested) {
			walk_unreadable(w, mem, "pointer that is not a heap chunk");
			return 0;
		}
		if (!extra_insert(w, mem))
			return revisit(w, shared, c.size, mem);
		a.chunk = c.size;
		a.usable = heap_usable(&c);
		a.in_census = false;
		w->st.not_in_census++;
	}
	a.path = walk_path_current(w);
	w->st.allocations++;
	a.tag = w->tag;
	if (w->cb.on_alloc)
		w->cb.on_alloc(w->cb.ctx, &a, w->in_op ? w->op_tok : WALK_NO_OP);
	/* what a shared allocation owns may carry a token of its own (until
	 * walk_val restores the op's) */
	if (shared && w->in_op && w->cb.on_shared)
		w->op_tok = w->cb.on_shared(w->cb.ctx, &a, w->op_tok);
	return 1;
}

/* --- traversal --- */

static bool skip_segment(const char *name)
{
	return !name || !*name || (name[0] == '_' && name[1] == '_');
}

/* A struct's plan: the members that can own heap, their resolved types and
 * path segments, in member order, so that visiting a value is a loop over
 * them rather than a resolve and an ownership test per member.  It is
 * recorded by the first visit, which asks the same questions in the same
 * order as every visit did before (the classification's side effects, the
 * version facts, keep their order), and only when every answer was final
 * (a type whose ownership was still being computed, or was cut by the depth
 * bound, leaves the struct without a plan).  A plan holds for the op type it
 * was made under. */

static void walk_members(struct walk *w, uint64_t base, type_id id, const struct types_type *ty)
{
	const char *owner = w->owner;
	struct dec_plan *pl = dec_plan_slot(w->d, id);
	w->owner = ty->name;
	if (pl && pl->state == DEC_PLAN_READY && pl->op_type == w->d->op_type) {
		for (uint32_t i = 0; i < pl->n; i++) {
			const struct dec_plan_member *m = &pl->m[i];
			if (m->seg)
				walk_push(w, m->seg);
			walk_val_wt(w, base + m->offset, m->type, m->wt);
			if (m->seg)
				walk_pop(w);
		}
		w->owner = owner;
		return;
	}
	/* the first visit (or one without a plan): records one as it goes */
	bool record = pl && pl->state == DEC_PLAN_NONE && ty->nmembers <= DEC_PLAN_MAX_MEMBERS;
	struct dec_plan_member *rec = NULL;
	uint32_t nrec = 0;
	if (record) {
		pl->state = DEC_PLAN_BUILDING;   /* a visit of the same struct inside this one takes the slow path */
		rec = ty->nmembers ? malloc(sizeof *rec * ty->nmembers) : NULL;
		record = rec || !ty->nmembers;
	}
	for (uint32_t i = 0; i < ty->nmembers; i++) {
		const struct types_member *m = &ty->members[i];
		type_id mt = types_resolve(w->t, m->type);
		bool owns = dec_owns(w->d, mt);
		if (record && mt != w->d->op_type && mt != 0 && mt < w->d->ntypes && !dec_owns_final(w->d, mt))
			record = false;   /* not a final answer */
		if (!owns)
			continue;
		bool seg = !skip_segment(m->name);
		if (record) {
			const struct dec_type *mwt = dec_type_info(w->d, mt);
			if (mwt)
				rec[nrec++] = (struct dec_plan_member){.offset = m->offset, .type = mt,
								       .seg = seg ? m->name : NULL, .wt = mwt};
			else
				record = false;
		}
		if (seg)
			walk_push(w, m->name);
		walk_val(w, base + m->offset, mt);
		if (seg)
			walk_pop(w);
	}
	if (pl && pl->state == DEC_PLAN_BUILDING) {
		if (record && dec_plan_record(w->d, id, rec, nrec, w->d->op_type))
			rec = NULL;
		else
			pl->state = DEC_PLAN_NONE;
	}
	free(rec);
	w->owner = owner;
}

/* A raw pointer met outside every container: when it points at the start of
 * an in-use heap chunk, remember the chunk (walk_drain keeps it if no decoder
 * reported it by then). */
static void rawptr_seen(struct walk *w, uint64_t addr, type_id id, const struct dec_type *wt)
{
	uint64_t p, g, size = 0;
	unsigned sh;
	const struct wregion *r;
	const struct heap_chunk *big;
	if (!dec_u64(w->d, addr + wt->l.raw.ptr, &p) || p == 0)
		return;
	if (mark_at(w, p, &sh, &r, &g))
		size = scan_size(r, g);
	else if ((big = big_find(w, p)))
		size = big->size;
	if (size == 0)
		return;   /* not the start of an in-use chunk: not heap this tool can count */
	const struct types_type *tt = types_get(w->t, id);
	struct wnodec *n = wnodec_vec_push(&w->nodec);
	if (!n) {
		w->oom = true;
		return;
	}
	*n = (struct wnodec){p, size, w->owner ? w->owner : tt ? tt->name : "?", walk_path_current(w)};
}

/* Rows of walk_nodecoder by (type, path). */
struct nodec_key {
	const char *type;
	uint32_t path;
};
struct nodec_row {
	struct nodec_key key;
	size_t index;   /* in nodec_sum */
};
static inline uint64_t nodec_hash(struct nodec_key k)
{
	return container_hash_u64((uint64_t)(uintptr_t)k.type ^ ((uint64_t)k.path << 40));
}
static inline bool nodec_eq(struct nodec_key a, struct nodec_key b) { return a.type == b.type && a.path == b.path; }
#define NODEC_KEY(e) ((e)->key)
DEFINE_HASH_TABLE(nodec_rows, struct nodec_row, struct nodec_key, NODEC_KEY, nodec_hash, nodec_eq)

static int nodec_cmp(const void *a, const void *b)
{
	const struct walk_nodecoder *x = a, *y = b;
	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	int c = strcmp(x->type, y->type);
	return c ? c : (x->path > y->path) - (x->path < y->path);
}

/* Keeps, once each, the raw-pointer targets that no decoder reported, and
 * sums them by (type, field path), largest first. */
static void nodec_finish(struct walk *w)
{
	struct walk_mem_set once;
	struct nodec_rows rows;
	walk_mem_set_init(&once);
	nodec_rows_init(&rows);
	for (size_t i = 0; i < w->nodec.len; i++) {
		const struct wnodec *n = &w->nodec.data[i];
		unsigned sh;
		uint64_t *word = mark_at(w, n->mem, &sh, NULL, NULL);
		bool inserted;
		if ((word && (*word & (2ull << sh))) || walk_mem_set_find(&w->extra_seen, n->mem))
			continue;   /* a decoder owns it after all */
		uint64_t *e = walk_mem_set_insert(&once, n->mem, &inserted);
		if (!e) {
			w->oom = true;
			break;
		}
		*e = n->mem;
		if (!inserted)
			continue;
		w->st.nodecoder++;
		w->st.nodecoder_bytes += n->chunk;
		struct nodec_key k = {n->type, n->path};
		struct nodec_row *row = nodec_rows_insert(&rows, k, &inserted);
		if (!row || (inserted && !walk_nodecoder_vec_append(&w->nodec_sum,
								    (struct walk_nodecoder){n->type, n->path, 0, 0}))) {
			w->oom = true;
			break;
		}
		if (inserted) {
			row->key = k;
			row->index = w->nodec_sum.len - 1;
		}
		w->nodec_sum.data[row->index].bytes += n->chunk;
		w->nodec_sum.data[row->index].allocations++;
	}
	walk_mem_set_deinit(&once);
	nodec_rows_deinit(&rows);
	wnodec_vec_deinit(&w->nodec);
	if (w->nodec_sum.len > 1)
		qsort(w->nodec_sum.data, w->nodec_sum.len, sizeof *w->nodec_sum.data, nodec_cmp);
}

size_t walk_nodecoder_count(const struct walk *w) { return w->nodec_sum.len; }

const struct walk_nodecoder *walk_nodecoder_at(const struct walk *w, size_t i)
{
	return i < w->nodec_sum.len ? &w->nodec_sum.data[i] : NULL;
}

/* Whether a variant adds its name to the path (Some and Ok do not). */
static inline bool variant_seg(const char *n)
{
	return !((n[0] == 'S' && n[1] == 'o' && n[2] == 'm' && n[3] == 'e' && !n[4]) ||
		 (n[0] == 'O' && n[1] == 'k' && !n[2]));
}

static void walk_enum(struct walk *w, uint64_t addr, type_id id, const struct dec_type *wt,
		      const struct types_type *ty, bool is_op)
{
	unsigned char tmp[512];
	uint32_t vi;
	const void *b = dec_bytes(w->d, addr, ty->size, tmp, sizeof tmp);

	if (!b) {
		walk_unreadable(w, addr, "enum value not readable");
		return;
	}
	if (dec_enum_variant_wt(w->d, id, wt, ty, b, ty->size, &vi) != 0) {
		walk_unreadable(w, addr, "enum tag matches no variant");
		return;
	}
	const struct types_variant *v = &ty->vpart->variants[vi];
	if (is_op) {
		struct walk_op_site site = {.addr = addr, .holder = w->holder, .index = w->index,
					    .key_addr = w->key_addr, .key_type = w->key_type,
					    .variant = vi, .tag = w->tag};
		int saved = w->nseg;
		w->nseg = 0;
		w->in_op = true;
		w->op_tok = w->cb.on_op ? w->cb.on_op(w->cb.ctx, &site) & ~WI_IN_OP : 0;
		walk_push(w, v->name);
		type_id vid = wt->l.en.vty ? wt->l.en.vty[vi] : types_resolve(w->t, v->type);
		const struct types_type *vt = types_get(w->t, vid);
		if (vt)
			walk_members(w, addr + v->offset, vid, vt);
		w->in_op = false;
		w->nseg = saved;
		return;
	}
	type_id vid = wt->l.en.vty ? wt->l.en.vty[vi] : types_resolve(w->t, v->type);
	const struct types_type *vt = types_get(w->t, vid);
	/* a variant whose fields own nothing (None, a unit variant; the answer
	 * final, so every question its first visit asks was asked) is not
	 * entered: nothing in it is reported or queued */
	if (vt && !(dec_owns_final(w->d, vid) && !dec_owns(w->d, vid))) {
		bool seg = variant_seg(v->name);
		if (seg)
			walk_push(w, v->name);
		walk_members(w, addr + v->offset, vid, vt);
		if (seg)
			walk_pop(w);
	}
	if (ty->nmembers)
		walk_members(w, addr, id, ty);   /* members outside the variant part, if any */
}

/* The profile's visit of a thin Box, a Vec or a String (most of the
 * containers a walk meets), in line: what walk_container does for them
 * (dec_decode's decode_box / decode_vec, visit_alloc, visit_view) without
 * building the view, in the same order.  False when the header needs the
 * general path (unreadable, implausible, a null or zero-sized pointee):
 * that one reports why. */
static bool walk_container_fast(struct walk *w, uint64_t addr, const struct dec_type *wt)
{
	uint64_t ptr, cap, len, es = wt->elem_size;
	if (!wt->dec || !es)
		return false;
	switch (wt->cls) {
	case CLS_BOX:
		if (wt->l.box.fat != FAT_THIN || !dec_u64(w->d, addr + wt->l.box.ptr, &ptr) || !ptr)
			return false;
		if (walk_alloc(w, ptr, es, es, WALK_BOX, false) && dec_owns(w->d, wt->elem))
			walk_defer(w, WI_POINTEE, ptr, 1, 0, wt->elem);
		return true;
	case CLS_VEC:
	case CLS_STRING: {
		const struct vec_layout *l = &wt->l.vec;
		uint64_t sz = wt->ty->size;
		const unsigned char *h = l->cap <= sz - 8 && l->ptr <= sz - 8 && l->len <= sz - 8 && sz >= 8 ?
					 image_ptr(w->img, addr, sz) : NULL;
		if (h) {   /* the header in one look-up */
			memcpy(&cap, h + l->cap, 8);
			memcpy(&ptr, h + l->ptr, 8);
			memcpy(&len, h + l->len, 8);
		} else if (!dec_u64(w->d, addr + l->cap, &cap) || !dec_u64(w->d, addr + l->ptr, &ptr) ||
			   !dec_u64(w->d, addr + l->len, &len)) {
			return false;
		}
		if (!dec_elems_ok(w->d, wt, cap, len))
			return false;
		if (cap == 0)
			return true;   /* no buffer */
		if (walk_alloc(w, ptr, cap * es, len * es, wt->cls == CLS_STRING ? WALK_STRING : WALK_VEC, false) &&
		    wt->elem && dec_owns(w->d, wt->elem) && len)
			walk_defer(w, WI_ELEMS, ptr, len, 0, wt->elem);
		return true;
	}
	default:
		return false;
	}
}

int walk_val(struct walk *w, uint64_t addr, type_id id)
{
	const struct dec_type *wt = dec_type_info(w->d, id);
	if (wt)
		walk_val_wt(w, addr, id, wt);
	return 0;
}

void walk_val_wt(struct walk *w, uint64_t addr, type_id id, const struct dec_type *wt)
{
	if (w->depth >= WALK_MAX_DEPTH || w->nseg >= WALK_MAX_DEPTH) {
		w->st.depth_limited++;
		return;
	}
	bool is_op = id == w->d->op_type && !w->in_op;
	if (!is_op && !dec_owns_wt(w->d, id, wt))
		return;
	w->depth++;
	w->st.values++;
	switch (wt->cls) {
	case CLS_STRUCT:
		walk_members(w, addr, id, wt->ty);
		break;
	case CLS_ENUM:
		walk_enum(w, addr, id, wt, wt->ty, is_op);
		break;
	case CLS_ARRAY: {
		uint64_t n = wt->ty->count;
		/* a count from hostile DWARF: the array must fit in the core */
		if (wt->elem_size && n > image_core_size(w->img) / wt->elem_size) {
			walk_unreadable(w, addr, "array longer than the core (DW_AT_count)");
			break;
		}
		walk_push(w, "[*]");
		for (uint64_t i = 0; i < n; i++)
			walk_val(w, addr + i * wt->elem_size, wt->elem);
		walk_pop(w);
		break;
	}
	case CLS_PLAIN:
		break;
	case CLS_BAD:
		walk_unreadable(w, addr, "container whose fields are not in the DWARF");
		break;
	case CLS_RAWPTR:
		rawptr_seen(w, addr, id, wt);
		break;
	default: {
		uint32_t tok = w->op_tok;   /* a shared allocation may hand its contents another token */
		if (!walk_container_fast(w, addr, wt))
			walk_container(w, addr, id, wt);
		w->op_tok = tok;
	}
	}
	w->depth--;
}

/* --- the address-ordered queue --- */

static size_t bucket_of(struct walk *w, uint64_t mem)
{
	const struct wregion *r = region_of(w, mem);
	return r ? r->bucket0 + (size_t)((mem - r->start) >> WQ_SHIFT) : w->nq - 1;
}

/* The context of a queued visit made outside any op (consecutive visits
 * from one place share it). */
static uint32_t ctx_save(struct walk *w)
{
	struct wctx c = {w->holder, w->index, w->key_addr, w->key_type, w->tag};
	if (w->ctxs.len && memcmp(&w->ctxs.data[w->ctxs.len - 1], &c, sizeof c) == 0)
		return (uint32_t)(w->ctxs.len - 1);
	if (w->ctxs.len >= WI_IN_OP - 1 || !wctx_vec_append(&w->ctxs, c))
		return UINT32_MAX;
	return (uint32_t)(w->ctxs.len - 1);
}

void walk_defer(struct walk *w, unsigned kind, uint64_t mem, uint64_t n, uint32_t b, type_id type)
{
	uint32_t ctx = w->in_op ? WI_IN_OP | w->op_tok : ctx_save(w);
	size_t k = bucket_of(w, mem);
	struct wblock *blk = w->q[k];
	if (ctx == UINT32_MAX) {
		w->oom = true;
		return;
	}
	if (!blk || blk->n == WBLOCK_ITEMS) {
		struct wblock *nb = w->free_blocks;
		if (nb)
			w->free_blocks = nb->next;
		else if (!(nb = malloc(sizeof *nb))) {
			w->oom = true;
			return;
		}
		nb->n = 0;
		nb->next = blk;
		w->q[k] = blk = nb;
	}
	blk->it[blk->n++] = (struct witem){.mem = mem, .n = n, .b = b, .type = type,
					   .seq = walk_path_seq(w) | (uint32_t)kind << WI_KIND_SHIFT,
					   .ctx = ctx};
	w->qlen++;
	w->st.queued++;
	if (w->qlen > w->st.queue_peak)
		w->st.queue_peak = w->qlen;
}

uint32_t walk_tree_new(struct walk *w, uint64_t addr, uint64_t length, bool list)
{
	if (w->trees.len >= UINT32_MAX - 1 || !wtree_vec_append(&w->trees, (struct wtree){addr, length, 0, list}))
		return UINT32_MAX;
	return (uint32_t)(w->trees.len - 1);
}

static void run_item(struct walk *w, const struct witem *it)
{
	walk_path_restore(w, it->seq & ((1u << WI_KIND_SHIFT) - 1));
	w->depth = 0;
	if (it->ctx & WI_IN_OP) {
		w->in_op = true;
		w->op_tok = it->ctx & ~WI_IN_OP;
		w->holder = w->index = w->key_addr = 0;
		w->key_type = 0;
		w->tag = 0;
	} else {
		const struct wctx *c = &w->ctxs.data[it->ctx];
		w->in_op = false;
		w->holder = c->holder;
		w->index = c->index;
		w->key_addr = c->key_addr;
		w->key_type = c->key_type;
		w->tag = c->tag;
	}
	walk_container_item(w, it, it->seq >> WI_KIND_SHIFT);
}

#define PREFETCH_AHEAD 4

/* Moves bucket k's first block to the free list (its visits are done or
 * dropped). */
static void pop_block(struct walk *w, size_t k)
{
	struct wblock *b = w->q[k];
	w->q[k] = b->next;
	b->next = w->free_blocks;
	w->free_blocks = b;
}

/* Runs bucket k's visits, the last queued first (their order within a
 * bucket does not matter: sorting them by address cost more than it saved);
 * the mean time of a visit is noted (read_bound). */
/* A visit of a sparse bucket reads its own chunk with one small pread: a
 * 1 MiB window read for a few visits copies mostly what nobody asked for
 * (a 1 MiB pread costs ~25 small ones here), and the mmap faults a page at
 * a time (10-20 us a fault under a hypervisor that shadows page tables).
 * Nothing the walk reports depends on which copy of the core's bytes a read
 * is served from. */
#define ITEM_WINDOW_MIN (8u << 10)
static void item_window(struct walk *w, uint64_t mem)
{
	unsigned sh;
	const struct wregion *r;
	uint64_t g;
	if (!mark_at(w, mem, &sh, &r, &g))
		return;
	uint64_t size = scan_size(r, g);
	if (!size || size > (1ull << WQ_SHIFT))
		return;
	if (w->iw_gen == image_window_gen(w->img) && mem >= w->iw_lo && mem + size <= w->iw_hi)
		return;
	uint64_t lo = mem & ~4095ull, hi = (mem + size + 4095) & ~4095ull;
	if (hi - lo < ITEM_WINDOW_MIN)
		hi = lo + ITEM_WINDOW_MIN;
	if (image_window(w->img, lo, hi)) {
		w->iw_lo = lo;
		w->iw_hi = hi;
		w->iw_gen = image_window_gen(w->img);
	}
}

static void drain_bucket(struct walk *w, size_t k, bool per_item)
{
	uint64_t t0 = now_ns(), runs = 0;
	for (;;) {
		struct wblock *b = w->q[k];
		if (!b)
			break;
		if (b->n == 0) {
			pop_block(w, k);
			continue;
		}
		struct witem it = b->it[--b->n];
		w->qlen--;
		/* start loading a later visit's first bytes while this one runs */
		if (b->n >= PREFETCH_AHEAD) {
			const struct witem *nx = &b->it[b->n - PREFETCH_AHEAD];
			const void *pf = image_ptr(w->img, nx->mem, 64);
			if (pf)
				__builtin_prefetch(pf);
			if ((nx->ctx & WI_IN_OP) && w->cb.on_op_soon)
				w->cb.on_op_soon(w->cb.ctx, nx->ctx & ~WI_IN_OP);
		}
		if (per_item)
			item_window(w, it.mem);
		run_item(w, &it);
		runs++;
	}
	if (runs && !per_item)
		cost_note(&w->ns_visit, (double)(now_ns() - t0) / (double)runs);
}


/* The visits queued in bucket k, counted up to cap. */
static uint64_t bucket_items(const struct walk *w, size_t k, uint64_t cap)
{
	uint64_t items = 0;
	for (const struct wblock *b = w->q[k]; b && items < cap; b = b->next)
		items += b->n;
	return items;
}

/* A bucket with WINDOW_ITEMS visits or more is read with one pread. */
static bool bucket_dense(const struct walk *w, size_t k)
{
	return bucket_items(w, k, WINDOW_ITEMS) >= WINDOW_ITEMS;
}

#define AHEAD_LOOK 64

/* True when draining a dense bucket of this many visits takes less time
 * than reading a window (both measured as the walk goes): the sweep is then
 * bound by reading, and the walker reads every other window itself while
 * the reader reads the others (the bytes are the same whoever reads them).
 * Without it the walker of the benchmark core waited 2.6 s for the reader
 * in the sparse sweeps. */
static bool read_bound(const struct walk *w, uint64_t items)
{
	return (double)items * w->ns_visit < w->ns_read;
}

/* Asks the reader for the next dense bucket of region r from bucket i on,
 * or with leap the one after it (the walker reads the next in line); a
 * few dozen buckets ahead at most (visits queued meanwhile into a bucket in
 * between only make that one read in line). */
static void ask_next(struct walk *w, size_t r, size_t i, uint64_t now, bool leap)
{
	const struct wregion *rg = &w->regions.data[r];
	size_t nb = (size_t)((rg->end - rg->start) >> WQ_SHIFT) + 1;
	for (size_t k = i; k < nb && k < i + AHEAD_LOOK; k++)
		if (w->q[rg->bucket0 + k] && bucket_dense(w, rg->bucket0 + k)) {
			if (leap) {
				leap = false;
				continue;
			}
			uint64_t base = rg->start + ((uint64_t)k << WQ_SHIFT);
			ahead_ask(w->ahead, base, base + (1ull << WQ_SHIFT) + WINDOW_SLACK, now);
			return;
		}
}

/* Sweeps the heap in address order until nothing is queued.  A bucket with
 * WINDOW_ITEMS visits or more is read with one pread into the image's window
 * (by the reader thread, or in line: read_bound); a sparser one a visit at a
 * time (item_window).  What is read through the mmap all the same (buffers
 * past the window, chunks outside the mark map) is given back behind the
 * sweep. */
static void drain(struct walk *w)
{
	ahead_start(w);
	if (w->ns_read == 0) {   /* first guesses: a 1 MiB pread, a visit */
		w->ns_read = 200000;
		w->ns_visit = 500;
	}
	while (w->qlen && !w->oom && !w->d->oom) {
		w->st.sweeps++;
		for (size_t r = 0; r < w->regions.len; r++) {
			const struct wregion *rg = &w->regions.data[r];
			size_t nb = (size_t)((rg->end - rg->start) >> WQ_SHIFT) + 1;
			uint64_t released = rg->start;
			bool any = false;
			for (size_t i = 0; i < nb; i++) {
				if (!w->q[rg->bucket0 + i])
					continue;
				uint64_t base = rg->start + ((uint64_t)i << WQ_SHIFT);
				if (base - released >= RELEASE_STEP) {
					image_release(w->img, released, base);
					released = base;
				}
				/* a bucket with many visits is read with one pread
				 * (and a little past its end, where its last buffers
				 * end); a sparse one takes its few page faults */
				uint64_t items = bucket_items(w, rg->bucket0 + i, UINT32_MAX);
				bool sparse = items < WINDOW_ITEMS;
				if (!sparse) {
					window_read(w, base, base + (1ull << WQ_SHIFT) + WINDOW_SLACK);
					if (w->ahead)
						ask_next(w, r, i + 1, base, read_bound(w, items));
				}
				/* one check for the bucket: its visits need none of their own
				 * when the core holds every byte around it */
				w->bucket_whole = image_missing(w->img, base, (1ull << WQ_SHIFT) + WINDOW_SLACK) == 0;
				drain_bucket(w, rg->bucket0 + i, sparse);
				w->bucket_whole = false;
				any = true;
			}
			if (any)
				image_release(w->img, released, rg->end);
		}
		drain_bucket(w, w->nq - 1, false);
	}
}

void walk_set_tag(struct walk *w, uint32_t tag) { w->tag = tag; }

void walk_queue(struct walk *w, uint64_t addr, type_id ty)
{
	walk_val(w, addr, types_resolve(w->t, ty));
}

int walk_drain(struct walk *w)
{
	/* the contract of walk_elements' callbacks (walk.h): they may queue, not
	 * drain, so the iteration's container is never read behind a sweep */
	assert(w->iterating == 0);
	drain(w);
	/* the last queued visit may have been inside an op */
	w->in_op = false;
	w->holder = w->index = w->key_addr = 0;
	w->key_type = 0;
	w->nseg = 0;
	nodec_finish(w);
	for (size_t i = 0; i < w->trees.len; i++)
		if (w->trees.data[i].count != w->trees.data[i].length)
			walk_unreadable(w, w->trees.data[i].addr, w->trees.data[i].list ? "LinkedList length disagrees with its nodes"
									    : "BTreeMap length disagrees with its nodes");
	w->trees.len = 0;
	w->ctxs.len = 0;
	if (w->d->oom) {   /* a version fact could not be recorded: the walk was cut short too */
		w->d->oom = false;
		w->oom = true;
	}
	if (!w->oom)
		return 0;
	/* what is still queued refers to contexts just dropped */
	for (size_t k = 0; k < w->nq; k++)
		while (w->q[k])
			pop_block(w, k);
	w->qlen = 0;
	w->oom = false;
	return ERR_NOMEM;
}

int walk_value(struct walk *w, uint64_t addr, type_id ty)
{
	walk_queue(w, addr, ty);
	return walk_drain(w);
}
