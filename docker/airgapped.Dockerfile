# syntax=docker/dockerfile:1.7
# A derived blockyard-process image for airgapped or network-restricted
# sites: everything the extras hook would fetch at container start is baked
# in at build time instead, so the container starts without network access
# and your registry's image scanner sees every package.
#
#   docker build -f docker/airgapped.Dockerfile \
#       --build-arg BLOCKYARD_IMAGE=ghcr.io/cynkra/blockyard-process:1.2.3 \
#       -t registry.example.com/blockyard-process-site:1.2.3 .
#
# Keep the default (no-op) extras hook with this image.

ARG BLOCKYARD_IMAGE=ghcr.io/cynkra/blockyard-process:latest
FROM ${BLOCKYARD_IMAGE}

# System libraries your bundles' R packages need (here: sf / terra).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libgdal34t64 libgeos-c1t64 libproj25 libudunits2-0 \
 && rm -rf /var/lib/apt/lists/*

# Extra R versions. The same list at container start finds them installed
# and does nothing, so no network is needed then.
ENV R_VERSIONS="release 4.4.3"
RUN apt-get update \
 && /etc/blockyard/r-versions.sh \
 && rm -rf /var/lib/apt/lists/*
