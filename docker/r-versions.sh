#!/bin/sh
# R-versions policy of the blockyard-process image
# (/etc/blockyard/r-versions.sh). Runs at image build and at every container
# start, before the extras hook.
#
#   R_VERSIONS  versions to have installed, space-separated (default "release":
#               the R release current when the image was built)
#   R_DEFAULT   version rig makes the default (default: newest installed)
#
# It touches the network only when something is missing: at start-up an
# already installed set does nothing, so airgapped containers start with the
# default hook. "release" counts as present when any R is installed (it was
# installed at build time; asking which version is current needs the
# network). Override the policy by setting the variables, by `rig add` in the
# extras hook, or by mounting your own script here.
#
# Without rig (the Debian image `make image` builds), R comes from the
# distribution's packages: only the default policy applies, and the script
# links /usr/local/bin/R and Rscript (process.r_path) to that R.
set -eu

R_ROOT=${R_ROOT:-/opt/R}
R_VERSIONS=${R_VERSIONS:-release}
R_DEFAULT=${R_DEFAULT:-}
LINK_DIR=${R_LINK_DIR:-/usr/local/bin}

if ! command -v rig >/dev/null 2>&1; then
  if [ "$R_VERSIONS" != release ] || [ -n "$R_DEFAULT" ]; then
    echo "r-versions: R_VERSIONS=\"$R_VERSIONS\" R_DEFAULT=\"$R_DEFAULT\" need rig, which this image does not have (its R comes from the distribution's packages)" >&2
    exit 1
  fi
  for tool in R Rscript; do
    [ -e "$LINK_DIR/$tool" ] && continue
    found=$(command -v "$tool" || true)
    if [ -z "$found" ]; then
      echo "r-versions: no R installed (no rig and no $tool on PATH)" >&2
      exit 1
    fi
    ln -s "$found" "$LINK_DIR/$tool"
  done
  exit 0
fi

installed_versions() {
  [ -d "$R_ROOT" ] || return 0
  for dir in "$R_ROOT"/*; do
    [ -x "$dir/bin/R" ] && basename "$dir"
  done | sort -t. -k1,1n -k2,2n -k3,3n
}

is_installed() {
  installed_versions | grep -qx "$1"
}

for version in $R_VERSIONS; do
  case "$version" in
    release)
      [ -n "$(installed_versions)" ] || rig add release
      ;;
    *)
      is_installed "$version" || rig add "$version"
      ;;
  esac
done

newest=$(installed_versions | tail -n 1)
if [ -z "$newest" ]; then
  echo "r-versions: no R installed under $R_ROOT" >&2
  exit 1
fi
wanted=${R_DEFAULT:-$newest}
# `rig default` only rewrites local links and shims: no network.
rig default "$wanted"

# blockyard's process.r_path and tools that expect /usr/bin/R find rig's shims.
for tool in R Rscript; do
  if [ -x "/usr/local/bin/$tool" ] && [ ! -e "/usr/bin/$tool" ]; then
    ln -s "/usr/local/bin/$tool" "/usr/bin/$tool"
  fi
done
