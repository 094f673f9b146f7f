#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# KernelCare end to end, with 1 and again with 2 vCPUs: the fixes of
# tests/kernel-fixes built with kcare-build kmod (level 1: a static vmlinux
# function called through a klp relocation; level 2 adds a function of the
# binfmt_misc module; both switchable), packed with kcare-build patchset,
# deployed with kc.eportal to a real eportal on the host; Debian's kernel under
# QEMU reaches it through user networking (10.0.2.2).
# Boot 1: --import-key, --register, --status/--check in each state, --update
# to level 1 (cat /proc/cmdline changes), refusals that leave the kernel as it
# was (tampered feed metadata and corrupted blobs on the server, a level built
# for another kernel build, a transition held back by a task sleeping in the
# patched function, another vendor's livepatch), --update to level 2 (replace:
# both fixes, level 1 gone), a sysctl.conf switch and the /proc/sys files,
# /proc/kcare, --info, --patch-info, --uname, kcare-uname, --unload.
# The agent's files live on a disk image. Boot 2: kcarectl --boot (what
# kcare.service runs) loads the cached level while the guest has no network
# device yet; then --update checks in, and with the server stopped
# UPDATE_POLICY=LOCAL_FIRST loads the cache. The server lists the host with
# its kernel id, level 2 and the effective version.
# The host changes the server while boot 1 runs: the guest stops at a
# "phase" and the host answers (kcarectl-vm.sh, kcvm_phase/kcvm_answer).
# KC_E2E_CPUS="1" runs one of the two guests (debugging).
. "$(dirname "$0")/kcarectl-lib.sh"
. "$KC_TOP/tests/integration/kcarectl-vm.sh"
command -v make >/dev/null || skip "no make"
fixes="$KC_TOP/tests/kernel-fixes"
EFF=6.1.0-99-amd64

step "levels 1, 2 and 3 with kcare-build kmod"
t0=$(now_ms)
kcvm_kmod e2e --level 1 --source "$fixes/cmdline-suffix.c"
t1=$(now_ms)
kcvm_kmod e2e --level 2 --source "$fixes/cmdline-suffix.c" --source "$fixes/binfmt-status.c" \
	--effective-version "$EFF"
echo "# kcare-build kmod: level 1 $((t1 - t0)) ms, $(stat -c %s "$T/out/kcare_e2e_1.ko") bytes;" \
	"level 2 $(($(now_ms) - t1)) ms, $(stat -c %s "$T/out/kcare_e2e_2.ko") bytes"
# level 3 refuses every FIFO open: a reader sleeping in fifo_open() (no
# writer) holds its transition back
cat >"$T/fifo-refuse.c" <<'EOF'
// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kpatch-name: fifo-refuse
 * kpatch-description: test 7204: opening a FIFO fails
 * kpatch-cve: CVE-2026-0003
 */
#include <linux/errno.h>
#include <linux/fs.h>

int fifo_open(struct inode *inode, struct file *filp)
{
	return -ENXIO;
}
EOF
kcvm_kmod e2e --level 3 --source "$fixes/cmdline-suffix.c" --source "$fixes/binfmt-status.c" \
	--source "$T/fifo-refuse.c" --effective-version "$EFF"
# the same level 3 as another build of this kernel would have it: the same
# /proc/version (kernel id), another GNU build-id
OTHER_BID=$(printf 'another build of %s' "$KC_VM_ABI" | sha1sum | cut -c1-40)
mkdir -p "$T/other"
"$KC_PY" - "$T/out/kcare_e2e_3.ko" "$T/other/kcare_e2e_3.ko" "$KC_VM_BUILD_ID" "$OTHER_BID" <<'EOF' ||
import sys
src, dst, old, new = sys.argv[1:]
data = open(src, "rb").read()
tag = b"kcare_build_id="
if data.count(tag + old.encode()) != 1:
    sys.exit("%s: not one kcare_build_id=%s" % (src, old))
open(dst, "wb").write(data.replace(tag + old.encode(), tag + new.encode()))
EOF
	fail "cannot rewrite the build-id of level 3"
jq --arg b "$OTHER_BID" '.build_id = $b' "$T/out/kcare_e2e_3.json" >"$T/other/kcare_e2e_3.json" ||
	fail "cannot rewrite the sidecar of level 3"

