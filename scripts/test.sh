#!/usr/bin/env bash
# The whole test suite: setup, lint, unit tests, the packaged collection, every Molecule scenario.
# Each check runs even when an earlier one failed; the last line counts them and the exit code is
# non-zero when any failed. Pass check names (lint unit sanity collection molecule:NAME) to run only those.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=scripts/env.sh
source scripts/env.sh

passed=() failed=()
run_check() {
  local name=$1; shift
  local started=$SECONDS
  printf '\n==> %s\n' "$name"
  if "$@"; then
    passed+=("$name"); printf '<== %s passed (%ss)\n' "$name" "$((SECONDS - started))"
  else
    failed+=("$name"); printf '<== %s FAILED (%ss)\n' "$name" "$((SECONDS - started))"
  fi
}

scenarios=()
for scenario_file in molecule/*/molecule.yml; do
  scenarios+=("molecule:$(basename "$(dirname "$scenario_file")")")
done
checks=("$@")
[ "${#checks[@]}" -gt 0 ] || checks=(lint unit sanity collection "${scenarios[@]}")

# Only the Molecule scenarios need the host part (Docker engine, base image, root on a fresh machine).
setup_part=python
case " ${checks[*]} " in *" molecule:"*) setup_part=all ;; esac
if ! scripts/setup.sh "$setup_part"; then
  echo "setup failed: nothing was tested"
  echo "summary: 0 passed, 1 failed"
  exit 1
fi

for check in "${checks[@]}"; do
  case "$check" in
    lint) run_check lint scripts/lint.sh ;;
    # Unit tests and collection-level tests (ansible-doc, argument specs); plugins/ must stay 90 % covered.
    unit) run_check unit pytest --cov=ansible_collections.appstack.platform.plugins --cov-report=term-missing \
      --cov-fail-under=90 ;;
    sanity) run_check sanity scripts/ansible-test.sh ;;
    collection) run_check collection scripts/collection.sh ;;
    molecule:*)
      # Scenarios test the installed tarball: build it first when the collection check was not run.
      [ -f .cache/collections/ansible_collections/appstack/platform/MANIFEST.json ] || scripts/collection.sh
      run_check "$check" scripts/molecule-scenario.sh "${check#molecule:}" ;;
    *) echo "unknown check: $check (lint, unit, sanity, collection, molecule:NAME)"; failed+=("$check") ;;
  esac
done

echo
printf 'total: %dm%02ds\n' "$((SECONDS / 60))" "$((SECONDS % 60))"
[ "${#failed[@]}" -eq 0 ] || echo "failed checks: ${failed[*]}"
echo "summary: ${#passed[@]} passed, ${#failed[@]} failed"
[ "${#failed[@]}" -eq 0 ]
