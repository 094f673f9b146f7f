// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The padding after a short function, and whether the entry jump may use
 * it. The checks look for every way the bytes could be reached other than
 * by falling off the function's end (which its last instruction rules out):
 * a symbol there, a relocation that writes them or holds their address, an
 * instruction of the target that branches into them or computes their
 * address (the whole code of the target is decoded, linearly, section by
 * section), and in a position-dependent executable any data word equal to
 * their address (it needs no relocation). The bytes themselves must decode
 * as no-ops or int3. A jump table of the function itself is not a concern:
 * a function of fewer than 5 bytes has no room for an indirect jump.
 */
#include <capstone/capstone.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build/pad.h"

struct pad {
	const struct kc_target *t;
	const char *name;
	uint64_t value, size, need;
	csh cs;
	cs_insn *in;
	struct kc_err *err;
};

/* The bytes the jump changes besides the entry: [value + 1, value + need). */
static int pad_hit(const struct pad *p, uint64_t addr)
{
	return addr > p->value && addr < p->value + p->need;
}

/* The refusal: the callee's reason after what was refused. */
static int pad_context(const struct pad *p)
{
	return p->err ? kc_err_prefix(
			    p->err,
			    "function '%s' is too short for the entry jump (%llu < %llu bytes)",
			    p->name, (unsigned long long)p->size, (unsigned long long)p->need)
		      : -ENOEXEC;
}

#define pad_refuse(p, ...) (kc_err_set((p)->err, -ENOEXEC, __VA_ARGS__), pad_context(p))

/* The executable section that holds the whole jump, or NULL. */
static Elf_Scn *pad_section(const struct pad *p, GElf_Shdr *sh)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(p->t->elf, scn)) != NULL)
		if (gelf_getshdr(scn, sh) && sh->sh_type == SHT_PROGBITS &&
		    (sh->sh_flags & SHF_EXECINSTR) && p->value >= sh->sh_addr &&
		    p->value < sh->sh_addr + sh->sh_size)
			return p->value + p->need <= sh->sh_addr + sh->sh_size ? scn : NULL;
	return NULL;
}

static int pad_stops(const cs_insn *in)
{
	switch (in->id) {
	case X86_INS_RET:
	case X86_INS_RETF:
	case X86_INS_JMP:
	case X86_INS_LJMP:
	case X86_INS_UD2:
	case X86_INS_HLT:
	case X86_INS_INT3:
	case X86_INS_CALL: /* a call that returns would run the padding: only noreturn ones end code
			    */
		return 1;
	default:
		return 0;
	}
}

/* The function ends in an instruction that does not fall through, then no-ops. */
static int pad_bytes(struct pad *p, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	uint64_t off = p->value - sh->sh_addr, end = sh->sh_size, addr = p->value;
	const uint8_t *code;
	size_t left;
	int last_stops = 0;

	if (!d || d->d_size < end)
		return pad_refuse(p, "its section cannot be read");
	code = (const uint8_t *)d->d_buf + off;
	left = end - off;
	while (addr < p->value + p->size) {
		if (!cs_disasm_iter(p->cs, &code, &left, &addr, p->in))
			return pad_refuse(p, "its code does not decode at +%llu",
					  (unsigned long long)(addr - p->value));
		last_stops = pad_stops(p->in);
	}
	if (addr != p->value + p->size)
		return pad_refuse(p, "its last instruction runs past its end");
	if (!last_stops)
		return pad_refuse(p, "its last instruction falls through into the bytes after it");
	while (addr < p->value + p->need) {
		uint64_t at = addr - p->value;

		if (!cs_disasm_iter(p->cs, &code, &left, &addr, p->in) ||
		    (p->in->id != X86_INS_NOP && p->in->id != X86_INS_INT3))
			return pad_refuse(p, "the bytes at +%llu are not padding",
					  (unsigned long long)at);
	}
	return 0;
}

