// SPDX-License-Identifier: MIT
/* Where a CPython process keeps _PyRuntime, for reading its Python frames from BPF. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "collect/pyruntime.h"

/* The layouts bpf/python.bpf.h knows: CPython 3.11 on x86-64 (the executable, as Debian links
 * it, or libpython3.11.so). */
static bool known_python(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return !strcmp(base, "python3.11") || !strncmp(base, "libpython3.11.so", 16);
}

/* _PyRuntime's value in the file and whether the file is position-independent. */
static int elf_symbol(const char *path, const char *name, uint64_t *value, bool *dyn)
{
	Elf_Scn *scn = NULL;
	GElf_Ehdr eh;
	int fd, ret = -ENOENT;
	Elf *elf;

	elf_version(EV_CURRENT);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || !gelf_getehdr(elf, &eh))
		goto out;
	*dyn = eh.e_type == ET_DYN;
	while ((scn = elf_nextscn(elf, scn)) && ret) {
		GElf_Shdr sh;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_DYNSYM && sh.sh_type != SHT_SYMTAB))
			continue;
		data = elf_getdata(scn, NULL);
		for (size_t i = 0; data && sh.sh_entsize && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *n;

			if (!gelf_getsym(data, i, &sym))
				continue;
			n = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (n && !strcmp(n, name) && sym.st_value) {
				*value = sym.st_value;
				ret = 0;
				break;
			}
		}
	}
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return ret;
}

int pyruntime_find(pid_t pid, uint64_t *addr)
{
	char maps[64], line[4352], path[4096];
	int ret = -ENOENT;
	FILE *f;

	snprintf(maps, sizeof(maps), "/proc/%d/maps", (int)pid);
	f = fopen(maps, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno; /* gone: not "no Python there" */
	while (ret && fgets(line, sizeof(line), f)) {
		unsigned long long start, end, off;
		char file[64];
		uint64_t value;
		bool dyn;

		path[0] = '\0';
		if (sscanf(line, "%llx-%llx %*s %llx %*s %*s %4095s", &start, &end, &off, path) < 4 ||
		    off != 0 || !known_python(path))
			continue;
		/* Through /proc/PID/root: the process may live in another mount namespace. */
		snprintf(file, sizeof(file), "/proc/%d/map_files/%llx-%llx", (int)pid, start, end);
		if (elf_symbol(file, "_PyRuntime", &value, &dyn) && elf_symbol(path, "_PyRuntime",
									     &value, &dyn))
			continue;
		/* The offset-0 mapping of a PIE starts at its load bias (first PT_LOAD at 0). */
		*addr = dyn ? start + value : value;
		ret = 0;
	}
	fclose(f);
	return ret;
}
