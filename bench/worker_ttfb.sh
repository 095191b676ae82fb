#!/usr/bin/env bash
# Worker time to first byte: from starting a Shiny worker to its first HTTP
# 200, for tests/fixtures/apps/hello — plain `Rscript -e shiny::runApp()`
# outside any sandbox vs ProcessBackend::spawn() (bwrap, UID shim as root,
# cgroup, rlimits, optional seccomp), both measured by spawn_bench with the
# same 5 ms polling. Prints medians and the ratio.
#
# Usage: bench/worker_ttfb.sh [runs]        (default 7)
# Needs: bwrap, Rscript with shiny; spawn_bench (bench/CMakeLists.txt) at
# $SPAWN_BENCH or $BIN/spawn_bench. SECCOMP=path/to/seccomp.bpf adds the filter.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-7}
BIN=${BIN:-build/bin}
SPAWN_BENCH=${SPAWN_BENCH:-$BIN/spawn_bench}
APP=${APP:-tests/fixtures/apps/hello}
[ -x "$SPAWN_BENCH" ] || { echo "bench: build spawn_bench first (ninja spawn_bench)" >&2; exit 1; }
for tool in bwrap Rscript; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 1; }
done

seccomp_args=()
[ -n "${SECCOMP:-}" ] && seccomp_args=(--seccomp "$SECCOMP")
echo "worker time to first HTTP 200 ($APP), median of $RUNS runs after one warm-up${SECCOMP:+, seccomp}"
"$SPAWN_BENCH" "${seccomp_args[@]}" ttfb --runs "$RUNS" "$APP" 2>/dev/null
