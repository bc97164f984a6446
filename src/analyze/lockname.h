/* SPDX-License-Identifier: MIT */
/* How weft names a lock: one rule for every section of the output and the trace. */
#ifndef WEFT_LOCKNAME_H
#define WEFT_LOCKNAME_H

#include <stddef.h>
#include <stdint.h>

/*
 * The futex analysis (lock table, deadlocks, chains, trace slices and counters) and the preload
 * shim's analysis (its wait tables, lock-order inversions, slices) name the same lock with this,
 * so one string finds it everywhere, in --mode=both as in either mode alone:
 *
 *   g_account_lock        a lock that is a global: its symbol
 *   g_bank+0x8            a lock inside a global (a struct member, an array element)
 *   lock@0x55d0c0a3e2a0   anything else (the heap, a stack): its address
 *
 * Nothing else goes in: where a lock is taken is known at different times to the two analyses
 * (the kernel's first futex wait of a lock carries no call site), and a name must not change
 * once a track or slice carries it. Sections that know the site print it beside the name.
 * `sym` is the data symbol the lock lies in (NULL: none) and `sym_off` its offset there.
 */
void lock_name(char *buf, size_t len, const char *sym, uint64_t sym_off, uint64_t addr);

#endif
