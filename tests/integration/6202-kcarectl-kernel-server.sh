#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The kernel back end against a real eportal on 127.0.0.1, on this host whose
# kernel cannot load modules: the kernel side sees a fake /proc and /sys
# (KCARE_SYSROOT) naming Debian's kernel whose levels are deployed. Kernel
# patchsets with levels 1 and 2 (kbuild modules with the kcare tags), --check
# (0 newer level, 1 none; the delayed prefix holds level 2 back), --update
# choosing the highest level for this kernel's build-id, downloading and
# verifying it into the cache and checking its .modinfo, up to the kernel's
# refusal (finit_module is not available here); a kernel the feed does not
# know ("unknown kernel"), IGNORE_UNKNOWN_KERNEL for --auto-update, a module
# whose bytes differ from the signed entry, tampered feed metadata and
# tampered blobs on the server, LOCAL_FIRST from the cache with
# the server stopped, PATCH_TYPE=extra, a key without the kernel product.
# Loading itself is the VM tests' business (7201, 7202).
. "$(dirname "$0")/kcarectl-lib.sh"
. "$KC_TOP/tests/vm/vm.sh"

[ -e /proc/modules ] && skip "this kernel can load modules: the test needs one that cannot"
vm_kernel_prepare
command -v make >/dev/null || skip "no make"

step "levels 1 and 2 for $KC_VM_ABI (build-id $KC_VM_BUILD_ID)"
mkdir -p "$T/mod"
# mkmod NAME SERIES LEVEL
mkmod() {
	cat >"$T/mod/$1.c" <<EOF
// SPDX-License-Identifier: GPL-2.0-or-later
/* fixture of 6202: a level that is never loaded here */
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/seq_file.h>
static int show(struct seq_file *m, void *v)
{
	seq_puts(m, "$1\n");
	return 0;
}
static struct klp_func funcs[] = { { .old_name = "cmdline_proc_show", .new_func = show }, {} };
static struct klp_object objs[] = { { .funcs = funcs }, {} };
static struct klp_patch patch = { .mod = THIS_MODULE, .objs = objs, .replace = true };
static int __init t_init(void)
{
	return klp_enable_patch(&patch);
}
module_init(t_init);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_INFO(kcare_id, "$2");
MODULE_INFO(kcare_level, "$3");
MODULE_INFO(kcare_build_id, "$KC_VM_BUILD_ID");
MODULE_INFO(kcare_kernel_id, "$KC_VM_KERNEL_ID");
MODULE_INFO(kcare_release, "$KC_VM_ABI");
MODULE_INFO(kcare_effective, "");
EOF
	echo "obj-m += $1.o" >>"$T/mod/Kbuild"
}
mkmod kcare_s_1 s 1
mkmod kcare_s_2 s 2
# PATCH_TYPE=extra takes the series whose id ends in -extra
mkmod kcare_s_extra_1 s-extra 1
make -C "$KC_VM_HEADERS" M="$T/mod" modules >"$T/mod.log" 2>&1 || {
	tail -20 "$T/mod.log"
	fail "the fixture modules do not build"
}
"$KC_PACK_BIN" patchset --product kernel --name K20260101_01 --released "$(date -u -d '10 days ago' +%Y-%m-%dT%H:%M:%SZ)" \
	--kernel-build-id "$KC_VM_BUILD_ID" -o "$T/k1.tar.bz2" "$T/mod/kcare_s_1.ko" >"$T/ps.out" 2>&1 ||
	fail "patchset 1: $(cat "$T/ps.out")"
"$KC_PACK_BIN" patchset --product kernel --name K20260102_01 --released "$(date -u -d '2 hours ago' +%Y-%m-%dT%H:%M:%SZ)" \
	--kernel-build-id "$KC_VM_BUILD_ID" -o "$T/k2.tar.bz2" "$T/mod/kcare_s_2.ko" >"$T/ps.out" 2>&1 ||
	fail "patchset 2: $(cat "$T/ps.out")"
