// SPDX-License-Identifier: MIT
/* Loader of the event-loop probes: poll-call syscall tracepoints, a switch hook, and cpu-clock
 * sampling on every CPU for culprit stacks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>

#include <bpf/libbpf.h>

#include "collect/area.h"
#include "collect/loops.h"
#include "collect/pyruntime.h"
#include "loops.skel.h"

struct loops_state {
	struct loops_bpf *skel;
	struct bpf_link **links;
	int *fds;
	int ncpus;
};

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

static int loops_open(struct collector *c, void **state, const struct collector_opts *o,
		      struct collector_error *err)
{
	unsigned hz = o->loop_sample_hz ? o->loop_sample_hz : LOOPS_DEFAULT_SAMPLE_HZ;
	uint64_t stall = o->stall_threshold_ns ? o->stall_threshold_ns : WEFT_LOOPS_DEFAULT_STALL_NS;
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
	if (ret) {
		snprintf(err->what, sizeof(err->what),
			 "event loops: attaching to syscall tracepoints: %s", strerror(-ret));
		goto out;
	}
	ret = attach_sampler(ls, hz);
	if (ret) {
		/* Stalls are still found; only their culprit samples are missing. */
		fprintf(stderr, "weft: event loops: cpu-clock sampling unavailable (%s): stalls "
			"will have no culprit samples\n", strerror(-ret));
	}
	*state = ls;
	return 0;
out:
	loops_close(ls);
	return ret;
}

/* A CPython process: let the BPF side find its Python frames. */
static int loops_add_process(struct collector *c, void *state, pid_t pid)
{
	struct loops_state *ls = state;
	__u32 key = pid;
	uint64_t rt;

	if (pyruntime_find(pid, &rt))
		return 0;
	return bpf_map__update_elem(ls->skel->maps.py_runtimes, &key, sizeof(key), &rt,
				    sizeof(rt), BPF_ANY);
}

const struct collector_area loops_collector_area = {
	.name = "loops",
	.open = loops_open,
	.add_process = loops_add_process,
	.close = loops_close,
};
