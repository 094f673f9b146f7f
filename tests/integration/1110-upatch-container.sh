#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A process in a container: `unshare --fork --pid --mount-proc` with a
# private tmpfs holding the target and its library, so that neither file
# exists for the host at the path the process maps (the host has a decoy
# library with another build-id there). Patched from the host by its host
# pid: the patch, built from a copy of the library, is matched by the
# build-id of what the process really maps; the new code runs; info lists
# the patch; unpatch restores the bytes. Skipped where unshare or mount is
# not permitted.
. "$(dirname "$0")/lib.sh"
need_pack
need_ctl
command -v unshare >/dev/null || skip "no unshare"
unshare --fork --pid --mount-proc sh -c "mount -t tmpfs kc-probe '$T'" 2>/dev/null ||
	skip "unshare --fork --pid --mount-proc with a tmpfs mount is not permitted here"

src="$KC_SRC/container"
mkdir "$T/build" "$T/ct"
cc_lib "$T/build/libct.so" "$src/lib.c"
cc_prog "$T/build/target" "$src/target.c" -L"$T/build" -lct -Wl,-rpath,"$T/ct"
cc_lib "$T/ct/libct.so" "$src/lib.c" -DDECOY
[ "$(buildid "$T/ct/libct.so")" != "$(buildid "$T/build/libct.so")" ] || fail "the decoy has the same build-id"
cc_fix "$T/fix.o" "$src/fix.c"
pack --target "$T/build/libct.so" --object "$T/fix.o" -o "$T/ct.kpatch" --id ct

step "start the container"
# sh is the container's init; it mounts the tmpfs over $T/ct (hiding the
# decoy), copies the files in and runs the target as its child
unshare --fork --pid --mount-proc --kill-child sh -c \
	'mount -t tmpfs kc-ct "$1" && cp "$2/target" "$2/libct.so" "$1/" && "$1/target" & wait' \
	sh "$T/ct" "$T/build" >"$T/target.log" 2>"$T/target.err" &
upid=$!
track $upid
wait_for_line "$T/target.log" '^ready' 10 || fail "the container did not start: $(cat "$T/target.err")"
expect_line "$T/target.log" '^value 1$' 5

# children PID: the children of PID's main thread
children() {
	cat "/proc/$1/task/$1/children" 2>/dev/null | tr -d '\n'
}
init=$(children $upid)
pid=$(children ${init% })
pid=${pid% }
[ -n "$pid" ] && [ -d "/proc/$pid" ] || fail "cannot find the target's host pid"
track $pid
nspid=$(awk '$1 == "NSpid:" { $1 = ""; print substr($0, 2) }' "/proc/$pid/status")
echo "# host pid $pid, pids in the namespaces: $nspid"
[ "$nspid" = "$pid $(sed -n 's/^ready pid //p' "$T/target.log")" ] ||
	fail "pid $pid is not the container's target (NSpid $nspid)"
grep -q " $T/ct/libct.so$" "/proc/$pid/maps" || fail "the target does not map $T/ct/libct.so"
# what the process maps, through its root: the real file, not the decoy
lib="/proc/$pid/root$T/ct/libct.so"
[ "$(buildid "$lib")" = "$(buildid "$T/build/libct.so")" ] || fail "the container's library is not the build's"
mem_equal $pid "$lib" ct_value

step "patch -p $pid from the host"
lcctl_ok patch -p $pid "$T/ct.kpatch"
out_has "^$pid: patched ct level 1 in .*libct\.so \(1 functions?\)$"
expect_value "$T/target.log" '^value 2$'
expect_patches $pid "ct:1:libct.so"
mem_patched $pid "$lib" ct_value

step "unpatch"
lcctl_ok unpatch -p $pid
out_has "^$pid: unpatched ct level 1 from .*libct\.so$"
expect_value "$T/target.log" '^value 1$'
expect_patches $pid ""
mem_equal $pid "$lib" ct_value
alive $pid || fail "the target died"
echo "ok"
