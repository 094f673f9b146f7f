#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# eportal end to end, part 3: nothing acknowledged is lost. Four clients
# register servers and check in as fast as they can; eportal is killed with
# SIGKILL under that load; after a restart every registration and every
# check-in the clients saw acknowledged is in the database. Then kc.eportal
# deploys are killed at various moments: afterwards a patchset is either
# wholly there (rows and blobs) or absent, and deploying it again works.
KC_EP_LIB=1 . "$(dirname "$0")/5100-eportal-basic.sh"
ep_need

ep_start
KEY=$(epc key -a) || fail "key -a"
TOKEN=$(epc api-key -a) || fail "api-key -a"

step "register and check in under load, SIGKILL the server"
: >"$T/acks"
"$KC_PY" - "$EP_PORT" "$KEY" "$T/acks" >"$T/load.out" 2>&1 <<'EOF' &
import http.client, json, sys, threading, time
port, key, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
lock = threading.Lock()
f = open(out, "w")
def worker(n):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    mine = []
    deadline = time.time() + 20
    for i in range(5000):
        if time.time() > deadline:
            break
        try:
            if i % 3 == 0 or not mine:
                body = json.dumps({"key": key, "hostname": f"w{n}-{i}", "uptime": 0})
                conn.request("POST", "/api/v1/register", body)
                r = conn.getresponse()
                data = r.read()
                if r.status != 201:
                    continue
                sid = json.loads(data)["server_id"]
                mine.append(sid)
                line = f"reg {sid} 0\n"
            else:
                sid = mine[i % len(mine)]
                conn.request("POST", "/api/v1/checkin", json.dumps({"server_id": sid, "uptime": i}))
                r = conn.getresponse()
                r.read()
                if r.status != 200:
                    continue
                line = f"chk {sid} {i}\n"
            with lock:
                f.write(line)
                f.flush()
        except (OSError, http.client.HTTPException):
            return
threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("done")
EOF
LOAD=$!
# kill once a good number of requests were acknowledged (bounded wait)
_n=0
while [ "$(wc -l <"$T/acks" 2>/dev/null || echo 0)" -lt 400 ] && [ $_n -lt 200 ]; do
	sleep 0.05
	_n=$((_n + 1))
done
ep_kill
wait $LOAD
ACKED=$(wc -l <"$T/acks")
echo "# acknowledged before the kill: $ACKED"
[ "$ACKED" -gt 50 ] || fail "too few requests acknowledged: $(cat "$T/load.out")"

step "after restart every acknowledged registration and check-in is there"
ep_start
req GET '/admin/api/v1/servers?limit=10000' '' -H "X-Api-Key: $TOKEN"
expect_status 200 "list servers"
jq -r '.servers[] | "\(.server_id) \(.uptime)"' "$T/body" | sort >"$T/stored"
# the highest acknowledged uptime per server must be <= the stored one
awk '{ if (!($2 in max) || $3 > max[$2]) max[$2] = $3 } END { for (s in max) print s, max[s] }' "$T/acks" |
	sort >"$T/want"
join -a 1 "$T/want" "$T/stored" >"$T/joined"
awk 'NF < 3 { print "lost registration " $1; bad = 1 } NF == 3 && $3 < $2 { print "lost check-in " $1 " " $2 " > " $3; bad = 1 } END { exit bad }' \
	"$T/joined" >"$T/lost" || fail "acknowledged data lost: $(head -5 "$T/lost")"
echo "# $(wc -l <"$T/want") servers checked"

step "SIGKILL during kc.eportal deploy"
if "$KC_PACK_BIN" --help 2>&1 | grep -q '^ *patchset '; then
	src="$KC_SRC/pack"
	cc_prog "$T/target" "$src/target.c"
	cc_fix "$T/fix-ok.o" "$src/fix-ok.c"
	for i in 1 2 3 4 5 6; do
		pack --target "$T/target" --object "$T/fix-ok.o" -o "$T/p$i.kpatch" --id fix$i >/dev/null
		"$KC_PACK_BIN" patchset --product libs --name "U2022010${i}_01" -o "$T/ps$i.tar.bz2" \
			"$T/p$i.kpatch" >/dev/null 2>&1 || fail "kcare-build patchset $i"
	done
	for i in 1 2 3 4 5 6; do
		"$EPC_BIN" --data "$EP_DATA" ${EP_DB:+--db "$EP_DB"} libcare deploy "$T/ps$i.tar.bz2" \
			>/dev/null 2>&1 &
		D=$!
		sleep "0.$i"
		kill -9 $D 2>/dev/null
		wait $D 2>/dev/null
	done
	# every patchset that is there is whole: each of its blobs exists and matches
	req GET '/admin/api/v1/patchsets?product=libs' '' -H "X-Api-Key: $TOKEN"
	echo "# patchsets after the kills: $(jget '[.patchsets[].name] | join(" ")')"
	for i in 1 2 3 4 5 6; do
		epc libcare deploy "$T/ps$i.tar.bz2" >/dev/null || fail "deploy $i again after a kill"
	done
	req GET /repo/feeds/main/libs.json
	jq -r '.payload | @base64d | fromjson | .targets[] | "\(.sha256) \(.length)"' "$T/body" >"$T/entries"
	[ "$(wc -l <"$T/entries")" = 6 ] || fail "feed lists $(wc -l <"$T/entries") entries, not 6"
	while read -r sha len; do
		[ "$(sha256sum "$EP_DATA/repo/blobs/$sha" | cut -d' ' -f1)" = "$sha" ] ||
			fail "blob $sha missing or damaged"
		[ "$(stat -c %s "$EP_DATA/repo/blobs/$sha")" = "$len" ] || fail "blob $sha length"
	done <"$T/entries"
else
	echo "# kcare-build has no patchset command: deploy part skipped"
fi
ep_stop
echo PASS
