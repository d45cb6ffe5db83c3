/* synth.h: the synthetic minimal core of the heap and walk harnesses
 * (synth.c builds and mutates it).
 *
 * A few KiB of ELF core that the tool reads as a glibc 2.35+ process running
 * the generic fixture's program (fixtures/generic/shapes.rs):
 *   - libc's data: main_arena (a malloc_state whose bins point at
 *     themselves, ring of one) and mp_ (malloc_par), file-backed per NT_FILE;
 *   - the brk heap: tcache_perthread_struct, the chunks of the values below,
 *     one chunk in tcache, one in a fastbin, one in the unsorted bin, top;
 *   - one mmapped chunk (a Vec buffer);
 *   - the executable's data at link addresses (the process is loaded at
 *     bias 0): the static TABLE (OnceLock<Mutex<HashMap<u64, Vec<Shape>>>>)
 *     and the vtables the Box<dyn Describe> values point at.
 * The values are written from a typed description (synth.c: entities of
 * Shape ops, each a variant with its parameters) through the executable's
 * DWARF: every offset, size and discriminant comes from the type index, none
 * is written down here.  Alongside the bytes the builder lists the fields
 * worth mutating (chunk headers, free-list links, container pointers,
 * lengths, capacities, enum tags, hash control bytes) with their file
 * offsets, so that synth_mutate changes structure rather than bytes.
 */
#ifndef AGGOP_FUZZ_SYNTH_H
#define AGGOP_FUZZ_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "types.h"

enum synth_kind {
	SF_CHUNK,     /* a chunk header's size word (size | flags) */
	SF_PREVSIZE,  /* a chunk header's prev_size */
	SF_LINK,      /* a free-list link: fd, bk, tcache/fastbin next, bin heads, top, arena next */
	SF_COUNT,     /* a glibc counter: tcache counts, system_mem, n_mmaps, mmapped_mem */
	SF_PTR,       /* a container's pointer (buffer, Box, Arc, node, ctrl, vtable) */
	SF_LEN,       /* a length, item count, head index, reference count */
	SF_CAP,       /* a capacity or bucket mask */
	SF_TAG,       /* an enum's tag (alt: the first discriminant, nalt: how many) */
	SF_CTRL,      /* a hashbrown control byte */
	SF_STATE,     /* a Once state word */
	SF_NKINDS
};

struct synth_field {
	uint64_t off;        /* file offset in the core */
	uint64_t addr;       /* the address it is at */
	uint8_t width;       /* 1, 2, 4 or 8 bytes */
	uint8_t kind;        /* enum synth_kind */
	uint64_t value;      /* as built */
	uint64_t alt;        /* SF_TAG: the first valid discriminant */
	uint32_t nalt;       /* SF_TAG: how many follow it */
};

struct synth_core {
	uint8_t *bytes;
	size_t size;
	struct synth_field *fields;
	size_t nfields;
	uint64_t *addrs;     /* chunk user pointers and segment bounds: pointer material */
	size_t naddrs;
	uint64_t heap_lo, heap_hi;   /* the brk heap's file offsets */
};

/* Builds the core from the program whose DWARF t indexes (the generic
 * fixture's `shapes`; entry: its e_entry, recorded as AT_ENTRY so that the
 * load bias is 0).  0, or an error naming what the DWARF lacks. */
int synth_build(struct synth_core *out, const struct types *t, uint64_t entry, struct err *e);
/* Once per process: the generic fixture's executable ($FIXDIR/generic/shapes),
 * its type index in *t and the core built from it in c.  0, or -1 after
 * printing (one line) what is missing. */
int synth_fixture(struct synth_core *c, struct types **t, char *exe, size_t n);
void synth_free(struct synth_core *c);

/* The structure-aware mutation of an input derived from the core c (same
 * layout; inputs of another size are replaced by c itself): 1 to 4 field
 * changes, chosen by kind with weights w[SF_NKINDS] (0: never), plus now and
 * then a byte-level change inside the brk heap (through mutate_bytes, e.g.
 * LLVMFuzzerMutate, when given).  Returns the new size. */
typedef size_t (*synth_byte_mutator)(uint8_t *data, size_t size, size_t max);
size_t synth_mutate(const struct synth_core *c, const unsigned w[SF_NKINDS], uint8_t *data, size_t size,
		    size_t max, unsigned seed, synth_byte_mutator mutate_bytes);

#endif
