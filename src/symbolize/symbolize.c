// SPDX-License-Identifier: MIT
/* The symbolizer: per-process maps kept past exit, user/kernel resolution, unwind entry points. */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "symbolize/sym_internal.h"
#include "clock.h"
#include "sigbus_guard.h"

/* A pc outside every known mapping re-reads /proc/PID/maps at most this often per process. */
#define SYM_RELOAD_MIN_NS (10 * 1000 * 1000ull)

static void kernel_loaded(struct sym *s);

uint64_t sym_now_ns(void)
{
	return monotonic_ns();
}

struct sym *sym_new(void)
{
	struct sym *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	/* libelf refuses every call until told which ELF version the caller speaks. */
	elf_version(EV_CURRENT);
	s->debug_dir = strdup("/usr/lib/debug");
	if (!s->debug_dir) {
		free(s);
		return NULL;
	}
	return s;
}

static void proc_free(struct sym_proc *p)
{
	unwind_proc_drop(p);
	free(p->maps);
	map_names_free(&p->names);
	perf_map_free(p->perf_map);
	free(p);
}

void sym_free(struct sym *s)
{
	struct sym_proc *p, *next;
	int i;

	if (!s)
		return;
	/* Dwfls hold references on cached ELF files: drop them first. */
	for (i = 0; i < SYM_HASH_BUCKETS; i++)
		for (p = s->procs[i]; p; p = next) {
			next = p->next;
			proc_free(p);
		}
	elf_cache_free(s);
	kernel_loaded(s);
	kallsyms_free(s->ksyms);
	free(s->debug_dir);
	free(s);
}

int sym_set_debug_dir(struct sym *s, const char *dir)
{
	char *copy = NULL;

	if (dir) {
		copy = strdup(dir);
		if (!copy)
			return -ENOMEM;
	}
	free(s->debug_dir);
	s->debug_dir = copy;
	return 0;
}

static struct sym_proc **proc_slot(struct sym *s, pid_t pid)
{
	struct sym_proc **pp = &s->procs[(unsigned int)pid % SYM_HASH_BUCKETS];

	while (*pp && (*pp)->pid != pid)
		pp = &(*pp)->next;
	return pp;
}

static int proc_load(struct sym *s, pid_t pid)
{
	struct sym_proc **pp = proc_slot(s, pid), *p = *pp;
	struct sym_map *maps = NULL;
	bool fresh = !p;
	int nmaps = 0, err;

	if (fresh) {
		p = calloc(1, sizeof(*p));
		if (!p)
			return -ENOMEM;
		p->pid = pid;
	}
	/* Read first: if the process is already gone, what was kept stays. */
	err = maps_read(pid, &p->names, &maps, &nmaps);
	if (err) {
		if (fresh)
			proc_free(p);
		return err;
	}
	for (int i = 0; i < nmaps; i++) {
		struct sym_map *m = &maps[i];

		if (!m->exec)
			continue;
		m->elf = elf_cache_get(s, pid, m);
		if (m->elf && elf_map_bias(m->elf, m, &m->bias))
			m->elf = NULL;
	}
	if (fresh)
		*pp = p;
	unwind_proc_drop(p);
	free(p->maps);
	p->maps = maps;
	p->nmaps = nmaps;
	p->loaded_ns = sym_now_ns();
	s->generation++;
	return 0;
}

void sym_proc_forget(struct sym *s, pid_t pid)
{
	struct sym_proc **pp = proc_slot(s, pid), *p = *pp;

	if (!p)
		return;
	*pp = p->next;
	proc_free(p);
	s->generation++;
}

uint64_t sym_generation(const struct sym *s)
{
	return s->generation;
}

void sym_proc_reset(struct sym *s, pid_t pid)
{
	sym_proc_forget(s, pid);
}

static bool proc_alive(pid_t pid)
{
	return kill(pid, 0) == 0 || errno == EPERM;
}

