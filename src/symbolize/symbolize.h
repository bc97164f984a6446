/* SPDX-License-Identifier: MIT */
/* Turning addresses into names: user stacks unwound with DWARF CFI, ELF symbols, kallsyms. */
#ifndef WEFT_SYMBOLIZE_H
#define WEFT_SYMBOLIZE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "weft/events.h"

/*
 * A symbolizer remembers each process's memory map from the moment it was loaded, so stacks
 * recorded before a process exited still resolve after it is gone. ELF files are opened once
 * and shared between processes (keyed by device + inode). No libbpf, no printing.
 * Returns 0 or a negative errno unless said otherwise.
 */
struct sym;

struct sym *sym_new(void);
void sym_free(struct sym *s);

/* Read /proc/PID/maps now and keep it (replaces what was kept: call again after exec, or when
 * sym_resolve_user() reports an address outside every known mapping while the process lives). */
int sym_proc_load(struct sym *s, pid_t pid);
/* The process exec'd: its old map is stale. */
void sym_proc_reset(struct sym *s, pid_t pid);
/* Drop everything kept for pid (its stacks are all resolved); ELF files stay cached. */
void sym_proc_forget(struct sym *s, pid_t pid);
/* Changes whenever a process's map is read again or dropped: what was resolved before may
 * resolve differently now. */
uint64_t sym_generation(const struct sym *s);
/* Where separate debug files live ("DIR/.build-id/xx/yyyy.debug"); default /usr/lib/debug,
 * NULL: use only the mapped files (.symtab, else .dynsym). Affects files not yet resolved. */
int sym_set_debug_dir(struct sym *s, const char *dir);

/*
 * Unwind a user stack snapshot (the bytes from sp upwards, as copied by BPF) with .eh_frame /
 * .debug_frame CFI, falling back to the frame-pointer chain where no CFI covers a pc.
 * Writes raw pcs into ips, innermost first (ips[0] = uregs[WEFT_UREG_IP]; later entries are
 * return addresses). Returns the number of frames (>= 1 if ip != 0), or a negative errno.
 */
int sym_unwind_user(struct sym *s, pid_t pid, pid_t tid, const uint64_t uregs[WEFT_UREGS],
		    const void *stack, size_t stack_len, uint64_t *ips, int max_ips);
/* The plain frame-pointer chain over the same snapshot (what the fallback uses). Returns the
 * number of frames written. */
int sym_unwind_user_fp(const uint64_t uregs[WEFT_UREGS], const void *stack, size_t stack_len,
		       uint64_t *ips, int max_ips);

struct sym_loc {
	const char *function;   /* symbol name or NULL if unknown; owned by sym */
	const char *module;     /* file path ("[kernel.kallsyms]" for the kernel); owned by sym */
	uint64_t rel_pc;        /* pc as an offset into the module's file (for Perfetto frames) */
	uint64_t func_off;      /* pc - symbol start */
};

/* Resolve a pc of process pid. For return addresses pass pc - 1 (the call instruction) in
 * `lookup_pc`; `pc` is reported back in rel_pc terms. Returns 0, or -ENOENT if no mapping
 * covers the address (loc->module/function NULL). */
int sym_resolve_user(struct sym *s, pid_t pid, uint64_t pc, uint64_t lookup_pc,
		     struct sym_loc *loc);
/* Name a data address of process pid (a global or static variable, e.g. a lock): function
 * = the object's symbol, func_off = the offset into it, rel_pc = its ELF virtual address.
 * -ENOENT if no sized data symbol covers it (heap, stack, stripped file). */
int sym_resolve_data(struct sym *s, pid_t pid, uint64_t addr, struct sym_loc *loc);
/* Resolve a kernel address via /proc/kallsyms (loaded on first use). */
int sym_resolve_kernel(struct sym *s, uint64_t pc, struct sym_loc *loc);
/* Start loading /proc/kallsyms on a thread of its own (~0.1 s of CPU, half of it the kernel
 * printing the file): it goes on while the caller loads BPF programs, and the first kernel
 * address to resolve waits for it. Loads it on the spot if no thread can be started. */
void sym_load_kernel_early(struct sym *s);
/* How many reads of ELF files faulted because the file was cut short while mapped (a library
 * overwritten in place): its frames from then on keep their addresses. */
uint64_t sym_files_cut(const struct sym *s);

#endif /* WEFT_SYMBOLIZE_H */
