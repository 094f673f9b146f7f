#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# eportal on PostgreSQL: a temporary cluster (initdb as user postgres, unix
# socket in a temporary directory, no TCP) and the same end-to-end tests as on
# SQLite (5100 basic, 5101 deploy, 5102 durability, 5107 kernel) against it, one fresh
# database each; then two eportal replicas on one database see each other's
# registrations and share one key's server limit.
# Skips (77) when the PostgreSQL server binaries or the postgres user are missing.
KC_EP_LIB=1 . "$(dirname "$0")/5100-eportal-basic.sh"
ep_need

PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$PGBIN" ] && [ -x "$PGBIN/initdb" ] && [ -x "$PGBIN/pg_ctl" ] || skip "no PostgreSQL server binaries"
id postgres >/dev/null 2>&1 || skip "no postgres user"
[ "$(id -u)" = 0 ] || skip "needs root to run the cluster as postgres"

PG=$(mktemp -d /tmp/kc-pg.XXXXXX) || fail "mktemp"
chown postgres "$PG"
chmod 700 "$PG"
as_pg() {
	runuser -u postgres -- "$@"
}
pg_cleanup() {
	as_pg "$PGBIN/pg_ctl" -D "$PG/data" -m immediate stop >/dev/null 2>&1
	rm -rf "$PG"
	kc_cleanup
}
trap pg_cleanup EXIT

step "temporary PostgreSQL cluster"
as_pg "$PGBIN/initdb" -D "$PG/data" -A trust -U postgres >"$T/initdb.log" 2>&1 ||
	fail "initdb: $(tail -5 "$T/initdb.log")"
as_pg "$PGBIN/pg_ctl" -D "$PG/data" -l "$PG/log" -w -t 60 \
	-o "-c listen_addresses='' -k $PG -c fsync=on" start >"$T/pgctl.log" 2>&1 ||
	fail "pg_ctl start: $(cat "$T/pgctl.log") $(tail -5 "$PG/log" 2>/dev/null)"
for db in ep_basic ep_deploy ep_durable ep_kernel ep_replicas; do
	as_pg "$PGBIN/createdb" -h "$PG" -U postgres "$db" || fail "createdb $db"
done
url() {
	echo "postgresql:///$1?host=$PG&user=postgres"
}

for t in 5100-eportal-basic:ep_basic 5101-eportal-deploy:ep_deploy 5102-eportal-durability:ep_durable \
	5107-eportal-kernel:ep_kernel; do
	name=${t%%:*}
	step "$name on PostgreSQL"
	EP_DB=$(url "${t#*:}") sh "$(dirname "$0")/$name.sh" >"$T/$name.log" 2>&1
	st=$?
	[ $st = 77 ] && { echo "# $name skipped: $(tail -1 "$T/$name.log")"; continue; }
	[ $st = 0 ] || fail "$name on PostgreSQL (exit $st): $(tail -15 "$T/$name.log")"
done

step "two replicas on one database"
EP_DB=$(url ep_replicas)
ep_start
A_URL=$EP_URL
A_PID=$EP_PID
KEY=$(epc key -a --server-limit 3) || fail "key -a"
TOKEN=$(epc api-key -a) || fail "api-key -a"
# the second replica shares the database and the signing keys, not the directory
# (closed to other users: eportal refuses a data directory with keys that others can read)
mkdir -p -m 0700 "$T/data2"
cp -a "$EP_DATA/keys" "$T/data2/"
EP_DATA=$T/data2 ep_start
B_URL=$EP_URL
for u in "$A_URL" "$B_URL" "$A_URL" "$B_URL"; do
	curl -s -o /dev/null -w '%{http_code}\n' -X POST --data-binary "{\"key\":\"$KEY\"}" \
		"$u/api/v1/register" >>"$T/codes"
done
[ "$(sort "$T/codes" | uniq -c | tr -s ' ' | sed 's/^ //' | tr '\n' ' ')" = "3 201 1 403 " ] ||
	fail "replicas did not share the key limit: $(cat "$T/codes")"
ST=$(curl -s -o "$T/body" -w '%{http_code}' -H "X-Api-Key: $TOKEN" "$B_URL/admin/api/v1/servers")
[ "$(jget .total)" = 3 ] || fail "replica B sees $(jget .total) servers"
step "a database restart: the replicas reconnect"
as_pg "$PGBIN/pg_ctl" -D "$PG/data" -m fast -w -t 60 restart >"$T/pgctl.log" 2>&1 ||
	fail "pg_ctl restart: $(cat "$T/pgctl.log")"
# the first request on a connection that died may fail (500); a later one must work
for i in 1 2 3; do
	ST=$(curl -s -o "$T/body" -w '%{http_code}' -H "X-Api-Key: $TOKEN" "$B_URL/admin/api/v1/servers")
	[ "$ST" = 200 ] && break
done
[ "$ST" = 200 ] && [ "$(jget .total)" = 3 ] || fail "after the restart: $ST $(cat "$T/body")"
ep_stop
EP_PID=$A_PID
ep_stop
echo PASS
