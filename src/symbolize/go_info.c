// SPDX-License-Identifier: MIT
/* Go binaries: build version from .go.buildinfo, runtime symbols, struct offsets from DWARF. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <gelf.h>

#include "symbolize/go_info.h"

const char *const go_fn_names[GO_FN_MAX] = {
	[GO_FN_GOPARK] = "runtime.gopark",
	[GO_FN_GOREADY] = "runtime.goready",
	[GO_FN_NEWPROC1] = "runtime.newproc1",
	[GO_FN_GOEXIT1] = "runtime.goexit1",
	[GO_FN_SEMACQUIRE1] = "runtime.semacquire1",
	[GO_FN_NETPOLLREADY] = "runtime.netpollready",
};

/* Functions without which goroutines cannot be followed at all. */
static const bool fn_required[GO_FN_MAX] = {
	[GO_FN_GOPARK] = true,
	[GO_FN_GOREADY] = true,
};

int go_version_number(const char *v)
{
	int major, minor;

	if (sscanf(v, "go%d.%d", &major, &minor) != 2)
		return 0;
	return major * 100 + minor;
}

/* runtime/runtime2.go, Go 1.17 to 1.19 (the list only grew at the end in those versions). */
static const char *const reasons_117[] = {
	"", "GC assist marking", "IO wait", "chan receive (nil chan)", "chan send (nil chan)",
	"dumping heap", "garbage collection", "garbage collection scan", "panicwait", "select",
	"select (no cases)", "GC assist wait", "GC sweep wait", "GC scavenge wait", "chan receive",
	"chan send", "finalizer wait", "force gc (idle)", "semacquire", "sleep", "sync.Cond.Wait",
	"timer goroutine (idle)", "trace reader (blocked)", "wait for GC cycle",
	"GC worker (idle)", "preempted", "debug call",
};

const char *go_wait_reason_name(int version, unsigned reason)
{
	if (version >= 117 && version <= 119 && reason < sizeof(reasons_117) / sizeof(*reasons_117))
		return reasons_117[reason];
	return NULL;
}

/*
 * Offsets in Go 1.19 on amd64 for binaries without DWARF (built with -ldflags=-w), checked
 * against the DWARF of Debian's go1.19 build. Other versions without DWARF are refused rather
 * than guessed.
 */
static const struct go_offsets offsets_119 = {
	.g_goid = 152, .g_startpc = 312, .g_waiting = 328, .g_param = 136, .pd_rg = 24, .pd_wg = 32,
	.sudog_c = 80, .sudog_waitlink = 64,
};

/* .go.buildinfo (Go 1.18+): "\xff Go buildinf:" magic, pointer size, flags; with flag 2 the
 * version string follows inline at offset 32 as a varint length and bytes. */
static void read_buildinfo(Elf *elf, char *out, size_t len)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	out[0] = 0;
	if (elf_getshdrstrndx(elf, &shstrndx))
		return;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		const unsigned char *p;
		const char *name;
		uint64_t n = 0;
		size_t i = 32;
		int shift = 0;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name || strcmp(name, ".go.buildinfo"))
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || d->d_size < 48)
			return;
		p = d->d_buf;
		if (memcmp(p, "\xff Go buildinf:", 14))
			return;
		if (!(p[15] & 2)) {
			/* Go 1.17 and older point at the string instead: say "go1.17 or older". */
			snprintf(out, len, "go1.17-");
			return;
		}
		while (i < d->d_size && shift < 28) {
			n |= (uint64_t)(p[i] & 0x7f) << shift;
			shift += 7;
			if (!(p[i++] & 0x80))
				break;
		}
		if (n && i + n <= d->d_size)
			snprintf(out, len, "%.*s", (int)n, (const char *)p + i);
		return;
	}
}

static uint64_t vaddr_to_offset(Elf *elf, uint64_t addr)
{
	size_t phnum;

	if (elf_getphdrnum(elf, &phnum))
		return 0;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (addr >= ph.p_vaddr && addr < ph.p_vaddr + ph.p_filesz)
			return addr - ph.p_vaddr + ph.p_offset;
	}
	return 0;
}

/*
 * Where to put the uprobe of a function entry. Go functions open with the stack check
 * `cmp 0x10(%r14),%rsp; jbe morestack`. The kernel must single-step a displaced copy of a
 * probed cmp (a second trap), but it emulates a conditional jump; the cmp changes only the
 * flags, so probing the jbe sees the registers and stack exactly as at entry, for less.
 */
