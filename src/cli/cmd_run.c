// SPDX-License-Identifier: MIT
/* weft run: start a command under tracing and return its exit status. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/recording.h"

struct child {
	pid_t pid;
	int status;
	bool exited;
};

static void help(void)
{
	printf("Usage: weft run [options] -- CMD [ARGS...]\n"
	       "\n"
	       "Starts CMD, traces it, its threads and the processes it starts until CMD exits,\n"
	       "then writes a Perfetto trace and prints a summary on stderr. Returns CMD's exit\n"
	       "status. Needs root, or CAP_BPF and CAP_PERFMON.\n"
	       "\n");
	record_options_help();
	printf("\nExamples:\n"
	       "  sudo weft run -- ./build/samples/threads/pingpong\n"
	       "  sudo weft run -o app.pftrace --summary-json app.json -- ./app --flag\n");
}

/* Where execvp() will find cmd (into buf), or false. Checked before forking: execvp() would
 * tell us too late (in the child, after the probes are loaded). */
static bool command_path(const char *cmd, char *buf, size_t len)
{
	const char *path = getenv("PATH");

	if (strchr(cmd, '/')) {
		size_t n = strlen(cmd);

		if (n >= len)
			return false;
		memcpy(buf, cmd, n + 1);
		return access(cmd, X_OK) == 0;
	}
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");

		snprintf(buf, len, "%.*s/%s", (int)n, n ? path : ".", cmd);
		if (access(buf, X_OK) == 0)
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}

static bool child_done(void *ctx, struct recording *r)
{
	struct child *c = ctx;

	if (!c->exited && waitpid(c->pid, &c->status, WNOHANG) == c->pid)
		c->exited = true;
	return c->exited;
}

static int exit_code_of(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

int cmd_run(int argc, char **argv)
{
	struct record_opts o;
	struct recording *r = NULL;
	struct child c = { 0 };
	char cmdline[256] = "", exe[4096];
	int gate[2], opt, ret, sig;

	record_opts_init(&o);
	while ((opt = getopt_long(argc, argv, "+" RECORD_SHORTOPTS, record_longopts, NULL)) != -1) {
		if (opt == 'h') {
			help();
			return 0;
		}
		ret = record_parse_common(&o, opt, optarg);
		if (ret < 0)
			return 2;
		if (ret == 0)
			return cli_usage_error("run: unexpected option '%s'", argv[optind - 1]);
	}
	if (optind >= argc)
		return cli_usage_error("run: no command given (weft run [options] -- CMD)");
	if (!command_path(argv[optind], exe, sizeof(exe))) {
		cli_error(127, "check the name and your PATH", "%s: command not found",
			  argv[optind]);
		return 127;
	}
	for (int i = optind; i < argc; i++) {
		size_t len = strlen(cmdline);

		snprintf(cmdline + len, sizeof(cmdline) - len, "%s%s", i > optind ? " " : "",
			 argv[i]);
	}

	ret = recording_start(&r, &o);
	if (ret)
		return ret;
	if (pipe2(gate, O_CLOEXEC)) {
		ret = cli_error(1, NULL, "pipe: %s", strerror(errno));
		goto out;
	}
	c.pid = fork();
	if (c.pid < 0) {
		ret = cli_error(1, NULL, "fork: %s", strerror(errno));
		goto out;
	}
	if (c.pid == 0) {
		char go;

		/* Wait until the parent has put us in the kernel filter, so exec is seen. */
		close(gate[1]);
		if (read(gate[0], &go, 1) != 1)
			_exit(126);
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "weft: %s: cannot execute: %s\n", argv[optind], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	close(gate[0]);
	ret = recording_attach(r, c.pid, cmdline);
	if (ret)
		cli_error(0, NULL, "tracing pid %d: %s", c.pid, strerror(-ret));
	recording_pre_exec(r, c.pid, exe);
	if (write(gate[1], "g", 1) != 1)
		cli_error(0, NULL, "starting %s: %s", argv[optind], strerror(errno));
	close(gate[1]);

	sig = recording_loop(r, child_done, &c);
	if (sig && !c.exited)
		kill(c.pid, sig); /* stop the command too; its status is still returned */
	ret = recording_finish(r);
	if (!c.exited && waitpid(c.pid, &c.status, 0) == c.pid)
		c.exited = true;
	if (c.exited && ret == 0)
		ret = exit_code_of(c.status);
	else if (c.exited && exit_code_of(c.status) != 0)
		ret = exit_code_of(c.status);
out:
	recording_free(r);
	return ret;
}
