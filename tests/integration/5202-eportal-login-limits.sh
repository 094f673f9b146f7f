#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# eportal under password guessing (issue 14, items 11 and 12): an unknown user
# costs the same password check as a known one (the server's own counter of
# hashes is the oracle, not a timing); wrong passwords from one address, and
# from all addresses together, are limited (429 without a hash); password
# checks wait in a bounded queue (503 when full); and while a flood of guesses
# runs, /repo/timestamp.json and API-key requests keep being answered.
KC_EP_LIB=1 . "$(dirname "$0")/5100-eportal-basic.sh"
ep_need

checks() { # the server's count of password hashes
	curl -s -m 30 "$EP_URL/metrics" | sed -n 's/^eportal_password_checks_total \([0-9]*\)$/\1/p'
}

# flood N-THREADS REQUESTS-EACH USER:PASSWORD [SOURCE-ADDRESS...]: parallel basic-auth
# requests (each thread from the next source address) while one more thread fetches
# /repo/timestamp.json and an API-key request every 100 ms. Prints "status count" lines,
# then "repo N max-seconds failures" and "apikey N max-seconds failures".
flood() {
	"$KC_PY" - "$EP_PORT" "$TOKEN" "$@" <<'PYEOF'
import base64, http.client, sys, threading, time
port, token, nthr, each, cred = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
srcs = sys.argv[6:] or ["127.0.0.1"]
auth = "Basic " + base64.b64encode(cred.encode()).decode()
statuses, lock, done = {}, threading.Lock(), threading.Event()
retry_ok = [True]
start = threading.Barrier(nthr + 1)

def get(path, headers, src="127.0.0.1"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(src, 0))
    c.request("GET", path, headers=headers)
    r = c.getresponse()
    r.read()
    c.close()
    return r

def guesser(i):
    start.wait()
    for _ in range(each):
        try:
            r = get("/admin/api/v1/feeds", {"Authorization": auth}, srcs[i % len(srcs)])
            st = r.status
            if st in (429, 503) and not r.getheader("Retry-After"):
                retry_ok[0] = False
        except Exception as e:
            st = "error:" + type(e).__name__
        with lock:
            statuses[st] = statuses.get(st, 0) + 1

def watcher(path, headers, out):
    while not done.is_set():
        t0 = time.monotonic()
        try:
            ok = get(path, headers).status == 200
        except Exception:
            ok = False
        out.append((time.monotonic() - t0, ok))
        time.sleep(0.1)

repo, api = [], []
w = [threading.Thread(target=watcher, args=("/repo/timestamp.json", {}, repo)),
     threading.Thread(target=watcher, args=("/admin/api/v1/feeds", {"X-Api-Key": token}, api))]
g = [threading.Thread(target=guesser, args=(i,)) for i in range(nthr)]
for t in w + g:
    t.start()
start.wait()
for t in g:
    t.join()
time.sleep(0.3)
done.set()
for t in w:
    t.join()
for st, n in sorted(statuses.items(), key=str):
    print(st, n)
print("retry-after", "ok" if retry_ok[0] else "missing")
for name, l in (("repo", repo), ("apikey", api)):
    print(name, len(l), round(max(x[0] for x in l), 3), sum(1 for x in l if not x[1]))
PYEOF
}

status_count() { # STATUS: how many requests of the last flood got it
	_c=$(sed -n "s/^$1 \([0-9]*\)$/\1/p" "$T/flood")
	echo "${_c:-0}"
}

check_watchers() {
	grep -q '^retry-after ok$' "$T/flood" || fail "a 429/503 without Retry-After"
	for w in repo apikey; do
		set -- $(grep "^$w " "$T/flood")
		[ "${2:-0}" -gt 0 ] || fail "$w: no request ran: $(cat "$T/flood")"
		[ "$4" = 0 ] || fail "$w: $4 of $2 requests failed during the flood"
		# generous bound: before the fix, /repo/ waited behind the hashes for 20 s and more
		awk "BEGIN { exit !($3 < 5) }" || fail "$w: a request took $3 s during the flood"
		step "$w answered $2 requests during the flood, slowest $3 s"
	done
}

ep_start --login-limit 5 --login-limit-global 1000
epc user -a admin -p right >/dev/null || fail "user -a"
TOKEN=$(epc api-key -a) || fail "api-key -a"

step "unknown and known users cost one password check each"
C0=$(checks)
req GET /admin/api/v1/feeds '' -u admin:wrong
expect_error 401 unauthorized "known user, wrong password"
C1=$(checks)
[ "$C1" = $((C0 + 1)) ] || fail "known user: $C0 -> $C1 password checks"
req GET /admin/api/v1/feeds '' -u nosuchuser:wrong
expect_error 401 unauthorized "unknown user"
C2=$(checks)
[ "$C2" = $((C1 + 1)) ] || fail "unknown user: $C1 -> $C2 password checks (no hash: names can be enumerated)"
req GET /admin/api/v1/feeds '' -u admin:right
expect_status 200 "right password"
req GET /admin/api/v1/feeds '' -u admin:right
expect_status 200 "right password again (cached)"
[ "$(checks)" = $((C2 + 1)) ] || fail "a cached login ran a hash: $(checks)"

