#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# What eportal keeps on disk stays its own (issue 14, items 9 and 10): a data
# directory made beforehand is closed to other users at first start, the
# database is 0600, a backup (which holds the signing keys) is 0600 whatever
# the umask and whatever file it replaces, a restore sets tight modes whatever
# the archive says, and a data directory or database opened to other users
# later stops eportal and kc.eportal with one line naming the chmod that fixes it.
KC_EP_LIB=1 . "$(dirname "$0")/5100-eportal-basic.sh"
ep_need

mode() {
	stat -c %a "$1"
}

# no file or directory under DIR that others may read, write or enter, but what is public
# anyway: DIR/repo (what agents download), DIR/oval (what scanners download) and the public keys
closed_to_others() {
	find "$1" -path "$1/repo" -prune -o -path "$1/oval" -prune -o -name '*.pub' -prune -o -perm /o=rwx -print >"$T/open"
	[ ! -s "$T/open" ] || fail "open to other users under $1: $(cat "$T/open")"
}

umask 022
step "first start: a data directory made 0755 beforehand is closed; the database is 0600"
mkdir -m 0755 "$EP_DATA"
ep_start
[ "$(mode "$EP_DATA")" = 700 ] || fail "data directory is $(mode "$EP_DATA")"
[ "$(mode "$EP_DATA/eportal.db")" = 600 ] || fail "eportal.db is $(mode "$EP_DATA/eportal.db")"
epc user -a admin -p secret >/dev/null || fail "user -a"
for f in "$EP_DATA"/eportal.db-wal "$EP_DATA"/eportal.db-shm; do
	[ ! -e "$f" ] || [ "$(mode "$f")" = 600 ] || fail "$f is $(mode "$f")"
done
closed_to_others "$EP_DATA"

step "backup: 0600 under umask 022, also over an existing 0644 file"
epc backup "$T/new.tar.gz" || fail "backup"
[ "$(mode "$T/new.tar.gz")" = 600 ] || fail "new backup is $(mode "$T/new.tar.gz")"
echo old >"$T/old.tar.gz"
chmod 0644 "$T/old.tar.gz"
epc backup "$T/old.tar.gz" || fail "backup over a file"
[ "$(mode "$T/old.tar.gz")" = 600 ] || fail "replaced backup is $(mode "$T/old.tar.gz")"
tar -tzf "$T/old.tar.gz" | grep -qx keys/root.key || fail "backup over a file lacks the root key"
epc backup "$T/nosuchdir/b.tar.gz" 2>"$T/err" && fail "backup into a missing directory"
[ "$(wc -l <"$T/err")" = 1 ] || fail "backup error: $(cat "$T/err")"
ls "$T" | grep -q '^old.tar.gz.' && fail "temporary backup files left: $(ls "$T")"
ep_stop

step "restore: tight modes under umask 000, whatever the archive holds"
mkdir "$T/loose"
tar -xzf "$T/new.tar.gz" -C "$T/loose"
chmod -R a+rwX "$T/loose"
# members are files only, as in a backup
(cd "$T/loose" && find eportal.db keys repo -type f | tar -czf "$T/loose.tar.gz" -T -)
mkdir -m 0777 "$T/restored"
(umask 000 && "$EPC_BIN" --data "$T/restored" restore "$T/loose.tar.gz") || fail "restore"
[ "$(mode "$T/restored")" = 700 ] || fail "restored directory is $(mode "$T/restored")"
[ "$(mode "$T/restored/eportal.db")" = 600 ] || fail "restored eportal.db is $(mode "$T/restored/eportal.db")"
[ "$(mode "$T/restored/keys/root.key")" = 600 ] || fail "restored root.key is $(mode "$T/restored/keys/root.key")"
closed_to_others "$T/restored"
find "$T/restored/repo" -perm /o=w | grep -q . && fail "world-writable under the restored repo"

step "a data directory or database opened to others later: refused with the fix"
chmod 0755 "$EP_DATA"
"$EP_BIN" --listen 127.0.0.1:0 --data "$EP_DATA" >"$T/out" 2>&1
RC=$?
[ $RC != 0 ] || fail "eportal started on a 0755 data directory"
[ "$(wc -l <"$T/out")" = 1 ] || fail "not one line: $(cat "$T/out")"
grep -q "chmod o-rwx '$EP_DATA'" "$T/out" || fail "no fix named: $(cat "$T/out")"
epc feed list >/dev/null 2>"$T/err" && fail "kc.eportal ran on a 0755 data directory"
grep -q "chmod o-rwx" "$T/err" || fail "kc.eportal: $(cat "$T/err")"
chmod 0700 "$EP_DATA"
chmod 0644 "$EP_DATA/eportal.db"
"$EP_BIN" --listen 127.0.0.1:0 --data "$EP_DATA" >"$T/out" 2>&1 && fail "eportal started with a 0644 database"
[ "$(wc -l <"$T/out")" = 1 ] || fail "not one line: $(cat "$T/out")"
grep -q "'$EP_DATA/eportal.db'" "$T/out" || fail "database not named: $(cat "$T/out")"
chmod 0755 "$EP_DATA"
"$EP_BIN" --listen 127.0.0.1:0 --data "$EP_DATA" >"$T/out" 2>&1 && fail "eportal started, both open"
[ "$(wc -l <"$T/out")" = 1 ] || fail "not one line: $(cat "$T/out")"
FIX=$(sed -n "s/.*fix: \(chmod .*\)$/\1/p" "$T/out")
[ -n "$FIX" ] || fail "no command: $(cat "$T/out")"
sh -c "$FIX" || fail "the printed command failed: $FIX"
ep_start
req GET /admin/api/v1/feeds '' -u admin:secret
expect_status 200 "after the printed fix"
ep_stop
# a group may be given access (0750/0640): only other users are refused
chmod 0750 "$EP_DATA"
chmod 0640 "$EP_DATA/eportal.db"
ep_start
ep_stop
[ "$EP_RC" = 0 ] || fail "eportal exited $EP_RC"
echo "PASS"
