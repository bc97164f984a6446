// SPDX-License-Identifier: MIT
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "analyze/pylines.h"

/* CPython 3.11 on x86-64 (as bpf/python.bpf.h): code->co_linetable @136, a bytes object whose
 * size is at @16 and its bytes at @32. */
#define PY311_CODE_LINETABLE 136
#define PY_BYTES_SIZE 16
#define PY_BYTES_DATA 32
#define LINETABLE_MAX 65536 /* longer ones are not read (a function of thousands of lines) */

/* Location table entries (Objects/locations.md in CPython): a first byte with bit 7 set, the
 * kind in bits 3-6 and the number of code units it covers, less one, in bits 0-2. */
#define LOC_NONE 15       /* no location */
#define LOC_LONG 14       /* line delta (signed varint), end line, columns (varints) */
#define LOC_NO_COLUMNS 13 /* line delta (signed varint) */
#define LOC_ONE_LINE0 10  /* 10, 11, 12: line delta 0, 1, 2; two column bytes */
#define CODE_UNIT 2

/* A varint of 6-bit chunks, least significant first, bit 6 set where another follows. */
static uint32_t read_varint(const uint8_t *t, size_t len, size_t *i)
{
	uint32_t v = 0;
	unsigned shift = 0;

	while (*i < len) {
		uint8_t b = t[(*i)++];

		if (shift < 32)
			v |= (uint32_t)(b & 63) << shift;
		shift += 6;
		if (!(b & 64))
			break;
	}
	return v;
}

static int32_t read_svarint(const uint8_t *t, size_t len, size_t *i)
{
	uint32_t v = read_varint(t, len, i);

	return v & 1 ? -(int32_t)(v >> 1) : (int32_t)(v >> 1);
}

int32_t py_linetable_line(const uint8_t *table, size_t len, int32_t first, uint32_t offset)
{
	uint64_t start = 0;
	int32_t line = first;
	size_t i = 0;

	while (i < len) {
		uint8_t head = table[i++];
		unsigned kind = (head >> 3) & 15;
		uint64_t end = start + ((head & 7) + 1) * CODE_UNIT;

		if (!(head & 128))
			return -1; /* not the start of an entry: a table we do not understand */
		if (kind == LOC_LONG || kind == LOC_NO_COLUMNS)
			line += read_svarint(table, len, &i);
		else if (kind >= LOC_ONE_LINE0 && kind < LOC_NO_COLUMNS)
			line += kind - LOC_ONE_LINE0;
		if (offset < end)
			return kind == LOC_NONE ? -1 : line;
		/* the rest of the entry (columns): up to the next first byte */
		while (i < len && !(table[i] & 128))
			i++;
		start = end;
	}
	return -1;
}

struct py_table {
	int32_t len; /* -1: could not be read */
	uint8_t bytes[];
};

static int read_mem(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };

	return process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -1;
}

static struct py_table *read_table(pid_t pid, uint64_t code)
{
	uint64_t bytes = 0;
	int64_t size = -1;
	struct py_table *t;

	if (read_mem(pid, code + PY311_CODE_LINETABLE, &bytes, sizeof(bytes)) || !bytes ||
	    read_mem(pid, bytes + PY_BYTES_SIZE, &size, sizeof(size)) || size <= 0 ||
	    size > LINETABLE_MAX)
		size = -1;
	t = malloc(sizeof(*t) + (size > 0 ? size : 0));
	if (!t)
		return NULL;
	t->len = (int32_t)size;
	if (size > 0 && read_mem(pid, bytes + PY_BYTES_DATA, t->bytes, size))
		t->len = -1;
	return t;
}

/* One key per (process, code object): code objects are 8-byte aligned user addresses (below
 * 2^47), so 44 bits of them and 20 of the pid. */
#define KEY_PID_BITS 20

int32_t py_lines_line(struct py_lines *pl, pid_t pid, uint64_t code, uint32_t offset,
		      int32_t first)
{
	uint64_t key = (code >> 3) | ((uint64_t)pid << (64 - KEY_PID_BITS));
	struct py_table *t;
	int32_t line;

	if (!code || offset == UINT32_MAX || pid <= 0 || pid >= (1 << KEY_PID_BITS) ||
	    code >> 47)
		return first;
	t = u64map_get(&pl->tables, key);
	if (!t) {
		t = read_table(pid, code);
		if (!t)
			return first;
		if (u64map_put(&pl->tables, key, t)) {
			free(t);
			return first;
		}
	}
	line = t->len > 0 ? py_linetable_line(t->bytes, t->len, first, offset) : -1;
	return line > 0 ? line : first;
}

void py_lines_free(struct py_lines *pl)
{
	uint64_t k;
	void *v;

	for (size_t i = 0; u64map_next(&pl->tables, &i, &k, &v);)
		free(v);
	u64map_free(&pl->tables);
}
