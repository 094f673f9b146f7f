#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Coroutines suspended inside patched code (issue 13 item 2, the qemu crash
# of issue 17). The target runs work() on makecontext/swapcontext coroutines
# that suspend inside it, on stacks of their own that no thread uses:
# - a patch while one is suspended inside the original work() is busy
#   (refused when --timeout runs out, naming the function);
# - an upgrade to level 2 while one is suspended inside level 1's code, and
#   an unpatch while one is suspended inside level 2's code, succeed and keep
#   that code mapped (RETIRED, shown by info, not counted as applied);
#   resumed, each coroutine returns into the code it was suspended in and
#   prints that level's result, and the target lives;
# - the next libcare-ctl run, once nothing returns into the retired code,
#   unmaps it;
# - the same with coroutines that suspend inside work() without pause on
#   stacks that come and go, during three upgrades and unpatches.
# Before the engine scanned for such stacks, the resumed coroutines
# returned into unmapped memory and the target died of SIGSEGV.
. "$(dirname "$0")/lib.sh"
need_pack
need_ctl

src="$KC_SRC/coro"
cc_prog "$T/target" "$src/target.c"
cc_fix "$T/fix-l1.o" "$src/fix-l1.c"
cc_fix "$T/fix-l2.o" "$src/fix-l2.c"
pack --target "$T/target" --object "$T/fix-l1.o" -o "$T/l1.kpatch" --id coro --level 1
pack --target "$T/target" --object "$T/fix-l2.o" -o "$T/l2.kpatch" --id coro --level 2
mkfifo "$T/cmd"

start_target target "$T/target" "$T/cmd"
pid=$TPID
path=$(re_quote "$T/target")

# co CMD EXPECT: one command to the target, and the line it must answer
co() {
	_m=$(lines "$T/target.log")
	echo "$1" >"$T/cmd"
	expect_line "$T/target.log" "$2" 5 $_m
}

# retired PID N: info lists N retired regions of patch coro
retired() {
	info_check "$1" "sum(len([r for r in o.get('retired', []) if r['id'] == 'coro']) for o in pr['objects']) == $2"
}

# kcare_maps PID: how many patch regions are mapped (their headers carry KCREGION)
kcare_maps() {
	"$KC_PY" - "$1" <<'EOF'
import re, sys
pid = sys.argv[1]
n = 0
with open("/proc/%s/maps" % pid) as maps, open("/proc/%s/mem" % pid, "rb") as mem:
    for line in maps:
        f = line.split()
        lo, hi = (int(x, 16) for x in f[0].split("-"))
        if f[1].startswith("r--p") and (len(f) < 6 or f[5].startswith("[anon:kcare")):
            try:
                mem.seek(lo)
                n += mem.read(8) == b"KCREGION"
            except OSError:
                pass
print(n)
EOF
}

step "a coroutine suspended inside the original work(): patch is busy"
co "start 0 1" '^suspended 0$'
lcctl_fails patch -p $pid "$T/l1.kpatch" --timeout 0.5
err_has "a coroutine is busy in 'work': a suspended stack"
untouched $pid "$T/target" work
co "resume 0" '^ended 0$'
grep -q '^result 0 3$' "$T/target.log" || fail "coroutine 0 did not return 3"

step "level 1 applied once it has ended"
lcctl_ok patch -p $pid "$T/l1.kpatch"
out_has "^$pid: patched coro level 1 in $path \(1 functions?\)$"
expect_patches $pid "coro:1:target"

step "upgrade to level 2 with a coroutine suspended in level 1's code"
co "start 1 2" '^suspended 1$'
lcctl_ok patch -p $pid "$T/l2.kpatch"
out_has "^$pid: patched coro level 2 in $path \(1 functions?, replaced level 1\)$"
out_has "^$pid: kept [0-9]+ KiB of coro level 1 mapped: a suspended stack returns into it$"
expect_patches $pid "coro:2:target"
retired $pid 1
lcctl_ok info -p $pid
out_has "^    retired coro level 1: [0-9]+ KiB kept mapped"
# "all" lists processes with patches, and those with code kept from them
lcctl_ok info -p all
out_has "^$pid target$"

step "unpatch with a coroutine suspended in level 2's code"
co "start 2 3" '^suspended 2$'
lcctl_ok unpatch -p $pid --id coro
out_has "^$pid: unpatched coro level 2 from $path$"
out_has "^$pid: kept [0-9]+ KiB of coro level 2 mapped: a suspended stack returns into it$"
expect_patches $pid ""
retired $pid 2
mem_equal $pid "$T/target" work
# nothing is applied: a second unpatch says so, and does not count the retired code
lcctl_fails unpatch -p $pid --id coro
err_has "is applied"