"$KC_PACK_BIN" patchset --product kernel --name K20260103_01 --released "$(date -u -d '3 hours ago' +%Y-%m-%dT%H:%M:%SZ)" \
	--kernel-build-id "$KC_VM_BUILD_ID" -o "$T/kx.tar.bz2" "$T/mod/kcare_s_extra_1.ko" >"$T/ps.out" 2>&1 ||
	fail "patchset extra: $(cat "$T/ps.out")"

step "a fake /proc and /sys naming that kernel"
S="$T/sys"
mkdir -p "$S/proc/sys/kernel" "$S/sys/kernel/livepatch"
: >"$S/proc/modules"
echo 0 >"$S/proc/sys/kernel/modules_disabled"
echo "$KC_VM_ABI" >"$S/proc/sys/kernel/osrelease"
cp "$KC_VM_DIR/proc-version" "$S/proc/version"
[ "$(sha1sum <"$S/proc/version" | cut -d' ' -f1)" = "$KC_VM_KERNEL_ID" ] || fail "the cached /proc/version is not the kernel id's"
# /sys/kernel/notes: one GNU build-id note
"$KC_PY" - "$KC_VM_BUILD_ID" "$S/sys/kernel/notes" <<'PY'
import struct, sys
bid = bytes.fromhex(sys.argv[1])
open(sys.argv[2], "wb").write(struct.pack("<III", 4, len(bid), 3) + b"GNU\0" + bid)
PY
export KCARE_SYSROOT="$S"

step "eportal with both levels; a kernel-only key"
ep_start
epc kcare deploy "$T/k1.tar.bz2" >/dev/null || fail "deploy 1"
epc kcare deploy "$T/k2.tar.bz2" >/dev/null || fail "deploy 2"
epc kcare deploy "$T/kx.tar.bz2" >/dev/null || fail "deploy extra"
KEY=$(epc key -a --product kernel) || fail "key add"
printf 'PATCH_SERVER=%s/repo/\n' "$EP_URL" >"$ROOT/etc/sysconfig/kcare/kcare.conf"
kc_ok --import-key "$(epc root-key)"
kc_ok --register "$KEY"
epc list-servers --json >"$T/servers.json" || fail "list-servers"
jq -e --arg kid "$KC_VM_KERNEL_ID" '.[0].kernel_id == $kid and .[0].patch_level == -1' "$T/servers.json" >/dev/null ||
	fail "register: $(cat "$T/servers.json")"

step "--status and --check before any update"
kc_rc 1 --status
kc_out "no kernel patches are applied"
kc_rc 0 --check
kc_out "new kernel patches are available: level 2"
kc_rc 0 --check --prefix 12h
kc_out "level 1"
[ -e "$ROOT/var/cache/kcare/kernel/selected.json" ] && fail "--check wrote the cache record"

step "--update: level 2 downloaded, verified, checked; the kernel here refuses to load it"
kc_rc 1 --update
kc_err_one_line
kc_err "module 'kcare_s_2'"
jq -e '.kernels[0].module == "kcare_s_2" and .kernels[0].level == 2' "$ROOT/var/cache/kcare/kernel/selected.json" >/dev/null ||
	fail "cache record: $(cat "$ROOT/var/cache/kcare/kernel/selected.json")"
sha=$(jq -r '.kernels[0].sha256' "$ROOT/var/cache/kcare/kernel/selected.json")
cmp "$ROOT/var/cache/kcare/kernel/$sha.ko" "$T/mod/kcare_s_2.ko" || fail "the cached module is not level 2's"
kc_rc 1 --status
kc_out "no kernel patches are applied \(some are available"
kc_rc 1 --update --prefix 12h
jq -e '.kernels[0].level == 1' "$ROOT/var/cache/kcare/kernel/selected.json" >/dev/null || fail "--prefix 12h did not choose level 1"

step "--set-sticky-patch: a day before level 2 was released keeps level 1; unstuck: level 2"
kc_rc 1 --set-sticky-patch "$(date -u -d '5 days ago' +%d%m%y)" --update
kc_err "module 'kcare_s_1'"
grep -q '^STICKY_PATCH=' "$ROOT/etc/sysconfig/kcare/kcare.conf" || fail "--set-sticky-patch did not save the date"
kc_rc 0 --check
kc_out "new kernel patches are available: level 1$"
kc_rc 1 --set-sticky-patch '' --update
kc_err "module 'kcare_s_2'"

