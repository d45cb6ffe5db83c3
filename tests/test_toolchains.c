/* test_toolchains.c: the checks of test_shapes.c on the same programs built
 * by other Rust toolchains (tests/setup.d/65-toolchains.sh): Debian 12's
 * rustc 1.63 (queue Once, RawVec with a bare cap, VecDeque's tail + head)
 * and Debian 13's rustc 1.85 (futex Once, COMPLETE = 3), the latter run in a
 * trixie chroot against glibc 2.41.  Each program's figures must equal its
 * own allocation ledger under each toolchain. */
#include "shapes_check.h"

SHAPES_TESTS(deb12)
SHAPES_TESTS(deb13)

int main(void)
{
	const struct CMUnitTest tests[] = {SHAPES_LIST(deb12), SHAPES_LIST(deb13)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
