#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# eportal under password guessing (issue 14, items 11 and 12), on loopback:
# latency of /repo/timestamp.json alone and while 64 threads guess passwords
# without pause (with the default login limits, and with the limits off so that
# only the hash threads and their bounded queue protect the server), what the
# guessers got, and the time of a refused login for an unknown user against a
# known user with a wrong password. Prints a table; never fails on a figure.
# Called by bench/run.sh; alone: sh bench/eportal-login-bench.sh [BUILDDIR]
# A failed fetch counts as infinitely slow in the percentiles and in "failed".
# Environment: EP_LOGIN_SECONDS (per flood, default 10), BENCH_KEEP=1.
set -u

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$TOP/build}" 2>/dev/null && pwd) || {
	echo "eportal-login-bench: no build directory '${1:-$TOP/build}'" >&2
	exit 1
}
EP=$BUILD/src/eportal/eportal
EPC=$BUILD/src/eportal/kc.eportal
SECS=${EP_LOGIN_SECONDS:-10}
PY=$(command -v /usr/bin/python3 || command -v python3)
[ -x "$EP" ] && [ -x "$EPC" ] || { echo "eportal-login-bench: eportal is not built in $BUILD" >&2; exit 1; }

T=$(cd "$(mktemp -d "${TMPDIR:-/tmp}/kc-eplogin.XXXXXX")" && pwd -P) || exit 1
EP_PID=""
cleanup() {
	[ -n "$EP_PID" ] && kill "$EP_PID" 2>/dev/null && wait "$EP_PID" 2>/dev/null
	if [ -n "${BENCH_KEEP:-}" ]; then echo "# kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

"$EPC" --data "$T/data" user -a admin -p right >/dev/null 2>"$T/err" || { cat "$T/err" >&2; exit 1; }

start() { # EPORTAL-ARGS...: starts eportal, sets PORT
	PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	: >"$T/ep.log"
	"$EP" --listen "127.0.0.1:$PORT" --data "$T/data" "$@" >"$T/ep.log" 2>&1 &
	EP_PID=$!
	_n=0
	until grep -q '^eportal: listening' "$T/ep.log"; do
		_n=$((_n + 1))
		[ $_n -lt 300 ] || { cat "$T/ep.log" >&2; exit 1; }
		sleep 0.1
	done
}

stop() {
	kill "$EP_PID" 2>/dev/null
	wait "$EP_PID" 2>/dev/null
	EP_PID=""
}

# run CASE GUESSERS: one line of the table
run() {
	"$PY" - "$PORT" "$SECS" "$1" "$2" <<'PYEOF'
import base64, http.client, statistics, sys, threading, time
port, secs, case, nthr = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], int(sys.argv[4])
auth = {"Authorization": "Basic " + base64.b64encode(b"admin:guess").decode()}
def get(path, headers):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("GET", path, headers=headers)
    r = c.getresponse(); r.read(); c.close()
    return r.status
def checks():
    import urllib.request
    text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=60).read().decode()
    for l in text.splitlines():
        if l.startswith("eportal_password_checks_total "):
            return int(l.split()[1])
import multiprocessing
def guesser_process(stop, q):
    # the guessers run in a process of their own: their threads must not hold up the
    # measuring thread's interpreter
    counts, lock = {}, threading.Lock()
    def guess():
        while not stop.is_set():
            try: st = get("/admin/api/v1/feeds", auth)
            except Exception as e: st = "error-" + type(e).__name__
            with lock: counts[st] = counts.get(st, 0) + 1
    g = [threading.Thread(target=guess) for _ in range(nthr)]
    for t in g: t.start()
    for t in g: t.join()
    q.put(counts)
stop, q = multiprocessing.Event(), multiprocessing.Queue()
c0 = checks()
p = multiprocessing.Process(target=guesser_process, args=(stop, q), daemon=True)
if nthr: p.start()
time.sleep(0.5 if nthr else 0)
lat, t_end = [], time.monotonic() + secs
while time.monotonic() < t_end:
    t0 = time.monotonic()
    try:
        ok = get("/repo/timestamp.json", {}) == 200
    except Exception:
        ok = False
    lat.append((time.monotonic() - t0) * 1000 if ok else float("inf"))
    time.sleep(0.02)
stop.set()
counts = q.get() if nthr else {}
if nthr: p.join()
lat.sort()
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
got = " ".join("%s:%d" % (k, v) for k, v in sorted(counts.items(), key=str)) or "-"
print("%-22s %6d %8.2f %8.2f %8.2f %6d %7d  %s" % (case, len(lat), q(0.5), q(0.99), lat[-1],
      sum(1 for x in lat if x == float("inf")), checks() - c0, got))
PYEOF
}

# who N USER...: median ms of N refused logins (wrong password) of each USER, one request
# at a time, the users taking turns so that a change of load hits them alike
who() {
	"$PY" - "$PORT" "$@" <<'PYEOF'
import base64, http.client, statistics, sys, time
port, n, users = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
ms = {u: [] for u in users}
for _ in range(n):
    for u in users:
        h = {"Authorization": "Basic " + base64.b64encode((u + ":wrong").encode()).decode()}
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        t0 = time.monotonic()
        c.request("GET", "/admin/api/v1/feeds", headers=h)
        r = c.getresponse(); r.read(); c.close()
        ms[u].append((time.monotonic() - t0) * 1000)
        assert r.status == 401, r.status
for u in users:
    l = ms[u]
    print("%-22s %8.1f ms median of %d (min %.1f, max %.1f)" % (u, statistics.median(l), n, min(l), max(l)))
PYEOF
}

echo "# eportal password guessing: $(nproc) CPUs, $SECS s per case, /repo/timestamp.json fetched every 20 ms"
echo "case                   fetches   p50 ms   p99 ms   max ms failed  hashes  guesses answered"
start
run "no guessing" 0
run "64 guessers, defaults" 64
stop
start --login-limit 0 --login-limit-global 0
run "64 guessers, no limits" 64
echo "# a refused login (401), limits off: unknown user against known user"
who 20 admin nosuchuser
stop
