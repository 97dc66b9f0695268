/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "util/buf.h"

static void kv_pairs_are_nul_terminated(void **state)
{
	struct buf b = BUF_INIT;

	assert_int_equal(buf_add_kv(&b, "TargetName", "iqn.x:y"), 0);
	assert_int_equal(buf_add_kv(&b, "A", "1"), 0);
	assert_int_equal(b.len, sizeof("TargetName=iqn.x:y") + sizeof("A=1"));
	assert_memory_equal(b.data, "TargetName=iqn.x:y\0A=1\0", b.len);
	buf_release(&b);
}

static void printf_grows_past_initial_capacity(void **state)
{
	struct buf b = BUF_INIT;
	int i;

	for (i = 0; i < 1000; i++)
		assert_int_equal(buf_printf(&b, "%04d", i), 0);
	assert_int_equal(b.len, 4000);
	assert_memory_equal(b.data + 3996, "0999", 4);
	buf_release(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kv_pairs_are_nul_terminated),
		cmocka_unit_test(printf_grows_past_initial_capacity),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
