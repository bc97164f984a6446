// SPDX-License-Identifier: MIT
/* The ELF cache: files opened once per (device, inode), load segments and sorted symbols. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include <elfutils/libdwelf.h>

#include "symbolize/sym_internal.h"

static unsigned int elf_cache_hash(uint64_t dev, uint64_t ino)
{
	uint64_t h = (dev * 0x9e3779b97f4a7c15ull) ^ (ino * 0xc2b2ae3d27d4eb4full);

	return (unsigned int)(h >> 32) % SYM_HASH_BUCKETS;
}

/* Read the PT_LOAD segments; returns 0 or a negative errno. */
static int elf_read_loads(struct sym_elf *e)
{
	size_t phnum, i;
	GElf_Ehdr ehdr;
	int err = 0;

	if (!gelf_getehdr(e->elf, &ehdr) || elf_getphdrnum(e->elf, &phnum)) {
		err = -ENOEXEC;
		goto out;
	}
	e->e_type = ehdr.e_type;
	e->loads = calloc(phnum ? phnum : 1, sizeof(*e->loads));
	if (!e->loads) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (e->nloads == 0)
			e->lo_vaddr = ph.p_vaddr & ~(ph.p_align ? ph.p_align - 1 : 0);
		if (ph.p_vaddr + ph.p_memsz > e->hi_vaddr)
			e->hi_vaddr = ph.p_vaddr + ph.p_memsz;
		e->loads[e->nloads++] = (struct elf_load){
			.offset = ph.p_offset,
			.vaddr = ph.p_vaddr,
			.filesz = ph.p_filesz,
			.memsz = ph.p_memsz,
		};
	}
	if (e->nloads == 0)
		err = -ENOEXEC;
out:
	return err;
}

/* Open fd as an ELF file that stays valid without it; takes ownership of fd. */
static int elf_attach_fd(struct sym_elf *e, int fd)
{
	int err = 0;

	e->elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e->elf || elf_kind(e->elf) != ELF_K_ELF) {
		err = -ENOEXEC;
		goto out;
	}
	/* The whole file is mmapped: libelf needs the descriptor no longer. */
	elf_cntl(e->elf, ELF_C_FDDONE);
	err = elf_read_loads(e);
out:
	if (err && e->elf) {
		elf_end(e->elf);
		e->elf = NULL;
	}
	close(fd);
	return err;
}

/*
 * Open the file behind mapping m. While the process lives, map_files/ gives exactly the mapped
 * file (even if unlinked or in another mount namespace) and root/ its mount namespace; the plain
 * path is the last resort and is checked against the inode /proc/PID/maps reported.
 */
