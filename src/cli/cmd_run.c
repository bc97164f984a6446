// SPDX-License-Identifier: MIT
/* weft run: start a command under tracing and return its exit status. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <elf.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/recording.h"
#include "collect/procfs.h"

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
	       "status. As root (or with CAP_BPF and CAP_PERFMON) it loads BPF probes; otherwise\n"
	       "(--mode=preload) CMD runs with weft's LD_PRELOAD shim and weft sees its locks,\n"
	       "condition variables, semaphores, threads and poll calls, and context switches if\n"
	       "perf_event_paranoid allows, but no wakers or off-CPU stacks.\n"
	       "\n");
	record_options_help();
	printf("\nExamples:\n"
	       "  sudo weft run -- ./build/samples/threads/pingpong\n"
	       "  sudo weft run -o app.pftrace --summary-json app.json -- ./app --flag\n"
	       "  weft run --mode=preload -- ./build/samples/preload/convoy\n");
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

/*
 * The shim can only be loaded by the dynamic linker: a static binary (no PT_INTERP: Go, musl
 * -static) never sees it, and the loader ignores LD_PRELOAD for setuid/setgid programs.
 * Returns 0 or an exit code (reported). Scripts (#!) are judged by their interpreter at exec.
 */
static int check_preloadable(const char *file)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	struct stat st;
	bool interp = false;
	FILE *f;

	if (stat(file, &st) == 0 && (st.st_mode & (S_ISUID | S_ISGID)) && geteuid() != 0)
		return cli_error(1, "setuid programs ignore LD_PRELOAD; trace it with "
				 "`sudo weft run --mode=bpf`",
				 "%s: set-user-ID/group-ID program: the preload shim cannot be "
				 "loaded into it", file);
	f = fopen(file, "rb");
	if (!f)
		return 0; /* execvp will say why */
	if (fread(&eh, sizeof(eh), 1, f) != 1 || memcmp(eh.e_ident, ELFMAG, SELFMAG)) {
		fclose(f);
		return 0; /* a script, or not something we can judge */
	}
	if (eh.e_ident[EI_CLASS] != ELFCLASS64) {
		fclose(f);
		/* the loader would print "wrong ELF class" on the program's stderr */
		return cli_error(1, "use BPF mode as root: `sudo weft run --mode=bpf -- ...`",
				 "%s: 32-bit program: the preload shim is 64-bit", file);
	}
	for (int i = 0; i < eh.e_phnum; i++) {
		if (fseek(f, eh.e_phoff + (long)i * eh.e_phentsize, SEEK_SET) ||
		    fread(&ph, sizeof(ph), 1, f) != 1)
			break;
		if (ph.p_type == PT_INTERP)
			interp = true;
	}
	fclose(f);
	if (!interp)
		return cli_error(1, "use BPF mode as root: `sudo weft run --mode=bpf -- ...`",
				 "%s: statically linked (no ELF interpreter): the preload shim "
				 "cannot be loaded into it", file);
	return 0;
}

/* The shim next to the weft binary (build tree), or installed beside it in ../lib/weft. */
static int find_shim(char *buf, size_t len)
{
	const char *env = getenv("WEFT_PRELOAD_LIB");
	char self[3072];
	ssize_t n;
	char *slash;

	if (env && *env) {
		snprintf(buf, len, "%s", env);
		return access(buf, R_OK) ? -ENOENT : 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -ENOENT;
	self[n] = 0;
	slash = strrchr(self, '/');
	if (!slash)
		return -ENOENT;
	*slash = 0;
	snprintf(buf, len, "%s/libweft-preload.so", self);
	if (!access(buf, R_OK))
		return 0;
	snprintf(buf, len, "%s/../lib/weft/libweft-preload.so", self);
	return access(buf, R_OK) ? -ENOENT : 0;
}

/* In the child, before exec: preload the shim and tell it where its ring goes. */
static void preload_env(const char *shim, const char *dir, size_t ring_size)
{
	const char *old = getenv("LD_PRELOAD");
	char buf[8192], sz[32];

	if (old && *old)
		snprintf(buf, sizeof(buf), "%s:%s", shim, old);
	else
		snprintf(buf, sizeof(buf), "%s", shim);
	setenv("LD_PRELOAD", buf, 1);
	setenv("WEFT_PRELOAD_DIR", dir, 1);
	snprintf(sz, sizeof(sz), "%zu", ring_size);
	setenv("WEFT_PRELOAD_RING_SIZE", sz, 1);
}

/*
 * Until the child sleeps at its gate: it goes into the kernel filter after that, so the wait
 * there (weft's, not the command's) is not seen. It gets there within microseconds unless the
 * machine is busy; past a few milliseconds, the wait is seen, as it was.
 */
static void wait_at_gate(pid_t pid)
{
	struct timespec poll = { 0, 100000 };

	for (int i = 0; i < 50 && procfs_state(pid) == 'R'; i++)
		nanosleep(&poll, NULL);
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
	char cmdline[256] = "", exe[4096], shim[4096];
	enum record_mode mode;
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
	if (optind >= argc || !argv[optind][0])
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

	mode = record_mode_resolve(o.mode);
	if (mode == RECORD_MODE_PRELOAD || mode == RECORD_MODE_BOTH) {
		ret = check_preloadable(exe);
		if (ret)
			return ret;
		if (find_shim(shim, sizeof(shim)))
			return cli_error(1, "build it with `make`, or point WEFT_PRELOAD_LIB at it",
					 "libweft-preload.so not found next to weft");
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
		if (recording_preload_dir(r))
			preload_env(shim, recording_preload_dir(r), recording_preload_ring_size(r));
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "weft: %s: cannot execute: %s\n", argv[optind], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	close(gate[0]);
	ret = recording_attach(r, c.pid, cmdline);
	wait_at_gate(c.pid);
	if (!ret)
		ret = recording_pre_exec(r, c.pid, exe);
	if (ret)
		cli_error(0, NULL, "tracing pid %d: %s", c.pid, strerror(-ret));
	if (write(gate[1], "g", 1) != 1)
		cli_error(0, NULL, "starting %s: %s", argv[optind], strerror(errno));

	sig = recording_loop(r, child_done, &c);
	/* Not closed at once: closing takes the pipe's lock, which the child, woken by the write,
	 * takes too to read, and it then slept on it, traced by now (CI caught that wait among
	 * the command's stacks). */
	close(gate[1]);
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
