#!/usr/bin/env bash
# Dependency restore with an empty vs a warm package store: deploys of an app
# needing 10 packages (a chain and a fan of tiny pure-R packages from a local
# CRAN-like repository, built with R CMD build and served over loopback).
#
#   cold  a fresh server and package store: every package downloaded and
#         installed, one build sandbox per package
#   warm  a second app with the same DESCRIPTION on the same server: the
#         store has every package, nothing is downloaded
#   peer  R's own install.packages() of the same 10 packages from the same
#         repository into an empty library, no sandbox (what a server that
#         installs into one shared library would do per deploy)
#
# Prints the median deploy times (`by deploy --wait`, upload to active) over
# the runs, downloads per deploy, and the ratios cold/warm and cold/peer.
#
# Usage: bench/restore_store.sh [runs]     (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
source bench/lib.sh
bench_require curl R Rscript python3

# ---- the repository ---------------------------------------------------------
repo="$work/repo"
mkdir -p "$repo/src/contrib" "$work/pkgsrc"
make_pkg() {  # make_pkg <name> <imports>
  local dir="$work/pkgsrc/$1"
  mkdir -p "$dir/R"
  {
    echo "Package: $1"
    echo "Version: 1.0"
    echo "Title: Bench Package $1"
    echo "Description: A tiny package for the restore benchmark."
    echo "License: MIT"
    echo 'Authors@R: person("Blockyard", "Bench", email = "bench@example.org", role = c("aut", "cre"))'
    [ -n "$2" ] && echo "Imports: $2"
  } > "$dir/DESCRIPTION"
  echo "${1}_id <- function() \"$1\"" > "$dir/R/code.R"
  echo "export(${1}_id)" > "$dir/NAMESPACE"
  (cd "$work/pkgsrc" && R CMD build --no-build-vignettes --no-manual "$1" >/dev/null)
  mv "$work/pkgsrc/${1}_1.0.tar.gz" "$repo/src/contrib/"
}
# p01 <- p02 <- ... <- p05 (a chain) and p06..p10 (a fan under p01).
make_pkg p05 ""
make_pkg p04 "p05"
make_pkg p03 "p04"
make_pkg p02 "p03"
for p in p06 p07 p08 p09 p10; do make_pkg "$p" ""; done
make_pkg p01 "p02, p06, p07, p08, p09, p10"
Rscript -e "tools::write_PACKAGES('$repo/src/contrib', type = 'source')" >/dev/null
REPO_PORT=$(free_port)
(cd "$repo" && exec python3 -m http.server "$REPO_PORT" --bind 127.0.0.1) 2> "$work/repo.log" &
pids+=($!)
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$REPO_PORT/src/contrib/PACKAGES" >/dev/null && break; sleep 0.1; done
REPO_URL="http://127.0.0.1:$REPO_PORT"
downloads() { grep -c '\.tar\.gz HTTP' "$work/repo.log" || true; }

app="$work/app"
mkdir -p "$app"
printf 'Imports: shiny, p01\n' > "$app/DESCRIPTION"
printf 'library(shiny)\nlibrary(p01)\nshinyApp(fluidPage(p01_id()), function(input, output) {})\n' > "$app/app.R"

ms_now() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

cold=() warm=() peer=()
for run in $(seq "$RUNS"); do
  # Peer: install.packages into an empty library, no sandbox.
  lib="$work/peer-lib-$run"
  mkdir -p "$lib"
  t0=$(ms_now)
  Rscript -e "install.packages('p01', lib = '$lib', repos = '$REPO_URL', type = 'source', quiet = TRUE)" >/dev/null 2>&1
  peer+=($(($(ms_now) - t0)))

  # blockyard with an empty store.
  rm -rf "$work/bundles" "$work/db.sqlite" "$work/admin-token"
  bench_start_server 10 "
[packages]
repositories = [\"local=$REPO_URL\"]"
  : > "$work/repo.log"
  t0=$(ms_now)
  bench_deploy "$app" "cold-$run"
  cold+=($(($(ms_now) - t0)))
  cold_downloads=$(downloads)
  : > "$work/repo.log"
  t0=$(ms_now)
  bench_deploy "$app" "warm-$run"
  warm+=($(($(ms_now) - t0)))
  warm_downloads=$(downloads)
  kill "$BY_PID"
  wait "$BY_PID" 2>/dev/null || true
  echo "run $run: peer ${peer[-1]} ms, cold ${cold[-1]} ms ($cold_downloads downloads), warm ${warm[-1]} ms ($warm_downloads downloads)" >&2
done

c=$(printf '%s\n' "${cold[@]}" | median)
w=$(printf '%s\n' "${warm[@]}" | median)
p=$(printf '%s\n' "${peer[@]}" | median)
echo
echo "restore of 10 packages (tiny, pure R), median of $RUNS runs"
printf '%-44s %10s %10s\n' "" "ms" "downloads"
printf '%-44s %10s %10s\n' "install.packages(), empty library, no sandbox" "$p" "10"
printf '%-44s %10s %10s\n' "blockyard deploy, empty package store" "$c" "$cold_downloads"
printf '%-44s %10s %10s\n' "blockyard deploy, warm package store" "$w" "$warm_downloads"
awk -v c="$c" -v w="$w" -v p="$p" 'BEGIN {
  printf "cold / warm store: %.1fx    cold store / install.packages(): %.2fx\n", c / w, c / p }'
