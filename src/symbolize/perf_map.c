// SPDX-License-Identifier: MIT
/* JIT symbols from /tmp/perf-PID.map (BEAM with +JPperf true, Node --perf-basic-prof, ...). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "symbolize/perf_map.h"

/* Each line: "START SIZE name" with START and SIZE in hex; later lines win over earlier ones
 * for the same address (a JIT may reuse memory), which a stable sort by start keeps in order. */
struct perf_map_entry {
	uint64_t start, end;
	char *name;
	size_t line;
};

struct perf_map {
	struct perf_map_entry *v;
	size_t n;
	off_t size;     /* file size when read: a grown file is read again on a miss */
	pid_t pid;
};

static int cmp_entry(const void *x, const void *y)
{
	const struct perf_map_entry *a = x, *b = y;

	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	return a->line < b->line ? -1 : a->line > b->line;
}

static void entries_free(struct perf_map *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].name);
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

static int read_map(struct perf_map *m)
{
	char path[64], *line = NULL;
	size_t cap = 0, alloc = 0, lineno = 0;
	struct stat st;
	FILE *f;
	int ret = 0;

	snprintf(path, sizeof(path), "/tmp/perf-%d.map", m->pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	entries_free(m);
	m->size = fstat(fileno(f), &st) ? 0 : st.st_size;
	while (getline(&line, &cap, f) > 0) {
		uint64_t start, size;
		int pos = 0;

		lineno++;
		if (sscanf(line, "%" SCNx64 " %" SCNx64 " %n", &start, &size, &pos) != 2 || !pos)
			continue;
		line[strcspn(line, "\n")] = 0;
		if (m->n == alloc) {
			size_t na = alloc ? alloc * 2 : 1024;
			struct perf_map_entry *nv = realloc(m->v, na * sizeof(*nv));

			if (!nv) {
				ret = -ENOMEM;
				break;
			}
			m->v = nv;
			alloc = na;
		}
		m->v[m->n].name = strdup(line + pos);
		if (!m->v[m->n].name) {
			ret = -ENOMEM;
			break;
		}
		m->v[m->n].start = start;
		m->v[m->n].end = start + size;
		m->v[m->n].line = lineno;
		m->n++;
	}
	free(line);
	fclose(f);
	qsort(m->v, m->n, sizeof(*m->v), cmp_entry);
	return ret;
}

struct perf_map *perf_map_open(pid_t pid)
{
	struct perf_map *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->pid = pid;
	if (read_map(m)) {
		free(m);
		return NULL;
	}
	return m;
}

static const char *lookup(const struct perf_map *m, uint64_t pc)
{
	size_t lo = 0, hi = m->n;

	/* last entry starting at or below pc */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (m->v[mid].start <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i-- > 0;) {
		if (pc < m->v[i].end)
			return m->v[i].name;
		if (m->v[i].start + (1u << 20) < pc)
			break; /* entries are small; stop looking far below */
	}
	return NULL;
}

const char *perf_map_lookup(struct perf_map *m, uint64_t pc)
{
	const char *name = lookup(m, pc);
	char path[64];
	struct stat st;

	if (name)
		return name;
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", m->pid);
	if (!stat(path, &st) && st.st_size != m->size && !read_map(m))
		name = lookup(m, pc);
	return name;
}

void perf_map_free(struct perf_map *m)
{
	if (!m)
		return;
	entries_free(m);
	free(m);
}