/* Find pid's map, reading it on first use; NULL if never seen and not readable now. */
static struct sym_proc *proc_get(struct sym *s, pid_t pid)
{
	struct sym_proc *p = *proc_slot(s, pid);

	if (!p && !proc_load(s, pid))
		p = *proc_slot(s, pid);
	return p;
}

/* The mapping of addr; re-reads the map once if addr is unknown and the process still runs. */
static struct sym_map *proc_find(struct sym *s, struct sym_proc **pp, pid_t pid, uint64_t addr)
{
	struct sym_proc *p = *pp;
	struct sym_map *m = p ? maps_find(p->maps, p->nmaps, addr) : NULL;

	if (m || !p || sym_now_ns() - p->loaded_ns < SYM_RELOAD_MIN_NS || !proc_alive(pid))
		return m;
	if (proc_load(s, pid))
		return NULL;
	*pp = p = *proc_slot(s, pid);
	return maps_find(p->maps, p->nmaps, addr);
}

static int resolve_user(struct sym *s, pid_t pid, uint64_t pc, uint64_t lookup_pc,
			struct sym_loc *loc)
{
	struct sym_proc *p = proc_get(s, pid);
	const struct elf_sym *es;
	struct sym_map *m;
	int err = 0;

	memset(loc, 0, sizeof(*loc));
	m = proc_find(s, &p, pid, lookup_pc);
	if (!m || !m->elf) {
		/* Not a file: JIT-compiled code has its names in the process's perf map. */
		const char *jit = p && (!m || m->name[0] != '/') ? perf_map_lookup(p, lookup_pc)
								 : NULL;

		if (jit) {
			loc->function = jit;
			loc->module = "[jit]";
			loc->rel_pc = m ? pc - m->start + m->offset : pc;
			goto out;
		}
	}
	if (!m) {
		err = -ENOENT;
		goto out;
	}
	loc->module = m->name;
	loc->rel_pc = pc - m->start + m->offset;
	if (!m->elf)
		goto out; /* anonymous memory the perf map does not name */
	es = elf_lookup(s, m->elf, lookup_pc - m->bias);
	if (!es)
		goto out;
	loc->function = es->name;
	loc->func_off = pc - m->bias - es->addr;
out:
	return err;
}

static int resolve_data(struct sym *s, pid_t pid, uint64_t addr, struct sym_loc *loc)
{
	struct sym_proc *p = proc_get(s, pid);
	const struct elf_sym *es;

	memset(loc, 0, sizeof(loc[0]));
	if (!p)
		return -ENOENT;
	/* Data may lie outside every file mapping (.bss past the file's end is anonymous
	 * memory): try each mapped ELF file's address range, with its load bias. */
	for (int i = 0; i < p->nmaps; i++) {
		struct sym_map *m = &p->maps[i];
		uint64_t vaddr = addr - m->bias;

		if (!m->elf || addr < m->bias || vaddr < m->elf->lo_vaddr ||
		    vaddr >= m->elf->hi_vaddr)
			continue;
		es = elf_lookup_object(s, m->elf, vaddr);
		if (!es)
			continue;
		loc->function = es->name;
		loc->module = m->name;
		loc->rel_pc = vaddr;
		loc->func_off = vaddr - es->addr;
		return 0;
	}
	return -ENOENT;
}

static void *load_kernel(void *arg)
{
	struct sym *s = arg;

	s->ksyms_err = kallsyms_load(&s->ksyms);
	return NULL;
}

/*
 * The early load may still run when the traced program starts: it must not take CPU from it
 * (weft records at nice 19 too; a thread's nice value is its own). But once a thread waits
 * for it, it runs at normal priority: the waiter (the drainer) can do nothing else meanwhile,
 * and on a busy machine a nice-19 thread may not run for seconds.
 * Whichever of the two comes second sets it (the tid is published before the loader reads
 * ksyms_wanted, which is set before the waiter reads the tid).
 */