static int elf_open_mapping(pid_t pid, const struct sym_map *m)
{
	char path[4096 + 64];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, (int)pid, m->start,
		 m->end);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	if (m->name[0] != '/')
		return -ENOENT;
	snprintf(path, sizeof(path), "/proc/%d/root%s", (int)pid, m->name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fd = open(m->name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* Overlay filesystems report another device in maps than stat(); trust those. */
	if (fstat(fd, &st) == 0 && st.st_dev == m->dev && st.st_ino != m->ino) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

struct sym_elf *elf_cache_get(struct sym *s, pid_t pid, const struct sym_map *m)
{
	unsigned int h = elf_cache_hash(m->dev, m->ino);
	struct sym_elf *e;
	int fd;

	if (!strcmp(m->name, "[vdso]"))
		return elf_cache_vdso(s);
	if (m->ino == 0)
		return NULL;
	for (e = s->elves[h]; e; e = e->next)
		if (e->dev == m->dev && e->ino == m->ino)
			return e->elf && !e->broken ? e : NULL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->dev = m->dev;
	e->ino = m->ino;
	e->path = strdup(m->name);
	/* In the cache first: a file cut short while it is read stays a negative entry. A file that
	 * cannot be opened stays in the cache as one too. */
	e->next = s->elves[h];
	s->elves[h] = e;
	fd = elf_open_mapping(pid, m);
	if (fd >= 0)
		elf_attach_fd(e, fd);
	return e->elf && !e->broken ? e : NULL;
}

/*
 * The vDSO is a kernel-provided ELF image; every 64-bit process of this kernel maps the same
 * one, so our own copy symbolizes and unwinds theirs, even after they exit.
 */
struct sym_elf *elf_cache_vdso(struct sym *s)
{
	uint64_t base = getauxval(AT_SYSINFO_EHDR), start, end;
	struct sym_elf *e = NULL;
	char line[512];
	FILE *f = NULL;
	size_t size = 0;

	if (s->vdso_tried)
		return s->vdso;
	s->vdso_tried = true;
	if (!base)
		goto out;
	f = fopen("/proc/self/maps", "re");
	if (!f)
		goto out;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%" SCNx64 "-%" SCNx64, &start, &end) == 2 && start == base) {
			size = end - start;
			break;
		}
	if (!size)
		goto out;
	e = calloc(1, sizeof(*e));
	if (!e)
		goto out;
	e->path = strdup("[vdso]");
	e->image = malloc(size);
	if (!e->path || !e->image)
		goto out;
	memcpy(e->image, (const void *)(uintptr_t)base, size);
	e->elf = elf_memory(e->image, size);
	if (!e->elf || elf_read_loads(e))
		goto out;
	s->vdso = e;
out:
	if (f)
		fclose(f);
	if (e && s->vdso != e) {
		if (e->elf)
			elf_end(e->elf);
		free(e->loads);
		free(e->image);
		free(e->path);
		free(e);
	}
	return s->vdso;
}

static void elf_entry_free(struct sym_elf *e)
{
	if (e->dbg)
		elf_end(e->dbg);
	if (e->elf)
		elf_end(e->elf);
	free(e->image);
	free(e->loads);
	while (e->nnames)
		free(e->names[--e->nnames]);
	free(e->names);
	while (e->nstrtabs)
		free(e->strtabs[--e->nstrtabs].strs);
	free(e->strtabs);
	free(e->syms);
	free(e->objs);
	free(e->path);
	free(e);
}

void elf_cache_free(struct sym *s)
{
	struct sym_elf *e, *next;
	int i;

	for (i = 0; i < SYM_HASH_BUCKETS; i++)
		for (e = s->elves[i]; e; e = next) {
			next = e->next;
			elf_entry_free(e);
		}
	if (s->vdso)
		elf_entry_free(s->vdso);
}

/*
 * Mapping m maps file offset m->offset at m->start; the segment holding that offset maps
 * p_offset at p_vaddr + bias, so bias = start - offset + p_offset - p_vaddr.
 */
int elf_map_bias(const struct sym_elf *e, const struct sym_map *m, uint64_t *bias)
{
	int i;

	for (i = 0; i < e->nloads; i++) {
		const struct elf_load *l = &e->loads[i];
		uint64_t page_off = l->offset & ~(uint64_t)4095;

		if (m->offset >= page_off && m->offset < l->offset + (l->filesz ? l->filesz : 1)) {
			*bias = m->start - m->offset + l->offset - l->vaddr;
			return 0;
		}
	}
	return -ENOENT;
}

/* Open the separate debug file named by the build ID (Debian's -dbg packages install there). */
static Elf *elf_open_debug(struct sym *s, struct sym_elf *e)
{
	char path[4096];
	const void *idp;
	const uint8_t *id;
	ssize_t len;
	int n, i, fd;
	Elf *dbg;

	if (!s->debug_dir)
		return NULL;
	len = dwelf_elf_gnu_build_id(e->elf, &idp);
	if (len < 2)
		return NULL;
	id = idp;
	n = snprintf(path, sizeof(path), "%s/.build-id/%02x/", s->debug_dir, id[0]);
	for (i = 1; i < len && n < (int)sizeof(path) - 8; i++)
		n += snprintf(path + n, sizeof(path) - n, "%02x", id[i]);
	snprintf(path + n, sizeof(path) - n, ".debug");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	dbg = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (dbg && elf_kind(dbg) != ELF_K_ELF) {
		elf_end(dbg);
		dbg = NULL;
	}
	if (dbg)
		elf_cntl(dbg, ELF_C_FDDONE);
	close(fd);
	return dbg;
}

static Elf_Scn *elf_find_symtab(Elf *elf, GElf_Word type, GElf_Shdr *shdr)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, shdr) && shdr->sh_type == type && shdr->sh_entsize)
			return scn;
	return NULL;
}

/* Lower is better: the name a person would recognise among aliases at one address. */
static int sym_rank(unsigned char bind, const char *name)
{
	int rank = bind == STB_GLOBAL ? 0 : bind == STB_WEAK ? 100 : 200;

	/* "__libc_start_main@@GLIBC_2.34" loses to a plain alias of the same binding. */
	if (strchr(name, '@'))
		rank += 50;
	while (*name == '_') {
		rank += 10;
		name++;
	}
	return rank;
}

