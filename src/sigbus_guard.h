/* SPDX-License-Identifier: MIT */
/*
 * Reading memory-mapped files that someone else may cut short. A file mapped into weft (a ring
 * file of the preload shim, an ELF file being symbolized) can be truncated by another program
 * while it is mapped; touching the mapping past the new end then raises SIGBUS, which would kill
 * weft and lose the recording. Code that reads such a mapping runs under a guard: a SIGBUS on the
 * guarded thread ends the guarded call early and says where it struck. A SIGBUS anywhere else
 * is fatal as before.
 */
#ifndef WEFT_SIGBUS_GUARD_H
#define WEFT_SIGBUS_GUARD_H

/* Runs fn(arg) on this thread under the guard (guards nest: the innermost one is ended).
 * Returns 0, or -EFAULT if a SIGBUS ended it, with *fault (if not NULL) the faulting address. */
int sigbus_guard(void (*fn)(void *arg), void *arg, void **fault);
/* The guard's SIGBUS handler, installed by the first sigbus_guard(); again, for a caller that
 * installed another one since (a test framework does). */
void sigbus_guard_install(void);

#endif
