// SPDX-License-Identifier: MIT
/* zlib-format compression with greedy LZ77 and the fixed Huffman codes of RFC 1951. */
#include <errno.h>
#include <string.h>
#include <zlib.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "perfetto/deflate.h"

#define MIN_MATCH 4 /* deflate allows 3; 4 is what one hash load finds */
#define MAX_MATCH 258
#define WINDOW 32768
/*
 * After 8 positions in a row without a match, test only every other one, after 16 every third,
 * and so on, as LZ4 does: timestamp deltas hardly repeat, and hashing each of their bytes was a
 * third of the compressor's work. Measured on a ping-pong trace: a third fewer instructions,
 * the output 4% larger.
 */
#define SKIP_SHIFT 3

/*
 * Bits go out least significant first; Huffman codes are defined most significant bit first,
 * so each code is stored bit-reversed, with its length (RFC 1951, 3.1.1 and 3.2.6).
 */
struct code {
	uint32_t bits;
	uint32_t len;
};

static uint32_t reverse(uint32_t v, unsigned n)
{
	uint32_t r = 0;

	for (unsigned i = 0; i < n; i++, v >>= 1)
		r = r << 1 | (v & 1);
	return r;
}

/* The fixed literal/length code of symbol s (0..287). */
static struct code fixed_code(unsigned s)
{
	if (s < 144)
		return (struct code){ reverse(0x30 + s, 8), 8 };
	if (s < 256)
		return (struct code){ reverse(0x190 + s - 144, 9), 9 };
	if (s < 280)
		return (struct code){ reverse(s - 256, 7), 7 };
	return (struct code){ reverse(0xc0 + s - 280, 8), 8 };
}

/*
 * Codes of every literal and every match length (symbol and extra bits together), built once:
 * lengths 3..10 are symbols 257..264, then each symbol covers 2^k lengths with k extra bits.
 */
static struct code literal[256], length[MAX_MATCH + 1];
static uint32_t distance_code[30];

static void tables_init(void)
{
	static int done;

	if (done)
		return;
	for (unsigned s = 0; s < 256; s++)
		literal[s] = fixed_code(s);
	for (unsigned len = 3; len <= MAX_MATCH; len++) {
		unsigned l = len - 3, sym, extra = 0, nextra = 0;
		struct code c;

		if (len == MAX_MATCH) {
			sym = 285;
		} else if (l < 8) {
			sym = 257 + l;
		} else {
			unsigned top = 31 - __builtin_clz(l); /* l in [2^top, 2^(top+1)) */

			nextra = top - 2;
			sym = 257 + 4 * (top - 1) + ((l >> nextra) & 3);
			extra = l & ((1u << nextra) - 1);
		}
		c = fixed_code(sym);
		length[len] = (struct code){ c.bits | extra << c.len, c.len + nextra };
	}
	for (unsigned d = 0; d < 30; d++)
		distance_code[d] = reverse(d, 5);
	done = 1;
}

/* Distances 1..4 are codes 0..3; then each code covers 2^k distances with k extra bits. */
static struct code distance(uint32_t dist)
{
	uint32_t d = dist - 1, top, nextra, code;

	if (d < 4)
		return (struct code){ distance_code[d], 5 };
	top = 31 - __builtin_clz(d);
	nextra = top - 1;
	code = 2 * top + ((d >> nextra) & 1);
	return (struct code){ distance_code[code] | (d & ((1u << nextra) - 1)) << 5, 5 + nextra };
}

/* A 64-bit bit buffer: up to 32 bits are pending after each put, so a put may add 32 more. */
struct bitwriter {
	uint8_t *p;
	uint64_t acc;
	unsigned n;
};

static inline void put(struct bitwriter *b, uint64_t bits, unsigned n)
{
	b->acc |= bits << b->n;
	b->n += n;
	if (b->n >= 32) {
		uint32_t word = (uint32_t)b->acc;

		memcpy(b->p, &word, 4); /* little-endian machines only, like the rest of weft */
		b->p += 4;
		b->acc >>= 32;
		b->n -= 32;
	}
}

