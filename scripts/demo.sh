#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `make demo`: live patching of a running service, step by step. Builds
# demo/ (a service calling libgreet.so every 0.5 s, and a fix for an
# off-by-one in the library), packs the fix with kcare-build, applies it with
# libcare-ctl while the service runs, shows its output change and `info`,
# unpatches and shows the old behaviour back. Exits non-zero if a step fails.
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
for tool in "$ctl" "$kbuild"; do
	[ -x "$tool" ] || {
		echo "demo: $tool is not built (run make first)" >&2
		exit 1
	}
done

work=$(mktemp -d "${TMPDIR:-/tmp}/kcare-demo.XXXXXX") || exit 1
pid=""
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
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
./service >service.log 2>&1 &
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

say "applying it to the running service (pid $pid), no restart"
run "$ctl" patch -p "$pid" greet-fix.kpatch
cycle
case $user3 in
*"no such user"*) ;;
*) die "the patched service still answers: $user3" ;;
esac
kill -0 "$pid" 2>/dev/null || die "the service died"

say "what libcare-ctl knows about the process"
run "$ctl" info -p "$pid"

say "unpatching: the old behaviour comes back"
run "$ctl" unpatch -p "$pid" --id greet-fix
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
