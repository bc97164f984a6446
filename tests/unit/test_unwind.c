// SPDX-License-Identifier: MIT
/* DWARF unwinding of a stack snapshot taken inside a libc callback, as BPF would copy it. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <dlfcn.h>

#include "symbolize/symbolize.h"

#define MAX_FRAMES 64

/*
 * The snapshot: registers and up to WEFT_USTACK_BYTES of stack from rsp, captured in the qsort
 * comparator while libc's merge sort (no frame pointers) is on the stack between it and
 * app_caller_for_unwind(). Taken once, in main(), before cmocka adds its own frames.
 */
static uint64_t g_regs[WEFT_UREGS];
static uint8_t g_stack[WEFT_USTACK_BYTES];
static size_t g_stack_len;
static uint64_t g_stack_end; /* end of the mapping that holds the stack: never read past it */
static int g_captured;

/* Copies live stack, as BPF does: the sanitizers' poisoned redzones are part of it, so no
 * instrumentation and no intercepted memcpy. */
static __attribute__((noinline, no_sanitize_address)) void copy_stack(void)
{
	uint64_t sp = g_regs[WEFT_UREG_SP];
	const volatile uint8_t *src = (const volatile uint8_t *)(uintptr_t)sp;

	g_stack_len = g_stack_end - sp < sizeof(g_stack) ? g_stack_end - sp : sizeof(g_stack);
	for (size_t i = 0; i < g_stack_len; i++)
		g_stack[i] = src[i];
}

/*
 * The application functions keep frame pointers, so the frame-pointer walk below fails only
 * because of libc: that is the case DWARF unwinding exists for.
 */
#define WITH_FP __attribute__((noinline, optimize("no-omit-frame-pointer")))

static WITH_FP int cmp_capture(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	if (!g_captured) {
		g_captured = 1;
		/* One asm block: every register is read at the same pc, the one stored as ip. */
		__asm__ volatile("1: leaq 1b(%%rip), %%r11\n\t"
				 "movq %%r11, %0\n\t"
				 "movq %%rsp, %1\n\t"
				 "movq %%rbp, %2\n\t"
				 "movq %%rbx, %3\n\t"
				 "movq %%r12, %4\n\t"
				 "movq %%r13, %5\n\t"
				 "movq %%r14, %6\n\t"
				 "movq %%r15, %7\n\t"
				 : "=m"(g_regs[WEFT_UREG_IP]), "=m"(g_regs[WEFT_UREG_SP]),
				   "=m"(g_regs[WEFT_UREG_BP]), "=m"(g_regs[WEFT_UREG_BX]),
				   "=m"(g_regs[WEFT_UREG_R12]), "=m"(g_regs[WEFT_UREG_R13]),
				   "=m"(g_regs[WEFT_UREG_R14]), "=m"(g_regs[WEFT_UREG_R15])
				 :
				 : "r11");
		copy_stack();
	}
	return (x > y) - (x < y);
}

typedef void (*qsort_fn)(void *, size_t, size_t, int (*)(const void *, const void *));

/* libc's own qsort: sanitizer builds (make SAN=...) interpose theirs, which keeps frame pointers. */
static qsort_fn libc_qsort;

WITH_FP int app_caller_for_unwind(int seed)
{
	int v[16], i;

	for (i = 0; i < 16; i++)
		v[i] = (seed * 7 + i * 13) % 17;
	libc_qsort(v, 16, sizeof(v[0]), cmp_capture);
	/* Work after the call keeps it a call, not a tail jump. */
	__asm__ volatile("" : : "r"(v) : "memory");
	return v[0] + v[15];
}

WITH_FP int unwind_outer(int seed)
{
	int r = app_caller_for_unwind(seed);

	__asm__ volatile("" : "+r"(r) : : "memory");
	return r + 1;
}

/* End of the /proc/self/maps mapping that contains addr. */
static uint64_t mapping_end(uint64_t addr)
{
	uint64_t start, end, found = 0;
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%" SCNx64 "-%" SCNx64, &start, &end) == 2 && addr >= start &&
		    addr < end)
			found = end;
	fclose(f);
	return found;
}

struct resolved {
	int n;
	const char *func[MAX_FRAMES];
	const char *module[MAX_FRAMES];
};

