#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A fix naming an IFUNC (issue 14 item 2): `strlen` of Debian's own C
# library, and `pick` of a library of the test's own. kcare-build pack
# follows the resolver's code to the implementations it can return
# (__strlen_sse2, __strlen_avx2, __strlen_evex... named from libc's debug
# symbols; pick_one and pick_two) and replaces every one of them, so the
# one this process bound (read from its GOT slot) runs the fix, and `info`
# lists them. Refused, with what happened: without libc's debug symbols
# (the implementations have no names), a resolver that returns a pointer
# it loads from memory (which code that is cannot be known), and memcpy,
# whose implementations are memmove's as well.
. "$(dirname "$0")/lib.sh"
need_pack
need_ctl

src="$KC_SRC/ifunc"
libc=$(ldd /bin/true | sed -n 's/.*libc\.so\.6 => \([^ ]*\).*/\1/p')
[ -f "$libc" ] || fail "cannot find the C library"
id=$(buildid "$libc")
dbg=/usr/lib/debug/.build-id/$(echo "$id" | cut -c1-2)/$(echo "$id" | cut -c3-).debug
cc_lib "$T/libif.so" "$src/lib.c"
cc_prog "$T/target" "$src/target.c" -L"$T" -lif -Wl,-rpath,"$T"
# the fix's byte loop must not become a call to strlen itself
cc_fix "$T/fix.o" "$src/fix.c" -fno-builtin -fno-tree-loop-distribute-patterns
cc_fix "$T/fix-pick.o" "$src/fix-lib.c" -DFN=pick
cc_fix "$T/fix-loaded.o" "$src/fix-lib.c" -DFN=loaded

step "refused: an IFUNC whose resolver returns a pointer it loads"
pack_refuses "^kcare-build: 'loaded' is an IFUNC in libif.so: its resolver may return an address it loads" \
	--target "$T/libif.so" --object "$T/fix-loaded.o" -o "$T/loaded.kpatch"
[ ! -e "$T/loaded.kpatch" ] || fail "a refused pack left a file"

step "refused: strlen without the C library's debug symbols"
mkdir "$T/nodebug"
pack_refuses "^kcare-build: 'strlen' is an IFUNC in libc.so.6: its implementation at 0x[0-9a-f]+ has no symbol .*__strlen_avx2" \
	--target "$libc" --object "$T/fix.o" -o "$T/nodbg.kpatch" --debug-dir "$T/nodebug"

step "pack pick: both implementations of the library's own resolver"
pack --target "$T/libif.so" --object "$T/fix-pick.o" -o "$T/pick.kpatch" --id pick-fix

start_target target "$T/target"
pid=$TPID
expect_line "$T/target.log" '^len 7 pick 13$' 5

step "patch pick"
lcctl_ok patch -p $pid "$T/pick.kpatch"
expect_line "$T/target.log" '^len 7 pick 14$' 5 "$(lines "$T/target.log")"
info_check $pid "[sorted(p['functions']) for p in patches] == [['pick_one', 'pick_two']]"
set -- $("$KC_PY" "$src/bound.py" $pid "$T/target" pick "$T/libif.so" "$T/libif.so")
echo "# the process bound $1 for pick, its entry: $2"
[ "$2" = jump ] || fail "the implementation the process bound ($1) is not patched"

if [ ! -f "$dbg" ]; then
	skip "no debug symbols for $libc ($dbg): install libc6-dbg for the strlen part"
fi

step "pack strlen of $libc, with its debug symbols"
pack --target "$libc" --object "$T/fix.o" -o "$T/strlen.kpatch" --id strlen-fix
grep -q "1 replaced functions" "$T/pack.out" || fail "pack: $(cat "$T/pack.out")"

step "refused: memcpy, whose implementations are memmove's too"
printf '%s\n' '#include <stddef.h>' 'void *memcpy(void *d, const void *s, size_t n)' \
	'{ for (size_t i = 0; i < n; i++) ((volatile char *)d)[i] = ((const char *)s)[i]; return d; }' \
	>"$T/memcpy.c"
cc_fix "$T/memcpy.o" "$T/memcpy.c" -fno-builtin -fno-tree-loop-distribute-patterns
pack_refuses "^kcare-build: 'memcpy' is an IFUNC in libc.so.6: its implementation __memcpy_[a-z0-9_]+ is also one of 'memmove' \\(the same code\\)" \
	--target "$libc" --object "$T/memcpy.o" -o "$T/memcpy.kpatch"

step "patch strlen: the implementation this process bound runs the fix"
set -- $("$KC_PY" "$src/bound.py" $pid "$T/target" strlen "$libc" "$dbg")
bound=$1
echo "# the process bound $bound for strlen"
[ "$2" = orig ] || fail "$bound is patched before the patch"
lcctl_ok patch -p $pid "$T/strlen.kpatch"
expect_line "$T/target.log" '^len 42 pick 14$' 5 "$(lines "$T/target.log")"
set -- $("$KC_PY" "$src/bound.py" $pid "$T/target" strlen "$libc" "$dbg")
[ "$1 $2" = "$bound jump" ] || fail "the bound implementation $bound is not patched: $*"
info_check $pid "any('$bound' in p['functions'] and '__strlen_sse2' in p['functions'] and
	all(f.startswith('__strlen_') for f in p['functions']) for p in patches if p['id'] == 'strlen-fix')"
grep -o '"__strlen_[a-z0-9_]*"' "$T/info.json" | tr '\n' ' ' | sed 's/^/# replaced: /'
echo

step "unpatch both"
lcctl_ok unpatch -p $pid --id strlen-fix
lcctl_ok unpatch -p $pid --id pick-fix
expect_line "$T/target.log" '^len 7 pick 13$' 5 "$(lines "$T/target.log")"
set -- $("$KC_PY" "$src/bound.py" $pid "$T/target" strlen "$libc" "$dbg")
[ "$2" = orig ] || fail "$1 is still patched"
expect_patches $pid ""
alive $pid || fail "the target died"
echo "ok"
