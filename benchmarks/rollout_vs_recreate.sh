#!/usr/bin/env bash
# Rollout time and failed requests under load through nginx: app_rollout against a naive stop-and-recreate of the
# container, in one run on the app scenario's host (created with the scenario's converge when it is not up).
# Prints both side by side. Not a test: it asserts nothing. The load runs from before each replacement until
# it has ended, so each row counts the requests sent while that method replaced the release.
#   benchmarks/rollout_vs_recreate.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/env.sh
source scripts/env.sh

readonly HOST=appstack-molecule-app

scripts/setup.sh >/dev/null
scripts/collection.sh
if [ "$(docker inspect -f '{{.State.Running}}' "$HOST" 2>/dev/null)" != true ]; then
  molecule create -s app && molecule prepare --force -s app && molecule converge -s app
fi
# The scenario's variables, so the benchmark deploys the same app the tests do; without app_image, which each step
# of the playbook sets (extra vars would override it).
python3 - molecule/app/molecule.yml >.cache/benchmark-app-vars.json <<'PY'
import json, sys, yaml
with open(sys.argv[1]) as scenario:
    variables = yaml.safe_load(scenario)["provisioner"]["inventory"]["group_vars"]["all"]
variables.pop("app_image")
print(json.dumps(variables))
PY
ANSIBLE_COLLECTIONS_PATH=$PWD/.cache/collections ansible-playbook -i "$HOST," -c community.docker.docker \
  -e @.cache/benchmark-app-vars.json benchmarks/rollout_vs_recreate.yml
