#!/usr/bin/env bash
# Does a burst of cold starts stall other users? One keep-alive client sends
# small requests, one after another, on an open session while new sessions
# start; its latency is compared with the same client while the same number
# of bare R processes start outside blockyard (the peer: R's own start-up
# competing for the CPU, with no proxy work at all) and on a quiet machine.
#   quiet       nothing else happens
#   bare R      BURST x `Rscript -e 'shiny::runApp(...)'` started at once
#               outside blockyard, until each serves its first byte
#   blockyard   BURST new sessions opened at once (non-browser GETs, held by
#               the proxy until their workers are ready)
# The two bursts alternate, ROUNDS times each; the table pools the rounds.
# What blockyard adds beyond R's own CPU use is the difference between the
# two burst rows (the ratio column).
#
# Usage: bench/cold_start_stall.sh [burst] [rounds]   (default 12, 3)
# Needs: a build (make build), curl, python3, Rscript with shiny, ss.
set -euo pipefail
cd "$(dirname "$0")/.."
BURST=${1:-12}
ROUNDS=${2:-3}
QUIET_SECS=${QUIET_SECS:-5}
source bench/lib.sh
bench_require curl python3 Rscript ss

# Every burst starts all its workers at once, like the bare R burst.
bench_start_server $((BURST * ROUNDS + 4)) "max_concurrent_starts = $BURST
max_workers = $((BURST * ROUNDS + 4))"
mkdir -p "$work/app/www"
cat > "$work/app/app.R" <<'R'
library(shiny)
shinyApp(fluidPage("bench"), function(input, output) {})
R
printf 'hello, world\n' > "$work/app/www/small.txt"
bench_deploy "$work/app" bench
read -r cookie _ < <(bench_new_session bench) || true
[ -n "${cookie:-}" ] || exit 1

# probe.py <port> <cookie> <stop file> <out file>: serial keep-alive GETs of
# small.txt until the stop file exists; writes every latency (ms), one a line,
# and the number of failed requests (not 200 and the file; the client then
# reconnects) to <out file>.errors.
cat > "$work/probe.py" <<'PY'
import http.client, os, sys, time
port, cookie, stop, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
conn = http.client.HTTPConnection("127.0.0.1", port)
headers = {"Cookie": cookie, "Accept": "*/*"}
lat, errors = [], 0
while not os.path.exists(stop):
    t0 = time.perf_counter()
    conn.request("GET", "/app/bench/small.txt", headers=headers)
    r = conn.getresponse()
    body = r.read()
    lat.append((time.perf_counter() - t0) * 1000)
    if r.status != 200 or body != b"hello, world\n":
        errors += 1
        conn.close()
        conn = http.client.HTTPConnection("127.0.0.1", port)
with open(out, "a") as f:
    f.write("".join(f"{x:.4f}\n" for x in lat))
with open(out + ".errors", "a") as f:
    f.write(f"{errors}\n")
PY

# A probe runs in the background from probe_start to probe_stop; each phase
# appends its latencies to $work/<phase>.lat and its wall time to <phase>.secs.
probe_start() {
  rm -f "$work/stop"
  python3 "$work/probe.py" "$PORT" "$cookie" "$work/stop" "$work/$1.lat" &
  probe_pid=$!
  probe_t0=$(date +%s.%N)
}
probe_stop() {
  touch "$work/stop"
  wait "$probe_pid" || { echo "bench: the probe failed; server log:" >&2; tail -n 30 "$work/server.log" >&2; exit 1; }
  echo "$(date +%s.%N) - $probe_t0" | bc -l >> "$work/$1.secs"
}

# BURST bare R processes at once, until every one serves its first byte.
bare_burst() {
  python3 - "$work/app" "$BURST" <<'PY'
import socket, subprocess, sys, time
app, n = sys.argv[1], int(sys.argv[2])
def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p
ports = [free_port() for _ in range(n)]
procs = [subprocess.Popen(["Rscript", "-e", f'shiny::runApp("{app}", host = "127.0.0.1", '
                           f'port = {p}L, launch.browser = FALSE)'],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for p in ports]
try:
    pending = set(ports)
    deadline = time.time() + 120
    while pending and time.time() < deadline:
        for p in list(pending):
            try:
                s = socket.create_connection(("127.0.0.1", p), timeout=30)
            except OSError:
                continue
            s.sendall(b"GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            if s.recv(1):
                pending.discard(p)
            s.close()
        time.sleep(0.01)
    assert not pending, f"{len(pending)} bare R processes never answered"
finally:
    for p in procs: p.terminate()
    for p in procs: p.wait()
PY
}

# BURST new sessions at once; each curl returns when its worker served the page.
blockyard_burst() {
  local i jobs=()
  for i in $(seq "$BURST"); do
    curl -s -o "$work/burst.$i.body" -w '%{http_code}\n' -H 'Accept: */*' \
      "http://127.0.0.1:$PORT/app/bench/" > "$work/burst.$i" &
    jobs+=($!)
  done
  wait "${jobs[@]}"
  # A failed session is counted (and shown), not fatal: the stall is measured
  # either way.
  for i in $(seq "$BURST"); do
    [ "$(cat "$work/burst.$i")" = 200 ] && continue
    echo "bench: a new session failed: $(cat "$work/burst.$i") $(head -c 100 "$work/burst.$i.body" 2>/dev/null)" >&2
    echo 1 >> "$work/sessions.failed"
  done
}

echo "blockyard cold-start stall benchmark: $BURST cold starts at once, $ROUNDS rounds"
probe_start quiet; sleep "$QUIET_SECS"; probe_stop quiet
for _ in $(seq "$ROUNDS"); do
  probe_start bare; bare_burst; probe_stop bare
  sleep 1
  probe_start blockyard; blockyard_burst; probe_stop blockyard
  sleep 1
done

python3 - "$work" <<'PY'
import sys
work = sys.argv[1]
def stats(phase):
    lat = sorted(float(x) for x in open(f"{work}/{phase}.lat"))
    secs = sum(float(x) for x in open(f"{work}/{phase}.secs"))
    pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
    errors = sum(int(x) for x in open(f"{work}/{phase}.lat.errors"))
    return {"n": len(lat), "rps": len(lat) / secs, "p50": pct(0.5), "p99": pct(0.99),
            "p999": pct(0.999), "max": lat[-1], "slow": sum(1 for x in lat if x > 5),
            "errors": errors}
rows = {p: stats(p) for p in ("quiet", "bare", "blockyard")}
print(f"\n{'phase':<11} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9} {'max ms':>8} {'>5 ms':>6} {'errors':>6}")
for name, label in (("quiet", "quiet"), ("bare", "bare R"), ("blockyard", "blockyard")):
    s = rows[name]
    print(f"{label:<11} {s['n']:>9} {s['rps']:>8.0f} {s['p50']:>8.3f} {s['p99']:>8.3f} {s['p999']:>9.3f} {s['max']:>8.2f} {s['slow']:>6} {s['errors']:>6}")
b, y = rows["bare"], rows["blockyard"]
try:
    failed = sum(1 for _ in open(f"{work}/sessions.failed"))
except FileNotFoundError:
    failed = 0
print(f"\nnew sessions that failed during the bursts: {failed}")
print(f"\nblockyard burst / bare R burst: p99 {y['p99'] / b['p99']:.2f}x, p99.9 {y['p999'] / b['p999']:.2f}x, "
      f"max {y['max'] / b['max']:.2f}x, req/s {y['rps'] / b['rps']:.2f}x")
PY
