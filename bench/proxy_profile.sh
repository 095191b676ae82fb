#!/usr/bin/env bash
# Where the proxy's time goes: blockyard in front of the fast upstream
# (nginx inside the worker's sandbox, bench_nginx_app), loaded by wrk with
# keep-alive, while `perf record` samples the blockyard process. Prints the
# hottest functions (self time) and keeps perf.data for `perf report`.
#
# Usage: bench/proxy_profile.sh [seconds] [connections] [object]
#        (defaults: 10 32 small.txt; object small.txt or 100k.bin)
# Output: $PERF_OUT (default /tmp/blockyard-proxy.perf.data).
# Needs: a build with symbols (RelWithDebInfo, the default), perf
# (apt-get install linux-perf), wrk, nginx.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
CONNS=${2:-32}
OBJECT=${3:-small.txt}
PERF_OUT=${PERF_OUT:-/tmp/blockyard-proxy.perf.data}
source bench/lib.sh
bench_require wrk nginx perf curl ss

bench_start_server 4
mkdir -p "$work/app/www"
printf 'hello, world\n' > "$work/app/www/small.txt"
head -c 102400 /dev/urandom > "$work/app/www/100k.bin"
bench_nginx_app "$work/app"
bench_deploy "$work/app" fast
read -r cookie worker_port < <(bench_new_session fast) || true
[ -n "${worker_port:-}" ] || exit 1
url="http://127.0.0.1:$PORT/app/fast/$OBJECT"
wrk -t1 -c"$CONNS" -d1s -H "Cookie: $cookie" "$url" >/dev/null  # warm the pool

perf record -F 2000 -g --call-graph dwarf,16384 -p "$BY_PID" -o "$PERF_OUT" -- sleep "$DURATION" \
  > "$work/perf.log" 2>&1 &
perf_pid=$!
sleep 0.2
wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency -H "Cookie: $cookie" "$url" | grep -E 'Requests/sec|50%|99%'
wait "$perf_pid" || { cat "$work/perf.log" >&2; exit 1; }
echo
echo "== hottest functions (self, % of blockyard's samples), $PERF_OUT =="
perf report -i "$PERF_OUT" --no-children --sort dso,symbol --percent-limit 0.7 --stdio 2>/dev/null |
  grep -E '^ +[0-9.]+%' | head -50
