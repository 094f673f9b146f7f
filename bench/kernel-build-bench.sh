#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# kcare-build kernel, stages 1 and 2 (issue 16): the time to prepare the
# kernel tree of the installed headers' ABI (download, config, prepare,
# reproduction check; "reused" when the cache has it), the time of a
# prepared run, and per diff the time to rebuild the objects it changes
# (original and patched, with the working trees) and that time per
# object. Prints a table; never fails on a figure.
# usage: sh bench/kernel-build-bench.sh [BUILDDIR]
# Environment: BENCH_KERNEL_CACHE (default BUILDDIR/kernel-cache, shared
# with test 7301), BENCH_KERNEL_COLD=1 (prepare in a new empty cache:
# minutes, 1.7 GB).
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$TOP/build}
KB=$BUILD/src/agent/kcare-build
[ -x "$KB" ] && "$KB" --help 2>&1 | grep -q '^ *kernel ' || {
	echo "# kernel build benchmark: kcare-build kernel is not built in $BUILD"
	exit 1
}
hdr=$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -1)
[ -n "$hdr" ] || {
	echo "# kernel build benchmark: no linux-headers-*-amd64"
	exit 1
}
ABI=${hdr#/usr/src/linux-headers-}
T=$(mktemp -d "${TMPDIR:-/tmp}/kcb-kernel.XXXXXX") || exit 1
trap '[ -n "${BENCH_KEEP:-}" ] || rm -rf "$T"' EXIT
C=${BENCH_KERNEL_CACHE:-$BUILD/kernel-cache}
[ "${BENCH_KERNEL_COLD:-0}" = 1 ] && C="$T/cache"

now_ms() { date +%s%3N; }
secs() { awk -v ms="$1" 'BEGIN { printf "%.1f", ms / 1000 }'; }
# user+sys seconds of the finished children of this shell (times must run
# in this shell, not in a command substitution): into $cpu
cpu_now() {
	times >"$T/times"
	cpu=$(tail -1 "$T/times" | awk '{ split($1, u, "m"); split($2, s, "m");
		printf "%.1f", u[1] * 60 + u[2] + s[1] * 60 + s[2] }')
}

echo "## kcare-build kernel: preparation and object rebuilds ($ABI, $(nproc) CPUs)"
echo "| step | wall s | CPU s | note |"
echo "| --- | ---: | ---: | --- |"
t0=$(now_ms)
cpu_now
c0=$cpu
"$KB" kernel --kernel "$ABI" --cache "$C" --prepare-only >"$T/out" 2>"$T/err" || {
	echo "# kernel build benchmark: preparation failed: $(tail -1 "$T/err")"
	exit 1
}
note=cold
grep -q "from the cache" "$T/out" && note="reused (BENCH_KERNEL_COLD=1 for a cold one)"
ms=$(($(now_ms) - t0))
cpu_now
echo "| prepare | $(secs "$ms") | $(echo "$cpu $c0" | awk '{ printf "%.1f", $1 - $2 }') | $note |"
tree=$(sed -n 's/^prepared kernel .* in \(.*\): .*/\1/p' "$T/out")

mkdiff() { # mkdiff NAME FILE SED-EXPR
	mkdir -p "$T/d/a/$(dirname "$2")" "$T/d/b/$(dirname "$2")"
	cp "$tree/$2" "$T/d/a/$2"
	sed "$3" "$tree/$2" >"$T/d/b/$2"
	(cd "$T/d" && diff -u "a/$2" "b/$2") >"$T/$1.patch"
	rm -rf "$T/d"
}
mkdiff fs-open fs/open.c '/^long do_sys_open(/,/^}/s/struct open_how how = build_open_how(flags, mode);/&\n\tif (flags == -1) return -EPERM;/'
mkdiff fat-module fs/fat/inode.c '/^static int fat_statfs(/,/^}/s/buf->f_type = dentry->d_sb->s_magic;/&\n\tbuf->f_namelen = 255;/'
mkdiff kstrtox-header lib/kstrtox.h 's/KSTRTOX_OVERFLOW\t*(1U << 31)/KSTRTOX_OVERFLOW (1U << 30)/'
mkdiff kernel-sys kernel/sys.c '/^SYSCALL_DEFINE1(umask, int, mask)/,/^}/s/mask = xchg/mask = mask \& 0777; mask = xchg/'

for d in fs-open fat-module kstrtox-header kernel-sys; do
	rm -rf "$T/o"
	t0=$(now_ms)
	cpu_now
	c0=$cpu
	if "$KB" kernel --kernel "$ABI" --cache "$C" --objects-only -o "$T/o" --diff "$T/$d.patch" \
		>"$T/out" 2>"$T/err"; then
		ms=$(($(now_ms) - t0))
		cpu_now
		n=$(wc -l <"$T/o/objects.tsv")
		echo "| objects: $d | $(secs "$ms") | $(echo "$cpu $c0" | awk '{ printf "%.1f", $1 - $2 }') | $n objects: $(secs $((ms / n / 2))) s per object and side, working trees included |"
	else
		echo "| objects: $d | - | - | failed: $(tail -1 "$T/err") |"
	fi
done
