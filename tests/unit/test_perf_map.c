// SPDX-License-Identifier: MIT
/* JIT symbols from a perf map: lookups, later entries winning, a grown file read again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <cmocka.h>

#include <string.h>

#include "symbolize/sym_internal.h"

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
	struct sym_proc p;
	char path[64];

	write_map("7f0000001000 100 $global::process_main\n"
		  "7f0000002000 40 flood:sink/2\n"
		  "garbage line\n"
		  "7f0000002000 40 flood:sink/2 (recompiled)\n", "w");
	memset(&p, 0, sizeof(p));
	p.pid = FAKE_PID;
	assert_string_equal(perf_map_lookup(&p, 0x7f0000001000), "$global::process_main");
	assert_string_equal(perf_map_lookup(&p, 0x7f00000010ff), "$global::process_main");
	assert_null(perf_map_lookup(&p, 0x7f0000001100));
	assert_string_equal(perf_map_lookup(&p, 0x7f0000002010), "flood:sink/2 (recompiled)");
	write_map("7f0000003000 10 flood:spin/1\n", "a"); /* the JIT compiled more */
	assert_string_equal(perf_map_lookup(&p, 0x7f0000003004), "flood:spin/1");
	perf_map_free(p.perf_map);
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", FAKE_PID);
	unlink(path);
	memset(&p, 0, sizeof(p));
	p.pid = FAKE_PID;
	assert_null(perf_map_lookup(&p, 0x7f0000001000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
