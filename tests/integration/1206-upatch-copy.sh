#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Exported data the program copied (R_X86_64_COPY) is bound the way the
# dynamic linker bound it for that process: a fix of a library writes the
# program's live copy of the library's counters (one the library's code
# reaches through its GOT, one only the fix uses, both versioned), and a
# hand-written fix of libc's getenv() reads the program's environ, in a
# small program that uses environ and in python3.
. "$(dirname "$0")/lib.sh"
need_pack
need_ctl

src="$KC_SRC/copy"
cc_lib "$T/libkccopy.so" "$src/lib.c" -Wl,--version-script="$src/lib.map"
cc_prog "$T/target" "$src/target.c" -L"$T" -lkccopy -Wl,-rpath,"$T"
cc_fix "$T/fix.o" "$src/fix.c"
# the fixture must be the case at hand: the program holds the copies
for v in lib_errors lib_seen; do
	readelf -rW "$T/target" | grep -q "R_X86_64_COPY .* $v@KCCOPY_1" ||
		fail "the program has no versioned copy relocation for $v"
done
pack --target "$T/libkccopy.so" --object "$T/fix.o" -o "$T/copy.kpatch" --id copy-fix

start_target target "$T/target"
pid=$TPID
expect_line "$T/target.log" '^errors [0-9]+ lib [0-9]+ seen 0$' 5

# steps_after M: the distinct steps of the program's counter between the lines
# after line M (one lib_fail() per line: 1 unpatched, 1000 patched), once 5 are there
steps_after() {
	wait_count "$T/target.log" '^errors ' 5 5 "$1" || fail "the target stopped printing"
	awk -v from="$(($1 + 1))" '
		NR >= from && /^errors / { if (seen) print $2 - prev; prev = $2; seen = 1 }
	' "$T/target.log" | sort -u | tr '\n' ' '
}

step "patch"
lcctl_ok patch -p $pid "$T/copy.kpatch"
out_has "^$pid: patched copy-fix level 1 in $(re_quote "$T/libkccopy.so") \(1 functions?\)$"
expect_value "$T/target.log" '^errors [0-9]+ lib [0-9]+ seen 7$'
m=$(lines "$T/target.log")
d=$(steps_after "$m")
[ "$d" = "1000 " ] || fail "the program does not see the fix's counting (steps: $d)"
awk -v from="$((m + 1))" 'NR >= from && /^errors / && $2 != $4 { bad = 1 } END { exit bad }' \
	"$T/target.log" || fail "the program and the library see different counters"

step "unpatch"
lcctl_ok unpatch -p $pid --id copy-fix
expect_value "$T/target.log" '^errors [0-9]+ lib [0-9]+ seen 7$'
m=$(lines "$T/target.log")
d=$(steps_after "$m")
[ "$d" = "1 " ] || fail "after unpatch, steps of $d"
mem_equal $pid "$T/libkccopy.so" lib_fail lib_count
alive $pid || fail "target died"

step "libc getenv() reading __environ"
libc=$(sed -n 's/^.* \(\/.*\/libc\.so\.6\)$/\1/p' /proc/$pid/maps | head -1)
[ -n "$libc" ] || fail "no libc.so.6 in the target's maps"
readelf -W --dyn-syms "$libc" | grep -q ' __environ@@GLIBC_' || fail "$libc exports no __environ"
cc_fix "$T/getenv-fix.o" "$src/getenv-fix.c" -fno-builtin -fno-tree-loop-distribute-patterns
pack --target "$libc" --object "$T/getenv-fix.o" -o "$T/getenv.kpatch" --id getenv-fix
cc_prog "$T/envprog" "$src/envprog.c"
readelf -rW "$T/envprog" | grep -q 'R_X86_64_COPY .*environ@GLIBC_' ||
	fail "the program has no copy relocation for environ"
# getenv_rounds NAME: target NAME (TPID) prints what getenv() gives for HOME,
# a variable set at run time and KC_PATCHED; the fix must see its environ
getenv_rounds() {
	expect_line "$T/$1.log" '^home /kc-home late late mark \(null\)$' 5
	lcctl_ok patch -p $TPID "$T/getenv.kpatch"
	expect_value "$T/$1.log" '^home /kc-home late late mark yes$'
	no_line "$T/$1.log" '^home \(null\)'
	lcctl_ok unpatch -p $TPID --id getenv-fix
	expect_value "$T/$1.log" '^home /kc-home late late mark \(null\)$'
	alive $TPID || fail "$1 died"
}

HOME=/kc-home start_target envprog "$T/envprog"
getenv_rounds envprog

# python3 copies environ too (the issue's case: HOME was None while patched)
py=/usr/bin/python3
if [ -x "$py" ] && readelf -rW "$py" | grep -q 'R_X86_64_COPY .*environ@GLIBC_'; then
	HOME=/kc-home start_target python "$py" -c '
import ctypes, time
libc = ctypes.CDLL(None)
libc.getenv.restype = ctypes.c_char_p
libc.setenv(b"KC_LATE", b"late", 1)
print("ready", flush=True)
while True:
    print("home %s late %s mark %s" % tuple(
        (libc.getenv(n) or b"(null)").decode() for n in (b"HOME", b"KC_LATE", b"KC_PATCHED")),
        flush=True)
    time.sleep(0.01)
'
	getenv_rounds python
else
	echo "# no python3 with a copy of environ: that part is not run"
fi
echo "ok"
