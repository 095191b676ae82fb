#!/usr/bin/env bash
# HTTP proxy benchmark: the same Shiny worker measured directly, through
# blockyard, through nginx and through caddy, in one run, with keep-alive
# (wrk). Prints req/s and latency percentiles and each as a ratio to direct.
#
# Usage: bench/proxy_http.sh [seconds-per-run] [connections]
# Needs: a build (make build), wrk, nginx, caddy (apt-get install wrk nginx-light caddy).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
CONNS=${2:-32}
BIN=${BIN:-build/bin}
for tool in wrk nginx caddy curl ss; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 1; }
done

work=$(mktemp -d /tmp/blockyard-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port); NGINX_PORT=$(free_port); CADDY_PORT=$(free_port)
RANGE_START=$((30000 + RANDOM % 2000 * 10))

cat > "$work/blockyard.toml" <<TOML
[server]
bind = "127.0.0.1:$PORT"
admin_token_file = "$work/admin-token"
log_level = "warn"
[storage]
bundle_server_path = "$work/bundles"
[database]
path = "$work/db.sqlite"
[process]
port_range_start = $RANGE_START
port_range_end = $((RANGE_START + 9))
[proxy]
# wrk hammers from one IP: no per-IP rate limits.
api_rate_limit_per_minute = 0
app_rate_limit_per_minute = 0
TOML

"$BIN/blockyard" --config "$work/blockyard.toml" 2> "$work/server.log" &
pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
for _ in $(seq 50); do [ -s "$work/admin-token" ] && break; sleep 0.1; done

mkdir -p "$work/app/www"
cat > "$work/app/app.R" <<'R'
library(shiny)
shinyApp(fluidPage("bench"), function(input, output) {})
R
printf 'hello, world\n' > "$work/app/www/small.txt"
head -c 102400 /dev/urandom > "$work/app/www/100k.bin"
export BLOCKYARD_URL="http://127.0.0.1:$PORT" BLOCKYARD_TOKEN
BLOCKYARD_TOKEN=$(cat "$work/admin-token")
XDG_CONFIG_HOME="$work/xdg" "$BIN/by" deploy "$work/app" --name bench --yes --wait >/dev/null

# One session: its cookie routes every benchmark request to the same worker.
cookie=$(curl -s -D - -o /dev/null "http://127.0.0.1:$PORT/app/bench/" |
  sed -n 's/^Set-Cookie: \(blockyard_route=[^;]*\).*/\1/p' | tr -d '\r')
worker_port=$(ss -ltnH "sport >= :$RANGE_START and sport <= :$((RANGE_START + 9))" |
  awk '{print $4}' | sed 's/.*://' | head -1)
[ -n "$worker_port" ] || { echo "bench: no worker listening" >&2; exit 1; }

cat > "$work/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  upstream worker { server 127.0.0.1:$worker_port; keepalive 64; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / {
      proxy_pass http://worker;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
NGINX
nginx -c "$work/nginx.conf" -g 'daemon off;' &
pids+=($!)

cat > "$work/Caddyfile" <<CADDY
{
  admin off
  auto_https off
}
http://127.0.0.1:$CADDY_PORT {
  reverse_proxy 127.0.0.1:$worker_port
}
CADDY
XDG_DATA_HOME="$work" XDG_CONFIG_HOME="$work" caddy run --config "$work/Caddyfile" --adapter caddyfile \
  > "$work/caddy.log" 2>&1 &
pids+=($!)
for p in $NGINX_PORT $CADDY_PORT; do
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$p/small.txt" >/dev/null && break; sleep 0.1; done
done

# wrk prints latency in us/ms/s; normalise to milliseconds.
to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); print v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v); print v} else {sub(/s$/,"",v); print v*1000}}'; }

run() {  # name url [header]
  local out
  out=$(wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency ${3:+-H "$3"} "$2")
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out" | to_ms)
  p99=$(awk '$1=="99%" {print $2}' <<<"$out" | to_ms)
  echo "$1 $rps $p50 $p99"
}

echo "blockyard HTTP proxy benchmark: ${DURATION}s per run, $CONNS connections, worker on :$worker_port"
for object in small.txt 100k.bin; do
  results=()
  results+=("$(run direct "http://127.0.0.1:$worker_port/$object")")
  results+=("$(run blockyard "http://127.0.0.1:$PORT/app/bench/$object" "Cookie: $cookie")")
  results+=("$(run nginx "http://127.0.0.1:$NGINX_PORT/$object")")
  results+=("$(run caddy "http://127.0.0.1:$CADDY_PORT/$object")")
  echo
  echo "== $object =="
  printf '%-10s %12s %10s %10s %12s %12s\n' target req/s p50_ms p99_ms rps/direct rps/nginx
  read -r _ d_rps _ _ <<<"${results[0]}"
  read -r _ n_rps _ _ <<<"${results[2]}"
  for r in "${results[@]}"; do
    read -r name rps p50 p99 <<<"$r"
    printf '%-10s %12.0f %10.3f %10.3f %12.2f %12.2f\n' "$name" "$rps" "$p50" "$p99" \
      "$(echo "$rps / $d_rps" | bc -l)" "$(echo "$rps / $n_rps" | bc -l)"
  done
done