static void *load_kernel_niced(void *arg)
{
	struct sym *s = arg;
	pid_t tid = (pid_t)syscall(SYS_gettid);

	atomic_store(&s->ksyms_loader_tid, tid);
	setpriority(PRIO_PROCESS, (id_t)tid, 19); /* if refused: loads all the same */
	if (atomic_load(&s->ksyms_wanted))
		setpriority(PRIO_PROCESS, (id_t)tid, 0);
	return load_kernel(arg);
}

void sym_load_kernel_early(struct sym *s)
{
	if (s->ksyms || s->ksyms_err || s->ksyms_loading)
		return;
	if (pthread_create(&s->ksyms_loader, NULL, load_kernel_niced, s) == 0)
		s->ksyms_loading = true;
	else
		load_kernel(s);
}

/* The early load, if one runs, is over: s->ksyms and s->ksyms_err are its. */
static void kernel_loaded(struct sym *s)
{
	if (s->ksyms_loading) {
		pid_t tid;

		atomic_store(&s->ksyms_wanted, true);
		tid = atomic_load(&s->ksyms_loader_tid);
		if (tid)
			setpriority(PRIO_PROCESS, (id_t)tid, 0); /* may be refused without root */
		pthread_join(s->ksyms_loader, NULL);
		s->ksyms_loading = false;
	}
}

int sym_resolve_kernel(struct sym *s, uint64_t pc, struct sym_loc *loc)
{
	/* pcs are at least 2-byte apart calls: drop the low bit, mix in higher ones */
	struct sym_kcache *k = &s->kcache[((pc >> 1) ^ (pc >> 11)) % SYM_KCACHE];
	int err;

	memset(loc, 0, sizeof(*loc));
	if (pc && k->pc == pc) {
		*loc = k->loc;
		return 0;
	}
	kernel_loaded(s);
	if (!s->ksyms && !s->ksyms_err)
		s->ksyms_err = kallsyms_load(&s->ksyms);
	if (s->ksyms_err)
		return s->ksyms_err;
	err = kallsyms_lookup(s->ksyms, pc, loc);
	if (!err) {
		k->pc = pc;
		k->loc = *loc;
	}
	return err;
}

int sym_unwind_user_fp(const uint64_t uregs[WEFT_UREGS], const void *stack, size_t stack_len,
		       uint64_t *ips, int max_ips)
{
	uint64_t sp = uregs[WEFT_UREG_SP], fp = uregs[WEFT_UREG_BP];
	const uint8_t *base = stack;
	int n = 0;

	if (!ips || max_ips <= 0 || !uregs[WEFT_UREG_IP])
		goto out;
	ips[n++] = uregs[WEFT_UREG_IP];
	/* Each frame: [fp] = caller's fp, [fp + 8] = return address; frames grow towards sp+len. */
	while (n < max_ips && fp >= sp && fp - sp <= stack_len && stack_len - (fp - sp) >= 16) {
		uint64_t next, ret;

		memcpy(&next, base + (fp - sp), 8);
		memcpy(&ret, base + (fp - sp) + 8, 8);
		if (!ret)
			break;
		ips[n++] = ret;
		if (next <= fp)
			break;
		fp = next;
	}
out:
	return n;
}

static int unwind_user(struct sym *s, pid_t pid, pid_t tid, const uint64_t uregs[WEFT_UREGS],
		       const void *stack, size_t stack_len, uint64_t *ips, int max_ips)
{
	struct unwind_ctx ctx = {
		.uregs = uregs,
		.stack = stack,
		.stack_len = stack ? stack_len : 0,
		.ips = ips,
		.max_ips = max_ips,
	};
	struct sym_proc *p;
	int n = 0;

	if (!uregs || !ips || max_ips <= 0) {
		n = -EINVAL;
		goto out;
	}
	if (!uregs[WEFT_UREG_IP])
		goto out;
	p = proc_get(s, pid);
	/* A library loaded since the map was read: re-read so the Dwfl knows it. */
	if (p)
		proc_find(s, &p, pid, uregs[WEFT_UREG_IP]);
	if (p)
		n = unwind_dwfl(p, tid, &ctx);
	/* No usable Dwfl (process never seen, no ELF readable): frame pointers are all we have. */
	if (n <= 0)
		n = sym_unwind_user_fp(uregs, ctx.stack, ctx.stack_len, ips, max_ips);
out:
	return n;
}


