// SPDX-License-Identifier: MIT
/* JIT symbols from a perf map: lookups, later entries winning, a grown file read again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <cmocka.h>

#include "symbolize/perf_map.h"

#define FAKE_PID 999999 /* above the default pid_max: no real process writes this map */

static void write_map(const char *text, const char *mode)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/perf-%d.map", FAKE_PID);
	f = fopen(path, mode);
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_lookup(void **state)
{
	struct perf_map *m;
	char path[64];

	write_map("7f0000001000 100 $global::process_main\n"
		  "7f0000002000 40 flood:sink/2\n"
		  "garbage line\n"
		  "7f0000002000 40 flood:sink/2 (recompiled)\n", "w");
	m = perf_map_open(FAKE_PID);
	assert_non_null(m);
	assert_string_equal(perf_map_lookup(m, 0x7f0000001000), "$global::process_main");
	assert_string_equal(perf_map_lookup(m, 0x7f00000010ff), "$global::process_main");
	assert_null(perf_map_lookup(m, 0x7f0000001100));
	assert_string_equal(perf_map_lookup(m, 0x7f0000002010), "flood:sink/2 (recompiled)");
	write_map("7f0000003000 10 flood:spin/1\n", "a"); /* the JIT compiled more */
	assert_string_equal(perf_map_lookup(m, 0x7f0000003004), "flood:spin/1");
	perf_map_free(m);
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", FAKE_PID);
	unlink(path);
	assert_null(perf_map_open(FAKE_PID));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
