#!/usr/bin/env bash
# Every linter the project holds itself to; all run, and any failure fails the whole.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=scripts/env.sh
source scripts/env.sh

status=0
run() { printf -- '--- %s\n' "$*"; "$@" || status=1; }

run yamllint --strict .
run ruff check .
run ruff format --check .
# The roles' shell helpers (appstack-backup is Python: ruff checks it).
mapfile -t role_shell_scripts < <(grep -l '^#!/.*sh$' roles/*/files/*)
run shellcheck scripts/*.sh .ci/run benchmarks/*.sh "${role_shell_scripts[@]}"
# ansible-lint resolves appstack.platform from the working tree, the community collections from the venv.
ANSIBLE_COLLECTIONS_PATH=.cache/src run ansible-lint
run antsibull-changelog lint
exit "$status"
