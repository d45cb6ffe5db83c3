/* test_err.c: the error record (err.h): err_wrap keeps the failing call's
 * code, with or without a record, and cuts the combined line at the
 * record's size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "err.h"

static void test_wrap_null_keeps_code(void **state)
{
	(void)state;
	/* without a record the code is the one the caller passes, never a
	 * fixed ERR_INPUT */
	assert_int_equal(err_wrap(NULL, ERR_NOMEM, "x"), ERR_NOMEM);
	assert_int_equal(err_wrap(NULL, ERR_FAULT, "x"), ERR_FAULT);
	assert_int_equal(err_wrap(NULL, ERR_NOTFOUND, "x"), ERR_NOTFOUND);
}

static void test_wrap_prefixes(void **state)
{
	(void)state;
	struct err e = {0};
	assert_int_equal(err_fault(&e, 0x1000, "memory not saved in core dump at 0x%x", 0x1000), ERR_FAULT);
	assert_int_equal(err_wrap(&e, ERR_FAULT, "root %s", "TABLE"), ERR_FAULT);
	assert_int_equal(e.code, ERR_FAULT);
	assert_true(e.addr == 0x1000);
	assert_string_equal(e.msg, "root TABLE: memory not saved in core dump at 0x1000");
	/* the record's code follows the code returned */
	assert_int_equal(err_wrap(&e, ERR_NOMEM, "again"), ERR_NOMEM);
	assert_int_equal(e.code, ERR_NOMEM);
}

static void test_wrap_cut(void **state)
{
	(void)state;
	struct err e = {0};
	char big[2000];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = 0;
	err_set(&e, ERR_INPUT, "%s", big);
	assert_int_equal(err_wrap(&e, ERR_INPUT, "%s", "prefix"), ERR_INPUT);
	assert_int_equal(strlen(e.msg), sizeof e.msg - 1);
	assert_memory_equal(e.msg, "prefix: a", 9);
	/* a long context is cut (at 255 bytes), the old message kept */
	err_set(&e, ERR_INPUT, "old");
	assert_int_equal(err_wrap(&e, ERR_INPUT, "%s", big), ERR_INPUT);
	assert_int_equal(strlen(e.msg), 255 + 5);
	assert_string_equal(e.msg + 255, ": old");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wrap_null_keeps_code),
		cmocka_unit_test(test_wrap_prefixes),
		cmocka_unit_test(test_wrap_cut),
	};
	return cmocka_run_group_tests_name("err", tests, NULL, NULL);
}
