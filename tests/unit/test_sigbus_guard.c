// SPDX-License-Identifier: MIT
/* The SIGBUS guard: a mapped file cut short under a guarded read ends that read, says where,
 * and leaves the caller (and an outer guard) to carry on. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "sigbus_guard.h"

#define PAGE 4096

struct mapped {
	int fd;
	volatile unsigned char *p;
	unsigned sum;
};

/* A 4-page file, mapped, then cut to its first page. */
static struct mapped map_cut_file(void)
{
	char path[] = "/tmp/weft-unit-sigbus-XXXXXX";
	struct mapped m = { .fd = mkstemp(path) };

	sigbus_guard_install(); /* over cmocka's own handler, set for each test */
	assert_true(m.fd >= 0);
	unlink(path);
	assert_int_equal(ftruncate(m.fd, 4 * PAGE), 0);
	m.p = mmap(NULL, 4 * PAGE, PROT_READ, MAP_SHARED, m.fd, 0);
	assert_true(m.p != MAP_FAILED);
	assert_int_equal(ftruncate(m.fd, PAGE), 0);
	return m;
}

static void unmap(struct mapped *m)
{
	munmap((void *)m->p, 4 * PAGE);
	close(m->fd);
}

static void read_first_page(void *arg)
{
	struct mapped *m = arg;

	m->sum += m->p[0] + m->p[PAGE - 1];
}

static void read_third_page(void *arg)
{
	struct mapped *m = arg;

	m->sum += m->p[2 * PAGE + 8];
	m->sum += 1000; /* not reached */
}

static void test_read_within_the_file(void **state)
{
	struct mapped m = map_cut_file();
	void *fault = NULL;

	assert_int_equal(sigbus_guard(read_first_page, &m, &fault), 0);
	assert_null(fault);
	assert_int_equal(m.sum, 0);
	unmap(&m);
}

static void test_read_past_the_end_faults_there(void **state)
{
	struct mapped m = map_cut_file();
	void *fault = NULL;

	assert_int_equal(sigbus_guard(read_third_page, &m, &fault), -EFAULT);
	assert_ptr_equal(fault, (void *)(m.p + 2 * PAGE + 8));
	assert_int_equal(m.sum, 0);
	/* again: the signal is not left blocked by the first jump out of its handler */
	assert_int_equal(sigbus_guard(read_third_page, &m, NULL), -EFAULT);
	unmap(&m);
}

struct nested {
	struct mapped *m;
	int inner;
	int after_inner;
};

static void inner_then_more(void *arg)
{
	struct nested *n = arg;

	n->inner = sigbus_guard(read_third_page, n->m, NULL);
	n->after_inner = 1;
	read_third_page(n->m); /* the outer guard's */
}

static void test_nested_guards_end_the_innermost(void **state)
{
	struct mapped m = map_cut_file();
	struct nested n = { .m = &m };

	assert_int_equal(sigbus_guard(inner_then_more, &n, NULL), -EFAULT);
	assert_int_equal(n.inner, -EFAULT);
	assert_int_equal(n.after_inner, 1);
	unmap(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_within_the_file),
		cmocka_unit_test(test_read_past_the_end_faults_there),
		cmocka_unit_test(test_nested_guards_end_the_innermost),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
