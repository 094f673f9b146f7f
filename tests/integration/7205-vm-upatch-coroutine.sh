#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Test 1205 where the kernel keeps soft-dirty bits (Debian's 6.1 under QEMU;
# this host's kernel has none, so 1205 covers the scan done wholly in the
# stop): the scan for suspended coroutine stacks then runs while the target
# runs and the stop reads only the pages written since. In the guest: an
# upgrade and an unpatch with coroutines suspended in the patch code keep
# that code, resumed coroutines finish it, recover unmaps it; three rounds
# of upgrade/unpatch under a thread that keeps coroutines suspending inside
# the function at moving places; a patch while they are inside the original
# function is busy. And the point of it: with 64 MiB of heap, the stop of an
# unpatch reads a small part of what the scan read (KC_SOFT_DIRTY=0 turns
# the bits off: then the stop reads it all, with a budget of 1024 MiB; with
# the default 64 MiB it reads nothing and keeps the code, which a run with
# the bits frees).
. "$(dirname "$0")/lib.sh"
need_pack
need_ctl
. "$KC_TOP/tests/vm/vm.sh"
vm_kernel_prepare

src="$KC_SRC/coro"
cc_prog "$T/target" "$src/target.c"
cc_fix "$T/fix-l1.o" "$src/fix-l1.c"
cc_fix "$T/fix-l2.o" "$src/fix-l2.c"
pack --target "$T/target" --object "$T/fix-l1.o" -o "$T/l1.kpatch" --id coro --level 1 >/dev/null
pack --target "$T/target" --object "$T/fix-l2.o" -o "$T/l2.kpatch" --id coro --level 2 >/dev/null

cat >"$T/test.sh" <<'GUEST'
ctl=/usr/bin/libcare-ctl
mkfifo /tmp/cmd
/usr/bin/coro-target /tmp/cmd 64 >/tmp/t.log 2>&1 &
pid=$!
guest_wait 60 grep -q '^ready' /tmp/t.log || not_ok ready "$(cat /tmp/t.log)"

# co CMD REGEX: a command to the target and the line it answers
co() {
	_n=$(wc -l </tmp/t.log)
	echo "$1" >/tmp/cmd
	guest_wait 10 sh -c "tail -n +$((_n + 1)) /tmp/t.log | grep -Eq '$2'"
}
# run NAME ARGS...: libcare-ctl, output in /tmp/NAME.out, exit status in rc
run() {
	_name=$1
	shift
	"$ctl" "$@" >/tmp/$_name.out 2>&1
	rc=$?
	sed "s/^/$_name: /" /tmp/$_name.out
}
# stat NAME KEY: a figure of the stats line of run NAME
stat() {
	sed -n "s/.* $2=\([0-9]*\).*/\1/p" /tmp/$1.out | tail -1
}
alive() {
	kill -0 $pid 2>/dev/null && ok "$1" || not_ok "$1" "target died"
}

run l1 patch -p $pid /root/l1.kpatch
[ $rc = 0 ] && ok patch-l1 || not_ok patch-l1 "exit $rc"
check start0 co "start 0 1" '^suspended 0$'
run up patch -p $pid /root/l2.kpatch --stats
grep -q "kept [0-9]* KiB of coro level 1 mapped" /tmp/up.out && ok upgrade-kept || not_ok upgrade-kept "$(cat /tmp/up.out)"
check start1 co "start 1 2" '^suspended 1$'
run un unpatch -p $pid --id coro --stats
grep -q "kept [0-9]* KiB of coro level 2 mapped" /tmp/un.out && ok unpatch-kept || not_ok unpatch-kept "$(cat /tmp/un.out)"
result unpatch_scan_kib "$(stat un scan_kib)"
result unpatch_scan_stop_kib "$(stat un scan_stop_kib)"
result unpatch_stop_us "$(stat un stop_us)"
# what the stop read: the pages written since the bits were cleared, not the 64 MiB of heap
[ "$(stat un scan_stop_kib)" -lt 8192 ] && [ "$(stat un scan_kib)" -gt 65536 ] && ok tracked ||
	not_ok tracked "scan_kib=$(stat un scan_kib) scan_stop_kib=$(stat un scan_stop_kib)"
check resume0 co "resume 0" '^ended 0$'
check resume1 co "resume 1" '^ended 1$'
check result0 grep -q '^result 0 1003$' /tmp/t.log
check result1 grep -q '^result 1 2005$' /tmp/t.log
alive alive-resumed
run rec recover -p $pid
run info info -p $pid
grep -q retired /tmp/info.out && not_ok unmapped "$(cat /tmp/info.out)" || ok unmapped

