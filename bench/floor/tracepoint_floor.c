// SPDX-License-Identifier: MIT
/*
 * Usage: tracepoint_floor empty|clock
 * Attaches the two programs of that kind (tracepoint_floor.bpf.c), prints "ready" and waits
 * for a signal.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tracepoint_floor.skel.h"

int main(int argc, char **argv)
{
	struct tracepoint_floor_bpf *skel;
	bool clock;
	sigset_t set;
	int sig;

	if (argc != 2 || (strcmp(argv[1], "empty") && strcmp(argv[1], "clock"))) {
		fprintf(stderr, "usage: %s empty|clock\n", argv[0]);
		return 2;
	}
	clock = !strcmp(argv[1], "clock");
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	skel = tracepoint_floor_bpf__open();
	if (!skel) {
		perror("tracepoint_floor: opening BPF object");
		return 1;
	}
	bpf_program__set_autoload(skel->progs.empty_switch, !clock);
	bpf_program__set_autoload(skel->progs.empty_waking, !clock);
	bpf_program__set_autoload(skel->progs.clock_switch, clock);
	bpf_program__set_autoload(skel->progs.clock_waking, clock);
	if (tracepoint_floor_bpf__load(skel) || tracepoint_floor_bpf__attach(skel)) {
		perror("tracepoint_floor: loading or attaching");
		tracepoint_floor_bpf__destroy(skel);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	sigwait(&set, &sig);
	tracepoint_floor_bpf__destroy(skel);
	return 0;
}
