/* roots.c: finding the value a walk starts from (see include/roots.h).
 * Seeing through a static's wrappers (OnceLock, Mutex, Arc, ...) is the
 * decode layer's dec_unwrap, called directly. */
#include "roots.h"
#include "arr.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CANDIDATES 8
#define MAX_KINDS 64                      /* Arc/Rc-held types a type scan looks for */
#define REFCOUNT_MAX (1ull << 32)   /* a plausible Arc strong/weak count */
#define STACK_SCAN_MAX (64ull << 20)
#define RELEASE_STEP (16ull << 20)        /* the scan gives back pages this far behind it */
#define SCAN_WINDOW (1ull << 20)          /* and reads candidates this much at a time */
#define STATICS_SCAN_MAX (256ull << 20)   /* statics spread wider are not scanned for evidence */

int roots_symbol(struct dec *d, const char *name, struct roots_result *out, struct err *e)
{
	const struct image *img = dec_image(d);
	const struct types *t = dec_types(d);
	const struct types_static *s;
	int rc = types_static_lookup(t, name, &s, e);
	if (rc)
		return rc;
	uint64_t addr = s->addr + image_bias(img);
	if (!image_mapped(img, addr, 1))
		return err_set(e, ERR_INPUT, "static %s at 0x%" PRIx64 " is not in the core", s->name, addr);
	rc = dec_unwrap(d, addr, s->type, &out->addr, &out->type, e);
	if (rc)
		return err_wrap(e, rc, "root %s", s->name);
	const struct types_type *tt = types_get(t, out->type);
	snprintf(out->how, sizeof out->how, "static %s at 0x%" PRIx64 " (link 0x%" PRIx64 " + bias 0x%" PRIx64
		 "), value %s at 0x%" PRIx64, s->name, addr, s->addr, image_bias(img), tt ? tt->name : "?", out->addr);
	return 0;
}

int roots_addr_type(struct dec *d, const char *spec, struct roots_result *out, struct err *e)
{
	const struct image *img = dec_image(d);
	const struct types *t = dec_types(d);
	char *end;
	uint64_t addr = strtoull(spec, &end, 16);
	if (end == spec || *end != ':' || !end[1])
		return err_set(e, ERR_USAGE, "--root %s: expected SYMBOL or 0xADDR:TYPE", spec);
	type_id ty;
	int rc = types_lookup(t, end + 1, &ty, e);
	if (rc)
		return rc;
	const struct types_type *tt = types_get(t, ty);
	if (!image_mapped(img, addr, tt->size ? tt->size : 1))
		return err_set(e, ERR_INPUT, "--root: 0x%" PRIx64 " (%" PRIu64 " bytes of %s) is not in the core",
			       addr, tt->size, tt->name);
	rc = dec_unwrap(d, addr, ty, &out->addr, &out->type, e);
	if (rc)
		return rc;
	snprintf(out->how, sizeof out->how, "given: %s at 0x%" PRIx64, tt->name, addr);
	return 0;
}

/* The last path segment of a generic argument list's first argument:
 * "alloc::sync::ArcInner<beava::AppState>" -> does it name type_name? */
static int arcinner_names(const char *name, const char *type_name)
{
	const char *lt = strchr(name, '<');
	if (!lt)
		return 0;
	lt++;
	const char *stop = lt;
	int depth = 0;
	for (; *stop; stop++) {
		if (*stop == '<')
			depth++;
		else if (*stop == '>') {
			if (depth-- == 0)
				break;
		} else if (*stop == ',' && depth == 0)
			break;
	}
	/* the argument without its own generics */
	const char *arg_end = lt;
	while (arg_end < stop && *arg_end != '<')
		arg_end++;
	const char *seg = lt;
	for (const char *p = lt; p + 1 < arg_end; p++)
		if (p[0] == ':' && p[1] == ':')
			seg = p + 2;
	size_t n = strlen(type_name);
	return (size_t)(arg_end - seg) == n && strncmp(seg, type_name, n) == 0;
}

