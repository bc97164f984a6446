/* SPDX-License-Identifier: MIT */
/* Private state of the symbolizer shared by its files: ELF cache, process maps, kallsyms. */
#ifndef WEFT_SYM_INTERNAL_H
#define WEFT_SYM_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <elfutils/libdwfl.h>
#include <gelf.h>

#include "symbolize/symbolize.h"

/* One function symbol: [addr, end) in the ELF file's own virtual addresses (before bias). */
struct elf_sym {
	uint64_t addr;
	uint64_t end;
	const char *name; /* points into a copy of the string table (sym_elf.strtabs) */
};

/* A string table copied out of its file: `size` bytes, the last one a NUL. */
struct elf_strtab {
	Elf *elf;
	size_t section;
	char *strs;
	size_t size;
};

/* A PT_LOAD segment, kept to turn a mapping (address, file offset) into a load bias. */
struct elf_load {
	uint64_t offset;
	uint64_t vaddr;
	uint64_t filesz;
	uint64_t memsz;
};

/*
 * One ELF file, opened once and shared by every process that maps it (key: device + inode as
 * /proc/PID/maps reports them). The file descriptor is released right after elf_begin() with
 * ELF_C_FDDONE: the file is mmapped, so thousands of traced processes cost no descriptors.
 */
struct sym_elf {
	struct sym_elf *next; /* hash chain */
	uint64_t dev;
	uint64_t ino;
	char *path;
	Elf *elf;	/* NULL: could not be opened (negative cache entry) */
	Elf *dbg;	/* separate debug file (/usr/lib/debug/.build-id), symbols only */
	void *image;	/* in-memory copy backing elf (the vDSO), else NULL */
	uint16_t e_type;
	struct elf_load *loads;
	int nloads;
	uint64_t lo_vaddr; /* first PT_LOAD p_vaddr rounded down to its alignment */
	uint64_t hi_vaddr; /* end of the last PT_LOAD in memory */
	bool syms_loaded;
	struct elf_sym *syms; /* sorted by addr, no two with the same addr */
	size_t nsyms;
	bool objs_loaded;
	struct elf_sym *objs; /* data objects with a size (globals, statics), sorted by addr */
	size_t nobjs;
	char **names; /* version-stripped copies of "name@VERSION" symbols */
	size_t nnames;
	/* Copies of the string tables symbols were read from: names must not point into the
	 * mapping, which faults if the file is cut short under us (see elf_cache_fault()). */
	struct elf_strtab *strtabs;
	size_t nstrtabs;
	bool broken;  /* the file was cut short while mapped: nothing more is read from it */
};

/* One line of /proc/PID/maps, with what it takes to resolve an address inside it. */
struct sym_map {
	uint64_t start;
	uint64_t end;
	uint64_t offset;
	uint64_t bias;	      /* runtime address - ELF vaddr; valid when elf != NULL */
	uint64_t dev;
	uint64_t ino;
	struct sym_elf *elf; /* executable file mappings only; owned by the ELF cache */
	const char *name;    /* path, "[vdso]", "[anon]" ...; owned by the process's map_names */
	bool exec;
};

/* What the libdw thread callbacks read during one unwind. */
struct unwind_ctx {
	const uint64_t *uregs;
	const uint8_t *stack;
	size_t stack_len;
	uint64_t *ips;
	int nips;
	int max_ips;
};

/* Everything kept for one process, valid after it exits. */
/*
 * The names a process's maps have had, each stored once. Frames resolved earlier point into
 * them (sym_loc.module) while the map is read again, so a name lives as long as its process's
 * entry, not as long as one reading of the map: a stack with a JIT frame in the middle reads the
 * map again halfway through resolving its frames.
 */
struct map_names {
	char **slots; /* open addressing, NULL: free */
	size_t cap;   /* a power of two */
	size_t n;
};