step "another vendor's livepatch (tests/vm/samples/livepatch)"
cp -r "$KC_TOP/tests/vm/samples/livepatch" "$T/vendor" || fail "cannot copy the sample"
make -C "$KC_VM_HEADERS" M="$T/vendor" modules >"$T/vendor.log" 2>&1 || {
	tail -20 "$T/vendor.log"
	fail "the sample livepatch does not build"
}

step "patchsets"
# patchset NAME MODULE [ARGS]
patchset() {
	"$KC_PACK_BIN" patchset --product kernel "$@" -o "$T/$1.tar.bz2" >"$T/ps.out" 2>&1 ||
		fail "patchset $1: $(cat "$T/ps.out")"
}
# level 2 is younger than the --prefix 12h of the first update
patchset K20260101_01 "$T/out/kcare_e2e_1.ko" --released "$(date -u -d '10 days ago' +%Y-%m-%dT%H:%M:%SZ)"
patchset K20260102_01 "$T/out/kcare_e2e_2.ko" --released "$(date -u -d '2 hours ago' +%Y-%m-%dT%H:%M:%SZ)"
patchset K20260103_01 "$T/other/kcare_e2e_3.ko"
patchset K20260104_01 "$T/out/kcare_e2e_3.ko"

kcvm_ctl_start

cat >"$T/test.sh" <<'GUEST'
. /lib/kcarectl-guest.sh
bm=/proc/sys/fs/binfmt_misc/status
eff=$(cat /data/eff)
orig=$(cat /proc/cmdline)
# the agent's files on the disk image, as on a host that reboots
check disk guest_disk_mount /disk || exit 1
for d in /etc/sysconfig/kcare /var/lib/kcare /var/cache/kcare; do
	mkdir -p "/disk$d" "$d" && mount -o bind "/disk$d" "$d" || not_ok persist "cannot bind $d"
done
binfmt() {
	modprobe binfmt_misc && mount -t binfmt_misc none /proc/sys/fs/binfmt_misc
}
# bad NAME REGEX ARGS...: kcarectl ARGS exits 1 with one error line matching
# REGEX and leaves the kernel as it was
bad() {
	_n=$1 _re=$2
	shift 2
	kc_state >/tmp/before
	kc "$_n" 1 "$@"
	kc_one_line "$_n-one-line"
	check "$_n-says" has /tmp/kc.err "$_re"
	kc_state >/tmp/after
	if cmp -s /tmp/before /tmp/after; then
		ok "$_n-unchanged"
	else
		not_ok "$_n-unchanged" "$(diff /tmp/before /tmp/after | grep '^[-+][^-+]' | tr '\n' ' ')"
	fi
}

