/* arr.c: arrays that grow by doubling (see include/arr.h).
 *
 * Big arrays (ARR_HUGE bytes and more: the census's chunk words, the op
 * records, the walker's tables on a production heap) are allocated aligned
 * to a transparent huge page and advised MADV_HUGEPAGE.  A page fault costs
 * the same for 4 KiB as for 2 MiB on most kernels' THP "madvise" setting,
 * and under a hypervisor that shadows page tables a 4 KiB fault costs
 * 10-20 us: on the benchmark core the 4 KiB faults of growing arrays were a
 * second of CPU.  Growth copies into the new block (no mremap), so that the
 * copy lands on huge pages too.  The memory is malloc's: free() releases it.
 */
#include "arr.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define ARR_THP_SIZE (2u << 20)    /* x86-64 and arm64 (4 KiB pages) PMD size */
#define ARR_HUGE (4u << 20)

void *arr_alloc(size_t bytes)
{
	if (bytes < ARR_HUGE)
		return malloc(bytes);
	void *p = NULL;
	if (posix_memalign(&p, ARR_THP_SIZE, bytes) != 0)
		return NULL;
#ifdef MADV_HUGEPAGE
	/* advice only: where THP is off or the range is not eligible, the
	 * memory is ordinary pages */
	size_t whole = bytes & ~(size_t)(ARR_THP_SIZE - 1);
	if (whole)
		madvise(p, whole, MADV_HUGEPAGE);
#endif
	return p;
}

bool arr_grow(void **arr, size_t *cap, size_t need, size_t elem, size_t first)
{
	if (need <= *cap)
		return true;
	size_t nc = *cap ? *cap : (first ? first : 1);
	while (nc < need) {
		if (nc > SIZE_MAX / 2)
			return false;
		nc *= 2;
	}
	if (elem && nc > SIZE_MAX / elem)
		return false;
	void *p;
	if (nc * elem < ARR_HUGE) {
		p = realloc(*arr, nc * elem);
	} else {
		p = arr_alloc(nc * elem);
		if (p && *arr && *cap)
			memcpy(p, *arr, *cap * elem);
		if (p)
			free(*arr);
	}
	if (!p)
		return false;
	*arr = p;
	*cap = nc;
	return true;
}
