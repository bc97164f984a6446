// SPDX-License-Identifier: MIT
/*
 * CPython processes: where each keeps _PyRuntime, told to the BPF programs that read Python
 * frames (bpf/python.bpf.h) through the scheduler object's py_runtimes map. No probes of its
 * own.
 *
 * At exec only the executable and the dynamic loader are mapped: where the interpreter lives in
 * libpython (Debian's python3.11), _PyRuntime is not there yet. A process whose executable is a
 * Python is looked at again at each drain until its libpython appears, for a few seconds.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "collect/area.h"
#include "collect/pyruntime.h"
#include "clock.h"

#define PY_RETRY_NS (5 * 1000000000ULL) /* how long a Python's libpython is waited for */
#define PY_RETRY_MAX 64                  /* processes waited for at once */

struct py_retry {
	pid_t pid;
	uint64_t until_ns;
};

struct python_state {
	int runtimes_fd; /* the py_runtimes map */
	struct py_retry retry[PY_RETRY_MAX];
	int nretry;
};

/* pid's executable is named like a Python interpreter ("python3", "python3.11"). */
static bool exe_is_python(pid_t pid)
{
	char link[64], path[PATH_MAX];
	const char *base;
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return false;
	path[n] = '\0';
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	return !strncmp(base, "python", 6);
}

/* 0: registered; -ENOENT: not a known CPython (yet); another negative errno: gone or failed. */
static int try_register(struct python_state *ps, pid_t pid)
{
	__u32 key = pid;
	uint64_t rt;
	int ret = pyruntime_find(pid, &rt);

	if (ret)
		return ret;
	return bpf_map_update_elem(ps->runtimes_fd, &key, &rt, BPF_ANY) ? -errno : 0;
}

static int python_open(struct collector *c, void **state, const struct collector_opts *o,
		       struct collector_error *err)
{
	struct python_state *ps;

	(void)o;
	ps = calloc(1, sizeof(*ps));
	if (!ps)
		return -ENOMEM;
	ps->runtimes_fd = collector_map_fd(c, "py_runtimes");
	if (ps->runtimes_fd < 0) {
		snprintf(err->what, sizeof(err->what), "python: no py_runtimes map");
		free(ps);
		return -EOPNOTSUPP;
	}
	*state = ps;
	return 0;
}

static int python_add_process(struct collector *c, void *state, pid_t pid)
{
	struct python_state *ps = state;
	int ret = try_register(ps, pid);

	(void)c;
	if (ret != -ENOENT)
		return ret;
	if (ps->nretry < PY_RETRY_MAX && exe_is_python(pid))
		ps->retry[ps->nretry++] = (struct py_retry){ pid, monotonic_ns() + PY_RETRY_NS };
	return 0;
}

static void python_poll(struct collector *c, void *state)
{
	struct python_state *ps = state;
	uint64_t now = ps->nretry ? monotonic_ns() : 0;

	(void)c;
	for (int i = 0; i < ps->nretry;) {
		int ret = try_register(ps, ps->retry[i].pid);

		if (ret == -ENOENT && now < ps->retry[i].until_ns)
			i++;
		else
			ps->retry[i] = ps->retry[--ps->nretry];
	}
}

static void python_close(void *state)
{
	free(state);
}

const struct collector_area collector_area_python = {
	.name = "python",
	.open = python_open,
	.add_process = python_add_process,
	.poll = python_poll,
	.close = python_close,
};
