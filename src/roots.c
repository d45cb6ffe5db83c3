/* roots.c: finding the value a walk starts from (see include/roots.h). */
#include "roots.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CANDIDATES 8
#define REFCOUNT_MAX (1ull << 32)   /* a plausible Arc strong/weak count */
#define STACK_SCAN_MAX (64ull << 20)
#define RELEASE_STEP (16ull << 20)        /* the scan gives back pages this far behind it */
#define SCAN_WINDOW (1ull << 20)          /* and reads candidates this much at a time */

int roots_symbol(const struct roots_unwrap *u, const struct image *img, const struct types *t, const char *name,
		 struct roots_result *out, struct err *e)
{
	const struct types_static *s;
	int rc = types_static_lookup(t, name, &s, e);
	if (rc)
		return rc;
	uint64_t addr = s->addr + image_bias(img);
	if (!image_mapped(img, addr, 1))
		return err_set(e, ERR_INPUT, "static %s at 0x%" PRIx64 " is not in the core", s->name, addr);
	rc = u->fn(u->ctx, addr, s->type, &out->addr, &out->type, e);
	if (rc)
		return err_wrap(e, "root %s", s->name);
	const struct types_type *tt = types_get(t, out->type);
	snprintf(out->how, sizeof out->how, "static %s at 0x%" PRIx64 " (link 0x%" PRIx64 " + bias 0x%" PRIx64
		 "), value %s at 0x%" PRIx64, s->name, addr, s->addr, image_bias(img), tt ? tt->name : "?", out->addr);
	return 0;
}

