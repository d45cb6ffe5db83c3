/* fuzz.h: what every fuzz harness in tests/fuzz/ provides, and the helpers
 * they share (fuzz_util.c).
 *
 * One harness per layer (fuzz_image.c, fuzz_types.c, fuzz_heap.c,
 * fuzz_walk.c, fuzz_layout.c).  Each is linked twice:
 *   - with libfuzzer_main.c into build/fuzz/fuzz_NAME (clang,
 *     -fsanitize=fuzzer,address,undefined): `make fuzz`;
 *   - with replay_main.c into BUILD/tests/fuzz-replay-NAME (the project's
 *     compiler and flags, so the ASan build replays under ASan): runs the
 *     harness body once on each input file, without libFuzzer, and can write
 *     an input out as the files the shipped binary takes
 *     (tests/e2e_fuzz.sh runs both on the corpus and tests/fuzz/regressions/).
 *
 * Each harness also has a structure-aware mutator (fuzz_mutate, libFuzzer's
 * LLVMFuzzerCustomMutator): ELF program headers and notes (image), DWARF
 * section records (types, layout), the fields of the synthetic core
 * (synth.h: heap, walk); and a dictionary (tests/fuzz/NAME.dict).
 *
 * Harnesses open their inputs through paths (the library takes paths and
 * has no open-from-memory), so each input is written to a memfd and named
 * /proc/self/fd/N; expensive setup (type index, template ELF, synthetic
 * core) happens once per process in fuzz_init.  The fixtures
 * a harness builds on are found under $FIXDIR (default build/fixtures) and
 * tests/fuzz/data/ (committed); a harness whose fixture is missing says so
 * in fuzz_init and the caller skips it.  `make fuzz-build` makes the two
 * fixtures the harnesses load when they are missing (generic/shapes with
 * rustc, probes/c/exe from tests/fuzz/data/cprobe-exe.gz: see the Makefile),
 * so that it is enough in a clean clone.
 *
 * Run alone, `build/fuzz/fuzz_NAME tests/fuzz/corpus/NAME` runs with the
 * libFuzzer flags `make fuzz` gives (-entropic=0, -reload=0, -timeout=10
 * and -dict=tests/fuzz/NAME.dict, from the repository's root): the harness
 * adds each to its command line when the command line does not give it
 * (libfuzzer_main.c, add_default_flags; a flag given always wins).
 */
#ifndef AGGOP_FUZZ_H
#define AGGOP_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Once per process: 0, or -1 after printing (one line) what is missing. */
int fuzz_init(void);
/* The harness body: must not crash, leak or hang on any input. */
void fuzz_one(const uint8_t *data, size_t size);
/* The structure-aware mutator (libfuzzer_main.c's LLVMFuzzerCustomMutator):
 * mutates data (size bytes, room for max) in place and returns the new
 * size; seed is libFuzzer's.  bytes is libFuzzer's own byte-level mutator
 * (LLVMFuzzerMutate), for the parts a harness mutates as bytes. */
typedef size_t (*fuzz_bytes_fn)(uint8_t *data, size_t size, size_t max);
size_t fuzz_mutate(uint8_t *data, size_t size, size_t max, unsigned seed, fuzz_bytes_fn bytes);
/* The harness's base input when it builds one (the heap and walk
 * harnesses' synthetic core): 0, or -1 when it has none. */
int fuzz_base(const uint8_t **data, size_t *size);
/* Writes the input as files in dir and the shipped binary's arguments,
 * one per line, to args.  0, or -1 when this harness has no such form. */
int fuzz_materialize(const uint8_t *data, size_t size, const char *dir, FILE *args);

/* ---- helpers (fuzz_util.c) ---- */

/* A memfd holding bytes, and its path.  fuzz_file_set replaces the content. */
struct fuzz_file {
	int fd;
	char path[64];
};
int fuzz_file_init(struct fuzz_file *f, const char *name);
int fuzz_file_set(struct fuzz_file *f, const void *data, size_t size);

/* Reads a whole file (gzip-compressed when the name ends in .gz) into a
 * malloc'd buffer; NULL on failure. */
uint8_t *fuzz_slurp(const char *path, size_t *size);
/* Writes a file; 0 or -1. */
int fuzz_write(const char *path, const void *data, size_t size);

/* $FIXDIR/rel (FIXDIR defaults to build/fixtures) and
 * $AGGOP_FUZZ_DATA/rel (default tests/fuzz/data), into a static buffer
 * each (valid until the next call of the same function). */
const char *fuzz_fixture(const char *rel);
const char *fuzz_data(const char *rel);

/* A FILE that discards what is written (for the renderers). */
FILE *fuzz_devnull(void);

/* Little-endian readers. */
uint32_t fuzz_rd32(const uint8_t *p);
uint64_t fuzz_rd64(const uint8_t *p);

/* The ELF of the DWARF harnesses (fuzz_types.c, fuzz_layout.c): the template
 * executable tests/fuzz/data/dwarfprog with the debug sections an input
 * names replaced.  Input: records [u8 section][u32 length][bytes], section
 * indexing fuzz_dwarf_sections (mod its count); a length past the input's
 * end is cut to it.  Returns the path of a memfd holding the ELF, or NULL. */
extern const char *const fuzz_dwarf_sections[];
int fuzz_dwarf_init(void);
const char *fuzz_dwarf_elf(const uint8_t *data, size_t size);
/* Known bugs outside this project the fuzzers step around (the replay does
 * not: a regression input must still fail until its bug is fixed).  When
 * set (libfuzzer_main.c sets it), fuzz_dwarf_elf refuses inputs whose
 * .debug_rnglists libdwarf 20210528 would double-free on (see
 * fuzz_rnglists_ok). */
extern bool fuzz_dwarf_filter_known;
bool fuzz_rnglists_ok(const uint8_t *p, size_t size);
/* The records' structure-aware mutator (fuzz_types.c, fuzz_layout.c):
 * libFuzzer's byte mutations inside one section with its length kept true,
 * DWARF encodings (abbreviation tags, attributes and forms, offsets and
 * references, LEB128 continuation), a record moved to another section, cut
 * or lengthened, dropped or repeated. */
size_t fuzz_dwarf_mutate(uint8_t *data, size_t size, size_t max, unsigned seed, fuzz_bytes_fn bytes);
/* For fuzz_materialize: the ELF of an input written to DIR/exe, whose path
 * is left in path (n bytes).  0 or -1. */
int fuzz_dwarf_write(const uint8_t *data, size_t size, const char *dir, char *path, size_t n);

/* The PT_LOAD of an ELF core (in memory, the harness's own base: trusted)
 * whose memory holds addr: its address, file offset and file size.  0, or
 * -1 when no PT_LOAD holds addr. */
int fuzz_core_load(const uint8_t *core, uint64_t addr, uint64_t *vaddr, uint64_t *offset, uint64_t *filesz);

#endif
