#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A seccomp-filtered process: its filter (installed after startup on all
# threads) makes mmap, and in a second run mprotect too, fail with EPERM.
# `patch` cannot set up patch code there: it fails with exit 1 and one
# clean error line, and the process is untouched (memory equal to the
# file, the same mappings, no patch listed), alive, still running the
# original code, and its filter still in force.
. "$(dirname "$0")/lib.sh"
need_pack
need_ctl

src="$KC_SRC/seccomp"
cc_prog "$T/target" "$src/target.c"
cc_fix "$T/fix.o" "$src/fix.c"
pack --target "$T/target" --object "$T/fix.o" -o "$T/seccomp.kpatch" --id seccomp

for deny in mmap mprotect; do
	step "a filter denying $deny"
	start_target $deny "$T/target" $deny
	pid=$TPID
	grep -q '^filtered$' "$T/$deny.log" || fail "the filter did not work: $(cat "$T/$deny.log")"
	grep -q '^Seccomp:[[:space:]]*2$' "/proc/$pid/status" || fail "no seccomp filter in /proc/$pid/status"
	expect_line "$T/$deny.log" '^value 1$' 5
	cp "/proc/$pid/maps" "$T/maps.before"
	lcctl_fails patch -p $pid "$T/seccomp.kpatch"
	err_has "^libcare-ctl: $pid: "
	untouched $pid "$T/target" value_fn
	cp "/proc/$pid/maps" "$T/maps.after"
	cmp -s "$T/maps.before" "$T/maps.after" ||
		fail "the mappings changed: $(diff "$T/maps.before" "$T/maps.after")"
	expect_value "$T/$deny.log" '^value 1$'
	m=$(lines "$T/$deny.log")
	kill -USR1 $pid
	expect_line "$T/$deny.log" '^mmap still denied$' 5 $m
	no_line "$T/$deny.log" '^BAD'
	# the refused patch left nothing to remove: unpatch says so (exit 1)
	lcctl_fails unpatch -p $pid
	err_has "^libcare-ctl: $pid: no patch is applied$"
	alive $pid || fail "the target died"
	kill -9 $pid
done
echo "ok"