static int pad_syms_of(struct pad *p, Elf *elf, uint32_t type)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	Elf_Data *d;

	while ((scn = elf_nextscn(elf, scn)) != NULL)
		if (gelf_getshdr(scn, &sh) && sh.sh_type == type)
			break;
	if (!scn || !(d = elf_getdata(scn, NULL)))
		return 0;
	for (size_t i = 1; i < sh.sh_size / sizeof(Elf64_Sym); i++) {
		GElf_Sym s;
		unsigned char st;
		uint64_t pad_lo = p->value + p->size, pad_hi = p->value + p->need;
		const char *nm;

		if (!gelf_getsym(d, (int)i, &s) || s.st_shndx == SHN_UNDEF ||
		    s.st_shndx >= SHN_LORESERVE)
			continue;
		st = GELF_ST_TYPE(s.st_info);
		if (st == STT_SECTION || st == STT_FILE || st == STT_TLS)
			continue;
		nm = elf_strptr(elf, sh.sh_link, s.st_name);
		nm = nm && *nm ? nm : "(unnamed)";
		if (pad_hit(p, s.st_value))
			return s.st_value >= pad_lo
				   ? pad_refuse(p, "it is followed by symbol '%s' at +%llu", nm,
						(unsigned long long)(s.st_value - p->value))
				   : pad_refuse(p, "symbol '%s' starts at +%llu", nm,
						(unsigned long long)(s.st_value - p->value));
		if (s.st_value <= p->value && s.st_value + s.st_size > pad_lo &&
		    s.st_value < pad_hi)
			return pad_refuse(p, "symbol '%s' covers the bytes after it", nm);
	}
	return 0;
}

/* Relocations of the target (dynamic ones, and static ones kept by --emit-relocs). */
static int pad_relocs(struct pad *p)
{
	Elf *elf = p->t->elf;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		Elf_Data *d, *sd = NULL;
		GElf_Shdr ssh;
		Elf_Scn *sscn;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA ||
		    !(d = elf_getdata(scn, NULL)))
			continue;
		sscn = elf_getscn(elf, sh.sh_link);
		if (sscn && gelf_getshdr(sscn, &ssh) &&
		    (ssh.sh_type == SHT_SYMTAB || ssh.sh_type == SHT_DYNSYM))
			sd = elf_getdata(sscn, NULL);
		for (size_t i = 0; i < sh.sh_size / sizeof(Elf64_Rela); i++) {
			GElf_Rela r;
			GElf_Sym s;
			uint64_t to;
			uint32_t type, sym;

			if (!gelf_getrela(d, (int)i, &r))
				continue;
			/* any field touching the jump's bytes, entry included: the jump would be
			 * overwritten */
			if (r.r_offset < p->value + p->need && r.r_offset + 8 > p->value)
				return pad_refuse(p, "the relocation at %#llx writes its bytes",
						  (unsigned long long)r.r_offset);
			type = (uint32_t)GELF_R_TYPE(r.r_info);
			sym = (uint32_t)GELF_R_SYM(r.r_info);
			if (sym == 0)
				to = (uint64_t)r.r_addend;
			else if (sd && gelf_getsym(sd, (int)sym, &s) && s.st_shndx != SHN_UNDEF &&
				 GELF_ST_TYPE(s.st_info) != STT_TLS)
				to = s.st_value + (uint64_t)r.r_addend;
			else
				continue;
			if (type != R_X86_64_NONE && pad_hit(p, to))
				return pad_refuse(p, "the relocation at %#llx refers to +%llu",
						  (unsigned long long)r.r_offset,
						  (unsigned long long)(to - p->value));
		}
	}
	return 0;
}

/* An address one instruction jumps to, calls, or computes. */
static int pad_insn(struct pad *p, int exec)
{
	const cs_x86 *x = &p->in->detail->x86;
	int branch = cs_insn_group(p->cs, p->in, CS_GRP_JUMP) ||
		     cs_insn_group(p->cs, p->in, CS_GRP_CALL) ||
		     cs_insn_group(p->cs, p->in, CS_GRP_BRANCH_RELATIVE);

	for (uint8_t k = 0; k < x->op_count; k++) {
		const cs_x86_op *op = &x->operands[k];
		uint64_t to;

		if (op->type == X86_OP_IMM && (branch || exec))
			to = (uint64_t)op->imm;
		else if (op->type == X86_OP_MEM && op->mem.base == X86_REG_RIP)
			to = p->in->address + p->in->size + (uint64_t)op->mem.disp;
		else if (op->type == X86_OP_MEM && exec && op->mem.base == X86_REG_INVALID &&
			 op->mem.index == X86_REG_INVALID)
			to = (uint64_t)op->mem.disp;
		else
			continue;
		if (!pad_hit(p, to))
			continue;
		return branch ? pad_refuse(p, "a branch at %#llx lands at +%llu",
					   (unsigned long long)p->in->address,
					   (unsigned long long)(to - p->value))
			      : pad_refuse(p, "the instruction at %#llx refers to +%llu",
					   (unsigned long long)p->in->address,
					   (unsigned long long)(to - p->value));
	}
	return 0;
}

