#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs the Debian packages kcare needs to build and test, only those missing.
# Usage: install-deps.sh [--list] [build|check|bench]...   (check adds what the test
# suites use, bench what the benchmarks use; --list prints the packages, one a line,
# and installs nothing)
set -eu
list=""
if [ "${1:-}" = --list ]; then
	list=1
	shift
fi
want="$*"
[ -n "$want" ] || want=build

pkgs="gcc make pkg-config meson ninja-build libelf-dev libdw-dev libunwind-dev libjson-c-dev libcapstone-dev libsodium-dev libarchive-dev libsqlite3-dev libpq-dev libmicrohttpd-dev libxml2-dev libcurl4-openssl-dev libssl-dev liblzma-dev libcmocka-dev dpkg-dev patch util-linux"
case " $want " in
*" check "*) pkgs="$pkgs clang clang-format libclang-rt-14-dev binutils elfutils file python3 strace gdb postgresql sqlite3 bzip2 curl jq openssl qemu-system-x86 linux-headers-amd64 busybox-static cpio xz-utils e2fsprogs mmdebstrap libc6-dbg bison flex bc dwarves openscap-scanner" ;;
esac
case " $want " in
*" bench "*) pkgs="$pkgs wrk nginx-light curl" ;;
esac
if [ -n "$list" ]; then
	printf '%s\n' $pkgs
	exit 0
fi

missing=""
for p in $pkgs; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "missing build dependencies:$missing (run as root, or: apt-get install$missing)" >&2
	exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends $missing >/dev/null 2>&1 || {
	apt-get update >/dev/null 2>&1 || true
	apt-get install -y --no-install-recommends $missing
}
