// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Whether code in the target is the code of an object the tree compiled.
 * The differ's objects are built with one function per section, the target
 * was not, and the assembler encodes a branch between two functions of one
 * section (a tail call to a static helper) in its short form, where across
 * sections it leaves a relocated near branch: the same code can differ in
 * length. So on x86_64 both are decoded (capstone) and compared instruction
 * by instruction: relative branches by kind and by where they land, every
 * other instruction byte for byte outside what the linker writes (relocated
 * fields, and the bytes of a GOT load it relaxes). Elsewhere the bytes are
 * compared as they are.
 */
#include <capstone/capstone.h>
#include <stdlib.h>
#include <string.h>

#include "build/differ-int.h"

/* Bytes at and before a relocated field that linking may change. */
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

struct code_side {
	const uint8_t *bytes;
	uint64_t len;
};

/* The object's bytes @off..@off+@len, with a mask of the bytes linking writes. */
static int code_object(const struct kc_objfile_sec *os, uint64_t off, uint64_t len,
		       struct code_side *o, uint8_t **mask, struct kc_err *err)
{
	if (!os->data || off + len > os->data->d_size || off + len < off)
		return kc_err_set(err, -EINVAL, "code outside section '%s'", os->name);
	*mask = calloc(len ? len : 1, 1);
	if (!*mask)
		return kc_err_set(err, -ENOMEM, "out of memory");
	for (size_t k = 0; k < os->nrelas; k++) {
		uint64_t r = os->relas[k].r_offset;
		unsigned before, width;

		code_reloc_span((uint32_t)GELF_R_TYPE(os->relas[k].r_info), &before, &width);
		for (uint64_t j = r >= before ? r - before : 0; j < r + width; j++)
			if (j >= off && j < off + len)
				(*mask)[j - off] = 1;
	}
	o->bytes = (const uint8_t *)os->data->d_buf + off;
	o->len = len;
	return 0;
}

/* Equal outside the mask: 1, else 0 with *at the first difference. */
static int code_bytes_equal(const uint8_t *a, const uint8_t *b, const uint8_t *mask, size_t n,
			    uint64_t base, uint64_t *at)
{
	for (size_t i = 0; i < n; i++)
		if (!mask[i] && a[i] != b[i]) {
			*at = base + i;
			return 0;
		}
	return 1;
}

/* A relative jump or call: its absolute destination in *dest. */
static int code_branch(csh h, const cs_insn *in, uint64_t *dest)
{
	const cs_x86 *x = &in->detail->x86;

	if (!cs_insn_group(h, in, CS_GRP_JUMP) && !cs_insn_group(h, in, CS_GRP_CALL))
		return 0;
	if (x->op_count != 1 || x->operands[0].type != X86_OP_IMM)
		return 0;
	*dest = (uint64_t)x->operands[0].imm;
	return 1;
}

struct code_map {
	uint64_t *obj, *tgt; /* instruction starts, relative to each function */
	size_t n;
	struct {
		uint64_t obj, tgt, at;
	} * land; /* branches inside the function: where each lands */
	size_t nland;
};

static int code_map_has(const struct code_map *m, uint64_t obj, uint64_t tgt)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->obj[i] == obj)
			return m->tgt[i] == tgt;
	return 0;
}

/* Both decoded side by side; 1 the same code, 0 not (*at), < 0 on error. */
static int code_same_x86(const struct code_side *tg, const struct code_side *ob,
			 const uint8_t *mask, uint64_t *at, struct kc_err *err)
{
	struct code_map m = {0};
	cs_insn *ti = NULL, *oi = NULL;
	csh h;
	int ret = 1;

	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
		return kc_err_set(err, -ENOMEM, "cannot open the disassembler");
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	ti = cs_malloc(h);
	oi = cs_malloc(h);
	m.obj = calloc(ob->len + 1, sizeof(*m.obj));
	m.tgt = calloc(ob->len + 1, sizeof(*m.tgt));
	m.land = calloc(ob->len + 1, sizeof(*m.land));
	if (!ti || !oi || !m.obj || !m.tgt || !m.land) {
		ret = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	const uint8_t *tp = tg->bytes, *op = ob->bytes;
	size_t tn = tg->len, on = ob->len;
	uint64_t ta = 0, oa = 0;

	while (tn && on) {
		uint64_t t0 = ta, o0 = oa, td, od;

		m.obj[m.n] = o0;
		m.tgt[m.n++] = t0;
		if (!cs_disasm_iter(h, &tp, &tn, &ta, ti) ||
		    !cs_disasm_iter(h, &op, &on, &oa, oi)) {
			*at = o0;
			ret = 0;
			break;
		}
		int tb = code_branch(h, ti, &td), obr = code_branch(h, oi, &od);
		int relocated = 0;

		for (uint64_t i = o0; i < oa; i++)
			relocated |= mask[i];
		if (tb && obr && ti->id == oi->id) {
			/* a branch out of the function is the linker's; one inside must land alike
			 */
			if (!relocated) {
				m.land[m.nland].obj = od;
				m.land[m.nland].tgt = td;
				m.land[m.nland++].at = o0;
			}
			continue;
		}
		if (ti->size != oi->size ||
		    !code_bytes_equal(ti->bytes, oi->bytes, mask + o0, oi->size, o0, at)) {
			if (ti->size != oi->size)
				*at = o0;
			ret = 0;
			break;
		}
	}
	if (ret == 1 && (tn || on)) {
		*at = oa;
		ret = 0;
	}
	m.obj[m.n] = oa; /* the end is a place a branch may land */
	m.tgt[m.n++] = ta;
	for (size_t i = 0; ret == 1 && i < m.nland; i++)
		if (!code_map_has(&m, m.land[i].obj, m.land[i].tgt)) {
			*at = m.land[i].at;
			ret = 0;
		}
out:
	free(m.obj);
	free(m.tgt);
	free(m.land);
	if (ti)
		cs_free(ti, 1);
	if (oi)
		cs_free(oi, 1);
	cs_close(&h);
	return ret;
}

int kc_diff_code_same(const struct kc_target *t, uint64_t vaddr, uint64_t tlen,
		      const struct kc_objfile_sec *os, uint64_t off, uint64_t len, uint64_t *at,
		      struct kc_err *err)
{
	struct code_side ob = {0}, tg = {0};
	uint8_t *mask = NULL, *buf = NULL;
	GElf_Ehdr eh;
	int ret;

	if ((ret = code_object(os, off, len, &ob, &mask, err)) < 0)
		return ret;
	buf = malloc(tlen ? tlen : 1);
	if (!buf) {
		ret = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if ((ret = kc_target_read(t, vaddr, buf, tlen, err)) < 0)
		goto out;
	tg.bytes = buf;
	tg.len = tlen;
	if (gelf_getehdr(t->elf, &eh) && eh.e_machine == EM_X86_64) {
		ret = code_same_x86(&tg, &ob, mask, at, err);
	} else if (tlen != len) {
		*at = tlen < len ? tlen : len;
		ret = 0;
	} else {
		ret = code_bytes_equal(tg.bytes, ob.bytes, mask, len, 0, at);
	}
out:
	free(buf);
	free(mask);
	return ret;
}
