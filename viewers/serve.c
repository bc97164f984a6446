// SPDX-License-Identifier: MIT
/* Serves a trace to Perfetto UI: GET the file, answer CORS preflights, nothing else. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "viewers/serve.h"

/*
 * A client gets this long to send its request and to take each part of the file. One at a time
 * is served: a browser's spare connection (opened ahead, used later or never) or a reader that
 * stopped would otherwise hold up every request behind it.
 */
#define CLIENT_TIMEOUT_S 5

void serve_ui_link(char *buf, size_t len, const char *file, int port)
{
	const char *base = strrchr(file, '/');

	snprintf(buf, len, PERFETTO_UI "/#!/?url=http://127.0.0.1:%d/%s", port,
		 base ? base + 1 : file);
}

/* The UI runs on another origin, so every answer carries CORS headers. */
static void reply(int c, const char *status, const char *extra, size_t body_len)
{
	char hdr[512];
	int n = snprintf(hdr, sizeof(hdr),
			 "HTTP/1.1 %s\r\n"
			 "Access-Control-Allow-Origin: *\r\n"
			 "Access-Control-Allow-Methods: GET, OPTIONS\r\n"
			 "Access-Control-Allow-Headers: *\r\n"
			 "Cache-Control: no-cache\r\n"
			 "Connection: close\r\n"
			 "%s"
			 "Content-Length: %zu\r\n\r\n",
			 status, extra ? extra : "", body_len);

	if (write(c, hdr, n) != n)
		return;
}

/* Returns 1 when the whole file was sent. */
static int handle(int c, const char *path, const char *name)
{
	char req[2048], method[16], target[1024];
	struct stat st;
	ssize_t n;
	off_t off = 0;
	int fd, done = 0;

	n = read(c, req, sizeof(req) - 1);
	if (n <= 0)
		return 0;
	req[n] = '\0';
	if (sscanf(req, "%15s %1023s", method, target) != 2) {
		reply(c, "400 Bad Request", NULL, 0);
		return 0;
	}
	if (!strcmp(method, "OPTIONS")) {
		reply(c, "204 No Content", NULL, 0);
		return 0;
	}
	if (strcmp(method, "GET") || target[0] != '/' || strcmp(target + 1, name)) {
		reply(c, "404 Not Found", NULL, 0);
		return 0;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		reply(c, "500 Internal Server Error", NULL, 0);
		if (fd >= 0)
			close(fd);
		return 0;
	}
	reply(c, "200 OK", "Content-Type: application/octet-stream\r\n", st.st_size);
	while (off < st.st_size) {
		n = sendfile(c, fd, &off, st.st_size - off);
		if (n <= 0)
			break;
	}
	done = off == st.st_size;
	close(fd);
	return done;
}

int serve_file(const char *path, int port, int max_serves, volatile int *stop,
	       void (*ready)(void *ctx, const char *url), void *ctx)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port) };
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	struct timeval timeout = { .tv_sec = CLIENT_TIMEOUT_S };
	char url[1024];
	int s, one = 1, served = 0, ret = 0;

	struct stat st;

	if (access(path, R_OK) || stat(path, &st))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	/* A page reloaded mid-transfer closes its end: a write error for that client, not the
	 * end of weft. */
	signal(SIGPIPE, SIG_IGN);
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&addr, sizeof(addr)) || listen(s, 8)) {
		ret = -errno;
		goto out;
	}
	serve_ui_link(url, sizeof(url), path, port);
	if (ready)
		ready(ctx, url);
	while (!*stop && (!max_serves || served < max_serves)) {
		struct pollfd p = { .fd = s, .events = POLLIN };
		int c;

		if (poll(&p, 1, 200) <= 0)
			continue;
		c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
		setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
		served += handle(c, path, name);
		close(c);
	}
out:
	close(s);
	return ret;
}
