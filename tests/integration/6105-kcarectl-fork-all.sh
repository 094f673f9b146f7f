#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# kcarectl --lib-update / --lib-unload and processes forked while they run
# (issue 13 item 3): the pre-forking server of 1202 forks a short-lived child
# every 3 ms and a long-lived session whenever a patcher holds it, so a
# process forked from the server before its change always exists. Each
# command exits 0 (an exiting or exec'ing child is gone, not a failure) and
# afterwards every live process that runs the server's code is patched
# (after --lib-update) or clean (after --lib-unload). The test runs in a PID
# namespace of its own (kcarectl-lib.sh), so "every process" is the test's.
. "$(dirname "$0")/kcarectl-lib.sh"
need_ctl

step "the server, a fix of it, a patchset on a local eportal"
src="$KC_SRC/forkall"
cc_prog "$T/server" "$src/server.c"
cc_fix "$T/fix.o" "$src/fix.c"
pack --target "$T/server" --object "$T/fix.o" -o "$T/server.kpatch" --id fork-all --level 1 \
	--cve CVE-2026-1301
kc_feed_libs U20260301_01 "$T/server.kpatch"

"$T/server" >"$T/server.log" 2>"$T/server.err" &
track $!
wait_for_line "$T/server.log" '^ready' 10 || fail "the server did not start: $(cat "$T/server.err")"

# check_all applied|clean: every live process mapping the server's code
check_all() {
	lcctl_ok info -p all --json
	"$KC_PY" "$KC_SRC/forkall/state.py" "$T/ctl.out" "$1" || fail "processes in the wrong state after $1"
}

for round in 1 2 3; do
	step "round $round: --lib-update while the server forks"
	kc_ok --lib-update
	check_all applied
	step "round $round: --lib-unload while the server forks"
	kc_ok --lib-unload
	check_all clean
done
echo "ok"
