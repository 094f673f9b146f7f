#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# eportal against slowloris (issue 14, item 13): one address gets at most
# --per-ip-limit connections (128 by default; others keep being served), and a
# request head must be complete within --head-timeout seconds, however
# steadily it trickles in (the idle timeout alone never fires for a client
# that sends a header line every half second).
KC_EP_LIB=1 . "$(dirname "$0")/5100-eportal-basic.sh"
ep_need

metric() {
	curl -s -m 30 "$EP_URL/metrics" | sed -n "s/^$1 \([0-9]*\)\$/\1/p"
}

# hold N SOURCE: opens N connections from SOURCE without sending anything; prints how
# many the server closed within 2 s ("closed K of N"), then keeps the rest open
# until "$T/release" exists
hold() {
	"$KC_PY" - "$EP_PORT" "$1" "$2" "$T/release" <<'PYEOF'
import os, select, socket, sys, time
port, n, src, release = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
socks = []
for i in range(n):
    s = socket.socket()
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    socks.append(s)
closed, t0 = set(), time.time()
while time.time() - t0 < 2:
    r, _, _ = select.select([s for s in socks if s not in closed], [], [], 0.1)
    for s in r:
        try:
            if s.recv(100) == b"":
                closed.add(s)
        except OSError:
            closed.add(s)
print("closed", len(closed), "of", n, flush=True)
while not os.path.exists(release):
    time.sleep(0.1)
PYEOF
}

step "one address holds at most 128 connections by default; another is still served"
# (a long head deadline: the held connections send nothing)
ep_start --head-timeout 120
rm -f "$T/release"
hold 140 127.0.0.1 >"$T/hold" 2>&1 &
HOLD=$!
track $HOLD
wait_for_line "$T/hold" '^closed' 30 || fail "holder: $(cat "$T/hold")"
grep -q '^closed 12 of 140$' "$T/hold" || fail "140 connections from one address: $(cat "$T/hold")"
ST=$(curl -s -m 10 -o "$T/body" -w '%{http_code}' --interface 127.0.0.2 "$EP_URL/repo/timestamp.json")
expect_status 200 "another address while one holds its limit"
ST=$(curl -s -m 10 -o /dev/null -w '%{http_code}' "$EP_URL/repo/timestamp.json")
[ "$ST" = 000 ] || fail "the 129th connection of an address answered $ST"
touch "$T/release"
wait $HOLD
ep_stop

step "--per-ip-limit 0 lifts the limit"
ep_start --per-ip-limit 0 --head-timeout 120
rm -f "$T/release"
hold 140 127.0.0.1 >"$T/hold" 2>&1 &
HOLD=$!
track $HOLD
wait_for_line "$T/hold" '^closed' 30 || fail "holder: $(cat "$T/hold")"
grep -q '^closed 0 of 140$' "$T/hold" || fail "no limit: $(cat "$T/hold")"
touch "$T/release"
wait $HOLD
ep_stop

step "a head trickling in a line every 0.5 s is cut at the head deadline"
ep_start --head-timeout 2 --timeout 15
"$KC_PY" - "$EP_PORT" >"$T/slow" 2>&1 <<'PYEOF' &
import socket, sys, time
port = int(sys.argv[1])
socks = []
for i in range(10):
    s = socket.create_connection(("127.0.0.1", port))
    s.send(b"GET /repo/timestamp.json HTTP/1.1\r\nHost: x\r\n")
    socks.append(s)
t0, alive, closed_at = time.time(), list(socks), []
while alive and time.time() - t0 < 14:
    time.sleep(0.5)
    for s in list(alive):
        try:
            s.send(b"X-Slow: 1\r\n")
            s.setblocking(False)
            try:
                if s.recv(100) == b"":
                    raise OSError
            except BlockingIOError:
                pass
            s.setblocking(True)
        except OSError:
            alive.remove(s)
            closed_at.append(time.time() - t0)
print("closed", len(closed_at), "of 10, last after", round(max(closed_at or [0]), 1), "s")
PYEOF
SLOW=$!
sleep 1
ST=$(curl -s -m 10 -o "$T/body" -w '%{http_code}' "$EP_URL/repo/timestamp.json")
expect_status 200 "metadata while heads trickle in"
wait $SLOW
cat "$T/slow" | sed 's/^/#   /'
set -- $(cat "$T/slow")
[ "$2" = 10 ] || fail "trickling heads still open after 14 s: $(cat "$T/slow")"
# the deadline is 2 s; 10 s is a generous bound (the idle timeout, 15 s, never fires)
awk "BEGIN { exit !($7 < 10) }" || fail "trickling heads closed only after $7 s"
[ "$(metric eportal_http_head_timeouts_total)" -ge 10 ] ||
	fail "head timeouts counted: $(metric eportal_http_head_timeouts_total)"

step "a request whose head came in time is not cut, however long it runs"
epc user -a admin -p right >/dev/null || fail "user -a"
# the password check and the upload below take longer than 2 s together on a busy host;
# neither is the head
"$KC_PY" -c 'import sys; sys.stdout.write("{\"name\":\"" + "x" * 10 + "\"," + " " * 60000 + "\"auto_update\":false}")' >"$T/big.json"
ST=$(curl -s -m 30 -o "$T/body" -w '%{http_code}' --limit-rate 20k -u admin:right \
	-H 'Content-Type: application/json' --data-binary @"$T/big.json" "$EP_URL/admin/api/v1/feeds")
expect_status 201 "a slow body after a head in time"
ep_stop
[ "$EP_RC" = 0 ] || fail "eportal exited $EP_RC"
echo "PASS"