/* One chunk that had plausible reference counts. */
struct cand {
	uint64_t mem, key, size;
	int refs;              /* evidence: threads (stack or registers) and statics pointing at it */
	int srefs;             /* of which statics */
	bool valid, unsplit;
	char who[120];         /* which threads */
	char fail[170];        /* why validation failed */
};

/* Evidence that a chunk is live state: how many threads hold a pointer to
 * it in a register or on their stack (an Arc<T> holds its ArcInner's
 * address).  who names them. */
static int thread_refs(const struct image *img, uint64_t target, char *who, size_t whosize)
{
	int refs = 0;
	who[0] = 0;
	for (size_t i = 0; i < image_thread_count(img); i++) {
		const struct image_thread *th = image_thread(img, i);
		bool hit = false;
		for (size_t r = 0; r < sizeof th->regs / sizeof th->regs[0] && !hit; r++)
			hit = th->regs[r] == target;
		const struct image_segment *sg = image_segment_at(img, th->rsp);
		if (!hit && sg) {
			uint64_t lo = th->rsp & ~7ull;
			uint64_t end = sg->end - lo > STACK_SCAN_MAX ? lo + STACK_SCAN_MAX : sg->end;
			const uint64_t *p = end > lo ? image_ptr(img, lo, end - lo) : NULL;
			for (size_t k = 0; p && k < (end - lo) / 8 && !hit; k++)
				hit = p[k] == target;
		}
		if (hit) {
			refs++;
			size_t l = strlen(who);
			if (l + 16 < whosize)
				snprintf(who + l, whosize - l, "%sLWP %d", l ? ", " : "", th->pid);
		}
	}
	return refs;
}

/* Where the program's statics lie: [lo, hi) over every static DWARF names
 * (its .data and .bss), clipped to what the core holds; a pointer to a
 * candidate found there is evidence too. */
struct statics_range {
	uint64_t lo, hi;
};

static void statics_range(const struct image *img, const struct types *t, struct statics_range *r)
{
	r->lo = UINT64_MAX;
	r->hi = 0;
	uint64_t bias = image_bias(img);
	for (size_t i = 0; i < types_static_count(t); i++) {
		const struct types_static *st = types_static_at(t, i);
		const struct types_type *tt = types_get(t, types_resolve(t, st->type));
		uint64_t a = st->addr + bias, n = tt ? tt->size : 8;
		if (!st->addr || a < bias || n > (1u << 24) || !image_mapped(img, a, n ? n : 1))
			continue;
		if (a < r->lo)
			r->lo = a;
		if (a + n > r->hi)
			r->hi = a + n;
	}
	if (r->lo >= r->hi || r->hi - r->lo > STATICS_SCAN_MAX)
		r->lo = r->hi = 0;
}

/* How many 8-byte words of the statics' range hold target. */
static int static_refs(const struct image *img, const struct statics_range *r, uint64_t target)
{
	int refs = 0;
	for (uint64_t a = (r->lo + 7) & ~7ull; a + 8 <= r->hi; a += SCAN_WINDOW) {
		uint64_t n = r->hi - a < SCAN_WINDOW ? (r->hi - a) & ~7ull : SCAN_WINDOW;
		const uint64_t *p = n ? image_ptr(img, a, n) : NULL;
		for (uint64_t k = 0; p && k < n / 8; k++)
			refs += p[k] == target;
	}
	return refs;
}

/* "referenced by 2 threads (LWP 1, LWP 2) and 1 static word" */
static const char *evidence(const struct cand *c, char *buf, size_t size)
{
	int threads = c->refs - c->srefs;
	char st[48] = "";
	if (c->srefs)
		snprintf(st, sizeof st, "%s%d static word%s", threads ? " and " : "", c->srefs, c->srefs == 1 ? "" : "s");
	if (c->refs == 0)
		snprintf(buf, size, "no thread stack, register or static refers to it");
	else if (threads)
		snprintf(buf, size, "referenced by %d thread%s (%.100s)%s", threads, threads == 1 ? "" : "s", c->who, st);
	else
		snprintf(buf, size, "referenced by %s", st);
	return buf;
}

