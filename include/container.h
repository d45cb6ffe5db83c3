/* container.h: typed vectors and hash tables, generated once by macros.
 *
 * Every layer keeps lists whose length it learns only while reading the core
 * and indexes keyed by address, name or id.  These two macros are the one
 * way to have them, in the spirit of libdrgn's vector.h and hash_table.h:
 *
 *   DEFINE_VECTOR(name, T)
 *       struct name { T *data; size_t len, cap; }, growing by doubling with
 *       its size arithmetic checked (arr_grow).
 *
 *   DEFINE_HASH_TABLE(name, E, K, key_of, hash, eq)
 *       an open-addressing table of entries E (a struct of the caller's that
 *       holds its key K; key_of(const E *) returns it), probed linearly, with
 *       one control byte per slot kept apart from the entries: 0 is an empty
 *       slot, a full one holds 0x80 | 7 bits of the hash.  No key value is a
 *       sentinel, so a zero-filled entry can never be mistaken for a full one.
 *       hash(K) returns a uint64_t, eq(K, K) a bool.  The load factor stays
 *       at or below 3/4; a rehash moves every entry (entry pointers are then
 *       stale: `rehashes` counts them so a caller caching pointers knows).
 *       Entries are never removed one by one; _clear empties the table.
 *
 * Neither prints or aborts: a function that allocates returns false or NULL
 * when memory runs out, and the container is then unchanged.
 */
#ifndef AGGOP_CONTAINER_H
#define AGGOP_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arr.h"

/* A 64-bit finaliser (splitmix64's): good bits for any integer key. */
static inline uint64_t container_hash_u64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* FNV-1a over bytes, finalised. */
static inline uint64_t container_hash_bytes(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 1099511628211ull;
	return container_hash_u64(h);
}

static inline uint64_t container_hash_str(const char *s)
{
	return container_hash_bytes(s, strlen(s));
}

static inline bool container_eq_u64(uint64_t a, uint64_t b) { return a == b; }
static inline bool container_eq_str(const char *a, const char *b) { return strcmp(a, b) == 0; }

