// SPDX-License-Identifier: MIT
/* Symbolizer tests: fixture processes (PIE, non-PIE, shared library), after exit, kallsyms. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <sys/auxv.h>
#include <unistd.h>

#include <gelf.h>

#include <cmocka.h>
#include <dlfcn.h>

#include "symbolize/symbolize.h"

#define MAX_FUNCS 16

struct fixture_proc {
	pid_t pid;
	int in_fd;  /* the child's stdin: closing it lets the child exit */
	FILE *out;  /* the child's stdout */
	int nfuncs;
	char names[MAX_FUNCS][64];
	uint64_t addrs[MAX_FUNCS];
};

/* Start a fixture and read its "name address" lines up to "ready". */
static void fixture_start(const char *path, struct fixture_proc *fp)
{
	int to_child[2], from_child[2];
	char line[256];

	memset(fp, 0, sizeof(*fp));
	assert_int_equal(pipe2(to_child, O_CLOEXEC), 0);
	assert_int_equal(pipe2(from_child, O_CLOEXEC), 0);
	fp->pid = fork();
	assert_true(fp->pid >= 0);
	if (fp->pid == 0) {
		dup2(to_child[0], 0);
		dup2(from_child[1], 1);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	close(to_child[0]);
	close(from_child[1]);
	fp->in_fd = to_child[1];
	fp->out = fdopen(from_child[0], "r");
	assert_non_null(fp->out);
	while (fgets(line, sizeof(line), fp->out) && strcmp(line, "ready\n")) {
		assert_true(fp->nfuncs < MAX_FUNCS);
		assert_int_equal(sscanf(line, "%63s %" SCNx64, fp->names[fp->nfuncs],
					&fp->addrs[fp->nfuncs]),
				 2);
		fp->nfuncs++;
	}
	assert_true(fp->nfuncs >= 6);
}

static void fixture_stop(struct fixture_proc *fp)
{
	int status;

	close(fp->in_fd);
	assert_int_equal(waitpid(fp->pid, &status, 0), fp->pid);
	assert_true(WIFEXITED(status));
	fclose(fp->out);
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* rel_pc is a file offset: the file's bytes there are the bytes the process runs at pc. */
static void check_rel_pc(pid_t pid, const char *module, uint64_t pc, uint64_t rel_pc)
{
	unsigned char in_file[16], in_mem[16];
	char mem_path[64];
	int fd;

	fd = open(module, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, in_file, sizeof(in_file), (off_t)rel_pc), sizeof(in_file));
	close(fd);
	snprintf(mem_path, sizeof(mem_path), "/proc/%d/mem", (int)pid);
	fd = open(mem_path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, in_mem, sizeof(in_mem), (off_t)pc), sizeof(in_mem));
	close(fd);
	assert_memory_equal(in_file, in_mem, sizeof(in_file));
}

/* Resolve every reported function: at its entry, and as a return address one byte in. */
static void check_fixture(struct sym *s, struct fixture_proc *fp, const char *exe, bool alive)
{
	int i;

	for (i = 0; i < fp->nfuncs; i++) {
		const char *want_mod = !strncmp(fp->names[i], "libfixture", 10) ? "libfixture.so"
										  : exe;
		uint64_t a = fp->addrs[i];
		struct sym_loc loc;

		assert_int_equal(sym_resolve_user(s, fp->pid, a, a, &loc), 0);
		assert_non_null(loc.function);
		assert_string_equal(loc.function, fp->names[i]);
		assert_non_null(loc.module);
		assert_string_equal(base_name(loc.module), want_mod);
		assert_int_equal(loc.func_off, 0);
		if (alive)
			check_rel_pc(fp->pid, loc.module, a, loc.rel_pc);

		assert_int_equal(sym_resolve_user(s, fp->pid, a + 2, a + 1, &loc), 0);
		assert_string_equal(loc.function, fp->names[i]);
		assert_int_equal(loc.func_off, 2);
	}
}

static void resolve_fixture(const char *exe)
{
	struct sym *s = sym_new();
	struct fixture_proc fp;

	assert_non_null(s);
	fixture_start(exe, &fp);
	assert_int_equal(sym_proc_load(s, fp.pid), 0);
	check_fixture(s, &fp, base_name(exe), true);
	fixture_stop(&fp);
	sym_free(s);
}

static void test_resolve_pie(void **state)
{
	resolve_fixture("./fixture-pie");
}

static void test_resolve_nopie(void **state)
{
	resolve_fixture("./fixture-nopie");
}