if [ "$(guest_arg boot)" = 1 ]; then
	cp /data/kcare.conf /etc/sysconfig/kcare/kcare.conf
	: >/etc/sysconfig/kcare/sysctl.conf
	check net guest_net_up
	check binfmt binfmt
	check binfmt-orig guest_file_is $bm enabled
	kc import-key 0 --import-key /data/root.pub
	kc register 0 --register "$(cat /data/key)"
	kc status-none 1 --status
	check status-none-says has /tmp/kc.out 'no kernel patches are applied'
	kc check-new 0 --check
	check check-new-says has /tmp/kc.out 'level 2'

	# level 2 is two hours old: --prefix 12h takes level 1
	t0=$(guest_ms)
	kc update-1 0 --update --prefix 12h
	result update1_ms $(($(guest_ms) - t0))
	check l1-says has /tmp/kc.out 'kernel patch level 1 applied'
	check l1-cmdline has /proc/cmdline ' kcare_fix=cmdline$'
	check l1-static-call has /proc/cmdline '^Linux version '
	check l1-binfmt-orig guest_file_is $bm enabled
	check l1-sysfs guest_file_is /sys/kernel/livepatch/kcare_e2e_1/enabled 1
	check l1-level guest_file_is /proc/kcare/level 1
	check l1-id guest_file_is /proc/kcare/id e2e
	check l1-cvelist guest_file_is /proc/kcare/cvelist CVE-2026-0001
	check l1-effective guest_file_is /proc/kcare/effective_version "$(uname -r)"
	check l1-kcare-uname sh -c '[ "$(kcare-uname -r)" = "$(uname -r)" ]'
	kc status-l1 0 --status
	kc check-l1 0 --check
	check check-l1-says has /tmp/kc.out 'level 2'

	# refused, each with one line and the kernel at level 1
	phase meta && bad tampered-meta 'refused' --update
	phase blob && bad corrupted-blob 'sha256|length' --update
	check corrupted-not-cached sh -c '[ "$(ls /var/cache/kcare/kernel/*.ko | wc -l)" = 1 ]'
	phase other && bad other-kernel "built for kernel build-id $(cat /data/other-build-id)" --update
	if phase block; then
		mkfifo /tmp/fifo
		cat /tmp/fifo >/dev/null 2>&1 &
		blocker=$!
		guest_wait 10 grep -q fifo_open /proc/$blocker/stack && ok blocker-in-fifo-open ||
			not_ok blocker-in-fifo-open "$(cat /proc/$blocker/stack)"
		bad blocked "reversed; blocked by: $blocker cat" --update --freezer none --timeout 3
		check blocked-module-gone sh -c '! grep -q "^kcare_e2e_3 " /proc/modules'
		check blocker-alive kill -0 $blocker
		kill $blocker
	fi
	phase clean
	kc_state >/tmp/l1
	insmod /data/kc_vm_sample.ko && guest_lp_wait kc_vm_sample 30 && ok vendor-loaded ||
		not_ok vendor-loaded "cannot load kc_vm_sample"
	bad other-vendor "livepatch 'kc_vm_sample' is not kcare's" --update
	guest_lp_disable kc_vm_sample 30 && rmmod kc_vm_sample && ok vendor-removed ||
		not_ok vendor-removed "cannot remove kc_vm_sample"
	kc_state >/tmp/after
	cmp -s /tmp/l1 /tmp/after && ok vendor-gone-l1 || not_ok vendor-gone-l1 "not level 1 again"

	# level 2 replaces level 1; sysctl.conf switches its cmdline fix off
	echo 'kernel.kcare_cmdline_suffix = 1' >/etc/sysconfig/kcare/sysctl.conf
	kc status-l2-cached 2 --status
	t0=$(guest_ms)
	kc update-2 0 --update
	result update2_ms $(($(guest_ms) - t0))
	check l2-says has /tmp/kc.out 'kernel patch level 2 applied'
	check l2-says-removed has /tmp/kc.out 'removed older levels: kcare_e2e_1'
	check l2-says-sysctl has /tmp/kc.out 'sysctl.conf: 1 kcare switch set'
	check l2-sysfs guest_file_is /sys/kernel/livepatch/kcare_e2e_2/enabled 1
	check l1-gone-sysfs guest_absent /sys/kernel/livepatch/kcare_e2e_1
	check l1-gone-module sh -c '! grep -q "^kcare_e2e_1 " /proc/modules'
	check l2-sysctl-conf guest_file_is /proc/sys/kernel/kcare_cmdline_suffix 1
	check l2-sysctl-conf-original guest_file_is /proc/cmdline "$orig"
	check l2-binfmt guest_file_is $bm 'enabled (kcare)'
	echo 0 >/proc/sys/kernel/kcare_cmdline_suffix
	check l2-cmdline has /proc/cmdline ' kcare_fix=cmdline$'
	echo 1 >/proc/sys/kernel/kcare_binfmt_status
	check l2-binfmt-switch-original guest_file_is $bm enabled
	echo 0 >/proc/sys/kernel/kcare_binfmt_status
	check l2-binfmt-switch-patched guest_file_is $bm 'enabled (kcare)'
	check l2-level guest_file_is /proc/kcare/level 2
	check l2-id guest_file_is /proc/kcare/id e2e
	check l2-cvelist guest_file_is /proc/kcare/cvelist "$(printf 'CVE-2026-0001\nCVE-2026-0002')"
	check l2-effective guest_file_is /proc/kcare/effective_version "$eff"
	check l2-patches sh -c '[ "$(grep -c "^kpatch-name: " /proc/kcare/patches)" = 2 ]'
	check l2-patches-binfmt has /proc/kcare/patches '^kpatch-name: binfmt-status$'
	check l2-patches-url has /proc/kcare/patches '^kpatch-patch-url: https://example.invalid/kcare/cmdline-suffix.patch$'
	kc status-l2 0 --status
	kc check-l2 1 --check
	kc info 0 --info
	check info-level has /tmp/kc.out '^kpatch-level: 2$'
	check info-module has /tmp/kc.out '^kpatch-module: kcare_e2e_2$'
	kc patch-info 0 --patch-info
	check patch-info-os has /tmp/kc.out '^OS: '
	check patch-info-kernel has /tmp/kc.out '^kernel: '
	check patch-info-time has /tmp/kc.out '^time: [0-9]{4}-'
	check patch-info-uname has /tmp/kc.out "^uname: $eff\$"
	check patch-info-blocks sh -c '[ "$(grep -c "^kpatch-name: " /tmp/kc.out)" = 2 ]'
	check patch-info-cmdline has /tmp/kc.out '^kpatch-name: cmdline-suffix$'
	check patch-info-cve has /tmp/kc.out '^kpatch-cve: CVE-2026-0002$'
	check patch-info-cvss has /tmp/kc.out '^kpatch-cvss: 7.8$'
	kc uname 0 --uname
	check uname-eff guest_file_is /tmp/kc.out "$eff"
	check kcare-uname-r sh -c "[ \"\$(kcare-uname -r)\" = $eff ]"
	check kcare-uname-a sh -c "kcare-uname -a | grep -q '^Linux kc-guest $eff #'"
	kc unload 0 --unload
	check unload-cmdline guest_file_is /proc/cmdline "$orig"
	check unload-binfmt guest_file_is $bm enabled
	check unload-no-proc guest_absent /proc/kcare
	check unload-no-switch guest_absent /proc/sys/kernel/kcare_cmdline_suffix
	check unload-no-livepatch sh -c '[ -z "$(ls /sys/kernel/livepatch)" ]'
	check unload-no-module sh -c '! grep -q "^kcare_" /proc/modules'
	check unload-kcare-uname sh -c '[ "$(kcare-uname -r)" = "$(uname -r)" ]'
	kc status-unloaded 1 --status
	kc check-unloaded 0 --check

	# for boot 2: what the boot unit loads, and a switch
	echo UPDATE_POLICY=LOCAL_FIRST >>/etc/sysconfig/kcare/kcare.conf
	echo 'kernel.kcare_binfmt_status = 1' >/etc/sysconfig/kcare/sysctl.conf
	ok boot1-done
