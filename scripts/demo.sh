#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `make demo`: live patching of a running service, step by step, the way a
# fleet gets it. Builds demo/ (a service calling libgreet.so every 0.5 s, and
# a fix for an off-by-one in the library), packs the fix with kcare-build into
# a patchset, starts a patch server (eportal on 127.0.0.1, SQLite, a temporary
# data directory) and deploys it there; then the agent (kcarectl, its files
# under a temporary root) imports the server's key, registers and runs
# --lib-update: the running service is patched, its output changes,
# --lib-patch-info and libcare-ctl info show it; --lib-unload brings the old
# behaviour back. Exits non-zero if a step fails.
# Usage: sh scripts/demo.sh [BUILDDIR]   (default: build)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
case $build in
/*) ;;
*) build="$top/$build" ;;
esac
ctl="$build/src/agent/libcare-ctl"
kbuild="$build/src/agent/kcare-build"
kcarectl="$build/src/agent/kcarectl"
eportal="$build/src/eportal/eportal"
kceportal="$build/src/eportal/kc.eportal"
for tool in "$ctl" "$kbuild" "$kcarectl" "$eportal" "$kceportal"; do
	[ -x "$tool" ] || {
		echo "demo: $tool is not built (run make first)" >&2
		exit 1
	}
done

work=$(mktemp -d "${TMPDIR:-/tmp}/kcare-demo.XXXXXX") || exit 1
pid=""
eppid=""
cleanup() {
	for p in $pid $eppid; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

say() {
	printf '\n==> %s\n' "$*"
}

die() {
	echo "demo: $*" >&2
	exit 1
}

# run NAME ARGS...: show the command as a user would type it, then run it
run() {
	name=$1
	shift
	line="\$ $(basename "$name")"
	for a in "$@"; do
		case $a in
		*" "*) line="$line '$a'" ;;
		*) line="$line $a" ;;
		esac
	done
	echo "$line"
	"$name" "$@" || die "$(basename "$name") failed"
}

# cycle: wait (at most 5 s) until the service has asked about every user
# once more, show those lines, and leave the line about user 3 in $user3
cycle() {
	mark=$(wc -l <service.log)
	n=0
	until tail -n +$((mark + 1)) service.log | grep -q 'user 3 ->'; do
		n=$((n + 1))
		[ $n -le 100 ] || die "the service stopped printing"
		sleep 0.05
	done
	tail -n +$((mark + 1)) service.log | sed 's/^/    /'
	user3=$(tail -n +$((mark + 1)) service.log | grep 'user 3 ->' | tail -1)
}

cd "$work" || exit 1

say "building the demo service and its library libgreet.so"
gcc -O2 -fPIC -shared -Wl,-soname,libgreet.so -o libgreet.so "$top/demo/libgreet.c" || die "cannot build libgreet.so"
gcc -O2 -o service "$top/demo/service.c" -L. -lgreet -Wl,-rpath,"$work" || die "cannot build the service"

say "starting the service; user 3 should be refused, but an off-by-one leaks a secret"
: >service.log # before cycle counts its lines: the background redirect may come later
./service >>service.log 2>&1 &
pid=$!
cycle
case $user3 in
*SECRET*) ;;
*) die "the unpatched service does not show the bug: $user3" ;;
esac

say "compiling the fix and packing it into a patch for libgreet.so"
gcc -O2 -fPIC -ffunction-sections -fdata-sections -c -o fix-greet.o "$top/demo/fix-greet.c" || die "cannot compile the fix"
run "$kbuild" pack --target libgreet.so --object fix-greet.o -o greet-fix.kpatch --id greet-fix \
	--cve CVE-2026-0001 --description "greet: off-by-one in the user bounds check"

say "a patchset for the patch server"
run "$kbuild" patchset --product libs --name U20260101_01 --released 2026-01-01T00:00:00Z \
	-o U20260101_01.tar.bz2 greet-fix.kpatch

say "starting the patch server (eportal) on 127.0.0.1 with SQLite in $work/eportal"
"$eportal" --listen 127.0.0.1:0 --data "$work/eportal" >eportal.log 2>&1 &
eppid=$!
n=0
until grep -q '^eportal: listening' eportal.log; do
	n=$((n + 1))
	[ $n -le 300 ] && kill -0 "$eppid" 2>/dev/null || die "eportal did not start: $(cat eportal.log)"
	sleep 0.1
done
port=$(sed -n 's/^eportal: listening on .* (port \([0-9]*\)).*/\1/p' eportal.log)
sed -n 's/^eportal: //p' eportal.log
run "$kceportal" --data "$work/eportal" libcare deploy U20260101_01.tar.bz2
echo "\$ kc.eportal key -a --server-limit 10"
key=$("$kceportal" --data "$work/eportal" key -a --server-limit 10) || die "cannot add a key"
echo "$key"

say "the agent: its files under $work/root (KCARE_ROOT), pointed at the server"
export KCARE_ROOT="$work/root"
mkdir -p "$KCARE_ROOT/etc/sysconfig/kcare"
echo "PATCH_SERVER=http://127.0.0.1:$port/repo/" >"$KCARE_ROOT/etc/sysconfig/kcare/kcare.conf"
echo "\$ cat $KCARE_ROOT/etc/sysconfig/kcare/kcare.conf"
cat "$KCARE_ROOT/etc/sysconfig/kcare/kcare.conf"
run "$kcarectl" --import-key "$("$kceportal" --data "$work/eportal" root-key)"
run "$kcarectl" --register "$key"

say "kcarectl --lib-update: every running process that maps libgreet.so is patched, no restart"
run "$kcarectl" --lib-update
cycle
case $user3 in
*"no such user"*) ;;
*) die "the patched service still answers: $user3" ;;
esac
kill -0 "$pid" 2>/dev/null || die "the service died"

say "what is applied, and where"
run "$kcarectl" --lib-patch-info
run "$ctl" info -p "$pid"
echo "\$ kcarectl --status; echo \$?"
"$kcarectl" --status
echo $?

say "kcarectl --lib-unload: the old behaviour comes back"
run "$kcarectl" --lib-unload
cycle
case $user3 in
*SECRET*) ;;
*) die "the unpatched service answers: $user3" ;;
esac

say "stopping the service (pid $pid)"
kill "$pid"
wait "$pid" 2>/dev/null
pid=""
say "demo done: the same process ran the old code, the fixed code, and the old code again"
