/* sorted.h: binary search over arrays of records sorted by a u64 key.
 *
 * Several layers keep records sorted by an address or an index (the core's
 * segments and file mappings, heap regions, the census's size exceptions,
 * the walker's regions and mmapped chunks, the types' vtables) and look one
 * up by exact key or by the range holding an address; this is that search,
 * once.
 */
#ifndef AGGOP_SORTED_H
#define AGGOP_SORTED_H

#include <stddef.h>
#include <stdint.h>

/* The first index in [0, n) whose record's key (the uint64_t at byte
 * key_off of the record, records stride bytes apart) is >= key; n if none. */
size_t sorted_lower_bound(const void *base, size_t n, size_t stride, size_t key_off, uint64_t key);

/* The first index in [0, n) whose record's key is > key; n if none (so the
 * record at that index - 1, if any, is the last one with key <= key). */
size_t sorted_upper_bound(const void *base, size_t n, size_t stride, size_t key_off, uint64_t key);

/* The index of the record whose key equals key, or SIZE_MAX. */
size_t sorted_find(const void *base, size_t n, size_t stride, size_t key_off, uint64_t key);

#endif
