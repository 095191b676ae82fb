#!/usr/bin/env bash
# WebSocket echo benchmark: round-trip latency (p50/p99) and echoed messages/s
# through blockyard vs directly to the same worker vs through nginx (one
# worker process), with 10, 1,000 and 10,000 open sockets, in one run. The upstream is a blockyard worker running
# tests/fixtures/apps/ws-echo (a bare httpuv echo server).
#
# Load model: all N sockets are opened and stay open; all but a sample stay
# idle. Latency = one socket ping-pongs serially; throughput = 16 sockets
# ping-pong closed-loop at once (see bench/ws_echo.mjs).
#
# A worker may hold only 4096 fds (blockyard's per-worker RLIMIT_NOFILE), so
# sockets are spread over several sessions (one worker each) at <= 3,000 per
# worker; the active sample always uses the first worker. Through blockyard a
# socket costs the proxy two fds (client + worker side), so the top tier is
# capped at what the hard open-file limit allows; the table shows the count
# actually open.
#
# Usage: bench/ws_echo.sh [seconds-per-phase] [tiers...]   (default: 5 10 1000 10000)
# Needs: a build (make build), node 18+, `npm install` in bench/ (ws).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_PHASE=${1:-5}
shift || true
TIERS=("${@:-10 1000 10000}")
read -r -a TIERS <<<"${TIERS[*]}"
PER_WORKER=3000
ACTIVE=${ACTIVE:-16}
source bench/lib.sh
bench_require node curl ss jq nginx
[ -d bench/node_modules/ws ] || (cd bench && npm install --no-audit --no-fund >/dev/null)

bench_raise_nofile
# blockyard: 2 fds per proxied socket, plus its own files and listeners.
proxy_max=$((($(ulimit -n) - 512) / 2))
capped=()
for n in "${TIERS[@]}"; do
  if [ "$n" -gt "$proxy_max" ]; then
    echo "note: $n sockets need $((2 * n)) fds in blockyard; open-file limit $(ulimit -n)" \
      "(hard) allows $proxy_max — measuring $proxy_max instead" >&2
    n=$proxy_max
  fi
  capped+=("$n")
done
max_tier=$(printf '%s\n' "${capped[@]}" | sort -n | tail -1)
sessions=$(((max_tier + PER_WORKER - 1) / PER_WORKER))

bench_start_server $((sessions + 4))
bench_deploy tests/fixtures/apps/ws-echo ws-echo

direct=() proxied=() via_nginx=() worker_ports=()
for _ in $(seq "$sessions"); do
  read -r cookie port < <(bench_new_session ws-echo)
  worker_ports+=("$port")
  direct+=("$(jq -n --arg u "ws://127.0.0.1:$port/echo" '{url: $u}')")
  proxied+=("$(jq -n --arg u "ws://127.0.0.1:$PORT/app/ws-echo/echo" --arg c "$cookie" \
    '{url: $u, headers: {Cookie: $c}}')")
done
bench_nginx_ws "$max_tier" "${worker_ports[@]}"
for i in $(seq 0 $((sessions - 1))); do
  via_nginx+=("$(jq -n --arg u "ws://127.0.0.1:$NGINX_PORT/w$i/echo" '{url: $u}')")
done

jq -n --argjson seconds "$SECONDS_PER_PHASE" --argjson active "$ACTIVE" \
  --argjson per "$PER_WORKER" \
  --argjson tiers "$(printf '%s\n' "${capped[@]}" | jq -s .)" \
  --argjson direct "$(printf '%s\n' "${direct[@]}" | jq -s .)" \
  --argjson proxied "$(printf '%s\n' "${proxied[@]}" | jq -s .)" \
  --argjson nginx "$(printf '%s\n' "${via_nginx[@]}" | jq -s .)" \
  '{seconds: $seconds, active: $active, size: 64, per_endpoint: $per, tiers: $tiers,
    targets: [{name: "direct", endpoints: $direct}, {name: "blockyard", endpoints: $proxied},
              {name: "nginx", endpoints: $nginx}]}' \
  > "$work/ws.json"

echo "blockyard WebSocket echo benchmark: $sessions worker(s), blockyard pid $BY_PID"
node bench/ws_echo.mjs --config "$work/ws.json"
