#!/usr/bin/env bash
# Proxy memory per open idle WebSocket: opens N idle WebSockets (N = 1,000 and
# 5,000 by default) to tests/fixtures/apps/ws-echo workers, through blockyard and
# through nginx (the peer, same workers, same run), and reads each proxy's
# VmRSS (/proc/<pid>/status) before and while they are open:
#   bytes/socket = (RSS with N open - RSS before) / N      target <= 16 KiB
# nginx's figure is its worker process's (it runs one). The sockets are
# spread over several sessions (one worker each, <= 3,000 per worker: a
# worker may hold 4096 fds). Before the baseline, each proxy has already
# carried a few sockets, so one-off start-up allocations are not counted.
#
# With TOUCH_BYTES=n each socket first echoes one n-byte message, then idles
# ("idle after activity": per-socket buffers have been written to). With
# RESUMABLE=1 blockyard's sockets are the resumable kind the injected Shiny
# script opens (?blockyard_resume=new: message-aware relay with replay
# buffers), acknowledging what they receive as the script does; nginx's stay
# plain.
#
# Usage: [TOUCH_BYTES=n] [RESUMABLE=1] bench/ws_idle_rss.sh [counts...]   (default: 1000 5000)
# Needs: a build (make build), node 18+, nginx, `npm install` in bench/ (ws).
set -euo pipefail
cd "$(dirname "$0")/.."
COUNTS=("${@:-1000 5000}")
read -r -a COUNTS <<<"${COUNTS[*]}"
PER_WORKER=3000
source bench/lib.sh
bench_require node curl ss jq nginx
[ -d bench/node_modules/ws ] || (cd bench && npm install --no-audit --no-fund >/dev/null)

bench_raise_nofile
max=$(printf '%s\n' "${COUNTS[@]}" | sort -n | tail -1)
if [ $((2 * max + 512)) -gt "$(ulimit -n)" ]; then
  echo "bench: $max sockets need $((2 * max)) fds in the proxy; the limit is $(ulimit -n)" >&2
  exit 1
fi
sessions=$(((max + PER_WORKER - 1) / PER_WORKER))
bench_start_server $((sessions + 4))
bench_deploy tests/fixtures/apps/ws-echo ws-echo

resume_query=""
[ "${RESUMABLE:-0}" = 1 ] && resume_query="?blockyard_resume=new"
proxied=() via_nginx=() worker_ports=()
for i in $(seq 0 $((sessions - 1))); do
  read -r cookie port < <(bench_new_session ws-echo)
  worker_ports+=("$port")
  proxied+=("$(jq -n --arg u "ws://127.0.0.1:$PORT/app/ws-echo/echo$resume_query" --arg c "$cookie" \
    --argjson r "${RESUMABLE:-0}" '{url: $u, headers: {Cookie: $c}, resumable: ($r == 1)}')")
done
bench_nginx_ws "$max" "${worker_ports[@]}"
for i in $(seq 0 $((sessions - 1))); do
  via_nginx+=("$(jq -n --arg u "ws://127.0.0.1:$NGINX_PORT/w$i/echo" '{url: $u}')")
done

# hold <endpoints json> <count>: opens the sockets in the background; sets
# $holder (pid) once they are all open.
hold() {
  jq -n --argjson e "$1" --argjson n "$2" --argjson per "$PER_WORKER" --argjson t "${TOUCH_BYTES:-0}" \
    '{endpoints: $e, count: $n, per_endpoint: $per, touch: $t}' > "$work/hold.json"
  node bench/ws_echo.mjs --hold "$work/hold.json" > "$work/hold.out" 2>&1 &
  holder=$!
  for _ in $(seq 1200); do grep -q '^open' "$work/hold.out" && break; sleep 0.1; done
  grep -q "^open $2\$" "$work/hold.out" || {
    echo "bench: could not open $2 sockets" >&2
    head -5 "$work/hold.out" >&2
    tail -3 "$work/nginx-error.log" >&2 2>/dev/null
    exit 1
  }
}
release() {
  kill -TERM "$holder"
  wait "$holder" || true
  # Until the echo workers have closed their side too (R closes thousands of
  # sockets slowly; a burst of new ones before that gets connections reset).
  for _ in $(seq 100); do
    [ "$(ss -tnH state established "( sport >= :$RANGE_START and sport <= :$RANGE_END )" | wc -l)" -le "$sessions" ] && break
    sleep 0.2
  done
  sleep 1
}

measure() {  # name pid endpoints-json count
  hold "$3" 16 # warm-up
  release
  local before after
  before=$(rss_kib "$2")
  hold "$3" "$4"
  sleep 2 # let the opening burst settle
  after=$(rss_kib "$2")
  release
  echo "$1 $4 $before $after $(rss_kib "$2")"
}

echo "proxy RSS per idle WebSocket: blockyard pid $BY_PID, nginx worker pid $nginx_worker," \
  "$sessions echo worker(s), each socket echoed ${TOUCH_BYTES:-0} bytes before idling"
printf '%-10s %8s %12s %12s %12s %14s %12s\n' proxy sockets rss_before rss_open rss_closed \
  bytes/socket vs_16KiB
for n in "${COUNTS[@]}"; do
  for spec in "blockyard $BY_PID proxied" "nginx $nginx_worker via_nginx"; do
    read -r name pid var <<<"$spec"
    declare -n endpoints=$var
    read -r _ _ b a c < <(measure "$name" "$pid" "$(printf '%s\n' "${endpoints[@]}" | jq -s .)" "$n")
    per=$(((a - b) * 1024 / n))
    printf '%-10s %8d %10d K %10d K %10d K %14d %12.2f\n' "$name" "$n" "$b" "$a" "$c" "$per" \
      "$(echo "$per / 16384" | bc -l)"
  done
done
