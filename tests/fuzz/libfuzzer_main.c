/* libfuzzer_main.c: libFuzzer's entry points around a harness (fuzz.h). */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* libFuzzer's flags this project runs every harness with (tests/fuzz/run.sh
 * gives them too), added to the command line when it does not give them
 * itself: `build/fuzz/fuzz_NAME CORPUS` alone then runs as `make fuzz` does.
 * A flag given on the command line wins (the defaults are only appended
 * when no argument starts with the same "-name=").
 *   -entropic=0     the entropic schedule's InputCorpus::UpdateFeatureFrequency
 *                   was 72% of the walk harness's time (93 executions/s
 *                   against 343 without it) and a third of the others';
 *   -reload=0       one process per harness: no other job writes its corpus;
 *   -timeout=10     the tool's contract (an input over 10 s is a finding);
 *   -dict=tests/fuzz/NAME.dict  the harness's dictionary, when the file is
 *                   there (NAME from argv[0], build/fuzz/fuzz_NAME; the path
 *                   is relative to the repository, where the harnesses run).
 * libFuzzer calls LLVMFuzzerInitialize before it parses the flags and
 * documents that it may change argv. */
static void add_default_flags(int *argc, char ***argv)
{
	static char *args[256];
	static char dict[4096];
	const char *defaults[] = {"-entropic=0", "-reload=0", "-timeout=10", NULL};
	int n = *argc;

	if (n < 1 || n > 200)
		return;
	const char *base = strrchr((*argv)[0], '/');
	base = base ? base + 1 : (*argv)[0];
	if (strncmp(base, "fuzz_", 5) == 0) {
		snprintf(dict, sizeof dict, "-dict=tests/fuzz/%s.dict", base + 5);
		if (access(dict + 6, R_OK) == 0)
			defaults[3] = dict;
	}
	memcpy(args, *argv, (size_t)n * sizeof *args);
	for (size_t d = 0; d < sizeof defaults / sizeof defaults[0] && defaults[d]; d++) {
		size_t key = (size_t)(strchr(defaults[d], '=') - defaults[d]) + 1;
		bool given = false;
		for (int i = 1; i < *argc; i++)
			if (strncmp((*argv)[i], defaults[d], key) == 0)
				given = true;
		if (!given)
			args[n++] = (char *)defaults[d];
	}
	args[n] = NULL;
	*argc = n;
	*argv = args;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	add_default_flags(argc, argv);
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
