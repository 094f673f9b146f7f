#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Short functions (issue 13 item 5): a library function of 4 bytes
# (`return x + 1;` at -O2) followed by the compiler's alignment padding is
# packed with its entry jump taking one byte of that padding, and patched,
# upgraded and unpatched live while two threads call it in a tight loop;
# no call ever returns a result of neither version, and after unpatch the
# padding holds its own bytes again. A patcher killed in the middle leaves
# the 5 bytes whole (the file's, or one jump), which `recover` finishes.
# Where the bytes after a short function are used, the refusal names why:
# a symbol right after it (-falign-functions=1), a branch landing in the
# padding, a relocation holding its address.
. "$(dirname "$0")/lib.sh"
need_pack
need_ctl

src="$KC_SRC/short"
cc_lib "$T/libshort.so" "$src/lib.c"
size=$(readelf -sW "$T/libshort.so" | awk '$8 == "short_fn" { print $3; exit }')
[ -n "$size" ] && [ "$size" -lt 5 ] || fail "short_fn is '$size' bytes: the test needs fewer than 5"
cc_prog "$T/target" "$src/target.c" -L"$T" -lshort -Wl,-rpath,"$T"
cc_fix "$T/fix-l1.o" "$src/fix-l1.c"
cc_fix "$T/fix-l2.o" "$src/fix-l2.c"

step "pack a fix of a $size-byte function followed by padding"
pack --target "$T/libshort.so" --object "$T/fix-l1.o" -o "$T/l1.kpatch" --id short
pack --target "$T/libshort.so" --object "$T/fix-l2.o" -o "$T/l2.kpatch" --id short --level 2

start_target target "$T/target"
pid=$TPID
expect_line "$T/target.log" '^calls [1-9][0-9]* [1-9][0-9]* level 0 0 bad 0$' 5

# entry: the state of short_fn's 5 bytes (orig, jump, or torn)
entry() {
	"$KC_PY" "$src/entry.py" $pid "$T/libshort.so" short_fn || fail "cannot read the entry"
}

# level N: both threads' latest results are of level N (0: original)
level() {
	m=$(lines "$T/target.log")
	expect_line "$T/target.log" "^calls .* level $1 $1 bad 0\$" 5 $m
}

step "patch while both threads call it"
lcctl_ok patch -p $pid --stats "$T/l1.kpatch"
out_has "^$pid: patched short level 1 in $(re_quote "$T/libshort.so") \(1 functions?\)$"
level 1
[ "$(entry)" = jump ] || fail "short_fn's entry: $(entry)"
expect_patches $pid "short:1:libshort.so"

step "upgrade to level 2, then unpatch"
lcctl_ok patch -p $pid "$T/l2.kpatch"
level 2
expect_patches $pid "short:2:libshort.so"
lcctl_ok unpatch -p $pid --id short
level 0
[ "$(entry)" = orig ] || fail "after unpatch, short_fn's 5 bytes are not the file's: $(entry)"
expect_patches $pid ""

step "a killed patcher leaves the 5 bytes whole; recover finishes"
seed=${KC_SEED:-$(date +%s)}
echo "# seed $seed"
awk -v seed="$seed" 'BEGIN { srand(seed); for (i = 0; i < 25; i++) printf "%d\n", int(rand() * rand() * 15001) }' \
	>"$T/delays"
kills=0
while read -r us; do
	if [ "$(entry)" = orig ]; then
		set -- patch -p $pid "$T/l1.kpatch"
	else
		set -- unpatch -p $pid --id short
	fi
	"$KC_CTL_BIN" "$@" >"$T/kill.out" 2>"$T/kill.err" &
	cpid=$!
	sleep "$(printf '0.%06d' "$us")"
	kill -9 $cpid 2>/dev/null
	{ wait $cpid; } 2>/dev/null
	rc=$?
	[ $rc = 137 ] && kills=$((kills + 1))
	case $rc in 0 | 1 | 137) ;; *) fail "libcare-ctl $1 exited $rc: $(cat "$T/kill.err")" ;; esac
	state=$(entry)
	case $state in orig | jump) ;; *) fail "after a kill at $us us: short_fn's entry is $state" ;; esac
	"$KC_CTL_BIN" recover -p $pid >"$T/kill.out" 2>"$T/kill.err" ||
		fail "recover after a kill at $us us: $(cat "$T/kill.err")"
	state=$(entry)
	"$KC_CTL_BIN" info -p $pid --json >"$T/info.json" || fail "info -p $pid failed"
	if grep -q '"short"' "$T/info.json"; then
		[ "$state" = jump ] || fail "info lists the patch, the entry is $state"
	else
		[ "$state" = orig ] || fail "info lists no patch, the entry is $state"
	fi
	alive $pid || fail "the target died"
	no_line "$T/target.log" 'bad [1-9]'
done <"$T/delays"
echo "# $kills of 25 runs killed"
[ "$(entry)" = orig ] || lcctl_ok unpatch -p $pid --id short
[ "$(entry)" = orig ] || fail "short_fn is not original at the end: $(entry)"
level 0

step "refused: a symbol right after the function"
cc_lib "$T/libtight.so" "$src/lib.c" -falign-functions=1
pack_refuses "function 'short_fn' is too short for the entry jump \\($size < 5 bytes\\): it is followed by symbol 'short_after' at \\+$size\$" \
	--target "$T/libtight.so" --object "$T/fix-l1.o" -o "$T/tight.kpatch"
[ ! -e "$T/tight.kpatch" ] || fail "a refused pack left an output file"

step "refused: a branch lands in the padding, a relocation takes its address"
cc_lib "$T/librefused.so" "$src/refused.S"
cc_fix "$T/fix-jumped.o" "$src/fix-refused.c" -DFN=short_jumped
cc_fix "$T/fix-taken.o" "$src/fix-refused.c" -DFN=short_taken
pack_refuses "function 'short_jumped' is too short for the entry jump \\(4 < 5 bytes\\): a branch at 0x[0-9a-f]+ lands at \\+4\$" \
	--target "$T/librefused.so" --object "$T/fix-jumped.o" -o "$T/r.kpatch"
pack_refuses "function 'short_taken' is too short for the entry jump \\(4 < 5 bytes\\): the relocation at 0x[0-9a-f]+ refers to \\+4\$" \
	--target "$T/librefused.so" --object "$T/fix-taken.o" -o "$T/r.kpatch"

alive $pid || fail "the target died"
no_line "$T/target.log" 'bad [1-9]'
echo "ok"
