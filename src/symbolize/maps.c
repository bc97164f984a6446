// SPDX-License-Identifier: MIT
/* Snapshots of /proc/PID/maps: parsed once, kept sorted, searched by address. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "symbolize/sym_internal.h"

static const char deleted_suffix[] = " (deleted)";

/* Parse one maps line; returns 0, or -EINVAL for a line we do not understand. */
static int maps_parse_line(char *line, struct sym_map *m)
{
	unsigned long long start, end, offset, ino;
	unsigned int major, minor;
	char perms[8];
	int name_at = 0;
	char *name;
	size_t len;

	if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms, &offset, &major,
		   &minor, &ino, &name_at) < 7)
		return -EINVAL;
	memset(m, 0, sizeof(*m));
	m->start = start;
	m->end = end;
	m->offset = offset;
	m->dev = makedev(major, minor);
	m->ino = ino;
	m->exec = perms[2] == 'x';

	name = line + name_at;
	len = strcspn(name, "\n");
	name[len] = '\0';
	/* A file unlinked while mapped still resolves through /proc/PID/map_files. */
	if (len > sizeof(deleted_suffix) - 1 &&
	    !strcmp(name + len - (sizeof(deleted_suffix) - 1), deleted_suffix))
		name[len - (sizeof(deleted_suffix) - 1)] = '\0';
	m->name = strdup(name[0] ? name : "[anon]");
	return m->name ? 0 : -ENOMEM;
}

int maps_read(pid_t pid, struct sym_map **mapsp, int *nmapsp)
{
	struct sym_map *maps = NULL, *grown;
	int nmaps = 0, cap = 0, err = 0;
	char path[64], *line = NULL;
	size_t line_cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f) {
		err = errno == ENOENT ? -ESRCH : -errno;
		goto out;
	}
	while (getline(&line, &line_cap, f) > 0) {
		if (nmaps == cap) {
			cap = cap ? cap * 2 : 64;
			grown = realloc(maps, cap * sizeof(*maps));
			if (!grown) {
				err = -ENOMEM;
				goto out;
			}
			maps = grown;
		}
		err = maps_parse_line(line, &maps[nmaps]);
		if (err == -EINVAL) {
			err = 0;
			continue;
		}
		if (err)
			goto out;
		nmaps++;
	}
	/* The kernel lists mappings in address order; a zombie lists none. */
	if (nmaps == 0)
		err = -ESRCH;
out:
	if (f)
		fclose(f);
	free(line);
	if (err) {
		maps_free(maps, nmaps);
		return err;
	}
	*mapsp = maps;
	*nmapsp = nmaps;
	return 0;
}

void maps_free(struct sym_map *maps, int nmaps)
{
	int i;

	for (i = 0; i < nmaps; i++)
		free(maps[i].name);
	free(maps);
}

struct sym_map *maps_find(struct sym_map *maps, int nmaps, uint64_t addr)
{
	int lo = 0, hi = nmaps;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (addr < maps[mid].start)
			hi = mid;
		else if (addr >= maps[mid].end)
			lo = mid + 1;
		else
			return &maps[mid];
	}
	return NULL;
}
