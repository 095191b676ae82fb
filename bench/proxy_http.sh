#!/usr/bin/env bash
# HTTP proxy benchmark: the same Shiny worker measured directly, through
# blockyard, through nginx and through caddy, in one run, with keep-alive
# (wrk). Prints, per response size, latency over one connection (and what
# each proxy adds to direct's p50), then req/s and latency percentiles with
# $CONNS connections, as ratios to direct and to nginx.
#
# Usage: bench/proxy_http.sh [seconds-per-run] [connections]
# Needs: a build (make build), wrk, nginx, caddy (apt-get install wrk nginx-light caddy).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
CONNS=${2:-32}
source bench/lib.sh
bench_require wrk nginx caddy curl ss

NGINX_PORT=$(free_port); CADDY_PORT=$(free_port)
bench_start_server 10

mkdir -p "$work/app/www"
cat > "$work/app/app.R" <<'R'
library(shiny)
shinyApp(fluidPage("bench"), function(input, output) {})
R
printf 'hello, world\n' > "$work/app/www/small.txt"
head -c 102400 /dev/urandom > "$work/app/www/100k.bin"
bench_deploy "$work/app" bench

# One session: its cookie routes every benchmark request to the same worker.
read -r cookie worker_port < <(bench_new_session bench) || true
[ -n "${worker_port:-}" ] || exit 1

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

run() {  # name url [header]   (uses $conns connections)
  local out threads=$((conns < 2 ? 1 : 2))
  out=$(wrk -t"$threads" -c"$conns" -d"${DURATION}s" --latency ${3:+-H "$3"} "$2")
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out" | to_ms)
  p99=$(awk '$1=="99%" {print $2}' <<<"$out" | to_ms)
  echo "$1 $rps $p50 $p99"
}

# run_targets <object>: one `run` line per target, in table order (direct
# first, nginx third: the ratios below divide by them).
run_targets() {
  run direct "http://127.0.0.1:$worker_port/$1"
  run blockyard "http://127.0.0.1:$PORT/app/bench/$1" "Cookie: $cookie"
  run nginx "http://127.0.0.1:$NGINX_PORT/$1"
  run caddy "http://127.0.0.1:$CADDY_PORT/$1"
}

echo "blockyard HTTP proxy benchmark: ${DURATION}s per run, worker on :$worker_port"
for object in small.txt 100k.bin; do
  # Latency: one connection, one request at a time, so the worker is never
  # the queue and p50 - direct is what each proxy adds to a request.
  conns=1
  mapfile -t results < <(run_targets "$object")
  echo
  echo "== $object, 1 connection (latency) =="
  printf '%-10s %12s %10s %10s %16s\n' target req/s p50_ms p99_ms added_p50_ms
  read -r _ _ d_p50 _ <<<"${results[0]}"
  for r in "${results[@]}"; do
    read -r name rps p50 p99 <<<"$r"
    printf '%-10s %12.0f %10.3f %10.3f %16.3f\n' "$name" "$rps" "$p50" "$p99" \
      "$(echo "$p50 - $d_p50" | bc -l)"
  done

  conns=$CONNS
  mapfile -t results < <(run_targets "$object")
  echo
  echo "== $object, $CONNS connections (throughput) =="
  printf '%-10s %12s %10s %10s %12s %12s\n' target req/s p50_ms p99_ms rps/direct rps/nginx
  read -r _ d_rps _ _ <<<"${results[0]}"
  read -r _ n_rps _ _ <<<"${results[2]}"
  for r in "${results[@]}"; do
    read -r name rps p50 p99 <<<"$r"
    printf '%-10s %12.0f %10.3f %10.3f %12.2f %12.2f\n' "$name" "$rps" "$p50" "$p99" \
      "$(echo "$rps / $d_rps" | bc -l)" "$(echo "$rps / $n_rps" | bc -l)"
  done
done
