# syntax=docker/dockerfile:1.7
# blockyard-process: the blockyard server as PID 1 with bubblewrap and R, no
# Docker socket, no extra privileges. Build from the repository root:
#
#   docker build -f docker/server-process.Dockerfile -t blockyard-process .
#
# Run (the seccomp profile is read from the HOST; extract it first):
#
#   docker run --rm --entrypoint cat blockyard-process /etc/blockyard/seccomp.json \
#       > /etc/blockyard/seccomp.json
#   docker run -d -p 8080:8080 --security-opt seccomp=/etc/blockyard/seccomp.json \
#       -v blockyard-data:/data blockyard-process

ARG UBUNTU_IMAGE=ubuntu:24.04

# ---- builder: compile blockyard, by and the inner seccomp filter -------------
FROM ${UBUNTU_IMAGE} AS builder
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      g++ cmake ninja-build pkg-config \
      libboost-dev libboost-system-dev libsqlite3-dev libssl-dev libcurl4-openssl-dev \
      libarchive-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libtomlplusplus-dev \
      libcli11-dev libseccomp-dev libgtest-dev libgmock-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY cmake/ cmake/
COPY src/ src/
COPY cmd/ cmd/
COPY profiles/ profiles/
COPY tests/CMakeLists.txt tests/CMakeLists.txt
# NODE_PROGRAM: the node test suites are not run here; CMake only needs a path.
RUN cmake -S /src -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DNODE_PROGRAM=/usr/bin/true \
 && ninja -C /build blockyard by seccomp-compile \
 && /build/bin/seccomp-compile --in /src/profiles/seccomp.json --out /build/seccomp.bpf
# The Ubuntu packages that hold the shared libraries the binaries link, so the
# runtime stage installs exactly those (and no -dev packages).
COPY docker/runtime-packages.sh docker/runtime-packages.sh
RUN sh docker/runtime-packages.sh /build/bin/blockyard /build/bin/by > /build/runtime-packages.txt \
 && cat /build/runtime-packages.txt

# ---- runtime ----------------------------------------------------------------
FROM ${UBUNTU_IMAGE}
ARG DEBIAN_FRONTEND=noninteractive
ARG RIG_VERSION=0.7.1
ARG TARGETARCH

# bubblewrap, the server's own libraries, and the shared libraries R packages
# commonly load. No compilers and no -dev headers from this list; more
# libraries come from the extras hook or a derived image.
COPY --from=builder /build/runtime-packages.txt /tmp/runtime-packages.txt
# hadolint ignore=DL3008,SC2046
RUN apt-get update \
 && apt-get upgrade -y \
 && apt-get install -y --no-install-recommends \
      bubblewrap ca-certificates curl tzdata \
      libcairo2 libcurl4t64 libicu74 libmariadb3 liblz4-1 libodbc2 unixodbc \
      libpango-1.0-0 libpangocairo-1.0-0 libpq5 libsqlite3-0 libssl3t64 libuv1t64 \
      libxml2 libzstd1 \
      $(cat /tmp/runtime-packages.txt) \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt

# rig manages R versions, so operators can add or pin them at deploy time.
RUN case "${TARGETARCH:-amd64}" in \
      amd64) rig_tarball="rig-linux-${RIG_VERSION}.tar.gz" ;; \
      arm64) rig_tarball="rig-linux-arm64-${RIG_VERSION}.tar.gz" ;; \
      *) echo "rig has no build for ${TARGETARCH}" >&2; exit 1 ;; \
    esac \
 && curl -fsSL "https://github.com/r-lib/rig/releases/download/v${RIG_VERSION}/${rig_tarball}" \
    | tar -xz -C /usr/local \
 && rig --version

# The current R release, installed by the same policy script the container
# runs at start (which then finds it present and needs no network).
COPY --chmod=0755 docker/r-versions.sh /etc/blockyard/r-versions.sh
RUN apt-get update \
 && /etc/blockyard/r-versions.sh \
 && rm -rf /var/lib/apt/lists/*

# ---- shared steps ------------------------------------------------------------
# Everything from this line to the end is also the tail of the image that
# `make image` builds on a Debian 12 base (scripts/build-image.sh appends it
# to docker/debian.Dockerfile), so both images have the same files, paths,
# entrypoint and defaults. Stage "builder" provides /build/bin/{blockyard,by}
# and /build/seccomp.bpf.
COPY --from=builder /build/bin/blockyard /usr/local/bin/blockyard
COPY --from=builder /build/bin/by /usr/local/bin/by
# Inner filter bubblewrap applies to each worker.
COPY --from=builder /build/seccomp.bpf /etc/blockyard/seccomp.bpf
# Outer profile, for extraction to the host (docker --security-opt seccomp=).
COPY profiles/seccomp-outer.json /etc/blockyard/seccomp.json
# AppArmor profile, for extraction to the host (Ubuntu 23.10+).
COPY profiles/apparmor/blockyard /etc/blockyard/apparmor/blockyard
COPY docker/blockyard.toml /etc/blockyard/blockyard.toml
COPY --chmod=0755 docker/extras.sh /etc/blockyard/extras.sh
COPY --chmod=0755 docker/entrypoint.sh /usr/local/bin/entrypoint.sh

# State lives in /data. /var/lib/blockyard points there, so a volume mounted
# at either path (the docs use both) holds the database and bundles.
# /app is where workers see their bundle (storage.bundle_worker_path), and
# /blockyard-lib-store the package store (docs/dependencies.md): with the
# mount points present, a sandbox binds the root in one mount instead of
# rebuilding it entry by entry (~5 ms less per worker start).
RUN mkdir -p /data/bundles /app /blockyard-lib-store \
 && ln -s /data /var/lib/blockyard
VOLUME ["/data"]

EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
  CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
# No USER: the server runs as root in the container to give each worker its
# own UID. No tini or other init: blockyard itself is PID 1 and reaps.
ENTRYPOINT ["/usr/local/bin/entrypoint.sh", "blockyard", "--config", "/etc/blockyard/blockyard.toml"]