/* Better evidence first: validated, then more references, then lower
 * address (a stable order). */
static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	if (x->valid != y->valid)
		return x->valid ? -1 : 1;
	if (x->refs != y->refs)
		return x->refs > y->refs ? -1 : 1;
	return x->mem < y->mem ? -1 : x->mem > y->mem;
}

/* Keeps the best MAX_CANDIDATES (by cand_cmp) of what the scan met. */
static void cand_keep(struct cand *c, size_t *nc, const struct cand *x)
{
	if (*nc < MAX_CANDIDATES) {
		c[(*nc)++] = *x;
	} else if (cand_cmp(x, &c[MAX_CANDIDATES - 1]) < 0) {
		c[MAX_CANDIDATES - 1] = *x;
	} else {
		return;
	}
	qsort(c, *nc, sizeof *c, cand_cmp);
}

/* The ArcInner<T> type whose T's last path segment is type_name. */
static int find_arcinner(const struct types *t, const char *type_name, type_id *inner, struct err *e)
{
	struct types_id_vec ids;
	types_id_vec_init(&ids);
	int rc = types_find_prefix_all(t, "alloc::sync::ArcInner<", &ids, e);
	if (rc)
		return rc;
	*inner = 0;
	for (size_t i = 0; i < ids.len && !*inner; i++)
		if (arcinner_names(types_get(t, ids.data[i])->name, type_name))
			*inner = ids.data[i];
	types_id_vec_deinit(&ids);
	if (!*inner)
		return err_set(e, ERR_NOTFOUND, "no type ArcInner<%s> in the debug info: is this the right executable?",
			       type_name);
	return 0;
}

/* --- the scan's first pass: the fitting chunks with plausible counts ---
 *
 * A million chunks or more can fit the root's ArcInner, spread over the
 * whole heap: their reference counts are read a window at a time with
 * image_pread (nothing mapped, no page faults), on heap_jobs(h) threads,
 * each over a contiguous range of the census.  The second pass validates
 * the few that pass in census order, so nothing depends on the threads. */
struct prescan {
	const struct image *img;
	const struct heap *h;
	uint64_t size, strong_off, weak_off;
	size_t lo, hi;                  /* census indices */
	size_t scanned, exact, unsplit, mmapped;
	size_t *plausible, nplausible, cap;   /* census indices, ascending */
	bool oom;
};

/* The count at addr: from buf (the core's bytes at [blo, blo + got)) when
 * it holds them, else read (bytes outside the core's segments). */
static bool prescan_u64(const struct prescan *ps, const uint8_t *buf, uint64_t blo, size_t got, uint64_t addr,
			uint64_t *v)
{
	if (addr >= blo && addr - blo <= got && got - (addr - blo) >= 8) {
		memcpy(v, buf + (addr - blo), 8);
		return true;
	}
	return image_read_u64(ps->img, addr, v, NULL) == 0;
}

static void *prescan_run(void *arg)
{
	struct prescan *ps = arg;
	uint8_t *buf = malloc(SCAN_WINDOW + 4096);
	uint64_t blo = 0;
	size_t got = 0;
	for (size_t i = ps->lo; i < ps->hi && !ps->oom; i++) {
		const struct heap_chunk ch = heap_chunk_get(ps->h, i);
		bool us;
		if (ch.state != HEAP_INUSE || !heap_chunk_fits(&ch, ps->size, &us))
			continue;
		ps->scanned++;
		if (ch.flags & HEAP_F_MMAPPED)
			ps->mmapped++;
		else if (us)
			ps->unsplit++;
		else
			ps->exact++;
		uint64_t hi = ch.mem + (ps->strong_off > ps->weak_off ? ps->strong_off : ps->weak_off) + 8;
		if (buf && (ch.mem < blo || hi > blo + got)) {
			blo = ch.mem & ~(SCAN_WINDOW - 1);
			got = image_pread(ps->img, blo, buf, SCAN_WINDOW + 4096);
		}
		uint64_t strong, weak;
		if (!prescan_u64(ps, buf, blo, buf ? got : 0, ch.mem + ps->strong_off, &strong) ||
		    !prescan_u64(ps, buf, blo, buf ? got : 0, ch.mem + ps->weak_off, &weak) || strong == 0 ||
		    strong > REFCOUNT_MAX || weak == 0 || weak > REFCOUNT_MAX)
			continue;
		if (!arr_grow((void **)&ps->plausible, &ps->cap, ps->nplausible + 1, sizeof *ps->plausible, 16))
			ps->oom = true;
		else
			ps->plausible[ps->nplausible++] = i;
	}
	free(buf);
	return NULL;
}

