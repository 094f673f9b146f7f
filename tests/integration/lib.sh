# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by every tests/integration/NNNN-*.sh: environment, a per-test temp dir
# (removed on exit together with every process the test started), compiling
# targets, libraries and fixes, starting targets and waiting for their output,
# running kcare-build and libcare-ctl, and checks on a target (its memory
# against the file, `libcare-ctl info --json`). POSIX sh, because
# scripts/check.sh runs the tests with sh. Every wait is bounded.
# One test by hand: KC_BUILD=$PWD/build-x sh tests/integration/1001-upatch-exec.sh
# (KC_KEEP=1 keeps the temp dir for a look afterwards).

: "${KC_TOP:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${KC_BUILD:=$KC_TOP/build}"
KC_SRC="$KC_TOP/tests/integration/src"
KC_TOOL="$KC_TOP/tests/integration/kctool.py"
KC_CTL_BIN="$KC_BUILD/src/agent/libcare-ctl"
KC_PACK_BIN="$KC_BUILD/src/agent/kcare-build"
# a wrapper such as pyenv's shim costs up to a second per call: prefer the system interpreter
KC_PY=${KC_PY:-$(command -v /usr/bin/python3 || command -v python3)}
# upper bound of one libcare-ctl or kcare-build run: a hang is a failure, not a stuck test
KC_CMD_TIMEOUT=${KC_CMD_TIMEOUT:-30}

T=$(cd "$(mktemp -d "${TMPDIR:-/tmp}/kc-it.XXXXXX")" && pwd -P) || exit 1
KC_PIDS=""

# start time of a process in clock ticks since boot (field 22 of stat):
# with its pid, an identity that pid reuse cannot fake
kc_starttime() {
	sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20
}

# KC_PIDS holds PID:STARTTIME of every process the test started: only those
# are killed, never a process that reused the pid of one already reaped
kc_cleanup() {
	for _kc_p in $KC_PIDS; do
		[ "$(kc_starttime "${_kc_p%%:*}")" = "${_kc_p#*:}" ] && kill -9 "${_kc_p%%:*}" 2>/dev/null
	done
	for _kc_p in $KC_PIDS; do
		wait "${_kc_p%%:*}" 2>/dev/null
	done
	if [ -n "${KC_KEEP:-}" ]; then
		echo "# kept $T"
	else
		rm -rf "$T"
	fi
}
trap kc_cleanup EXIT
trap 'exit 130' INT TERM HUP

step() {
	echo "# $*"
}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	echo "SKIP: $*"
	exit 77
}

# need_pack / need_ctl: skip while the tool or its verbs are not built yet
need_pack() {
	[ -x "$KC_PACK_BIN" ] || skip "kcare-build is not built in $KC_BUILD"
	"$KC_PACK_BIN" --help 2>&1 | grep -q '^ *pack ' || skip "kcare-build has no pack command yet"
}

need_ctl() {
	[ -x "$KC_CTL_BIN" ] || skip "libcare-ctl is not built in $KC_BUILD"
	for v in patch unpatch info; do
		"$KC_CTL_BIN" --help 2>&1 | grep -q "^ *$v " || skip "libcare-ctl has no $v command yet"
	done
}

now_ms() {
	date +%s%3N
}

# --- compiling (everything at -O2, like real builds) -------------------------

# cc_prog OUT GCC-ARGS...: a target program (PIE by default on Debian)
cc_prog() {
	_kc_out=$1
	shift
	gcc -O2 -Wall -pthread -I"$KC_SRC/common" -o "$_kc_out" "$@" || fail "cannot compile $_kc_out"
}

# cc_lib OUT GCC-ARGS...: a shared library whose soname is basename OUT
cc_lib() {
	_kc_out=$1
	shift
	gcc -O2 -Wall -fPIC -shared -pthread -I"$KC_SRC/common" -Wl,-soname,"$(basename "$_kc_out")" \
		-o "$_kc_out" "$@" || fail "cannot compile $_kc_out"
}

