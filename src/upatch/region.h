/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The patch region: what the engine maps into a target for one applied
 * patch, and the state the target carries about it. The region starts
 * with a read-only header (struct kc_region_hdr, then the function
 * journal, then strings), followed by the relocated image. Because the
 * state lives in the target, `info` and `unpatch` work from a fresh
 * process, and a forked child carries its own copy.
 *
 * Region states (kc_region_hdr.state), written by apply.c only:
 *   LOADED    mapped and written, no entry jump points into it yet
 *   APPLIED   every function's entry jump is written (the patch is live)
 *   REVERTED  every entry is restored (or taken over by a higher level);
 *             the region waits to be unmapped and is ignored by info
 *   RETIRED   a REVERTED region kept mapped because a suspended stack (a
 *             coroutine's) may still return into its code (retire.h); no
 *             entry leads into it, it never counts as applied, and every
 *             later run scans for it again and unmaps it once nothing does
 * Per function, kc_region_func.state is the journal: PATCHED is written
 * right after that function's entry jump, ORIGINAL right after its
 * original bytes are back. Entry bytes in memory always equal either
 * orig[] or jump[] (or a lower level's jump[]), as each is written by one
 * write in a full stop. kc_region_hdr.pending marks, before the first
 * entry write, an APPLIED region that a revert (REVERT) or a higher level
 * (UPGRADE) is taking over, so that recover.c can finish or roll back
 * whatever a killed patcher left half done:
 *   LOADED                    roll back: its entries get back what was there
 *   APPLIED, pending REVERT   finish the revert
 *   APPLIED, pending UPGRADE  a higher APPLIED level exists: retire this one;
 *                             else roll back: re-write its own jumps
 *   REVERTED, RETIRED         unmap, unless code of it may still be returned into
 *                             (retire.h): then RETIRED
 */
#ifndef KC_UPATCH_REGION_H
#define KC_UPATCH_REGION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kcare/err.h"
#include "kcare/proc.h"

#define KC_REGION_MAGIC	  "KCREGION" /* 8 bytes, no NUL */
#define KC_REGION_VERSION 1u

enum kc_region_state {
	KC_REGION_LOADED = 1,
	KC_REGION_APPLIED = 2,
	KC_REGION_REVERTED = 3,
	KC_REGION_RETIRED = 4,
};

enum kc_region_pending {
	KC_PENDING_NONE = 0,
	KC_PENDING_REVERT = 1,
	KC_PENDING_UPGRADE = 2,
};

enum kc_rfunc_state {
	KC_RFUNC_ORIGINAL = 0,
	KC_RFUNC_PATCHED = 1,
};

struct kc_region_func {
	uint64_t addr;	   /* runtime address of the replaced function's entry */
	uint64_t size;	   /* its size */
	uint64_t new_addr; /* runtime address of the replacement */
	uint32_t name;	   /* offset in the header's strings */
	uint32_t state;	   /* enum kc_rfunc_state: the journal */
	uint32_t len;	   /* bytes of orig[]/jump[] that the entry write covers */
	uint32_t pad;
	uint8_t orig[16]; /* original entry bytes */
	uint8_t jump[16]; /* entry jump bytes */
};

struct kc_region_hdr {
	char magic[8]; /* KC_REGION_MAGIC */
	uint32_t version;
	uint32_t state;	      /* enum kc_region_state */
	uint64_t region_size; /* bytes mapped from the region start */
	uint64_t hdr_size;    /* the image starts at region start + hdr_size */
	uint64_t image_size;
	uint64_t text_size;   /* image [0, text_size) is executable */
	uint64_t applied;     /* unix time the patch went live */
	uint64_t target_bias; /* load bias of the patched object */
	uint64_t superseded;  /* region start of the lower level this one replaced, or 0 */
	uint32_t level;
	uint32_t nfuncs;
	uint32_t funcs_off;   /* struct kc_region_func[nfuncs] at region start + funcs_off */
	uint32_t strings_off; /* NUL-terminated strings at region start + strings_off */
	uint32_t strings_size;
	uint32_t description; /* offsets in the strings */
	uint32_t cves;	      /* comma-separated */
	uint32_t target_path;
	uint32_t build_id_len;
	uint32_t owner_pid; /* the process it was written into (a forked child differs) */
	uint8_t build_id[64];
	char id[64];	   /* NUL-terminated patch id */
	char vma_name[64]; /* name given to the mapping, shown in /proc/PID/maps */
	uint32_t pending;  /* enum kc_region_pending */
	uint32_t pad;
	/* the patch's unwind table (patchfmt.h) at image + unwind_off; 0/0: none (older regions) */
	uint32_t unwind_off, unwind_size;
	uint8_t reserved[48];
};

/* A region as read back from a process. */
struct kc_region {
	uint64_t start; /* region start address in the target */
	struct kc_region_hdr hdr;
	struct kc_region_func *funcs; /* owned, hdr.nfuncs entries */
	char *strings;		      /* owned, hdr.strings_size bytes, NUL-terminated */
};

struct kc_regions {
	struct kc_region *v; /* owned */
	size_t n;
};

typedef int (*kc_region_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);

/*
 * Finds every patch region in the process: private anonymous mappings
 * starting with a valid header. Regions in state REVERTED are included
 * (callers decide). Reads through @read; no attach needed.
 */
int kc_region_scan(const struct kc_proc_maps *maps, kc_region_read_fn read, void *ctx,
		   struct kc_regions *out, struct kc_err *err);
void kc_regions_release(struct kc_regions *r);

/* String at offset @off of the region's strings ("" if out of range). */
const char *kc_region_str(const struct kc_region *r, uint32_t off);

#endif
