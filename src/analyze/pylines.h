/* SPDX-License-Identifier: MIT */
/*
 * The line a Python frame is at: its function's line table (CPython 3.11's location table,
 * co_linetable) at the offset of the instruction the frame last ran. The BPF side records the
 * code object and the offset with each frame; the table is read from the process's memory once
 * per code object, while the process lives.
 */
#ifndef WEFT_ANALYZE_PYLINES_H
#define WEFT_ANALYZE_PYLINES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "analyze/u64map.h"

/* Line tables read so far, by process and code object. */
struct py_lines {
	struct u64map tables;
};

/*
 * The line of the instruction at byte offset `offset` of a code object whose first line is
 * `first`, from its location table. -1 if the table does not cover the offset or gives that
 * instruction no line.
 */
int32_t py_linetable_line(const uint8_t *table, size_t len, int32_t first, uint32_t offset);

/* The same for code object `code` of process pid, its table read from the process (once);
 * `first` (the function's first line) if it cannot be read or says nothing. */
int32_t py_lines_line(struct py_lines *pl, pid_t pid, uint64_t code, uint32_t offset,
		      int32_t first);
void py_lines_free(struct py_lines *pl);

#endif