# cc_fix OUT SRC [GCC-ARGS...]: a fix object as the contract says; extra args
# come last so that e.g. -fPIE overrides -fPIC
cc_fix() {
	_kc_out=$1
	_kc_src=$2
	shift 2
	gcc -O2 -fPIC -ffunction-sections -fdata-sections -Wall -I"$KC_SRC/common" -c \
		-o "$_kc_out" "$_kc_src" "$@" || fail "cannot compile $_kc_out"
}

# --- targets ---------------------------------------------------------------

# start_target NAME CMD [ARGS...]: runs CMD in the background, stdout to
# $T/NAME.log, stderr to $T/NAME.err, waits for its "ready" line and leaves
# its pid in TPID. The exit trap kills it.
start_target() {
	_kc_name=$1
	shift
	"$@" >"$T/$_kc_name.log" 2>"$T/$_kc_name.err" &
	TPID=$!
	track $TPID
	wait_for_line "$T/$_kc_name.log" '^ready' 10 ||
		fail "$_kc_name did not start: $(tail -3 "$T/$_kc_name.log" "$T/$_kc_name.err")"
}

# track PID: kill it at exit too (a forked child, say)
track() {
	KC_PIDS="$KC_PIDS $1:$(kc_starttime "$1")"
}

# alive PID: the process exists and is not a zombie
alive() {
	_kc_st=$(sed -n 's/^[0-9]* (.*) \(.\) .*/\1/p' "/proc/$1/stat" 2>/dev/null)
	[ -n "$_kc_st" ] && [ "$_kc_st" != Z ] && [ "$_kc_st" != X ]
}

lines() {
	wc -l <"$1" | tr -d ' '
}

# wait_for_line LOG REGEX TIMEOUT [AFTER]: succeeds as soon as a line after
# the first AFTER lines of LOG matches the extended REGEX; 1 after TIMEOUT s
wait_for_line() {
	_kc_n=$(($3 * 50))
	_kc_from=$((${4:-0} + 1))
	while [ $_kc_n -gt 0 ]; do
		tail -n +"$_kc_from" "$1" 2>/dev/null | grep -Eq -- "$2" && return 0
		sleep 0.02
		_kc_n=$((_kc_n - 1))
	done
	return 1
}

# wait_count LOG REGEX COUNT TIMEOUT [AFTER]: like wait_for_line, for COUNT lines
wait_count() {
	_kc_n=$(($4 * 50))
	_kc_from=$((${5:-0} + 1))
	while [ $_kc_n -gt 0 ]; do
		[ "$(tail -n +"$_kc_from" "$1" 2>/dev/null | grep -Ec -- "$2")" -ge "$3" ] && return 0
		sleep 0.02
		_kc_n=$((_kc_n - 1))
	done
	return 1
}

# expect_line LOG REGEX TIMEOUT [AFTER]: wait_for_line or fail, showing the log
expect_line() {
	wait_for_line "$@" && return 0
	echo "--- last lines of $1:" >&2
	tail -5 "$1" >&2
	fail "no line matching '$2' in $(basename "$1") within $3 s"
}

# expect_value LOG REGEX [TIMEOUT]: after an operation, the target's output
# settles on REGEX: the first line printed afterwards may have been computed
# before, so the match must come from the second new line or later
expect_value() {
	_kc_m=$(lines "$1")
	expect_line "$1" "$2" "${3:-5}" $((_kc_m + 1))
}

# no_line LOG REGEX: fail if any line matches
no_line() {
	! grep -Eq -- "$2" "$1" || fail "unexpected line in $(basename "$1"): $(grep -E -- "$2" "$1" | head -1)"
}

# --- the tools ---------------------------------------------------------------

# pack ARGS...: kcare-build pack, which must succeed
pack() {
	timeout "$KC_CMD_TIMEOUT" "$KC_PACK_BIN" pack "$@" >"$T/pack.out" 2>"$T/pack.err" ||
		fail "kcare-build pack $*: $(cat "$T/pack.err")"
	cat "$T/pack.out"
}

