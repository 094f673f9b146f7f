# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by the test script of a 72xx VM test inside the guest (after
# tests/vm/guest/kc-guest.sh), as /lib/kcarectl-guest.sh:
#   kc NAME WANT ARGS...   kcarectl ARGS must exit WANT: ok NAME, else not_ok
#                          (output in /tmp/kc.out and /tmp/kc.err, echoed)
#   has FILE REGEX         FILE has a line matching REGEX (for check)
kc() {
	_kcg_n=$1 _kcg_w=$2
	shift 2
	kcarectl "$@" >/tmp/kc.out 2>/tmp/kc.err
	_kcg_rc=$?
	cat /tmp/kc.out /tmp/kc.err
	if [ "$_kcg_rc" = "$_kcg_w" ]; then
		ok "$_kcg_n"
	else
		not_ok "$_kcg_n" "kcarectl $* exited $_kcg_rc, not $_kcg_w: $(cat /tmp/kc.err)"
	fi
}

has() {
	grep -Eq -- "$2" "$1"
}
