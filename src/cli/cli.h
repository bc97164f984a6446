/* SPDX-License-Identifier: MIT */
/* Messages to the user and the subcommands' entry points. */
#ifndef WEFT_CLI_H
#define WEFT_CLI_H

/* "weft: <what>" and, if hint is set, "hint: <hint>" on stderr. Returns `code`. */
int cli_error(int code, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A bad command line: the message, a pointer to --help, and exit code 2 to return. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern const char *cli_command;   /* "run", "record", ... for messages */

int cmd_run(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_open(int argc, char **argv);

#endif
