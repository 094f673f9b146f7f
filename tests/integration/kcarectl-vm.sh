# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by the 72xx tests (kcarectl in Debian's kernel under QEMU) after
# lib.sh: the VM harness, the binaries the guest runs, and
#   kcvm_kmod ID ARGS...       kcare-build kmod --id ID ARGS into $T/out
#   kcvm_initramfs OUT ARGS... vm_initramfs with kcarectl, kcare-uname and the
#                              guest helpers (/lib/kcarectl-guest.sh)
. "$KC_TOP/tests/vm/vm.sh"

KCCTL_BIN=${KCCTL_BIN:-$KC_BUILD/src/agent/kcarectl}
UNAME_BIN="$KC_BUILD/src/agent/kcare-uname"
[ -x "$KCCTL_BIN" ] && [ -x "$UNAME_BIN" ] || skip "kcarectl or kcare-uname is not built"
vm_kernel_prepare

kcvm_kmod() {
	_kcvm_id=$1
	shift
	[ -f "$KC_TOP/tests/kernel-fixes/cmdline-suffix.c" ] || skip "no tests/kernel-fixes"
	need_pack
	XDG_CACHE_HOME="$T/cache" "$KC_PACK_BIN" kmod --kernel "$KC_VM_ABI" --kernel-tree "$KC_VM_TREE" \
		-o "$T/out" --id "$_kcvm_id" "$@" >"$T/kmod.out" 2>&1 || {
		cat "$T/kmod.out"
		fail "kcare-build kmod $*"
	}
}

kcvm_initramfs() {
	_kcvm_out=$1
	shift
	vm_initramfs "$_kcvm_out" --bin "$KCCTL_BIN" --bin "$UNAME_BIN" \
		--file "$KC_TOP/tests/integration/kcarectl-guest.sh:/lib/kcarectl-guest.sh" "$@"
}