/*
 * The calls that read ELF files, which are mapped: a file cut short under us (a library
 * overwritten in place by cp while the program runs) makes the read fault. Each runs under a
 * SIGBUS guard; a fault marks the file broken (what was read from it stays, nothing more is
 * read: its frames keep their addresses) and fails the call.
 */
struct sym_call {
	struct sym *s;
	pid_t pid, tid;
	uint64_t pc, lookup_pc;
	const uint64_t *uregs;
	const void *stack;
	size_t stack_len;
	uint64_t *ips;
	int max_ips;
	struct sym_loc *loc;
	int ret;
};

static void drop_unwinder(void *p)
{
	unwind_proc_drop(p);
}

static int guarded(struct sym_call *c, void (*fn)(void *))
{
	void *fault;

	if (!sigbus_guard(fn, c, &fault))
		return c->ret;
	c->s->files_cut++;
	if (!elf_cache_fault(c->s, fault))
		return -EFAULT;
	/* Every unwinder may hold the file: built again without it. One whose freeing touches
	 * the file again is left as it is. */
	for (int i = 0; i < SYM_HASH_BUCKETS; i++)
		for (struct sym_proc *p = c->s->procs[i]; p; p = p->next)
			if (sigbus_guard(drop_unwinder, p, NULL)) {
				p->dwfl = NULL;
				p->dwfl_failed = false;
			}
	return -EFAULT;
}

static void call_proc_load(void *arg)
{
	struct sym_call *c = arg;

	c->ret = proc_load(c->s, c->pid);
}

int sym_proc_load(struct sym *s, pid_t pid)
{
	struct sym_call c = { .s = s, .pid = pid };

	return guarded(&c, call_proc_load);
}

static void call_resolve_user(void *arg)
{
	struct sym_call *c = arg;

	c->ret = resolve_user(c->s, c->pid, c->pc, c->lookup_pc, c->loc);
}

int sym_resolve_user(struct sym *s, pid_t pid, uint64_t pc, uint64_t lookup_pc,
		     struct sym_loc *loc)
{
	struct sym_call c = { .s = s, .pid = pid, .pc = pc, .lookup_pc = lookup_pc, .loc = loc };

	return guarded(&c, call_resolve_user);
}

static void call_resolve_data(void *arg)
{
	struct sym_call *c = arg;

	c->ret = resolve_data(c->s, c->pid, c->pc, c->loc);
}

int sym_resolve_data(struct sym *s, pid_t pid, uint64_t addr, struct sym_loc *loc)
{
	struct sym_call c = { .s = s, .pid = pid, .pc = addr, .loc = loc };

	return guarded(&c, call_resolve_data);
}

static void call_unwind_user(void *arg)
{
	struct sym_call *c = arg;

	c->ret = unwind_user(c->s, c->pid, c->tid, c->uregs, c->stack, c->stack_len, c->ips,
			     c->max_ips);
}

int sym_unwind_user(struct sym *s, pid_t pid, pid_t tid, const uint64_t uregs[WEFT_UREGS],
		    const void *stack, size_t stack_len, uint64_t *ips, int max_ips)
{
	struct sym_call c = { .s = s, .pid = pid, .tid = tid, .uregs = uregs, .stack = stack,
			      .stack_len = stack_len, .ips = ips, .max_ips = max_ips };

	return guarded(&c, call_unwind_user);
}

uint64_t sym_files_cut(const struct sym *s)
{
	return s->files_cut;
}
