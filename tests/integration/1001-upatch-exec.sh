#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Replace a function of a PIE executable while its main loop keeps calling it:
# the running loop sees the new result, `info` lists the patch, and after
# unpatch the old result comes back and the code is the file's again.
. "$(dirname "$0")/lib.sh"
need_pack
need_ctl

src="$KC_SRC/exec"
cc_prog "$T/target" "$src/target.c"
cc_fix "$T/fix.o" "$src/fix.c"
pack --target "$T/target" --object "$T/fix.o" -o "$T/exec.kpatch" --id exec-fix --cve CVE-2024-0001 \
	--description "compute fix"

start_target target "$T/target"
pid=$TPID
expect_line "$T/target.log" '^value 42$' 5
mem_equal $pid "$T/target" compute

step "patch"
lcctl_ok patch -p $pid "$T/exec.kpatch"
out_has "^$pid: patched exec-fix level 1 in $(re_quote "$T/target") \(1 functions?\)$"
expect_value "$T/target.log" '^value 64$'
mem_patched $pid "$T/target" compute
info_check $pid "len(j) == 1 and pr['pid'] == $pid and pr['comm'] == 'target'"
info_check $pid "[(p['id'], p['level'], p['cves'], p['description'], p['functions']) for p in patches] == \
[('exec-fix', 1, ['CVE-2024-0001'], 'compute fix', ['compute'])]"
info_check $pid "patches[0]['path'] == '$T/target' and isinstance(patches[0]['applied'], int)"
info_check $pid "[o['build_id'] for o in pr['objects'] if o['path'] == '$T/target'] == ['$(buildid "$T/target")']"
info_check $pid "any(o['path'].endswith('libc.so.6') and o['patches'] == [] for o in pr['objects'])"

step "unpatch"
lcctl_ok unpatch -p $pid
out_has "^$pid: unpatched exec-fix level 1 from $(re_quote "$T/target")$"
expect_value "$T/target.log" '^value 42$'
mem_equal $pid "$T/target" compute
expect_patches $pid ""
alive $pid || fail "target died"
echo "ok"
