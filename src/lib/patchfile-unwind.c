// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The unwind table of a patch (format version 2, see patchfmt.h): the
 * rules its CIEs follow, shared by the packer that builds the table and
 * the validator that accepts it. The table is read in the target by the
 * engine's unwinder to decide whether a thread may be moved out of patch
 * code, so a table that lies could make a busy thread look idle: every
 * FDE the search table names is checked to be what the entry says.
 */
#include <string.h>

#include "kcare/patch.h"
#include "lib/patchfile.h"

static int32_t pfu_s32(const uint8_t *b)
{
	int32_t v;

	memcpy(&v, b, sizeof(v));
	return v;
}

/* Skips one LEB128 number in [*pos, end); false if it runs past @end. */
static bool pfu_skip_leb(const uint8_t *b, size_t *pos, size_t end)
{
	while (*pos < end)
		if (!(b[(*pos)++] & 0x80))
			return true;
	return false;
}

bool kc_pf_cie_supported(const uint8_t *e, size_t avail)
{
	const char *aug;
	size_t end, pos, auglen;
	uint32_t len;
	uint8_t version;

	if (avail < 4)
		return false;
	len = kc_pf_get32(e);
	/* 0 ends a table, 0xffffffff announces 64-bit DWARF: neither is a CIE here */
	if (len < 6 || len == 0xffffffffu || len > avail - 4)
		return false;
	end = 4 + (size_t)len;
	if (kc_pf_get32(e + 4) != 0)
		return false;
	version = e[8];
	if (version != 1 && version != 3)
		return false;
	aug = (const char *)e + 9;
	auglen = strnlen(aug, end - 9);
	if (9 + auglen >= end || aug[0] != 'z' || auglen < 2)
		return false;
	pos = 9 + auglen + 1;
	/* code alignment, data alignment, return address register */
	if (!pfu_skip_leb(e, &pos, end) || !pfu_skip_leb(e, &pos, end))
		return false;
	if (version == 1)
		pos++;
	else if (!pfu_skip_leb(e, &pos, end))
		return false;
	if (pos >= end || !pfu_skip_leb(e, &pos, end))
		return false; /* augmentation data length */
	/* 'R' with the one pointer encoding the table uses; 'S' (signal frame) carries no data */
	for (size_t i = 1; i < auglen; i++) {
		if (aug[i] == 'S')
			continue;
		if (aug[i] != 'R' || pos >= end || e[pos++] != KC_PF_EH_PE_PCREL_S4)
			return false;
	}
	return pos <= end;
}

/* The FDE at table offset @fde for code at image offset @pc: checked against the search entry. */
static int pfu_check_fde(const struct kc_patch *p, const uint8_t *t, uint64_t eh, uint64_t size,
			 uint64_t fde, uint64_t pc, int code, struct kc_err *err)
{
	uint64_t len, cie_ptr, cie;

	if (fde < eh || fde > size - 4 - 16)
		return kc_err_set(err, code, "unwind table: FDE offset %#llx outside the table",
				  (unsigned long long)fde);
	len = kc_pf_get32(t + fde);
	cie_ptr = kc_pf_get32(t + fde + 4);
	if (len < 12 || len > size - 4 - fde - 4)
		return kc_err_set(err, code, "unwind table: FDE at %#llx has a bad length",
				  (unsigned long long)fde);
	cie = fde + 4 - cie_ptr;
	if (cie_ptr <= 4 || cie_ptr > fde + 4 - eh || !kc_pf_cie_supported(t + cie, fde - cie))
		return kc_err_set(err, code, "unwind table: FDE at %#llx has no usable CIE",
				  (unsigned long long)fde);
	if ((int64_t)(fde + 8) + pfu_s32(t + fde + 8) != (int64_t)(pc - p->unwind_off))
		return kc_err_set(err, code,
				  "unwind table: FDE at %#llx does not start where its entry says",
				  (unsigned long long)fde);
	if (kc_pf_get32(t + fde + 12) == 0 || kc_pf_get32(t + fde + 12) > p->text_size - pc)
		return kc_err_set(err, code, "unwind table: FDE at %#llx covers more than text",
				  (unsigned long long)fde);
	return 0;
}

int kc_patch_check_unwind(const struct kc_patch *p, int code, struct kc_err *err)
{
	uint64_t off = p->unwind_off, size = p->unwind_size, count, eh;
	uint64_t rodata_end = (uint64_t)p->rodata_off + p->rodata_size;
	int64_t prev = -1;
	const uint8_t *t;

	if (!size)
		return off ? kc_err_set(err, code, "unwind table offset without a size") : 0;
	if (off % 4 || off < p->rodata_off || off > rodata_end || size > rodata_end - off ||
	    size < KC_PF_EH_HDR_SIZE + 8 + 4 + 16)
		return kc_err_set(err, code, "unwind table [%#llx, +%#llx) is not inside rodata",
				  (unsigned long long)off, (unsigned long long)size);
	t = p->image + off;
	if (t[0] != KC_PF_EH_HDR_VERSION || t[1] != KC_PF_EH_PE_PCREL_S4 ||
	    t[2] != KC_PF_EH_PE_UDATA4 || t[3] != KC_PF_EH_PE_DATAREL_S4)
		return kc_err_set(err, code, "unwind table: unsupported header");
	count = kc_pf_get32(t + 8);
	if (count == 0 || count > (size - KC_PF_EH_HDR_SIZE) / 8)
		return kc_err_set(err, code, "unwind table: bad entry count %llu",
				  (unsigned long long)count);
	eh = KC_PF_EH_HDR_SIZE + 8 * count;
	if ((int64_t)4 + pfu_s32(t + 4) != (int64_t)eh || eh + 4 + 16 > size)
		return kc_err_set(err, code,
				  "unwind table: the frame entries do not follow the search table");
	if (kc_pf_get32(t + size - 4) != 0)
		return kc_err_set(err, code, "unwind table: no terminator");
	/* nothing relocates it: it is position-independent as packed */
	for (size_t i = 0; i < p->nrelocs; i++)
		if (p->relocs[i].offset + 8 > off && p->relocs[i].offset < off + size)
			return kc_err_set(err, code, "relocation %zu lies in the unwind table", i);
	for (uint64_t i = 0; i < count; i++) {
		int64_t loc = (int64_t)off + pfu_s32(t + KC_PF_EH_HDR_SIZE + 8 * i);
		int64_t fde = pfu_s32(t + KC_PF_EH_HDR_SIZE + 8 * i + 4);
		int ret;

		if (loc < 0 || loc >= (int64_t)p->text_size || loc <= prev)
			return kc_err_set(
			    err, code, "unwind table: entry %llu is outside text or out of order",
			    (unsigned long long)i);
		if (fde < 0)
			return kc_err_set(err, code, "unwind table: entry %llu has a bad FDE",
					  (unsigned long long)i);
		ret = pfu_check_fde(p, t, eh, size, (uint64_t)fde, (uint64_t)loc, code, err);
		if (ret < 0)
			return ret;
		prev = loc;
	}
	return 0;
}
