// SPDX-License-Identifier: MIT
/* Loader of the Go probes: finds Go binaries among traced processes and attaches uprobes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "collect/area.h"
#include "collect/detach.h"
#include "go.skel.h"
#include "symbolize/go_info.h"
#include "../bpf/go.bpf.h"

#define GO_LINKS_MAX 4096

/* Binaries already probed, by file identity: uprobes belong to the file, not to a process. */
struct go_binary {
	dev_t dev;
	ino_t ino;
	bool is_go;             /* a Go binary with its probes attached */
	struct go_proc_info pi; /* its offsets, given to each process running it */
};

#define GO_BINARIES_MAX 256

struct go_state {
	struct go_bpf *skel;
	struct go_binary bins[GO_BINARIES_MAX];
	int nbins;
	struct bpf_link *links[GO_LINKS_MAX];
	int nlinks;
};

static int go_open(struct collector *c, void **state, const struct collector_opts *o,
		   struct collector_error *err)
{
	struct go_state *st = calloc(1, sizeof(*st));
	int ret;

	if (!st)
		return -ENOMEM;
	st->skel = go_bpf__open();
	if (!st->skel) {
		ret = -errno;
		snprintf(err->what, sizeof(err->what), "go: opening BPF object: %s",
			 strerror(-ret));
		goto out;
	}
	ret = collector_reuse_maps(c, st->skel->obj);
	if (ret) {
		snprintf(err->what, sizeof(err->what), "go: sharing maps: %s", strerror(-ret));
		goto out;
	}
	ret = go_bpf__load(st->skel);
	if (ret) {
		snprintf(err->what, sizeof(err->what), "go: loading BPF programs: %s",
			 strerror(-ret));
		snprintf(err->hint, sizeof(err->hint), "run with -vv to see the verifier log");
		goto out;
	}
	*state = st;
	return 0;
out:
	go_bpf__destroy(st->skel);
	free(st);
	return ret;
}

/*
 * Attached for every process running the binary (pid -1): a uprobe given a pid is a per-thread
 * perf event and would miss the Ms (threads) the runtime already started. The programs then
 * keep to traced processes by looking the tgid up in go_procs.
 */
static int attach_one(struct go_state *st, struct bpf_program *prog, const char *path,
		      uint64_t off)
{
	struct bpf_link *l;

	if (st->nlinks >= GO_LINKS_MAX)
		return -ENOSPC;
	l = bpf_program__attach_uprobe(prog, false, -1, path, off);
	if (!l)
		return -errno;
	st->links[st->nlinks++] = l;
	return 0;
}

/* A Go program that cannot be followed must not look like one with no goroutine activity:
 * the user is told, once per binary. */
static void degraded(struct collector *c, pid_t pid, const char *exe, const char *why,
		     const char *hint)
{
	collector_message(c, COLLECTOR_MSG_NOTICE, hint, "%s (pid %d): goroutines not traced: %s",
			  exe, pid, why);
}

/* The binary at path (running, or about to run, as pid): inspect it once, attach once, and
 * give pid its offsets. Binaries that cannot be traced are reported once. */
