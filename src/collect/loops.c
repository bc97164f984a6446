// SPDX-License-Identifier: MIT
/* Loader of the event-loop probes: the poll calls' syscall tracepoints, a switch hook, and
 * cpu-clock sampling on every CPU for culprit stacks. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>

#include <bpf/libbpf.h>

#include "bpf/loops.h"
#include "collect/area.h"
#include "collect/detach.h"
#include "collect/loops.h"
#include "collect/tracefs.h"
#include "loops.skel.h"

static const char *const poll_calls[] = {
#define POLL_NAME(nr, name, kind) #name,
	LOOPS_POLL_SYSCALLS(POLL_NAME)
#undef POLL_NAME
};
#define NPOLL_CALLS (sizeof(poll_calls) / sizeof(poll_calls[0]))

struct loops_state {
	struct loops_bpf *skel;
	struct bpf_link **links; /* the sampler's, one per CPU */
	int *fds;
	int ncpus;
	bool syscall_tracepoints; /* the poll calls' own tracepoints, not every syscall's */
	struct bpf_link *poll_links[2 * NPOLL_CALLS];
	struct bpf_link *switch_link; /* attached once a loop thread is seen */
	bool switch_failed;
};

static void loops_detach(void *state, struct detach_batch *b)
{
	struct loops_state *ls = state;

	for (int i = 0; i < ls->ncpus; i++)
		detach_add(b, &ls->links[i]);
	for (size_t i = 0; i < 2 * NPOLL_CALLS; i++)
		detach_add(b, &ls->poll_links[i]);
	detach_add(b, &ls->switch_link);
	detach_skeleton(b, ls->skel->skeleton);
}

static void loops_close(void *state)
{
	struct loops_state *ls = state;

	if (!ls)
		return;
	for (int i = 0; i < ls->ncpus; i++) {
		bpf_link__destroy(ls->links[i]);
		if (ls->fds[i] >= 0)
			close(ls->fds[i]);
	}
	for (size_t i = 0; i < 2 * NPOLL_CALLS; i++)
		bpf_link__destroy(ls->poll_links[i]);
	bpf_link__destroy(ls->switch_link);
	free(ls->links);
	free(ls->fds);
	loops_bpf__destroy(ls->skel);
	free(ls);
}

/* One software cpu-clock event per CPU (there may be no hardware PMU), running the sampler. */
static int attach_sampler(struct loops_state *ls, unsigned hz)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.size = sizeof(attr),
		.freq = 1,
		.sample_freq = hz,
	};
	int attached = 0, err = 0;

	ls->ncpus = libbpf_num_possible_cpus();
	ls->links = calloc(ls->ncpus, sizeof(*ls->links));
	ls->fds = malloc(ls->ncpus * sizeof(*ls->fds));
	if (!ls->links || !ls->fds)
		return -ENOMEM;
	for (int i = 0; i < ls->ncpus; i++) {
		ls->fds[i] = syscall(SYS_perf_event_open, &attr, -1, i, -1, PERF_FLAG_FD_CLOEXEC);
		if (ls->fds[i] < 0) {
			err = -errno; /* ENODEV: a possible CPU that is offline */
			continue;
		}
		ls->links[i] = bpf_program__attach_perf_event(ls->skel->progs.on_loop_sample,
							      ls->fds[i]);
		if (!ls->links[i]) {
			err = -errno;
			continue;
		}
		attached++;
	}
	return attached ? 0 : err;
}

/* Whether each poll call has both its syscall tracepoints (the kernel may lack one: no io_uring,
 * an old kernel without epoll_pwait2). */
static bool have_poll_tracepoints(bool have[NPOLL_CALLS])
{
	char enter[64], exit[64];
	bool any = false;

	for (size_t i = 0; i < NPOLL_CALLS; i++) {
		snprintf(enter, sizeof(enter), "sys_enter_%s", poll_calls[i]);
		snprintf(exit, sizeof(exit), "sys_exit_%s", poll_calls[i]);
		have[i] = tracefs_has_event("syscalls", enter) && tracefs_has_event("syscalls", exit);
		any |= have[i];
	}
	return any;
}

/* The two poll programs on each poll call's sys_enter_* and sys_exit_* tracepoint. */
static int attach_poll_tracepoints(struct loops_state *ls, const bool have[NPOLL_CALLS])
{
	char name[64];

	for (size_t i = 0; i < NPOLL_CALLS; i++) {
		if (!have[i])
			continue;
		snprintf(name, sizeof(name), "sys_enter_%s", poll_calls[i]);
		ls->poll_links[2 * i] = bpf_program__attach_tracepoint(ls->skel->progs.on_poll_enter,
								       "syscalls", name);
		if (!ls->poll_links[2 * i])
			return -errno;
		snprintf(name, sizeof(name), "sys_exit_%s", poll_calls[i]);
		ls->poll_links[2 * i + 1] = bpf_program__attach_tracepoint(
			ls->skel->progs.on_poll_exit, "syscalls", name);
		if (!ls->poll_links[2 * i + 1])
			return -errno;
	}
	return 0;
}