/* Runs the first pass over the whole census into ps[0] (the others' lists
 * appended in order); ERR_NOMEM when a list could not grow. */
static int prescan_all(const struct image *img, const struct heap *h, uint64_t size, uint64_t strong_off,
		       uint64_t weak_off, struct prescan *out, struct err *e)
{
	enum { MAX_JOBS = 16, MIN_PER_JOB = 1 << 16 };
	struct prescan ps[MAX_JOBS];
	pthread_t th[MAX_JOBS];
	bool started[MAX_JOBS] = {false};
	size_t n = heap_chunk_count(h), jobs = heap_jobs(h);
	if (jobs > MAX_JOBS)
		jobs = MAX_JOBS;
	if (jobs > n / MIN_PER_JOB)
		jobs = n / MIN_PER_JOB;
	if (jobs < 1)
		jobs = 1;
	for (size_t j = 0; j < jobs; j++)
		ps[j] = (struct prescan){.img = img, .h = h, .size = size, .strong_off = strong_off,
					 .weak_off = weak_off, .lo = n / jobs * j, .hi = j + 1 == jobs ? n : n / jobs * (j + 1)};
	for (size_t j = 1; j < jobs; j++)
		started[j] = pthread_create(&th[j], NULL, prescan_run, &ps[j]) == 0;
	prescan_run(&ps[0]);
	for (size_t j = 1; j < jobs; j++) {
		if (started[j])
			pthread_join(th[j], NULL);
		else
			prescan_run(&ps[j]);   /* no thread: this one reads it */
	}
	bool oom = false;
	for (size_t j = 1; j < jobs; j++) {
		ps[0].scanned += ps[j].scanned;
		ps[0].exact += ps[j].exact;
		ps[0].unsplit += ps[j].unsplit;
		ps[0].mmapped += ps[j].mmapped;
		oom = oom || ps[j].oom;
		if (!oom && ps[j].nplausible) {
			if (!arr_grow((void **)&ps[0].plausible, &ps[0].cap, ps[0].nplausible + ps[j].nplausible,
				      sizeof *ps[0].plausible, 16)) {
				oom = true;
			} else {
				memcpy(ps[0].plausible + ps[0].nplausible, ps[j].plausible,
				       ps[j].nplausible * sizeof *ps[j].plausible);
				ps[0].nplausible += ps[j].nplausible;
			}
		}
		free(ps[j].plausible);
	}
	*out = ps[0];
	if (oom || out->oom) {
		free(out->plausible);
		out->plausible = NULL;
		return err_set(e, ERR_NOMEM, "out of memory scanning the heap for the root");
	}
	return 0;
}

