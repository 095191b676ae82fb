#!/bin/sh
# Example extras hook for the blockyard-process image.
#
# The entrypoint runs /etc/blockyard/extras.sh as root before it starts the
# server. Copy this file, uncomment what you need and mount it:
#
#   docker:      -v ./extras.sh:/etc/blockyard/extras.sh:ro
#   compose:     volumes: ["./extras.sh:/etc/blockyard/extras.sh:ro"]
#   kubernetes:  a ConfigMap item mounted with subPath: extras.sh (docker/k8s/)
#
# Any failing command stops the container start (set -e below), and the log
# names this hook and its exit code: a typo or a missing package shows up at
# once, not as a dyn.load() error in the first user session.
#
# Everything here needs network access at every container start and is not
# covered by the image's vulnerability scan. For airgapped sites, or to have
# your scanner see it, bake it into a derived image instead
# (docker/airgapped.Dockerfile).
set -e

# --- R versions (rig) --------------------------------------------------------
# Pin a specific R version instead of the baked-in release. Apps can then
# select among installed versions.
# rig add 4.4.3
# rig default 4.4.3

# --- apt: refresh the package index once for the blocks below ------------------
# apt-get update

# --- Spatial stack: sf, terra, lwgeom ---------------------------------------------
# apt-get install -y --no-install-recommends \
#     libgdal34t64 libgeos-c1t64 libproj25 libudunits2-0

# --- PDF tools: pdftools ---------------------------------------------------------
# apt-get install -y --no-install-recommends libpoppler-cpp0t64

# --- Optimisation: nloptr, Rglpk -----------------------------------------------
# apt-get install -y --no-install-recommends libnlopt0 libglpk40

# --- Images and graphics: magick, rsvg --------------------------------------------
# apt-get install -y --no-install-recommends libmagick++-6.q16-9t64 librsvg2-2

# --- A third-party apt source with its signing key --------------------------------
# install -d -m 0755 /etc/apt/keyrings
# curl -fsSL https://packages.example.com/key.asc -o /etc/apt/keyrings/example.asc
# echo "deb [signed-by=/etc/apt/keyrings/example.asc] https://packages.example.com/apt noble main" \
#     > /etc/apt/sources.list.d/example.list
# apt-get update
# apt-get install -y --no-install-recommends example-runtime-lib

# --- Credentials for private package repositories ----------------------------------
# Keep secrets out of the image: mount them, then copy with tight modes.
# install -m 0600 /run/secrets/netrc /root/.netrc

# --- Keep the container small: drop the apt index again ------------------------------
# rm -rf /var/lib/apt/lists/*
