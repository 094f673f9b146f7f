#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# kcarectl's kernel commands in Debian's kernel under QEMU (1 and 2 vCPUs),
# from the agent's cache (UPDATE_POLICY=LOCAL, no server): levels 1 and 2 of
# a series built here with kbuild as docs/kernel-patches.md describes them
# (.replace, the kcare_* modinfo tags, /proc/kcare), --status in each state,
# --smart-update, --info, --patch-info, --uname, kcare-uname, a sysctl.conf
# line, --unload; refusals that leave the kernel as it was: a corrupted
# cached module, a module for another kernel, another vendor's livepatch;
# a transition held back by a task sleeping in the patched function
# (reversed with --freezer none and reported with the task, finished by the
# signal of the smart freezer), and --force. The host's kernel cannot load
# modules; the server end to end is the lead's test.
. "$(dirname "$0")/lib.sh"
. "$KC_TOP/tests/integration/kcarectl-vm.sh"

step "kernel $KC_VM_ABI, build-id $KC_VM_BUILD_ID"

# mkmod NAME LEVEL FUNC BODY BUILD_ID: a livepatch module NAME replacing FUNC
# (a seq_file show callback or an open method) with BODY, and publishing
# /proc/kcare as a kcare level does (the owner question of several levels is
# settled here by the newest level taking the directory over)
mkmod() {
	_replace=true _publish=1
	case "$1" in kcare_*) ;; *) _replace=false _publish=0 ;; esac
	cat >"$T/mod/$1.c" <<EOF
// SPDX-License-Identifier: GPL-2.0-or-later
/* fixture of 7201: kcare level $2 written by hand */
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>

static int new_$3(void *a, void *b)
{
	$4
}

static int show_level(struct seq_file *m, void *v)
{
	seq_puts(m, "$2\n");
	return 0;
}

static int show_id(struct seq_file *m, void *v)
{
	seq_puts(m, "t-series\n");
	return 0;
}

static int show_eff(struct seq_file *m, void *v)
{
	seq_puts(m, "6.1.0-9$2-amd64\n");
	return 0;
}

static int show_cves(struct seq_file *m, void *v)
{
	seq_puts(m, "CVE-2026-000$2\n");
	return 0;
}

static int show_patches(struct seq_file *m, void *v)
{
	seq_puts(m, "kpatch-name: fix-$2\nkpatch-description: fixture level $2\n"
		    "kpatch-kernel: N/A\nkpatch-cve: CVE-2026-000$2\nkpatch-cvss: N/A\n"
		    "kpatch-cve-url: N/A\nkpatch-patch-url: N/A\n");
	return 0;
}

static void post_patch(struct klp_object *obj)
{
	struct proc_dir_entry *d;

	if (!$_publish)
		return;
	remove_proc_subtree("kcare", NULL);
	d = proc_mkdir("kcare", NULL);
	if (!d)
		return;
	proc_create_single("level", 0444, d, show_level);
	proc_create_single("id", 0444, d, show_id);
	proc_create_single("effective_version", 0444, d, show_eff);
	proc_create_single("cvelist", 0444, d, show_cves);
	proc_create_single("patches", 0444, d, show_patches);
}

static void pre_unpatch(struct klp_object *obj)
{
	if ($_publish)
		remove_proc_subtree("kcare", NULL);
}

static struct klp_func funcs[] = { { .old_name = "$3", .new_func = new_$3 }, {} };
static struct klp_object objs[] = {
	{ .funcs = funcs, .callbacks = { .post_patch = post_patch, .pre_unpatch = pre_unpatch } },
	{}
};
static struct klp_patch patch = { .mod = THIS_MODULE, .objs = objs, .replace = $_replace };

static int __init t_init(void)
{
	return klp_enable_patch(&patch);
}

static void __exit t_exit(void)
{
}

module_init(t_init);
module_exit(t_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_INFO(kcare_id, "t-series");
MODULE_INFO(kcare_level, "$2");
MODULE_INFO(kcare_build_id, "$5");
MODULE_INFO(kcare_kernel_id, "$KC_VM_KERNEL_ID");
MODULE_INFO(kcare_release, "$KC_VM_ABI");
MODULE_INFO(kcare_effective, "6.1.0-9$2-amd64");
EOF
	echo "obj-m += $1.o" >>"$T/mod/Kbuild"
}

