#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# kcarectl and containers (namespaces made with unshare). On the host, one
# --lib-update patches a process inside a container, whose library sits on a
# tmpfs only the container sees, matched by the build-id of what it maps, as
# well as the same program on the host. Run inside a container (its own PID
# and mount namespaces, /proc of its own), kcarectl patches that container's
# processes and leaves the host's alone.
. "$(dirname "$0")/kcarectl-lib.sh"
command -v unshare >/dev/null || skip "no unshare"
unshare --fork --pid --mount-proc sh -c "mount -t tmpfs kc-probe '$T'" 2>/dev/null ||
	skip "unshare --fork --pid --mount-proc with a tmpfs mount is not permitted here"

step "a library, a program, a patch, a patchset on eportal"
src="$KC_SRC/container"
mkdir "$T/build" "$T/ct" "$T/host"
cc_lib "$T/build/libct.so" "$src/lib.c"
cc_prog "$T/build/target" "$src/target.c" -L"$T/build" -lct -Wl,-rpath,"$T/ct"
cp "$T/build/libct.so" "$T/build/target" "$T/host/"
cc_prog "$T/host/target" "$src/target.c" -L"$T/build" -lct -Wl,-rpath,"$T/host"
cc_fix "$T/fix.o" "$src/fix.c"
pack --target "$T/build/libct.so" --object "$T/fix.o" -o "$T/ct.kpatch" --id ct --cve CVE-2026-2001
"$KC_PACK_BIN" patchset --product libs --name U20260201_01 --released "$(date -u -d '2 days ago' +%Y-%m-%dT%H:%M:%SZ)" \
	-o "$T/ps.tar.bz2" "$T/ct.kpatch" >"$T/ps.out" 2>&1 || fail "patchset: $(cat "$T/ps.out")"
ep_start
epc libcare deploy "$T/ps.tar.bz2" >/dev/null || fail "deploy"
printf 'PATCH_SERVER=%s/repo/\n' "$EP_URL" >"$ROOT/etc/sysconfig/kcare/kcare.conf"
kc_ok --import-key "$(epc root-key)"

# start_container NAME: the target in new PID and mount namespaces, its files on
# a tmpfs over $T/ct that only it sees; its output in $T/NAME.log
start_container() {
	unshare --fork --pid --mount-proc --kill-child sh -c \
		'mount -t tmpfs kc-ct "$1" && cp "$2/target" "$2/libct.so" "$1/" && "$1/target" & wait' \
		sh "$T/ct" "$T/build" >"$T/$1.log" 2>"$T/$1.err" &
	track $!
	wait_for_line "$T/$1.log" '^ready' 10 || fail "the container did not start: $(cat "$T/$1.err")"
	expect_line "$T/$1.log" '^value 1$' 5
}

step "from the host: the container's process and the host's are both patched"
start_container ct1
start_target host "$T/host/target"
kc_ok --lib-update
kc_out "^processes: 2 patched, 0 already up to date, 0 skipped, 0 failed$"
expect_value "$T/ct1.log" '^value 2$'
expect_value "$T/host.log" '^value 2$'
kc_ok --lib-unload
kc_out "^processes: 2 unpatched, 0 failed$"
expect_value "$T/ct1.log" '^value 1$'
expect_value "$T/host.log" '^value 1$'

step "inside a container: only its own processes"
# the container runs the target and, once it is up, kcarectl; the host's
# target runs on, unpatched
unshare --fork --pid --mount-proc --kill-child sh -c \
	'mount -t tmpfs kc-ct "$1" && cp "$2/target" "$2/libct.so" "$1/" || exit 1
	 "$1/target" >"$3/ct2.log" 2>&1 &
	 n=0; until grep -q "^value 1" "$3/ct2.log"; do n=$((n+1)); [ $n -lt 100 ] || exit 1; sleep 0.1; done
	 "$4" --lib-update >"$3/inside.out" 2>"$3/inside.err"; echo "rc $?" >>"$3/inside.out"
	 "$4" --lib-info >"$3/inside-info.json" 2>>"$3/inside.err"
	 sleep 1' sh "$T/ct" "$T/build" "$T" "$KCCTL_BIN" >"$T/ct2.err" 2>&1 &
cpid=$!
track $cpid
n=0
while ! grep -q '^rc ' "$T/inside.out" 2>/dev/null; do
	n=$((n + 1))
	[ $n -lt 300 ] || fail "kcarectl inside the container did not finish: $(cat "$T/ct2.err" "$T/inside.err" 2>/dev/null)"
	sleep 0.1
done
grep -q '^rc 0$' "$T/inside.out" || fail "kcarectl inside the container: $(cat "$T/inside.out" "$T/inside.err")"
grep -q '^processes: 1 patched, 0 already up to date, 0 skipped, 0 failed$' "$T/inside.out" ||
	fail "inside the container: $(cat "$T/inside.out")"
grep -q '^value 2$' "$T/ct2.log" || sleep 0.5
grep -q '^value 2$' "$T/ct2.log" || fail "the container's process was not patched: $(tail -3 "$T/ct2.log")"
expect_value "$T/host.log" '^value 1$'
# pids inside are the container's own: its target is a low pid there
jq -e 'length == 1 and .[0].pid < 100' "$T/inside-info.json" >/dev/null || fail "lib-info inside: $(cat "$T/inside-info.json")"
echo "ok"