step "resumed, each returns into the code it was suspended in"
co "resume 1" '^(ended 1|result 1 .*)$'
alive $pid || fail "target died resuming into level 1's retired code"
co "resume 2" '^(ended 2|result 2 .*)$'
alive $pid || fail "target died resuming into level 2's retired code"
wait_count "$T/target.log" '^ended [12]$' 2 5 || fail "the coroutines did not end"
grep -q '^result 1 1005$' "$T/target.log" || fail "coroutine 1 did not finish level 1's work()"
grep -q '^result 2 2007$' "$T/target.log" || fail "coroutine 2 did not finish level 2's work()"
co "start 3 4" '^suspended 3$'
co "resume 3" '^ended 3$'
grep -q '^result 3 9$' "$T/target.log" || fail "the original work() is not back"

step "the next run unmaps the retired code nothing returns into"
[ "$(kcare_maps $pid)" = 2 ] || fail "expected 2 retired regions mapped, found $(kcare_maps $pid)"
lcctl_ok recover -p $pid
retired $pid 0
[ "$(kcare_maps $pid)" = 0 ] || fail "$(kcare_maps $pid) patch regions still mapped"
alive $pid || fail "target died"

# scan_kib: what the scan of the last libcare-ctl --stats run read, KiB
scan_kib() {
	sed -n "s/^$pid: stats .* scan_kib=\([0-9]*\).*/\1/p" "$T/ctl.out" | tail -1
}

step "memory marked do-not-dump (qemu's guest RAM) is not scanned; plain memory is"
co "start 0 5" '^suspended 0$'
co "resume 0" '^ended 0$'
# a return address into the original work() in the middle of 64 MiB marked MADV_DONTDUMP
co "ghost dd 64" '^ghost 0x[0-9a-f]+$'
lcctl_ok patch -p $pid "$T/l1.kpatch" --stats
kib=$(scan_kib)
[ -n "$kib" ] && [ "$kib" -lt 16384 ] || fail "the scan read $kib KiB: the do-not-dump mapping was read"
lcctl_ok unpatch -p $pid --id coro
# the same word in 1 MiB of plain memory: read, and the patch is busy
co "ghost plain 1" '^ghost 0x[0-9a-f]+$'
word=$(sed -n 's/^ghost 0x0*\([0-9a-f]*\)$/\1/p' "$T/target.log" | tail -1)
lcctl_fails patch -p $pid "$T/l1.kpatch" --timeout 0.5
err_has "a coroutine is busy in 'work': .*word at 0x$word\)"
co unghost '^unghosted$'

step "over the stop's budget (KC_SCAN_BUDGET_MIB), retired code is kept; a later run frees it"
lcctl_ok patch -p $pid "$T/l1.kpatch"
export KC_SCAN_BUDGET_MIB=0
lcctl_ok unpatch -p $pid --id coro
out_has "^$pid: unpatched coro level 1 from $path$"
out_has "^$pid: kept [0-9]+ KiB of coro level 1 mapped: scanning for suspended stacks would read more than KC_SCAN_BUDGET_MIB in the stop; a later run retries$"
expect_patches $pid ""
retired $pid 1
# a coroutine suspended inside work() is still found over budget (the pages where the scan found it)
co "start 0 6" '^suspended 0$'
lcctl_fails patch -p $pid "$T/l1.kpatch" --timeout 0.5
err_has "a coroutine is busy in 'work'"
unset KC_SCAN_BUDGET_MIB
co "resume 0" '^ended 0$'
lcctl_ok recover -p $pid
retired $pid 0
[ "$(kcare_maps $pid)" = 0 ] || fail "$(kcare_maps $pid) patch regions still mapped"

step "coroutines suspending inside work() all the time, at moving places"
for round in 1 2 3; do
	lcctl_ok patch -p $pid "$T/l1.kpatch"
	co churn '^churning 1$'
	sleep 0.2
	lcctl_ok patch -p $pid "$T/l2.kpatch" --stats
	out_has "^$pid: patched coro level 2 in $path"
	sleep 0.2
	lcctl_ok unpatch -p $pid --id coro --stats
	alive $pid || fail "target died after unpatch round $round"
	# now they suspend inside the original work(): busy, whatever the moment of the stop
	lcctl_fails patch -p $pid "$T/l1.kpatch" --timeout 0.3
	err_has "a coroutine is busy in 'work'"
	co unchurn '^churn [0-9]+ [0-9]+$'
	[ "$(grep -c '^churn [0-9]* 0$' "$T/target.log")" = $round ] ||
		fail "a churned coroutine got a result no level gives"
	alive $pid || fail "target died"
	lcctl_ok recover -p $pid
	retired $pid 0
	[ "$(kcare_maps $pid)" = 0 ] || fail "$(kcare_maps $pid) patch regions still mapped after the churn"
done
echo "ok"
