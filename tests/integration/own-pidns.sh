# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced first (before lib.sh) by tests that run agents looking at every
# process: the test re-executes itself in a PID namespace of its own, with
# its own /proc, so that it sees only the processes it started and never
# touches the host's (someone may run make check on a host with live-patched
# services). Skips when such a namespace cannot be made.
if [ -z "${KC_IN_PIDNS:-}" ]; then
	if command -v unshare >/dev/null && unshare --fork --pid --mount-proc true 2>/dev/null; then
		KC_IN_PIDNS=1 exec unshare --fork --pid --mount-proc --kill-child sh "$0" "$@"
	fi
	echo "SKIP: cannot make a PID namespace (unshare --pid --mount-proc), and the agent would see every process"
	exit 77
fi
