#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A guest with a shell on this terminal, for a look around or for debugging a
# VM test by hand (Ctrl-A X quits QEMU; `exit` powers the guest off).
# Usage: KC_BUILD=build-x sh tests/vm/boot.sh [--cpus N] [--net] [--disk IMG]
#        [--append ARGS] [--initrd FILE] [vm_initramfs options: --bin P --file S:/D ...]
# With --initrd, that image (a kept test's $T/initrd) boots instead of a new one.
KC_TOP=$(cd "$(dirname "$0")/../.." && pwd)
: "${KC_BUILD:=$KC_TOP/build}"
. "$KC_TOP/tests/vm/vm.sh"
vm_kernel_prepare
run=""
initrd=""
while [ $# -gt 0 ]; do
	case "$1" in
	--net) run="$run --net" && shift && continue ;;
	--cpus | --disk | --append | --mem) run="$run $1 $2" ;;
	--initrd) initrd=$2 ;;
	*) break ;;
	esac
	shift 2
done
d=$(mktemp -d "${TMPDIR:-/tmp}/kc-vm-boot.XXXXXX") || exit 1
trap 'rm -rf "$d"' EXIT
trap 'exit 130' INT TERM HUP
if [ -z "$initrd" ]; then
	echo 'echo "kc-guest: helpers of /lib/kc-guest.sh are loaded in this shell only after: . /lib/kc-guest.sh"' >"$d/test.sh"
	vm_initramfs "$d/initrd" --test "$d/test.sh" "$@"
	initrd=$d/initrd
fi
# shellcheck disable=SC2086 # the options are words
vm_run --shell --initrd "$initrd" --out "$d/boot" $run
