// SPDX-License-Identifier: MIT
/* weft record: attach to running processes for a while. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/recording.h"
#include "collect/procfs.h"

#define MAX_PIDS 256

static void help(void)
{
	printf("Usage: weft record -p PID[,PID...] [options]\n"
	       "\n"
	       "Attaches to running processes (all their threads, and the processes they start\n"
	       "while attached) until the duration ends, they all exit, or Ctrl-C; then writes a\n"
	       "Perfetto trace and prints a summary on stderr. Needs root, or CAP_BPF and\n"
	       "CAP_PERFMON.\n"
	       "\n"
	       "  -p, --pid PID[,PID...]  processes to trace\n");
	record_options_help();
	printf("\nExamples:\n"
	       "  sudo weft record -p $(pidof server) -d 10\n"
	       "  sudo weft record -p 1234,5678 -o both.pftrace --summary-json both.json\n");
}

static int parse_pids(const char *arg, pid_t *pids, int *n)
{
	const char *p = arg;
	char *end;
	long v;

	while (*p) {
		errno = 0;
		v = strtol(p, &end, 10);
		if (end == p || errno || v <= 0 || v > 0x3fffffff || (*end && *end != ','))
			return cli_usage_error("-p: '%s' is not a list of process ids (e.g. -p 12,34)",
					       arg);
		if (*n >= MAX_PIDS)
			return cli_usage_error("-p: at most %d processes", MAX_PIDS);
		pids[(*n)++] = v;
		p = *end ? end + 1 : end;
	}
	return 0;
}

static int check_pid(pid_t pid)
{
	struct procfs_process p;
	int ret = procfs_read_process(pid, &p);

	if (ret == -ESRCH)
		return cli_error(1, "list processes with 'ps -e' or 'pgrep NAME'",
				 "pid %d: no such process", pid);
	if (ret)
		return cli_error(1, NULL, "pid %d: reading /proc/%d: %s", pid, pid, strerror(-ret));
	if (p.kernel_thread)
		return cli_error(1, "weft traces user-space processes",
				 "pid %d (%s) is a kernel thread", pid, p.comm);
	return 0;
}

struct targets {
	pid_t pids[MAX_PIDS];
	int n;
};

static bool all_exited(void *ctx, struct recording *r)
{
	struct targets *t = ctx;

	for (int i = 0; i < t->n; i++)
		if (procfs_alive(t->pids[i]))
			return false;
	return true;
}

int cmd_record(int argc, char **argv)
{
	pid_t pids[MAX_PIDS];
	struct record_opts o;
	struct recording *r = NULL;
	struct targets live = { .n = 0 };
	int npids = 0, opt, ret;

	record_opts_init(&o);
	while ((opt = getopt_long(argc, argv, RECORD_SHORTOPTS "p:", record_longopts, NULL)) !=
	       -1) {
		if (opt == 'h') {
			help();
			return 0;
		}
		if (opt == 'p') {
			if (parse_pids(optarg, pids, &npids))
				return 2;
			continue;
		}
		ret = record_parse_common(&o, opt, optarg);
		if (ret < 0)
			return 2;
		if (ret == 0)
			return cli_usage_error("record: unexpected option '%s'", argv[optind - 1]);
	}
	if (optind < argc)
		return cli_usage_error("record: unexpected argument '%s' (to start a command, use "
				       "weft run -- CMD)", argv[optind]);
	if (!npids)
		return cli_usage_error("record: which processes? give -p PID[,PID...]");
	for (int i = 0; i < npids; i++)
		if (check_pid(pids[i]))
			return 1;

	if (record_mode_resolve(o.mode) == RECORD_MODE_PRELOAD ||
	    record_mode_resolve(o.mode) == RECORD_MODE_BOTH) {
		if (o.mode == RECORD_MODE_AUTO)
			return cli_error(1, "run as root for BPF, or start the program under "
					 "`weft run --mode=preload -- CMD`",
					 "record: attaching to a running process needs BPF (root)");
		return cli_usage_error("record: --mode=%s works only with `weft run` (the shim "
				       "is loaded when the program starts)",
				       record_mode_name(o.mode));
	}
	ret = recording_start(&r, &o);
	if (ret)
		return ret;
	for (int i = 0; i < npids; i++) {
		ret = recording_attach(r, pids[i], NULL);
		if (ret == -ESRCH || !procfs_alive(pids[i])) {
			cli_error(0, NULL, "pid %d exited while weft was attaching", pids[i]);
			continue;
		}
		if (ret) {
			cli_error(0, NULL, "attaching to pid %d: %s", pids[i], strerror(-ret));
			continue;
		}
		live.pids[live.n++] = pids[i];
	}
	if (o.verbose)
		fprintf(stderr, "weft: tracing %d process%s%s\n", live.n, live.n == 1 ? "" : "es",
			o.duration_s ? "" : "; Ctrl-C to stop");
	if (live.n)
		recording_loop(r, all_exited, &live);
	ret = recording_finish(r);
	if (!live.n)
		ret = 1;
	recording_free(r);
	return ret;
}