static void resolve_all(struct sym *s, const uint64_t *ips, int n, struct resolved *r)
{
	int i;

	r->n = n;
	for (i = 0; i < n; i++) {
		/* Return addresses point after the call: look up the call instruction. */
		uint64_t lookup = i ? ips[i] - 1 : ips[i];
		struct sym_loc loc;

		sym_resolve_user(s, getpid(), ips[i], lookup, &loc);
		r->func[i] = loc.function ? loc.function : "?";
		r->module[i] = loc.module ? loc.module : "?";
	}
}

static void print_stack(const char *title, const struct resolved *r)
{
	int i;

	print_message("%s:\n", title);
	for (i = 0; i < r->n; i++)
		print_message("  #%-2d %-32s %s\n", i, r->func[i], r->module[i]);
}

static int find_frame(const struct resolved *r, const char *name)
{
	int i;

	for (i = 0; i < r->n; i++)
		if (!strcmp(r->func[i], name))
			return i;
	return -1;
}

static void test_dwarf_unwind_through_libc(void **state)
{
	uint64_t ips[MAX_FRAMES];
	struct sym *s = sym_new();
	struct resolved r = { 0 };
	int n, i, caller, libc_frames = 0, sort_frames = 0;

	assert_true(g_captured);
	assert_int_equal(sym_proc_load(s, getpid()), 0);
	n = sym_unwind_user(s, getpid(), gettid(), g_regs, g_stack, g_stack_len, ips, MAX_FRAMES);
	assert_true(n >= 5);
	assert_int_equal(ips[0], g_regs[WEFT_UREG_IP]);
	resolve_all(s, ips, n, &r);
	print_stack("DWARF unwind", &r);

	assert_string_equal(r.func[0], "cmp_capture");
	caller = find_frame(&r, "app_caller_for_unwind");
	assert_true(caller >= 2);
	/* Everything between the callback and its caller is libc's sort. */
	for (i = 1; i < caller; i++) {
		assert_non_null(strstr(r.module[i], "libc.so"));
		libc_frames++;
		if (strstr(r.func[i], "sort"))
			sort_frames++;
	}
	assert_true(libc_frames >= 1);
	assert_true(sort_frames >= 1);
	assert_true(caller + 2 < n);
	assert_string_equal(r.func[caller + 1], "unwind_outer");
	assert_string_equal(r.func[caller + 2], "main");
	sym_free(s);
}

/* Why DWARF: the frame-pointer chain from the same registers never reaches the caller. */
static void test_frame_pointers_lose_caller(void **state)
{
	uint64_t ips[MAX_FRAMES];
	struct sym *s = sym_new();
	struct resolved r = { 0 };
	int n;

	n = sym_unwind_user_fp(g_regs, g_stack, g_stack_len, ips, MAX_FRAMES);
	assert_true(n >= 1);
	resolve_all(s, ips, n, &r);
	print_stack("frame-pointer walk", &r);
	assert_string_equal(r.func[0], "cmp_capture");
	assert_int_equal(find_frame(&r, "app_caller_for_unwind"), -1);
	assert_int_equal(find_frame(&r, "unwind_outer"), -1);
	sym_free(s);
}

/* A cut-short snapshot gives fewer frames, never a crash or garbage beyond it. */
static void test_truncated_stack(void **state)
{
	uint64_t ips[MAX_FRAMES];
	struct sym *s = sym_new();
	int n;

	n = sym_unwind_user(s, getpid(), gettid(), g_regs, g_stack, 32, ips, MAX_FRAMES);
	assert_true(n >= 1 && n <= 3);
	assert_int_equal(ips[0], g_regs[WEFT_UREG_IP]);
	n = sym_unwind_user(s, getpid(), gettid(), g_regs, NULL, 0, ips, MAX_FRAMES);
	assert_true(n >= 1);
	/* max_ips caps the walk. */
	n = sym_unwind_user(s, getpid(), gettid(), g_regs, g_stack, g_stack_len, ips, 2);
	assert_int_equal(n, 2);
	sym_free(s);
}

static void test_edge_cases(void **state)
{
	uint64_t ips[4], regs[WEFT_UREGS] = { 0 };
	struct sym *s = sym_new();

	/* No ip: no frames. */
	assert_int_equal(sym_unwind_user(s, getpid(), gettid(), regs, g_stack, 0, ips, 4), 0);
	assert_int_equal(sym_unwind_user(s, getpid(), gettid(), g_regs, g_stack, 16, ips, 0),
			 -EINVAL);
	/* A process never seen and gone: the frame-pointer fallback still gives ips[0]. */
	assert_true(sym_unwind_user(s, 0x3ffffff0, 0x3ffffff0, g_regs, g_stack, g_stack_len, ips,
				    4) >= 1);
	assert_int_equal(ips[0], g_regs[WEFT_UREG_IP]);
	sym_free(s);
}

