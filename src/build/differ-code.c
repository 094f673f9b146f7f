// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Whether code in the target is the code of an object the tree compiled:
 * the same bytes, except where the linker writes (the fields relocations
 * fill, and the instruction bytes it may rewrite when it relaxes a GOT
 * load). Used to tell which of several objects of one name is linked into
 * the target, and that a function about to be replaced is the one the
 * sources compile to.
 */
#include <stdlib.h>

#include "build/differ-int.h"

/* Bytes at and before the field that linking may change, for one relocation type. */
static void code_reloc_span(uint32_t type, unsigned *before, unsigned *width)
{
	*before = 0;
	switch (type) {
	case R_X86_64_NONE:
		*width = 0;
		break;
	case R_X86_64_64:
	case R_X86_64_PC64:
	case R_X86_64_DTPOFF64:
	case R_X86_64_TPOFF64:
	case R_X86_64_SIZE64:
		*width = 8;
		break;
	case R_X86_64_GOTPCRELX:
	case R_X86_64_REX_GOTPCRELX:
	case R_X86_64_GOTTPOFF:
		/* mov/call/jmp through the GOT may become lea/addr32 call/mov $imm: REX, opcode,
		 * ModRM */
		*before = 3;
		*width = 4;
		break;
	default:
		*width = 4;
		break;
	}
}

int kc_diff_code_same(const struct kc_target *t, uint64_t vaddr, const struct kc_objfile_sec *os,
		      uint64_t off, uint64_t len, uint64_t *at, struct kc_err *err)
{
	uint8_t *buf, *mask;
	int ret = 1;

	if (!os->data || off + len > os->data->d_size || off + len < off)
		return kc_err_set(err, -EINVAL, "code outside section '%s'", os->name);
	buf = malloc(len ? len : 1);
	mask = calloc(len ? len : 1, 1);
	if (!buf || !mask) {
		ret = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if ((ret = kc_target_read(t, vaddr, buf, len, err)) < 0)
		goto out;
	ret = 1;
	for (size_t k = 0; k < os->nrelas; k++) {
		uint64_t r = os->relas[k].r_offset;
		unsigned before, width;

		code_reloc_span((uint32_t)GELF_R_TYPE(os->relas[k].r_info), &before, &width);
		for (uint64_t j = r >= before ? r - before : 0; j < r + width; j++)
			if (j >= off && j < off + len)
				mask[j - off] = 1;
	}
	for (uint64_t i = 0; i < len; i++)
		if (!mask[i] && buf[i] != ((const uint8_t *)os->data->d_buf)[off + i]) {
			*at = i;
			ret = 0;
			break;
		}
out:
	free(buf);
	free(mask);
	return ret;
}