int roots_heap_scan(const struct image *img, const struct types *t,
		    const struct heap *h, const char *type_name, roots_validate_fn validate,
		    void *ctx, struct roots_result *out, struct err *e)
{
	type_id inner;
	int rc = find_arcinner(t, type_name, &inner, e);
	if (rc)
		return rc;
	const struct types_type *it = types_get(t, inner);
	uint64_t data_off, strong_off, weak_off;
	type_id data_t;
	if ((rc = types_member_path(t, inner, "data", &data_off, &data_t, e)) ||
	    (rc = types_member_path(t, inner, "strong", &strong_off, NULL, e)) ||
	    (rc = types_member_path(t, inner, "weak", &weak_off, NULL, e)))
		return err_wrap(e, rc, "%s", it->name);
	uint64_t want = heap_request_chunk(it->size);
	struct statics_range sr;
	statics_range(img, t, &sr);

	struct cand c[MAX_CANDIDATES];
	struct prescan ps;
	if ((rc = prescan_all(img, h, it->size, strong_off, weak_off, &ps, e)))
		return rc;
	size_t nc = 0, scanned = ps.scanned, exact = ps.exact, unsplit = ps.unsplit, mmapped = ps.mmapped;
	size_t plausible = 0, nvalid = 0, nrefs = 0;
	uint64_t released = 0;
	/* the plausible ones, in address order; pages validation mapped are
	 * given back behind it */
	for (size_t pi = 0; pi < ps.nplausible; pi++) {
		const struct heap_chunk ch = heap_chunk_get(h, ps.plausible[pi]);
		bool us;
		heap_chunk_fits(&ch, it->size, &us);
		if (ch.mem - released >= RELEASE_STEP) {
			if (released)
				image_release(img, released, ch.mem);
			released = ch.mem;
		}
		plausible++;
		struct err ve = {0};
		struct cand x = {.mem = ch.mem, .key = ch.mem, .size = ch.size, .unsplit = us};
		x.valid = !(validate ? validate(ctx, ch.mem + data_off, types_resolve(t, data_t), &x.key, &ve) : 0);
		if (x.valid)
			nvalid++;
		else
			snprintf(x.fail, sizeof x.fail, "%.160s", ve.msg);
		/* thread references are looked up for every valid candidate and
		 * for the first rejected ones (near-misses worth naming) */
		if (x.valid || plausible - nvalid <= 4 * MAX_CANDIDATES)
		{
			x.refs = thread_refs(img, ch.mem, x.who, sizeof x.who);
			x.srefs = static_refs(img, &sr, ch.mem);
			x.refs += x.srefs;
		}
		nrefs += x.refs > 0;
		cand_keep(c, &nc, &x);
	}
	free(ps.plausible);
	if (released)
		image_release(img, released, UINT64_MAX);
	char scan[300];
	snprintf(scan, sizeof scan, "%zu in-use chunks of any arena that fit ArcInner<%.60s> (%" PRIu64 " bytes): %zu "
		 "exact (%" PRIu64 " bytes), %zu left unsplit, %zu mmapped", scanned, type_name, it->size, exact, want,
		 unsplit, mmapped);
	if (nvalid == 0) {
		/* the command to try first (one line holds 512 bytes), then
		 * the nearest misses, best evidence first, with why each failed */
		char near[400] = "", ev[200], next[120];
		size_t l = 0;
		for (size_t i = 0; i < nc && i < 3 && l < sizeof near; i++)
			l += (size_t)snprintf(near + l, sizeof near - l, "%s0x%" PRIx64 " (%.70s): %.100s", i ? "; " : "",
					      c[i].mem + data_off, evidence(&c[i], ev, sizeof ev), c[i].fail);
		if (nc)
			snprintf(next, sizeof next, "if the first is the state, add --root 0x%" PRIx64 " to the same command "
				 "(the mode is kept)", c[0].mem + data_off);
		else
			snprintf(next, sizeof next, "is this the executable that wrote the core, and does the state live in "
				 "an Arc?");
		return err_set(e, ERR_NOTFOUND, "no valid ArcInner<%.60s> among %.200s; %zu had plausible reference counts, "
			       "none validated; %s%s%s", type_name, scan, plausible, next, nc ? "; nearest: " : "", near);
	}
	/* c[] is sorted: valid first, most thread references first */
	size_t kept = 0;
	while (kept < nc && c[kept].valid)
		kept++;
	bool agree = true;
	for (size_t i = 1; i < kept; i++)
		agree = agree && c[i].key == c[0].key;
	char list[400] = "", ev[200];
	for (size_t i = 0, l = 0; i < kept && l < sizeof list; i++)
		l += (size_t)snprintf(list + l, sizeof list - l, "%s0x%" PRIx64 " (%.90s)", i ? "; " : "",
				      c[i].mem + data_off, evidence(&c[i], ev, sizeof ev));
	/* disagreeing candidates: the best is used only when its evidence is
	 * strictly better than every one that leads elsewhere */
	bool sure = agree;
	if (!agree) {
		sure = true;
		for (size_t i = 1; i < kept; i++)
			if (c[i].key != c[0].key && c[i].refs >= c[0].refs)
				sure = false;
	}
	if (!sure || nvalid > kept)
		return err_set(e, ERR_AMBIGUOUS, "%zu valid %s candidates lead to different state and no evidence tells "
			       "them apart: %s; scanned %s; choose one with --root 0xADDR (the mode is kept)", nvalid,
			       it->name, list, scan);
	out->addr = c[0].mem + data_off;
	out->type = types_resolve(t, data_t);
	out->alloc = c[0].mem;
	out->alloc_size = it->size;
	char chosen[240];
	snprintf(chosen, sizeof chosen, "0x%" PRIx64 " (a %" PRIu64 "-byte chunk%s; %.180s)", c[0].mem, c[0].size,
		 c[0].unsplit ? ", left unsplit" : "", evidence(&c[0], ev, sizeof ev));
	snprintf(out->how, sizeof out->how, "heap scan: chose %.200s; %zu valid of %zu plausible among %.200s%s%.40s",
		 chosen, nvalid, plausible, scan, kept > 1 ? (agree ? "; all lead to the same state: " :
							      "; the others have less evidence: ") : "",
		 kept > 1 ? list : "");
	return 0;
}

