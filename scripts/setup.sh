#!/usr/bin/env bash
# Everything the tests and the demo need on this machine, each part skipped when already in place:
# host packages and a Docker engine, the base image, the Python venv, the source tree on an import path.
set -euo pipefail
cd "$(dirname "$0")/.."

readonly VENV=.venv
readonly REQUIREMENTS=requirements-dev.txt

scripts/host-setup.sh
scripts/build-base-image.sh

wanted=$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)
if [ "$(cat "$VENV/.requirements.sha256" 2>/dev/null)" != "$wanted" ]; then
  printf '[setup] creating %s from %s (about a minute)\n' "$VENV" "$REQUIREMENTS" >&2
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  mkdir -p .cache/logs
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQUIREMENTS" >.cache/logs/pip.log 2>&1 || {
    grep -v '^WARNING: Location' .cache/logs/pip.log | tail -n 30 >&2; exit 1; }
  echo "$wanted" >"$VENV/.requirements.sha256"
fi

# Unit tests import the plugins from the working tree under the name Ansible gives them.
mkdir -p .cache/src/ansible_collections/appstack
ln -sfn ../../../.. .cache/src/ansible_collections/appstack/platform