step "64 parallel guessers from one address: limited to the address's budget"
C0=$(checks)
T0=$(date +%s)
flood 64 2 admin:guess >"$T/flood" || fail "flood: $(cat "$T/flood")"
T1=$(date +%s)
C1=$(checks)
cat "$T/flood" | sed 's/^/#   /'
# 2 of the 5 tokens went above; 5 a minute come back
MAXC=$((3 + (T1 - T0 + 1) * 5 / 60 + 1))
[ $((C1 - C0)) -le $MAXC ] || fail "$((C1 - C0)) password checks for 128 guesses (at most $MAXC)"
[ "$(status_count 429)" -ge 100 ] || fail "too few 429: $(cat "$T/flood")"
[ "$(status_count 200)" = 0 ] || fail "a guess got in"
[ $(($(status_count 401) + $(status_count 429) + $(status_count 503))) = 128 ] ||
	fail "other answers than 401/429/503: $(cat "$T/flood")"
check_watchers
# the bucket refilled while the flood ran (5 a minute), but holds 5 at most: a few more
# guesses empty it again
for i in 1 2 3 4 5 6 7; do
	req GET /admin/api/v1/feeds '' -u admin:wrong
	[ "$ST" = 429 ] && break
done
expect_error 429 too-many-logins "more guesses from the limited address"
[ -n "$(curl -s -m 30 -o /dev/null -D - -u admin:wrong "$EP_URL/admin/api/v1/feeds" | grep -i '^retry-after: [1-9]')" ] ||
	fail "429 without Retry-After"
req GET /admin/api/v1/feeds '' -u admin:right
expect_status 200 "a cached right password still works from the limited address"
ST=$(curl -s -m 30 -o "$T/body" -w '%{http_code}' --interface 127.0.0.2 -u admin:wrong "$EP_URL/admin/api/v1/feeds")
expect_error 401 unauthorized "a guess from another address still gets its check"
ep_stop

step "all addresses together: the global limit"
ep_start --login-limit 100 --login-limit-global 4
C0=$(checks)
T0=$(date +%s)
for a in 2 3 4 5 6 7 8 9; do
	ST=$(curl -s -m 30 -o "$T/body" -w '%{http_code}' --interface "127.0.0.$a" -u "admin:x$a" "$EP_URL/admin/api/v1/feeds")
	echo "$ST" >>"$T/global"
done
# 4 a minute: one more every 15 s that the guesses took
MAXC=$((4 + ($(date +%s) - T0 + 1) / 15))
N401=$(grep -c '^401$' "$T/global")
[ "$N401" -ge 4 ] && [ "$N401" -le $MAXC ] && [ "$(grep -c '^429$' "$T/global")" = $((8 - N401)) ] ||
	fail "global limit of 4: $(tr '\n' ' ' <"$T/global")"
[ "$(($(checks) - C0))" = "$N401" ] || fail "$(($(checks) - C0)) password checks for $N401 refusals"
ep_stop

step "the queue of password checks is bounded: 503 at once when full"
ep_start --login-limit 0 --login-limit-global 0 --auth-threads 1 --auth-queue 1
flood 16 1 admin:guess >"$T/flood" || fail "flood: $(cat "$T/flood")"
cat "$T/flood" | sed 's/^/#   /'
[ "$(status_count 503)" -ge 1 ] || fail "no 503 with a queue of 1: $(cat "$T/flood")"
[ $(($(status_count 401) + $(status_count 503))) = 16 ] || fail "other answers: $(cat "$T/flood")"
check_watchers
ep_stop
[ "$EP_RC" = 0 ] || fail "eportal exited $EP_RC"

step "SIGTERM while password checks wait: every waiting request ends, a clean stop"
ep_start --login-limit 0 --login-limit-global 0
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
	curl -s -m 30 -o /dev/null -w '%{http_code}\n' -u "admin:x$i" "$EP_URL/admin/api/v1/feeds" >>"$T/codes" &
done
sleep 0.3
ep_stop
[ "$EP_RC" = 0 ] || fail "eportal exited $EP_RC with checks waiting: $(tail -3 "$T/eportal.log")"
grep -q '^eportal: stopped$' "$T/eportal.log" || fail "no clean stop: $(tail -3 "$T/eportal.log")"
wait
[ "$(wc -l <"$T/codes")" = 12 ] || fail "requests left hanging: $(cat "$T/codes")"
echo "PASS"