/* The types a chunk at mem could hold with the value at addr: ArcInner<T>
 * or RcBox<T> whose data is at addr (or whose allocation starts there).
 * Each candidate type is validated; exactly one valid type is the answer. */
int roots_addr_infer(const struct image *img, const struct types *t, const struct heap *h, uint64_t addr,
		     const char *type_name, roots_validate_fn validate, void *ctx, struct roots_result *out,
		     struct err *e)
{
	size_t ci = heap_find_containing(h, addr);
	if (ci == SIZE_MAX)
		return err_set(e, ERR_INPUT, "--root 0x%" PRIx64 ": not inside an in-use heap chunk, so its type cannot be "
			       "inferred; give it: --root 0x%" PRIx64 ":TYPE", addr, addr);
	const struct heap_chunk ch = heap_chunk_get(h, ci);
	static const char *const prefixes[] = {"alloc::sync::ArcInner<", "alloc::rc::RcBox<", "alloc::rc::RcInner<"};
	char found[400] = "", failed[300] = "";
	size_t nfound = 0, nfail = 0, lf = 0, lx = 0;
	struct roots_result best = {0};
	for (size_t p = 0; p < sizeof prefixes / sizeof prefixes[0]; p++) {
		struct types_id_vec ids;
		types_id_vec_init(&ids);
		if (types_find_prefix_all(t, prefixes[p], &ids, NULL) != 0)
			continue;
		for (size_t i = 0; i < ids.len; i++) {
			const struct types_type *it = types_get(t, ids.data[i]);
			uint64_t data_off;
			type_id data_t;
			if (!it || (type_name && !arcinner_names(it->name, type_name)) ||
			    !heap_chunk_fits(&ch, it->size, NULL) ||
			    types_member_path(t, ids.data[i], "data", &data_off, &data_t, NULL) != 0 ||
			    (addr != ch.mem + data_off && addr != ch.mem))
				continue;
			data_t = types_resolve(t, data_t);
			const struct types_type *dt = types_get(t, data_t);
			uint64_t key = 0;
			struct err ve = {0};
			if (validate && validate(ctx, ch.mem + data_off, data_t, &key, &ve) != 0) {
				if (nfail++ < 3 && lx < sizeof failed)
					lx += (size_t)snprintf(failed + lx, sizeof failed - lx, "%s%.60s: %.80s",
							       lx ? "; " : "", dt ? dt->name : "?", ve.msg);
				continue;
			}
			if (nfound++ == 0) {
				best.addr = ch.mem + data_off;
				best.type = data_t;
				best.alloc = ch.mem;
				best.alloc_size = it->size;
			}
			if (lf < sizeof found)
				lf += (size_t)snprintf(found + lf, sizeof found - lf, "%s%s", lf ? ", " : "",
						       dt ? dt->name : "?");
		}
		types_id_vec_deinit(&ids);
	}
	if (nfound == 0)
		return err_set(e, ERR_INPUT, "--root 0x%" PRIx64 ": the %" PRIu64 "-byte chunk at 0x%" PRIx64 " holds no "
			       "%s%s%s that validates%s%s%s; give the type: --root 0x%" PRIx64 ":TYPE", addr, ch.size,
			       ch.mem, type_name ? "ArcInner<" : "Arc/Rc-held value", type_name ? type_name : "",
			       type_name ? ">" : "", nfail ? " (tried: " : "", failed, nfail ? ")" : "", addr);
	if (nfound > 1)
		return err_set(e, ERR_AMBIGUOUS, "--root 0x%" PRIx64 ": the chunk at 0x%" PRIx64 " fits %zu types that "
			       "validate (%s); name one: --root 0x%" PRIx64 ":TYPE", addr, ch.mem, nfound, found, addr);
	*out = best;
	const struct types_type *bt = types_get(t, best.type);
	snprintf(out->how, sizeof out->how, "given: 0x%" PRIx64 ", inferred %s in an Arc/Rc allocation at 0x%" PRIx64
		 " (%" PRIu64 "-byte chunk)", addr, bt ? bt->name : "?", ch.mem, ch.size);
	(void)img;
	return 0;
}

