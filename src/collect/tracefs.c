// SPDX-License-Identifier: MIT
/* tracefs, mounted on demand: many machines boot without it, and libbpf reads tracepoint ids
 * from it (the debugfs copy first, as libbpf does). */
#include <pthread.h>
#include <stdio.h>
#include <sys/mount.h>
#include <unistd.h>

#include "collect/tracefs.h"

#define DEBUGFS_TRACING "/sys/kernel/debug/tracing"
#define TRACEFS "/sys/kernel/tracing"

/* The probe areas open at the same time: one mounts, the others then see it. */
static pthread_mutex_t mounting = PTHREAD_MUTEX_INITIALIZER;

bool tracefs_has_event(const char *group, const char *name)
{
	static const char *const roots[] = { DEBUGFS_TRACING, TRACEFS };
	char path[256];

	pthread_mutex_lock(&mounting);
	if (access(DEBUGFS_TRACING "/events", F_OK) && access(TRACEFS "/events", F_OK))
		mount("nodev", TRACEFS, "tracefs", 0, NULL);
	pthread_mutex_unlock(&mounting);
	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		if (access(roots[i], F_OK))
			continue;
		/* libbpf uses the first root that exists, so the answer is that root's */
		snprintf(path, sizeof(path), "%s/events/%s/%s/id", roots[i], group, name);
		return !access(path, R_OK);
	}
	return false;
}