static int probe_binary(struct collector *c, struct go_state *st, pid_t pid, const char *path,
			const char *exe)
{
	static const char *const hint_strip =
		"build without -ldflags='-s -w' and do not strip the binary; the scheduler "
		"view of its threads is still recorded";
	struct bpf_program *progs[GO_FN_MAX] = {
		[GO_FN_GOPARK] = st->skel->progs.go_park,
		[GO_FN_GOREADY] = st->skel->progs.go_ready,
		[GO_FN_NEWPROC1] = st->skel->progs.go_new,
		[GO_FN_GOEXIT1] = st->skel->progs.go_exit,
		[GO_FN_SEMACQUIRE1] = st->skel->progs.go_semacquire,
		[GO_FN_NETPOLLREADY] = st->skel->progs.go_netpollready,
	};
	struct go_binary *bin = NULL;
	struct go_info gi;
	char why[256];
	__u32 key = pid;
	struct stat sb;
	int ret;

	if (stat(path, &sb))
		return -errno;
	for (int i = 0; i < st->nbins && !bin; i++)
		if (st->bins[i].dev == sb.st_dev && st->bins[i].ino == sb.st_ino)
			bin = &st->bins[i];
	if (!bin) {
		if (st->nbins >= GO_BINARIES_MAX)
			return -ENOSPC;
		bin = &st->bins[st->nbins++];
		*bin = (struct go_binary){ .dev = sb.st_dev, .ino = sb.st_ino };
		ret = go_info_read(path, &gi, why, sizeof(why));
		if (ret <= 0) {
			if (ret < 0 && why[0])
				degraded(c, pid, exe, why, hint_strip);
			return ret == 0 || ret == -ENOENT || ret == -ENOTSUP ? 0 : ret;
		}
		bin->is_go = true;
		bin->pi = (struct go_proc_info){
			.g_goid = gi.off.g_goid,
			.g_startpc = gi.off.g_startpc,
			.g_waiting = gi.off.g_waiting,
			.g_param = gi.off.g_param,
			.sudog_c = gi.off.sudog_c,
			.sudog_waitlink = gi.off.sudog_waitlink,
			.pd_rg = gi.off.pd_rg,
			.pd_wg = gi.off.pd_wg,
		};
		for (int f = 0; f < GO_FN_MAX; f++) {
			if (!gi.fn_off[f] || (f == GO_FN_NETPOLLREADY && !gi.off.pd_rg))
				continue;
			/* Function entries only: never a uretprobe on Go code (bpf/go.bpf.c). */
			ret = attach_one(st, progs[f], path, gi.fn_probe_off[f]);
			if (ret) {
				char msg[128];

				snprintf(msg, sizeof(msg), "uprobe on %s: %s", go_fn_names[f],
					 strerror(-ret));
				degraded(c, pid, exe, msg, NULL);
				bin->is_go = false;
				return 0;
			}
		}
		/* Channel creation sites are a bonus: without them channels are still named by
		 * address. */
		for (int i = 0; i < gi.nmakechan_rets; i++)
			attach_one(st, st->skel->progs.go_makechan_ret, path,
				   gi.makechan_ret_off[i]);
		collector_message(c, COLLECTOR_MSG_VERBOSE, NULL,
				  "%s: Go %s, offsets from %s: goroutines traced", exe,
				  gi.version[0] ? gi.version : "(unknown version)", gi.off_source);
	}
	if (!bin->is_go)
		return 0;
	return bpf_map__update_elem(st->skel->maps.go_procs, &key, sizeof(key), &bin->pi,
				    sizeof(bin->pi), BPF_ANY);
}

static int go_add_process(struct collector *c, void *state, pid_t pid)
{
	char path[64], exe[256] = "?";
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n > 0)
		exe[n] = 0;
	return probe_binary(c, state, pid, path, exe);
}

static int go_pre_exec(struct collector *c, void *state, pid_t pid, const char *path)
{
	return probe_binary(c, state, pid, path, path);
}

static void go_detach(void *state, struct detach_batch *b)
{
	struct go_state *st = state;

	for (int i = 0; i < st->nlinks; i++)
		detach_add(b, &st->links[i]);
	detach_skeleton(b, st->skel->skeleton);
}

static void go_close(void *state)
{
	struct go_state *st = state;

	for (int i = 0; i < st->nlinks; i++)
		bpf_link__destroy(st->links[i]);
	go_bpf__destroy(st->skel);
	free(st);
}

const struct collector_area collector_area_go = {
	.name = "go",
	.open = go_open,
	.add_process = go_add_process,
	.pre_exec = go_pre_exec,
	.detach = go_detach,
	.close = go_close,
};
