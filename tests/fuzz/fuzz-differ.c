// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for the object differ's passes on hostile objects:
 * the input is two relocatable objects (a little-endian u32 length, the
 * original, then the patched one), compared, included against an empty
 * target symbol table and written as a fix object. Since that target
 * defines nothing, little is copied: the .eh_frame builder also runs on
 * its own with every code section of the patched object marked copied.
 * Beyond "no crash, no leak, no read outside a section", nothing is
 * asserted.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/differ-int.h"

static char fuzz_dir[64];

static int fuzz_put(const char *path, const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (!f)
		return -1;
	ok = fwrite(data, 1, size, f) == size;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static void fuzz_cleanup(void)
{
	static const char *const names[] = {"o.o", "p.o", "f.o"};
	char path[96];

	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", fuzz_dir, names[i]);
		unlink(path);
	}
	rmdir(fuzz_dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_dsymtab st = {.fd = -1};
	struct kc_dcu cu = {0};
	struct kc_diff d = {.cus = &cu, .ncus = 1, .st = &st};
	struct kc_pack_bind *binds = NULL;
	char o[96], p[96], f[96];
	size_t nbinds = 0;
	uint32_t na;

	if (!fuzz_dir[0]) {
		snprintf(fuzz_dir, sizeof(fuzz_dir), "/tmp/kc-fuzz-differ.%d", (int)getpid());
		if (mkdir(fuzz_dir, 0700) < 0 && errno != EEXIST)
			abort();
		atexit(fuzz_cleanup);
	}
	if (size < 4)
		return 0;
	memcpy(&na, data, 4);
	if (na > size - 4)
		return 0;
	snprintf(o, sizeof(o), "%s/o.o", fuzz_dir);
	snprintf(p, sizeof(p), "%s/p.o", fuzz_dir);
	snprintf(f, sizeof(f), "%s/f.o", fuzz_dir);
	if (fuzz_put(o, data + 4, na) < 0 || fuzz_put(p, data + 4 + na, size - 4 - na) < 0)
		abort();
	if (kc_diff_cu_open(&cu, o, p, &err) == 0 && kc_diff_pair(&cu, &err) == 0 &&
	    kc_diff_compare(&cu, &err) == 0 && kc_diff_include(&d, &err) == 0)
		kc_emit_fix(&d, f, &binds, &nbinds, &err);
	free(binds);
	if (cu.p && cu.ps) {
		struct kc_diff_eh eh;

		for (size_t i = 1; i < cu.p->nsecs; i++) {
			cu.ps[i].include = (cu.p->secs[i].sh.sh_flags & SHF_EXECINSTR) != 0;
			cu.ps[i].out_sec = cu.ps[i].include ? i : 0;
		}
		if (kc_diff_eh_build(&d, &eh, &err) == 0)
			kc_diff_eh_release(&eh);
	}
	kc_diff_cu_release(&cu);
	return 0;
}
