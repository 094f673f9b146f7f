#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Figures of the VM harness (tests/vm): how long a kernel live patch test
# takes under QEMU's software emulation. Builds the harness's sample
# livepatch (tests/vm/samples/livepatch), then boots Debian's kernel BENCH_RUNS
# times (default 3) with 1 and with 2 vCPUs: whole run, guest boot,
# transition after insmod, unpatch; medians. Also the cost of putting the
# agent's programs and their libraries into the initramfs. Then kcare's own
# levels: kcare-build kmod's build time and module size for the test fixes
# (tests/kernel-fixes), and the whole kcarectl --update (level 0 -> 1, 1 -> 2)
# in the guest against an eportal on the host, with 1 and 2 vCPUs. Prints tables;
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

# --- kcare's own levels: kcare-build kmod, then kcarectl --update in the guest
# against an eportal on the host (QEMU user networking)
PACK="$KC_BUILD/src/agent/kcare-build"
CTL="$KC_BUILD/src/agent/kcarectl"
EP="$KC_BUILD/src/eportal/eportal"
EPC="$KC_BUILD/src/eportal/kc.eportal"
for b in "$PACK" "$CTL" "$KC_BUILD/src/agent/kcare-uname" "$EP" "$EPC"; do
	[ -x "$b" ] || {
		echo "# kcare levels: skipped ($b is not built)"
		exit 0
	}
done
fixes="$KC_TOP/tests/kernel-fixes"
# kmod NAME LEVEL ARGS: one timed kcare-build kmod; the module's size
kmod() {
	_name=$1 _level=$2
	shift 2
	_t0=$(now_ms)
	XDG_CACHE_HOME="$T/cache" "$PACK" kmod --kernel "$KC_VM_ABI" --kernel-tree "$KC_VM_TREE" -o "$T/out" \
		--id bench --level "$_level" "$@" >"$T/kmod.out" 2>&1 || fail "kcare-build kmod $*: $(tail -3 "$T/kmod.out")"
	printf '%-46s %10s %10s\n' "$_name" "$(($(now_ms) - _t0))" "$(stat -c %s "$T/out/kcare_bench_$_level.ko")"
}
echo
echo "## kcare-build kmod (tests/kernel-fixes), one build each"
printf '%-46s %10s %10s\n' module "build ms" bytes
kmod "level 1: cmdline-suffix (cold kernel cache)" 1 --source "$fixes/cmdline-suffix.c"
kmod "level 1: cmdline-suffix" 1 --source "$fixes/cmdline-suffix.c"
kmod "level 2: + binfmt-status (a module's function)" 2 --source "$fixes/cmdline-suffix.c" \
	--source "$fixes/binfmt-status.c" --effective-version 6.1.0-99-amd64
echo "# cold: the first build for a kernel also decodes its kallsyms into XDG_CACHE_HOME/kcare"

"$PACK" patchset --product kernel K20260101_01 "$T/out/kcare_bench_1.ko" -o "$T/k1.tar.bz2" \
	--released "$(date -u -d '10 days ago' +%Y-%m-%dT%H:%M:%SZ)" >"$T/ps.out" 2>&1 || fail "patchset 1: $(cat "$T/ps.out")"
"$PACK" patchset --product kernel K20260102_01 "$T/out/kcare_bench_2.ko" -o "$T/k2.tar.bz2" \
	--released "$(date -u -d '2 hours ago' +%Y-%m-%dT%H:%M:%SZ)" >"$T/ps.out" 2>&1 || fail "patchset 2: $(cat "$T/ps.out")"
port=$("$KC_PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$EP" --listen "127.0.0.1:$port" --data "$T/ep" >"$T/ep.log" 2>&1 &
track $!
wait_for_line "$T/ep.log" '^eportal: listening' 30 || fail "eportal did not start: $(cat "$T/ep.log")"
for k in k1 k2; do
	"$EPC" --data "$T/ep" kcare deploy "$T/$k.tar.bz2" >/dev/null || fail "cannot deploy $k"
done
mkdir -p "$T/data"
"$EPC" --data "$T/ep" key -a --product kernel >"$T/data/key" || fail "cannot add a key"
cp "$("$EPC" --data "$T/ep" root-key)" "$T/data/root.pub"
printf 'PATCH_SERVER=http://10.0.2.2:%s/repo/\nLIBCARE_DISABLED=True\n' "$port" >"$T/data/kcare.conf"
cat >"$T/update.sh" <<'GUEST'
mkdir -p /etc/sysconfig/kcare
cp /data/kcare.conf /etc/sysconfig/kcare/
guest_net_up || not_ok net "no network"
kcarectl --import-key /data/root.pub >/dev/null && kcarectl --register "$(cat /data/key)" >/dev/null ||
	not_ok register "cannot register"
# update LEVEL ARGS: the whole command, and the transition it reports
update() {
	_l=$1
	shift
	t0=$(guest_ms)
	kcarectl --update "$@" >/tmp/o 2>&1 || not_ok "update-$_l" "$(cat /tmp/o)"
	result "update${_l}_ms" $(($(guest_ms) - t0))
	result "tr${_l}_ms" "$(sed -n 's/.*transition \([0-9.]*\) s.*/\1/p' /tmp/o | awk '{ print $1 * 1000 }')"
}
update 1 --prefix 12h
update 2
kcarectl --unload >/dev/null || not_ok unload "cannot unload"
GUEST
vm_initramfs "$T/upd" --test "$T/update.sh" --dir "$T/data:/data" --bin "$CTL" --bin "$KC_BUILD/src/agent/kcare-uname"

echo
echo "## kcarectl --update in the guest against eportal on the host, $RUNS runs per row, medians (ms)"
printf '%-6s %12s %12s %12s %12s\n' vCPUs "0->1 whole" "transition" "1->2 whole" "transition"
for cpus in 1 2; do
	: >"$T/rows"
	i=0
	while [ $i -lt "$RUNS" ]; do
		i=$((i + 1))
		if vm_run --cpus "$cpus" --net --initrd "$T/upd" --out "$T/upd$cpus" --timeout 300 >/dev/null 2>"$T/run.err"; then
			echo "$(vm_result "$T/upd$cpus" update1_ms) $(vm_result "$T/upd$cpus" tr1_ms)" \
				"$(vm_result "$T/upd$cpus" update2_ms) $(vm_result "$T/upd$cpus" tr2_ms)" >>"$T/rows"
		else
			echo "# $cpus vCPU: run $i failed: $(head -1 "$T/run.err")"
		fi
	done
	printf '%-6s %12s %12s %12s %12s\n' "$cpus" "$(cut -d' ' -f1 "$T/rows" | median)" \
		"$(cut -d' ' -f2 "$T/rows" | median)" "$(cut -d' ' -f3 "$T/rows" | median)" "$(cut -d' ' -f4 "$T/rows" | median)"
done
echo "# whole: kcarectl --update as the guest's shell times it (10 ms steps): check-in, metadata, download,"
echo "# checks, finit_module, transition, removal of the older level; transition: what kcarectl reports (0.1 s steps)"
