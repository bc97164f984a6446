/* SPDX-License-Identifier: MIT */
/* tracefs, where libbpf finds the ids of tracepoints such as syscalls/sys_enter_futex. */
#ifndef WEFT_COLLECT_TRACEFS_H
#define WEFT_COLLECT_TRACEFS_H

#include <stdbool.h>

/* True if the tracepoint "group/name" can be attached to, mounting tracefs at
 * /sys/kernel/tracing first if neither it nor debugfs's copy is there (needs CAP_SYS_ADMIN). */
bool tracefs_has_event(const char *group, const char *name);

#endif
