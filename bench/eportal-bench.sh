#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# eportal under load on loopback, measured with wrk next to nginx serving the
# same repository files statically: metadata fetches (timestamp.json, a feed
# file), blob downloads, and agent check-ins with 10,000 registered servers in
# the database. Prints a table; never fails on a figure (exit 1 only when it
# cannot run: no eportal build, no wrk). nginx is optional (its column shows
# "-" without it). Called by bench/run.sh; alone: sh bench/eportal-bench.sh [BUILDDIR]
# Environment: EP_BENCH_SECONDS (per run, default 10), EP_BENCH_CONNS (default 64),
# EP_BENCH_SERVERS (default 10000), EP_BENCH_THREADS (eportal threads, default 4),
# BENCH_KEEP=1 (keep the temp dir).
set -u

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$TOP/build}" 2>/dev/null && pwd) || {
	echo "eportal-bench: no build directory '${1:-$TOP/build}'" >&2
	exit 1
}
EP=$BUILD/src/eportal/eportal
EPC=$BUILD/src/eportal/kc.eportal
SECS=${EP_BENCH_SECONDS:-10}
CONNS=${EP_BENCH_CONNS:-64}
NSERVERS=${EP_BENCH_SERVERS:-10000}
EPTHREADS=${EP_BENCH_THREADS:-4}
PY=$(command -v /usr/bin/python3 || command -v python3)

