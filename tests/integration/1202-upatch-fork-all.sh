#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `-p all` and processes forked while it runs (issue 13 item 3), in a PID
# namespace of the test's own (only its processes are "all"). A pre-forking
# server forks a short-lived child every 3 ms (some exit during the command,
# some exec) and one long-lived "session" child whenever a patcher holds it,
# so a child forked from the server before its change always exists.
# `patch -p all` and `unpatch -p all` exit 0 (an exiting or exec'ing child is
# gone, not a failure), and afterwards every live process that runs the
# server's code is patched (after patch) or clean (after unpatch): the
# sessions forked during the command included.
. "$(dirname "$0")/lib.sh"
need_pack
need_ctl
command -v unshare >/dev/null && command -v nsenter >/dev/null || skip "no unshare/nsenter"

src="$KC_SRC/forkall"
cc_prog "$T/server" "$src/server.c"
cc_fix "$T/fix.o" "$src/fix.c"
pack --target "$T/server" --object "$T/fix.o" -o "$T/server.kpatch" --id fork-all

# sh is the namespace's PID 1, the server its child
unshare --pid --fork --mount-proc sh -c '"$1" & wait' sh "$T/server" >"$T/server.log" 2>"$T/server.err" &
track $!
wait_for_line "$T/server.log" '^ready' 10 || skip "cannot make a PID namespace: $(cat "$T/server.err")"
ns=""
for c in $(pgrep -P $!); do ns=$c; done
[ -n "$ns" ] || fail "no PID 1 in the namespace"
track $ns

# libcare-ctl run inside the namespace
cat >"$T/ctl-ns" <<EOS
#!/bin/sh
exec nsenter -t $ns -p -m "$KC_CTL_BIN" "\$@"
EOS
chmod +x "$T/ctl-ns"
KC_CTL_BIN="$T/ctl-ns"

# check_all applied|clean: every live process mapping the server's code
check_all() {
	lcctl_ok info -p all --json
	"$KC_PY" "$KC_SRC/forkall/state.py" "$T/ctl.out" "$1" || fail "processes in the wrong state after $1"
}

for round in 1 2 3; do
	step "round $round: patch -p all while the server forks"
	lcctl_ok patch -p all "$T/server.kpatch"
	check_all applied
	step "round $round: unpatch -p all while the server forks"
	lcctl_ok unpatch -p all
	check_all clean
done
echo "ok"
