/* SPDX-License-Identifier: MIT */
/* What weft needs to know about a Go binary: its version, runtime entry points, g field offsets. */
#ifndef WEFT_GO_INFO_H
#define WEFT_GO_INFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Runtime functions probed, in this order. */
enum go_fn {
	GO_FN_GOPARK,
	GO_FN_GOREADY,
	GO_FN_NEWPROC1,
	GO_FN_GOEXIT1,
	GO_FN_SEMACQUIRE1,
	GO_FN_NETPOLLREADY,
	GO_FN_MAX,
};

extern const char *const go_fn_names[GO_FN_MAX]; /* "runtime.gopark", ... */

struct go_offsets {
	uint32_t g_goid, g_startpc, g_waiting, g_param;
	uint32_t sudog_c, sudog_waitlink;
	uint32_t pd_rg, pd_wg; /* runtime.pollDesc; both 0 if unknown (no network I/O wakes) */
};

struct go_info {
	char version[32];            /* "go1.19.8"; "" if unknown */
	bool has_symtab;
	bool has_dwarf;
	uint64_t fn_addr[GO_FN_MAX]; /* virtual address, 0: not found */
	uint64_t fn_off[GO_FN_MAX];  /* file offset of the entry */
	uint64_t fn_probe_off[GO_FN_MAX]; /* where to probe: the entry or, past the stack
					   * check's cmp, the equivalent jbe (cheaper) */
	/* RET instructions of runtime.makechan (its result, the channel, is in RAX there) */
#define GO_MAKECHAN_RETS 4
	uint64_t makechan_addr;
	uint64_t makechan_ret_off[GO_MAKECHAN_RETS];
	int nmakechan_rets;
	struct go_offsets off;
	const char *off_source;      /* "DWARF" or "built-in table for goX.Y" */
};

/*
 * Inspect an ELF file. Returns 1 if it is a Go binary weft can trace (info filled), 0 if it is
 * not a Go binary, or a negative errno when it is one that cannot be traced; `why` then says
 * what is missing, for the user ("stripped: no symbol table ..."). Needs no privileges.
 */
int go_info_read(const char *path, struct go_info *info, char *why, size_t why_len);

/* Go version "go1.19.8" -> 119 (major*100 + minor); 0 if unparsable. */
int go_version_number(const char *version);

/* The runtime's name for a waitReason of a given Go version; NULL if unknown. */
const char *go_wait_reason_name(int version, unsigned reason);

#endif
