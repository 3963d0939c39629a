#!/usr/bin/env bash
# Builds the Galaxy tarball, refuses it if it carries test or CI clutter, and installs it offline into
# .cache/collections, which every Molecule scenario and the demo use: what is tested is what ships.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/env.sh
source scripts/env.sh

log() { printf '[collection] %s\n' "$*" >&2; }

readonly DIST_DIR=.cache/dist
readonly INSTALL_DIR=.cache/collections
# Paths that must never reach Galaxy users.
readonly FORBIDDEN='^(tests|molecule|scripts|benchmarks|inventories|\.ci|\.config|\.venv|\.cache|\.git)/|\.pyc$|__pycache__|(^|/)\.env$|\.pem$|\.key$|(^|/)\.coverage$|^ansible\.cfg$'

bundled_collections=$(python -c 'import ansible_collections, os; print(os.path.dirname(list(ansible_collections.__path__)[0]))')

rm -rf "$DIST_DIR"
mkdir -p "$DIST_DIR"
ansible-galaxy collection build --force --output-path "$DIST_DIR" . >/dev/null
tarball=$(ls "$DIST_DIR"/appstack-platform-*.tar.gz)

if clutter=$(tar -tzf "$tarball" | grep -E "$FORBIDDEN"); then
  log "the tarball carries files that must not ship:"
  printf '%s\n' "$clutter" >&2
  exit 1
fi

# Dependencies resolve from the venv's `ansible` bundle: no Galaxy server is asked.
rm -rf "$INSTALL_DIR"
ANSIBLE_COLLECTIONS_PATH="$INSTALL_DIR:$bundled_collections" \
  ansible-galaxy collection install --offline -p "$INSTALL_DIR" "$tarball" >/dev/null
test -f "$INSTALL_DIR/ansible_collections/appstack/platform/MANIFEST.json"
log "built and installed $(basename "$tarball") ($(tar -tzf "$tarball" | wc -l) entries)"
