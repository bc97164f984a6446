/* SPDX-License-Identifier: MIT */
/* Finding a CPython process's _PyRuntime (its Python frames are read from BPF). */
#ifndef WEFT_COLLECT_PYRUNTIME_H
#define WEFT_COLLECT_PYRUNTIME_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* The address of _PyRuntime in pid, if pid runs a CPython whose frame layout weft knows
 * (3.11 on x86-64). 0, -ENOENT (not such a CPython) or another negative errno. */
int pyruntime_find(pid_t pid, uint64_t *addr);

#endif
