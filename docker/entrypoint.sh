#!/bin/sh
# Entrypoint of the blockyard-process image.
#
# 1. Runs the R-versions policy (/etc/blockyard/r-versions.sh), then the
#    operator's extras hook (/etc/blockyard/extras.sh), as root, in that
#    order, so the hook can add or pin R versions and system libraries.
# 2. If either exits non-zero, prints which one and its exit code and exits
#    with that code: blockyard never starts half-provisioned.
# 3. exec's its arguments (blockyard --config /etc/blockyard/blockyard.toml)
#    so the server replaces this shell and is the container's PID 1: it
#    receives SIGTERM/SIGUSR1 directly and reaps orphaned processes.
#
# BLOCKYARD_R_VERSIONS_SCRIPT and BLOCKYARD_EXTRAS_SCRIPT override the hook
# paths ("" skips a hook); they exist for tests and unusual layouts.
set -eu

log() {
  printf 'blockyard-entrypoint: %s\n' "$*" >&2
}

run_hook() {
  name=$1
  hook=$2
  [ -n "$hook" ] || return 0
  if [ ! -e "$hook" ]; then
    log "$name hook $hook not found; skipping"
    return 0
  fi
  log "running $name hook $hook"
  status=0
  if [ -x "$hook" ]; then
    "$hook" || status=$?
  else
    # A bind-mounted script often lacks the execute bit; run it with sh
    # rather than failing on "permission denied".
    sh "$hook" || status=$?
  fi
  if [ "$status" -ne 0 ]; then
    log "$name hook $hook failed with exit code $status; not starting blockyard"
    exit "$status"
  fi
}

run_hook "R versions" "${BLOCKYARD_R_VERSIONS_SCRIPT-/etc/blockyard/r-versions.sh}"
run_hook "extras" "${BLOCKYARD_EXTRAS_SCRIPT-/etc/blockyard/extras.sh}"

if [ "$#" -eq 0 ]; then
  set -- blockyard --config /etc/blockyard/blockyard.toml
fi
log "starting: $*"
exec "$@"
