# The first half of the image `make image` builds (scripts/build-image.sh):
# the blockyard-process image on a Debian 12 base made from Debian packages
# (debootstrap), for machines that reach no image registry, and for the
# container tests. It is not a Dockerfile by itself: build-image.sh appends
# the shared steps of docker/server-process.Dockerfile (everything from its
# "shared steps" line on), so this image and the release image have the same
# files, paths, entrypoint and defaults. What differs is here: the binaries
# come from the repository's own build on the Debian host (same distribution
# as the base), and R from Debian's packages instead of rig.
#
# Build context (prepared by build-image.sh): docker/, profiles/, and
# binaries/ with blockyard, by, seccomp.bpf and runtime-packages.txt.

ARG DEBIAN_BASE=localhost/blockyard-debian-base:bookworm

# ---- builder: the host build's outputs, at the paths the shared steps copy --
FROM scratch AS builder
COPY binaries/blockyard binaries/by /build/bin/
COPY binaries/seccomp.bpf binaries/runtime-packages.txt /build/

# ---- runtime ----------------------------------------------------------------
FROM ${DEBIAN_BASE}
ARG DEBIAN_FRONTEND=noninteractive

# bubblewrap, R and shiny, the server's own libraries, curl for the health
# check. build-image.sh mounts a package cache at /var/cache/apt/archives
# while this runs, so a rebuild on the same machine downloads nothing again.
COPY --from=builder /build/runtime-packages.txt /tmp/runtime-packages.txt
# hadolint ignore=DL3008,SC2046
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      bubblewrap ca-certificates curl tzdata r-base-core r-cran-shiny \
      $(cat /tmp/runtime-packages.txt) \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt

# The R-versions policy finds no rig here and links /usr/local/bin/R (the
# image's process.r_path) to Debian's R; at container start it does nothing.
COPY --chmod=0755 docker/r-versions.sh /etc/blockyard/r-versions.sh
RUN /etc/blockyard/r-versions.sh

