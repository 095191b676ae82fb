#!/usr/bin/env bash
# New-session time to first byte of the app page (tests/fixtures/apps/hello),
# in one run, median of N each:
#   bare R      Rscript -e 'shiny::runApp(...)' started outside blockyard, polled
#               every 5 ms until its first byte: R's own start-up (the peer)
#   cold        new session, no warm worker: blockyard spawns the sandboxed
#               worker and holds the request until it is ready (a non-browser
#               client: Accept without text/html gets the page, not the
#               loading page)
#   pre-warmed  new session that claims a pre-warmed worker (`by scale
#               --pre-warm 1`); the pool is refilled before the next run
#   existing    a request of a session whose worker is running (steady state)
#   direct      the same page straight from that worker (no proxy)
# Every answer is checked to be the app's page (not the loading page).
#
# Usage: bench/session_ttfb.sh [runs]   (default 7)
# Needs: a build (make build), curl, jq, python3, Rscript with shiny.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-7}
source bench/lib.sh
bench_require curl jq python3 Rscript ss

bench_start_server $((2 * RUNS + 8))
mkdir -p "$work/hello"
cp -r tests/fixtures/apps/hello/. "$work/hello/"
bench_deploy "$work/hello" hello
APP_URL="http://127.0.0.1:$PORT/app/hello/"
MARKER="blockyard hello" # in the app's page, not in the loading page

# ttfb_ms <url> [curl args...]: time to first byte in ms, or exits when the
# answer is not the app page.
ttfb_ms() {
  local url=$1 out
  shift
  out=$(curl -s -o "$work/page" -w '%{http_code} %{time_starttransfer}' -H 'Accept: */*' "$@" "$url")
  read -r code t <<<"$out"
  if [ "$code" != 200 ] || ! grep -q "$MARKER" "$work/page"; then
    echo "bench: $url answered $code without the app page" >&2
    tail -n 20 "$work/server.log" >&2
    exit 1
  fi
  echo "$t * 1000" | bc -l
}

median() { sort -n | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }

runtime() { curl -sf -H "Authorization: Bearer $BLOCKYARD_TOKEN" "$BLOCKYARD_URL/api/v1/apps/hello/runtime"; }
# A pre-warmed worker is one that is ready ("active") and has no session.
wait_prewarmed() {
  for _ in $(seq 600); do
    [ "$(runtime | jq '[.workers[] | select(.status == "active" and (.sessions | length) == 0)] | length')" -ge 1 ] &&
      return 0
    sleep 0.1
  done
  echo "bench: no pre-warmed worker after 60 s" >&2
  exit 1
}

# R's own start-up to first byte, outside blockyard and its sandbox.
bare_r_ms() {
  python3 - "$work/hello" "$(free_port)" <<'PY'
import socket, subprocess, sys, time
app, port = sys.argv[1], int(sys.argv[2])
expr = f'shiny::runApp("{app}", host = "127.0.0.1", port = {port}L, launch.browser = FALSE)'
t0 = time.perf_counter()
proc = subprocess.Popen(["Rscript", "-e", expr], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    while True:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
        except OSError:
            time.sleep(0.005)
            continue
        s.sendall(b"GET / HTTP/1.1\r\nHost: bench\r\nAccept: */*\r\nConnection: close\r\n\r\n")
        first = s.recv(1)
        t = time.perf_counter() - t0
        body = first + b"".join(iter(lambda: s.recv(65536), b""))
        assert b"blockyard hello" in body, "bare R did not serve the app page"
        print(t * 1000)
        break
finally:
    proc.terminate()
    proc.wait()
PY
}

echo "blockyard new-session TTFB benchmark: $RUNS runs each, hello app"
bare=() cold=() warm=() existing=() direct=()
# Interleaved, so a change in machine load hits both alike.
for _ in $(seq "$RUNS"); do
  bare+=("$(bare_r_ms)")
  cold+=("$(ttfb_ms "$APP_URL")")
done

# Steady state on one session's worker: through the proxy and directly.
before=$(worker_ports)
cookie=$(curl -s -D - -o /dev/null -H 'Accept: */*' "$APP_URL" |
  sed -n 's/^[Ss]et-[Cc]ookie: \(blockyard_route=[^;]*\).*/\1/p' | tr -d '\r')
wport=$(comm -13 <(echo "$before") <(worker_ports) | head -1)
for _ in $(seq "$RUNS"); do
  existing+=("$(ttfb_ms "$APP_URL" -H "Cookie: $cookie")")
  direct+=("$(ttfb_ms "http://127.0.0.1:$wport/")")
done

by_cli scale hello --pre-warm 1 >/dev/null
for _ in $(seq "$RUNS"); do
  wait_prewarmed
  warm+=("$(ttfb_ms "$APP_URL")")
done

m_bare=$(printf '%s\n' "${bare[@]}" | median)
m_cold=$(printf '%s\n' "${cold[@]}" | median)
m_warm=$(printf '%s\n' "${warm[@]}" | median)
m_existing=$(printf '%s\n' "${existing[@]}" | median)
m_direct=$(printf '%s\n' "${direct[@]}" | median)
echo
printf '%-12s %10s %10s %10s   %s\n' case median_ms min_ms max_ms "runs (ms)"
row() {
  local name=$1
  shift
  printf '%-12s %10.1f %10.1f %10.1f   %s\n' "$name" "$(printf '%s\n' "$@" | median)" \
    "$(printf '%s\n' "$@" | sort -n | head -1)" "$(printf '%s\n' "$@" | sort -n | tail -1)" \
    "$(printf '%.0f ' "$@")"
}
row "bare R" "${bare[@]}"
row cold "${cold[@]}"
row pre-warmed "${warm[@]}"
row existing "${existing[@]}"
row direct "${direct[@]}"
echo
printf 'cold / bare R          %6.2f   (cold - bare R = %.0f ms; target <= 50 ms)\n' \
  "$(echo "$m_cold / $m_bare" | bc -l)" "$(echo "$m_cold - $m_bare" | bc -l)"
printf 'cold / pre-warmed      %6.1f\n' "$(echo "$m_cold / $m_warm" | bc -l)"
printf 'pre-warmed             %6.1f ms (target <= 30 ms: %s)\n' "$m_warm" \
  "$(echo "$m_warm <= 30" | bc -l | sed 's/1/met/;s/0/MISSED/')"
printf 'existing - direct      %6.2f ms (proxy overhead on the page)\n' \
  "$(echo "$m_existing - $m_direct" | bc -l)"
