// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Which implementations an IFUNC resolver can return, found by following
 * its code rather than by names: glibc's resolvers (and GCC's for
 * target_clones) load the CPU features, compare, and return one of a few
 * addresses they compute with RIP-relative lea (or load from a GOT slot
 * whose relocation names a function of the target), moved and
 * conditionally moved between registers. Each path through the resolver is followed with
 * what every general register holds: a set of such addresses, or "other".
 * A path that returns "other" (a pointer loaded from memory, as time()'s
 * resolver returns the vDSO's; the result of a call; arithmetic) makes the
 * whole set unknowable, and the fix is refused rather than leave an
 * implementation unpatched. The stack is not followed: a value pushed and
 * popped is "other" too.
 */
#include <capstone/capstone.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build/ifunc.h"

#define IF_OTHER   (1ull << 63) /* a register value we cannot name */
#define IF_NREGS   16
#define IF_MAXSTEP 20000u /* instructions followed over all paths */
#define IF_MAXPATH 256u	  /* pending branches */
#define IF_RAX	   0

struct ifn_state {
	uint64_t pc;
	uint64_t reg[IF_NREGS]; /* bit k: candidate k; IF_OTHER: anything else */
};

struct ifn {
	const struct kc_target *t;
	const struct kc_target_sym *ifunc;
	csh cs;
	cs_insn *in;
	const uint8_t *code; /* the resolver's bytes, [lo, hi) */
	uint64_t lo, hi;
	uint64_t cand[KC_IFUNC_MAX];
	size_t ncand;
	uint64_t returned; /* candidates some path returns */
	struct kc_err *err;
};

/* The refusal: the callee's reason after the IFUNC's name. */
static int ifn_context(const struct ifn *f)
{
	return f->err ? kc_err_prefix(f->err, "'%s' is an IFUNC in %s", f->ifunc->name,
				      kc_target_name(f->t))
		      : -ENOEXEC;
}

#define ifn_refuse(f, ...) (kc_err_set((f)->err, -ENOEXEC, __VA_ARGS__), ifn_context(f))

/* The 64-bit register a register name is part of: 0 rax ... 15 r15, or -1. */
static int ifn_family(csh h, unsigned reg, int *full)
{
	static const char *const fam[IF_NREGS][5] = {
	    {"rax", "eax", "ax", "al", "ah"}, {"rcx", "ecx", "cx", "cl", "ch"},
	    {"rdx", "edx", "dx", "dl", "dh"}, {"rbx", "ebx", "bx", "bl", "bh"},
	    {"rsp", "esp", "sp", "spl"},      {"rbp", "ebp", "bp", "bpl"},
	    {"rsi", "esi", "si", "sil"},      {"rdi", "edi", "di", "dil"},
	    {"r8", "r8d", "r8w", "r8b"},      {"r9", "r9d", "r9w", "r9b"},
	    {"r10", "r10d", "r10w", "r10b"},  {"r11", "r11d", "r11w", "r11b"},
	    {"r12", "r12d", "r12w", "r12b"},  {"r13", "r13d", "r13w", "r13b"},
	    {"r14", "r14d", "r14w", "r14b"},  {"r15", "r15d", "r15w", "r15b"},
	};
	const char *n = cs_reg_name(h, reg);

	for (int i = 0; n && i < IF_NREGS; i++)
		for (int k = 0; k < 5 && fam[i][k]; k++)
			if (!strcmp(n, fam[i][k])) {
				if (full)
					*full = k == 0;
				return i;
			}
	return -1;
}

/* Inside one executable section of the target: where an implementation can be. */
static int ifn_is_code(const struct ifn *f, uint64_t addr)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(f->t->elf, scn)) != NULL)
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_PROGBITS &&
		    (sh.sh_flags & SHF_EXECINSTR) && addr >= sh.sh_addr &&
		    addr < sh.sh_addr + sh.sh_size)
			return 1;
	return 0;
}

/* The set holding only the code address @addr, or IF_OTHER. */
static uint64_t ifn_value(struct ifn *f, uint64_t addr)
{
	if (!ifn_is_code(f, addr))
		return IF_OTHER;
	for (size_t k = 0; k < f->ncand; k++)
		if (f->cand[k] == addr)
			return 1ull << k;
	if (f->ncand == KC_IFUNC_MAX)
		return IF_OTHER;
	f->cand[f->ncand] = addr;
	return 1ull << f->ncand++;
}

