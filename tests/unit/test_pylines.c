// SPDX-License-Identifier: MIT
/* Python line numbers from CPython 3.11's location tables, against CPython's own answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "analyze/pylines.h"

/*
 * A function made to use every kind of entry (lines one, two and 200 apart, a statement over
 * two lines, a comprehension), compiled by CPython and read back with code.co_lines(): the line
 * of each instruction offset. (Generated once; the test needs no Python.)
 */
/* 3.11.2: sample()'s co_linetable, first line 2 */
static const uint8_t table[] = {
	0x80, 0x00, 0xd8, 0x08, 0x09, 0x88, 0x41, 0x89, 0x05, 0x80, 0x41, 0xd8,
	0x07, 0x08, 0x88, 0x32, 0x82, 0x76, 0x80, 0x76, 0xf0, 0x02, 0x01, 0x0d,
	0x20, 0xf0, 0x00, 0x01, 0x0d, 0x20, 0xdd, 0x16, 0x1b, 0x98, 0x41, 0x91,
	0x68, 0x94, 0x68, 0xf0, 0x03, 0x01, 0x0d, 0x20, 0xf1, 0x00, 0x01, 0x0d,
	0x20, 0xf4, 0x00, 0x01, 0x0d, 0x20, 0x88, 0x01, 0x88, 0x01, 0xf0, 0x06,
	0x00, 0x0d, 0x11, 0x88, 0x01, 0xf0, 0x08, 0x00, 0x0a, 0x0b, 0xd8, 0x09,
	0x0a, 0xf0, 0x03, 0x01, 0x09, 0x0c, 0x80, 0x41, 0xf0, 0x54, 0x06, 0x00,
	0x0c, 0x0d, 0x88, 0x61, 0x90, 0x11, 0x88, 0x37, 0x80, 0x4e,
};
static const struct { uint32_t offset; int32_t line; } lines[] = {
	{ 0, 2 }, { 2, 3 }, { 4, 3 }, { 6, 3 }, { 8, 3 }, { 10, 3 },
	{ 12, 4 }, { 14, 4 }, { 16, 4 }, { 18, 4 }, { 20, 4 }, { 22, 4 },
	{ 24, 5 }, { 26, 5 }, { 28, 6 }, { 30, 6 }, { 32, 6 }, { 34, 6 },
	{ 36, 6 }, { 38, 6 }, { 40, 6 }, { 42, 6 }, { 44, 6 }, { 46, 6 },
	{ 48, 6 }, { 50, 6 }, { 52, 6 }, { 54, 6 }, { 56, 5 }, { 58, 5 },
	{ 60, 5 }, { 62, 5 }, { 64, 5 }, { 66, 5 }, { 68, 5 }, { 70, 5 },
	{ 72, 5 }, { 74, 5 }, { 76, 8 }, { 78, 8 }, { 80, 12 }, { 82, 13 },
	{ 84, 12 }, { 86, 12 }, { 88, 214 }, { 90, 214 }, { 92, 214 }, { 94, 214 },
	{ 96, 214 },
};
#define FIRST 2
#define CODE_BYTES 98

static void test_every_instruction_has_cpythons_line(void **state)
{
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		assert_int_equal(py_linetable_line(table, sizeof(table), FIRST, lines[i].offset),
				 lines[i].line);
}

static void test_past_the_table_or_malformed(void **state)
{
	static const uint8_t not_an_entry[] = { 0x08, 0x80 };
	/* a long-form entry cut short in its line delta */
	static const uint8_t cut[] = { 0xf0, 0x43 };

	assert_int_equal(py_linetable_line(table, sizeof(table), FIRST, CODE_BYTES), -1);
	assert_int_equal(py_linetable_line(table, 0, FIRST, 0), -1);
	assert_int_equal(py_linetable_line(not_an_entry, sizeof(not_an_entry), FIRST, 0), -1);
	py_linetable_line(cut, sizeof(cut), FIRST, 0); /* any answer, within bounds */
}

/* A code object and its line table laid out as CPython 3.11 lays them out, in this process:
 * read back through process_vm_readv, as from a traced one. */
static void test_table_read_from_the_process(void **state)
{
	static uint64_t code[32], bytes[(32 + sizeof(table)) / 8 + 1];
	struct py_lines pl = { 0 };

	code[136 / 8] = (uint64_t)(uintptr_t)bytes;
	bytes[16 / 8] = sizeof(table);
	memcpy((char *)bytes + 32, table, sizeof(table));
	assert_int_equal(py_lines_line(&pl, getpid(), (uint64_t)(uintptr_t)code, 88, FIRST), 214);
	/* read once: a changed table is not read again */
	bytes[16 / 8] = 0;
	assert_int_equal(py_lines_line(&pl, getpid(), (uint64_t)(uintptr_t)code, 82, FIRST), 13);
	/* no line for the offset, no code object, no instruction: the first line */
	assert_int_equal(py_lines_line(&pl, getpid(), (uint64_t)(uintptr_t)code, 4000, FIRST),
			 FIRST);
	assert_int_equal(py_lines_line(&pl, getpid(), 0, 82, FIRST), FIRST);
	assert_int_equal(py_lines_line(&pl, getpid(), (uint64_t)(uintptr_t)code, UINT32_MAX,
				       FIRST), FIRST);
	py_lines_free(&pl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_instruction_has_cpythons_line),
		cmocka_unit_test(test_past_the_table_or_malformed),
		cmocka_unit_test(test_table_read_from_the_process),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