# pack_rc ARGS...: kcare-build pack, exit status in KC_RC, output in $T/pack.{out,err}
pack_rc() {
	timeout "$KC_CMD_TIMEOUT" "$KC_PACK_BIN" pack "$@" >"$T/pack.out" 2>"$T/pack.err"
	KC_RC=$?
	echo "\$ kcare-build pack $* -> $KC_RC"
	sed 's/^/  out: /' "$T/pack.out"
	sed 's/^/  err: /' "$T/pack.err"
}

# pack_refuses ERE ARGS...: kcare-build pack must exit 1 with an error matching ERE
pack_refuses() {
	_kc_re=$1
	shift
	pack_rc "$@"
	[ $KC_RC = 1 ] || fail "kcare-build pack $*: exit $KC_RC, expected 1"
	grep -Eq -- "$_kc_re" "$T/pack.err" || fail "the refusal does not match '$_kc_re'"
}

# pidns_run CMDS TARGET...: libcare-ctl runs confined to a PID namespace of
# their own (its own /proc: "-p all" means the TARGETs started there), one
# per line of the file CMDS, "N|SETUP|ARGS" (see pidns-run.sh); output in
# $T/ns-N.{out,err,rc}, "NAME PID" of each target in $T/ns-pids. Skips
# where such a namespace cannot be made.
pidns_run() {
	command -v unshare >/dev/null || skip "no unshare"
	unshare --fork --pid --mount-proc true 2>/dev/null ||
		skip "unshare --fork --pid --mount-proc is not permitted here"
	timeout 300 unshare --fork --pid --mount-proc --kill-child \
		sh "$KC_TOP/tests/integration/pidns-run.sh" "$T" "$KC_CTL_BIN" "$@" ||
		fail "the PID namespace's init failed ($?)"
}

# ns_expect N RC: run N of pidns_run exited RC (its output echoed to the log)
ns_expect() {
	echo "\$ (in the namespace) libcare-ctl $(sed -n "s/^$1|[^|]*|//p" "$T/ns-cmds" 2>/dev/null) -> $(cat "$T/ns-$1.rc")"
	sed 's/^/  out: /' "$T/ns-$1.out" | grep -v '^  out:  '
	sed 's/^/  err: /' "$T/ns-$1.err"
	[ "$(cat "$T/ns-$1.rc")" = "$2" ] || fail "run $1 exited $(cat "$T/ns-$1.rc"), expected $2"
}

# lcctl ARGS...: libcare-ctl under a timeout; exit status in KC_RC, output in
# $T/ctl.out and $T/ctl.err (also echoed to the test log)
lcctl() {
	timeout "$KC_CMD_TIMEOUT" "$KC_CTL_BIN" "$@" >"$T/ctl.out" 2>"$T/ctl.err"
	KC_RC=$?
	echo "\$ libcare-ctl $* -> $KC_RC"
	sed 's/^/  out: /' "$T/ctl.out"
	sed 's/^/  err: /' "$T/ctl.err"
	[ $KC_RC = 124 ] && fail "libcare-ctl $* did not finish within $KC_CMD_TIMEOUT s"
	[ $KC_RC -ge 128 ] && fail "libcare-ctl $* died of signal $((KC_RC - 128))"
	return 0
}

# lcctl_ok ARGS...: libcare-ctl that must exit 0
lcctl_ok() {
	lcctl "$@"
	[ $KC_RC = 0 ] || fail "libcare-ctl $* exited $KC_RC: $(cat "$T/ctl.err")"
}

# lcctl_fails ARGS...: libcare-ctl that must exit 1 with one line on stderr
# starting "libcare-ctl: "
lcctl_fails() {
	lcctl "$@"
	[ $KC_RC = 1 ] || fail "libcare-ctl $* exited $KC_RC, expected 1"
	[ "$(lines "$T/ctl.err")" = 1 ] || fail "libcare-ctl $*: expected one line on stderr"
	grep -q '^libcare-ctl: ' "$T/ctl.err" || fail "libcare-ctl $*: stderr does not start with 'libcare-ctl: '"
}