else
	# boot 2: kcare.service's command comes before any network: the NIC's
	# driver is not even loaded
	ls /sys/class/net >/tmp/net
	check boot-before-net sh -c '[ "$(cat /tmp/net)" = lo ]'
	t0=$(guest_ms)
	kc boot 0 --boot --quiet
	result boot_update_ms $(($(guest_ms) - t0))
	check boot-still-no-net sh -c '[ "$(ls /sys/class/net)" = lo ]'
	check boot-level guest_file_is /proc/kcare/level 2
	check boot-sysfs guest_file_is /sys/kernel/livepatch/kcare_e2e_2/enabled 1
	check boot-cmdline has /proc/cmdline ' kcare_fix=cmdline$'
	check boot-switch guest_file_is /proc/sys/kernel/kcare_binfmt_status 1
	check boot-binfmt binfmt
	check boot-binfmt-original guest_file_is $bm enabled
	echo 0 >/proc/sys/kernel/kcare_binfmt_status
	check boot-binfmt-patched guest_file_is $bm 'enabled (kcare)'
	kc boot-status 0 --status
	check net guest_net_up
	kc update-current 0 --update
	check update-current-says has /tmp/kc.out 'up to date: level 2'
	kc unload 0 --unload
	check unload-no-proc guest_absent /proc/kcare
	check unload-cmdline guest_file_is /proc/cmdline "$orig"

	phase stop
	kc_state >/tmp/before
	kc update-server-down 1 --update
	kc_state >/tmp/after
	cmp -s /tmp/before /tmp/after && ok server-down-unchanged || not_ok server-down-unchanged "the kernel changed"
	kc local-first 0 --smart-update
	check local-first-says has /tmp/kc.out 'level 2 applied .*from the cache'
	check local-first-level guest_file_is /proc/kcare/level 2
	check local-first-cmdline has /proc/cmdline ' kcare_fix=cmdline$'
	kc local-first-status 0 --status
	ok boot2-done
fi
umount /etc/sysconfig/kcare /var/lib/kcare /var/cache/kcare /disk
GUEST