step "fixture modules (kbuild against $KC_VM_HEADERS)"
mkdir -p "$T/mod" "$T/data"
: >"$T/mod/Kbuild"
show='struct seq_file *m = a; seq_puts(m, "kcare-level-LVL\\n"); return 0;'
mkmod kcare_t_1 1 cmdline_proc_show "$(echo "$show" | sed s/LVL/1/)" "$KC_VM_BUILD_ID"
mkmod kcare_t_2 2 cmdline_proc_show "$(echo "$show" | sed s/LVL/2/)" "$KC_VM_BUILD_ID"
mkmod kcare_t_9 9 cmdline_proc_show "$(echo "$show" | sed s/LVL/9/)" 0000000000000000000000000000000000000000
mkmod kcare_block_1 1 fifo_open 'return -ENXIO;' "$KC_VM_BUILD_ID"
mkmod other_lp 1 cmdline_proc_show 'struct seq_file *m = a; seq_puts(m, "other-vendor\n"); return 0;' "$KC_VM_BUILD_ID"
t0=$(now_ms)
make -C "$KC_VM_HEADERS" M="$T/mod" modules >"$T/mod.log" 2>&1 || {
	tail -30 "$T/mod.log"
	fail "the fixture modules do not build"
}
echo "# module build: $(($(now_ms) - t0)) ms for 5 modules"
cp "$T"/mod/*.ko "$T/data/"

# sel NAME MODULE LEVEL: a cache record (selected.json) naming MODULE as this kernel's level
sel() {
	_sha=$(sha256sum "$T/data/$2.ko" | cut -d' ' -f1)
	_len=$(wc -c <"$T/data/$2.ko")
	cat >"$T/data/sel-$1.json" <<EOF
{ "format": 1, "kernels": [ { "patchset": "K20261206_0$3", "product": "kernel", "kind": "module",
  "id": "$2", "level": $3, "released": 1796515200, "build_id": "$KC_VM_BUILD_ID",
  "target": "vmlinux", "cves": ["CVE-2026-000$3"], "description": "",
  "sha256": "$_sha", "length": $_len, "release": "$KC_VM_ABI" } ] }
EOF
	cp "$T/data/$2.ko" "$T/data/$_sha.ko"
}
sel 1 kcare_t_1 1
sel 2 kcare_t_2 2
sel 9 kcare_t_9 3
sel block kcare_block_1 4

cat >"$T/test.sh" <<'GUEST'
C=/var/cache/kcare/kernel
mkdir -p /etc/sysconfig/kcare "$C"
printf 'UPDATE_POLICY=LOCAL\nLIBCARE_DISABLED=True\n' >/etc/sysconfig/kcare/kcare.conf
echo 'kernel.kcare_fixture_switch = 1' >/etc/sysconfig/kcare/sysctl.conf
orig=$(cat /proc/cmdline)
. /lib/kcarectl-guest.sh
one_line() { # NAME
	if [ "$(wc -l </tmp/kc.err)" = 1 ] && grep -q '^kcarectl: ' /tmp/kc.err; then ok "$1"; else not_ok "$1" "stderr: $(cat /tmp/kc.err)"; fi
}
use() { # RECORD: the cache holds that level
	cp /data/sel-$1.json $C/selected.json && cp /data/*.ko $C/
}

kc status-empty 1 --status
check status-empty-says has /tmp/kc.out 'no kernel patches are applied'
kc check-no-server 4 --check
use 1
kc status-available 1 --status
check status-available-says has /tmp/kc.out 'some are available'
t0=$(guest_ms)
kc update-1 0 --smart-update
result update1_ms $(($(guest_ms) - t0))
check update-1-says has /tmp/kc.out 'level 1 applied'
check level-1-live guest_file_is /proc/cmdline kcare-level-1
check proc-kcare-level guest_file_is /proc/kcare/level 1
kc status-latest 0 --status
kc info 0 --info
check info-level has /tmp/kc.out '^kpatch-level: 1$'
check info-module has /tmp/kc.out '^kpatch-module: kcare_t_1$'
kc info-json 0 --info --json
check info-json has /tmp/kc.out '"effective_version": ?"6.1.0-91-amd64"'
kc uname 0 --uname
check uname-eff guest_file_is /tmp/kc.out 6.1.0-91-amd64
check kcare-uname-r sh -c '[ "$(kcare-uname -r)" = 6.1.0-91-amd64 ]'
check kcare-uname-a sh -c 'kcare-uname -a | grep -q " 6.1.0-91-amd64 "'
check kcare-uname-s sh -c '[ "$(kcare-uname)" = Linux ] && [ "$(kcare-uname -m)" = "$(uname -m)" ]'
kc patch-info 0 --patch-info
check patch-info-header has /tmp/kc.out '^kernel: (linux-image-|kernel-)[0-9]'
check patch-info-uname has /tmp/kc.out '^uname: 6.1.0-91-amd64$'
check patch-info-time has /tmp/kc.out '^time: 2026-'
check patch-info-block has /tmp/kc.out '^kpatch-name: fix-1$'
check patch-info-cve has /tmp/kc.out '^kpatch-cve: CVE-2026-0001$'
kc update-1-again 0 --smart-update
check update-1-again-says has /tmp/kc.out 'up to date'

use 2
kc status-pending 2 --status
t0=$(guest_ms)
kc update-2 0 --smart-update
result update2_ms $(($(guest_ms) - t0))
check update-2-removed has /tmp/kc.out 'removed older levels: kcare_t_1'
check level-2-live guest_file_is /proc/cmdline kcare-level-2
check level-1-gone sh -c '! grep -q "^kcare_t_1 " /proc/modules'
check proc-kcare-level-2 guest_file_is /proc/kcare/level 2
check kcare-uname-2 sh -c '[ "$(kcare-uname -r)" = 6.1.0-92-amd64 ]'
check sysctl-warned has /tmp/kc.err 'kcare_fixture_switch'
kc status-latest-2 0 --status

kc unload 0 --unload
check unload-orig guest_file_is /proc/cmdline "$orig"
check unload-no-module sh -c '! grep -q "^kcare_" /proc/modules'
check unload-no-proc guest_absent /proc/kcare
check kcare-uname-real sh -c '[ "$(kcare-uname -r)" = "$(uname -r)" ]'
kc unload-again 0 --unload
check unload-again-says has /tmp/kc.out 'no kernel patches were loaded'

use 1
sha=$(sed -n 's/.*"sha256": "\([0-9a-f]*\)".*/\1/p' $C/selected.json)
printf 'X' | dd of=$C/$sha.ko bs=1 seek=2000 conv=notrunc 2>/dev/null
kc corrupted 1 --smart-update
one_line corrupted-one-line
check corrupted-says has /tmp/kc.err 'corrupted'
check corrupted-removed guest_absent $C/$sha.ko
check corrupted-unchanged guest_file_is /proc/cmdline "$orig"