[ -x "$EP" ] && [ -x "$EPC" ] || { echo "eportal-bench: eportal is not built in $BUILD" >&2; exit 1; }
command -v wrk >/dev/null 2>&1 || { echo "eportal-bench: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
NGINX=$(command -v nginx || ls /usr/sbin/nginx 2>/dev/null || true)

T=$(cd "$(mktemp -d "${TMPDIR:-/tmp}/kc-epbench.XXXXXX")" && pwd -P) || exit 1
EP_PID=""
NG_PID=""
cleanup() {
	[ -n "$EP_PID" ] && kill "$EP_PID" 2>/dev/null && wait "$EP_PID" 2>/dev/null
	[ -n "$NG_PID" ] && kill "$NG_PID" 2>/dev/null && wait "$NG_PID" 2>/dev/null
	if [ -n "${BENCH_KEEP:-}" ]; then echo "# kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

free_port() {
	"$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_http() { # URL
	_n=0
	until [ "$(curl -s -o /dev/null -w '%{http_code}' "$1" 2>/dev/null)" = 200 ]; do
		_n=$((_n + 1))
		[ $_n -lt 200 ] || return 1
		sleep 0.05
	done
}

# rps URL [LUA]: requests per second (and transfer) of one wrk run
rps() {
	if [ -n "${2:-}" ]; then
		wrk -t2 -c"$CONNS" -d"${SECS}s" -s "$2" "$1" >"$T/wrk.out" 2>&1
	else
		wrk -t2 -c"$CONNS" -d"${SECS}s" "$1" >"$T/wrk.out" 2>&1
	fi
	_r=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$T/wrk.out")
	_e=$(sed -n 's/.*Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$T/wrk.out")
	_l=$(sed -n 's/^ *Latency *\([0-9.]*[a-z]*\).*/\1/p' "$T/wrk.out")
	echo "${_r:--} ${_l:--} ${_e:-0}"
}

echo "# eportal benchmark: $(nproc) CPUs, eportal from $BUILD, $EPTHREADS server threads,"
echo "# wrk -t2 -c$CONNS -d${SECS}s on 127.0.0.1, $NSERVERS registered servers"

# --- setup: data directory, a patchset-sized blob, 10,000 servers ----------------------
DATA=$T/data
"$EPC" --data "$DATA" key -a --note bench >"$T/key" 2>"$T/err" || { cat "$T/err" >&2; exit 1; }
KEY=$(cat "$T/key")
head -c 262144 /dev/urandom >"$T/blob"
SHA=$(sha256sum "$T/blob" | cut -d' ' -f1)
mkdir -p "$DATA/repo/blobs"
cp "$T/blob" "$DATA/repo/blobs/$SHA"
# the servers are inserted straight into SQLite in one transaction: this is set-up, not
# what is measured (registration over HTTP is measured below with check-ins)
"$PY" - "$DATA/eportal.db" "$KEY" "$NSERVERS" "$T/ids" <<'EOF' || exit 1
import sqlite3, sys, time, secrets
db, key, n, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
c = sqlite3.connect(db)
kid = c.execute("SELECT id FROM keys WHERE key = ?", (key,)).fetchone()[0]
now = int(time.time())
ids = [secrets.token_hex(16) for _ in range(n)]
c.executemany("INSERT INTO servers (server_id, key_id, hostname, ip, kernel_id, registered, last_seen)"
              " VALUES (?, ?, ?, '127.0.0.1', 'k', ?, ?)",
              [(s, kid, f"host{i}", now, now) for i, s in enumerate(ids)])
c.commit()
open(out, "w").write("\n".join(ids[:2000]) + "\n")
EOF
cat >"$T/checkin.lua" <<EOF
local ids = {}
for line in io.lines("$T/ids") do ids[#ids + 1] = line end
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i + 1
  local id = ids[(i % #ids) + 1]
  return wrk.format(nil, "/api/v1/checkin",
    nil, '{"server_id":"' .. id .. '","patch_level":1,"uptime":' .. i .. '}')
end
EOF

PORT=$(free_port)
"$EP" --listen "127.0.0.1:$PORT" --data "$DATA" --threads "$EPTHREADS" --max-connections 4096 \
	>"$T/eportal.log" 2>&1 &
EP_PID=$!
wait_http "http://127.0.0.1:$PORT/repo/timestamp.json" || { cat "$T/eportal.log" >&2; exit 1; }
EPU="http://127.0.0.1:$PORT"

NGU=""
if [ -n "$NGINX" ]; then
	NPORT=$(free_port)
	mkdir -p "$T/nginx"
	# the data directory is 0700: workers read it as the user that runs the benchmark
	NGUSER=""
	[ "$(id -u)" = 0 ] && NGUSER="user root;"
	cat >"$T/nginx/nginx.conf" <<EOF
$NGUSER
worker_processes 2;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path $T/nginx/tmp;
  proxy_temp_path $T/nginx/tmp;
  fastcgi_temp_path $T/nginx/tmp;
  uwsgi_temp_path $T/nginx/tmp;
  scgi_temp_path $T/nginx/tmp;
  server {
    listen 127.0.0.1:$NPORT;
    location /repo/ { alias $DATA/repo/; }
  }
}
EOF
	"$NGINX" -p "$T/nginx" -c "$T/nginx/nginx.conf" -g 'daemon off;' >"$T/nginx/out" 2>&1 &
	NG_PID=$!
	if wait_http "http://127.0.0.1:$NPORT/repo/timestamp.json"; then
		NGU="http://127.0.0.1:$NPORT"
	else
		echo "# note: nginx did not start: $(tail -2 "$T/nginx/out" "$T/nginx/error.log" 2>/dev/null | tr '\n' ' ')"
	fi
fi

ROWS=$T/rows
: >"$ROWS"
row() { # NAME PATH [LUA]
	_ep=$(rps "$EPU$2" "${3:-}")
	if [ -n "$NGU" ] && [ -z "${3:-}" ]; then
		_ng=$(rps "$NGU$2")
	else
		_ng="- - -"
	fi
	echo "$1 $_ep $_ng" >>"$ROWS"
}
row metadata /repo/timestamp.json
row feed-file /repo/feeds/main/kernel.json
row blob-256k "/repo/blobs/$SHA"
row checkin /api/v1/checkin "$T/checkin.lua"

echo
echo "## requests per second (latency: wrk average; errors: non-2xx responses)"
printf '%-10s %12s %10s %7s %12s %10s %7s %9s\n' request eportal latency errors nginx latency errors "ep/nginx"
while read -r name er el ee nr nl ne; do
	ratio=$(awk -v a="$er" -v b="$nr" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }')
	printf '%-10s %12s %10s %7s %12s %10s %7s %9s\n' "$name" "$er" "$el" "$ee" "$nr" "$nl" "$ne" "$ratio"
done <"$ROWS"
echo
echo "# servers in the database: $(curl -s "$EPU/metrics" | sed -n 's/^eportal_servers \([0-9]*\)/\1/p')," \
	"check-ins counted: $(curl -s "$EPU/metrics" | sed -n 's/^eportal_checkins_total \([0-9]*\)/\1/p')"
exit 0
