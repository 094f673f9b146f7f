#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `make install` honours DESTDIR and PREFIX: commands under bin/sbin, man pages, docs.
set -eu
top=${KC_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${KC_BUILD:-$top/build}
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
prefix=$(meson introspect "$build" --buildoptions | python3 -c \
	'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"][0])')
DESTDIR="$dest/root" meson install -C "$build" --no-rebuild >/dev/null
for f in bin/kcare-build sbin/libcare-ctl sbin/kcarectl sbin/libcare-cron sbin/uchecker \
	sbin/eportal sbin/kc.eportal share/man/man1/kcare-build.1 share/man/man8/libcare-ctl.8 \
	share/man/man8/kcarectl.8 share/man/man8/uchecker.8 share/doc/kcare/patch-format.md; do
	[ -f "$dest/root$prefix/$f" ] || { echo "missing $prefix/$f"; exit 1; }
done
"$dest/root$prefix/sbin/libcare-ctl" --version | grep -q '^libcare-ctl ' ||
	{ echo "installed binary does not run"; exit 1; }
echo ok
