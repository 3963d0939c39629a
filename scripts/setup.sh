#!/usr/bin/env bash
# Everything the tests and the demo need on this machine, each part skipped when already in place:
# host packages and a Docker engine, the base image, the Python venv, the source tree on an import path.
set -euo pipefail
cd "$(dirname "$0")/.."

readonly VENV=.venv
readonly REQUIREMENTS=requirements-dev.txt

scripts/host-setup.sh
scripts/build-base-image.sh

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
# sslyze pins a cryptography older than ansible-core's: it gets a venv of its own.
make_venv .cache/tools/sslyze tests/tools/sslyze-requirements.txt

# Unit tests import the plugins from the working tree under the name Ansible gives them.
mkdir -p .cache/src/ansible_collections/appstack
ln -sfn ../../../.. .cache/src/ansible_collections/appstack/platform