static int loops_open(struct collector *c, void **state, const struct collector_opts *o,
		      struct collector_error *err)
{
	unsigned hz = o->loop_sample_hz ? o->loop_sample_hz : LOOPS_DEFAULT_SAMPLE_HZ;
	uint64_t stall = o->stall_threshold_ns ? o->stall_threshold_ns : WEFT_LOOPS_DEFAULT_STALL_NS;
	bool have[NPOLL_CALLS];
	struct loops_state *ls;
	int ret;

	ls = calloc(1, sizeof(*ls));
	if (!ls)
		return -ENOMEM;
	ls->skel = loops_bpf__open();
	if (!ls->skel) {
		ret = -errno;
		snprintf(err->what, sizeof(err->what), "event loops: opening BPF object: %s",
			 strerror(-ret));
		goto out;
	}
	ls->skel->rodata->stall_ns = stall;
	/* Blocking calls: off-CPU at least 1 ms (or the stall threshold if lower). */
	ls->skel->rodata->block_ns = stall < LOOPS_BLOCK_NS ? stall : LOOPS_BLOCK_NS;
	/* A sample in an iteration shorter than this cannot belong to a stall. */
	ls->skel->rodata->sample_after_ns = stall / 2 < LOOPS_BLOCK_NS ? stall / 2 : LOOPS_BLOCK_NS;
	ls->syscall_tracepoints = have_poll_tracepoints(have);
	bpf_program__set_autoload(ls->skel->progs.on_poll_enter, ls->syscall_tracepoints);
	bpf_program__set_autoload(ls->skel->progs.on_poll_exit, ls->syscall_tracepoints);
	bpf_program__set_autoload(ls->skel->progs.on_sys_enter, !ls->syscall_tracepoints);
	bpf_program__set_autoload(ls->skel->progs.on_sys_exit, !ls->syscall_tracepoints);
	bpf_program__set_autoattach(ls->skel->progs.on_loop_switch, false);
	ret = collector_reuse_maps(c, ls->skel->obj);
	if (ret) {
		snprintf(err->what, sizeof(err->what), "event loops: sharing maps: %s",
			 strerror(-ret));
		goto out;
	}
	ret = loops_bpf__load(ls->skel);
	if (ret) {
		snprintf(err->what, sizeof(err->what), "event loops: loading BPF programs: %s",
			 strerror(-ret));
		snprintf(err->hint, sizeof(err->hint), "run with -vv to see the verifier log");
		goto out;
	}
	ret = loops_bpf__attach(ls->skel);
	if (!ret && ls->syscall_tracepoints)
		ret = attach_poll_tracepoints(ls, have);
	if (ret) {
		snprintf(err->what, sizeof(err->what), "event loops: attaching to %s: %s",
			 ls->syscall_tracepoints ? "the poll calls' syscall tracepoints"
						 : "sys_enter/sys_exit",
			 strerror(-ret));
		goto out;
	}
	ret = attach_sampler(ls, hz);
	if (ret) {
		/* Stalls are still found; only their culprit samples are missing. */
		collector_message(c, COLLECTOR_MSG_NOTICE, NULL,
				  "event loops: cpu-clock sampling unavailable (%s): stalls will "
				  "have no culprit samples", strerror(-ret));
	}
	*state = ls;
	return 0;
out:
	loops_close(ls);
	return ret;
}

/*
 * The switch hook (blocking calls inside iterations) runs on every switch of the machine: attach
 * it when the first loop thread appears, at the drain its first poll call wakes weft for, a
 * fraction of a millisecond later. Blocking calls in that moment go untimed; their stalls are
 * still found.
 */
static void loops_poll(struct collector *c, void *state)
{
	struct loops_state *ls = state;

	if (ls->switch_link || ls->switch_failed || !ls->skel->bss->loop_threads_seen)
		return;
	ls->switch_link = bpf_program__attach(ls->skel->progs.on_loop_switch);
	if (!ls->switch_link) {
		collector_message(c, COLLECTOR_MSG_NOTICE, NULL,
				  "event loops: attaching the switch hook: %s: blocking calls in "
				  "loop iterations are not timed", strerror(errno));
		ls->switch_failed = true;
	}
}

const struct collector_area loops_collector_area = {
	.name = "loops",
	.open = loops_open,
	.poll = loops_poll,
	.detach = loops_detach,
	.close = loops_close,
};
