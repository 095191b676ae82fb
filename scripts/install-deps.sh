#!/usr/bin/env bash
# Installs every Debian package that building, running and testing blockyard
# needs. Idempotent: skips apt entirely when everything is already present.
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost-dev libboost-system-dev libsqlite3-dev libpq-dev libhiredis-dev
  libtomlplusplus-dev libcli11-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
  libarchive-dev libssl-dev libseccomp-dev libcurl4-openssl-dev libgtest-dev
)
runtime_pkgs=(bubblewrap r-base-core r-cran-shiny procps iproute2 curl)
test_pkgs=(chromium nodejs npm redis-server apparmor sqlite3)
# The container suite and `make image`: podman with runc (crun refuses hosts
# with a hybrid cgroup layout), a Debian base made by debootstrap, and
# podman-compose with the CNI dnsname plugin (services find each other by
# name) for docker/compose.yml.
container_pkgs=(podman runc debootstrap podman-compose golang-github-containernetworking-plugin-dnsname)

missing=()
for p in "${build_pkgs[@]}" "${runtime_pkgs[@]}" ${BLOCKYARD_SKIP_TEST_DEPS:+} "${test_pkgs[@]}" "${container_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node/npm may come from outside apt (e.g. a preinstalled toolchain).
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=()
  for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]}")
fi

SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# podman --userns=auto takes each container's UIDs and GIDs from the
# `containers` ranges here; add one (above every host account) if missing.
for file in /etc/subuid /etc/subgid; do
  if ! grep -q '^containers:' "$file" 2>/dev/null; then
    echo "install-deps: adding a containers: range to $file"
    echo 'containers:2147483647:2147483648' | $SUDO tee -a "$file" >/dev/null
  fi
done