static uint64_t probe_offset(int fd, uint64_t off)
{
	unsigned char b[6];

	if (pread(fd, b, sizeof(b), (off_t)off) != (ssize_t)sizeof(b))
		return off;
	if (b[0] == 0x49 && b[1] == 0x3b && b[2] == 0x66 && b[3] == 0x10 &&
	    (b[4] == 0x76 || (b[4] == 0x0f && b[5] == 0x86)))
		return off + 4;
	return off;
}

/*
 * The RETs of a function, found by Go's amd64 epilogue rather than by disassembly: restore the
 * frame pointer from the frame, pop the frame, return:
 *     48 8b 6c 24 d8 | 48 8b ac 24 d32     mov  disp(%rsp),%rbp
 *     48 83 c4 i8    | 48 81 c4 i32        add  $frame,%rsp
 *     c3                                   ret
 * A 0xc3 byte found this way is an instruction, not the inside of one. Probing a RET (the
 * kernel emulates it) reads the result without a uretprobe.
 */
static int find_rets(int fd, uint64_t off, uint64_t size, uint64_t *rets, int max)
{
	unsigned char *b;
	int n = 0;

	if (!size || size > 65536 || !(b = malloc(size)))
		return 0;
	if (pread(fd, b, size, (off_t)off) != (ssize_t)size)
		size = 0;
	for (uint64_t i = 0; i + 1 < size && n < max; i++) {
		uint64_t j;

		if (b[i] != 0x48 || b[i + 1] != 0x8b || i + 4 >= size)
			continue;
		if (b[i + 2] == 0x6c && b[i + 3] == 0x24)
			j = i + 5;
		else if (b[i + 2] == 0xac && b[i + 3] == 0x24)
			j = i + 8;
		else
			continue;
		if (j + 3 < size && b[j] == 0x48 && b[j + 1] == 0x83 && b[j + 2] == 0xc4)
			j += 4;
		else if (j + 6 < size && b[j] == 0x48 && b[j + 1] == 0x81 && b[j + 2] == 0xc4)
			j += 7;
		else
			continue;
		if (j < size && b[j] == 0xc3)
			rets[n++] = off + j;
	}
	free(b);
	return n;
}

static bool read_symbols(Elf *elf, struct go_info *info, uint64_t *makechan_size)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !sh.sh_entsize)
			continue;
		info->has_symtab = true;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym s;
			const char *name;

			if (!gelf_getsym(d, (int)i, &s) || GELF_ST_TYPE(s.st_info) != STT_FUNC)
				continue;
			name = elf_strptr(elf, sh.sh_link, s.st_name);
			if (!name || strncmp(name, "runtime.", 8))
				continue;
			for (int f = 0; f < GO_FN_MAX; f++)
				if (!strcmp(name, go_fn_names[f]))
					info->fn_addr[f] = s.st_value;
			if (!strcmp(name, "runtime.makechan")) {
				info->makechan_addr = s.st_value;
				*makechan_size = s.st_size;
			}
		}
	}
	for (int f = 0; f < GO_FN_MAX; f++)
		if (info->fn_addr[f])
			info->fn_off[f] = vaddr_to_offset(elf, info->fn_addr[f]);
	return info->has_symtab;
}

/* Byte offset of `member` in the structure DIE `st`, or -1. */
static long member_offset(Dwarf_Die *st, const char *member)
{
	Dwarf_Die child;

	if (dwarf_child(st, &child))
		return -1;
	do {
		Dwarf_Attribute at;
		Dwarf_Word off;
		const char *name;

		if (dwarf_tag(&child) != DW_TAG_member)
			continue;
		name = dwarf_diename(&child);
		if (!name || strcmp(name, member))
			continue;
		if (!dwarf_attr(&child, DW_AT_data_member_location, &at) ||
		    dwarf_formudata(&at, &off))
			return -1;
		return (long)off;
	} while (dwarf_siblingof(&child, &child) == 0);
	return -1;
}

