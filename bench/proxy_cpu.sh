#!/usr/bin/env bash
# CPU time per proxied request: one or more blockyard builds and nginx (one
# worker process) in front of the same kind of fast upstream (nginx in the
# worker's sandbox, bench_nginx_app), taking turns in short bursts so that a
# shared VM's slow swings in speed fall on all of them alike. CPU is the
# proxy process's user+system time from /proc over the bursts; also req/s
# (32 connections, one wrk thread) and the p50 of one connection per round.
#
# Usage: [BINS="build/bin /path/to/other/bin"] bench/proxy_cpu.sh [rounds]
# Each directory in BINS holds a `blockyard` and a `by` (the A/B of two
# builds: BINS="old/bin new/bin"). Needs: wrk, nginx, curl, ss, bc.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-8}
BINS=${BINS:-build/bin}
source bench/lib.sh
bench_require wrk nginx curl ss bc

dirs=()
trap 'bench_cleanup; rm -rf "${dirs[@]}"' EXIT
names=() ports=() procs=() cookies=() first_worker=""
for bin in $BINS; do
  BIN=$bin
  work=$(mktemp -d /tmp/blockyard-bench.XXXXXX)
  dirs+=("$work")
  bench_start_server 4
  mkdir -p "$work/app/www"
  printf 'hello, world\n' > "$work/app/www/small.txt"
  bench_nginx_app "$work/app"
  bench_deploy "$work/app" fast
  read -r cookie worker_port < <(bench_new_session fast)
  first_worker=${first_worker:-$worker_port}
  names+=("blockyard:$bin") ports+=("$PORT") procs+=("$BY_PID") cookies+=("$cookie")
done

# nginx as the peer proxy, in front of the first build's worker.
bench_nginx_http "$first_worker"
names+=(nginx) ports+=("$NGINX_PORT") procs+=("$nginx_worker")
cookies+=("x=y")

url_of() {  # index
  if [ "${names[$1]}" = nginx ]; then echo "http://127.0.0.1:${ports[$1]}/small.txt"
  else echo "http://127.0.0.1:${ports[$1]}/app/fast/small.txt"; fi
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
sys_ticks() { awk '{print $15}' "/proc/$1/stat"; }
# Times the process's main thread (its event loop) went to sleep.
sleeps() { awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$1/status"; }

count=${#names[@]}
ticks=() sys=() waits=() requests=() p50s=()
for i in $(seq 0 $((count - 1))); do
  ticks[i]=0 sys[i]=0 waits[i]=0 requests[i]=0 p50s[i]=""
  wrk -t1 -c32 -d1s -H "Cookie: ${cookies[i]}" "$(url_of "$i")" >/dev/null  # warm-up
done
for _ in $(seq "$ROUNDS"); do
  for i in $(seq 0 $((count - 1))); do
    t0=$(cpu_ticks "${procs[i]}") s0=$(sys_ticks "${procs[i]}") w0=$(sleeps "${procs[i]}")
    out=$(wrk -t1 -c32 -d2s -H "Cookie: ${cookies[i]}" "$(url_of "$i")")
    t1=$(cpu_ticks "${procs[i]}") s1=$(sys_ticks "${procs[i]}") w1=$(sleeps "${procs[i]}")
    ticks[i]=$((ticks[i] + t1 - t0)) sys[i]=$((sys[i] + s1 - s0)) waits[i]=$((waits[i] + w1 - w0))
    requests[i]=$((requests[i] + $(awk '/requests in/ {print $1}' <<<"$out")))
    p50s[i]+="$(wrk -t1 -c1 -d1s --latency -H "Cookie: ${cookies[i]}" "$(url_of "$i")" |
      awk '$1=="50%" {print $2}') "
  done
done
hz=$(getconf CLK_TCK)
direct=$(wrk -t1 -c1 -d2s --latency "http://127.0.0.1:$first_worker/small.txt" | awk '$1=="50%" {print $2}')
echo "CPU per proxied small request, $ROUNDS rounds (load: $(uptime | sed 's/.*load average: //'))"
printf '%-40s %12s %8s %11s %10s  %s\n' target cpu_us/req kernel sleeps/req req/s \
  "p50 per round (1 connection)"
for i in $(seq 0 $((count - 1))); do
  printf '%-40s %12.1f %7.0f%% %11.2f %10.0f  %s\n' "${names[i]}" \
    "$(echo "${ticks[i]} * 1000000 / $hz / ${requests[i]}" | bc -l)" \
    "$(echo "${sys[i]} * 100 / ${ticks[i]}" | bc -l)" \
    "$(echo "${waits[i]} / ${requests[i]}" | bc -l)" \
    "$(echo "${requests[i]} / ($ROUNDS * 2)" | bc -l)" "${p50s[i]}"
done
echo "direct p50 (1 connection): $direct"
