#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# uchecker as an administrator meets it after a package update: a library
# replaced the way dpkg does (a new file renamed over the old one) leaves
# the process started before the update running the old copy; it is
# listed, the one started after is not, nor one running a reinstalled
# identical build. A live-patched old copy is listed with its patch; a
# removed library and a replaced program are listed too. --pid, --json,
# LOGLEVEL, the exit codes (0 none, 3 found, 2 usage).
. "$(dirname "$0")/lib.sh"
need_pack
need_ctl
UCHK="$KC_BUILD/src/agent/uchecker"
[ -x "$UCHK" ] || skip "uchecker is not built in $KC_BUILD"
command -v jq >/dev/null 2>&1 || skip "jq is not installed"

# uchk ARGS...: run uchecker, stdout in $T/u.out, stderr in $T/u.err, status in UC
uchk() {
	"$UCHK" "$@" >"$T/u.out" 2>"$T/u.err"
	UC=$?
	echo "\$ uchecker $* -> $UC"
	sed 's/^/  out: /' "$T/u.out"
	sed 's/^/  err: /' "$T/u.err"
}

src="$KC_SRC/lib"
mkdir -p "$T/v1" "$T/v2" "$T/app"
cc_lib "$T/v1/libkct.so" "$src/lib.c"
cc_lib "$T/v2/libkct.so" "$src/lib.c" -O1 # the next release: other code, another build-id
[ "$(buildid "$T/v1/libkct.so")" != "$(buildid "$T/v2/libkct.so")" ] || fail "v1 and v2 have one build-id"
cp "$T/v1/libkct.so" "$T/app/libkct.so"
cc_prog "$T/app/target" "$src/target.c" -L"$T/app" -lkct -Wl,-rpath,"$T/app"
cc_fix "$T/fix.o" "$src/fix.c"
pack --target "$T/v1/libkct.so" --object "$T/fix.o" -o "$T/v1.kpatch" --id lib-fix

step "before the update: nothing to report"
start_target old "$T/app/target"
old=$TPID
uchk --pid $old
[ $UC = 0 ] || fail "up-to-date process: exit $UC"
grep -q '^No process runs an out-of-date' "$T/u.out" || fail "no all-clear line"

step "the library is updated on disk (new file renamed over the old one)"
cp "$T/v2/libkct.so" "$T/app/.libkct.so.new" && mv "$T/app/.libkct.so.new" "$T/app/libkct.so"
start_target new "$T/app/target"
new=$TPID
uchk
[ $UC = 3 ] || fail "an out-of-date process: exit $UC, expected 3"
grep -qx "\[\*\] Process target\[$old\] linked to the \`libkct.so\` that is not up to date." "$T/u.out" ||
	fail "the old process is not listed"
grep -q "\[$new\]" "$T/u.out" && fail "the process started after the update is listed"
uchk --pid $new
[ $UC = 0 ] || fail "--pid of the new process: exit $UC"

step "--json and LOGLEVEL=info"
uchk --json --pid $old --pid $new
[ $UC = 3 ] || fail "--json: exit $UC"
jq -e --arg p "$T/app/libkct.so" --arg a "$(buildid "$T/v1/libkct.so")" --arg b "$(buildid "$T/v2/libkct.so")" \
	".out_of_date | length == 1 and .[0].pid == $old and .[0].path == \$p and .[0].reason == \"replaced\"
	 and .[0].build_id == \$a and .[0].build_id_on_disk == \$b and .[0].live_patches == null" \
	"$T/u.out" >/dev/null || fail "--json finding"
jq -e '.processes == 2' "$T/u.out" >/dev/null || fail "--json: processes"
LOGLEVEL=info uchk --pid $old
grep -q "build-id $(buildid "$T/v1/libkct.so") in memory, $(buildid "$T/v2/libkct.so") on disk" "$T/u.out" ||
	fail "LOGLEVEL=info has no build-id detail"
LOGLEVEL=debug uchk --pid $new
grep -q "^uchecker: \[$new\] $(re_quote "$T/app/libkct.so"): the file on disk$" "$T/u.err" ||
	fail "LOGLEVEL=debug does not trace the objects"

step "an identical build reinstalled (new inode, same build-id): not out of date"
cp "$T/v2/libkct.so" "$T/app/.libkct.so.new" && mv "$T/app/.libkct.so.new" "$T/app/libkct.so"
uchk --pid $new
[ $UC = 0 ] || fail "same build-id reinstalled: exit $UC"

step "the old copy live patched: still listed, with its patch"
lcctl_ok patch -p $old "$T/v1.kpatch"
uchk --pid $old
[ $UC = 3 ] || fail "live patched: exit $UC"
grep -qx "\[\*\] Process target\[$old\] linked to the \`libkct.so\` that is not up to date (live patched: lib-fix level 1)." \
	"$T/u.out" || fail "the live patch is not named"
uchk --json --pid $old
jq -e '.out_of_date[0].live_patches == "lib-fix level 1"' "$T/u.out" >/dev/null || fail "--json live_patches"
lcctl_ok unpatch -p $old

step "the library removed, the program replaced"
rm "$T/app/libkct.so"
cc_prog "$T/app/.target.new" "$src/target.c" -O1 -L"$T/v2" -lkct -Wl,-rpath,"$T/app"
mv "$T/app/.target.new" "$T/app/target"
uchk --json --pid $new
jq -e '[.out_of_date[] | select(.path | endswith("/libkct.so")) | .reason] == ["removed"]' "$T/u.out" >/dev/null ||
	fail "removed library"
jq -e '[.out_of_date[] | select(.program) | .reason] == ["replaced"]' "$T/u.out" >/dev/null ||
	fail "replaced program"
uchk --pid $new
grep -qx "\[\*\] Process target\[$new\] runs the program \`$(re_quote "$T/app/target")\` that is not up to date." \
	"$T/u.out" || fail "the program line"

step "usage"
for a in "--pid 0" "--pid x" "--bogus" "extra"; do
	uchk $a
	[ $UC = 2 ] || fail "uchecker $a: exit $UC, expected 2"
done
LOGLEVEL=loud uchk
[ $UC = 2 ] || fail "bad LOGLEVEL: exit $UC"
uchk --pid 99999999999
[ $UC = 2 ] || fail "pid out of range: exit $UC"
uchk --pid 999999999
[ $UC = 1 ] && grep -qx "uchecker: no process 999999999" "$T/u.err" || fail "a pid that does not exist"
uchk --help
[ $UC = 0 ] && grep -q -- '--json' "$T/u.out" || fail "--help"
echo "ok"
