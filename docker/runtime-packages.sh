#!/bin/sh
# Prints the distribution packages that hold the shared libraries the given
# binaries link, one per line, sorted: what an image must install to run
# them, and nothing else (no -dev packages). Used by the release image's
# builder stage and by scripts/build-image.sh on the build host.
#
#   docker/runtime-packages.sh build/bin/blockyard build/bin/by
set -eu
[ "$#" -gt 0 ] || { echo "usage: $0 BINARY..." >&2; exit 2; }
for lib in $(ldd "$@" | awk '$3 ~ /^\// {print $3}' | sort -u); do
  # A library found through a symlinked directory (/lib -> usr/lib) is
  # registered under its real path.
  dpkg -S "$lib" 2>/dev/null || dpkg -S "$(realpath "$lib")"
done | cut -d: -f1 | sort -u
