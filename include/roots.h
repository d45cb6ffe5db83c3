/* roots.h: where a walk starts.
 *
 *   SYMBOL        a static (qualified or last segment), seen through
 *                 OnceLock/LazyLock/Mutex/RwLock/RefCell/... wrappers
 *   0xADDR:TYPE   a value of TYPE at ADDR
 *   0xADDR        a value whose type is inferred from the heap chunk there
 *                 (the ArcInner/RcBox type that fits the chunk and validates)
 *   heap scan     an Arc-held value of a named type with no static pointing
 *                 at it: every in-use chunk glibc can have handed out for
 *                 ArcInner<T> (heap_chunk_fits: exact, left unsplit, mmapped;
 *                 any arena) is a candidate; reference counts are checked,
 *                 then the caller's deep validation; thread stacks and
 *                 registers are scanned for pointers to the candidates, and
 *                 candidates are ranked by that evidence (stated in `how`).
 */
#ifndef AGGOP_ROOTS_H
#define AGGOP_ROOTS_H

#include <stdbool.h>
#include <stdint.h>

#include "dec.h"
#include "err.h"
#include "heap.h"
#include "image.h"
#include "types.h"

struct roots_result {
	uint64_t addr;        /* the value's address (inside the ArcInner for heap roots) */
	type_id type;
	uint64_t alloc;       /* heap roots: the ArcInner's allocation (the walk marks it seen); else 0 */
	uint64_t alloc_size;  /* heap roots: the bytes requested for it (sizeof ArcInner<T>) */
	char how[1024];       /* one line: how it was found */
};

/* Deep validation of a candidate value: 0 when it holds together, else an
 * error saying what did not.  On success *key names what the candidate leads
 * to (e.g. the address of its entity tables): candidates with equal keys
 * agree, different keys disagree. */
typedef int (*roots_validate_fn)(void *ctx, uint64_t addr, type_id type, uint64_t *key, struct err *e);

/* A static by name: its value, seen through its wrappers by the decode
 * layer (dec_unwrap). */
int roots_symbol(struct dec *d, const char *name, struct roots_result *out, struct err *e);

/* 0xADDR:TYPE: the value of TYPE at ADDR, seen through its wrappers. */
int roots_addr_type(struct dec *d, const char *spec, struct roots_result *out, struct err *e);

/* Scans the heap for ArcInner<X> where X's last path segment is `type_name`
 * (e.g. "AppState").  ERR_NOTFOUND when no candidate validates (the message
 * says what was scanned, names the nearest misses with why each failed and
 * the flag to try next); ERR_AMBIGUOUS (naming them with their evidence)
 * when valid candidates lead to different state (different keys) and the
 * best is not referenced by strictly more threads than the others; among
 * candidates that agree, the one most referenced from thread stacks and
 * registers is chosen and the others are named in `how`. */
int roots_heap_scan(const struct image *img, const struct types *t,
		    const struct heap *h, const char *type_name, roots_validate_fn validate,
		    void *ctx, struct roots_result *out, struct err *e);

/* What a type-driven heap scan looks for (generic mode): want(T) says
 * whether ArcInner<T>/RcBox<T> chunks are candidates (e.g. a struct of the
 * program's own that can hold the enum); holds(A, B) whether a value of type
 * A can hold a B (a candidate another one holds is not a root). */
struct roots_typefilter {
	bool (*want)(void *ctx, type_id data_type);
	bool (*holds)(void *ctx, type_id outer, type_id inner);
	void *ctx;
};

/* Scans every in-use chunk for the wanted Arc/Rc-held types (chunk
 * acceptance as roots_heap_scan), checks reference counts, validates, and
 * keeps the outermost candidates: exactly one is the root (named with its
 * evidence in `how`); several give ERR_AMBIGUOUS listing each with its type,
 * thread references and address for --root 0xADDR; none ERR_NOTFOUND saying
 * what was scanned. */
int roots_heap_scan_types(const struct image *img, const struct types *t, const struct heap *h,
			  const struct roots_typefilter *f, roots_validate_fn validate, void *ctx,
			  struct roots_result *out, struct err *e);

/* --root 0xADDR without a type: the ArcInner<T>/RcBox<T> whose value is at
 * addr (or whose allocation starts there) and whose size fits the chunk;
 * with type_name only ArcInner<type_name>.  Each fitting type is validated
 * (validate may be NULL); exactly one must hold, else ERR_INPUT (none) or
 * ERR_AMBIGUOUS (several, named).  out->alloc is the allocation. */
int roots_addr_infer(const struct image *img, const struct types *t, const struct heap *h, uint64_t addr,
		     const char *type_name, roots_validate_fn validate, void *ctx, struct roots_result *out,
		     struct err *e);

#endif
