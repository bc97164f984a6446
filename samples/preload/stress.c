// SPDX-License-Identifier: MIT
/* Everything that can go wrong for an LD_PRELOAD shim, many times: fork (with and without exec),
 * exec of itself, signals whose handlers post semaphores while the interrupted code is inside
 * a lock call, threads created, named and ended while others take locks. Every process prints
 * one line; the parent checks its children's exit codes.
 * Usage: stress [rounds=20]. Prints `weft-sample: stress=ok ...` if all went well. */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t m1 = PTHREAD_MUTEX_INITIALIZER, m2 = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static sem_t sem;
static volatile sig_atomic_t signals;
static volatile unsigned long work;

static void on_signal(int sig)
{
	signals++;
	sem_post(&sem); /* async-signal-safe, and interposed */
}

static void *churn(void *arg)
{
	long id = (long)arg;
	char name[16];

	snprintf(name, sizeof(name), "churn-%ld", id % 100);
	pthread_setname_np(pthread_self(), name);
	for (int i = 0; i < 2000; i++) {
		pthread_mutex_lock(&m1);
		if (i % 3 == 0) {
			pthread_mutex_lock(&m2);
			work++;
			pthread_mutex_unlock(&m2);
		}
		work++;
		pthread_mutex_unlock(&m1);
		if (i % 50 == 0) {
			pthread_rwlock_rdlock(&rw);
			pthread_rwlock_unlock(&rw);
			pthread_mutex_lock(&m1);
			pthread_cond_broadcast(&cv);
			pthread_mutex_unlock(&m1);
		}
	}
	if (id % 2)
		pthread_exit(NULL);
	return NULL;
}

/* fork() copies locks in whatever state other threads left them (waiter bits included): hold
 * the mutexes across the fork in the parent, and give the child fresh ones. */
static void before_fork(void)
{
	pthread_mutex_lock(&m1);
	pthread_mutex_lock(&m2);
}

static void after_fork_parent(void)
{
	pthread_mutex_unlock(&m2);
	pthread_mutex_unlock(&m1);
}

static void after_fork_child(void)
{
	pthread_mutex_init(&m1, NULL);
	pthread_mutex_init(&m2, NULL);
	pthread_rwlock_init(&rw, NULL);
	pthread_cond_init(&cv, NULL);
}

static int child_work(int round)
{
	pthread_t t[3];

	for (long i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, churn, (void *)(round * 10 + i));
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	printf("weft-sample: child=%d pid=%d\n", round, getpid());
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 20, failed = 0, posted = 0;
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
	struct itimerval it = { { 0, 2000 }, { 0, 2000 } };

	if (argc > 2 && !strcmp(argv[2], "exec-child"))
		return child_work(atoi(argv[1]));
	sem_init(&sem, 0, 0);
	pthread_atfork(before_fork, after_fork_parent, after_fork_child);
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL); /* a signal every 2 ms, landing anywhere */
	for (int r = 0; r < rounds; r++) {
		pthread_t t[4];
		pid_t pid;
		int status;

		for (long i = 0; i < 4; i++)
			pthread_create(&t[i], NULL, churn, (void *)(r * 10 + i));
		pid = fork();
		if (pid == 0) {
			struct itimerval off = { 0 };
			char round[16];

			setitimer(ITIMER_REAL, &off, NULL);
			snprintf(round, sizeof(round), "%d", r);
			if (r % 2) { /* exec ourselves */
				execl("/proc/self/exe", argv[0], round, "exec-child", (char *)NULL);
				_exit(127);
			}
			_exit(child_work(r));
		}
		for (int i = 0; i < 4; i++)
			pthread_join(t[i], NULL);
		while (waitpid(pid, &status, 0) < 0)
			;
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			failed++;
		while (sem_trywait(&sem) == 0)
			posted++;
	}
	printf("weft-sample: stress=%s rounds=%d failed=%d signals=%d posted=%d work=%lu\n",
	       failed ? "failed" : "ok", rounds, failed, (int)signals, posted, work);
	return failed ? 1 : 0;
}