/* Stacks are resolved after the fact: the map read while the process lived must be enough. */
static void test_resolve_after_exit(void **state)
{
	struct sym *s = sym_new();
	struct fixture_proc fp;
	struct sym_loc loc;

	fixture_start("./fixture-pie", &fp);
	assert_int_equal(sym_proc_load(s, fp.pid), 0);
	fixture_stop(&fp);
	assert_int_equal(kill(fp.pid, 0), -1);
	assert_int_equal(errno, ESRCH);
	/* A second load of a dead process fails and keeps what was kept. */
	assert_int_equal(sym_proc_load(s, fp.pid), -ESRCH);
	check_fixture(s, &fp, "fixture-pie", false);

	/* After reset (exec), the old map is gone. */
	sym_proc_reset(s, fp.pid);
	assert_int_equal(sym_resolve_user(s, fp.pid, fp.addrs[0], fp.addrs[0], &loc), -ENOENT);
	assert_null(loc.function);
	assert_null(loc.module);
	sym_free(s);
}

/* Two processes map the same files: the second resolves from the ELF cache. */
static void test_two_processes(void **state)
{
	struct sym *s = sym_new();
	struct fixture_proc a, b;

	fixture_start("./fixture-pie", &a);
	fixture_start("./fixture-pie", &b);
	assert_int_equal(sym_proc_load(s, a.pid), 0);
	assert_int_equal(sym_proc_load(s, b.pid), 0);
	check_fixture(s, &a, "fixture-pie", true);
	check_fixture(s, &b, "fixture-pie", true);
	fixture_stop(&a);
	fixture_stop(&b);
	sym_free(s);
}

static void test_unmapped(void **state)
{
	struct sym *s = sym_new();
	struct sym_loc loc;

	assert_int_equal(sym_resolve_user(s, getpid(), 0x10, 0x10, &loc), -ENOENT);
	assert_null(loc.function);
	assert_null(loc.module);
	sym_free(s);
}

/* Debian's libc has no .symtab: without its debug file the names come from .dynsym. */
static void test_libc_dynsym(void **state)
{
	/* libc's own qsort: sanitizer builds interpose theirs. */
	void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	uint64_t pc = (uint64_t)(uintptr_t)dlsym(libc, "qsort");
	struct sym *plain = sym_new(), *dbg = sym_new();
	struct sym_loc loc;

	assert_true(pc != 0);

	assert_int_equal(sym_set_debug_dir(plain, NULL), 0);
	assert_int_equal(sym_resolve_user(plain, getpid(), pc + 1, pc, &loc), 0);
	assert_non_null(loc.function);
	assert_string_equal(loc.function, "qsort");
	assert_non_null(strstr(loc.module, "libc.so"));
	assert_int_equal(loc.func_off, 1);

	assert_int_equal(sym_resolve_user(dbg, getpid(), pc, pc, &loc), 0);
	assert_string_equal(loc.function, "qsort");
	sym_free(plain);
	sym_free(dbg);
}

/* The test binary itself is PIE with .symtab: a static function resolves. */
static __attribute__((noinline)) int local_function(int x)
{
	__asm__ volatile("" : "+r"(x));
	return x + 1;
}

static void test_self(void **state)
{
	uint64_t pc = (uint64_t)(uintptr_t)local_function;
	struct sym *s = sym_new();
	struct sym_loc loc;

	assert_int_equal(sym_resolve_user(s, getpid(), pc, pc, &loc), 0);
	assert_string_equal(loc.function, "local_function");
	assert_string_equal(base_name(loc.module), "test_symbolize");
	check_rel_pc(getpid(), loc.module, pc, loc.rel_pc);
	sym_free(s);
}

/*
 * A frame resolved before the map is read again keeps its module name: the stack it belongs to
 * may be half resolved (a JIT frame further on makes the symbolizer read the map again). One
 * reading only: the names of the first are still allocated while the second's are made, so a
 * copy could not land at the same address.
 */
static void test_module_name_outlives_reload(void **state)
{
	uint64_t pc = (uint64_t)(uintptr_t)local_function;
	struct sym *s = sym_new();
	struct sym_loc before, after;

	assert_int_equal(sym_resolve_user(s, getpid(), pc, pc, &before), 0);
	assert_int_equal(sym_proc_load(s, getpid()), 0);
	assert_int_equal(sym_resolve_user(s, getpid(), pc, pc, &after), 0);
	assert_ptr_equal(before.module, after.module);
	assert_string_equal(base_name(before.module), "test_symbolize");
	sym_free(s);
}