/* One kind of reference-counted box the type scan looks for. */
struct kind {
	type_id inner, data;
	uint64_t size, data_off, strong_off, weak_off;
};

int roots_heap_scan_types(const struct image *img, const struct types *t, const struct heap *h,
			  const struct roots_typefilter *f, roots_validate_fn validate, void *ctx,
			  struct roots_result *out, struct err *e)
{
	static const char *const prefixes[] = {"alloc::sync::ArcInner<", "alloc::rc::RcBox<", "alloc::rc::RcInner<"};
	struct kind kinds[MAX_KINDS];
	size_t nk = 0;
	for (size_t p = 0; p < sizeof prefixes / sizeof prefixes[0]; p++) {
		struct types_id_vec ids;
		types_id_vec_init(&ids);
		if (types_find_prefix_all(t, prefixes[p], &ids, NULL) != 0)
			continue;
		for (size_t i = 0; i < ids.len && nk < MAX_KINDS; i++) {
			struct kind k = {.inner = ids.data[i]};
			const struct types_type *it = types_get(t, k.inner);
			if (!it || types_member_path(t, k.inner, "data", &k.data_off, &k.data, NULL) != 0 ||
			    types_member_path(t, k.inner, "strong", &k.strong_off, NULL, NULL) != 0 ||
			    types_member_path(t, k.inner, "weak", &k.weak_off, NULL, NULL) != 0)
				continue;
			k.data = types_resolve(t, k.data);
			k.size = it->size;
			bool dup = false;
			for (size_t j = 0; j < nk && !dup; j++)
				dup = kinds[j].inner == k.inner;
			if (!dup && f->want(f->ctx, k.data))
				kinds[nk++] = k;
		}
		types_id_vec_deinit(&ids);
	}
	char names[300] = "";
	for (size_t i = 0, l = 0; i < nk && l < sizeof names; i++)
		l += (size_t)snprintf(names + l, sizeof names - l, "%s%s", i ? ", " : "", types_get(t, kinds[i].data)->name);
	if (nk == 0)
		return err_set(e, ERR_NOTFOUND, "no Arc- or Rc-held type of the program's own can hold the values");

