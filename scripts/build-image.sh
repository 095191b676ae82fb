#!/usr/bin/env bash
# Builds the blockyard-process image from this repository with podman, on a
# Debian 12 base made from Debian packages: no image registry is needed.
#
#   scripts/build-image.sh [IMAGE]      (default localhost/blockyard-process:dev)
#
# 1. The base image (BASE_IMAGE, default localhost/blockyard-debian-base:bookworm)
#    is `debootstrap --variant=minbase bookworm` imported with `podman import`.
#    It is built once per machine and reused; REBUILD_BASE=1 makes a new one.
# 2. The image itself: docker/debian.Dockerfile followed by the shared steps of
#    docker/server-process.Dockerfile, with the binaries of BUILD_DIR (default
#    build/, built by `make build`).
#
# Downloaded packages are kept in CACHE_DIR (default /var/cache/blockyard-image)
# for the next build on this machine. Needs root (debootstrap, podman).
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${1:-localhost/blockyard-process:dev}
BASE_IMAGE=${BASE_IMAGE:-localhost/blockyard-debian-base:bookworm}
BUILD_DIR=${BUILD_DIR:-build}
CACHE_DIR=${CACHE_DIR:-/var/cache/blockyard-image}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# podman on hosts with a v1/v2 hybrid cgroup layout needs runc (crun refuses
# it), and ulimits within the host's hard limits (podman's defaults exceed them).
PODMAN=(podman --runtime "${PODMAN_RUNTIME:-runc}")
ULIMITS=(--ulimit "nofile=${NOFILE_LIMIT:-4096:4096}" --ulimit "nproc=${NPROC_LIMIT:-4096:4096}")

log() { printf 'build-image: %s\n' "$*" >&2; }

build_base() {
  if [ -z "${REBUILD_BASE:-}" ] && "${PODMAN[@]}" image exists "$BASE_IMAGE"; then
    log "base $BASE_IMAGE present (REBUILD_BASE=1 rebuilds it)"
    return
  fi
  local root
  root=$(mktemp -d /var/tmp/blockyard-base.XXXXXX)
  trap 'rm -rf "$root"' RETURN
  mkdir -p "$CACHE_DIR/debootstrap"
  log "debootstrap --variant=minbase bookworm (packages cached in $CACHE_DIR/debootstrap)"
  debootstrap --variant=minbase --cache-dir="$CACHE_DIR/debootstrap" bookworm "$root/rootfs" "$MIRROR" \
    > "$root/debootstrap.log" 2>&1 || { tail -n 30 "$root/debootstrap.log" >&2; exit 1; }
  # Keep what apt downloads in the image's own builds (docker-clean style
  # configs would delete it; the minbase has none, say so explicitly).
  echo 'Binary::apt::APT::Keep-Downloaded-Packages "true";' > "$root/rootfs/etc/apt/apt.conf.d/10keep-downloads"
  tar -C "$root/rootfs" -c . | "${PODMAN[@]}" import --change 'CMD ["/bin/bash"]' - "$BASE_IMAGE" >/dev/null
  log "base $BASE_IMAGE imported"
}

stage_context() {
  local ctx=$1
  for f in blockyard by; do
    [ -x "$BUILD_DIR/bin/$f" ] || { log "$BUILD_DIR/bin/$f missing: run make build first"; exit 1; }
  done
  [ -f "$BUILD_DIR/seccomp.bpf" ] || { log "$BUILD_DIR/seccomp.bpf missing: run make build first"; exit 1; }
  mkdir -p "$ctx/binaries"
  cp -r docker profiles "$ctx/"
  cp "$BUILD_DIR/bin/blockyard" "$BUILD_DIR/bin/by" "$BUILD_DIR/seccomp.bpf" "$ctx/binaries/"
  sh docker/runtime-packages.sh "$BUILD_DIR/bin/blockyard" "$BUILD_DIR/bin/by" > "$ctx/binaries/runtime-packages.txt"
  # The Debian head, then the release Dockerfile from its "shared steps" line.
  {
    cat docker/debian.Dockerfile
    sed -n '/^# ---- shared steps/,$p' docker/server-process.Dockerfile
  } > "$ctx/Containerfile"
  grep -q '^# ---- shared steps' "$ctx/Containerfile" \
    || { log "no '# ---- shared steps' line in docker/server-process.Dockerfile"; exit 1; }
}

build_base
ctx=$(mktemp -d /var/tmp/blockyard-image.XXXXXX)
trap 'rm -rf "$ctx"' EXIT
stage_context "$ctx"
mkdir -p "$CACHE_DIR/apt"
previous=$("${PODMAN[@]}" image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
log "building $IMAGE"
"${PODMAN[@]}" build "${ULIMITS[@]}" --pull=never --layers=false \
  --build-arg "DEBIAN_BASE=$BASE_IMAGE" \
  --volume "$CACHE_DIR/apt:/var/cache/apt/archives" \
  -f "$ctx/Containerfile" -t "$IMAGE" "$ctx"
# The image this tag named before, unless something else still uses it.
if [ -n "$previous" ] && [ "$previous" != "$("${PODMAN[@]}" image inspect --format '{{.Id}}' "$IMAGE")" ]; then
  "${PODMAN[@]}" rmi "$previous" >/dev/null 2>&1 || true
fi
log "built $IMAGE"
