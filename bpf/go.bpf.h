/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* Per-process facts the Go probes need, written by user space (src/collect/go.c). */
#ifndef WEFT_GO_BPF_H
#define WEFT_GO_BPF_H

#ifndef __BPF__
#include <linux/types.h>
#endif

/* Offsets of runtime structure fields in one binary, from its DWARF (or known per version). */
struct go_proc_info {
	__u32 g_goid;
	__u32 g_startpc;
	__u32 g_waiting;      /* *sudog */
	__u32 sudog_c;        /* *hchan */
	__u32 sudog_waitlink; /* *sudog: select's list */
	__u32 g_param;        /* unsafe.Pointer: the sudog that completed a channel wait */
	__u32 pd_rg;          /* pollDesc.rg: the g waiting to read (or pdReady / pdWait / 0) */
	__u32 pd_wg;          /* pollDesc.wg: ... to write */
};

#endif