/* Fill offsets from the runtime.g and runtime.sudog types; true if all were found. */
static bool read_dwarf_offsets(Elf *elf, struct go_offsets *o)
{
	Dwarf *dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	Dwarf_Off off = 0, next;
	size_t hsize;
	long v[6] = { -1, -1, -1, -1, -1, -1 }, pd_rg = -1, pd_wg = -1;
	bool have_g = false, have_sudog = false, have_pd = false;

	if (!dw)
		return false;
	while (!(have_g && have_sudog && have_pd) &&
	       dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, die;

		if (!dwarf_offdie(dw, off + hsize, &cu) || dwarf_child(&cu, &die)) {
			off = next;
			continue;
		}
		do {
			const char *name;

			if (dwarf_tag(&die) != DW_TAG_structure_type)
				continue;
			name = dwarf_diename(&die);
			if (!name)
				continue;
			if (!have_g && !strcmp(name, "runtime.g")) {
				v[0] = member_offset(&die, "goid");
				v[1] = member_offset(&die, "startpc");
				v[2] = member_offset(&die, "waiting");
				v[5] = member_offset(&die, "param");
				have_g = true;
			} else if (!have_pd && !strcmp(name, "runtime.pollDesc")) {
				pd_rg = member_offset(&die, "rg");
				pd_wg = member_offset(&die, "wg");
				have_pd = true;
			} else if (!have_sudog && !strcmp(name, "runtime.sudog")) {
				v[3] = member_offset(&die, "c");
				v[4] = member_offset(&die, "waitlink");
				have_sudog = true;
			}
		} while (dwarf_siblingof(&die, &die) == 0);
		off = next;
	}
	dwarf_end(dw);
	for (int i = 0; i < 6; i++)
		if (v[i] < 0)
			return false;
	*o = (struct go_offsets){ .g_goid = v[0], .g_startpc = v[1], .g_waiting = v[2],
				  .sudog_c = v[3], .sudog_waitlink = v[4], .g_param = v[5] };
	if (pd_rg > 0 && pd_wg > 0) {
		o->pd_rg = pd_rg;
		o->pd_wg = pd_wg;
	}
	return true;
}

int go_info_read(const char *path, struct go_info *info, char *why, size_t why_len)
{
	uint64_t makechan_size = 0;
	Elf *elf = NULL;
	int fd, ret = 0, ver;

	memset(info, 0, sizeof(*info));
	why[0] = 0;
	elf_version(EV_CURRENT);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF)
		goto out; /* not ELF: not Go */
	read_buildinfo(elf, info->version, sizeof(info->version));
	read_symbols(elf, info, &makechan_size);
	if (info->makechan_addr)
		info->nmakechan_rets =
			find_rets(fd, vaddr_to_offset(elf, info->makechan_addr), makechan_size,
				  info->makechan_ret_off, GO_MAKECHAN_RETS);
	for (int f = 0; f < GO_FN_MAX; f++)
		if (info->fn_off[f])
			info->fn_probe_off[f] = probe_offset(fd, info->fn_off[f]);
	if (!info->version[0] && !info->fn_addr[GO_FN_GOPARK])
		goto out; /* not a Go binary */
	ver = go_version_number(info->version);
	if (!strcmp(info->version, "go1.17-"))
		ver = 117;
	if (ver && ver < 117) {
		snprintf(why, why_len, "%s predates Go's register ABI (1.17+ is supported)",
			 info->version);
		ret = -ENOTSUP;
		goto out;
	}
	if (!info->has_symtab) {
		snprintf(why, why_len, "%s binary is stripped (no symbol table): runtime functions "
			 "cannot be found", info->version[0] ? info->version : "Go");
		ret = -ENOENT;
		goto out;
	}
	for (int f = 0; f < GO_FN_MAX; f++) {
		if (fn_required[f] && !info->fn_off[f]) {
			snprintf(why, why_len, "%s not found in the symbol table", go_fn_names[f]);
			ret = -ENOENT;
			goto out;
		}
	}
	info->has_dwarf = read_dwarf_offsets(elf, &info->off);
	if (info->has_dwarf) {
		info->off_source = "DWARF";
	} else if (ver == 119) {
		info->off = offsets_119;
		info->off_source = "built-in offsets for go1.19 (no DWARF)";
	} else {
		snprintf(why, why_len, "%s binary has no DWARF (built with -ldflags=-w?) and weft "
			 "knows no g struct offsets for that version",
			 info->version[0] ? info->version : "Go");
		ret = -ENOENT;
		goto out;
	}
	ret = 1;
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return ret;
}