static inline uint32_t load32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* Length of the match of in[m..] with in[i..] (m < i), from MIN_MATCH bytes known equal. */
static size_t match_len(const uint8_t *in, size_t m, size_t i, size_t max)
{
	size_t l = MIN_MATCH;

	while (l + 8 <= max) {
		uint64_t diff = load64(in + m + l) ^ load64(in + i + l);

		if (diff)
			return l + __builtin_ctzll(diff) / 8;
		l += 8;
	}
	while (l < max && in[m + l] == in[i + l])
		l++;
	return l;
}

#define ADLER_MOD 65521
#define ADLER_NMAX 5536 /* bytes before the sums must be reduced: zlib's 5552, a multiple of 32 */

#if defined(__x86_64__)
/* 32 bytes a step: s1 gains their sum (psadbw), s2 their sum weighted 32..1 (pmaddubsw), and
 * 32 times s1 as it was before them. */
__attribute__((target("ssse3"))) static uint32_t adler32_ssse3(uint32_t adler, const uint8_t *p,
								 size_t len)
{
	const __m128i w_lo = _mm_setr_epi8(32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19,
					   18, 17);
	const __m128i w_hi = _mm_setr_epi8(16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1);
	const __m128i ones = _mm_set1_epi16(1), zero = _mm_setzero_si128();
	uint64_t s1 = adler & 0xffff, s2 = adler >> 16;

	while (len >= 32) {
		size_t n = (len < ADLER_NMAX ? len : ADLER_NMAX) & ~(size_t)31;
		__m128i v1 = zero, v2 = zero, vp = zero;
		uint32_t t[4];

		len -= n;
		s2 += s1 * n;
		for (size_t k = 0; k < n; k += 32, p += 32) {
			__m128i a = _mm_loadu_si128((const __m128i *)p);
			__m128i b = _mm_loadu_si128((const __m128i *)(p + 16));

			vp = _mm_add_epi32(vp, v1);
			v1 = _mm_add_epi32(v1, _mm_add_epi32(_mm_sad_epu8(a, zero),
							     _mm_sad_epu8(b, zero)));
			v2 = _mm_add_epi32(v2, _mm_madd_epi16(_mm_maddubs_epi16(a, w_lo), ones));
			v2 = _mm_add_epi32(v2, _mm_madd_epi16(_mm_maddubs_epi16(b, w_hi), ones));
		}
		_mm_storeu_si128((__m128i *)t, vp);
		s2 += 32 * ((uint64_t)t[0] + t[1] + t[2] + t[3]);
		_mm_storeu_si128((__m128i *)t, v2);
		s2 += (uint64_t)t[0] + t[1] + t[2] + t[3];
		_mm_storeu_si128((__m128i *)t, v1);
		s1 += (uint64_t)t[0] + t[1] + t[2] + t[3];
		s1 %= ADLER_MOD;
		s2 %= ADLER_MOD;
	}
	while (len--) {
		s1 += *p++;
		s2 += s1;
	}
	return (uint32_t)((s2 % ADLER_MOD) << 16 | s1 % ADLER_MOD);
}
#endif

/* The stream's checksum (RFC 1950): zlib's own takes a quarter of the compressor's time. */
static uint32_t adler32_of(const uint8_t *p, size_t len)
{
#if defined(__x86_64__)
	if (__builtin_cpu_supports("ssse3"))
		return adler32_ssse3(1, p, len);
#endif
	return (uint32_t)adler32(adler32(0, NULL, 0), p, (uInt)len);
}

/*
 * Literals are most of the work on data that does not repeat (timestamp deltas): six at a time
 * (at most 54 bits, on fewer than 8 pending), then every whole byte out in one unaligned store.
 * The caller's buffer has a word of slack past the worst case.
 */
