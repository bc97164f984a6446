/* SPDX-License-Identifier: MIT */
/* Probe areas beyond the scheduler (locks, event loops, Go, actors): how they plug in. */
#ifndef WEFT_COLLECT_AREA_H
#define WEFT_COLLECT_AREA_H

#include <sys/types.h>

#include "collect/collector.h"

struct bpf_object;
struct detach_batch;

/*
 * An area owns one BPF skeleton (bpf/<area>.bpf.c) and its loader (src/collect/<area>.c).
 * Its object declares the shared maps of bpf/common.bpf.h; between open and load it calls
 * collector_reuse_maps() so all areas feed one ring and obey one process filter.
 */
struct collector_area {
	const char *name;
	/* Load and attach. 0 on success; -EOPNOTSUPP when the area does not apply here or is
	 * turned off (with err->what saying why, a COLLECTOR_MSG_VERBOSE message); any other
	 * error fails the run. */
	int (*open)(struct collector *c, void **state, const struct collector_opts *o,
		    struct collector_error *err);
	/* A traced process appeared or exec'd: attach per-binary probes (uprobes, USDT). */
	int (*add_process)(struct collector *c, void *state, pid_t pid);
	/* Optional: traced process pid is about to exec `path` (weft run): probes attached now
	 * see the program from its first instruction. add_process() still follows the exec. */
	int (*pre_exec)(struct collector *c, void *state, pid_t pid, const char *path);
	/* Called at each drain, before the ring is read (optional): periodic user-space checks. */
	void (*poll)(struct collector *c, void *state);
	/* Optional: hand every attached link over to b (collector/detach.h). collector_close()
	 * detaches all areas' programs at once, then calls close(). */
	void (*detach)(void *state, struct detach_batch *b);
	void (*close)(void *state);
};

/* NULL-terminated, in src/collect/areas.c. */
extern const struct collector_area *const collector_areas[];

/* Make obj's maps that the scheduler object shares ("events", "traced", "losses", the lock
 * probes' wait tables) the scheduler object's. */
int collector_reuse_maps(struct collector *c, struct bpf_object *obj);

/* The fd of the scheduler object's map `name` (the shared ones), or -ENOENT. */
int collector_map_fd(struct collector *c, const char *name);

/* A message for the user (see collector_msg_fn). */
void collector_message(struct collector *c, enum collector_msg_level level, const char *hint,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Queue a record made in user space (e.g. from /proc) for delivery at the next drain, before
 * the ring's records. It must be a whole record with a valid header. 0 or -ENOMEM.
 */
int collector_inject(struct collector *c, const void *rec, size_t len);

#endif