/* Every executable section, decoded linearly; an undecodable byte is skipped. */
static int pad_code(struct pad *p)
{
	int exec = p->t->eh.e_type == ET_EXEC;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	int ret;

	while ((scn = elf_nextscn(p->t->elf, scn)) != NULL) {
		Elf_Data *d;
		const uint8_t *code;
		size_t left;
		uint64_t addr;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    !(sh.sh_flags & SHF_EXECINSTR) || !(d = elf_getdata(scn, NULL)))
			continue;
		code = d->d_buf;
		left = d->d_size < sh.sh_size ? d->d_size : sh.sh_size;
		addr = sh.sh_addr;
		while (left) {
			if (!cs_disasm_iter(p->cs, &code, &left, &addr, p->in)) {
				code++;
				left--;
				addr++;
				continue;
			}
			if ((ret = pad_insn(p, exec)) < 0)
				return ret;
		}
	}
	return 0;
}

/* Pointers in the data of a position-dependent executable carry no relocation. */
static int pad_data(struct pad *p)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	if (p->t->eh.e_type != ET_EXEC)
		return 0;
	while ((scn = elf_nextscn(p->t->elf, scn)) != NULL) {
		Elf_Data *d;
		const uint8_t *b;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    !(sh.sh_flags & SHF_ALLOC) || (sh.sh_flags & SHF_EXECINSTR) ||
		    !(d = elf_getdata(scn, NULL)))
			continue;
		b = d->d_buf;
		for (size_t off = 0; off + 4 <= d->d_size; off += 4) {
			uint32_t w;

			memcpy(&w, b + off, 4); /* a 64-bit pointer there has its upper half 0 */
			if (pad_hit(p, w))
				return pad_refuse(p, "data at %#llx refers to +%llu",
						  (unsigned long long)(sh.sh_addr + off),
						  (unsigned long long)(w - p->value));
		}
	}
	return 0;
}

int kc_pad_check(const struct kc_target *t, const char *name, uint64_t value, uint64_t size,
		 uint64_t need, struct kc_err *err)
{
	struct pad p = {
	    .t = t, .name = name, .value = value, .size = size, .need = need, .err = err};
	GElf_Shdr sh;
	Elf_Scn *scn;
	int ret;

	if (t->eh.e_machine != EM_X86_64)
		return pad_refuse(&p, "padding is only understood on x86_64");
	scn = pad_section(&p, &sh);
	if (!scn)
		return pad_refuse(&p, "it ends its section");
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &p.cs) != CS_ERR_OK)
		return kc_err_set(err, -ENOMEM, "cannot open the disassembler");
	cs_option(p.cs, CS_OPT_DETAIL, CS_OPT_ON);
	p.in = cs_malloc(p.cs);
	if (!p.in)
		ret = kc_err_set(err, -ENOMEM, "out of memory");
	else if ((ret = pad_syms_of(&p, t->elf, SHT_SYMTAB)) == 0 &&
		 (ret = pad_syms_of(&p, t->elf, SHT_DYNSYM)) == 0 &&
		 (!t->dbg || (ret = pad_syms_of(&p, t->dbg, SHT_SYMTAB)) == 0) &&
		 (ret = pad_bytes(&p, scn, &sh)) == 0 && (ret = pad_relocs(&p)) == 0 &&
		 (ret = pad_code(&p)) == 0)
		ret = pad_data(&p);
	if (p.in)
		cs_free(p.in, 1);
	cs_close(&p.cs);
	return ret;
}
