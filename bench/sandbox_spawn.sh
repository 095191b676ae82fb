#!/usr/bin/env bash
# Sandbox spawn cost: a command run to exit bare (fork+exec) vs under bwrap
# with exactly the argv the process backend builds (spawn_bench argv), for
# /bin/true and `Rscript -e 0`; then the whole backend path (ProcessBackend::
# build(): UID shim as root, cgroup, rlimits, optional seccomp) from
# spawn_bench itself. Prints medians and ratios to bare.
#
# Usage: bench/sandbox_spawn.sh [runs]
# Needs: bwrap, Rscript; hyperfine if present (else a date +%s%N loop);
# spawn_bench (bench/CMakeLists.txt) at $SPAWN_BENCH or $BIN/spawn_bench.
# SECCOMP=path/to/seccomp.bpf adds the inner filter to the backend runs.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-30}
BIN=${BIN:-build/bin}
SPAWN_BENCH=${SPAWN_BENCH:-$BIN/spawn_bench}
for tool in bwrap Rscript python3; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 1; }
done

work=$(mktemp -d /tmp/blockyard-spawn.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bundle" "$work/out"

# The backend's bwrap argv for a command (one argument per line), or, without
# spawn_bench, a hand-written equivalent (same namespaces, binds, env).
sandbox_argv() {
  if [ -x "$SPAWN_BENCH" ]; then
    "$SPAWN_BENCH" argv "$work" -- "$@"
  else
    printf '%s\n' bwrap --unshare-user --unshare-pid --unshare-ipc --unshare-uts \
      --unshare-cgroup-try --die-with-parent --new-session --cap-drop ALL \
      --ro-bind / / --proc /proc --dev /dev --tmpfs /tmp \
      --ro-bind "$work/bundle" /tmp/app --bind "$work/out" /tmp/out --chdir /tmp/app \
      --clearenv --setenv PATH /usr/bin:/usr/local/bin:/bin --setenv HOME /tmp \
      --setenv TMPDIR /tmp --setenv LANG C.UTF-8 -- "$@"
  fi
}
[ -x "$SPAWN_BENCH" ] || echo "bench: $SPAWN_BENCH not built; using an equivalent hand-written bwrap argv" >&2

# median_ms LABEL ARGV...: median wall time of ARGV run to exit, in ms.
median_ms() {
  local label=$1; shift
  if command -v hyperfine >/dev/null; then
    local cmd="" a
    for a in "$@"; do cmd+="$(printf '%q' "$a") "; done
    hyperfine -N --style none --warmup 3 --runs "$RUNS" --export-json "$work/h.json" \
      "$cmd" >/dev/null 2>&1
    python3 -c 'import json,sys; print("%.2f" % (json.load(open(sys.argv[1]))["results"][0]["median"]*1000))' "$work/h.json"
  else
    local times=() i t0 t1
    "$@" >/dev/null 2>&1 || true
    for ((i = 0; i < RUNS; i++)); do
      t0=$(date +%s%N); "$@" >/dev/null 2>&1 || true; t1=$(date +%s%N)
      times+=($(((t1 - t0) / 1000)))
    done
    printf '%s\n' "${times[@]}" | sort -n | python3 -c 'import sys; v=[int(x) for x in sys.stdin]; n=len(v); m=(v[n//2] if n%2 else (v[n//2-1]+v[n//2])/2); print("%.2f" % (m/1000))'
  fi
}

ratio() { python3 -c 'import sys; print("%.2fx" % (float(sys.argv[2]) / float(sys.argv[1])))' "$1" "$2"; }

echo "sandbox spawn cost, median of $RUNS runs ($(command -v hyperfine >/dev/null && echo hyperfine -N || echo date loop))"
for cmd in "/bin/true" "/usr/bin/Rscript -e 0"; do
  read -r -a argv <<<"$cmd"
  mapfile -t sandboxed < <(sandbox_argv "${argv[@]}")
  bare=$(median_ms bare "${argv[@]}")
  bwrapped=$(median_ms bwrap "${sandboxed[@]}")
  printf '%-24s bare %9.2f ms   bwrap %9.2f ms   ratio %s\n' "$cmd" "$bare" "$bwrapped" \
    "$(ratio "$bare" "$bwrapped")"
done

if [ -x "$SPAWN_BENCH" ]; then
  seccomp_args=()
  [ -n "${SECCOMP:-}" ] && seccomp_args=(--seccomp "$SECCOMP")
  echo
  echo "whole backend path (ProcessBackend::build), $(id -u | sed 's/^0$/as root: per-job UID/;s/^[1-9].*$/as the server UID/')${SECCOMP:+, seccomp}:"
  for cmd in "/bin/true" "/usr/bin/Rscript -e 0"; do
    read -r -a argv <<<"$cmd"
    echo "-- $cmd"
    "$SPAWN_BENCH" "${seccomp_args[@]}" spawn --runs "$RUNS" -- "${argv[@]}" 2>/dev/null
  done
fi