step "--set-patch-type extra: the -extra series; default again: the plain one"
kc_rc 1 --set-patch-type extra --update
kc_err "module 'kcare_s_extra_1'"
kc_rc 1 --set-patch-type default --update
kc_err "module 'kcare_s_2'"

step "a cached module whose bytes differ from the signed entry"
kc_rc 1 --update
printf 'X' | dd of="$ROOT/var/cache/kcare/kernel/$sha.ko" bs=1 seek=100 conv=notrunc 2>/dev/null
printf 'UPDATE_POLICY=LOCAL\n' >>"$ROOT/etc/sysconfig/kcare/kcare.conf"
kc_rc 1 --smart-update
kc_err_one_line
kc_err "corrupted"
[ -e "$ROOT/var/cache/kcare/kernel/$sha.ko" ] && fail "the corrupted module was kept"
# --update fetches it anew
kc_rc 1 --update
kc_err "module 'kcare_s_2'"
cmp "$ROOT/var/cache/kcare/kernel/$sha.ko" "$T/mod/kcare_s_2.ko" || fail "not fetched anew"

step "LOCAL_FIRST with the server stopped: the cache"
setconf UPDATE_POLICY LOCAL_FIRST
ep_stop
kc_rc 1 --smart-update
kc_err "module 'kcare_s_2'"
kc_rc 4 --check
ep_start
setconf PATCH_SERVER "$EP_URL/repo/"

step "tampered kernel feed metadata, then tampered blobs: refused, nothing cached"
export KCARE_ROOT="$T/root2"
mkdir -p "$KCARE_ROOT/etc/sysconfig/kcare"
printf 'PATCH_SERVER=%s/repo/\n' "$EP_URL" >"$KCARE_ROOT/etc/sysconfig/kcare/kcare.conf"
kc_ok --import-key "$(epc root-key)"
for f in "$EP_DATA"/repo/feeds/main/*kernel.json; do
	cp "$f" "$f.save"
	sed -i 's/"payload":"eyJf/"payload":"eyJG/' "$f"
done
kc_rc 1 --update
kc_err_one_line
kc_err "refused"
[ -e "$KCARE_ROOT/var/cache/kcare/kernel/selected.json" ] && fail "tampered metadata left a cache record"
for f in "$EP_DATA"/repo/feeds/main/*kernel.json; do mv "$f.save" "$f"; done
for b in "$EP_DATA"/repo/blobs/*; do
	cp "$b" "$T/$(basename "$b").save"
	printf 'X' | dd of="$b" bs=1 seek=100 conv=notrunc 2>/dev/null
done
kc_rc 1 --update
kc_err_one_line
kc_err "sha256|length"
ls "$KCARE_ROOT/var/cache/kcare/kernel" 2>/dev/null | grep -q '\.ko$' && fail "a tampered module was cached"
for b in "$EP_DATA"/repo/blobs/*; do cp "$T/$(basename "$b").save" "$b"; done
kc_rc 1 --update
kc_err "module 'kcare_s_2'"
export KCARE_ROOT="$ROOT"

step "a kernel the feed does not know"
printf 'Linux version 9.9.9 (other)\n' >"$S/proc/version"
printf '\004\000\000\000\004\000\000\000\003\000\000\000GNU\000\001\002\003\004' >"$S/sys/kernel/notes"
setconf UPDATE_POLICY REMOTE
kc_rc 1 --update
kc_err_one_line
kc_err "unknown kernel: feed 'main' has no patches for $KC_VM_ABI \(build-id 01020304\)"
kc_rc 1 --check
kc_rc 0 --auto-update
kc_err "warning: unknown kernel"
setconf IGNORE_UNKNOWN_KERNEL True
kc_rc 0 --auto-update
grep -q unknown "$T/kc.err" && fail "IGNORE_UNKNOWN_KERNEL: $(cat "$T/kc.err")"

step "a key without the kernel product"
KEY2=$(epc key -a --product libs) || fail "key add"
kc_ok --register "$KEY2"
kc_rc 1 --update
kc_err_one_line
kc_err "does not cover kernel patches"
echo "ok"
