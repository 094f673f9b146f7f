#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The README's first command on a machine where only it has run: a minimal
# Debian 12 (mmdebstrap --variant=minbase from Debian's archive, made once
# and kept as $KC_BUILD/first-run-chroot.tar) gets a copy of the source
# tree, and `make demo` runs there as a new user would: the dependency step
# installs what the build needs, meson setup and ninja succeed, and the
# demo patches its service live. Slow (a few minutes, apt downloads):
# make check-slow only. Confined: the chroot's mounts live in a mount and
# PID namespace of this test, removed with its temp dir.
. "$(dirname "$0")/lib.sh"
[ -n "${KC_SLOW:-}" ] || skip "slow: runs in make check-slow (KC_SLOW=1)"
[ "$(id -u)" = 0 ] || skip "needs root (chroot, mounts)"
command -v mmdebstrap >/dev/null || skip "no mmdebstrap (make deps-check installs it)"
command -v unshare >/dev/null || skip "no unshare"
grep -q '^VERSION_CODENAME=bookworm' /etc/os-release 2>/dev/null || skip "not Debian 12"

tarball="$KC_BUILD/first-run-chroot.tar"
if [ ! -s "$tarball" ]; then
	step "making a minimal Debian 12 ($tarball, once)"
	mmdebstrap --variant=minbase --include=ca-certificates bookworm "$T/chroot.tar" \
		>"$T/mmdebstrap.log" 2>&1 || {
		tail -5 "$T/mmdebstrap.log"
		grep -qi 'could not resolve\|failed to fetch\|temporary failure' "$T/mmdebstrap.log" &&
			skip "Debian's archive is out of reach"
		fail "mmdebstrap failed"
	}
	mv "$T/chroot.tar" "$tarball" || fail "cannot keep $tarball"
fi
R="$T/root"
mkdir "$R"
tar -C "$R" -xf "$tarball" || fail "cannot unpack $tarball"
for t in gcc meson; do
	[ ! -e "$R/usr/bin/$t" ] || fail "the fresh system has $t already"
done
[ ! -e "$R/usr/include/cmocka.h" ] || fail "the fresh system has cmocka already"
# the source tree as a user gets it: the tracked files (as they are now)
mkdir "$R/kcare"
(cd "$KC_TOP" && git ls-files -z | tar --null -T - -cf -) | tar -C "$R/kcare" -xf - ||
	fail "cannot copy the source tree"
cp /etc/resolv.conf "$R/etc/resolv.conf" 2>/dev/null

step "make demo in the fresh system"
# as root there, like the README says; make itself is what a user installs
# to run the README's command at all
timeout 3600 unshare --mount --pid --fork --kill-child sh -c '
	R=$1
	mount -t proc proc "$R/proc" && mount --rbind /dev "$R/dev" &&
		mount -t tmpfs tmp "$R/tmp" || exit 3
	exec chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		DEBIAN_FRONTEND=noninteractive sh -c "apt-get update -q >/dev/null &&
		apt-get install -y -q --no-install-recommends make >/dev/null &&
		cd /kcare && make demo"' sh "$R" >"$T/demo.log" 2>&1
rc=$?
tail -40 "$T/demo.log"
[ $rc = 3 ] && skip "cannot mount in a mount namespace here"
[ $rc = 0 ] || fail "make demo on a fresh Debian 12 exited $rc"
grep -q "meson setup\|The Meson build system" "$T/demo.log" || fail "no meson setup in the log"
grep -q "cmocka" "$T/demo.log" && ! grep -q "Run-time dependency cmocka found: YES" "$T/demo.log" &&
	fail "configure ran without cmocka"
echo "ok"
