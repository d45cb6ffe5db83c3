/* libfuzzer_main.c: libFuzzer's entry points around a harness (fuzz.h). */
#include "fuzz.h"

#include <stdlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max, unsigned int seed);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max);

const char *__ubsan_default_options(void);
const char *__asan_default_options(void);

/* UBSan recovers only to be able to skip the known findings listed in
 * tests/fuzz/ubsan.supp; everything else still stops the run. */
const char *__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1:suppressions=tests/fuzz/ubsan.supp";
}

/* A small quarantine: with ASan's default 256 MB every allocation of a run
 * lands on fresh pages, and the page faults were a quarter of the walk
 * harness's time.  Use-after-free is still caught within the last 16 MB
 * freed (a run of any harness frees far less).  No malloc fill for the
 * same reason (uninitialised reads are MSan's job, not this build's).
 * Allocation stacks of 10 frames (30 by default: hashing and storing them
 * was a tenth of the types harness; a finding is replayed with full stacks
 * by fuzz-replay-NAME in the ASan build), and no periodic release of freed
 * memory to the kernel (its madvise and the page faults after it). */
const char *__asan_default_options(void)
{
	return "quarantine_size_mb=16:max_malloc_fill_size=0:malloc_context_size=10:allocator_release_to_os_interval_ms=-1";
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_dwarf_filter_known = true;
	if (fuzz_init() != 0)
		exit(1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_one(data, size);
	return 0;
}

/* Every harness has a structure-aware mutator (fuzz_mutate); it may hand
 * parts of the input to libFuzzer's own. */
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max, unsigned int seed)
{
	return fuzz_mutate(data, size, max, seed, LLVMFuzzerMutate);
}
