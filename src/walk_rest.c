/* walk_rest.c: what the walk did not reach, for the profile's whole-heap
 * accounting: every in-use chunk of the census the walk has not reported
 * (read off the mark map and the list of mmapped chunks, so no structure
 * per byte is added), the chunk size of a reported allocation, and whether
 * a type can own heap at all (to pick the statics worth walking).
 */
#include "walk_int.h"

#include <stddef.h>
#include <stdlib.h>

bool walk_type_owns(struct walk *w, type_id ty)
{
	return dec_type_owns(w->d, ty);
}

/* The 2-bit code of granule g of region r. */
static inline unsigned code_at(const struct wregion *r, uint64_t g)
{
	return (unsigned)(r->bits[g >> 5] >> ((g & 31) * 2)) & 3;
}

/* The distance from granule g to the next granule with a code (the chunk
 * size of an in-use chunk starting at g), 0 when none follows. */
static uint64_t next_code(const struct wregion *r, uint64_t g)
{
	uint64_t granules = (r->end - r->start) >> 4;
	for (uint64_t i = g + 1; i <= granules; i++) {
		if ((i & 31) == 0 && r->bits[i >> 5] == 0) {
			i += 31;
			continue;
		}
		if (code_at(r, i))
			return (i - g) * 16;
	}
	return 0;
}

int walk_unreported(struct walk *w, walk_chunk_fn fn, void *ctx)
{
	size_t b = 0;
	for (size_t ri = 0; ri < w->regions.len; ri++) {
		const struct wregion *r = &w->regions.data[ri];
		uint64_t granules = (r->end - r->start) >> 4;
		for (uint64_t wi = 0; wi <= granules >> 5; wi++) {
			uint64_t word = r->bits[wi];
			/* granules coded 1 (in use, not reported): bit 0 set, bit 1 clear */
			uint64_t ones = word & ~(word >> 1) & 0x5555555555555555ull;
			while (ones) {
				unsigned bit = (unsigned)__builtin_ctzll(ones);
				ones &= ones - 1;
				uint64_t g = wi * 32 + bit / 2;
				uint64_t mem = r->start + g * 16, size = next_code(r, g);
				/* the mmapped chunks below this one first, in address order */
				for (; b < w->big.len && w->big.data[b].mem < mem; b++)
					if (!walk_mem_set_find(&w->extra_seen, w->big.data[b].mem) &&
					    fn(ctx, w->big.data[b].mem, w->big.data[b].size, true))
						return 1;
				if (fn(ctx, mem, size, false))
					return 1;
			}
		}
	}
	for (; b < w->big.len; b++)
		if (!walk_mem_set_find(&w->extra_seen, w->big.data[b].mem) &&
		    fn(ctx, w->big.data[b].mem, w->big.data[b].size, true))
			return 1;
	return 0;
}

uint64_t walk_chunk_size(struct walk *w, uint64_t mem)
{
	for (size_t ri = 0; !(mem & 15) && ri < w->regions.len; ri++) {
		const struct wregion *r = &w->regions.data[ri];
		if (mem < r->start || mem >= r->end)
			continue;
		uint64_t g = (mem - r->start) >> 4;
		return code_at(r, g) & 1 ? next_code(r, g) : 0;
	}
	for (size_t b = 0; b < w->big.len; b++)
		if (w->big.data[b].mem == mem)
			return w->big.data[b].size;
	return 0;
}

struct walk_nodecoder_saved {
	struct walk_nodecoder_vec rows;
};

struct walk_nodecoder_saved *walk_nodecoder_save(struct walk *w)
{
	struct walk_nodecoder_saved *s = malloc(sizeof *s);
	if (!s)
		return NULL;
	s->rows = w->nodec_sum;
	walk_nodecoder_vec_init(&w->nodec_sum);
	return s;
}

void walk_nodecoder_restore(struct walk *w, struct walk_nodecoder_saved *s, uint64_t *bytes, uint64_t *allocations)
{
	*bytes = *allocations = 0;
	if (!s)
		return;
	for (size_t i = 0; i < w->nodec_sum.len; i++) {
		*bytes += w->nodec_sum.data[i].bytes;
		*allocations += w->nodec_sum.data[i].allocations;
	}
	walk_nodecoder_vec_deinit(&w->nodec_sum);
	w->nodec_sum = s->rows;
	free(s);
}
