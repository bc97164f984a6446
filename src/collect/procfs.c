// SPDX-License-Identifier: MIT
/* Reads /proc/PID/{stat,comm,cmdline,task}: names and parents of what we attach to. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collect/procfs.h"

#define PF_KTHREAD 0x00200000

static ssize_t read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		n = -errno;
	else
		buf[n] = '\0';
	close(fd);
	return n;
}

static void chomp(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
}

int procfs_read_process(pid_t pid, struct procfs_process *out)
{
	char path[300], buf[1024], *p;
	unsigned long flags = 0;
	ssize_t n;
	int ppid = 0;

	memset(out, 0, sizeof(*out));
	out->pid = pid;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	n = read_file(path, buf, sizeof(buf));
	if (n < 0)
		return n == -ENOENT ? -ESRCH : (int)n;
	/* comm may hold spaces and parentheses: fields resume after the last ')'. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %d %*d %*d %*d %*d %lu", &ppid, &flags) != 2)
		return -EPROTO;
	out->ppid = ppid;
	out->kernel_thread = flags & PF_KTHREAD;
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	if (read_file(path, buf, sizeof(buf)) > 0) {
		chomp(buf);
		snprintf(out->comm, sizeof(out->comm), "%s", buf);
	}
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	n = read_file(path, out->cmdline, sizeof(out->cmdline));
	for (ssize_t i = 0; i < n; i++)
		if (out->cmdline[i] == '\0')
			out->cmdline[i] = ' ';
	chomp(out->cmdline);
	return 0;
}

int procfs_for_each_thread(pid_t pid, void (*fn)(void *ctx, pid_t tid, const char *comm),
			   void *ctx)
{
	char path[300], comm[64];
	struct dirent *d;
	int n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return errno == ENOENT ? -ESRCH : -errno;
	while ((d = readdir(dir))) {
		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/comm", pid, d->d_name);
		if (read_file(path, comm, sizeof(comm)) < 0)
			continue;
		chomp(comm);
		fn(ctx, atoi(d->d_name), comm);
		n++;
	}
	closedir(dir);
	return n;
}

char procfs_state(pid_t pid)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_file(path, buf, sizeof(buf)) <= 0)
		return 0;
	p = strrchr(buf, ')'); /* the name in parentheses may hold anything */
	return p && p[1] == ' ' ? p[2] : 0;
}

bool procfs_alive(pid_t pid)
{
	char state = procfs_state(pid);

	/* A zombie still answers kill(0): look at its state instead. */
	return state && state != 'Z' && state != 'X';
}
