#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The VM harness itself (tests/vm): Debian's kernel boots under QEMU with 1
# and with 2 vCPUs; a livepatch module built here with kbuild against the
# installed headers (tests/vm/samples/livepatch) changes /proc/cmdline (vmlinux)
# and binfmt_misc's status file (a module loaded after the patch), and
# disabling plus rmmod bring the originals back; the guest fetches a file from
# an HTTP server on the host's 127.0.0.1 and keeps a file on its disk image
# from the first boot to the second; a guest that panics or hangs fails vm_run.
# Prints boot and transition times.
. "$(dirname "$0")/lib.sh"
. "$KC_TOP/tests/vm/vm.sh"

step "kernel and base initramfs"
vm_kernel_prepare
step "kernel $KC_VM_ABI, build-id $KC_VM_BUILD_ID, kernel id $KC_VM_KERNEL_ID"
[ "$(wc -l <"$KC_VM_SYSTEM_MAP")" -gt 10000 ] || fail "$KC_VM_SYSTEM_MAP is not a real symbol map"
grep -q ' t cmdline_proc_show$' "$KC_VM_SYSTEM_MAP" || fail "no cmdline_proc_show in $KC_VM_SYSTEM_MAP"

step "livepatch sample module"
cp -r "$KC_TOP/tests/vm/samples/livepatch" "$T/mod" || fail "cannot copy the sample"
t0=$(now_ms)
make -C "$KC_VM_HEADERS" M="$T/mod" modules >"$T/mod.log" 2>&1 || {
	tail -20 "$T/mod.log"
	fail "the sample livepatch module does not build against $KC_VM_HEADERS"
}
echo "# module build: $(($(now_ms) - t0)) ms"

step "HTTP server on the host"
mkdir -p "$T/www"
token=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
echo "hello from the host $token" >"$T/www/hello.txt"
"$KC_PY" -u -m http.server --bind 127.0.0.1 --directory "$T/www" 0 >"$T/http.log" 2>&1 &
track $!
expect_line "$T/http.log" 'Serving HTTP on .* port [0-9]+' 10
port=$(sed -n 's/.* port \([0-9]*\).*/\1/p' "$T/http.log" | head -1)

cat >"$T/test.sh" <<'GUEST'
case "$(cat /proc/cmdline)" in *kc.boot=*) ok cmdline-orig ;; *) not_ok cmdline-orig "$(cat /proc/cmdline)" ;; esac
. /root/guest-check.sh
check boot-module grep -q '^dummy ' /proc/modules
check host-program sh -c '[ "$(kc-hello 3)" = "kc-hello 1.7321" ]'

check disk guest_disk_mount /mnt/state
token=$(guest_arg token)
if [ "$(guest_arg boot)" = 1 ]; then
	check disk-write sh -c "echo $token >/mnt/state/token"
else
	check disk-kept guest_file_is /mnt/state/token "$token"
	check net guest_net_up
	port=$(guest_arg port)
	check wget guest_fetch "http://10.0.2.2:$port/hello.txt" /tmp/hello.txt 10
	check http-body guest_file_is /tmp/hello.txt "hello from the host $token"
fi
umount /mnt/state
GUEST
# a dynamically linked host program (libc, libm) runs in the guest
cat >"$T/hello.c" <<'C'
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv)
{
	printf("kc-hello %.4f\n", sqrt(atof(argc > 1 ? argv[1] : "0")));
	return 0;
}
C
cc_prog "$T/kc-hello" "$T/hello.c" -lm
vm_initramfs "$T/initrd" --test "$T/test.sh" --file "$T/mod/kc_vm_sample.ko:/root/kc_vm_sample.ko" \
	--file "$KC_TOP/tests/vm/samples/livepatch/guest-check.sh:/root/guest-check.sh" --bin "$T/kc-hello" --module dummy
vm_disk_new "$T/disk" 32M

boot=0
for cpus in 1 2; do
	boot=$((boot + 1))
	step "boot $boot: $cpus vCPU"
	vm_run --cpus "$cpus" --initrd "$T/initrd" --out "$T/boot$boot" --disk "$T/disk" --net --timeout 120 \
		--append "kc.boot=$boot kc.token=$token kc.port=$port" || fail "boot $boot ($cpus vCPU) failed"
	vm_expect_ok "$T/boot$boot" insmod transition patched module-patched restored module-restored disk boot-module host-program ||
		fail "boot $boot: checks missing"
	echo "# $cpus vCPU: whole run $KC_VM_MS ms, guest booted in $(vm_result "$T/boot$boot" boot_ms) ms," \
		"transition $(vm_result "$T/boot$boot" transition_ms) ms, unpatch $(vm_result "$T/boot$boot" unpatch_ms) ms"
done
vm_expect_ok "$T/boot2" net wget http-body disk-kept || fail "the guest did not fetch the host's file or lost its disk"
[ "$(vm_disk_cat "$T/disk" /token)" = "$token" ] || fail "the disk image does not hold what the guest wrote"
grep -q 'GET /hello.txt' "$T/http.log" || fail "the HTTP server saw no request"

# vm_fails NAME TIMEOUT GUEST-SCRIPT MESSAGE...: vm_run must fail and say each MESSAGE
vm_fails() {
	name=$1
	echo "$3" >"$T/$1.sh"
	vm_initramfs "$T/$1" --test "$T/$1.sh"
	! vm_run --initrd "$T/$1" --out "$T/$1" --timeout "$2" 2>"$T/$1.err" || fail "vm_run passed the $1 guest"
	shift 3
	for m; do
		grep -qF "$m" "$T/$name.err" || fail "vm_run did not say '$m': $(head -3 "$T/$name.err")"
	done
	echo "# run stopped after $KC_VM_MS ms"
}

step "a guest that panics fails"
vm_fails crash 60 'not_ok deliberate "a failed check"; echo c >/proc/sysrq-trigger; sleep 5; ok not-reached' \
	'without KC-DONE' 'kernel logged an error' 'not_ok deliberate a failed check'
step "a guest that hangs is stopped by the timeout"
vm_fails hang 3 'sleep 600' 'did not finish within 3 s'
echo "PASS"
