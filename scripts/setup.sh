#!/usr/bin/env bash
# Everything the tests and the demo need on this machine, each part skipped when already in place.
#   scripts/setup.sh          the host part (host packages and a Docker engine, the base image; root on a fresh
#                             machine) and the Python part
#   scripts/setup.sh python   the Python part alone (the venv, the source tree on an import path): what lint, unit
#                             tests, sanity and the collection build need, as any user, without Docker
set -euo pipefail
cd "$(dirname "$0")/.."

readonly VENV=.venv
readonly REQUIREMENTS=requirements-dev.txt
readonly PART=${1:-all}

case "$PART" in
  all) scripts/host-setup.sh && scripts/build-base-image.sh ;;
  python) ;;
  *) echo "usage: scripts/setup.sh [all|python]" >&2; exit 2 ;;
esac

# make_venv DIR REQUIREMENTS: (re)creates DIR when REQUIREMENTS changed since it was made.
make_venv() {
  local venv=$1 requirements=$2 wanted
  wanted=$(sha256sum "$requirements" | cut -d' ' -f1)
  [ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" = "$wanted" ] && return 0
  printf '[setup] creating %s from %s (about a minute)\n' "$venv" "$requirements" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  mkdir -p .cache/logs
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >.cache/logs/pip.log 2>&1 || {
    grep -v '^WARNING: Location' .cache/logs/pip.log | tail -n 30 >&2; exit 1; }
  echo "$wanted" >"$venv/.requirements.sha256"
}
make_venv "$VENV" "$REQUIREMENTS"
# sslyze (the nginx scenario's TLS scan) pins a cryptography older than ansible-core's: a venv of its own.
[ "$PART" = python ] || make_venv .cache/tools/sslyze tests/tools/sslyze-requirements.txt

# Unit tests import the plugins from the working tree under the name Ansible gives them.
mkdir -p .cache/src/ansible_collections/appstack
ln -sfn ../../../.. .cache/src/ansible_collections/appstack/platform
