/* SPDX-License-Identifier: MIT */
/*
 * Short strings built piece by piece into a fixed buffer, cut at its end as snprintf would. For
 * names built once per event (a lock wait's slice names its lock, holder and releaser): there
 * snprintf, which parses its format each time, was a sixth of weft's CPU on a lock convoy.
 */
#ifndef WEFT_ANALYZE_TEXT_H
#define WEFT_ANALYZE_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct text {
	char *p;
	size_t len; /* kept below cap: p[len] is always the terminating zero */
	size_t cap;
};

static inline struct text text_on(char *buf, size_t cap)
{
	buf[0] = '\0';
	return (struct text){ buf, 0, cap };
}

static inline void text_bytes(struct text *t, const char *s, size_t n)
{
	if (n > t->cap - 1 - t->len)
		n = t->cap - 1 - t->len;
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
}

static inline void text_str(struct text *t, const char *s)
{
	text_bytes(t, s, strlen(s));
}

static inline void text_digits(struct text *t, uint64_t u, bool negative)
{
	char digits[24], *d = digits + sizeof(digits);

	do
		*--d = (char)('0' + u % 10);
	while (u /= 10);
	if (negative)
		*--d = '-';
	text_bytes(t, d, digits + sizeof(digits) - d);
}

static inline void text_uint(struct text *t, uint64_t v)
{
	text_digits(t, v, false);
}

static inline void text_int(struct text *t, int64_t v)
{
	text_digits(t, v < 0 ? -(uint64_t)v : (uint64_t)v, v < 0);
}

#endif /* WEFT_ANALYZE_TEXT_H */
