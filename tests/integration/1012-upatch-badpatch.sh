#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Bad patch files: corrupted (targeted defects in every structure the parser
# or the engine must check, then random bit flips in the headers), truncated,
# for another architecture. Each must fail with exit 1 and one clear line on
# stderr, and write nothing into the process (its code equal to the file, no
# new executable mapping, no patch listed). Random flips may also hit fields
# whose damage is harmless (a timestamp, the description): then libcare-ctl
# may succeed, but must not crash, hang, or break the target. And a fix whose
# function exists nowhere in the target: kcare-build pack refuses it (exit 1,
# no output file).
. "$(dirname "$0")/lib.sh"
need_pack
need_ctl

src="$KC_SRC/badpatch"
cc_prog "$T/target" "$src/target.c"
cc_fix "$T/fix.o" "$src/fix.c"
cc_fix "$T/fix-missing.o" "$src/fix-missing.c"
pack --target "$T/target" --object "$T/fix.o" -o "$T/good.kpatch" --id good

step "pack refuses a fix that replaces nothing"
pack_rc --target "$T/target" --object "$T/fix-missing.o" -o "$T/missing.kpatch"
[ $KC_RC = 1 ] || fail "pack exited $KC_RC, expected 1"
[ ! -e "$T/missing.kpatch" ] || fail "pack left an output file"
[ "$(lines "$T/pack.err")" = 1 ] && grep -q '^kcare-build: ' "$T/pack.err" ||
	fail "pack: expected one line 'kcare-build: ...' on stderr"

start_target target "$T/target"
pid=$TPID
expect_line "$T/target.log" '^value 22$' 5
exec_maps $pid >"$T/maps.before"

# rejected FILE [ERR-REGEX]: applying FILE fails cleanly and writes nothing
rejected() {
	lcctl_fails patch -p $pid "$1"
	[ -z "${2:-}" ] || err_has "$2"
	untouched $pid "$T/target" check helper
	exec_maps $pid >"$T/maps.after"
	cmp -s "$T/maps.before" "$T/maps.after" || fail "executable mappings changed"
}

for kind in elf-magic shoff meta-range meta-magic version nfuncs id-stroff reserved reloc-type func-image \
	func-orig func-target; do
	step "corrupted: $kind"
	"$KC_PY" "$KC_TOOL" corrupt "$T/good.kpatch" "$T/$kind.kpatch" $kind || fail "cannot corrupt"
	rejected "$T/$kind.kpatch"
done

step "wrong architecture"
"$KC_PY" "$KC_TOOL" corrupt "$T/good.kpatch" "$T/arch.kpatch" wrong-arch || fail "cannot corrupt"
rejected "$T/arch.kpatch" 'architecture|aarch64|machine'

size=$(wc -c <"$T/good.kpatch")
for len in 0 1 63 64 200 $((size / 2)) $((size - 1)); do
	step "truncated to $len bytes"
	head -c $len "$T/good.kpatch" >"$T/trunc.kpatch"
	rejected "$T/trunc.kpatch"
done

step "random bit flips in the headers"
for seed in 1 2 3 4 5 6 7 8 9 10 11 12; do
	"$KC_PY" "$KC_TOOL" flip "$T/good.kpatch" "$T/flip.kpatch" $seed 4 || fail "cannot flip"
	lcctl patch -p $pid "$T/flip.kpatch"
	case $KC_RC in
	0)
		alive $pid || fail "seed $seed: accepted, and the target died"
		info_json $pid
		if "$KC_PY" "$KC_TOOL" info "$T/info.json" "len(patches) > 0" >/dev/null; then
			lcctl_ok unpatch -p $pid
		fi
		untouched $pid "$T/target" check helper
		;;
	1)
		[ "$(lines "$T/ctl.err")" = 1 ] || fail "seed $seed: expected one line on stderr"
		untouched $pid "$T/target" check helper
		;;
	*) fail "seed $seed: exit $KC_RC" ;;
	esac
done

step "the good patch still applies"
lcctl_ok patch -p $pid "$T/good.kpatch"
expect_value "$T/target.log" '^value 33$'
echo "ok"
