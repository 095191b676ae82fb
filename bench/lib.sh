# Shared setup for the bench/*.sh scripts (sourced, not run): a throw-away
# blockyard server with its own config, database and port range, app deploys
# through `by`, and sessions whose cookie and worker port the caller learns.
# Everything started here is stopped, and the temp directory removed, on exit
# (kept with BENCH_KEEP=1, for the server log).
#
# After `bench_start_server`: $work (temp dir), $PORT (blockyard), $BY_PID,
# $RANGE_START..$RANGE_END (worker ports), BLOCKYARD_URL/BLOCKYARD_TOKEN exported.

BIN=${BIN:-build/bin}
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d /tmp/blockyard-bench.XXXXXX)
pids=()
bench_cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "${BENCH_KEEP:-}" ]; then echo "bench: kept $work" >&2; else rm -rf "$work"; fi
}
trap bench_cleanup EXIT

bench_require() {
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 1; }
  done
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Soft open-file limit up to the hard one (children inherit it).
bench_raise_nofile() { ulimit -n "$(ulimit -Hn)"; }

# bench_start_server [ports] [extra TOML for the [proxy] table]
bench_start_server() {
  local ports=${1:-10}
  PORT=$(free_port)
  RANGE_START=$((30000 + RANDOM % 2000 * 10))
  RANGE_END=$((RANGE_START + ports - 1))
  cat > "$work/blockyard.toml" <<TOML
[server]
bind = "127.0.0.1:$PORT"
admin_token_file = "$work/admin-token"
log_level = "${BENCH_LOG_LEVEL:-warn}"
[storage]
bundle_server_path = "$work/bundles"
[database]
path = "$work/db.sqlite"
[process]
port_range_start = $RANGE_START
port_range_end = $RANGE_END
[proxy]
# Load generators hammer from one IP: no per-IP rate limits.
api_rate_limit_per_minute = 0
app_rate_limit_per_minute = 0
${2:-}
TOML
  "$BIN/blockyard" --config "$work/blockyard.toml" 2> "$work/server.log" &
  BY_PID=$!
  pids+=("$BY_PID")
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
  for _ in $(seq 50); do [ -s "$work/admin-token" ] && break; sleep 0.1; done
  [ -s "$work/admin-token" ] || { echo "bench: server did not start" >&2; cat "$work/server.log" >&2; exit 1; }
  export BLOCKYARD_URL="http://127.0.0.1:$PORT" BLOCKYARD_TOKEN
  BLOCKYARD_TOKEN=$(cat "$work/admin-token")
}

by_cli() { XDG_CONFIG_HOME="$work/xdg" "$BIN/by" "$@"; }

# bench_deploy <dir> <name>: deploys and waits until the bundle is active.
bench_deploy() { by_cli deploy "$1" --name "$2" --yes --wait >/dev/null; }

worker_ports() {
  ss -ltnH "sport >= :$RANGE_START and sport <= :$RANGE_END" | awk '{print $4}' | sed 's/.*://' | sort -n
}

# bench_new_session <app>: opens a session (a non-browser GET is held until
# its worker is ready) and prints "<cookie> <worker port>".
bench_new_session() {
  local before cookie port
  before=$(worker_ports)
  cookie=$(curl -s -D - -o /dev/null "http://127.0.0.1:$PORT/app/$1/" |
    sed -n 's/^[Ss]et-[Cc]ookie: \(blockyard_route=[^;]*\).*/\1/p' | tr -d '\r')
  port=$(comm -13 <(echo "$before") <(worker_ports) | head -1)
  [ -n "$cookie" ] && [ -n "$port" ] || { echo "bench: no session/worker for $1" >&2; exit 1; }
  echo "$cookie $port"
}

# VmRSS of a process, in KiB.
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# bench_nginx_http <worker port>: starts nginx (one worker process, the peer
# proxy) in front of the worker, with 64 kept-alive upstream connections and
# no request limit per connection. Sets $NGINX_PORT, $nginx_pid (the master)
# and $nginx_worker (its worker's pid).
bench_nginx_http() {
  NGINX_PORT=$(free_port)
  cat > "$work/nginx-http.conf" <<NGINX
worker_processes 1;
pid $work/nginx-http.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 10000000;
  upstream worker { server 127.0.0.1:$1; keepalive 64; keepalive_requests 10000000; }
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
  rm -f "$work/nginx-http.pid"
  nginx -c "$work/nginx-http.conf" -g 'daemon off;' &
  nginx_pid=$!
  pids+=("$nginx_pid")
  for _ in $(seq 100); do [ -s "$work/nginx-http.pid" ] && break; sleep 0.1; done
  sleep 0.3
  nginx_worker=$(pgrep -P "$nginx_pid" | head -1)
}

# bench_nginx_ws <max sockets> <worker port>...: starts nginx (one worker
# process, the peer proxy) with location /w<i>/ proxying WebSockets to the
# i-th worker port. Sets $NGINX_PORT and $nginx_worker (its worker's pid).
bench_nginx_ws() {
  local max=$1 i=0 port locations=""
  shift
  NGINX_PORT=$(free_port)
  for port in "$@"; do
    locations+="
    location /w$i/ {
      proxy_pass http://127.0.0.1:$port/;
      proxy_http_version 1.1;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Connection upgrade;
      proxy_read_timeout 1h;
    }"
    i=$((i + 1))
  done
  cat > "$work/nginx.conf" <<NGINX
worker_processes 1;
worker_rlimit_nofile $(ulimit -n);
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections $((2 * max + 256)); }
http {
  access_log off;
  server {
    listen 127.0.0.1:$NGINX_PORT backlog=4096;$locations
  }
}
NGINX
  nginx -c "$work/nginx.conf" -g 'daemon off;' &
  pids+=($!)
  for _ in $(seq 100); do [ -s "$work/nginx.pid" ] && break; sleep 0.1; done
  sleep 0.3
  nginx_worker=$(pgrep -P "$(cat "$work/nginx.pid")" | head -1)
}

# bench_nginx_app <dir>: writes <dir>/app.R that serves <dir>/www with nginx
# instead of Shiny (a fast upstream, so a benchmark measures the proxy).
# runApp() sources app.R with the bundle as working directory; system2()
# blocks while nginx (one process, in the foreground) serves on the worker's
# address, until the worker is stopped. Its config and temp paths live in
# the worker's private /tmp.
bench_nginx_app() {
  cat > "$1/app.R" <<R
dir <- tempfile("nginx-")
dir.create(dir)
listen <- paste0(Sys.getenv("SHINY_HOST", "127.0.0.1"), ":", Sys.getenv("SHINY_PORT"))
temp <- paste0(c("client_body", "proxy", "fastcgi", "uwsgi", "scgi"), "_temp_path ",
               file.path(dir, "t"), c(1:5), ";")
writeLines(c(
  "daemon off; master_process off; worker_processes 1;",
  paste0("pid ", file.path(dir, "nginx.pid"), "; error_log stderr;"),
  "events { worker_connections 1024; }",
  "http {",
  "  access_log off; keepalive_requests 10000000; keepalive_timeout 300s;",
  "  types { text/plain txt; application/octet-stream bin; }",
  temp,
  paste0("  server { listen ", listen, "; root ", file.path(getwd(), "www"), ";"),
  "    location = / { return 200 'fast upstream\\\\n'; } }",
  "}"), file.path(dir, "nginx.conf"))
system2("$(command -v nginx)", c("-p", dir, "-e", "stderr", "-c", file.path(dir, "nginx.conf")))
R
}
