/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* <linux/errno.h> (pulled in by libbpf's usdt.bpf.h) includes <asm/errno.h>, which Debian keeps in
 * a multiarch directory the BPF target does not search. The BPF side needs only these. */
#ifndef WEFT_BPF_ASM_ERRNO_H
#define WEFT_BPF_ASM_ERRNO_H
#define ENOENT 2
#define ESRCH 3
#define EINVAL 22
#endif
