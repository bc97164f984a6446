// SPDX-License-Identifier: MIT
/* weft open: hand a trace to Perfetto UI through a local server. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "viewers/serve.h"

static volatile int stop;

static void on_signal(int sig)
{
	stop = 1;
}

static void help(void)
{
	printf("Usage: weft open [options] FILE\n"
	       "\n"
	       "Serves FILE on http://127.0.0.1:%d (the address Perfetto UI may load traces from)\n"
	       "and prints the link that opens it in Perfetto UI; opens a browser when one is\n"
	       "available. Ctrl-C stops serving.\n"
	       "\n"
	       "  -p, --port PORT   serve on this port (default %d; the UI accepts only 9001)\n"
	       "  -n, --no-browser  only print the link\n"
	       "      --once        exit after the trace has been downloaded once\n"
	       "  -h, --help        this help\n",
	       SERVE_PORT, SERVE_PORT);
}

struct open_ctx {
	bool browser;
};

static void on_ready(void *ctx, const char *url)
{
	struct open_ctx *o = ctx;

	printf("%s\n", url);
	fflush(stdout);
	fprintf(stderr, "weft: serving the trace; open the link above in a browser "
			"(Ctrl-C to stop)\n");
	if (o->browser && (getenv("DISPLAY") || getenv("WAYLAND_DISPLAY")) &&
	    !access("/usr/bin/xdg-open", X_OK)) {
		pid_t pid = fork();

		if (pid == 0) {
			execl("/usr/bin/xdg-open", "xdg-open", url, (char *)NULL);
			_exit(127);
		}
	}
}

int cmd_open(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "no-browser", no_argument, NULL, 'n' },
		{ "once", no_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct open_ctx ctx = { .browser = true };
	struct sigaction sa = { .sa_handler = on_signal };
	int port = SERVE_PORT, once = 0, opt, ret;
	char *end;

	while ((opt = getopt_long(argc, argv, "p:nh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			port = strtol(optarg, &end, 10);
			if (*end || port <= 0 || port > 65535)
				return cli_usage_error("--port: '%s' is not a port number", optarg);
			break;
		case 'n':
			ctx.browser = false;
			break;
		case 'O':
			once = 1;
			break;
		case 'h':
			help();
			return 0;
		default:
			return cli_usage_error("open: unexpected option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("open: give exactly one trace file");
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGCHLD, SIG_IGN);
	ret = serve_file(argv[optind], port, once, &stop, on_ready, &ctx);
	if (ret == -EADDRINUSE)
		return cli_error(1, "another 'weft open' may be running; stop it or use --port",
				 "port %d is in use", port);
	if (ret == -EISDIR || ret == -EINVAL)
		return cli_error(1, "give the trace file weft wrote (-o, weft.pftrace by default)",
				 "%s: %s", argv[optind],
				 ret == -EISDIR ? "is a directory" : "not a regular file");
	if (ret)
		return cli_error(1, NULL, "%s: %s", argv[optind], strerror(-ret));
	return 0;
}
