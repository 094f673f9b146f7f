#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Figures of the VM harness (tests/vm): how long a kernel live patch test
# takes under QEMU's software emulation. Builds the harness's sample
# livepatch (tests/vm/samples/livepatch), then boots Debian's kernel BENCH_RUNS
# times (default 3) with 1 and with 2 vCPUs: whole run, guest boot,
# transition after insmod, unpatch; medians. Also the cost of putting the
# agent's programs and their libraries into the initramfs. Prints a table;
# never fails on a figure (exit 1 only when it cannot run, 77 when there is
# no QEMU or no kernel headers).
# usage: sh bench/vm-bench.sh [BUILDDIR]
KC_TOP=$(cd "$(dirname "$0")/.." && pwd)
KC_BUILD=$(cd "${1:-$KC_TOP/build}" 2>/dev/null && pwd) || {
	echo "vm-bench: no build directory '${1:-$KC_TOP/build}'" >&2
	exit 1
}
export KC_TOP KC_BUILD
. "$KC_TOP/tests/integration/lib.sh"
. "$KC_TOP/tests/vm/vm.sh"
RUNS=${BENCH_RUNS:-3}

median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'
}

t0=$(now_ms)
vm_kernel_prepare
echo "## VM harness: Debian kernel $KC_VM_ABI under QEMU (TCG), $RUNS runs per row, medians"
echo "# kernel prepared (cached after the first time) in $(($(now_ms) - t0)) ms"

cp -r "$KC_TOP/tests/vm/samples/livepatch" "$T/mod" || fail "cannot copy the sample"
t0=$(now_ms)
make -C "$KC_VM_HEADERS" M="$T/mod" modules >"$T/mod.log" 2>&1 || fail "the sample module does not build"
echo "# sample livepatch module: built in $(($(now_ms) - t0)) ms, $(stat -c %s "$T/mod/kc_vm_sample.ko") bytes"

echo '. /root/guest-check.sh' >"$T/test.sh"
vm_initramfs "$T/initrd" --test "$T/test.sh" --file "$T/mod/kc_vm_sample.ko:/root/kc_vm_sample.ko" \
	--file "$KC_TOP/tests/vm/samples/livepatch/guest-check.sh:/root/guest-check.sh"
echo "# initramfs: base $(stat -c %s "$KC_VM_BASE") bytes (gzip), with the test $(stat -c %s "$T/initrd") bytes"

# row LABEL CPUS INITRD: RUNS boots, one line of medians
row() {
	: >"$T/rows"
	i=0
	while [ $i -lt "$RUNS" ]; do
		i=$((i + 1))
		if vm_run --cpus "$2" --initrd "$3" --out "$T/run" --timeout 180 >/dev/null 2>"$T/run.err"; then
			echo "$KC_VM_MS $(vm_result "$T/run" boot_ms) $(vm_result "$T/run" transition_ms)" \
				"$(vm_result "$T/run" unpatch_ms)" >>"$T/rows"
		else
			echo "# $1: run $i failed: $(head -1 "$T/run.err")"
		fi
	done
	printf '%-34s %5s %10s %10s %12s %10s\n' "$1" "$2" "$(cut -d' ' -f1 "$T/rows" | median)" \
		"$(cut -d' ' -f2 "$T/rows" | median)" "$(cut -d' ' -f3 "$T/rows" | grep . | median)" \
		"$(cut -d' ' -f4 "$T/rows" | grep . | median)"
}

printf '%-34s %5s %10s %10s %12s %10s\n' case vCPUs "run ms" "boot ms" "transition" "unpatch"
row "sample livepatch" 1 "$T/initrd"
row "sample livepatch" 2 "$T/initrd"
bins=""
for b in kcarectl kcare-uname libcare-ctl; do
	[ -x "$KC_BUILD/src/agent/$b" ] && bins="$bins --bin $KC_BUILD/src/agent/$b"
done
if [ -n "$bins" ]; then
	echo 'kcare-uname -r >/dev/null 2>&1 || true' >"$T/agent.sh"
	# shellcheck disable=SC2086 # the options are words
	vm_initramfs "$T/agent" --test "$T/agent.sh" $bins
	row "boot with the agent ($(($(stat -c %s "$T/agent") / 1048576)) MB initrd)" 1 "$T/agent"
fi
echo "# run: QEMU start to exit (boot, test, poweroff); boot: guest uptime when the test starts;"
echo "# transition: insmod to transition 0; unpatch: enabled=0 to the sysfs directory gone"
