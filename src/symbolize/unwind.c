// SPDX-License-Identifier: MIT
/* DWARF CFI unwinding of recorded user stacks with libdw, one reusable Dwfl per process map. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <dwarf.h>

#include "symbolize/sym_internal.h"

/* x86-64 DWARF register numbers (System V psABI, figure 3.36). */
enum {
	DWARF_RBX = 3,
	DWARF_RBP = 6,
	DWARF_RSP = 7,
	DWARF_R12 = 12,
};

/*
 * The Dwfl gets its ELF files from our cache instead of opening them again: elf_begin() with
 * a reference Elf only bumps its reference count, and dwfl_end()'s elf_end() drops it again.
 */
static int uw_find_elf(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
		       char **file_name, Elf **elfp)
{
	struct sym_elf *e = *userdata;

	*elfp = e && !e->broken ? elf_begin(-1, ELF_C_READ_MMAP, e->elf) : NULL;
	return -1;
}

/* Separate debug files only matter for .debug_frame, which Debian's -dbg files do not carry. */
static int uw_find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
			     Dwarf_Addr base, const char *file_name, const char *debuglink_file,
			     GElf_Word debuglink_crc, char **debuginfo_file_name)
{
	return -1;
}

static const Dwfl_Callbacks uw_dwfl_callbacks = {
	.find_elf = uw_find_elf,
	.find_debuginfo = uw_find_debuginfo,
};

/* Threads are never listed: every unwind names its thread through dwfl_getthread_frames(). */
static pid_t uw_next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	return 0;
}

static bool uw_get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_argp)
{
	*thread_argp = arg;
	return true;
}

/* Memory is what BPF copied: [sp, sp + stack_len). Anything else is unknown, and ends the walk. */
static bool uw_memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	struct sym_proc *p = arg;
	struct unwind_ctx *ctx = p->uw;
	uint64_t sp = ctx->uregs[WEFT_UREG_SP];

	if (addr < sp || addr - sp > ctx->stack_len || ctx->stack_len - (addr - sp) < 8)
		return false;
	memcpy(result, ctx->stack + (addr - sp), sizeof(*result));
	return true;
}

/* Only callee-saved registers were recorded; the others stay undefined, as they should. */
static bool uw_set_initial_registers(Dwfl_Thread *thread, void *arg)
{
	struct sym_proc *p = arg;
	const uint64_t *r = p->uw->uregs;
	Dwarf_Word bx = r[WEFT_UREG_BX];
	Dwarf_Word bp_sp[2] = { r[WEFT_UREG_BP], r[WEFT_UREG_SP] };
	Dwarf_Word r12_15[4] = { r[WEFT_UREG_R12], r[WEFT_UREG_R13], r[WEFT_UREG_R14],
				 r[WEFT_UREG_R15] };

	if (!dwfl_thread_state_registers(thread, DWARF_RBX, 1, &bx) ||
	    !dwfl_thread_state_registers(thread, DWARF_RBP, 2, bp_sp) ||
	    !dwfl_thread_state_registers(thread, DWARF_R12, 4, r12_15))
		return false;
	dwfl_thread_state_register_pc(thread, r[WEFT_UREG_IP]);
	return true;
}

static const Dwfl_Thread_Callbacks uw_thread_callbacks = {
	.next_thread = uw_next_thread,
	.get_thread = uw_get_thread,
	.memory_read = uw_memory_read,
	.set_initial_registers = uw_set_initial_registers,
};

void unwind_proc_drop(struct sym_proc *p)
{
	if (p->dwfl)
		dwfl_end(p->dwfl);
	p->dwfl = NULL;
	p->dwfl_failed = false;
}

/* Report each executable file mapping once, at its load bias. */
static int uw_build(struct sym_proc *p)
{
	int i, j, reported = 0, err = 0;

	p->dwfl = dwfl_begin(&uw_dwfl_callbacks);
	if (!p->dwfl) {
		err = -ENOMEM;
		goto out;
	}
	dwfl_report_begin(p->dwfl);
	for (i = 0; i < p->nmaps; i++) {
		struct sym_map *m = &p->maps[i];
		Dwfl_Module *mod;
		void **userdata;
		bool dup = false;

		if (!m->elf)
			continue;
		/* A file is mapped as several segments: report it once per load bias. */
		for (j = 0; j < i && !dup; j++)
			dup = p->maps[j].elf == m->elf && p->maps[j].bias == m->bias;
		if (dup)
			continue;
		mod = dwfl_report_module(p->dwfl, m->name, m->bias + m->elf->lo_vaddr,
					 m->bias + m->elf->hi_vaddr);
		if (!mod)
			continue;
		dwfl_module_info(mod, &userdata, NULL, NULL, NULL, NULL, NULL, NULL);
		*userdata = m->elf;
		reported++;
	}
	if (dwfl_report_end(p->dwfl, NULL, NULL) || !reported) {
		err = -ENOENT;
		goto out;
	}
	if (!dwfl_attach_state(p->dwfl, NULL, p->pid, &uw_thread_callbacks, p)) {
		err = -EINVAL;
		goto out;
	}
out:
	if (err) {
		if (p->dwfl)
			dwfl_end(p->dwfl);
		p->dwfl = NULL;
		p->dwfl_failed = true;
	}
	return err;
}

static int uw_frame(Dwfl_Frame *state, void *arg)
{
	struct unwind_ctx *ctx = arg;
	Dwarf_Addr pc;

	if (!dwfl_frame_pc(state, &pc, NULL) || pc == 0)
		return DWARF_CB_ABORT;
	ctx->ips[ctx->nips++] = pc;
	return ctx->nips < ctx->max_ips ? DWARF_CB_OK : DWARF_CB_ABORT;
}

/*
 * Unwind with the process's Dwfl. The Dwfl (modules, parsed CFI) lives as long as the map it
 * was built from; per unwind libdw only creates and frees the thread state. Returns the number
 * of frames, or a negative errno if no Dwfl could be built.
 */
int unwind_dwfl(struct sym_proc *p, pid_t tid, struct unwind_ctx *ctx)
{
	int err = 0;

	if (!p->dwfl && !p->dwfl_failed)
		uw_build(p);
	if (!p->dwfl) {
		err = -ENOENT;
		goto out;
	}
	p->uw = ctx;
	/* The end of the snapshot shows up as an error: the frames so far are the answer. */
	dwfl_getthread_frames(p->dwfl, tid > 0 ? tid : p->pid, uw_frame, ctx);
	p->uw = NULL;
out:
	return err ? err : ctx->nips;
}
