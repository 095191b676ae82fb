#!/usr/bin/env bash
# HTTP proxy benchmark: one worker measured directly, through blockyard,
# through nginx and through caddy, in one run, with keep-alive (wrk). Two
# upstreams, each in its own table:
#   httpuv  a real Shiny worker serving static files from www/ (the workload
#           apps have; httpuv's latency and Nagle behaviour dominate)
#   nginx   a fast upstream: the app file starts nginx inside the worker's
#           sandbox on the worker's address, serving the same files, so the
#           table measures the proxies rather than R
# Per upstream and response size: latency over one connection (and what each
# proxy adds to direct's p50), then req/s and latency percentiles with
# $CONNS connections, as ratios to direct and to nginx (one worker process).
# The targets take turns for $ROUNDS rounds (default 3), so that the slow
# swings in a shared VM's speed fall on all of them alike; a table shows the
# mean req/s and the median p50/p99 of the rounds.
#
# Usage: [UPSTREAMS="httpuv nginx"] [ROUNDS=3] bench/proxy_http.sh [seconds-per-run] [connections]
# Needs: a build (make build), wrk, nginx, caddy (apt-get install wrk nginx-light caddy).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
CONNS=${2:-32}
UPSTREAMS=${UPSTREAMS:-httpuv nginx}
ROUNDS=${ROUNDS:-3}
source bench/lib.sh
bench_require wrk nginx caddy curl ss bc

bench_start_server 10

# make_app <dir> <upstream>: the bundle, with www/small.txt and www/100k.bin.
make_app() {
  mkdir -p "$1/www"
  printf 'hello, world\n' > "$1/www/small.txt"
  head -c 102400 /dev/urandom > "$1/www/100k.bin"
  if [ "$2" = nginx ]; then bench_nginx_app "$1"; return; fi
  cat > "$1/app.R" <<'R'
library(shiny)
shinyApp(fluidPage("bench"), function(input, output) {})
R
}

# start_peers <worker port>: nginx (one worker process) and caddy in front of
# the worker; sets $NGINX_PORT, $CADDY_PORT and $peer_pids.
start_peers() {
  bench_nginx_http "$1"
  peer_pids=("$nginx_pid")
  CADDY_PORT=$(free_port)
  cat > "$work/Caddyfile" <<CADDY
{
  admin off
  auto_https off
}
http://127.0.0.1:$CADDY_PORT {
  reverse_proxy 127.0.0.1:$1
}
CADDY
  XDG_DATA_HOME="$work" XDG_CONFIG_HOME="$work" caddy run --config "$work/Caddyfile" \
    --adapter caddyfile > "$work/caddy.log" 2>&1 &
  peer_pids+=($!)
  pids+=("${peer_pids[@]}")
  for p in $NGINX_PORT $CADDY_PORT; do
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$p/small.txt" >/dev/null && break; sleep 0.1; done
  done
}

stop_peers() {
  kill "${peer_pids[@]}" 2>/dev/null || true
  wait "${peer_pids[@]}" 2>/dev/null || true
}

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

# run_targets <app> <object>: one line per target, in table order (direct
# first, nginx third: the ratios below divide by them): $ROUNDS rounds of
# `run` for every target in turn, summed up as "name mean-rps median-p50
# median-p99".
run_targets() {
  for _ in $(seq "$ROUNDS"); do
    run direct "http://127.0.0.1:$worker_port/$2"
    run blockyard "http://127.0.0.1:$PORT/app/$1/$2" "Cookie: $cookie"
    run nginx "http://127.0.0.1:$NGINX_PORT/$2"
    run caddy "http://127.0.0.1:$CADDY_PORT/$2"
  done | summarize_rounds
}

summarize_rounds() {
  awk '
    function median(list,   n, v, i, j, t) {
      n = split(list, v, " ")
      for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j] + 0 < v[j - 1] + 0; j--) {
        t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
      }
      return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
    }
    !($1 in rounds) { order[++count] = $1 }
    { rounds[$1]++; rps[$1] += $2; p50[$1] = p50[$1] " " $3; p99[$1] = p99[$1] " " $4 }
    END {
      for (i = 1; i <= count; i++) {
        name = order[i]
        print name, rps[name] / rounds[name], median(p50[name]), median(p99[name])
      }
    }'
}

# bench_upstream <upstream>: deploys its app, opens one session (its cookie
# routes every blockyard request to the same worker), prints its tables.
bench_upstream() {
  local app="bench-$1"
  make_app "$work/$app" "$1"
  bench_deploy "$work/$app" "$app"
  read -r cookie worker_port < <(bench_new_session "$app") || true
  [ -n "${worker_port:-}" ] || exit 1
  start_peers "$worker_port"
  echo
  echo "######## upstream: $1 (worker on :$worker_port), ${DURATION}s per run, $ROUNDS rounds"
  for object in small.txt 100k.bin; do
    # Latency: one connection, one request at a time, so the worker is never
    # the queue and p50 - direct is what each proxy adds to a request.
    conns=1
    mapfile -t results < <(run_targets "$app" "$object")
    echo
    echo "== $1: $object, 1 connection (latency) =="
    printf '%-10s %12s %10s %10s %16s\n' target req/s p50_ms p99_ms added_p50_ms
    read -r _ _ d_p50 _ <<<"${results[0]}"
    for r in "${results[@]}"; do
      read -r name rps p50 p99 <<<"$r"
      printf '%-10s %12.0f %10.3f %10.3f %16.3f\n' "$name" "$rps" "$p50" "$p99" \
        "$(echo "$p50 - $d_p50" | bc -l)"
    done

    conns=$CONNS
    mapfile -t results < <(run_targets "$app" "$object")
    echo
    echo "== $1: $object, $CONNS connections (throughput) =="
    printf '%-10s %12s %10s %10s %12s %12s\n' target req/s p50_ms p99_ms rps/direct rps/nginx
    read -r _ d_rps _ _ <<<"${results[0]}"
    read -r _ n_rps _ _ <<<"${results[2]}"
    for r in "${results[@]}"; do
      read -r name rps p50 p99 <<<"$r"
      printf '%-10s %12.0f %10.3f %10.3f %12.2f %12.2f\n' "$name" "$rps" "$p50" "$p99" \
        "$(echo "$rps / $d_rps" | bc -l)" "$(echo "$rps / $n_rps" | bc -l)"
    done
  done
  stop_peers
}

echo "blockyard HTTP proxy benchmark: upstreams: $UPSTREAMS; load: $(uptime | sed 's/.*load/load/')"
for upstream in $UPSTREAMS; do
  case $upstream in
    httpuv | nginx) bench_upstream "$upstream" ;;
    *) echo "bench: unknown upstream $upstream (httpuv, nginx)" >&2; exit 1 ;;
  esac
done
