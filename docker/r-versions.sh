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
set -eu

R_ROOT=${R_ROOT:-/opt/R}
R_VERSIONS=${R_VERSIONS:-release}
R_DEFAULT=${R_DEFAULT:-}

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
