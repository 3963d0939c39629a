#!/usr/bin/env bash
# Runs one Molecule scenario the way CI does: hosts created and prepared, check mode on the fresh host, converge,
# idempotence, check mode on the converged host (must report no change), verify; destroys the hosts whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/env.sh
source scripts/env.sh

readonly scenario=${1:?usage: molecule-scenario.sh SCENARIO}
readonly log_dir=.cache/logs
mkdir -p "$log_dir"

log() { printf '[molecule %s] %s\n' "$scenario" "$*" >&2; }

# The play recap lines of a run must show no failure (and, with require_unchanged, no change).
recap_clean() {
  local output=$1 require_unchanged=$2
  grep -E '^[^ ].* : ok=[0-9]+ +changed=[0-9]+ +unreachable=[0-9]+ +failed=[0-9]+' "$output" >"$output.recap" || return 1
  if grep -Ev 'unreachable=0 +failed=0' "$output.recap" >/dev/null; then return 1; fi
  if [ "$require_unchanged" = yes ] && grep -Ev 'changed=0 ' "$output.recap" >/dev/null; then return 1; fi
  return 0
}

step() {
  local name=$1 require=$2; shift 2
  local output="$log_dir/$scenario-$name.log"
  local started=$SECONDS
  if ! molecule "$@" >"$output" 2>&1; then
    log "$name FAILED after $((SECONDS - started))s; the end of its output:"
    tail -n 60 "$output" >&2
    return 1
  fi
  if [ "$require" != none ] && ! recap_clean "$output" "$require"; then
    log "$name reported changes or failures (expected none):"
    grep -E 'changed:|failed:|fatal:' "$output" | head -40 >&2 || true
    cat "$output.recap" >&2 || true
    return 1
  fi
  log "$name ok ($((SECONDS - started))s)"
}

# Molecule leaves named volumes behind (keep_volumes notwithstanding); a reused one makes a "fresh" host not fresh.
cleanup() {
  molecule destroy -s "$scenario" >"$log_dir/$scenario-destroy.log" 2>&1 || true
  docker volume ls -q --filter "name=^appstack-molecule-$scenario-" | xargs -r docker volume rm >/dev/null || true
}
cleanup
# APPSTACK_KEEP_HOSTS=1 leaves the hosts up after a run, for `molecule login` or `molecule verify` by hand.
[ "${APPSTACK_KEEP_HOSTS:-0}" = 1 ] || trap cleanup EXIT
step syntax none syntax -s "$scenario"
# `molecule create` runs the scenario's prepare playbook too (its default sequence): a prepare step after it would
# run every prepare task a second time.
step create none create -s "$scenario"
# The cluster runs the stack's roles, whose check mode on fresh hosts molecule/stack proves; the cluster's own
# check-mode run is on its converged hosts (check-converged).
[ "$scenario" = cluster ] || step check-fresh no converge -s "$scenario" -- --check
step converge no converge -s "$scenario"
step idempotence none idempotence -s "$scenario"
step check-converged yes converge -s "$scenario" -- --check
step verify none verify -s "$scenario"