use 9
kc other-kernel 1 --smart-update
one_line other-kernel-one-line
check other-kernel-says has /tmp/kc.err 'built for kernel build-id 0000'
check other-kernel-unchanged sh -c '! grep -q "^kcare_" /proc/modules'

insmod /data/other_lp.ko && guest_lp_wait other_lp 30 && ok other-insmod || not_ok other-insmod "cannot load other_lp"
use 1
kc other-vendor 1 --smart-update
one_line other-vendor-one-line
check other-vendor-says has /tmp/kc.err "livepatch 'other_lp' is not kcare's"
check other-vendor-unchanged guest_file_is /proc/cmdline other-vendor
kc other-vendor-info 0 --info
check other-vendor-info-says has /tmp/kc.out 'other live patches \(not kcare.s\): other_lp'
kc other-vendor-unload 0 --unload
check other-vendor-kept guest_file_is /sys/kernel/livepatch/other_lp/enabled 1
guest_lp_disable other_lp 30 && rmmod other_lp && ok other-removed || not_ok other-removed "cannot remove other_lp"

use block
mkfifo /tmp/fifo
cat /tmp/fifo >/dev/null 2>&1 &
blocker=$!
usleep 200000
kc blocked-reversed 1 --smart-update --freezer none --timeout 3
one_line blocked-one-line
check blocked-says has /tmp/kc.err "reversed; blocked by: $blocker cat \\(in [a-z_]+\\)"
check blocked-no-patch guest_absent /sys/kernel/livepatch/kcare_block_1
check blocked-no-module sh -c '! grep -q "^kcare_block_1 " /proc/modules'
check blocker-alive kill -0 $blocker
kc blocked-smart 0 --smart-update --timeout 20
check blocked-smart-live guest_file_is /sys/kernel/livepatch/kcare_block_1/enabled 1
kc blocked-unload 0 --unload
cat /tmp/fifo >/dev/null 2>&1 &
blocker=$!
usleep 200000
kc blocked-force 0 --smart-update --freezer none --force --timeout 2
check blocked-force-says has /tmp/kc.out 'forced'
check blocked-force-live guest_file_is /sys/kernel/livepatch/kcare_block_1/transition 0
kill $blocker 2>/dev/null
# with the blocking task gone, a forced level unloads like any other (6.1)
kc forced-unload 0 --unload
check forced-unpatched guest_absent /sys/kernel/livepatch/kcare_block_1
check forced-no-module sh -c '! grep -q "^kcare_block_1 " /proc/modules'
GUEST
kcvm_initramfs "$T/initrd" --test "$T/test.sh" --dir "$T/data:/data"

for cpus in 1 2; do
	step "$cpus vCPU"
	vm_run --cpus "$cpus" --initrd "$T/initrd" --out "$T/run$cpus" --timeout 300 ||
		fail "the guest run with $cpus vCPU failed"
	grep -c '^KC-RESULT ok ' "$T/run$cpus.results" | sed 's/^/# checks passed: /'
	echo "# $cpus vCPU: whole run $KC_VM_MS ms, kcarectl --smart-update level 1 $(vm_result "$T/run$cpus" update1_ms) ms," \
		"level 2 $(vm_result "$T/run$cpus" update2_ms) ms"
done
