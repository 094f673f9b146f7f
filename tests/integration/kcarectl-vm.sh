# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by the 72xx tests (kcarectl in Debian's kernel under QEMU) after
# lib.sh: the VM harness, the binaries the guest runs, and
#   kcvm_kmod ID ARGS...       kcare-build kmod --id ID ARGS into $T/out
#   kcvm_initramfs OUT ARGS... vm_initramfs with kcarectl, kcare-uname and the
#                              guest helpers (/lib/kcarectl-guest.sh)
#   kcvm_ctl_start, kcvm_phase, kcvm_answer   the host answers the guest's phases
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

# The host's side of the guest's "phase NAME" (kcarectl-guest.sh), for a test
# that changes the server while one guest runs (vm_run in the foreground, a
# background job answering the phases):
#   kcvm_ctl_start        a plain HTTP server for $T/ctl on 127.0.0.1,
#                         KCVM_CTL_PORT (give the guest kc.ctl=PORT)
#   kcvm_phase PREFIX NAME [S]   waits until the guest of vm_run --out PREFIX
#                         reached phase NAME (status 1 after S s, default 300)
#   kcvm_answer NAME TEXT the answer the guest waits for ("ok" goes on)
kcvm_ctl_start() {
	mkdir -p "$T/ctl"
	"$KC_PY" -u -m http.server 0 --bind 127.0.0.1 --directory "$T/ctl" >"$T/ctl.log" 2>&1 &
	track $!
	wait_for_line "$T/ctl.log" ' port [0-9]+' 10 || fail "the control server did not start: $(cat "$T/ctl.log")"
	KCVM_CTL_PORT=$(sed -n 's/.* port \([0-9]*\).*/\1/p' "$T/ctl.log" | head -1)
}

kcvm_phase() {
	_kcvm_end=$(($(date +%s) + ${3:-300}))
	until grep -q "^KC-RESULT phase $2[[:space:]]*\$" "$1.results" 2>/dev/null; do
		[ "$(date +%s)" -lt $_kcvm_end ] || return 1
		sleep 0.1
	done
}

kcvm_answer() {
	echo "$2" >"$T/ctl/.$1" && mv -f "$T/ctl/.$1" "$T/ctl/$1"
}
