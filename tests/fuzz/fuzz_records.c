// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: arbitrary record streams through a recording session (decoder, reorder
 * buffer, every area's analysis, symbolization, the trace writer, the summaries).
 *
 * Records reach weft from the BPF rings and from the preload shim's rings, which live in the
 * traced program's own memory: a buggy or hostile program can write anything there, and weft
 * must not crash on it. Each record here is a known type with its exact size (what the one
 * decoder lets through); its body is the fuzzer's bytes. Timestamps move forward by a
 * fuzzer-chosen step, sometimes back, so records are released in and out of order. Processes
 * are this process (its real map, so stacks get unwound and resolved) or a few pids above the
 * kernel's limit (no such process: nothing to read).
 *
 * Built by `make fuzz` (clang, libFuzzer, AddressSanitizer, UndefinedBehaviorSanitizer).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "analyze/decode.h"
#include "analyze/session.h"

#define SESSION_INPUTS 200 /* inputs per session: a new one exercises start and finish */
#define FUZZ_PID_BASE (WEFT_TGID_LIMIT + 64)

static struct session *session;
static FILE *sink;
static int inputs;
static uint64_t clock_ns = 1000000000;

static void session_end(void)
{
	if (!session)
		return;
	session_finish(session, clock_ns);
	session_summary_text(session, sink, 3, -1);
	session_summary_json(session, sink);
	session_free(session);
	session = NULL;
}

static int session_begin(void)
{
	struct session_opts o = { .reorder_window_ns = 1000000, .compress = true };

	if (!sink)
		sink = fopen("/dev/null", "w");
	o.trace_fd = fileno(sink);
	session = session_new(&o);
	return session ? 0 : -1;
}

static int32_t fuzz_pid(uint8_t b)
{
	return b & 4 ? FUZZ_PID_BASE + (b & 3) : getpid();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t rec[sizeof(struct weft_stack_event) + 4096];

	if (!session && session_begin())
		return 0;
	while (size >= 4) {
		unsigned type = data[0] % WEFT_EV_TYPE_MAX;
		size_t len = weft_record_size[type], body;
		struct weft_event_header *h = (void *)rec;
		uint8_t who = data[1];
		uint16_t step = (uint16_t)(data[2] | data[3] << 8);

		data += 4;
		size -= 4;
		if (!len || len > sizeof(rec))
			continue;
		body = len - sizeof(*h);
		memset(rec, 0, len);
		memcpy(rec + sizeof(*h), data, body < size ? body : size);
		data += body < size ? body : size;
		size -= body < size ? body : size;
		/* one step in 64 goes back: records from a ring drained late */
		clock_ns = (step & 63) == 0 ? clock_ns - (step >> 6) * 1000 : clock_ns + step;
		h->type = (uint16_t)type;
		h->size = (uint16_t)len;
		h->cpu = who >> 6;
		h->ts = clock_ns;
		h->pid = fuzz_pid(who);
		h->tid = who & 8 ? h->pid : h->pid + 1 + ((who >> 4) & 3);
		session_push(session, rec, len);
	}
	session_clock(session, clock_ns);
	session_flush(session, false);
	if (++inputs % SESSION_INPUTS == 0)
		session_end();
	return 0;
}
