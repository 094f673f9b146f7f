#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# kcare-build user over the corpus tests/build-cases/NN-name/: each case is
# a small C project (src/, built at -O2 by its Makefile, with the driver
# program and the Makefile of tests/build-cases/driver/ unless it has its
# own), a FIX.patch and an
# `expected` file (target: the file to patch; before:/after: regexes of the
# driver program's output lines; funcs: the exact functions of the patch,
# NAME if changed, +NAME if new; or refuse: a regex of the one-line error).
# For each case: build the original once, run the driver, make the patch
# from the diff, apply it with libcare-ctl, see the behaviour change,
# unpatch, see it back. A refusal exits 1 with one line naming the symbol
# and writes no patch. KC_CASES=GLOB limits the cases (e.g. KC_CASES='0[1-5]*').
# Cases run KC_JOBS (default 3) at a time, each as `sh 4001-... --case NAME`
# in its own temporary directory; their logs are printed in order.
. "$(dirname "$0")/lib.sh"
need_pack
need_ctl
"$KC_PACK_BIN" --help 2>&1 | grep -q '^ *user ' || skip "kcare-build has no user command yet"

cases="$KC_TOP/tests/build-cases"
KC_USER_TIMEOUT=${KC_USER_TIMEOUT:-120}

field() { # CASE KEY: the value of "KEY: value" in the case's expected file
	sed -n "s/^$2: //p" "$cases/$1/expected" | head -1
}

# build_case NAME: the original build in $T/build, then the patch
build_case() {
	w="$T"
	mkdir -p "$w/out"
	corpus_src "$1" "$w/src"
	cp -a "$w/src" "$w/build"
	make -s -C "$w/build" >"$w/make.log" 2>&1 || fail "$1: the original does not build: $(tail -3 "$w/make.log")"
	timeout "$KC_USER_TIMEOUT" "$KC_PACK_BIN" user --target "$w/build/$(field "$1" target)" \
		--src "$w/src" --diff "$cases/$1/FIX.patch" -o "$w/out/fix.kpatch" \
		--id "case-$1" -v >"$w/user.out" 2>"$w/user.err"
	rc=$?
}

run_case() { # NAME
	name=$1
	w="$T"
	build_case "$name"
	echo "\$ kcare-build user ($name) -> $rc"
	sed 's/^/  out: /' "$w/user.out"
	sed 's/^/  err: /' "$w/user.err"
	refuse=$(field "$name" refuse)
	if [ -n "$refuse" ]; then
		[ "$rc" = 1 ] || fail "$name: kcare-build user exited $rc, expected a refusal (1)"
		[ "$(lines "$w/user.err")" = 1 ] && grep -q '^kcare-build: ' "$w/user.err" ||
			fail "$name: expected one line 'kcare-build: ...' on stderr"
		grep -Eq -- "$refuse" "$w/user.err" || fail "$name: error does not match '$refuse'"
		[ -z "$(ls -A "$w/out")" ] || fail "$name: a refusal left $(ls -A "$w/out") behind"
		echo "ok $name"
		return
	fi
	[ "$rc" = 0 ] || fail "$name: kcare-build user exited $rc: $(cat "$w/user.err")"
	grep -q '^built ' "$w/user.out" || fail "$name: no 'built' line"
	funcs=$(field "$name" funcs)
	if [ -n "$funcs" ]; then
		# exactly these functions: changed NAME, or +NAME for new code
		got=$(sed -n 's/^  changed \([^ ]*\) .*/\1/p; s/^  new \([^ ]*\) .*/+\1/p' "$w/user.out" | sort | tr '\n' ' ')
		want=$(printf '%s\n' $funcs | sort | tr '\n' ' ')
		[ "$got" = "$want" ] || fail "$name: functions '$got', expected '$want'"
	fi
	start_target prog "$w/build/prog"
	pid=$TPID
	expect_line "$T/prog.log" "$(field "$name" before)" 5
	lcctl_ok patch -p "$pid" "$w/out/fix.kpatch"
	expect_value "$T/prog.log" "$(field "$name" after)"
	lcctl_ok unpatch -p "$pid" --id "case-$name"
	expect_value "$T/prog.log" "$(field "$name" before)"
	echo "ok $name"
}

if [ "${1:-}" = --case ]; then
	run_case "$2"
	exit 0
fi

names=""
for d in "$cases"/[0-9]*/; do
	n=$(basename "$d")
	case "$n" in ${KC_CASES:-*}) names="$names $n" ;; esac
done
[ -n "$names" ] || skip "no case matches '${KC_CASES:-*}'"

mkdir "$T/logs"
export KC_TOP KC_BUILD
printf '%s\n' $names | xargs -P "${KC_JOBS:-3}" -I{} sh -c \
	'sh "$1" --case "$2" >"$3/$2.log" 2>&1' sh "$0" {} "$T/logs"
bad=""
for n in $names; do
	step "$n"
	cat "$T/logs/$n.log"
	grep -qx "ok $n" "$T/logs/$n.log" || bad="$bad $n"
done
[ -z "$bad" ] || fail "cases failed:$bad"
echo "ok: $(echo $names | wc -w) cases"
