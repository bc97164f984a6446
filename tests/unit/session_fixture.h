/* SPDX-License-Identifier: MIT */
/* A recording session for analysis unit tests: its trace goes to an unlinked temporary file. */
#ifndef WEFT_TEST_SESSION_FIXTURE_H
#define WEFT_TEST_SESSION_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "analyze/session.h"

/*
 * Starts a session from `o` (hooks and area options already set by the caller). Unless the
 * caller chose one, the reorder window is 1 s, so nothing is released before the final flush
 * and records may be pushed in any order. Returns 0, or -1 (cmocka setups return that).
 */
static inline int test_session_open(struct session_opts *o, struct session **s, int *fd)
{
	char path[] = "/tmp/weft-unit-XXXXXX";

	*fd = mkstemp(path);
	if (*fd < 0)
		return -1;
	unlink(path);
	o->trace_fd = *fd;
	if (!o->reorder_window_ns)
		o->reorder_window_ns = 1000000000;
	*s = session_new(o);
	return *s ? 0 : -1;
}

static inline void test_session_close(struct session *s, int fd, char *json)
{
	session_free(s);
	close(fd);
	free(json);
}

/* The JSON summary of a finished session, into *json (malloc'ed; freed by close). */
static inline void test_session_json(struct session *s, char **json, size_t *len)
{
	FILE *m = open_memstream(json, len);

	if (!m)
		abort();
	session_summary_json(s, m);
	if (fclose(m))
		abort();
}

#endif