	struct cand c[MAX_CANDIDATES];
	type_id ctype[MAX_CANDIDATES];
	struct statics_range sr;
	statics_range(img, t, &sr);
	size_t nc = 0, scanned = 0, plausible = 0, nvalid = 0;
	for (size_t i = 0; i < heap_chunk_count(h); i++) {
		const struct heap_chunk ch = heap_chunk_get(h, i);
		if (ch.state != HEAP_INUSE)
			continue;
		for (size_t k = 0; k < nk; k++) {
			bool us;
			uint64_t strong, weak;
			if (!heap_chunk_fits(&ch, kinds[k].size, &us))
				continue;
			scanned++;
			if (image_read_u64(img, ch.mem + kinds[k].strong_off, &strong, NULL) ||
			    image_read_u64(img, ch.mem + kinds[k].weak_off, &weak, NULL) || strong == 0 ||
			    strong > REFCOUNT_MAX || weak == 0 || weak > REFCOUNT_MAX)
				continue;
			plausible++;
			struct err ve = {0};
			struct cand x = {.mem = ch.mem, .key = ch.mem, .size = ch.size, .unsplit = us};
			if (validate && validate(ctx, ch.mem + kinds[k].data_off, kinds[k].data, &x.key, &ve) != 0)
				continue;
			x.valid = true;
			nvalid++;
		{
			x.refs = thread_refs(img, ch.mem, x.who, sizeof x.who);
			x.srefs = static_refs(img, &sr, ch.mem);
			x.refs += x.srefs;
		}
			snprintf(x.fail, sizeof x.fail, "%zu", k);   /* which kind */
			if (nc < MAX_CANDIDATES) {
				ctype[nc] = kinds[k].data;
				c[nc++] = x;
			}
			break;
		}
	}
	if (nvalid == 0)
		return err_set(e, ERR_NOTFOUND, "a typed heap scan for Arc/Rc-held %s found none that validates (%zu "
			       "chunks fit, %zu had plausible reference counts)", names, scanned, plausible);
	/* a candidate whose type another candidate's type holds is part of
	 * that one's state, not a root of its own */
	bool inner[MAX_CANDIDATES] = {false};
	size_t outer = 0, pick = 0;
	for (size_t i = 0; i < nc; i++) {
		for (size_t j = 0; j < nc && !inner[i]; j++)
			inner[i] = ctype[i] != ctype[j] && f->holds(f->ctx, ctype[j], ctype[i]);
		if (!inner[i] && outer++ == 0)
			pick = i;
	}
	char list[400] = "", ev[200];
	for (size_t i = 0, l = 0; i < nc && l < sizeof list; i++)
		if (!inner[i])
			l += (size_t)snprintf(list + l, sizeof list - l, "%s0x%" PRIx64 " (%.80s, %.80s)", l ? "; " : "",
					      c[i].mem + kinds[atoi(c[i].fail)].data_off, types_get(t, ctype[i])->name,
					      evidence(&c[i], ev, sizeof ev));
	if (outer > 1 || nvalid > nc)
		return err_set(e, ERR_AMBIGUOUS, "%zu Arc/Rc-held values could be the root: %s; pick one with --root "
			       "0xADDR", nvalid > nc ? nvalid : outer, list);
	const struct kind *k = &kinds[atoi(c[pick].fail)];
	out->addr = c[pick].mem + k->data_off;
	out->type = k->data;
	out->alloc = c[pick].mem;
	out->alloc_size = k->size;
	snprintf(out->how, sizeof out->how, "typed heap scan for Arc/Rc-held %.120s: chose %s at 0x%" PRIx64 " (a %"
		 PRIu64 "-byte chunk%s; %.160s); %zu valid of %zu plausible in %zu fitting chunks", names,
		 types_get(t, k->data)->name, c[pick].mem, c[pick].size, c[pick].unsplit ? ", left unsplit" : "",
		 evidence(&c[pick], ev, sizeof ev), nvalid, plausible, scanned);
	return 0;
}
