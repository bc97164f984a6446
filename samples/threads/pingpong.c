// SPDX-License-Identifier: MIT
/*
 * Sample (threads): context-switch heavy, with a known shape.
 *   "ping" and "pong" hand a token back and forth through two pipes ROUNDS times: every hand-off
 *   is a voluntary switch on each side.
 *   "sleeper" sleeps TICKS times for 2 ms in sleeper_tick(), i.e. it blocks inside libc's
 *   nanosleep: its off-CPU stack must show sleeper_tick even though libc has no frame pointers.
 * Each thread reports the kernel's own switch counts just before it ends, so a tracer's counts
 * can be checked:  weft-sample: thread=NAME tid=TID voluntary=N involuntary=M
 * The sleeper also reports, for its first ticks, CLOCK_BOOTTIME just before it called nanosleep
 * and just after it returned, so a tracer's timestamps can be checked against the clock:
 *   weft-sample: tick=I before_ns=T0 after_ns=T1
 * Usage: pingpong [ROUNDS [TICKS [WORK_US [SPLIT]]]]   (WORK_US: busy work per hand-off, default
 * 0; SPLIT 1: ping runs on CPU 0 and pong on CPU 1, every hand-off crosses CPUs, for benchmarks
 * that want the same placement on every run)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int ping_to_pong[2], pong_to_ping[2];
static long rounds = 20000, ticks = 50, work_us, split;
static volatile long sink;

static void report(const char *name)
{
	char path[64], line[256];
	long vol = -1, invol = -1;
	pid_t tid = syscall(SYS_gettid);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		sscanf(line, "voluntary_ctxt_switches: %ld", &vol);
		sscanf(line, "nonvoluntary_ctxt_switches: %ld", &invol);
	}
	if (f)
		fclose(f);
	printf("weft-sample: thread=%s tid=%d voluntary=%ld involuntary=%ld\n", name, tid, vol,
	       invol);
	fflush(stdout);
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000;
}

/* Some work between hand-offs, so the switch rate can be dialled down to realistic levels. */
static void busy_work(void)
{
	uint64_t end;

	if (!work_us)
		return;
	end = now_us() + work_us;
	while (now_us() < end)
		sink++;
}

static void pass_token(int in, int out, int first)
{
	char c = 'x';

	for (long i = 0; i < rounds; i++) {
		if (!first || i)
			if (read(in, &c, 1) != 1)
				exit(1);
		busy_work();
		if (write(out, &c, 1) != 1)
			exit(1);
	}
}

static void pin_to_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (split && pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
		fprintf(stderr, "pingpong: cannot run on CPU %d\n", cpu);
}

static void *ping_main(void *arg)
{
	pthread_setname_np(pthread_self(), "ping");
	pin_to_cpu(0);
	pass_token(pong_to_ping[0], ping_to_pong[1], 1);
	if (read(pong_to_ping[0], &(char){ 0 }, 1) != 1)
		exit(1);
	report("ping");
	return NULL;
}

static void *pong_main(void *arg)
{
	pthread_setname_np(pthread_self(), "pong");
	pin_to_cpu(1);
	pass_token(ping_to_pong[0], pong_to_ping[1], 0);
	report("pong");
	return NULL;
}

#define TIMED_TICKS 20
static uint64_t tick_before_ns[TIMED_TICKS], tick_after_ns[TIMED_TICKS];

static uint64_t boottime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* noinline and work after the call: the call to nanosleep must stay a real call, so the
 * return address into this function is on the stack while the thread sleeps. */
__attribute__((noinline)) void sleeper_tick(long i)
{
	struct timespec ts = { 0, 2 * 1000 * 1000 };
	uint64_t before = boottime_ns();

	nanosleep(&ts, NULL);
	if (i < TIMED_TICKS) {
		tick_before_ns[i] = before;
		tick_after_ns[i] = boottime_ns();
	}
	sink += i;
}

static void *sleeper_main(void *arg)
{
	pthread_setname_np(pthread_self(), "sleeper");
	for (long i = 0; i < ticks; i++)
		sleeper_tick(i);
	for (long i = 0; i < ticks && i < TIMED_TICKS; i++)
		printf("weft-sample: tick=%ld before_ns=%llu after_ns=%llu\n", i,
		       (unsigned long long)tick_before_ns[i], (unsigned long long)tick_after_ns[i]);
	report("sleeper");
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t ping, pong, sleeper;
	uint64_t t0;

	if (argc > 1)
		rounds = atol(argv[1]);
	if (argc > 2)
		ticks = atol(argv[2]);
	if (argc > 3)
		work_us = atol(argv[3]);
	if (argc > 4)
		split = atol(argv[4]);
	if (pipe(ping_to_pong) || pipe(pong_to_ping)) {
		perror("pipe");
		return 1;
	}
	t0 = now_us();
	pthread_create(&sleeper, NULL, sleeper_main, NULL);
	pthread_create(&pong, NULL, pong_main, NULL);
	pthread_create(&ping, NULL, ping_main, NULL);
	pthread_join(ping, NULL);
	pthread_join(pong, NULL);
	pthread_join(sleeper, NULL);
	/* The workload's own duration, for benchmarks: excludes the tracer's start-up. */
	printf("weft-sample: elapsed_us=%llu\n", (unsigned long long)(now_us() - t0));
	return 0;
}