static void put_literals(struct bitwriter *b, const uint8_t *p, size_t n)
{
	uint64_t acc = b->acc;
	unsigned bits = b->n;
	uint8_t *o = b->p;
	size_t k = 0;

	while (bits >= 8) { /* the invariant here: fewer than 8 pending */
		*o++ = (uint8_t)acc;
		acc >>= 8;
		bits -= 8;
	}
	for (; k + 6 <= n; k += 6) {
#pragma GCC unroll 6
		for (unsigned j = 0; j < 6; j++) {
			struct code c = literal[p[k + j]];

			acc |= (uint64_t)c.bits << bits;
			bits += c.len;
		}
		memcpy(o, &acc, 8);
		o += bits >> 3;
		acc >>= bits & ~7u;
		bits &= 7;
	}
	b->acc = acc;
	b->n = bits;
	b->p = o;
	for (; k < n; k++)
		put(b, literal[p[k]].bits, literal[p[k]].len);
}

void pf_deflate_init(struct pf_deflate *z)
{
	tables_init();
	memset(z->table, 0, sizeof(z->table));
	z->base = 1; /* 0 in the table: no position */
}

/*
 * Positions are stored as base + i, and base moves past each input, so entries left from
 * earlier inputs read as "none" without clearing the table.
 */
int pf_deflate(struct pf_deflate *z, const uint8_t *in, size_t len, struct pf_bytes *out)
{
	struct bitwriter b;
	size_t i = 0, lit = 0, misses = 0;
	uint32_t adler;

	if (len > UINT32_MAX / 2)
		return -E2BIG;
	if (UINT32_MAX - z->base < len)
		pf_deflate_init(z);
	/* worst case: 9 bits a literal, plus header, end code, checksum and a word of slack (the
	 * literals' 8-byte stores) */
	if (pf_bytes_reserve(out, len + len / 8 + 16))
		return -ENOMEM;
	out->p[out->len++] = 0x78; /* deflate, 32 KiB window */
	out->p[out->len++] = 0x01; /* no dictionary, fastest; (0x78 << 8 | 0x01) % 31 == 0 */
	b = (struct bitwriter){ out->p + out->len, 0, 0 };
	put(&b, 1 | 1 << 1, 3); /* BFINAL, BTYPE = 01 (fixed codes) */
	while (i + 8 <= len) {
		uint32_t x = load32(in + i);
		uint32_t h = (x * 2654435761u) >> (32 - PF_DEFLATE_HASH_BITS);
		uint32_t cand = z->table[h];

		z->table[h] = z->base + (uint32_t)i;
		if (cand >= z->base && i - (cand - z->base) <= WINDOW &&
		    load32(in + (cand - z->base)) == x) {
			size_t m = cand - z->base;
			size_t max = len - i < MAX_MATCH ? len - i : MAX_MATCH;
			size_t l = match_len(in, m, i, max);
			struct code lc = length[l], dc = distance((uint32_t)(i - m));

			put_literals(&b, in + lit, i - lit);
			put(&b, lc.bits | (uint64_t)dc.bits << lc.len, lc.len + dc.len);
			i += l;
			lit = i;
			misses = 0;
			continue;
		}
		i += 1 + (misses++ >> SKIP_SHIFT);
	}
	put_literals(&b, in + lit, len - lit);
	put(&b, 0, 7); /* end of block: symbol 256 */
	while (b.n > 0) {
		*b.p++ = (uint8_t)b.acc;
		b.acc >>= 8;
		b.n = b.n > 8 ? b.n - 8 : 0;
	}
	adler = adler32_of(in, len);
	b.p[0] = (uint8_t)(adler >> 24);
	b.p[1] = (uint8_t)(adler >> 16);
	b.p[2] = (uint8_t)(adler >> 8);
	b.p[3] = (uint8_t)adler;
	out->len = (size_t)(b.p + 4 - out->p);
	z->base += (uint32_t)len;
	return 0;
}
