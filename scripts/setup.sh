#!/usr/bin/env bash
# Everything the tests and the demo need on this machine, each part skipped when already in place.
#   scripts/setup.sh          the host part (host packages and a Docker engine, the base image; root on a fresh
#                             machine) and the Python part: what the demo needs
#   scripts/setup.sh python   the Python part alone (the venv, the source tree on an import path, a venv of the
#                             newest ansible-core): what lint, unit tests, sanity (under the newest too) and the
#                             collection build need, as any user, without Docker
#   scripts/setup.sh tests    both, and what only the scenarios use: sslyze (the nginx scenario's TLS scan) and a
#                             venv of the oldest ansible-core the collection supports (molecule/cluster)
set -euo pipefail
cd "$(dirname "$0")/.."

readonly VENV=.venv
readonly REQUIREMENTS=requirements-dev.txt
readonly PART=${1:-all}
case "$PART" in all|python|tests) ;; *) echo "usage: scripts/setup.sh [all|python|tests]" >&2; exit 2 ;; esac
mkdir -p .cache/logs

# make_venv DIR REQUIREMENTS [PYTHON]: (re)creates DIR when REQUIREMENTS changed since it was made.
make_venv() {
  local venv=$1 requirements=$2 python=${3:-python3} wanted log
  wanted=$(sha256sum "$requirements" | cut -d' ' -f1)
  [ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" = "$wanted" ] && return 0
  printf '[setup] creating %s from %s (about a minute)\n' "$venv" "$requirements" >&2
  log=.cache/logs/pip-$(basename "$venv").log
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >"$log" 2>&1 || {
    grep -v '^WARNING: Location' "$log" | tail -n 30 >&2; return 1; }
  echo "$wanted" >"$venv/.requirements.sha256"
}

# python_of X.Y: an interpreter of that Python version (pyenv keeps those it does not make global off PATH).
python_of() {
  local version=$1 installed=
  if command -v pyenv >/dev/null; then
    installed=$(pyenv versions --bare | grep -E "^${version/./\\.}(\\.|$)" | tail -n 1 || true)
  fi
  if [ -n "$installed" ]; then
    echo "$(pyenv root)/versions/$installed/bin/python3"
  elif command -v "python$version"; then
    :
  else
    echo "[setup] the newest ansible-core needs Python $version on this machine (pyenv install $version)" >&2
    return 1
  fi
}

# Beside the base image's build and the main venv's: they wait on the network and on dpkg more than on the CPU.
core_venvs=()
if [ "$PART" != all ]; then
  newest_python=$(python_of 3.13)
  make_venv .cache/ansible/newest tests/tools/ansible-newest-requirements.txt "$newest_python" & core_venvs+=($!)
fi
[ "$PART" != tests ] || { make_venv .cache/ansible/oldest tests/tools/ansible-oldest-requirements.txt & core_venvs+=($!); }

[ "$PART" = python ] || { scripts/host-setup.sh && scripts/build-base-image.sh; }
make_venv "$VENV" "$REQUIREMENTS"
# sslyze (the nginx scenario's TLS scan) pins a cryptography older than ansible-core's: a venv of its own.
[ "$PART" != tests ] || make_venv .cache/tools/sslyze tests/tools/sslyze-requirements.txt
for pid in "${core_venvs[@]}"; do wait "$pid"; done

# Unit tests import the plugins from the working tree under the name Ansible gives them.
mkdir -p .cache/src/ansible_collections/appstack
ln -sfn ../../../.. .cache/src/ansible_collections/appstack/platform
