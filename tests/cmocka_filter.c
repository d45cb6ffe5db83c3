/* cmocka_filter.c: linked into every cmocka test binary.  `make check
 * T=test_NAME:PATTERN` (tests/run.sh) sets CMOCKA_FILTER=PATTERN, and this
 * constructor hands it to cmocka before main runs, so one case of one test can
 * be run without touching the tests' own main(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

__attribute__((constructor)) static void test_filter_from_env(void)
{
	const char *pattern = getenv("CMOCKA_FILTER");
	if (pattern && *pattern)
		cmocka_set_test_filter(pattern);
}
