/* SPDX-License-Identifier: MIT */
/* A one-file HTTP server on 127.0.0.1, the address Perfetto UI is allowed to fetch from. */
#ifndef WEFT_SERVE_H
#define WEFT_SERVE_H

#include <stddef.h>

#define PERFETTO_UI "https://ui.perfetto.dev"
#define SERVE_PORT 9001

/* Builds the deep link that makes Perfetto UI load the served file. */
void serve_ui_link(char *buf, size_t len, const char *file, int port);
/*
 * Serves `path` as /<basename> until *stop becomes non-zero, or after `max_serves` whole
 * downloads of the file (0: no limit). Calls ready() once listening. Returns 0 or -errno
 * (-EADDRINUSE when the port is taken, -EISDIR for a directory, -EINVAL for another file that
 * is not a regular one).
 */
int serve_file(const char *path, int port, int max_serves, volatile int *stop,
	       void (*ready)(void *ctx, const char *url), void *ctx);

#endif
