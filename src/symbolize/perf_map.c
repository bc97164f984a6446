// SPDX-License-Identifier: MIT
/* Names of code generated at run time (JITs: Node/V8, Java agents, ...) from the perf map a
 * process writes: /tmp/perf-PID.map, one "START SIZE name" line per function, hex numbers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "symbolize/sym_internal.h"

struct perf_map_sym {
	uint64_t start;
	uint64_t end;
	size_t line;	/* later lines win: a JIT reuses addresses once code is collected */
	char *name;
};

struct perf_map {
	struct perf_map_sym *syms; /* sorted by start, then line */
	size_t n;
	off_t size;	/* file size when read: a JIT only appends */
	struct perf_map *older; /* kept: names handed out earlier point into them */
};

void perf_map_free(struct perf_map *pm)
{
	if (!pm)
		return;
	perf_map_free(pm->older);
	for (size_t i = 0; i < pm->n; i++)
		free(pm->syms[i].name);
	free(pm->syms);
	free(pm);
}

static int by_start(const void *a, const void *b)
{
	const struct perf_map_sym *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

int perf_map_parse(FILE *f, struct perf_map *pm)
{
	char line[4096];
	size_t cap = 0;

	while (fgets(line, sizeof(line), f)) {
		unsigned long long start, size;
		int name_at = 0;
		struct perf_map_sym *sym;

		if (sscanf(line, "%llx %llx %n", &start, &size, &name_at) < 2 || !name_at)
			continue;
		line[strcspn(line, "\n")] = '\0';
		if (pm->n == cap) {
			cap = cap ? cap * 2 : 1024;
			sym = realloc(pm->syms, cap * sizeof(*sym));
			if (!sym)
				return -ENOMEM;
			pm->syms = sym;
		}
		sym = &pm->syms[pm->n];
		sym->start = start;
		sym->end = start + size;
		sym->line = pm->n;
		sym->name = strdup(line + name_at);
		if (!sym->name)
			return -ENOMEM;
		pm->n++;
	}
	qsort(pm->syms, pm->n, sizeof(*pm->syms), by_start);
	return 0;
}

static int perf_map_read(pid_t pid, struct perf_map **out)
{
	struct perf_map *pm;
	char path[64];
	struct stat st;
	FILE *f;
	int err;

	*out = NULL;
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	pm = calloc(1, sizeof(*pm));
	if (!pm) {
		fclose(f);
		return -ENOMEM;
	}
	pm->size = fstat(fileno(f), &st) ? 0 : st.st_size;
	err = perf_map_parse(f, pm);
	fclose(f);
	if (err) {
		perf_map_free(pm);
		return err;
	}
	*out = pm;
	return 0;
}

const char *perf_map_find(const struct perf_map *pm, uint64_t addr)
{
	size_t lo = 0, hi = pm ? pm->n : 0;

	/* The last entry starting at or below addr that still covers it (scan back a little
	 * for an older, larger entry shadowed by a smaller one). */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pm->syms[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo, k = 0; i > 0 && k < 8; i--, k++)
		if (addr < pm->syms[i - 1].end)
			return pm->syms[i - 1].name;
	return NULL;
}

const char *perf_map_lookup(struct sym_proc *p, uint64_t addr)
{
	const char *name = perf_map_find(p->perf_map, addr);
	struct perf_map *fresh;
	char path[64];
	struct stat st;

	/* A JIT writes its map some time after it starts: look again, but not at every miss. */
	if (name || (p->perf_map_looked_ns && sym_now_ns() - p->perf_map_looked_ns < 100000000))
		return name;
	/* Unknown address: the JIT may have appended since the file was read. */
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)p->pid);
	if (stat(path, &st)) {
		p->perf_map_looked_ns = sym_now_ns();
		return NULL;
	}
	if (p->perf_map && st.st_size == p->perf_map->size)
		return NULL;
	if (perf_map_read(p->pid, &fresh))
		return NULL;
	fresh->older = p->perf_map;
	p->perf_map = fresh;
	return perf_map_find(fresh, addr);
}
