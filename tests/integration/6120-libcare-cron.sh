#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# libcare-cron under a temporary root: init with and without systemd units,
# the files' modes and content (interval, kcarectl's installed path, a cron
# line Debian's cron accepts), idempotence, status and --json, KCARE_ROOT,
# remove, bad arguments (exit 2, one line) and a read-only tree (exit 1,
# nothing half written).
. "$(dirname "$0")/lib.sh"

BIN="$KC_BUILD/src/agent/libcare-cron"
[ -x "$BIN" ] || skip "libcare-cron is not built in $KC_BUILD"
sbindir=$(meson introspect "$KC_BUILD" --buildoptions | "$KC_PY" -c '
import json, os, sys
o = {x["name"]: x["value"] for x in json.load(sys.stdin)}
print(os.path.join(o["prefix"], o["sbindir"]))')
[ -n "$sbindir" ] || fail "cannot read sbindir from $KC_BUILD"
CRON=/etc/cron.d/libcare-cron
SVC=/etc/systemd/system/libcare-cron.service
TIMER=/etc/systemd/system/libcare-cron.timer
LINK=/etc/systemd/system/timers.target.wants/libcare-cron.timer

# lc ARGS...: exit status in RC, output in $T/out and $T/err
lc() {
	env -u KCARE_ROOT "$BIN" "$@" >"$T/out" 2>"$T/err"
	RC=$?
	echo "\$ libcare-cron $* -> $RC"
	sed 's/^/  out: /' "$T/out"
	sed 's/^/  err: /' "$T/err"
}

lc_ok() {
	lc "$@"
	[ $RC = 0 ] || fail "libcare-cron $* exited $RC: $(cat "$T/err")"
}

# lc_fails CODE ARGS...: exits CODE with exactly one line on stderr
lc_fails() {
	_want=$1
	shift
	lc "$@"
	[ $RC = "$_want" ] || fail "libcare-cron $* exited $RC, expected $_want"
	[ "$(lines "$T/err")" = 1 ] || fail "libcare-cron $*: expected one line on stderr"
	grep -q '^libcare-cron: ' "$T/err" || fail "libcare-cron $*: stderr lacks the program name"
}

mode() {
	stat -c %a "$1"
}

has() {
	grep -qxF -- "$2" "$1" || fail "$1 has no line '$2'"
}

# cron_valid FILE: every job line of a cron.d file has five time fields
# within their ranges, a user and a command, as Debian's cron reads them
cron_valid() {
	awk '
	function field_ok(f, lo, hi,   n, i, parts, r, s, b, e) {
		n = split(f, parts, ",")
		for (i = 1; i <= n; i++) {
			r = parts[i]; s = 1
			if (r ~ /\//) { s = substr(r, index(r, "/") + 1); r = substr(r, 1, index(r, "/") - 1)
				if (s !~ /^[0-9]+$/ || s + 0 < 1) return 0 }
			if (r == "*") continue
			if (r ~ /^[0-9]+-[0-9]+$/) { b = substr(r, 1, index(r, "-") - 1) + 0; e = substr(r, index(r, "-") + 1) + 0 }
			else if (r ~ /^[0-9]+$/) { b = e = r + 0 }
			else return 0
			if (b < lo || e > hi || b > e) return 0
		}
		return 1
	}
	/^[ \t]*(#|$)/ { next }
	/^[A-Za-z_][A-Za-z0-9_]*=/ { next }
	{
		jobs++
		if (NF < 7) { print "too few fields: " $0; bad = 1; next }
		if (!field_ok($1, 0, 59) || !field_ok($2, 0, 23) || !field_ok($3, 1, 31) ||
		    !field_ok($4, 1, 12) || !field_ok($5, 0, 7)) { print "bad time field: " $0; bad = 1 }
		if ($6 != "root") { print "user is not root: " $0; bad = 1 }
	}
	END { if (jobs != 1) { print "expected one job line, got " jobs + 0; bad = 1 } exit bad }
	' "$1" || fail "$1 is not a valid cron.d file"
	# cron skips cron.d files whose names have a dot, and group- or world-writable ones
	case $(basename "$1") in *.*) fail "cron would ignore $1" ;; esac
	[ "$(mode "$1")" = 644 ] || fail "$1 has mode $(mode "$1"), expected 644"
}

job_line() {
	grep -v -e '^#' -e '=' "$1"
}

step "help, version, usage errors"
lc_ok --help
grep -q '^  init ' "$T/out" || fail "--help lists no init command"
lc_ok --version
grep -q '^libcare-cron ' "$T/out" || fail "bad --version output"
lc_fails 2
lc_fails 2 frobnicate
lc_fails 2 init --interval 0 --root "$T/x"
lc_fails 2 init --interval 169 --root "$T/x"
lc_fails 2 init --interval 4h --root "$T/x"
lc_fails 2 init --interval --root "$T/x"
lc_fails 2 init --systemd maybe --root "$T/x"
lc_fails 2 init --root relative/dir
lc_fails 2 init --root "$T/x" extra
lc_fails 2 status --interval 5 --root "$T/x"
lc_fails 2 remove --json --root "$T/x"
lc_fails 2 init --bogus
[ -e "$T/x" ] && fail "a usage error wrote into the root"

step "nothing is installed before init"
R=$T/r1
mkdir -p "$R"
lc_ok status --root "$R"
grep -q 'not installed' "$T/out" || fail "status before init"
lc_ok status --root "$R" --json
"$KC_PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["installed"] is False and j["interval_hours"] is None, j' \
	"$T/out" || fail "status --json before init"

step "init --systemd no: the cron file only"
printf '0123456789abcdef0123456789abcdef\n' >"$T/machine-id"
mkdir -p "$R/etc" && cp "$T/machine-id" "$R/etc/machine-id"
lc_ok init --root "$R" --systemd no
[ -f "$R$CRON" ] || fail "no cron file"
for f in $SVC $TIMER $LINK; do
	[ -e "$R$f" ] || [ -L "$R$f" ] && fail "$f written with --systemd no"
done
cron_valid "$R$CRON"
line=$(job_line "$R$CRON")
echo "  job: $line"
echo "$line" | grep -Eq "^[0-9]+ [0-3]-23/4 \* \* \* root $(re_quote "$sbindir")/kcarectl --auto-update --quiet\$" ||
	fail "unexpected cron line: $line"
has "$R$CRON" "# libcare-cron interval_hours=4 minute=${line%% *}"
[ -z "$(find "$R" -name '.libcare*')" ] || fail "temporary files left: $(find "$R" -name '.libcare*')"

step "init again: same content, not rewritten"
cp "$R$CRON" "$T/cron.1"
ino=$(stat -c %i "$R$CRON")
lc_ok init --root "$R" --systemd no
grep -q "^unchanged $R$CRON\$" "$T/out" || fail "second init did not report unchanged"
cmp -s "$R$CRON" "$T/cron.1" || fail "second init changed the cron file"
[ "$(stat -c %i "$R$CRON")" = "$ino" ] || fail "second init rewrote the cron file"

step "the minute is fixed per host: same machine-id, same line; another id, another root"
R2=$T/r2
mkdir -p "$R2/etc" && cp "$T/machine-id" "$R2/etc/machine-id"
lc_ok init --root "$R2" --systemd no
cmp -s "$R$CRON" "$R2$CRON" || fail "same machine-id gave a different cron file"

step "init --systemd yes --interval 6: cron file, service, timer, enabled"
R3=$T/r3
mkdir -p "$R3"
lc_ok init --root "$R3" --systemd yes --interval 6
for f in $CRON $SVC $TIMER; do
	[ -f "$R3$f" ] || fail "$f missing"
	[ "$(mode "$R3$f")" = 644 ] || fail "$f has mode $(mode "$R3$f")"
done
[ -L "$R3$LINK" ] || fail "timer not enabled"
[ "$(readlink "$R3$LINK")" = "$TIMER" ] || fail "enable link points at $(readlink "$R3$LINK")"
cron_valid "$R3$CRON"
line=$(job_line "$R3$CRON")
echo "$line" | grep -Eq "^[0-9]+ [0-5]-23/6 \* \* \* root \[ -d /run/systemd/system \] \|\| $(re_quote "$sbindir")/kcarectl --auto-update --quiet\$" ||
	fail "unexpected cron line with units: $line"
has "$R3$SVC" "Type=oneshot"
has "$R3$SVC" "ExecStart=$sbindir/kcarectl --auto-update --quiet"
has "$R3$TIMER" "OnBootSec=15min"
has "$R3$TIMER" "OnUnitActiveSec=6h"
has "$R3$TIMER" "RandomizedDelaySec=30min"
has "$R3$TIMER" "Persistent=true"
has "$R3$TIMER" "WantedBy=timers.target"
if command -v systemd-analyze >/dev/null 2>&1; then
	# unit syntax: unknown keys or sections are reported; a missing kcarectl is not our concern here
	systemd-analyze verify --root="$R3" "$R3$TIMER" "$R3$SVC" 2>&1 |
		grep -Ei 'unknown (key|section)|failed to parse' && fail "systemd-analyze objects to the units"
fi
lc_ok init --root "$R3" --systemd yes --interval 6
[ "$(grep -c '^unchanged ' "$T/out")" = 4 ] || fail "second init with units was not a no-op"

step "status and --json"
lc_ok status --root "$R3"
grep -q 'installed: every 6 hours at minute' "$T/out" || fail "status text"
[ "$(grep -c ': present$' "$T/out")" = 4 ] || fail "status does not list four present files"
lc_ok status --root "$R3" --json
"$KC_PY" -c '
import json, sys
j = json.load(open(sys.argv[1]))
assert j["installed"] is True and j["interval_hours"] == 6, j
assert 0 <= j["minute"] < 60 and j["systemd_running"] is False, j
for k in ("cron", "service", "timer", "timer_link"):
    assert j[k]["present"] is True and j[k]["path"].startswith(sys.argv[2]), (k, j)
' "$T/out" "$R3" || fail "status --json"
KCARE_ROOT=$R3 "$BIN" status >"$T/out" 2>&1 || fail "status with KCARE_ROOT failed"
grep -q 'every 6 hours' "$T/out" || fail "KCARE_ROOT is not the default root: $(cat "$T/out")"

step "--systemd auto follows ROOT/run/systemd/system"
R4=$T/r4
mkdir -p "$R4/run/systemd/system"
lc_ok init --root "$R4"
[ -f "$R4$TIMER" ] && [ -L "$R4$LINK" ] || fail "auto with systemd running wrote no timer"
rm -r "$R4/run"
lc_ok init --root "$R4"
[ -e "$R4$TIMER" ] || [ -L "$R4$LINK" ] || [ -e "$R4$SVC" ] && fail "auto without systemd kept the units"
job_line "$R4$CRON" | grep -q 'run/systemd' && fail "cron line still steps aside for a timer that is gone"

step "long intervals: whole days, then weekly"
lc_ok init --root "$R4" --interval 48 --systemd no
cron_valid "$R4$CRON"
job_line "$R4$CRON" | grep -Eq '^[0-9]+ [0-9]+ \*/2 \* \* root ' || fail "48 h: $(job_line "$R4$CRON")"
lc_ok init --root "$R4" --interval 168 --systemd no
cron_valid "$R4$CRON"
job_line "$R4$CRON" | grep -Eq '^[0-9]+ [0-9]+ \* \* [0-6] root ' || fail "168 h: $(job_line "$R4$CRON")"
lc_ok init --root "$R4" --interval 1 --systemd no
cron_valid "$R4$CRON"
job_line "$R4$CRON" | grep -Eq '^[0-9]+ \* \* \* \* root ' || fail "1 h: $(job_line "$R4$CRON")"

step "remove deletes exactly the job's files"
touch "$R3/etc/systemd/system/other.service" "$R3/etc/cron.d/other"
lc_ok remove --root "$R3"
[ "$(grep -c '^removed ' "$T/out")" = 4 ] || fail "remove did not report four files"
for f in $CRON $SVC $TIMER $LINK; do
	[ -e "$R3$f" ] || [ -L "$R3$f" ] && fail "$f still there after remove"
done
[ -f "$R3/etc/systemd/system/other.service" ] && [ -f "$R3/etc/cron.d/other" ] ||
	fail "remove deleted a file that is not its own"
lc_ok remove --root "$R3"
grep -q 'not installed' "$T/out" || fail "second remove"
lc_ok status --root "$R3"
grep -q 'not installed' "$T/out" || fail "status after remove"

step "a read-only tree: exit 1, one line, nothing half written"
if unshare -m true 2>/dev/null; then
	R5=$T/r5
	mkdir -p "$R5/etc/systemd/system" "$R5/etc/cron.d"
	# only the systemd part is read-only: the cron file could be written, and must not stay
	unshare -m sh -c '
		mount --bind -o ro "$1/etc/systemd" "$1/etc/systemd" || exit 99
		exec "$2" init --root "$1" --systemd yes' sh "$R5" "$BIN" >"$T/out" 2>"$T/err"
	RC=$?
	sed 's/^/  err: /' "$T/err"
	[ $RC = 99 ] && skip "cannot make a read-only bind mount here"
	[ $RC = 1 ] || fail "init on a read-only tree exited $RC, expected 1"
	[ "$(lines "$T/err")" = 1 ] || fail "expected one line on stderr"
	grep -q "^libcare-cron: .*$R5/etc/systemd.*[Rr]ead-only file system" "$T/err" ||
		fail "error does not name the directory and the cause"
	left=$(find "$R5" -mindepth 1 ! -path "$R5/etc" ! -path "$R5/etc/systemd" ! -path "$R5/etc/systemd/system" ! -path "$R5/etc/cron.d")
	[ -z "$left" ] || fail "a failed init left files behind: $left"

	# the whole root read-only, with an existing job: it stays as it was
	R6=$T/r6
	mkdir -p "$R6"
	lc_ok init --root "$R6" --systemd no
	cp "$R6$CRON" "$T/cron.6"
	unshare -m sh -c '
		mount --bind -o ro "$1" "$1" || exit 99
		exec "$2" init --root "$1" --systemd yes --interval 8' sh "$R6" "$BIN" >"$T/out" 2>"$T/err"
	RC=$?
	sed 's/^/  err: /' "$T/err"
	[ $RC = 1 ] || fail "init on a read-only root exited $RC, expected 1"
	[ "$(lines "$T/err")" = 1 ] || fail "expected one line on stderr"
	cmp -s "$R6$CRON" "$T/cron.6" || fail "the old cron file changed"
	[ -z "$(find "$R6" -name '.libcare*' -o -name '*.service' -o -name '*.timer')" ] ||
		fail "files left behind in the read-only root"
	unshare -m sh -c '
		mount --bind -o ro "$1" "$1" || exit 99
		exec "$2" remove --root "$1"' sh "$R6" "$BIN" >"$T/out" 2>"$T/err"
	RC=$?
	[ $RC = 1 ] || fail "remove on a read-only root exited $RC, expected 1"
	grep -q "^libcare-cron: cannot remove '$R6$CRON'" "$T/err" || fail "remove error: $(cat "$T/err")"
else
	echo "# unshare -m not permitted: read-only checks skipped"
fi

echo ok