struct sym_proc {
	struct sym_proc *next; /* hash chain */
	pid_t pid;
	struct map_names names;
	struct sym_map *maps;	/* sorted by start, non-overlapping; names from `names` */
	int nmaps;
	uint64_t loaded_ns;	/* CLOCK_MONOTONIC of the last /proc read, rate-limits reloads */
	Dwfl *dwfl;		/* built on first unwind from maps, reused until maps change */
	bool dwfl_failed;
	struct unwind_ctx *uw; /* set only while sym_unwind_user() runs */
	struct perf_map *perf_map; /* /tmp/perf-PID.map, read when a JIT address needs it */
	uint64_t perf_map_looked_ns; /* last time no map file was found */
};

struct kallsyms;

#define SYM_HASH_BUCKETS 1024
#define SYM_KCACHE 512 /* kernel pcs remembered: off-CPU stacks repeat the same few paths */

struct sym_kcache {
	uint64_t pc; /* 0: empty (no kernel text there) */
	struct sym_loc loc;
};

struct sym {
	struct sym_elf *elves[SYM_HASH_BUCKETS];
	struct sym_proc *procs[SYM_HASH_BUCKETS];
	struct kallsyms *ksyms;
	struct sym_kcache kcache[SYM_KCACHE];
	int ksyms_err;	      /* sticky error from loading /proc/kallsyms */
	pthread_t ksyms_loader; /* sym_load_kernel_early()'s thread, joined at first use */
	bool ksyms_loading;
	_Atomic pid_t ksyms_loader_tid; /* its thread id, once it runs */
	_Atomic bool ksyms_wanted;      /* someone waits for it: at normal priority */
	char *debug_dir;      /* root of .build-id debug files, NULL: do not look */
	struct sym_elf *vdso; /* our own vDSO image, the same for every 64-bit process */
	bool vdso_tried;
	uint64_t generation;  /* bumped whenever a process's map is read again or dropped */
	uint64_t files_cut;   /* reads of mapped files that faulted (sym_files_cut()) */
};

/* maps.c */
/* Names in the maps read are stored in names (which keeps them when the read fails). */
int maps_read(pid_t pid, struct map_names *names, struct sym_map **mapsp, int *nmapsp);
void map_names_free(struct map_names *names);
struct sym_map *maps_find(struct sym_map *maps, int nmaps, uint64_t addr);

/* elf_symbols.c */
struct sym_elf *elf_cache_get(struct sym *s, pid_t pid, const struct sym_map *m);
struct sym_elf *elf_cache_vdso(struct sym *s);
void elf_cache_free(struct sym *s);
int elf_map_bias(const struct sym_elf *e, const struct sym_map *m, uint64_t *bias);
const struct elf_sym *elf_lookup(struct sym *s, struct sym_elf *e, uint64_t vaddr);
const struct elf_sym *elf_lookup_object(struct sym *s, struct sym_elf *e, uint64_t vaddr);
/* A read of a mapped file faulted at addr (SIGBUS: the file was cut short): the cached ELF file
 * it lies in is marked broken and read no more. False if it lies in none. */
bool elf_cache_fault(struct sym *s, const void *addr);

/* kallsyms.c */
int kallsyms_load(struct kallsyms **ksp);
void kallsyms_free(struct kallsyms *ks);
int kallsyms_lookup(const struct kallsyms *ks, uint64_t pc, struct sym_loc *loc);

/* unwind.c */
void unwind_proc_drop(struct sym_proc *p);
int unwind_dwfl(struct sym_proc *p, pid_t tid, struct unwind_ctx *ctx);

/* perf_map.c */
struct perf_map;
int perf_map_parse(FILE *f, struct perf_map *pm);
const char *perf_map_find(const struct perf_map *pm, uint64_t addr);
/* The name of a JIT address of p from its perf map (read or re-read as needed), or NULL. */
const char *perf_map_lookup(struct sym_proc *p, uint64_t addr);
void perf_map_free(struct perf_map *pm);

/* symbolize.c */
uint64_t sym_now_ns(void);

#endif /* WEFT_SYM_INTERNAL_H */
