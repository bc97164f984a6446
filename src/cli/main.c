// SPDX-License-Identifier: MIT
/* weft: the command line entry point, one subcommand per file. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

const char *cli_command = "";

int cli_error(int code, const char *hint, const char *fmt, ...)
{
	va_list ap;

	fputs("weft: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (hint && *hint)
		fprintf(stderr, "hint: %s\n", hint);
	return code;
}

int cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("weft: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (cli_command[0])
		fprintf(stderr, "\nhint: see 'weft %s --help'\n", cli_command);
	else
		fputs("\nhint: see 'weft --help'\n", stderr);
	return 2;
}

static void usage(FILE *f)
{
	fprintf(f,
		"weft: why the threads of a program were not making progress\n"
		"\n"
		"Usage:\n"
		"  weft run [options] -- CMD [ARGS...]   start CMD and trace it until it exits\n"
		"  weft record -p PID[,PID...] [options] attach to running processes\n"
		"  weft open FILE                        show a trace in Perfetto UI\n"
		"  weft --version\n"
		"\n"
		"Examples:\n"
		"  sudo weft run -- ./server --port 8080\n"
		"  sudo weft record -p $(pidof server) -d 10 -o server.pftrace\n"
		"  weft open server.pftrace\n"
		"\n"
		"'weft COMMAND --help' lists a command's options.\n");
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "run", cmd_run },
		{ "record", cmd_record },
		{ "open", cmd_open },
	};

	/* Bad options get weft's one error line, not getopt's as well. */
	opterr = 0;
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("weft %s\n", WEFT_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (!strcmp(argv[1], cmds[i].name)) {
			cli_command = cmds[i].name;
			return cmds[i].fn(argc - 1, argv + 1);
		}
	}
	return cli_usage_error("'%s' is not a weft command (run, record, open)", argv[1]);
}
