# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by the test script of a 72xx VM test inside the guest (after
# tests/vm/guest/kc-guest.sh), as /lib/kcarectl-guest.sh:
#   kc NAME WANT ARGS...   kcarectl ARGS must exit WANT: ok NAME, else not_ok
#                          (output in /tmp/kc.out and /tmp/kc.err, echoed)
#   has FILE REGEX         FILE has a line matching REGEX (for check)
#   kc_one_line NAME       kcarectl said one error line
#   kc_state               the kernel's patch state, to compare before/after
#   phase NAME             wait for the host to do NAME (kcvm_phase/kcvm_answer)
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

# kc_one_line NAME: the last kcarectl said one "kcarectl: ..." line on stderr
kc_one_line() {
	if [ "$(wc -l </tmp/kc.err)" = 1 ] && grep -q '^kcarectl: ' /tmp/kc.err; then
		ok "$1"
	else
		not_ok "$1" "stderr: $(cat /tmp/kc.err)"
	fi
}

# kc_state: what a refused command must leave alone: the livepatches and
# their state, the loaded modules, /proc/kcare, /proc/cmdline
kc_state() {
	for _kcg_p in /sys/kernel/livepatch/*; do
		[ -e "$_kcg_p/enabled" ] && echo "$_kcg_p $(cat "$_kcg_p/enabled") $(cat "$_kcg_p/transition")"
	done
	cut -d' ' -f1 /proc/modules | sort
	for _kcg_f in /proc/kcare/*; do
		[ -e "$_kcg_f" ] && echo "== $_kcg_f" && cat "$_kcg_f"
	done
	cat /proc/cmdline
}

# phase NAME: tells the host (result "phase NAME") and waits, at most 300 s,
# for its answer at http://10.0.2.2:<kc.ctl>/NAME (tests/integration/
# kcarectl-vm.sh, kcvm_answer): "ok" goes on; anything else is a not_ok and
# status 1
phase() {
	result phase "$1"
	_kcg_n=1500
	while ! guest_fetch "http://10.0.2.2:$(guest_arg ctl)/$1" /tmp/phase 10 2>/dev/null; do
		_kcg_n=$((_kcg_n - 1))
		[ $_kcg_n -gt 0 ] || {
			not_ok "phase-$1" "no answer from the host"
			return 1
		}
		usleep 200000
	done
	[ "$(cat /tmp/phase)" = ok ] && return 0
	not_ok "phase-$1" "the host: $(cat /tmp/phase)"
	return 1
}
