// SPDX-License-Identifier: MIT
/*
 * A single-threaded task executor (poll-based futures, as in Rust or a C coroutine library),
 * annotated with weft.h. Known behaviour: "producer" sends a value into channel "jobs" every
 * 1 ms; "consumer" waits on the channel and is woken by each send; "hog" wakes every 20 ms and
 * then computes for ~10 ms inside one poll, blocking everyone (the slow poll to find).
 * Prints: weft-sample: task=NAME polls=N max_poll_us=U  and  weft-sample: chan=jobs max_depth=D
 * Usage: tasks [values] [ms-to-wait-for-weft]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "weft/weft.h"

#define QCAP 256

struct task;
typedef int (*poll_fn)(struct task *t); /* 1: done, 0: pending */

struct task {
	const char *name;
	poll_fn poll;
	int state;
	uint64_t deadline_ns; /* pending on a timer when non-zero */
	int queued;
	long polls;
	uint64_t max_poll_ns;
};

struct chan {
	int buf[QCAP];
	int head, len, max_len;
	struct task *waiter;
	int closed;
};

static struct task *ready[QCAP];
static int rhead, rlen;
static struct task *timers[8];
static int ntimers;
static struct task *current;
static struct chan jobs;
static int nvalues, consumed;
static const int executor_id = 1;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void wake(struct task *t)
{
	if (t->queued)
		return;
	WEFT_TASK_WAKE(t, current);
	t->queued = 1;
	ready[(rhead + rlen++) % QCAP] = t;
}

static void sleep_until(struct task *t, uint64_t deadline)
{
	t->deadline_ns = deadline;
	timers[ntimers++] = t;
}

static void chan_send(struct chan *c, int v)
{
	c->buf[(c->head + c->len++) % QCAP] = v;
	if (c->len > c->max_len)
		c->max_len = c->len;
	WEFT_CHAN_SEND(c, c->len);
	if (c->waiter) {
		wake(c->waiter);
		c->waiter = NULL;
	}
}

/* 1 and *v set: got a value; 0: pending (registered as the waiter); -1: closed and empty. */
static int chan_recv(struct chan *c, int *v)
{
	if (!c->len) {
		if (c->closed)
			return -1;
		c->waiter = current;
		return 0;
	}
	*v = c->buf[c->head];
	c->head = (c->head + 1) % QCAP;
	c->len--;
	WEFT_CHAN_RECV(c, c->len);
	return 1;
}

static int producer_poll(struct task *t)
{
	if (t->state >= nvalues) {
		jobs.closed = 1;
		if (jobs.waiter)
			wake(jobs.waiter);
		return 1;
	}
	chan_send(&jobs, t->state++);
	sleep_until(t, now_ns() + 1000000);
	return 0;
}

static int consumer_poll(struct task *t)
{
	int v, r;

	while ((r = chan_recv(&jobs, &v)) == 1)
		consumed++;
	return r < 0;
}

static volatile double sink;

static int hog_poll(struct task *t)
{
	uint64_t end = now_ns() + 10000000;

	if (jobs.closed)
		return 1;
	while (now_ns() < end) /* the slow poll: computes without yielding */
		for (int i = 0; i < 1000; i++)
			sink = sink * 1.0000001 + i;
	sleep_until(t, now_ns() + 20000000);
	return 0;
}

static void spawn(struct task *t)
{
	WEFT_TASK_SPAWN(t, current, t->name);
	wake(t);
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { ns / 1000000000, ns % 1000000000 };

	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	static struct task producer = { "producer", producer_poll };
	static struct task consumer = { "consumer", consumer_poll };
	static struct task hog = { "hog", hog_poll };
	struct task *all[3] = { &producer, &consumer, &hog };
	int wait_ms = argc > 2 ? atoi(argv[2]) : 0, live = 3;

	nvalues = argc > 1 ? atoi(argv[1]) : 300;
	/* Every probe this sample names or counts with must be attached before it starts. */
	for (int i = 0; i < wait_ms && !(WEFT_ENABLED(actor_name) && WEFT_ENABLED(task_spawn) &&
					 WEFT_ENABLED(task_poll_end) && WEFT_ENABLED(chan_recv) &&
					 WEFT_ENABLED(loop_end)); i++)
		sleep_ns(1000000);
	/* A semaphore goes up when a probe is registered, its BPF program a moment later. */
	if (wait_ms)
		sleep_ns(100 * 1000000);
	WEFT_ACTOR_NAME(&jobs, "jobs");
	WEFT_ACTOR_NAME(&executor_id, "executor");
	for (int i = 0; i < 3; i++)
		spawn(all[i]);
	while (live) {
		uint64_t now = now_ns(), next = 0;

		for (int i = 0; i < ntimers;) {
			if (timers[i]->deadline_ns <= now) {
				struct task *t = timers[i];

				timers[i] = timers[--ntimers];
				t->deadline_ns = 0;
				wake(t);
				continue;
			}
			if (!next || timers[i]->deadline_ns < next)
				next = timers[i]->deadline_ns;
			i++;
		}
		if (!rlen) {
			if (next)
				sleep_ns(next - now);
			continue;
		}
		WEFT_LOOP_BEGIN(&executor_id);
		while (rlen) {
			struct task *t = ready[rhead];
			uint64_t t0 = now_ns(), d;
			int done;

			rhead = (rhead + 1) % QCAP;
			rlen--;
			t->queued = 0;
			current = t;
			WEFT_TASK_POLL_BEGIN(t);
			done = t->poll(t);
			WEFT_TASK_POLL_END(t, done);
			current = NULL;
			d = now_ns() - t0;
			t->polls++;
			if (d > t->max_poll_ns)
				t->max_poll_ns = d;
			live -= done;
		}
		WEFT_LOOP_END(&executor_id);
	}
	for (int i = 0; i < 3; i++)
		printf("weft-sample: task=%s polls=%ld max_poll_us=%llu\n", all[i]->name,
		       all[i]->polls, (unsigned long long)all[i]->max_poll_ns / 1000);
	printf("weft-sample: chan=jobs max_depth=%d consumed=%d\n", jobs.max_len, consumed);
	return 0;
}