# guest N ANSWER: boot N of this run's guest while the background job ANSWER
# PREFIX answers its phases; fails unless the guest got to its end
guest() {
	rm -f "$T"/ctl/*
	$2 "$T/b$1-$cpus" &
	apid=$!
	track $apid
	vm_run --cpus "$cpus" --initrd "$T/initrd" --out "$T/b$1-$cpus" --disk "$T/disk" --net --timeout 600 \
		--append "kc.boot=$1 kc.ctl=$KCVM_CTL_PORT" || fail "boot $1 with $cpus vCPU failed"
	kill $apid 2>/dev/null
	wait $apid 2>/dev/null
	vm_expect_ok "$T/b$1-$cpus" "boot$1-done" || fail "boot $1 with $cpus vCPU stopped early"
	echo "# $cpus vCPU boot $1: $(grep -c '^KC-RESULT ok ' "$T/b$1-$cpus.results") checks in $KC_VM_MS ms"
}
# answer2 PREFIX: boot 2's phase: the server stops
answer2() {
	kcvm_phase "$1" stop 600 && ep_stop && kcvm_answer stop ok
}
# answer1 PREFIX: boot 1's phases: the server's files change while the guest waits
answer1() {
	for ph in meta blob other block clean; do
		kcvm_phase "$1" $ph 600 || return 1
		if act $ph >"$T/act.out" 2>&1; then
			kcvm_answer $ph ok
		else
			kcvm_answer $ph "$ph: $(tr '\n' ' ' <"$T/act.out")"
		fi
	done
}
act() {
	feeds="$EP_DATA/repo/feeds/main"
	case $1 in
	meta) # level 3 for another build (a new kernel feed version the agent
		# fetches), and a byte of the signed payload of every kernel feed file
		epc kcare deploy "$T/K20260103_01.tar.bz2" || return 1
		for f in "$feeds"/*kernel.json; do
			cp "$f" "$f.save" && sed -i 's/"payload":"eyJf/"payload":"eyJG/' "$f" &&
				! cmp -s "$f" "$f.save" || return 1
		done
		;;
	blob) # a byte of every module
		for f in "$feeds"/*kernel.json; do mv "$f.save" "$f" || return 1; done
		for b in "$EP_DATA"/repo/blobs/*; do
			cp "$b" "$b.save" && printf 'X' | dd of="$b" bs=1 seek=100 conv=notrunc 2>/dev/null || return 1
		done
		;;
	other)
		for b in "$EP_DATA"/repo/blobs/*.save; do mv "$b" "${b%.save}" || return 1; done
		;;
	block) epc kcare unroll K20260103_01 && epc kcare deploy "$T/K20260104_01.tar.bz2" ;;
	clean) epc kcare unroll K20260104_01 ;;
	esac
}

for cpus in ${KC_E2E_CPUS:-1 2}; do
	step "$cpus vCPU: eportal with levels 1 and 2, a kernel key"
	EP_DATA="$T/ep$cpus"
	ep_start
	epc kcare deploy "$T/K20260101_01.tar.bz2" >/dev/null || fail "deploy level 1"
	epc kcare deploy "$T/K20260102_01.tar.bz2" >/dev/null || fail "deploy level 2"
	KEY=$(epc key -a --product kernel) || fail "key add"
	D="$T/data$cpus"
	mkdir -p "$D"
	cp "$(epc root-key)" "$D/root.pub"
	printf 'PATCH_SERVER=http://10.0.2.2:%s/repo/\nLIBCARE_DISABLED=True\n' "$EP_PORT" >"$D/kcare.conf"
	echo "$KEY" >"$D/key"
	echo "$EFF" >"$D/eff"
	echo "$OTHER_BID" >"$D/other-build-id"
	cp "$T/vendor/kc_vm_sample.ko" "$D/"
	kcvm_initramfs "$T/initrd" --test "$T/test.sh" --dir "$D:/data"
	vm_disk_new "$T/disk" 32M

	step "$cpus vCPU: boot 1 (the server changes under it)"
	guest 1 answer1
	echo "# $cpus vCPU: kcarectl --update level 1 $(vm_result "$T/b1-$cpus" update1_ms) ms," \
		"level 2 $(vm_result "$T/b1-$cpus" update2_ms) ms"
	step "$cpus vCPU: boot 2 (the cache on the disk; the server stops under it)"
	guest 2 answer2
	echo "# $cpus vCPU: kcarectl --boot $(vm_result "$T/b2-$cpus" boot_update_ms) ms"
	ep_stop

	step "$cpus vCPU: the server lists the host at level 2"
	epc server list --json >"$T/servers.json" || fail "server list"
	jq -e --arg kid "$KC_VM_KERNEL_ID" --arg eff "$EFF" 'length == 1 and .[0].kernel_id == $kid and
		.[0].patch_level == 2 and .[0].effective_version == $eff and .[0].is_updated' \
		"$T/servers.json" >/dev/null || fail "server list: $(cat "$T/servers.json")"
done
echo "ok"
