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

static uint64_t name_hash(const char *name)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (; *name; name++)
		h = (h ^ (uint8_t)*name) * 0x100000001b3ULL;
	return h;
}

/* The slot holding name, or the free slot where it belongs. */
static char **names_slot(char **slots, size_t cap, const char *name)
{
	size_t i = name_hash(name) & (cap - 1);

	while (slots[i] && strcmp(slots[i], name))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static int names_grow(struct map_names *names)
{
	size_t cap = names->cap ? names->cap * 2 : 256;
	char **slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < names->cap; i++)
		if (names->slots[i])
			*names_slot(slots, cap, names->slots[i]) = names->slots[i];
	free(names->slots);
	names->slots = slots;
	names->cap = cap;
	return 0;
}

/* The stored copy of name, stored now if it is new; NULL when out of memory. */
static const char *names_get(struct map_names *names, const char *name)
{
	char **slot;

	/* at most half full: probes stay short */
	if (2 * (names->n + 1) > names->cap && names_grow(names))
		return NULL;
	slot = names_slot(names->slots, names->cap, name);
	if (!*slot) {
		*slot = strdup(name);
		if (!*slot)
			return NULL;
		names->n++;
	}
	return *slot;
}

void map_names_free(struct map_names *names)
{
	for (size_t i = 0; i < names->cap; i++)
		free(names->slots[i]);
	free(names->slots);
	*names = (struct map_names){ 0 };
}

/* Parse one maps line; returns 0, or -EINVAL for a line we do not understand. */
static int maps_parse_line(char *line, struct map_names *names, struct sym_map *m)
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
	m->name = names_get(names, name[0] ? name : "[anon]");
	return m->name ? 0 : -ENOMEM;
}

int maps_read(pid_t pid, struct map_names *names, struct sym_map **mapsp, int *nmapsp)
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
		err = maps_parse_line(line, names, &maps[nmaps]);
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
		free(maps);
		return err;
	}
	*mapsp = maps;
	*nmapsp = nmaps;
	return 0;
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