struct sym_tmp {
	struct elf_sym sym;
	int rank;
};

static int sym_tmp_cmp(const void *a, const void *b)
{
	const struct sym_tmp *x = a, *y = b;

	if (x->sym.addr != y->sym.addr)
		return x->sym.addr < y->sym.addr ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return 0;
}

/* A copy of the first len bytes of name, freed with the cache entry (the table is read-only). */
static const char *elf_keep_name(struct sym_elf *e, const char *name, size_t len)
{
	char **grown, *copy;

	grown = realloc(e->names, (e->nnames + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	e->names = grown;
	copy = strndup(name, len);
	if (copy)
		e->names[e->nnames++] = copy;
	return copy;
}

/* The string table in section `section` of elf, copied once per file. */
static const struct elf_strtab *elf_strtab(struct sym_elf *e, Elf *elf, size_t section)
{
	struct elf_strtab *grown, *t;
	Elf_Data *data;

	for (size_t i = 0; i < e->nstrtabs; i++)
		if (e->strtabs[i].elf == elf && e->strtabs[i].section == section)
			return &e->strtabs[i];
	data = elf_getdata(elf_getscn(elf, section), NULL);
	if (!data || !data->d_buf || !data->d_size)
		return NULL;
	grown = realloc(e->strtabs, (e->nstrtabs + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	e->strtabs = grown;
	t = &e->strtabs[e->nstrtabs];
	t->strs = malloc(data->d_size + 1);
	if (!t->strs)
		return NULL;
	memcpy(t->strs, data->d_buf, data->d_size);
	t->strs[data->d_size] = '\0';
	t->size = data->d_size + 1;
	t->elf = elf;
	t->section = section;
	e->nstrtabs++;
	return t;
}

/* Functions into e->syms, or (objects) sized data objects into e->objs. */
static int elf_load_syms(struct sym_elf *e, Elf *elf, Elf_Scn *scn, const GElf_Shdr *shdr,
			 bool objects)
{
	size_t n = shdr->sh_size / shdr->sh_entsize, i, out = 0;
	Elf_Data *data = elf_getdata(scn, NULL);
	const struct elf_strtab *strs = elf_strtab(e, elf, shdr->sh_link);
	struct sym_tmp *tmp = NULL;
	int err = 0;

	if (!data || !strs) {
		err = -ENOEXEC;
		goto out;
	}
	tmp = calloc(n ? n : 1, sizeof(*tmp));
	if (!tmp) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		GElf_Sym sym;
		const char *name;
		int type;

		if (!gelf_getsym(data, (int)i, &sym))
			continue;
		type = GELF_ST_TYPE(sym.st_info);
		if (objects ? (type != STT_OBJECT || sym.st_size == 0)
			    : (type != STT_FUNC && type != STT_GNU_IFUNC))
			continue;
		if (sym.st_shndx == SHN_UNDEF || sym.st_value == 0)
			continue;
		name = sym.st_name < strs->size ? strs->strs + sym.st_name : NULL;
		if (!name || !name[0])
			continue;
		if (strchr(name, '@')) {
			name = elf_keep_name(e, name, strcspn(name, "@"));
			if (!name) {
				err = -ENOMEM;
				goto out;
			}
		}
		tmp[out].sym.addr = sym.st_value;
		tmp[out].sym.end = sym.st_value + sym.st_size;
		tmp[out].sym.name = name;
		tmp[out].rank = sym_rank(GELF_ST_BIND(sym.st_info), name);
		out++;
	}
	qsort(tmp, out, sizeof(*tmp), sym_tmp_cmp);
	if (objects) {
		e->objs = calloc(out ? out : 1, sizeof(*e->objs));
		if (!e->objs) {
			err = -ENOMEM;
			goto out;
		}
		for (i = 0; i < out; i++)
			if (!e->nobjs || e->objs[e->nobjs - 1].addr != tmp[i].sym.addr)
				e->objs[e->nobjs++] = tmp[i].sym;
		goto out;
	}
	e->syms = calloc(out ? out : 1, sizeof(*e->syms));
	if (!e->syms) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < out; i++) {
		struct elf_sym *prev = e->nsyms ? &e->syms[e->nsyms - 1] : NULL;

		/* Aliases: the best-ranked name came first; keep the largest size. */
		if (prev && prev->addr == tmp[i].sym.addr) {
			if (tmp[i].sym.end > prev->end)
				prev->end = tmp[i].sym.end;
			continue;
		}
		e->syms[e->nsyms++] = tmp[i].sym;
	}
	/* Sizeless symbols (hand-written assembly) reach to the next symbol. */
	for (i = 0; i < e->nsyms; i++)
		if (e->syms[i].end == e->syms[i].addr)
			e->syms[i].end = i + 1 < e->nsyms ? e->syms[i + 1].addr : e->hi_vaddr;
out:
	free(tmp);
	return err;
}

/* .symtab, else the debug file's .symtab, else .dynsym (what stripped libraries keep). */
static void elf_load_symbols(struct sym *s, struct sym_elf *e)
{
	Elf_Scn *scn;
	GElf_Shdr shdr;

	e->syms_loaded = true;
	scn = elf_find_symtab(e->elf, SHT_SYMTAB, &shdr);
	if (scn && !elf_load_syms(e, e->elf, scn, &shdr, false) && e->nsyms)
		return;
	e->dbg = elf_open_debug(s, e);
	if (e->dbg) {
		scn = elf_find_symtab(e->dbg, SHT_SYMTAB, &shdr);
		free(e->syms);
		e->syms = NULL;
		e->nsyms = 0;
		if (scn && !elf_load_syms(e, e->dbg, scn, &shdr, false) && e->nsyms)
			return;
	}
	scn = elf_find_symtab(e->elf, SHT_DYNSYM, &shdr);
	free(e->syms);
	e->syms = NULL;
	e->nsyms = 0;
	if (scn)
		elf_load_syms(e, e->elf, scn, &shdr, false);
}

/* Data objects, from the same table the functions came from (loaded first). */
static void elf_load_objects(struct sym *s, struct sym_elf *e)
{
	Elf *tables[3] = { e->elf, e->dbg, e->elf };
	GElf_Word types[3] = { SHT_SYMTAB, SHT_SYMTAB, SHT_DYNSYM };
	GElf_Shdr shdr;
	Elf_Scn *scn;

	if (!e->syms_loaded)
		elf_load_symbols(s, e);
	e->objs_loaded = true;
	for (int i = 0; i < 3; i++) {
		if (!tables[i])
			continue;
		scn = elf_find_symtab(tables[i], types[i], &shdr);
		free(e->objs);
		e->objs = NULL;
		e->nobjs = 0;
		if (scn && !elf_load_syms(e, tables[i], scn, &shdr, true) && e->nobjs)
			return;
	}
}

/* Index of the first symbol with addr > vaddr in a table sorted by addr. */
static size_t syms_after(const struct elf_sym *syms, size_t n, uint64_t vaddr)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (syms[mid].addr <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Whether addr lies in the mapped image of elf. */
static bool elf_image_holds(Elf *elf, const void *addr)
{
	size_t size = 0;
	const char *base = elf ? elf_rawfile(elf, &size) : NULL;

	return base && (const char *)addr >= base && (const char *)addr < base + size;
}

bool elf_cache_fault(struct sym *s, const void *addr)
{
	for (int i = 0; i < SYM_HASH_BUCKETS; i++)
		for (struct sym_elf *e = s->elves[i]; e; e = e->next) {
			if (!elf_image_holds(e->elf, addr) && !elf_image_holds(e->dbg, addr))
				continue;
			/* What was read already (symbols, with their names copied) stays. */
			e->broken = true;
			e->syms_loaded = true;
			e->objs_loaded = true;
			return true;
		}
	return false;
}

const struct elf_sym *elf_lookup_object(struct sym *s, struct sym_elf *e, uint64_t vaddr)
{
	size_t i;

	if (!e->objs_loaded)
		elf_load_objects(s, e);
	i = syms_after(e->objs, e->nobjs, vaddr);
	return i && vaddr < e->objs[i - 1].end ? &e->objs[i - 1] : NULL;
}

const struct elf_sym *elf_lookup(struct sym *s, struct sym_elf *e, uint64_t vaddr)
{
	size_t lo, i, back;

	if (!e->syms_loaded)
		elf_load_symbols(s, e);
	/* First symbol with addr > vaddr, then look at the ones before it. */
	lo = syms_after(e->syms, e->nsyms, vaddr);
	/* A few steps back cover a function nested in a larger one (rare, e.g. .cold parts). */
	for (i = lo, back = 0; i > 0 && back < 4; i--, back++)
		if (vaddr < e->syms[i - 1].end)
			return &e->syms[i - 1];
	return NULL;
}
