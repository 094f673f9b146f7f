#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# make check-slow only: 4101 from an empty cache, so the whole of kcare-build
# deb runs (deb-src, apt-get source, build dependencies, rebuild at Debian's
# path, identity check), then a second run must reuse that cache.
[ -n "${KC_SLOW:-}" ] || {
	echo "SKIP: the fresh zlib rebuild runs with KC_SLOW=1 (make check-slow)"
	exit 77
}
KC_DEB_FRESH=1 exec sh "$(dirname "$0")/4101-build-deb-zlib.sh"
