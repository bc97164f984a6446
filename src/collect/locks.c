// SPDX-License-Identifier: MIT
/* Loader of the lock probes (bpf/locks.bpf.c), and the /proc scan for threads already blocked. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/locks.h"
#include "collect/area.h"
#include "collect/detach.h"
#include "collect/tracefs.h"
#include "locks.skel.h"
#include "clock.h"

#define NR_FUTEX 202
#define POLL_PERIOD_NS (250 * 1000000ULL)
/* A wait this old may be a deadlock: look at it in /proc, where the owner is read afresh. */
#define LONG_WAIT_NS (1000 * 1000000ULL)
/* ... and again this often while it lasts: an owner read before the holder itself blocked
 * may be stale, and deadlock detection trusts only owners read after that. */
#define RESCAN_NS (2000 * 1000000ULL)
#define REPORTED_MAX 4096

struct reported {
	__u32 tid;
	__u64 start_ts;
	__u64 seen_ns;  /* last looked at in /proc */
};

struct locks_state {
	struct locks_bpf *skel;
	bool syscall_tracepoints; /* futex's own tracepoints, not every syscall's */
	uint64_t last_poll;
	struct reported reported[REPORTED_MAX];
	int nreported;
};

static bool is_wait_cmd(unsigned cmd)
{
	return cmd == WEFT_FUTEX_WAIT || cmd == WEFT_FUTEX_WAIT_BITSET ||
	       cmd == WEFT_FUTEX_LOCK_PI || cmd == WEFT_FUTEX_LOCK_PI2 ||
	       cmd == WEFT_FUTEX_WAIT_REQUEUE_PI;
}

/* Same fallbacks as the BPF copy: near the top of the stack a full read fails. */
static uint32_t read_stack(int mem, uint8_t *dst, uint64_t sp)
{
	for (uint32_t n = WEFT_USTACK_BYTES; n >= WEFT_USTACK_BYTES / 8; n /= 2)
		if (pread(mem, dst, n, (off_t)sp) == (ssize_t)n)
			return n;
	return 0;
}

/*
 * /proc/PID/task/TID/syscall of a thread blocked in a system call reads
 *   "NR ARG1 ... ARG6 SP PC"
 * (hex after NR): for futex the lock address and command, and the user pc and sp, from which
 * the user stack (read from /proc/PID/mem) unwinds with DWARF CFI like any other snapshot.
 */
static int scan_thread(struct collector *c, pid_t pid, pid_t tid, uint64_t since, __u32 source)
{
	unsigned long long a[6], sp, pc;
	struct weft_lock_blocked_event *e = NULL;
	char path[96], line[512];
	int fd, mem = -1, ret = 0;
	long nr;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", pid, tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, line, sizeof(line) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -ENODATA;
	line[n] = '\0';
	if (sscanf(line, "%ld %llx %llx %llx %llx %llx %llx %llx %llx", &nr, &a[0], &a[1], &a[2],
		   &a[3], &a[4], &a[5], &sp, &pc) != 9 ||
	    nr != NR_FUTEX || !is_wait_cmd(a[1] & 127))
		return 0;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->hdr = (struct weft_event_header){ .type = WEFT_EV_LOCK_BLOCKED, .size = sizeof(*e),
					     .ts = boottime_ns(), .pid = pid, .tid = tid };
	e->uaddr = a[0];
	e->cmd = a[1] & 127;
	e->val = (__u32)a[2];
	e->since_ts = since;
	e->source = source;
	e->stack.hdr = e->hdr;
	e->stack.hdr.type = WEFT_EV_LOCK_STACK;
	e->stack.hdr.size = sizeof(e->stack);
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	mem = open(path, O_RDONLY | O_CLOEXEC);
	if (mem >= 0) {
		for (int i = 0; i < 3; i++)
			if (pread(mem, &e->words[4 * i], 16, (off_t)(e->uaddr - 16 + 16 * i)) == 16)
				e->words_ok |= 1u << i;
		e->stack.uregs[WEFT_UREG_IP] = pc;
		e->stack.uregs[WEFT_UREG_SP] = sp;
		e->stack.ustack_len = read_stack(mem, e->stack.ustack, sp);
		close(mem);
	}
	ret = collector_inject(c, e, sizeof(*e));
	free(e);
	return ret;
}

static int locks_open(struct collector *c, void **state, const struct collector_opts *o,
		      struct collector_error *err)
{
	struct locks_state *st;
	int ret;

