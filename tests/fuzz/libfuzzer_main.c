/* libfuzzer_main.c: libFuzzer's entry points around a harness (fuzz.h). */
#include "fuzz.h"

#include <stdlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

const char *__ubsan_default_options(void);

/* UBSan recovers only to be able to skip the known findings listed in
 * tests/fuzz/ubsan.supp; everything else still stops the run. */
const char *__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1:suppressions=tests/fuzz/ubsan.supp";
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