/*
 * A GOT slot the resolver loads: the code address its relocation puts
 * there, or IF_OTHER. (A preemptible symbol's slot may be bound to another
 * object's definition in a process: that one is not ours to replace.)
 */
static uint64_t ifn_got(struct ifn *f, uint64_t slot)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(f->t->elf, scn)) != NULL) {
		Elf_Data *d, *sd;
		Elf_Scn *sscn;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA ||
		    !(sh.sh_flags & SHF_ALLOC) || !(d = elf_getdata(scn, NULL)))
			continue;
		sscn = elf_getscn(f->t->elf, sh.sh_link);
		sd = sscn ? elf_getdata(sscn, NULL) : NULL;
		for (size_t i = 0; i < sh.sh_size / sizeof(Elf64_Rela); i++) {
			GElf_Rela r;
			GElf_Sym sym;
			uint32_t type;

			if (!gelf_getrela(d, (int)i, &r) || r.r_offset != slot)
				continue;
			type = (uint32_t)GELF_R_TYPE(r.r_info);
			if (type == R_X86_64_RELATIVE)
				return ifn_value(f, (uint64_t)r.r_addend);
			if ((type == R_X86_64_GLOB_DAT || type == R_X86_64_64) && sd &&
			    gelf_getsym(sd, (int)GELF_R_SYM(r.r_info), &sym) &&
			    sym.st_shndx != SHN_UNDEF && GELF_ST_TYPE(sym.st_info) == STT_FUNC)
				return ifn_value(f, sym.st_value + (uint64_t)r.r_addend);
			return IF_OTHER;
		}
	}
	return IF_OTHER;
}

static void ifn_clobber_call(struct ifn_state *s)
{
	static const int caller_saved[] = {0, 1, 2, 6, 7, 8, 9, 10, 11};

	for (size_t i = 0; i < sizeof(caller_saved) / sizeof(caller_saved[0]); i++)
		s->reg[caller_saved[i]] = IF_OTHER;
}

/* Every register the instruction writes holds "other" afterwards. */
static void ifn_clobber(struct ifn *f, struct ifn_state *s)
{
	cs_regs rd, wr;
	uint8_t nrd = 0, nwr = 0;

	if (cs_regs_access(f->cs, f->in, rd, &nrd, wr, &nwr) != CS_ERR_OK) {
		for (int i = 0; i < IF_NREGS; i++)
			s->reg[i] = IF_OTHER;
		return;
	}
	for (uint8_t i = 0; i < nwr; i++) {
		int r = ifn_family(f->cs, wr[i], NULL);

		if (r >= 0)
			s->reg[r] = IF_OTHER;
	}
}

/* What a data instruction does to the registers we follow. */
static void ifn_data(struct ifn *f, struct ifn_state *s)
{
	const cs_x86 *x = &f->in->detail->x86;
	const cs_x86_op *d = &x->operands[0], *src = &x->operands[1];
	int full = 0,
	    dst = x->op_count == 2 && d->type == X86_OP_REG ? ifn_family(f->cs, d->reg, &full) : -1;
	int exec = f->t->eh.e_type == ET_EXEC;

	if (dst < 0 || !full) {
		ifn_clobber(f, s);
		return;
	}
	if (f->in->id == X86_INS_LEA && src->type == X86_OP_MEM && src->mem.base == X86_REG_RIP &&
	    src->mem.index == X86_REG_INVALID) {
		s->reg[dst] = ifn_value(f, f->in->address + f->in->size + (uint64_t)src->mem.disp);
	} else if (f->in->id == X86_INS_MOV && src->type == X86_OP_MEM &&
		   src->mem.base == X86_REG_RIP && src->mem.index == X86_REG_INVALID) {
		s->reg[dst] = ifn_got(f, f->in->address + f->in->size + (uint64_t)src->mem.disp);
	} else if ((f->in->id == X86_INS_MOV || f->in->id == X86_INS_MOVABS) &&
		   src->type == X86_OP_REG) {
		int r = ifn_family(f->cs, src->reg, &full);

		s->reg[dst] = r >= 0 && full ? s->reg[r] : IF_OTHER;
	} else if (f->in->id == X86_INS_MOV && src->type == X86_OP_IMM && exec) {
		s->reg[dst] = ifn_value(f, (uint64_t)src->imm);
	} else if (!strncmp(f->in->mnemonic, "cmov", 4) && src->type == X86_OP_REG) {
		int r = ifn_family(f->cs, src->reg, &full);

		s->reg[dst] |= r >= 0 && full ? s->reg[r] : IF_OTHER;
	} else {
		ifn_clobber(f, s);
	}
}