	if (o->no_locks) {
		snprintf(err->what, sizeof(err->what), "lock contention off (--no-locks)");
		return -EOPNOTSUPP;
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->skel = locks_bpf__open();
	if (!st->skel) {
		ret = -errno;
		snprintf(err->what, sizeof(err->what), "locks: opening BPF object: %s",
			 strerror(-ret));
		goto out;
	}
	st->skel->rodata->want_lock_stacks = o->stack_interval_ns != 0;
	st->skel->rodata->cpu_stack_interval_ns = collector_cpu_stack_interval_ns(o);
	st->syscall_tracepoints = tracefs_has_event("syscalls", "sys_enter_futex") &&
				  tracefs_has_event("syscalls", "sys_exit_futex");
	bpf_program__set_autoload(st->skel->progs.on_futex_enter, st->syscall_tracepoints);
	bpf_program__set_autoload(st->skel->progs.on_futex_exit, st->syscall_tracepoints);
	bpf_program__set_autoload(st->skel->progs.on_sys_enter, !st->syscall_tracepoints);
	bpf_program__set_autoload(st->skel->progs.on_sys_exit, !st->syscall_tracepoints);
	ret = collector_reuse_maps(c, st->skel->obj);
	if (ret) {
		snprintf(err->what, sizeof(err->what), "locks: sharing maps: %s", strerror(-ret));
		goto out;
	}
	ret = locks_bpf__load(st->skel);
	if (ret) {
		/* Another kernel may refuse what this one takes: record without lock contention
		 * rather than not at all (said at -v; -vv shows the verifier's reasons). */
		snprintf(err->what, sizeof(err->what),
			 "lock contention off: loading BPF programs: %s", strerror(-ret));
		ret = -EOPNOTSUPP;
		goto out;
	}
	ret = locks_bpf__attach(st->skel);
	if (ret) {
		/* No syscall tracepoints here: run without lock contention, say why at -v. */
		snprintf(err->what, sizeof(err->what), "lock contention off: attaching to %s: %s",
			 st->syscall_tracepoints ? "syscalls:sys_{enter,exit}_futex"
						 : "sys_enter/sys_exit",
			 strerror(-ret));
		ret = -EOPNOTSUPP;
		goto out;
	}
	*state = st;
	return 0;
out:
	locks_bpf__destroy(st->skel);
	free(st);
	return ret;
}

/* Threads blocked before the attach never pass sys_enter while weft looks: find them here. */
static int locks_add_process(struct collector *c, void *state, pid_t pid)
{
	/* Their waits began before this moment: what deadlock detection needs to know. */
	uint64_t before = boottime_ns();
	char path[64];
	struct dirent *d;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((d = readdir(dir)))
		if (d->d_name[0] != '.')
			scan_thread(c, pid, atoi(d->d_name), before, WEFT_LOCK_BLOCKED_ATTACH);
	closedir(dir);
	return 0;
}

static const struct reported *find_reported(struct locks_state *st, __u32 tid, __u64 start)
{
	for (int i = 0; i < st->nreported; i++)
		if (st->reported[i].tid == tid && st->reported[i].start_ts == start)
			return &st->reported[i];
	return NULL;
}

/* Waits older than LONG_WAIT_NS (from the BPF table of waits in progress) get a look in /proc. */
static void locks_poll(struct collector *c, void *state)
{
	struct locks_state *st = state;
	int fd = bpf_map__fd(st->skel->maps.waits);
	uint64_t now = boottime_ns();
	static struct reported keep[REPORTED_MAX];
	const struct reported *r;
	struct pending_wait w;
	uint64_t seen;
	__u32 key, next, *prev = NULL;
	int nkeep = 0;

	if (now - st->last_poll < POLL_PERIOD_NS)
		return;
	st->last_poll = now;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &w) || now < w.start_ts ||
		    now - w.start_ts < LONG_WAIT_NS)
			continue;
		r = find_reported(st, key, w.start_ts);
		seen = r ? r->seen_ns : 0;
		if (!r || now - r->seen_ns >= RESCAN_NS) {
			int ret = scan_thread(c, w.tgid, key, w.start_ts, WEFT_LOCK_BLOCKED_LONG);

			/* A thread that died in a futex wait never passes sys_exit. */
			if (ret == -ENOENT || ret == -ESRCH)
				bpf_map_delete_elem(fd, &key);
			if (ret)
				continue;
			seen = now;
		}
		if (nkeep < REPORTED_MAX)
			keep[nkeep++] = (struct reported){ key, w.start_ts, seen };
	}
	memcpy(st->reported, keep, nkeep * sizeof(keep[0]));
	st->nreported = nkeep;
}

static void locks_detach(void *state, struct detach_batch *b)
{
	struct locks_state *st = state;

	detach_skeleton(b, st->skel->skeleton);
}

static void locks_close(void *state)
{
	struct locks_state *st = state;

	locks_bpf__destroy(st->skel);
	free(st);
}

const struct collector_area collector_area_locks = {
	.name = "locks",
	.open = locks_open,
	.add_process = locks_add_process,
	.poll = locks_poll,
	.detach = locks_detach,
	.close = locks_close,
};
