/* test_roots.c: root discovery in a big binary (tests/setup.d/25-bigbin.sh:
 * 3000 distinct alloc::sync::ArcInner<...> types, 100k statics, one
 * Arc<AppState> also held by `static STATE: OnceLock<Arc<AppState>>`).  The
 * heap scan must consider every ArcInner type, not the first few dozen, and
 * find the AppState the program printed the address of; --root STATE must
 * reach the same value through the OnceLock and the Arc. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "heap.h"
#include "image.h"
#include "roots.h"
#include "types.h"
#include "walk.h"

struct big {
	char core[600], exe[600];
	uint64_t appstate;   /* printed by the program */
	struct image *img;
	struct types *t;
	struct heap *h;
};

static int setup(void **state)
{
	static struct big b;
	const char *fx = getenv("FIXDIR");
	char out[700], line[256];
	struct err e = {0};
	snprintf(b.core, sizeof b.core, "%s/bigbin/core", fx ? fx : "build/fixtures");
	snprintf(b.exe, sizeof b.exe, "%s/bigbin/bigbin", fx ? fx : "build/fixtures");
	snprintf(out, sizeof out, "%s/bigbin/hold.out", fx ? fx : "build/fixtures");
	FILE *f = fopen(out, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "appstate %" SCNx64, &b.appstate) == 1)
			break;
	fclose(f);
	if (!b.appstate || image_open(&b.img, b.core, b.exe, &e) || types_open(&b.t, b.exe, NULL, &e) ||
	    heap_open(&b.h, b.img, &e)) {
		fprintf(stderr, "bigbin: %s\n", e.msg);
		return -1;
	}
	*state = &b;
	return 0;
}

static int teardown(void **state)
{
	struct big *b = *state;
	heap_close(b->h);
	types_close(b->t);
	image_close(b->img);
	return 0;
}

static int accept_all(void *ctx, uint64_t addr, type_id type, uint64_t *key, struct err *e)
{
	(void)ctx;
	(void)type;
	(void)e;
	*key = addr;
	return 0;
}

static void test_thousands_of_arcinner_types(void **state)
{
	struct big *b = *state;
	struct types_id_vec ids;
	struct err e = {0};
	types_id_vec_init(&ids);
	assert_int_equal(types_find_prefix_all(b->t, "alloc::sync::ArcInner<", &ids, &e), 0);
	assert_true(ids.len > 3000);
	types_id_vec_deinit(&ids);
}

static void test_heap_scan_finds_appstate(void **state)
{
	struct big *b = *state;
	struct roots_result r;
	struct err e = {0};
	memset(&r, 0, sizeof r);
	int rc = roots_heap_scan(b->img, b->t, b->h, "AppState", accept_all, NULL, &r, &e);
	if (rc)
		fail_msg("heap scan: %s", e.msg);
	assert_int_equal(r.addr, b->appstate);
	assert_string_equal(types_get(b->t, r.type)->name, "bigbin::AppState");
}

static void test_static_root_through_oncelock(void **state)
{
	struct big *b = *state;
	struct dec *d;
	struct roots_result r;
	struct err e = {0};
	assert_int_equal(dec_create(&d, b->img, b->t, b->h, &e), 0);
	int rc = roots_symbol(d, "STATE", &r, &e);
	dec_destroy(d);
	if (rc)
		fail_msg("--root STATE: %s", e.msg);
	assert_int_equal(r.addr, b->appstate);
	assert_string_equal(types_get(b->t, r.type)->name, "bigbin::AppState");
}

/* glibc's rules (malloc.c: request2size, the "exhaust" paths of
 * _int_malloc that hand out a chunk whole when the remainder would be below
 * MINSIZE, sysmalloc's page-rounded mmapped chunks), written out here
 * independently of the heap layer's table. */
static void test_chunk_acceptance(void **state)
{
	(void)state;
	struct heap_chunk c = {.mem = 0x1000, .state = HEAP_INUSE};
	bool unsplit;
	assert_int_equal(heap_request_chunk(0), 32);
	assert_int_equal(heap_request_chunk(24), 32);
	assert_int_equal(heap_request_chunk(25), 48);
	assert_int_equal(heap_request_chunk(128), 144);
	assert_int_equal(heap_request_chunk(120), 128);
	c.size = 144;   /* exact for 128 */
	assert_true(heap_chunk_fits(&c, 128, &unsplit));
	assert_false(unsplit);
	c.size = 160;   /* a 16-byte remainder cannot be split off */
	assert_true(heap_chunk_fits(&c, 128, &unsplit));
	assert_true(unsplit);
	c.size = 176;   /* a 32-byte remainder would have been split */
	assert_false(heap_chunk_fits(&c, 128, &unsplit));
	c.size = 128;   /* too small */
	assert_false(heap_chunk_fits(&c, 128, NULL));
	/* mmapped: usable = size - 16, the request rounded up to a page */
	c.flags = HEAP_F_MMAPPED;
	c.size = 135168;   /* 132 KiB for a 128 KiB + 8 request */
	assert_true(heap_chunk_fits(&c, 131080, NULL));
	assert_false(heap_chunk_fits(&c, 100000, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chunk_acceptance),
		cmocka_unit_test(test_thousands_of_arcinner_types),
		cmocka_unit_test(test_heap_scan_finds_appstate),
		cmocka_unit_test(test_static_root_through_oncelock),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
