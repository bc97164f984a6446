// SPDX-License-Identifier: MIT
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>

#include "sigbus_guard.h"

struct guard {
	sigjmp_buf jb;
	void *fault;
};

static _Thread_local struct guard *current;
static pthread_once_t installed = PTHREAD_ONCE_INIT;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (current) {
		current->fault = si->si_addr;
		siglongjmp(current->jb, 1);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Once for the process. SA_NODEFER: the jump out of the handler leaves SIGBUS unblocked, so the
 * guard need not save and restore the signal mask (a system call) on every call. */
void sigbus_guard_install(void)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO | SA_NODEFER };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
}

int sigbus_guard(void (*fn)(void *arg), void *arg, void **fault)
{
	struct guard g, *outer = current;

	pthread_once(&installed, sigbus_guard_install);
	if (sigsetjmp(g.jb, 0)) {
		current = outer;
		if (fault)
			*fault = g.fault;
		return -EFAULT;
	}
	current = &g;
	fn(arg);
	current = outer;
	return 0;
}
