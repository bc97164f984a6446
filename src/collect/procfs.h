/* SPDX-License-Identifier: MIT */
/* What /proc says about processes that existed before the recording started. */
#ifndef WEFT_PROCFS_H
#define WEFT_PROCFS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "weft/events.h"

struct procfs_process {
	pid_t pid;
	pid_t ppid;
	bool kernel_thread;
	char comm[WEFT_COMM_LEN];
	char cmdline[256];   /* arguments joined by spaces */
};

/* 0, -ESRCH (no such process), or another negative errno. */
int procfs_read_process(pid_t pid, struct procfs_process *out);
/* Calls fn for each thread of pid. Returns the number of threads or a negative errno. */
int procfs_for_each_thread(pid_t pid, void (*fn)(void *ctx, pid_t tid, const char *comm),
			   void *ctx);
bool procfs_alive(pid_t pid);
/* The process's state letter (R, S, D, Z...), or 0 if it cannot be read. */
char procfs_state(pid_t pid);

#endif
