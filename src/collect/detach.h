/* SPDX-License-Identifier: MIT */
/* Detaching all of weft's BPF programs at once, at the end of a recording. */
#ifndef WEFT_COLLECT_DETACH_H
#define WEFT_COLLECT_DETACH_H

#include <stdbool.h>
#include <stddef.h>

struct bpf_link;
struct bpf_object_skeleton;

/* Links to destroy together. Each one added is taken over: the caller's pointer is cleared,
 * so the owner's own cleanup (bpf_link__destroy, the skeleton's destroy) skips it. */
struct detach_batch {
	struct bpf_link **links;
	size_t n, cap;
};

void detach_add(struct detach_batch *b, struct bpf_link **link);
/* Every link of an attached skeleton. */
void detach_skeleton(struct detach_batch *b, struct bpf_object_skeleton *s);
/* Destroys them all, concurrently, and empties the batch. */
void detach_run(struct detach_batch *b);
/* Destroys them all without waiting for the kernel to release them: a child process does
 * that. Empties the batch. False if no child could be made (the batch is left as it was). */
bool detach_in_child(struct detach_batch *b);

#endif
