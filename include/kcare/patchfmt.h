/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * On-disk layout of a userspace patch file (format versions 1 and 2).
 *
 * A patch file is an ELF64 little-endian ET_REL file for the target's
 * machine, so readelf and objdump can inspect it. It has no ELF symbols
 * or relocations that matter to the engine: the engine reads only the
 * sections named below. All structures are little-endian, naturally
 * aligned, and fixed-size; "stroff" fields are byte offsets into
 * .kcare.strtab (offset 0 is the empty string).
 *
 *   .kcare.meta    struct kc_pf_meta (exactly one)
 *   .kcare.strtab  SHT_STRTAB, NUL-terminated strings
 *   .kcare.text    image bytes [0, text_size)                  -> mapped r-x
 *   .kcare.rodata  image bytes [rodata_off, +rodata_size)      -> mapped r--
 *   .kcare.data    image bytes [data_off, +data_size)          -> mapped rw-
 *   .kcare.bss     SHT_NOBITS, image [bss_off, +bss_size)      -> mapped rw-
 *   .kcare.funcs   struct kc_pf_func[nfuncs]
 *   .kcare.syms    struct kc_pf_sym[nsyms]
 *   .kcare.relocs  struct kc_pf_reloc[nrelocs]
 *
 * The "image" is the patch code and data as one contiguous, page-aligned
 * address range laid out at pack time: text at 0, rodata at rodata_off,
 * data at data_off, bss at bss_off (both offsets page-aligned, data and
 * bss share pages). Every reference inside the image is already resolved
 * at pack time; what remains are the relocations in .kcare.relocs, which
 * depend on where the image, the target object and other libraries sit
 * in the process, and are applied by the engine before the image is
 * written into the process.
 *
 * Relocation values (P = image base + offset, S = runtime address of the
 * symbol, A = addend, B = image base):
 *   KC_PF_R_IMAGE64   u64 = B + A               (no symbol)
 *   KC_PF_R_ABS64     u64 = S + A
 *   KC_PF_R_PC32      s32 = S + A - P           (must fit in 32 bits)
 *   KC_PF_R_TPOFF64   u64 = tpoff(S) + A        (TLS: offset from the thread pointer)
 *   KC_PF_R_TPOFF32   s32 = tpoff(S) + A
 *   KC_PF_R_DTPMOD64  u64 = TLS module id of the object defining S
 *   KC_PF_R_DTPOFF64  u64 = S.value + A         (offset in that module's TLS block)
 *
 * Unwind table (version 2 only; version 1 has unwind_off = unwind_size = 0):
 * image [unwind_off, +unwind_size) inside rodata holds an .eh_frame_hdr
 * (version 1; eh_frame_ptr pcrel|sdata4, fde_count udata4, table
 * datarel|sdata4 relative to unwind_off, sorted by location), right after
 * it the CIEs and FDEs of the patch code (augmentation "z" plus 'R' with
 * pcrel|sdata4, optionally 'S'), then a zero terminator word. Everything
 * in it is relative, so it needs no relocation: the engine's unwinder
 * reads it from the mapped image like an object's PT_GNU_EH_FRAME.
 *
 * Symbol kinds:
 *   KC_PF_SYM_TARGET  defined in the target object; value is its link-time
 *                     st_value (for STT_TLS: offset in the target's TLS segment);
 *                     S = load bias of the target + value (with
 *                     KC_PF_SYMF_INTERPOSE: as the process's dynamic linker bound it)
 *   KC_PF_SYM_EXTERN  looked up by name (and version, if any) among the
 *                     objects loaded in the process at apply time
 */
#ifndef KCARE_PATCHFMT_H
#define KCARE_PATCHFMT_H

#include <stdint.h>

#define KC_PF_MAGIC	"KCPATCH"   /* 8 bytes with the NUL */
#define KC_PF_VERSION	2u	    /* the newest version read */
#define KC_PF_VERSION_1 1u	    /* written when no version 2 feature (unwind table) is used */
#define KC_PF_PAGE	4096u	    /* alignment of image segments */
#define KC_PF_IMAGE_MAX (64u << 20) /* refuse images above 64 MiB */
#define KC_PF_ENTRY_MAX 16u	    /* bytes of original entry kept */

#define KC_PF_SEC_META	 ".kcare.meta"
#define KC_PF_SEC_STRTAB ".kcare.strtab"
#define KC_PF_SEC_TEXT	 ".kcare.text"
#define KC_PF_SEC_RODATA ".kcare.rodata"
#define KC_PF_SEC_DATA	 ".kcare.data"
#define KC_PF_SEC_BSS	 ".kcare.bss"
#define KC_PF_SEC_FUNCS	 ".kcare.funcs"
#define KC_PF_SEC_SYMS	 ".kcare.syms"
#define KC_PF_SEC_RELOCS ".kcare.relocs"

struct kc_pf_meta {
	char magic[8];	       /* KC_PF_MAGIC */
	uint32_t version;      /* KC_PF_VERSION_1, or KC_PF_VERSION with an unwind table */
	uint32_t machine;      /* EM_X86_64, ... (same as e_machine) */
	uint32_t id;	       /* stroff: patch id, [A-Za-z0-9._-]{1,63} */
	uint32_t level;	       /* >= 1; higher replaces lower of the same id */
	uint32_t description;  /* stroff */
	uint32_t cves;	       /* stroff: CVE ids separated by ',' */
	uint32_t target_name;  /* stroff: soname, or basename of an executable */
	uint32_t target_path;  /* stroff: path given at pack time (informational) */
	uint32_t build_id_len; /* 1..64 */
	uint8_t build_id[64];  /* GNU build-id of the target object */
	uint64_t created;      /* unix time of packing */
	uint32_t flags;	       /* KC_PF_F_* */
	uint32_t text_size;
	uint32_t rodata_off;
	uint32_t rodata_size;
	uint32_t data_off;
	uint32_t data_size;
	uint32_t bss_off;
	uint32_t bss_size;
	uint32_t image_size; /* page multiple, >= bss_off + bss_size */
	uint32_t nfuncs;
	uint32_t nsyms;
	uint32_t nrelocs;
	uint32_t unwind_off;  /* version 2: image offset of the unwind table, 0 if none */
	uint32_t unwind_size; /* version 2: its size in bytes, 0 if none */
	uint8_t reserved[32]; /* zero */
};

/* flags of kc_pf_meta */
#define KC_PF_F_TARGET_EXEC 0x1u /* target is an ET_EXEC (load bias 0) */

struct kc_pf_func {
	uint32_t name;	       /* stroff: symbol name in the target */
	uint32_t flags;	       /* zero for now */
	uint64_t target_value; /* st_value of the replaced function in the target */
	uint64_t target_size;  /* st_size, >= entry jump size */
	uint64_t image_off;    /* start of the new function in the image */
	uint64_t image_size;
	uint32_t orig_len;	       /* bytes valid in orig[] (<= KC_PF_ENTRY_MAX) */
	uint8_t orig[KC_PF_ENTRY_MAX]; /* the target's first bytes, from the file */
	uint8_t reserved[4];
};

enum kc_pf_sym_kind {
	KC_PF_SYM_TARGET = 1,
	KC_PF_SYM_EXTERN = 2,
};

#define KC_PF_SYMF_WEAK 0x1u /* unresolved extern is not an error: S = 0 */
#define KC_PF_SYMF_FUNC 0x2u
#define KC_PF_SYMF_TLS	0x4u
/*
 * TARGET data the target exports to the process (default visibility, in .dynsym): the engine
 * binds it as the dynamic linker did for that process (a program's R_X86_64_COPY of it, say),
 * value being the target's own definition, the fallback. Only such a symbol carries a version
 * (its definition's). Never with FUNC or TLS.
 */
#define KC_PF_SYMF_INTERPOSE 0x8u

struct kc_pf_sym {
	uint32_t name;	  /* stroff */
	uint32_t version; /* stroff: "GLIBC_2.14"; empty: default version */
	uint32_t kind;	  /* enum kc_pf_sym_kind */
	uint32_t flags;	  /* KC_PF_SYMF_* */
	uint64_t value;	  /* TARGET: st_value in the target; EXTERN: 0 */
	uint64_t size;
};

enum kc_pf_rel_type {
	KC_PF_R_IMAGE64 = 1,
	KC_PF_R_ABS64 = 2,
	KC_PF_R_PC32 = 3,
	KC_PF_R_TPOFF64 = 4,
	KC_PF_R_TPOFF32 = 5,
	KC_PF_R_DTPMOD64 = 6,
	KC_PF_R_DTPOFF64 = 7,
};

#define KC_PF_NOSYM 0xffffffffu

/* The unwind table's .eh_frame_hdr: 4 bytes of version and encodings, two words, then the table. */
#define KC_PF_EH_HDR_VERSION   1u
#define KC_PF_EH_PE_PCREL_S4   0x1bu /* DW_EH_PE_pcrel | DW_EH_PE_sdata4 */
#define KC_PF_EH_PE_UDATA4     0x03u
#define KC_PF_EH_PE_DATAREL_S4 0x3bu /* DW_EH_PE_datarel | DW_EH_PE_sdata4 */
#define KC_PF_EH_HDR_SIZE      12u

struct kc_pf_reloc {
	uint64_t offset; /* image offset of the field to write */
	uint32_t type;	 /* enum kc_pf_rel_type */
	uint32_t sym;	 /* index into .kcare.syms, or KC_PF_NOSYM */
	int64_t addend;
};

_Static_assert(sizeof(struct kc_pf_meta) == 208, "kc_pf_meta layout");
_Static_assert(sizeof(struct kc_pf_func) == 64, "kc_pf_func layout");
_Static_assert(sizeof(struct kc_pf_sym) == 32, "kc_pf_sym layout");
_Static_assert(sizeof(struct kc_pf_reloc) == 24, "kc_pf_reloc layout");

#endif