/* A branch target of the resolver; it never leaves the resolver. */
static int ifn_target(struct ifn *f, uint64_t *to)
{
	const cs_x86 *x = &f->in->detail->x86;

	if (x->op_count != 1 || x->operands[0].type != X86_OP_IMM)
		return ifn_refuse(f, "its resolver branches through a register or memory at %#llx",
				  (unsigned long long)f->in->address);
	*to = (uint64_t)x->operands[0].imm;
	if (*to < f->lo || *to >= f->hi)
		return ifn_refuse(f, "its resolver jumps out of itself at %#llx",
				  (unsigned long long)f->in->address);
	return 0;
}

/* Follows every path of the resolver; f->returned gets what they return. */
static int ifn_walk(struct ifn *f)
{
	struct ifn_state *todo = calloc(IF_MAXPATH, sizeof(*todo));
	size_t ntodo = 1;
	unsigned steps = 0;
	int ret = 0;

	if (!todo)
		return kc_err_set(f->err, -ENOMEM, "out of memory");
	todo[0].pc = f->lo;
	for (int i = 0; i < IF_NREGS; i++)
		todo[0].reg[i] = IF_OTHER;
	while (ntodo && ret == 0) {
		struct ifn_state s = todo[--ntodo];

		for (;;) {
			const uint8_t *p = f->code + (s.pc - f->lo);
			size_t left = f->hi - s.pc;
			uint64_t addr = s.pc, to;

			if (++steps > IF_MAXSTEP) {
				ret = ifn_refuse(f, "its resolver is too large to follow");
				break;
			}
			if (s.pc < f->lo || s.pc >= f->hi) {
				ret = ifn_refuse(f, "its resolver runs past its end");
				break;
			}
			if (!cs_disasm_iter(f->cs, &p, &left, &addr, f->in)) {
				ret = ifn_refuse(f, "its resolver does not decode at %#llx",
						 (unsigned long long)s.pc);
				break;
			}
			s.pc = addr;
			if (f->in->id == X86_INS_RET) {
				if (s.reg[IF_RAX] & IF_OTHER)
					ret = ifn_refuse(
					    f,
					    "its resolver may return an address it loads or "
					    "computes otherwise (ret at %#llx): name the "
					    "implementation to replace instead",
					    (unsigned long long)f->in->address);
				f->returned |= s.reg[IF_RAX];
				break;
			}
			if (f->in->id == X86_INS_HLT || f->in->id == X86_INS_UD2 ||
			    f->in->id == X86_INS_INT3)
				break;
			if (f->in->id == X86_INS_JMP) {
				if ((ret = ifn_target(f, &to)) < 0)
					break;
				s.pc = to;
			} else if (cs_insn_group(f->cs, f->in, CS_GRP_JUMP)) {
				if ((ret = ifn_target(f, &to)) < 0)
					break;
				if (ntodo == IF_MAXPATH) {
					ret = ifn_refuse(f, "its resolver has too many paths");
					break;
				}
				todo[ntodo] = s;
				todo[ntodo++].pc = to;
			} else if (cs_insn_group(f->cs, f->in, CS_GRP_CALL)) {
				ifn_clobber_call(&s);
			} else {
				ifn_data(f, &s);
			}
		}
	}
	free(todo);
	return ret;
}

/* The function symbol at @addr, preferring the name glibc gives (__NAME_variant). */
static const struct kc_target_sym *ifn_symbol(const struct ifn *f, uint64_t addr)
{
	const struct kc_target_sym *best = NULL;
	size_t nl = strlen(f->ifunc->name);

	for (size_t i = 0; i < f->t->nsyms; i++) {
		const struct kc_target_sym *s = &f->t->syms[i];
		int named;

		if (s->value != addr || s->type != STT_FUNC || !s->size)
			continue;
		named = !strncmp(s->name, "__", 2) && !strncmp(s->name + 2, f->ifunc->name, nl) &&
			s->name[2 + nl] == '_';
		if (named)
			return s;
		if (!best || (best->bind == STB_LOCAL && s->bind != STB_LOCAL))
			best = s;
	}
	return best;
}