int roots_addr_type(const struct roots_unwrap *u, const struct image *img, const struct types *t, const char *spec,
		    struct roots_result *out, struct err *e)
{
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
	rc = u->fn(u->ctx, addr, ty, &out->addr, &out->type, e);
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

struct cand {
	uint64_t mem, key;
	int stack_refs;
	char why[160];
};

static int stack_refs(const struct image *img, uint64_t target, char *who, size_t whosize)
{
	int refs = 0;
	who[0] = 0;
	for (size_t i = 0; i < image_thread_count(img); i++) {
		const struct image_thread *th = image_thread(img, i);
		const struct image_segment *sg = image_segment_at(img, th->rsp);
		if (!sg)
			continue;
		uint64_t end = sg->end - th->rsp > STACK_SCAN_MAX ? th->rsp + STACK_SCAN_MAX : sg->end;
		const uint64_t *p = image_ptr(img, th->rsp & ~7ull, end - (th->rsp & ~7ull));
		if (!p)
			continue;
		size_t n = (end - (th->rsp & ~7ull)) / 8;
		for (size_t k = 0; k < n; k++)
			if (p[k] == target) {
				refs++;
				size_t l = strlen(who);
				snprintf(who + l, whosize - l, "%sLWP %d", l ? ", " : "", th->pid);
				break;
			}
	}
	return refs;
}

int roots_heap_scan(const struct image *img, const struct types *t,
		    const struct heap *h, const char *type_name, roots_validate_fn validate,
		    void *ctx, struct roots_result *out, struct err *e)
{
	/* every candidate type: a tokio/axum server has hundreds of ArcInner<...> */
	struct types_id_vec ids;
	types_id_vec_init(&ids);
	int rc = types_find_prefix_all(t, "alloc::sync::ArcInner<", &ids, e);
	if (rc)
		return rc;
	type_id inner = 0;
	for (size_t i = 0; i < ids.len && !inner; i++)
		if (arcinner_names(types_get(t, ids.data[i])->name, type_name))
			inner = ids.data[i];
	types_id_vec_deinit(&ids);
	if (!inner)
		return err_set(e, ERR_NOTFOUND, "no type ArcInner<%s> in the debug info: is this the right executable?",
			       type_name);
	const struct types_type *it = types_get(t, inner);
	uint64_t data_off, strong_off, weak_off;
	type_id data_t;
	if (types_member_path(t, inner, "data", &data_off, &data_t, e) ||
	    types_member_path(t, inner, "strong", &strong_off, NULL, e) ||
	    types_member_path(t, inner, "weak", &weak_off, NULL, e))
		return err_wrap(e, "%s", it->name);
	/* glibc request2size: max(MINSIZE 32, (req + SIZE_SZ + 15) & ~15) */
	uint64_t want = (it->size + 8 + 15) & ~15ull;
	if (want < 32)
		want = 32;

	struct cand c[MAX_CANDIDATES];
	size_t nc = 0, scanned = 0, rejected = 0;
	char first_reject[200] = "";
	uint64_t released = 0, window_end = 0;
	for (size_t i = 0; i < heap_chunk_count(h); i++) {
		const struct heap_chunk ch = heap_chunk_get(h, i);
		if (ch.state != HEAP_INUSE || ch.size != want)
			continue;
		/* chunks come in address order: read them a window at a time
		 * (pread, no page faults) and give back pages validation mapped */
		if (ch.mem + strong_off + 8 > window_end || ch.mem + weak_off + 8 > window_end) {
			uint64_t lo = ch.mem & ~(SCAN_WINDOW - 1);
			window_end = image_window(img, lo, lo + SCAN_WINDOW + 4096) ? lo + SCAN_WINDOW : 0;
		}
		if (ch.mem - released >= RELEASE_STEP) {
			if (released)
				image_release(img, released, ch.mem);
			released = ch.mem;
		}
		scanned++;
		uint64_t strong, weak;
		if (image_read_u64(img, ch.mem + strong_off, &strong, NULL) ||
		    image_read_u64(img, ch.mem + weak_off, &weak, NULL) || strong == 0 ||
		    strong > REFCOUNT_MAX || weak == 0 || weak > REFCOUNT_MAX)
			continue;
		struct err ve = {0};
		uint64_t key = ch.mem;
		int rc = validate ? validate(ctx, ch.mem + data_off, types_resolve(t, data_t), &key, &ve) : 0;
		if (rc) {
			if (!rejected++)
				snprintf(first_reject, sizeof first_reject, "0x%" PRIx64 ": %.150s", ch.mem, ve.msg);
			continue;
		}
		if (nc < MAX_CANDIDATES) {
			c[nc].mem = ch.mem;
			c[nc].key = key;
			c[nc].stack_refs = stack_refs(img, ch.mem, c[nc].why, sizeof c[nc].why);
		}
		nc++;
	}
	if (released)
		image_release(img, released, UINT64_MAX);
	if (nc == 0)
		return err_set(e, ERR_NOTFOUND,
			       "no valid %s found: %zu in-use chunks of size %" PRIu64 " scanned, %zu had plausible "
			       "reference counts but failed validation%s%s; pass --root 0xADDR:TYPE if you know it",
			       it->name, scanned, want, rejected, rejected ? " (first: " : "",
			       rejected ? first_reject : "");
	size_t kept = nc < MAX_CANDIDATES ? nc : MAX_CANDIDATES, best = 0;
	bool agree = nc <= MAX_CANDIDATES;
	for (size_t i = 1; i < kept; i++) {
		agree = agree && c[i].key == c[0].key;
		if (c[i].stack_refs > c[best].stack_refs)
			best = i;
	}
	char list[256] = "";
	for (size_t i = 0; i < kept; i++) {
		size_t l = strlen(list);
		snprintf(list + l, sizeof list - l, "%s0x%" PRIx64, i ? ", " : "", c[i].mem + data_off);
	}
	if (!agree)
		return err_set(e, ERR_AMBIGUOUS, "%zu valid %s candidates disagree: %s; choose one with --root 0xADDR:%s",
			       nc, it->name, list, type_name);
	out->addr = c[best].mem + data_off;
	out->type = types_resolve(t, data_t);
	out->alloc = c[best].mem;
	char agreeing[240] = "";
	if (nc > 1)
		snprintf(agreeing, sizeof agreeing, " (%zu candidates lead to the same tables: %.150s)", nc, list);
	snprintf(out->how, sizeof out->how,
		 "heap scan: %zu valid %.80s in %zu chunks of %" PRIu64 " bytes%s; %s%.100s", nc, it->name, scanned,
		 want, agreeing, c[best].stack_refs ? "referenced from the stack of " : "not referenced from any thread stack",
		 c[best].stack_refs ? c[best].why : "");
	return 0;
}
