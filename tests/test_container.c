/* test_container.c: the typed vector and hash table (include/container.h)
 * against a plain model: every key inserted is found with its value, no key
 * that was not inserted is found (zero included: no sentinel key), rehashes
 * keep every entry, iteration visits each entry once, and the version-fact
 * record keeps one line per (dependency, fact, value). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "container.h"
#include "version.h"

struct ent {
	uint64_t key;
	uint64_t val;
};
#define ENT_KEY(e) ((e)->key)
DEFINE_HASH_TABLE(u64map, struct ent, uint64_t, ENT_KEY, container_hash_u64, container_eq_u64)

struct sent {
	const char *key;
	int n;
};
#define SENT_KEY(e) ((e)->key)
DEFINE_HASH_TABLE(strmap, struct sent, const char *, SENT_KEY, container_hash_str, container_eq_str)

DEFINE_VECTOR(u32vec, uint32_t)

static void test_u64_map(void **state)
{
	(void)state;
	struct u64map m;
	u64map_init(&m);
	assert_null(u64map_find(&m, 0));
	/* keys 0, 16, 32, ...: zero is a key like any other */
	for (uint64_t i = 0; i < 100000; i++) {
		bool ins;
		struct ent *e = u64map_insert(&m, i * 16, &ins);
		assert_non_null(e);
		assert_true(ins);
		assert_int_equal(e->val, 0);
		e->key = i * 16;
		e->val = i + 1;
	}
	assert_int_equal(m.len, 100000);
	assert_true(m.rehashes > 1);
	for (uint64_t i = 0; i < 100000; i++) {
		struct ent *e = u64map_find(&m, i * 16);
		assert_non_null(e);
		assert_int_equal(e->val, i + 1);
		assert_null(u64map_find(&m, i * 16 + 8));
	}
	bool ins = true;
	struct ent *e = u64map_insert(&m, 0, &ins);
	assert_false(ins);
	assert_int_equal(e->val, 1);
	uint64_t n = 0, sum = 0;
	for (struct ent *it = u64map_first(&m); it; it = u64map_next(&m, it))
		n++, sum += it->val;
	assert_int_equal(n, 100000);
	assert_int_equal(sum, 100000ull * 100001 / 2);
	u64map_clear(&m);
	assert_null(u64map_find(&m, 16));
	assert_null(u64map_first(&m));
	u64map_deinit(&m);
}

static void test_str_map_and_vector(void **state)
{
	(void)state;
	static const char *const words[] = {"Windowed", "buckets[*]", "Percentile", "", "[key]"};
	struct strmap m;
	strmap_init(&m);
	for (int round = 0; round < 3; round++)
		for (size_t i = 0; i < 5; i++) {
			struct sent *e = strmap_insert(&m, words[i], NULL);
			assert_non_null(e);
			e->key = words[i];
			e->n++;
		}
	assert_int_equal(m.len, 5);
	char copy[16];
	strcpy(copy, "Percentile");
	assert_int_equal(strmap_find(&m, copy)->n, 3);
	assert_null(strmap_find(&m, "percentile"));
	strmap_deinit(&m);

	struct u32vec v;
	u32vec_init(&v);
	for (uint32_t i = 0; i < 1000; i++)
		assert_true(u32vec_append(&v, i * 3));
	assert_int_equal(v.len, 1000);
	assert_true(v.cap >= 1000);
	assert_int_equal(v.data[999], 2997);
	uint32_t *z = u32vec_push(&v);
	assert_non_null(z);
	assert_int_equal(*z, 0);
	u32vec_deinit(&v);
	assert_null(v.data);
}

/* Re-inserting a present key into a table at its load limit neither grows it
 * nor moves entries: a pointer taken before stays valid (the old insert
 * reserved room before looking the key up, and rehashed here). */
static void test_insert_present_keeps_entries(void **state)
{
	(void)state;
	struct u64map m;
	u64map_init(&m);
	bool ins;
	struct ent *first = u64map_insert(&m, 7, &ins);
	assert_non_null(first);
	first->key = 7;
	first->val = 70;
	for (uint64_t k = 100; m.len < m.cap / 4 * 3; k++) {
		struct ent *e = u64map_insert(&m, k, &ins);
		assert_non_null(e);
		e->key = k;
	}
	first = u64map_find(&m, 7);
	assert_non_null(first);
	size_t cap = m.cap, rehashes = m.rehashes;
	struct ent *again = u64map_insert(&m, 7, &ins);
	assert_false(ins);
	assert_ptr_equal(again, first);
	assert_int_equal(m.cap, cap);
	assert_int_equal(m.rehashes, rehashes);
	assert_int_equal(first->val, 70);
	/* an absent key still grows it */
	assert_non_null(u64map_insert(&m, 1u << 30, &ins));
	assert_true(ins);
	assert_true(m.cap > cap);
	u64map_deinit(&m);
}

static void test_version_facts(void **state)
{
	(void)state;
	struct version_facts f;
	version_facts_init(&f);
	assert_true(version_note(&f, "glibc", "tcache", "2.30+", "found at 0x%x", 0x10));
	assert_true(version_note(&f, "glibc", "tcache", "2.30+", "again"));
	assert_int_equal(f.len, 1);
	assert_string_equal(f.data[0].evidence, "found at 0x10");
	assert_true(version_note(&f, "glibc", "tcache", "2.26-2.29", "other"));
	assert_int_equal(f.len, 2);
	version_facts_deinit(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64_map),
		cmocka_unit_test(test_str_map_and_vector),
		cmocka_unit_test(test_insert_present_keeps_entries),
		cmocka_unit_test(test_version_facts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
