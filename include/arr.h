/* arr.h: arrays that grow by doubling.
 *
 * Every layer keeps lists whose length it learns only while reading the core
 * (chunks, regions, corruption records, queued visits, op records); this is
 * the one way they grow, with the size arithmetic checked.
 */
#ifndef AGGOP_ARR_H
#define AGGOP_ARR_H

#include <stdbool.h>
#include <stddef.h>

/* Makes room for need elements of elem bytes in *arr, whose capacity is
 * *cap: the capacity doubles (starting from first) until it holds need.
 * False, with *arr and *cap unchanged, when memory runs out or the size
 * would overflow. */
bool arr_grow(void **arr, size_t *cap, size_t need, size_t elem, size_t first);

/* bytes of memory for a big array: like malloc (free() releases it), on
 * transparent huge pages where the kernel allows (arr.c says why). */
void *arr_alloc(size_t bytes);

#endif
