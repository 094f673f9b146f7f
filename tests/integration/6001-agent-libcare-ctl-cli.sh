#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# libcare-ctl on the command line: --help and --version (exit 0), usage
# errors (exit 2: no verb, unknown verb, missing or bad -p, missing patch
# argument, bad --timeout), errors (exit 1 with one line "libcare-ctl: ...":
# a process that does not exist, a patch file that does not exist), and
# `info --json` on a live process and on all.
. "$(dirname "$0")/lib.sh"
need_ctl

ctl() {
	timeout "$KC_CMD_TIMEOUT" "$KC_CTL_BIN" "$@" >"$T/ctl.out" 2>"$T/ctl.err"
	KC_RC=$?
	echo "\$ libcare-ctl $* -> $KC_RC"
}

usage_error() {
	ctl "$@"
	[ $KC_RC = 2 ] || fail "libcare-ctl $*: exit $KC_RC, expected 2"
	[ -s "$T/ctl.err" ] || fail "libcare-ctl $*: nothing on stderr"
}

# a pid that is not in use: a finished child's, checked
sh -c 'exit 0' &
gone=$!
wait $gone
[ -d "/proc/$gone" ] && gone=$(($(cat /proc/sys/kernel/pid_max) - 1))
[ -d "/proc/$gone" ] && skip "cannot find a free pid"

step "help and version"
ctl --help
[ $KC_RC = 0 ] || fail "--help exited $KC_RC"
for v in patch unpatch info; do
	grep -q "^ *$v " "$T/ctl.out" || fail "--help does not list $v"
done
ctl --version
[ $KC_RC = 0 ] || fail "--version exited $KC_RC"
grep -Eq '^libcare-ctl [0-9]+\.[0-9]+' "$T/ctl.out" || fail "--version: $(cat "$T/ctl.out")"

step "usage errors"
usage_error
usage_error frobnicate
usage_error patch
usage_error patch "$T/none.kpatch"
usage_error unpatch
usage_error info
usage_error info --json
usage_error info -p
usage_error info -p abc
usage_error info -p -5
usage_error patch -p $$
usage_error patch -p $$ --timeout abc "$T/none.kpatch"
usage_error unpatch -p $$ --bogus

step "a process that does not exist"
for verb in "info -p $gone" "info -p $gone --json" "unpatch -p $gone"; do
	lcctl_fails $verb
	err_has "^libcare-ctl: .*$gone"
done
printf 'x' >"$T/junk.kpatch"
lcctl patch -p $gone "$T/junk.kpatch"
[ $KC_RC = 1 ] || fail "patch -p $gone: exit $KC_RC, expected 1"

step "a patch file that does not exist"
cc_prog "$T/idle" "$KC_SRC/exec/target.c"
start_target idle "$T/idle"
pid=$TPID
lcctl_fails patch -p $pid "$T/nonexistent.kpatch"
err_has "nonexistent\.kpatch"
untouched $pid "$T/idle" compute

step "info --json"
info_check $pid "len(j) == 1 and pr['pid'] == $pid and pr['comm'] == 'idle'"
info_check $pid "[o['build_id'] for o in pr['objects'] if o['path'] == '$T/idle'] == ['$(buildid "$T/idle")']"
info_check $pid "all(o['patches'] == [] for o in pr['objects'])"
info_check $pid "any(o['path'].endswith('/libc.so.6') for o in pr['objects'])"
lcctl_ok info -p all --json
"$KC_PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); assert any(p["pid"] == int(sys.argv[2]) for p in j)' \
	"$T/ctl.out" $pid || fail "info -p all --json does not list $pid"
lcctl_ok info -p $pid
[ -s "$T/ctl.out" ] || fail "info -p $pid printed nothing"
echo "ok"