/* The resolver's bytes, from the executable section holding them. */
static int ifn_code(struct ifn *f)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(f->t->elf, scn)) != NULL) {
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    !(sh.sh_flags & SHF_EXECINSTR) || f->lo < sh.sh_addr ||
		    f->hi > sh.sh_addr + sh.sh_size || !(d = elf_getdata(scn, NULL)) ||
		    d->d_size < sh.sh_size)
			continue;
		f->code = (const uint8_t *)d->d_buf + (f->lo - sh.sh_addr);
		return 0;
	}
	return ifn_refuse(f, "its resolver is not in the target's code");
}

/* Follows the resolver of f->ifunc (f->t, f->err set); f->cand and f->returned get the result. */
static int ifn_follow(struct ifn *f)
{
	int ret;

	f->lo = f->ifunc->value;
	f->hi = f->ifunc->value + f->ifunc->size;
	if (f->t->eh.e_machine != EM_X86_64)
		return ifn_refuse(f, "its resolver can only be followed on x86_64");
	if (!f->ifunc->size)
		return ifn_refuse(f, "its resolver has no size");
	if ((ret = ifn_code(f)) < 0)
		return ret;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &f->cs) != CS_ERR_OK)
		return kc_err_set(f->err, -ENOMEM, "cannot open the disassembler");
	cs_option(f->cs, CS_OPT_DETAIL, CS_OPT_ON);
	f->in = cs_malloc(f->cs);
	ret = f->in ? ifn_walk(f) : kc_err_set(f->err, -ENOMEM, "out of memory");
	if (f->in)
		cs_free(f->in, 1);
	cs_close(&f->cs);
	return ret;
}

/* The name to show for the IFUNC whose resolver is at @value: a global one if any. */
static const char *ifn_public(const struct kc_target *t, const struct kc_target_sym *o)
{
	for (size_t i = 0; o->bind == STB_LOCAL && i < t->nsyms; i++)
		if (t->syms[i].type == STT_GNU_IFUNC && t->syms[i].value == o->value &&
		    t->syms[i].bind != STB_LOCAL)
			return t->syms[i].name;
	return o->name;
}

/*
 * Another IFUNC that can return the same code (glibc's memcpy and memmove
 * share their implementations): replacing it would change that one too.
 * Resolvers that cannot be followed are passed over.
 */
static int ifn_shared(const struct ifn *f, const struct kc_target_sym *const *impls, size_t n)
{
	for (size_t i = 0; i < f->t->nsyms; i++) {
		const struct kc_target_sym *o = &f->t->syms[i];
		struct ifn g = {.t = f->t, .ifunc = o};

		if (o->type != STT_GNU_IFUNC || o->value == f->ifunc->value || ifn_follow(&g) < 0)
			continue;
		for (size_t k = 0; k < g.ncand; k++)
			for (size_t j = 0; (g.returned & (1ull << k)) && j < n; j++)
				if (impls[j]->value == g.cand[k])
					return ifn_refuse(
					    f,
					    "its implementation %s is also one of '%s' (the same "
					    "code): a fix of '%s' would change '%s' too; name the "
					    "implementations to replace instead",
					    impls[j]->name, ifn_public(f->t, o), f->ifunc->name,
					    ifn_public(f->t, o));
	}
	return 0;
}

int kc_ifunc_impls(const struct kc_target *t, const struct kc_target_sym *ifunc,
		   const struct kc_target_sym **impls, size_t *n, struct kc_err *err)
{
	struct ifn f = {.t = t, .ifunc = ifunc, .err = err};
	int ret = ifn_follow(&f);

	*n = 0;
	for (size_t k = 0; ret == 0 && k < f.ncand; k++) {
		if (!(f.returned & (1ull << k)))
			continue;
		impls[*n] = ifn_symbol(&f, f.cand[k]);
		if (!impls[*n])
			ret = ifn_refuse(&f,
					 "its implementation at %#llx has no symbol (the target's "
					 "debug symbols tell which functions its resolver selects; "
					 "or name an implementation, e.g. __%s_avx2)",
					 (unsigned long long)f.cand[k], ifunc->name);
		else
			(*n)++;
	}
	if (ret == 0 && *n == 0)
		ret = ifn_refuse(&f, "its resolver returns no implementation we can see");
	return ret < 0 ? ret : ifn_shared(&f, impls, *n);
}
