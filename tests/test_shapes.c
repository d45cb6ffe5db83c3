/* test_shapes.c: the programs of fixtures/shapes/ built by rustup's rustc
 * (tests/setup.d/60-shapes.sh): one std container shape per variant of
 * std_shapes.rs, one packaged crate's container per variant of
 * fixtures/shapes/crates, and opaque.rs's heap behind raw and private
 * pointers, each compared with the program's own allocation ledger
 * (tests/shapes_check.h says what each check requires). */
#include "shapes_check.h"

SHAPES_TESTS(host)

int main(void)
{
	const struct CMUnitTest tests[] = {SHAPES_LIST(host)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