#define DEFINE_VECTOR(name, T)                                                          \
	struct name {                                                                   \
		T *data;                                                                \
		size_t len, cap;                                                        \
	};                                                                              \
	__attribute__((unused)) static inline void name##_init(struct name *v)          \
	{                                                                               \
		v->data = NULL;                                                         \
		v->len = v->cap = 0;                                                    \
	}                                                                               \
	__attribute__((unused)) static inline void name##_deinit(struct name *v)        \
	{                                                                               \
		free(v->data);                                                          \
		name##_init(v);                                                         \
	}                                                                               \
	/* Room for n elements in all. */                                               \
	__attribute__((unused)) static inline bool name##_reserve(struct name *v, size_t n) \
	{                                                                               \
		void *d = v->data;                                                      \
		bool ok = arr_grow(&d, &v->cap, n, sizeof(T), 16);                      \
		v->data = d;                                                            \
		return ok;                                                              \
	}                                                                               \
	/* A new element at the end, zero-filled; NULL when memory runs out. */         \
	__attribute__((unused)) static inline T *name##_push(struct name *v)            \
	{                                                                               \
		if (v->len == SIZE_MAX || !name##_reserve(v, v->len + 1))               \
			return NULL;                                                    \
		T *e = &v->data[v->len++];                                              \
		memset(e, 0, sizeof *e);                                                \
		return e;                                                               \
	}                                                                               \
	__attribute__((unused)) static inline bool name##_append(struct name *v, T x)   \
	{                                                                               \
		T *e = name##_push(v);                                                  \
		if (!e)                                                                 \
			return false;                                                   \
		*e = x;                                                                 \
		return true;                                                            \
	}

#define CONTAINER_CTRL_FULL 0x80u

#define DEFINE_HASH_TABLE(name, E, K, key_of, hash, eq)                                 \
	struct name {                                                                   \
		E *e;                                                                   \
		uint8_t *ctrl;                                                          \
		size_t cap, len; /* cap: 0 or a power of two */                         \
		uint64_t rehashes;                                                      \
	};                                                                              \
	__attribute__((unused)) static inline void name##_init(struct name *m)          \
	{                                                                               \
		memset(m, 0, sizeof *m);                                                \
	}                                                                               \
	__attribute__((unused)) static inline void name##_deinit(struct name *m)        \
	{                                                                               \
		free(m->e);                                                             \
		free(m->ctrl);                                                          \
		name##_init(m);                                                         \
	}                                                                               \
	__attribute__((unused)) static inline void name##_clear(struct name *m)         \
	{                                                                               \
		if (m->ctrl)                                                            \
			memset(m->ctrl, 0, m->cap);                                     \
		m->len = 0;                                                             \
	}                                                                               \
	static inline size_t name##_probe_(const struct name *m, K k, uint64_t h, bool *found) \
	{                                                                               \
		size_t mask = m->cap - 1, i = (size_t)(h >> 7) & mask;                  \
		uint8_t c = (uint8_t)(CONTAINER_CTRL_FULL | (h & 0x7f));                \
		for (;;) {                                                              \
			uint8_t s = m->ctrl[i];                                         \
			if (!s) {                                                       \
				*found = false;                                         \
				return i;                                               \
			}                                                               \
			if (s == c && eq(key_of(&m->e[i]), k)) {                        \
				*found = true;                                          \
				return i;                                               \
			}                                                               \
			i = (i + 1) & mask;                                             \
		}                                                                       \
	}                                                                               \
	/* Room for n entries in all without a rehash. */                               \
	__attribute__((unused)) static inline bool name##_reserve(struct name *m, size_t n) \
	{                                                                               \
		if (n <= m->cap / 4 * 3 && m->cap)                                      \
			return true;                                                    \
		size_t nc = m->cap ? m->cap : 16;                                       \
		while (n > nc / 4 * 3) {                                                \
			if (nc > SIZE_MAX / 2 / sizeof(E))                              \
				return false;                                           \
			nc *= 2;                                                        \
		}                                                                       \
		struct name n_ = {calloc(nc, sizeof(E)), calloc(nc, 1), nc, 0, m->rehashes + 1}; \
		if (!n_.e || !n_.ctrl) {                                                \
			free(n_.e);                                                     \
			free(n_.ctrl);                                                  \
			return false;                                                   \
		}                                                                       \
		for (size_t i = 0; i < m->cap; i++) {                                   \
			if (!m->ctrl[i])                                                \
				continue;                                               \
			bool f;                                                         \
			uint64_t h = hash(key_of(&m->e[i]));                            \
			size_t j = name##_probe_(&n_, key_of(&m->e[i]), h, &f);         \
			n_.e[j] = m->e[i];                                              \
			n_.ctrl[j] = m->ctrl[i];                                        \
			n_.len++;                                                       \
		}                                                                       \
		free(m->e);                                                             \
		free(m->ctrl);                                                          \
		*m = n_;                                                                \
		return true;                                                            \
	}                                                                               \
	/* The entry of key k, or NULL. */                                              \
	__attribute__((unused)) static inline E *name##_find(const struct name *m, K k) \
	{                                                                               \
		if (!m->len)                                                            \
			return NULL;                                                    \
		bool f;                                                                 \
		size_t i = name##_probe_(m, k, hash(k), &f);                            \
		return f ? &m->e[i] : NULL;                                             \
	}                                                                               \
	/* The entry of key k, made (zero-filled but for its key, which the caller   \
	 * sets from k) when absent: *inserted says which.  NULL when memory runs   \
	 * out. */                                                                      \
	__attribute__((unused)) static inline E *name##_insert(struct name *m, K k, bool *inserted) \
	{                                                                               \
		/* Look up first: a present key never grows the table, so entry    \
		 * pointers the caller holds stay valid when nothing is inserted. */ \
		bool f = false;                                                         \
		uint64_t h = hash(k);                                                   \
		size_t i = m->cap ? name##_probe_(m, k, h, &f) : 0;                     \
		if (!f && m->len + 1 > m->cap / 4 * 3) {                                \
			if (!name##_reserve(m, m->len + 1))                             \
				return NULL;                                            \
			i = name##_probe_(m, k, h, &f);                                 \
		}                                                                       \
		if (!f) {                                                               \
			memset(&m->e[i], 0, sizeof(E));                                 \
			m->ctrl[i] = (uint8_t)(CONTAINER_CTRL_FULL | (h & 0x7f));       \
			m->len++;                                                       \
		}                                                                       \
		if (inserted)                                                           \
			*inserted = !f;                                                 \
		return &m->e[i];                                                        \
	}                                                                               \
	/* Iteration: for (E *it = name_first(m); it; it = name_next(m, it)). */       \
	__attribute__((unused)) static inline E *name##_next(const struct name *m, const E *it) \
	{                                                                               \
		size_t i = it ? (size_t)(it - m->e) + 1 : 0;                            \
		for (; i < m->cap; i++)                                                 \
			if (m->ctrl[i])                                                 \
				return &m->e[i];                                        \
		return NULL;                                                            \
	}                                                                               \
	__attribute__((unused)) static inline E *name##_first(const struct name *m)     \
	{                                                                               \
		return name##_next(m, NULL);                                            \
	}

#endif
