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
#include "go.skel.h"
#include "symbolize/go_info.h"
#include "../bpf/go.bpf.h"

#define GO_LINKS_MAX 4096

/* Binaries already probed, by file identity: uprobes belong to the file, not to a process. */
struct go_binary {
	dev_t dev;
	ino_t ino;
};

#define GO_BINARIES_MAX 256

struct go_state {
	struct go_bpf *skel;
	struct go_binary bins[GO_BINARIES_MAX];
	int nbins;
	struct bpf_link *links[GO_LINKS_MAX];
	int nlinks;
	int verbose;
};

static int go_open(struct collector *c, void **state, const struct collector_opts *o,
		   struct collector_error *err)
{
	struct go_state *st = calloc(1, sizeof(*st));
	int ret;

	if (!st)
		return -ENOMEM;
	st->verbose = o->verbose;
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

/*
 * The collector prints nothing itself, but a Go program that cannot be followed must not look
 * like one with no goroutine activity: say so on stderr, once per process.
 */
static void degraded(pid_t pid, const char *exe, const char *why, const char *hint)
{
	fprintf(stderr, "weft: pid %d (%s): goroutines not traced: %s\n", pid, exe, why);
	if (hint)
		fprintf(stderr, "weft: hint: %s\n", hint);
}

static int go_add_process(struct collector *c, void *state, pid_t pid)
{
	static const char *const hint_strip =
		"build without -ldflags='-s -w' and do not strip the binary; the scheduler "
		"view of its threads is still recorded";
	struct go_state *st = state;
	struct go_info gi;
	struct go_proc_info pi = { 0 };
	struct bpf_program *progs[GO_FN_MAX] = {
		[GO_FN_GOPARK] = st->skel->progs.go_park,
		[GO_FN_GOREADY] = st->skel->progs.go_ready,
		[GO_FN_NEWPROC1] = st->skel->progs.go_new,
		[GO_FN_GOEXIT1] = st->skel->progs.go_exit,
		[GO_FN_SEMACQUIRE1] = st->skel->progs.go_semacquire,
	};
	char path[64], exe[256] = "?", why[256];
	__u32 key = pid;
	struct stat sb;
	ssize_t n;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n > 0)
		exe[n] = 0;
	ret = go_info_read(path, &gi, why, sizeof(why));
	if (ret == 0)
		return 0; /* not Go */
	if (ret < 0) {
		if (why[0])
			degraded(pid, exe, why, hint_strip);
		return ret == -ENOENT || ret == -ENOTSUP ? 0 : ret;
	}
	pi.g_goid = gi.off.g_goid;
	pi.g_startpc = gi.off.g_startpc;
	pi.g_waiting = gi.off.g_waiting;
	pi.sudog_c = gi.off.sudog_c;
	pi.sudog_waitlink = gi.off.sudog_waitlink;
	pi.g_param = gi.off.g_param;
	/* Offsets first: a probe that fires before them finds no entry and does nothing. */
	ret = bpf_map__update_elem(st->skel->maps.go_procs, &key, sizeof(key), &pi, sizeof(pi),
				   BPF_ANY);
	if (ret)
		return ret;
	if (stat(path, &sb))
		return -errno;
	for (int i = 0; i < st->nbins; i++)
		if (st->bins[i].dev == sb.st_dev && st->bins[i].ino == sb.st_ino)
			return 0; /* already probed for another process */
	if (st->nbins >= GO_BINARIES_MAX)
		return -ENOSPC;
	st->bins[st->nbins++] = (struct go_binary){ sb.st_dev, sb.st_ino };
	for (int f = 0; f < GO_FN_MAX; f++) {
		if (!gi.fn_off[f])
			continue;
		/* Only function entries: never a uretprobe on Go code (see bpf/go.bpf.c). */
		ret = attach_one(st, progs[f], path, gi.fn_probe_off[f]);
		if (ret) {
			char msg[128];

			snprintf(msg, sizeof(msg), "uprobe on %s: %s", go_fn_names[f],
				 strerror(-ret));
			degraded(pid, exe, msg, NULL);
			return 0;
		}
	}
	if (st->verbose)
		fprintf(stderr, "weft: pid %d: Go %s, offsets from %s: goroutines traced\n", pid,
			gi.version[0] ? gi.version : "(unknown version)", gi.off_source);
	return 0;
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
	.close = go_close,
};
