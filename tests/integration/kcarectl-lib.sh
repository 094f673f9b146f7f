# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by the 61xx kcarectl tests (after lib.sh's environment): the eportal
# helpers of 5100, kcarectl runs under a private root ($ROOT, exported as
# KCARE_ROOT) and checks of their output.
#   kc ARGS / kc_ok ARGS / kc_rc STATUS ARGS   run kcarectl (out: $T/kc.out, $T/kc.err)
#   kc_out REGEX / kc_err REGEX / kc_err_one_line (exactly one error line)
#   setconf KEY VALUE                          rewrite one key of kcare.conf
# kcarectl acts on every process it sees (--lib-update, --lib-unload): the
# test runs in a PID namespace of its own (own-pidns.sh).
. "$(dirname "$0")/own-pidns.sh"
KC_EP_LIB=1
. "$(dirname "$0")/5100-eportal-basic.sh"
ep_need
need_pack
: "${KCCTL_BIN:=$KC_BUILD/src/agent/kcarectl}"
[ -x "$KCCTL_BIN" ] || skip "kcarectl is not built"

ROOT="$T/root"
export KCARE_ROOT="$ROOT"
mkdir -p "$ROOT/etc/sysconfig/kcare"

# kc [ARGS]: kcarectl; status in KC_RC, output in $T/kc.out and $T/kc.err
kc() {
	timeout 120 "$KCCTL_BIN" "$@" >"$T/kc.out" 2>"$T/kc.err"
	KC_RC=$?
}
kc_ok() {
	kc "$@"
	[ $KC_RC = 0 ] || fail "kcarectl $* exited $KC_RC: $(cat "$T/kc.err" "$T/kc.out")"
}
kc_rc() { # EXPECTED ARGS...
	_want=$1
	shift
	kc "$@"
	[ $KC_RC = "$_want" ] || fail "kcarectl $* exited $KC_RC, expected $_want: $(cat "$T/kc.err" "$T/kc.out")"
}
kc_out() { grep -Eq -- "$1" "$T/kc.out" || fail "kcarectl output has no line matching '$1': $(cat "$T/kc.out")"; }
kc_err() { grep -Eq -- "$1" "$T/kc.err" || fail "kcarectl error does not match '$1': $(cat "$T/kc.err")"; }
# exactly one error line (warnings, on lines of their own, aside)
kc_err_one_line() {
	grep -v '^kcarectl: warning: ' "$T/kc.err" >"$T/kc.err1"
	[ "$(wc -l <"$T/kc.err1")" = 1 ] && grep -q '^kcarectl: ' "$T/kc.err1" || fail "not one 'kcarectl: ' error line: $(cat "$T/kc.err")"
}
setconf() { # KEY VALUE: rewrite one key of the config
	grep -v "^$1=" "$ROOT/etc/sysconfig/kcare/kcare.conf" >"$T/conf.tmp" 2>/dev/null
	echo "$1=$2" >>"$T/conf.tmp"
	mv "$T/conf.tmp" "$ROOT/etc/sysconfig/kcare/kcare.conf"
}

# kc_feed_libs NAME KPATCH...: a patchset NAME (product libs) of the patches on a
# local eportal, and kcarectl registered with it (PATCH_SERVER, root key, a key)
kc_feed_libs() {
	_kf_name=$1
	shift
	"$KC_PACK_BIN" patchset --product libs --name "$_kf_name" -o "$T/$_kf_name.tar.bz2" "$@" \
		>"$T/ps.out" 2>&1 || fail "patchset: $(cat "$T/ps.out")"
	ep_start
	epc libcare deploy "$T/$_kf_name.tar.bz2" >/dev/null || fail "deploy"
	KEY=$(epc key -a --server-limit 10 --product libs) || fail "key add"
	printf 'PATCH_SERVER=%s/repo/\n' "$EP_URL" >"$ROOT/etc/sysconfig/kcare/kcare.conf"
	kc_ok --import-key "$(epc root-key)"
	kc_ok --register "$KEY"
}