/*
 * The collector unwinds after the fact: a child takes the snapshot, its map is loaded, it
 * exits, and only then is its stack unwound and resolved.
 */
static void test_unwind_after_exit(void **state)
{
	uint64_t ips[MAX_FRAMES], regs[WEFT_UREGS];
	int to_child[2], from_child[2], n, status;
	struct sym *s = sym_new();
	struct resolved r = { 0 };
	size_t len;
	pid_t pid;
	char go;

	assert_int_equal(pipe(to_child), 0);
	assert_int_equal(pipe(from_child), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* Keep only our ends, so the parent closing its end reads as EOF here. */
		close(to_child[1]);
		close(from_child[0]);
		g_captured = 0;
		unwind_outer(1);
		if (write(from_child[1], g_regs, sizeof(g_regs)) != sizeof(g_regs) ||
		    write(from_child[1], &g_stack_len, sizeof(g_stack_len)) !=
			    sizeof(g_stack_len) ||
		    write(from_child[1], g_stack, g_stack_len) != (ssize_t)g_stack_len ||
		    read(to_child[0], &go, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(to_child[0]);
	close(from_child[1]);
	assert_int_equal(read(from_child[0], regs, sizeof(regs)), sizeof(regs));
	assert_int_equal(read(from_child[0], &len, sizeof(len)), sizeof(len));
	assert_true(len <= sizeof(g_stack));
	{
		static uint8_t stack[WEFT_USTACK_BYTES];
		size_t got = 0;

		while (got < len) {
			ssize_t k = read(from_child[0], stack + got, len - got);

			assert_true(k > 0);
			got += (size_t)k;
		}
		assert_int_equal(sym_proc_load(s, pid), 0);
		close(to_child[1]);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		close(from_child[0]);

		n = sym_unwind_user(s, pid, pid, regs, stack, len, ips, MAX_FRAMES);
	}
	assert_true(n >= 5);
	r.n = n;
	for (int i = 0; i < n; i++) {
		struct sym_loc loc;

		sym_resolve_user(s, pid, ips[i], i ? ips[i] - 1 : ips[i], &loc);
		r.func[i] = loc.function ? loc.function : "?";
		r.module[i] = loc.module ? loc.module : "?";
	}
	assert_string_equal(r.func[0], "cmp_capture");
	n = find_frame(&r, "app_caller_for_unwind");
	assert_true(n >= 2 && n + 1 < r.n);
	assert_string_equal(r.func[n + 1], "unwind_outer");
	sym_free(s);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* The collector unwinds thousands of stacks a second: measure what one costs. */
static void test_unwind_cost(void **state)
{
	uint64_t ips[MAX_FRAMES];
	struct sym *s = sym_new();
	double t0, first, per;
	int i, n, frames = 0, iters = 20000;

	assert_int_equal(sym_proc_load(s, getpid()), 0);
	t0 = now_us();
	n = sym_unwind_user(s, getpid(), gettid(), g_regs, g_stack, g_stack_len, ips, MAX_FRAMES);
	first = now_us() - t0;
	t0 = now_us();
	for (i = 0; i < iters; i++) {
		int m = sym_unwind_user(s, getpid(), gettid(), g_regs, g_stack, g_stack_len, ips,
					MAX_FRAMES);

		assert_int_equal(m, n);
		frames += m;
	}
	per = (now_us() - t0) / iters;
	print_message("unwind: first %.0f us (builds the Dwfl), then %.2f us per stack of %d "
		      "frames\n",
		      first, per, frames / iters);
	sym_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dwarf_unwind_through_libc),
		cmocka_unit_test(test_frame_pointers_lose_caller),
		cmocka_unit_test(test_truncated_stack),
		cmocka_unit_test(test_edge_cases),
		cmocka_unit_test(test_unwind_after_exit),
		cmocka_unit_test(test_unwind_cost),
	};
	void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	int dummy;

	libc_qsort = libc ? (qsort_fn)dlsym(libc, "qsort") : NULL;
	if (!libc_qsort)
		return 1;

	g_stack_end = mapping_end((uint64_t)(uintptr_t)&dummy);
	if (unwind_outer(getpid()) < 0 || !g_stack_end)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