/* The vDSO: symbolized from the symbolizer's own copy of the kernel's image. */
static void test_vdso(void **state)
{
	uint64_t base = getauxval(AT_SYSINFO_EHDR), func = 0;
	struct sym *s = sym_new();
	const char *name = NULL;
	Elf_Scn *scn = NULL;
	struct sym_loc loc;
	GElf_Shdr shdr;
	Elf *elf;

	if (!base)
		skip();
	elf_version(EV_CURRENT);
	/* A vDSO is under two pages on x86-64; elf_memory only reads it. */
	elf = elf_memory((char *)(uintptr_t)base, 8192);
	assert_non_null(elf);
	while ((scn = elf_nextscn(elf, scn)) && !func) {
		Elf_Data *data;
		size_t i;

		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_DYNSYM)
			continue;
		data = elf_getdata(scn, NULL);
		for (i = 0; i < shdr.sh_size / shdr.sh_entsize; i++) {
			GElf_Sym sym;

			if (gelf_getsym(data, (int)i, &sym) && GELF_ST_TYPE(sym.st_info) == STT_FUNC &&
			    sym.st_size > 4) {
				func = base + sym.st_value;
				name = elf_strptr(elf, shdr.sh_link, sym.st_name);
				break;
			}
		}
	}
	assert_true(func && name);
	assert_int_equal(sym_resolve_user(s, getpid(), func + 3, func + 2, &loc), 0);
	assert_string_equal(loc.module, "[vdso]");
	assert_non_null(loc.function);
	/* Aliases (clock_gettime / __vdso_clock_gettime) share an address: compare the tail. */
	assert_non_null(strstr(name, loc.function + strspn(loc.function, "_")) ?
				name :
				strstr(loc.function, name + strspn(name, "_")));
	assert_int_equal(loc.func_off, 3);
	elf_end(elf);
	sym_free(s);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void test_resolve_cost(void **state)
{
	uint64_t pcs[3] = { (uint64_t)(uintptr_t)local_function, (uint64_t)(uintptr_t)&qsort,
			    (uint64_t)(uintptr_t)&printf };
	struct sym *s = sym_new();
	struct sym_loc loc;
	double t0, t1, first;
	int i, n = 300000;

	t0 = now_us();
	assert_int_equal(sym_resolve_user(s, getpid(), pcs[1], pcs[1], &loc), 0);
	first = now_us() - t0;
	t0 = now_us();
	for (i = 0; i < n; i++)
		assert_int_equal(sym_resolve_user(s, getpid(), pcs[i % 3], pcs[i % 3], &loc), 0);
	t1 = now_us();
	print_message("resolve: first (maps + libc symbols) %.0f us, then %.3f us per address\n",
		      first, (t1 - t0) / n);
	sym_free(s);
}

/* A real kernel text address from /proc/kallsyms comes back with its name and offset. */
static void test_kernel(void **state)
{
	uint64_t addr = 0, a;
	char line[512], type, name[256];
	struct sym *s = sym_new();
	struct sym_loc loc;
	FILE *f = fopen("/proc/kallsyms", "r");
	int err;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%" SCNx64 " %c %255s", &a, &type, name) == 3 &&
		    (type == 'T' || type == 't') && !strcmp(name, "schedule")) {
			addr = a;
			break;
		}
	fclose(f);
	err = sym_resolve_kernel(s, addr + 4, &loc);
	if (addr == 0) {
		/* kptr_restrict hides addresses from non-root: the symbolizer must say so. CI runs
		 * as root, where this check must run, not skip. */
		assert_int_equal(err, -EPERM);
		sym_free(s);
		if (getenv("CI"))
			fail_msg("kallsyms addresses hidden under CI: run the tests as root");
		skip();
	}
	assert_int_equal(err, 0);
	assert_string_equal(loc.function, "schedule");
	assert_string_equal(loc.module, "[kernel.kallsyms]");
	assert_int_equal(loc.func_off, 4);
	assert_int_equal(sym_resolve_kernel(s, 0x1000, &loc), -ENOENT);
	sym_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve_pie),
		cmocka_unit_test(test_resolve_nopie),
		cmocka_unit_test(test_resolve_after_exit),
		cmocka_unit_test(test_two_processes),
		cmocka_unit_test(test_unmapped),
		cmocka_unit_test(test_libc_dynsym),
		cmocka_unit_test(test_self),
		cmocka_unit_test(test_module_name_outlives_reload),
		cmocka_unit_test(test_resolve_cost),
		cmocka_unit_test(test_kernel),
		cmocka_unit_test(test_vdso),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
