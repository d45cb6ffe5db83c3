/* sorted.c: binary search over arrays of records sorted by a u64 key (see
 * include/sorted.h). */
#include "sorted.h"

#include <string.h>

static uint64_t key_at(const void *base, size_t i, size_t stride, size_t key_off)
{
	uint64_t k;
	memcpy(&k, (const unsigned char *)base + i * stride + key_off, sizeof k);
	return k;
}

size_t sorted_lower_bound(const void *base, size_t n, size_t stride, size_t key_off, uint64_t key)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (key_at(base, mid, stride, key_off) < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t sorted_upper_bound(const void *base, size_t n, size_t stride, size_t key_off, uint64_t key)
{
	return key == UINT64_MAX ? n : sorted_lower_bound(base, n, stride, key_off, key + 1);
}

size_t sorted_find(const void *base, size_t n, size_t stride, size_t key_off, uint64_t key)
{
	size_t i = sorted_lower_bound(base, n, stride, key_off, key);
	return i < n && key_at(base, i, stride, key_off) == key ? i : SIZE_MAX;
}
