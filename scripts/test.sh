#!/usr/bin/env bash
# The whole test suite: setup, lint, unit tests, the packaged collection, every Molecule scenario.
# Each check runs even when an earlier one failed; the last line counts them and the exit code is
# non-zero when any failed. Pass check names (lint unit sanity collection molecule:NAME) to run only those.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=scripts/env.sh
source scripts/env.sh
# shellcheck source=scripts/lanes.sh
source scripts/lanes.sh

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
# Each check leaves its outcome in $results, so that checks run side by side are counted like the others.
run_check() {
  local name=$1; shift
  local started=$SECONDS
  printf '\n==> %s\n' "$name"
  if "$@"; then
    echo passed >"$results/$name"; printf '<== %s passed (%ss)\n' "$name" "$((SECONDS - started))"
  else
    echo failed >"$results/$name"; printf '<== %s FAILED (%ss)\n' "$name" "$((SECONDS - started))"
  fi
}

# Longest first, so that the lanes below finish close together.
scenarios=()
for scenario in stack cluster app nginx postgresql pgbouncer redis; do
  [ -f "molecule/$scenario/molecule.yml" ] && scenarios+=("molecule:$scenario")
done
for scenario_file in molecule/*/molecule.yml; do
  case " ${scenarios[*]} " in *" molecule:$(basename "$(dirname "$scenario_file")") "*) ;;
    *) scenarios+=("molecule:$(basename "$(dirname "$scenario_file")")") ;; esac
done
checks=("$@")
[ "${#checks[@]}" -gt 0 ] || checks=(lint unit sanity collection "${scenarios[@]}")

# Only the Molecule scenarios need the host part (Docker engine, base image, root on a fresh machine) and the venvs
# of the tools they alone use.
setup_part=python
case " ${checks[*]} " in *" molecule:"*) setup_part=tests ;; esac
if ! scripts/setup.sh "$setup_part"; then
  echo "setup failed: nothing was tested"
  echo "summary: 0 passed, 1 failed"
  exit 1
fi

quick=() queued=()
for check in "${checks[@]}"; do
  case "$check" in
    lint|unit|sanity) quick+=("$check") ;;
    collection) run_check collection scripts/collection.sh ;;
    molecule:*) queued+=("${check#molecule:}") ;;
    *) echo "unknown check: $check (lint, unit, sanity, collection, molecule:NAME)"; echo failed >"$results/$check" ;;
  esac
done

run_quick_checks() {
  local check
  for check in "${quick[@]}"; do
    case "$check" in
      lint) run_check lint scripts/lint.sh ;;
      # Unit tests and collection-level tests (ansible-doc, argument specs); plugins/ must stay 90 % covered.
      unit) run_check unit pytest --cov=ansible_collections.appstack.platform.plugins --cov-report=term-missing \
        --cov-fail-under=90 ;;
      sanity) run_check sanity scripts/ansible-test.sh ;;
    esac
  done
}

if [ "${#queued[@]}" -eq 0 ]; then
  run_quick_checks
elif [ "${#quick[@]}" -gt 0 ]; then
  # The checks without hosts need the CPU the scenarios leave while they wait on their hosts: they run beside the
  # scenarios, and their output (kept aside so as not to interleave) is printed when the last of them ends.
  quick_output=$(mktemp -p "$results")
  { run_quick_checks >"$quick_output" 2>&1; cat "$quick_output"; } &
fi

# Scenarios spend most of their time waiting on their hosts (boots, health gates, drains, timers), so
# APPSTACK_SCENARIO_LANES of them (3 by default; 1 runs them one after another) run side by side, each lane
# taking the next scenario from the queue when its last one ends. Scenarios share nothing but the engine.
if [ "${#queued[@]}" -gt 0 ]; then
  # Scenarios test the installed tarball: build it first when the collection check was not run.
  [ -f .cache/collections/ansible_collections/appstack/platform/MANIFEST.json ] || scripts/collection.sh
  queue=$(mktemp -d -p "$results")
  for index in "${!queued[@]}"; do printf '%s' "${queued[$index]}" >"$queue/$(printf '%03d' "$index")"; done
  run_scenario() { run_check "molecule:$1" scripts/molecule-scenario.sh "$1"; }
  for lane_number in $(seq "${APPSTACK_SCENARIO_LANES:-3}"); do queue_lane "$queue" "$lane_number" run_scenario & done
fi
wait

passed=() failed=()
for check in "${checks[@]}"; do
  if [ "$(cat "$results/$check" 2>/dev/null)" = passed ]; then passed+=("$check"); else failed+=("$check"); fi
done

echo
printf 'total: %dm%02ds\n' "$((SECONDS / 60))" "$((SECONDS % 60))"
[ "${#failed[@]}" -eq 0 ] || echo "failed checks: ${failed[*]}"
echo "summary: ${#passed[@]} passed, ${#failed[@]} failed"
[ "${#failed[@]}" -eq 0 ]