# out_has REGEX / err_has REGEX: about the last libcare-ctl run
out_has() {
	grep -Eq -- "$1" "$T/ctl.out" || fail "libcare-ctl output has no line matching '$1'"
}

err_has() {
	grep -Eiq -- "$1" "$T/ctl.err" || fail "libcare-ctl error does not match '$1': $(cat "$T/ctl.err")"
}

# stops_at_most PID N WHAT: the last libcare-ctl run (with --stats) stopped PID
# at most N times (the attempts= of its last stats line for PID)
stops_at_most() {
	_kc_a=$(sed -n "s/^$1: stats .*attempts=\([0-9]*\) .*/\1/p" "$T/ctl.out" | tail -1)
	echo "# $3 on attempt $_kc_a"
	[ -n "$_kc_a" ] && [ "$_kc_a" -le "$2" ] || fail "$3 took $_kc_a stops, expected at most $2"
}

# corpus_src CASE DIR: the sources of tests/build-cases/CASE in DIR, with the
# corpus driver: driver.h, and the driver's prog.c and the usual Makefile
# (libcase.so from lib*.c) when the case has none of its own
corpus_src() {
	cp -a "$KC_TOP/tests/build-cases/$1/src" "$2" || fail "cannot copy case $1"
	cp "$KC_TOP/tests/build-cases/driver/driver.h" "$2/"
	for _kc_f in prog.c Makefile; do
		[ -e "$2/$_kc_f" ] || cp "$KC_TOP/tests/build-cases/driver/$_kc_f" "$2/"
	done
}

# re_quote STRING: STRING as a literal in an extended regex
re_quote() {
	printf '%s\n' "$1" | sed 's/[][\.*^$+?(){}|/]/\\&/g'
}

# info_json PID: `libcare-ctl info -p PID --json` into $T/info.json (checked
# as JSON by whoever reads it: kctool.py info)
info_json() {
	lcctl_ok info -p "$1" --json
	cp "$T/ctl.out" "$T/info.json"
}

# expect_patches PID "ID:LEVEL:OBJ ..." (space separated, sorted by id; ""
# for none): the patches that `info -p PID --json` lists, as ID:LEVEL:basename
expect_patches() {
	info_json "$1"
	_kc_got=$("$KC_PY" "$KC_TOOL" info "$T/info.json" | tr '\n' ' ' | sed 's/ $//')
	[ "$_kc_got" = "$2" ] || fail "info -p $1: patches '$_kc_got', expected '$2'"
}

# info_check PID PYTHON-EXPR: EXPR over j (the parsed JSON), pr (first
# process), patches (every patch, with "path" and "pid" added) must be true
info_check() {
	info_json "$1"
	"$KC_PY" "$KC_TOOL" info "$T/info.json" "$2" || fail "info -p $1 check failed: $2"
}

# mem_equal PID FILE SYM...: the process's bytes of each function are the file's
mem_equal() {
	"$KC_PY" "$KC_TOOL" memcmp "$@" || fail "memory of process $1 differs from $2"
}

# mem_patched PID FILE SYM...: the entry of each function was rewritten
mem_patched() {
	"$KC_PY" "$KC_TOOL" memcmp --differ "$@" || fail "process $1: a function entry of $2 is not patched"
}

# exec_maps PID: the executable mappings (a failed operation must leave them as they were)
exec_maps() {
	awk '$2 ~ /x/' "/proc/$1/maps"
}

buildid() {
	"$KC_PY" "$KC_TOOL" buildid "$1"
}

# untouched PID FILE SYM... : nothing of a failed patch is left in the process
untouched() {
	mem_equal "$@"
	expect_patches "$1" ""
	alive "$1" || fail "process $1 died"
}