for round in 1 2 3; do
	run l1 patch -p $pid /root/l1.kpatch
	check churn$round co churn '^churning 1$'
	sleep 0.2
	run up patch -p $pid /root/l2.kpatch --stats
	[ $rc = 0 ] && ok churn-upgrade$round || not_ok churn-upgrade$round "exit $rc"
	sleep 0.2
	run un unpatch -p $pid --id coro --stats
	[ $rc = 0 ] && ok churn-unpatch$round || not_ok churn-unpatch$round "exit $rc"
	# the churn wrote pages after the bits were cleared: the stop read those again
	result churn_stop_kib$round "$(stat un scan_stop_kib)"
	[ "$(stat un scan_stop_kib)" -gt 0 ] && ok churn-dirty$round ||
		not_ok churn-dirty$round "$(cat /tmp/un.out)"
	alive churn-alive$round
	run busy patch -p $pid /root/l1.kpatch --timeout 0.3
	[ $rc = 1 ] && grep -q "a coroutine is busy in 'work'" /tmp/busy.out && ok churn-busy$round ||
		not_ok churn-busy$round "exit $rc: $(cat /tmp/busy.out)"
	check unchurn$round co unchurn '^churn [0-9]+ [0-9]+$'
	[ "$(grep -c '^churn [0-9]* 0$' /tmp/t.log)" = $round ] && ok churn-results$round ||
		not_ok churn-results$round "$(grep '^churn' /tmp/t.log)"
	run rec recover -p $pid
	run info info -p $pid
	grep -q retired /tmp/info.out && not_ok churn-unmapped$round "$(cat /tmp/info.out)" || ok churn-unmapped$round
done

# without the bits the stop reads all of it, within its budget
run l1 patch -p $pid /root/l1.kpatch
KC_SOFT_DIRTY=0 KC_SCAN_BUDGET_MIB=1024 "$ctl" unpatch -p $pid --id coro --stats >/tmp/nosd.out 2>&1
result untracked_scan_stop_kib "$(stat nosd scan_stop_kib)"
result untracked_stop_us "$(stat nosd stop_us)"
[ "$(stat nosd scan_stop_kib)" -gt 65536 ] && ok untracked || not_ok untracked "$(cat /tmp/nosd.out)"
# over the default budget (64 MiB of heap and a little more) the stop reads nothing and keeps the code
run l1 patch -p $pid /root/l1.kpatch
KC_SOFT_DIRTY=0 "$ctl" unpatch -p $pid --id coro --stats >/tmp/nosdb.out 2>&1
result budget_scan_stop_kib "$(stat nosdb scan_stop_kib)"
grep -q "kept [0-9]* KiB of coro level 1 mapped: scanning for suspended stacks would read more than KC_SCAN_BUDGET_MIB" /tmp/nosdb.out &&
	[ "$(stat nosdb scan_stop_kib)" -lt 1024 ] && ok untracked-budget || not_ok untracked-budget "$(cat /tmp/nosdb.out)"
# with the bits, the next run frees it
run rec recover -p $pid
run info info -p $pid
grep -q retired /tmp/info.out && not_ok budget-freed "$(cat /tmp/info.out)" || ok budget-freed
alive alive-end
GUEST

vm_initramfs "$T/initrd" --test "$T/test.sh" --bin "$KC_CTL_BIN" --bin "$T/target:/usr/bin/coro-target" \
	--file "$T/l1.kpatch:/root/l1.kpatch" --file "$T/l2.kpatch:/root/l2.kpatch"
vm_run --cpus 2 --mem 512M --initrd "$T/initrd" --out "$T/boot" --timeout 300 || fail "guest failed"
cat "$T/boot.results"
names="patch-l1 start0 upgrade-kept start1 unpatch-kept tracked resume0 resume1 result0 result1 alive-resumed unmapped untracked untracked-budget budget-freed alive-end"
for r in 1 2 3; do
	names="$names churn$r churn-upgrade$r churn-unpatch$r churn-dirty$r churn-alive$r churn-busy$r unchurn$r churn-results$r churn-unmapped$r"
done
vm_expect_ok "$T/boot" $names || fail "guest checks missing"
echo "# during the churn the stops read again $(vm_result "$T/boot" churn_stop_kib1), $(vm_result "$T/boot" churn_stop_kib2), $(vm_result "$T/boot" churn_stop_kib3) KiB"
echo "# unpatch with 64 MiB of heap: stop $(vm_result "$T/boot" unpatch_stop_us) us reading $(vm_result "$T/boot" unpatch_scan_stop_kib) KiB (of $(vm_result "$T/boot" unpatch_scan_kib) KiB scanned); without soft-dirty: stop $(vm_result "$T/boot" untracked_stop_us) us reading $(vm_result "$T/boot" untracked_scan_stop_kib) KiB"
echo "ok"
