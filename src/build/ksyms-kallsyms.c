// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vmlinux's own symbol table: Debian ships a stub System.map and a
 * stripped vmlinux, but the kernel carries kallsyms, which is also the
 * order livepatch counts sympos in. scripts/kallsyms emits, each label
 * 8-aligned: kallsyms_offsets[N] (s32), kallsyms_relative_base (u64),
 * kallsyms_num_syms (u32), kallsyms_names (length-prefixed token
 * strings, length in one byte or two when >= 0x80), kallsyms_markers
 * (u32 or u64 per 256 names), optionally kallsyms_seqs_of_names (3 bytes
 * per name, kernels with kallsyms_on_each_match_symbol), then
 * kallsyms_token_table (256 C strings) and kallsyms_token_index (u16).
 * The token table is found by its single-character digit tokens, and the
 * rest by walking back from it until every size agrees. Only reads the
 * buffer it is given; finding .rodata is ksyms-image.c's job.
 */
#include <stdint.h>
#include <string.h>

#include "build/ksyms-image.h"

#define KALLSYMS_MAX_SYMS (4u << 20)
#define KALLSYMS_MAX_BACK (64u << 20)

struct kallsyms_layout {
	size_t offsets, names, tokens, index;
	uint32_t n;
	uint64_t base;
};

static size_t kallsyms_align8(size_t x)
{
	return (x + 7) & ~(size_t)7;
}

static uint16_t kallsyms_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t kallsyms_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t kallsyms_u64(const uint8_t *p)
{
	return kallsyms_u32(p) | (uint64_t)kallsyms_u32(p + 4) << 32;
}

/*
 * The token table whose tokens 0x30..0x39 are the digits at @digits: the
 * start of token 0 in *tt and of the index in *ti, or -1 when the index
 * after it does not list the tokens' offsets.
 */
static int kallsyms_token_table(const uint8_t *b, size_t len, size_t digits, size_t *tt, size_t *ti)
{
	size_t p = digits, q;

	for (int k = 0; k < 0x30; k++) {
		/* p is the start of token k+1; the previous token ends at p - 1 */
		if (p < 2)
			return -1;
		q = p - 2;
		while (q > 0 && b[q - 1])
			q--;
		if (b[q] == 0)
			return -1;
		p = q;
	}
	if (p % 8)
		return -1;
	q = p;
	for (int k = 0; k < 256; k++) {
		const uint8_t *nul = memchr(b + q, 0, len - q);

		if (!nul || nul == b + q)
			return -1;
		q = (size_t)(nul - b) + 1;
		if (q >= len)
			return -1;
	}
	*ti = kallsyms_align8(q);
	if (*ti + 512 > len)
		return -1;
	q = p;
	for (int k = 0; k < 256; k++) {
		if (kallsyms_u16(b + *ti + 2 * k) != q - p)
			return -1;
		q += strlen((const char *)b + q) + 1;
	}
	*tt = p;
	return 0;
}

/* Walks @n names from @names; the offset just past them, or 0 if they overrun @limit. */
static size_t kallsyms_walk(const uint8_t *b, size_t names, uint32_t n, size_t limit)
{
	size_t q = names;

	for (uint32_t i = 0; i < n; i++) {
		size_t l;

		if (q >= limit)
			return 0;
		l = b[q++];
		if (l & 0x80) {
			if (q >= limit)
				return 0;
			l = (l & 0x7f) | (size_t)b[q++] << 7;
		}
		if (!l || l > limit - q)
			return 0;
		q += l;
	}
	return q;
}

/* Does a table of @n names at @names end where the markers (and seqs) meet the tokens at @tt? */
static int kallsyms_fits(const uint8_t *b, size_t names, uint32_t n, size_t tt)
{
	size_t end = kallsyms_walk(b, names, n, tt), markers, nm = (n + 255) / 256;

	if (!end)
		return 0;
	markers = kallsyms_align8(end);
	if (markers + 4 > tt || kallsyms_u32(b + markers))
		return 0;
	for (size_t w = 4; w <= 8; w += 4) {
		size_t after = kallsyms_align8(markers + nm * w);

		if (after == tt || kallsyms_align8(after + 3 * (size_t)n) == tt)
			return 1;
	}
	return 0;
}

static int kallsyms_locate(const uint8_t *b, size_t len, uint64_t text_base,
			   struct kallsyms_layout *L)
{
	static const char digits[] = "0\0001\0002\0003\0004\0005\0006\0007\0008\0009";
	const uint8_t *hit = b;

	while ((hit = memmem(hit, len - (size_t)(hit - b), digits, sizeof(digits))) != NULL) {
		size_t tt, ti, lo, at = (size_t)(hit - b);

		hit++;
		if (kallsyms_token_table(b, len, at, &tt, &ti) < 0)
			continue;
		lo = tt > KALLSYMS_MAX_BACK ? tt - KALLSYMS_MAX_BACK : 0;
		for (size_t p = tt >= 16 ? ((tt - 16) & ~(size_t)7) : 0; p >= lo && p + 16 <= tt;
		     p -= 8) {
			uint64_t base = kallsyms_u64(b + p);
			uint32_t n = kallsyms_u32(b + p + 8);

			if ((text_base ? base == text_base : base >> 31 == 0x1ffffffffULL) && n &&
			    n <= KALLSYMS_MAX_SYMS && kallsyms_align8((size_t)n * 4) <= p &&
			    kallsyms_fits(b, p + 16, n, tt)) {
				L->offsets = p - kallsyms_align8((size_t)n * 4);
				L->names = p + 16;
				L->tokens = tt;
				L->index = ti;
				L->n = n;
				L->base = base;
				return 0;
			}
			if (p < 8)
				break;
		}
	}
	return -1;
}

int kc_kallsyms_decode(const uint8_t *b, size_t len, uint64_t text_base, struct kc_ksyms *t,
		       struct kc_err *err)
{
	struct kallsyms_layout L;
	size_t q;

	if (kallsyms_locate(b, len, text_base, &L) < 0)
		return kc_err_set(err, -ENOENT, "no kallsyms table found");
	q = L.names;
	for (uint32_t i = 0; i < L.n; i++) {
		char name[1024];
		size_t l = b[q++], o = 0;
		int32_t off = (int32_t)kallsyms_u32(b + L.offsets + 4 * (size_t)i);
		uint64_t addr;

		if (l & 0x80)
			l = (l & 0x7f) | (size_t)b[q++] << 7;
		for (size_t k = 0; k < l; k++) {
			const char *tok = (const char *)b + L.tokens +
					  kallsyms_u16(b + L.index + 2 * (size_t)b[q + k]);
			size_t tl = strlen(tok);

			if (o + tl >= sizeof(name))
				return kc_err_set(err, -E2BIG, "kallsyms: symbol %u too long", i);
			memcpy(name + o, tok, tl);
			o += tl;
		}
		q += l;
		name[o] = 0;
		if (o < 2)
			return kc_err_set(err, -EINVAL, "kallsyms: symbol %u has no name", i);
		/* x86_64 keeps per-cpu symbols absolute (CONFIG_KALLSYMS_ABSOLUTE_PERCPU) */
		addr = off >= 0 ? (uint64_t)off : L.base - 1 - (uint64_t)(int64_t)off;
		if (kc_ksyms_add(t, name + 1, name[0], addr, 0) < 0)
			return kc_err_set(err, -ENOMEM, "out of memory");
	}
	if (kc_ksyms_sort(t) < 0)
		return kc_err_set(err, -ENOMEM, "out of memory");
	return 0;
}
